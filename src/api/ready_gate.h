/* ready_gate.h - etcd's client listeners serve nothing until the member is
 * ready (embed's serveCtx.serve waits for EtcdServer.ReadyNotify: its own
 * publish entry applied, so a member that joins has caught up). cetcd binds
 * its client listeners at start as etcd does, and holds every request that
 * arrives before then until the member is ready. */
#ifndef CETCD_READY_GATE_H
#define CETCD_READY_GATE_H

#include <stdbool.h>

#include "net/http_server.h"

/* True when r's handler may run now. Otherwise r is suspended and again
 * is called with r once the member is ready (the route's handler, which
 * calls this again first). */
bool api_ready_gate(struct http_req *r, http_handler_fn again);

#endif /* CETCD_READY_GATE_H */
