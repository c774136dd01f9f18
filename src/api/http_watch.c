/* http_watch.c - wait=true and stream=true on suspended connections (see
 * doc/watches.md). No thread per watcher: the response is queued at once
 * (headers flushed, as etcd does), its content reader suspends the connection
 * while there is nothing to send, and the store's watcher hub resumes it when
 * an event matches.
 *
 * Per watcher, only references are kept: the matching events themselves are
 * the store's immutable, reference-counted events (one copy of the JSON for
 * every watcher it wakes), handed to MHD straight from the event.
 *
 * Hang-ups: a client that goes away while waiting is noticed by the edge
 * (http_watch_hangup), which costs one epoll_ctl per watcher.
 *
 * Fan-out: what MHD sends for a woken watcher is held in the kernel and let
 * go by the edge's pusher thread (http_hold_output; doc/watches.md
 * "Fan-out"). */
#include <errno.h>
#include <stdio.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "api/http_keys.h"
#include "api/etcd_reply.h"
#include "api/routes.h"
#include "net/loop.h"
#include "member/server.h"
#include "kv/store.h"
#include "kv/v2err.h"
#include "util/xalloc.h"

/* etcd's per-watcher buffer: a stream that falls further behind is closed;
 * cetcd ends it with an errorCode 410 object (doc/api-compat.md) */
#define STREAM_MAX_PENDING 100

struct watch_state {
	struct http_req *req;
	struct watcher *watcher; /* NULL once fired (one-shot) or removed */
	bool stream;
	bool done;   /* nothing more will be added: end after the queue drains */
	bool gone;   /* the client hung up */
	bool handed; /* a chunk went to MHD (so MHD has sent one) */
	/* events not yet fully handed to MHD, oldest first; the first head_pos
	 * bytes of q[0] are already handed */
	struct store_event **q;
	unsigned qlen, qcap;
	size_t head_pos;
	struct store_event *q1[1]; /* q's storage until a stream needs more */
	/* a stream cut for falling behind: its last object (errorCode 410),
	 * sent after the queue; tail_pos bytes of it are handed */
	char *tail;
	uint32_t tail_len, tail_pos;
};

/* ---- connection memory ------------------------------------------------ */

/* Live watches; when they fall to half of the recent peak, the freed
 * connection memory is handed back to the OS once things are quiet. */
static struct {
	struct loop *loop; /* the loop the trim timer runs in */
	size_t live, peak;
	unsigned ticks, last_free_tick;
	bool trim_due;
} mem;

static void trim_tick(void *ctx)
{
	mem.ticks++;
#ifdef __GLIBC__
	if (mem.trim_due && mem.ticks - mem.last_free_tick >= 2) {
		malloc_trim(0);
		mem.trim_due = false;
		mem.peak = mem.live;
	}
#endif
}

static void count_watch(struct loop *loop)
{
	if (mem.loop != loop) { /* a new server's loop (tests) */
		mem.loop = loop;
		loop_add_timer(loop, 500, trim_tick, NULL);
	}
	if (++mem.live > mem.peak)
		mem.peak = mem.live;
}

static void uncount_watch(void)
{
	mem.live--;
	mem.last_free_tick = mem.ticks;
	if (mem.peak - mem.live >= 512 && mem.live <= mem.peak / 2)
		mem.trim_due = true;
}

/* ---- the watcher ------------------------------------------------------ */

static void stop_watching(struct watch_state *w)
{
	if (w->watcher) {
		store_unwatch(api_server(w->req)->store, w->watcher);
		w->watcher = NULL;
	}
}

static void push_event(struct watch_state *w, struct store_event *ev)
{
	if (w->qlen == w->qcap) {
		unsigned cap = w->qcap * 2;
		struct store_event **q = xmalloc(cap * sizeof(*q));
		memcpy(q, w->q, w->qlen * sizeof(*q));
		if (w->q != w->q1)
			free(w->q);
		w->q = q;
		w->qcap = cap;
	}
	w->q[w->qlen++] = store_event_ref(ev);
}

/* The stream's last object: errorCode 410 with the index of the first event
 * it did not get (a client may watch again from there, while the window
 * holds it). */
static void cut_stream(struct watch_state *w, uint64_t first_missed)
{
	struct buf b = BUF_INIT;
	char cause[96];
	snprintf(cause, sizeof(cause),
		 "more than %d events were waiting to be sent to this watcher", STREAM_MAX_PENDING);
	v2_error_body(&b, V2E_WATCHER_TOO_SLOW, cause, strlen(cause), first_missed);
	w->tail = b.data;
	w->tail_len = (uint32_t)b.len;
	w->tail_pos = 0;
}

