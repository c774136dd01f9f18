/* watch_share.h - long polls that many clients share (beyond etcd).
 *
 * A proxy on every host sees many clients wait on the same key ("wait=true"
 * without a waitIndex: the next change after now). They all get the same
 * answer, so they share one request to a member: the first client starts
 * it, later ones join while it still waits (its head may already have come,
 * no event yet), and the event is handed to all of them at once. Likewise
 * stream=true watches share one stream from the moment they join. So 10,000
 * watchers on a key cost 10,000 client sockets and one member connection,
 * not 20,000 descriptors and a libcurl transfer each.
 *
 * What differs from a request of one's own: the X-Etcd-Index and Raft
 * headers are those of the shared request, taken when it started (etcd's
 * answer would carry the index at the client's own start; the event is the
 * same). Watches with a waitIndex, or with parameters other than wait,
 * recursive, stream and quorum... are not shared. Loop thread only. */
#ifndef CETCD_PROXY_WATCH_SHARE_H
#define CETCD_PROXY_WATCH_SHARE_H

#include <stdbool.h>

struct proxy;
struct http_req;
struct watch_share;

struct watch_share *watch_share_new(struct proxy *p);
/* Cancels every shared request; their clients' connections are closed. */
void watch_share_free(struct watch_share *s);

/* Serves r by sharing if it is a shareable watch (returns true: r is
 * taken), else returns false and r is left alone. */
bool watch_share_join(struct watch_share *s, struct http_req *r);

#endif /* CETCD_PROXY_WATCH_SHARE_H */
