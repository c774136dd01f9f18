/* http_watch.c - wait=true and stream=true on suspended connections. No
 * thread per watcher: the response is queued at once (headers flushed, as
 * etcd does), its content reader suspends the connection while there is
 * nothing to send, and the store's watcher hub resumes it when an event
 * matches. A client that hangs up while suspended is noticed through
 * EPOLLRDHUP on its socket (MHD cannot see it while suspended). */
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "http_keys.h"
#include "http_reply.h"
#include "loop.h"
#include "server.h"
#include "store.h"

#define STREAM_MAX_PENDING 100	/* etcd's per-watcher buffer: a slower reader is cut */

struct watch_state {
	struct http_req *req;
	struct watcher *watcher;	/* NULL once fired (one-shot) or removed */
	struct loop_fd *hangup;		/* EPOLLRDHUP on the client socket */
	bool stream;
	bool done;	/* nothing more will be added: end after out drains */
	bool gone;	/* the client hung up */
	struct buf out;	/* bytes not yet handed to MHD */
	size_t out_pos;
	unsigned pending;	/* events in out not yet fully sent */
};

static void stop_watching(struct watch_state *w)
{
	if (w->watcher) {
		store_unwatch(w->req->srv->store, w->watcher);
		w->watcher = NULL;
	}
}

static void on_fire(void *ctx, struct store_event *ev)
{
	struct watch_state *w = ctx;
	if (!w->stream)
		w->watcher = NULL;	/* the hub removed a one-shot watcher */
	if (w->done)
		return;	/* a cut stream: removed when the request completes */
	buf_append(&w->out, ev->json, ev->json_len);
	w->pending++;
	if (!w->stream) {
		w->done = true;
	} else if (w->pending > STREAM_MAX_PENDING) {
		w->done = true;
	}
	http_resume(w->req);
}

static void on_hangup(void *ctx, uint32_t events)
{
	struct watch_state *w = ctx;
	w->gone = true;
	loop_del_fd(w->req->srv->loop, w->hangup);
	w->hangup = NULL;
	stop_watching(w);
	http_resume(w->req);
}

static ssize_t watch_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct watch_state *w = cls;
	if (w->gone)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	size_t left = w->out.len - w->out_pos;
	if (left > 0) {
		size_t n = left < max ? left : max;
		memcpy(buf, w->out.data + w->out_pos, n);
		w->out_pos += n;
		if (w->out_pos == w->out.len) {
			buf_reset(&w->out);
			w->out_pos = 0;
			w->pending = 0;
		}
		return (ssize_t)n;
	}
	if (w->done)
		return MHD_CONTENT_READER_END_OF_STREAM;
	http_suspend(w->req);
	return 0;
}

static void watch_hangup_register(struct http_req *r, struct watch_state *w)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci == NULL)
		return;
	w->hangup = loop_add_fd(r->srv->loop, ci->connect_fd, EPOLLRDHUP, on_hangup, w);
}

static void reply_found(struct http_req *r, struct store_event *ev, uint64_t start_index)
{
	struct buf b = BUF_INIT;
	buf_append(&b, ev->json, ev->json_len);
	struct MHD_Response *resp = reply_from_buf(&b, "application/json");
	reply_etcd_headers(r, resp, start_index);
	http_respond(r, MHD_HTTP_OK, resp);
}

struct watch_state *http_watch_start(struct http_req *r, const struct kv_request *kv)
{
	struct store *st = r->srv->store;
	uint64_t start_index = store_index(st);
	struct watch_state *w = calloc(1, sizeof(*w));
	if (w == NULL)
		abort();
	w->req = r;
	w->stream = kv->stream;
	struct store_event *found = NULL;
	struct store_error err = {0};
	if (store_watch(st, kv->path, kv->recursive, kv->stream, kv->wait_index, on_fire, w,
			&w->watcher, &found, &err) != 0) {
		reply_store_error(r, &err);
		store_error_clear(&err);
		free(w);
		return NULL;
	}
	if (found && !kv->stream) {
		reply_found(r, found, start_index);
		store_event_unref(found);
		free(w);
		return NULL;
	}
	if (found) {
		buf_append(&w->out, found->json, found->json_len);
		store_event_unref(found);
	}
	struct MHD_Response *resp =
		MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 256, watch_reader, w, NULL);
	MHD_add_response_header(resp, "Content-Type", "application/json");
	reply_etcd_headers(r, resp, start_index);
	watch_hangup_register(r, w);
	http_respond(r, MHD_HTTP_OK, resp);
	return w;
}

void http_watch_free(struct http_req *r, struct watch_state *w)
{
	stop_watching(w);
	if (w->hangup)
		loop_del_fd(r->srv->loop, w->hangup);
	buf_free(&w->out);
	free(w);
}