/* Hands what is left of the tail; 0 when there is none. */
static size_t take_tail(struct watch_state *w, char *buf, size_t max)
{
	if (w->tail == NULL || w->tail_pos >= w->tail_len)
		return 0;
	size_t left = w->tail_len - w->tail_pos;
	size_t take = left < max ? left : max;
	memcpy(buf, w->tail + w->tail_pos, take);
	w->tail_pos += (uint32_t)take;
	return take;
}

static void on_fire(void *ctx, struct store_event *ev)
{
	struct watch_state *w = ctx;
	if (!w->stream)
		w->watcher = NULL; /* the hub removed a one-shot watcher */
	if (w->done)
		return;
	if (w->stream && w->qlen >= STREAM_MAX_PENDING) {
		/* etcd: a watcher whose buffer is full is removed and its
		 * response ends after what is buffered; cetcd says so last */
		w->done = true;
		stop_watching(w);
		cut_stream(w, ev->index);
	} else {
		push_event(w, ev);
		if (!w->stream)
			w->done = true;
	}
	http_resume(w->req);
}

static void on_hangup(struct http_req *r)
{
	struct watch_state *w = r->handler_ctx;
	w->gone = true;
	stop_watching(w);
	http_abandon(r); /* MHD then ends the request: completed_cb frees */
}

static ssize_t watch_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct watch_state *w = cls;
	if (w->gone)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	size_t n = 0;
	while (w->qlen > 0 && n < max) {
		struct store_event *ev = w->q[0];
		size_t left = ev->json_len - w->head_pos;
		size_t take = left < max - n ? left : max - n;
		memcpy(buf + n, ev->json + w->head_pos, take);
		n += take;
		w->head_pos += take;
		if (w->head_pos < ev->json_len)
			break;
		store_event_unref(ev);
		w->head_pos = 0;
		memmove(w->q, w->q + 1, --w->qlen * sizeof(*w->q));
	}
	if (n == 0 && w->qlen == 0 && w->done)
		n = take_tail(w, buf, max);
	/* What MHD sends is held in the kernel and let go by the pusher
	 * thread (http_hold_output): a long poll's chunk and last chunk as one
	 * segment when the request completes, a stream's chunks when it waits
	 * again. */
	if (n > 0) {
		http_hold_output(w->req, w->handed);
		w->handed = true;
		return (ssize_t)n;
	}
	if (w->done) {
		http_hold_output(w->req, w->handed); /* the last chunk */
		http_unwatch_hangup(w->req);	     /* MHD owns the connection again */
		return MHD_CONTENT_READER_END_OF_STREAM;
	}
	http_push_output(w->req);
	http_suspend(w->req);
	return 0;
}

struct watch_state *http_watch_start(struct http_req *r, const struct kv_request *kv)
{
	struct store *st = api_server(r)->store;
	uint64_t start_index = store_index(st);
	struct watch_state *w = xcalloc(1, sizeof(*w));
	w->req = r;
	w->stream = kv->stream;
	w->q = w->q1;
	w->qcap = 1;
	struct store_event *found = NULL;
	struct store_error err = {0};
	if (store_watch(st, kv->path, kv->recursive, kv->stream, kv->wait_index, on_fire, w,
			&w->watcher, &found, &err) != 0) {
		reply_store_error(r, &err);
		store_error_clear(&err);
		free(w);
		return NULL;
	}
	if (found) {
		push_event(w, found);
		store_event_unref(found);
		/* a wait answered from the history is chunked all the same, as
		 * etcd's (its headers are flushed before the event is written) */
		if (!kv->stream)
			w->done = true;
	}
	/* MHD allocates the block with the response, for every idle watcher,
	 * but uses it only for HTTP/1.0 clients (no chunking): chunks go straight
	 * into the connection's write buffer. So it is small. */
	struct MHD_Response *resp =
		MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64, watch_reader, w, NULL);
	MHD_add_response_header(resp, "Content-Type", "application/json");
	reply_etcd_headers(r, resp, start_index);
	http_watch_hangup(r, on_hangup);
	count_watch(api_server(r)->loop);
	http_respond(r, MHD_HTTP_OK, resp);
	return w;
}

void http_watch_free(struct http_req *r, struct watch_state *w)
{
	stop_watching(w);
	http_unwatch_hangup(r);
	for (unsigned i = 0; i < w->qlen; i++)
		store_event_unref(w->q[i]);
	if (w->q != w->q1)
		free(w->q);
	free(w->tail);
	free(w);
	uncount_watch();
}
