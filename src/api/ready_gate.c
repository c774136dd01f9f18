/* ready_gate.c - holds client requests until the member is ready (see
 * ready_gate.h); the member wakes them (server_wait_ready). */
#include "api/ready_gate.h"

#include <stdlib.h>

#include "api/routes.h"
#include "member/server.h"
#include "util/xalloc.h"

struct gate_wait {
	struct ready_waiter w; /* first: the server hands it back */
	struct http_req *r;
	http_handler_fn again;
};

static void gate_cleanup(struct http_req *r)
{
	struct gate_wait *g = r->handler_ctx;
	server_cancel_ready_wait(api_server(r), &g->w);
	free(g);
	r->handler_ctx = NULL;
	r->cleanup = NULL;
}

static void gate_wake(struct ready_waiter *w)
{
	struct gate_wait *g = (struct gate_wait *)w;
	struct http_req *r = g->r;
	http_resume(r);
	g->again(r);
}

bool api_ready_gate(struct http_req *r, http_handler_fn again)
{
	struct server *s = api_server(r);
	if (server_ready(s)) {
		if (r->cleanup == gate_cleanup)
			gate_cleanup(r);
		return true;
	}
	if (r->cleanup != gate_cleanup) {
		struct gate_wait *g = xcalloc(1, sizeof(*g));
		g->r = r;
		g->again = again;
		g->w.wake = gate_wake;
		r->handler_ctx = g;
		r->cleanup = gate_cleanup;
		server_wait_ready(s, &g->w);
	}
	http_suspend(r);
	return false;
}
