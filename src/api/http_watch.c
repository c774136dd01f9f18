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
 * Hang-ups: MHD does not look at a suspended connection, so a client that goes
 * away while waiting is noticed here. Every waiting client socket is in one
 * epoll set of our own (EPOLLRDHUP), which sits in the loop as one fd: adding
 * a watcher is one epoll_ctl and removing one costs none, whatever the number
 * of watchers. */
#include <errno.h>
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
#include "util/xalloc.h"

#define STREAM_MAX_PENDING 100 /* etcd's per-watcher buffer: a slower reader is cut */

struct watch_state {
	struct http_req *req;
	struct watcher *watcher; /* NULL once fired (one-shot) or removed */
	int fd;			 /* client socket while in the hang-up set, else -1 */
	bool stream;
	bool done; /* nothing more will be added: end after the queue drains */
	bool gone; /* the client hung up */
	/* events not yet fully handed to MHD, oldest first; the first head_pos
	 * bytes of q[0] are already handed */
	struct store_event **q;
	unsigned qlen, qcap;
	size_t head_pos;
	struct store_event *q1[1]; /* q's storage until a stream needs more */
};

/* ---- hang-up detection ------------------------------------------------ */

/* One epoll set of our own holds the waiting clients' sockets (EPOLLRDHUP,
 * level-triggered, keyed by fd); the loop watches that set as one fd. A
 * watch that ends only clears its slot in by_fd (no syscall on the fan-out
 * path): the kernel drops the registration when MHD closes the socket, a
 * keep-alive connection's next watch finds it still there (EEXIST), and a
 * hang-up on a slot that is empty just removes the registration. */
static struct {
	struct loop *loop; /* the loop the set is registered in */
	int epfd;
	struct watch_state **by_fd; /* fd -> the watch waiting on it */
	size_t cap;
	/* live watches; when they fall to half of the recent peak, the freed
	 * connection memory is handed back to the OS once things are quiet */
	size_t live, peak;
	unsigned ticks, last_free_tick;
	bool trim_due;
} hup = {.epfd = -1};

static void on_hangup(struct watch_state *w);

static void hup_ready(void *ctx, uint32_t events)
{
	enum {
		BATCH = 256
	};
	struct epoll_event evs[BATCH];
	int n;
	do {
		n = epoll_wait(hup.epfd, evs, BATCH, 0);
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			epoll_ctl(hup.epfd, EPOLL_CTL_DEL, fd, NULL);
			struct watch_state *w = (size_t)fd < hup.cap ? hup.by_fd[fd] : NULL;
			if (w != NULL)
				on_hangup(w);
		}
	} while (n == BATCH);
}

static void hup_tick(void *ctx)
{
	hup.ticks++;
#ifdef __GLIBC__
	if (hup.trim_due && hup.ticks - hup.last_free_tick >= 2) {
		malloc_trim(0);
		hup.trim_due = false;
		hup.peak = hup.live;
	}
#endif
}

static bool hup_init(struct loop *loop)
{
	if (hup.loop == loop)
		return hup.epfd >= 0;
	if (hup.epfd >= 0)
		close(hup.epfd); /* a previous server's loop (tests) */
	free(hup.by_fd);
	hup.by_fd = NULL;
	hup.cap = 0;
	hup.loop = loop;
	hup.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (hup.epfd < 0)
		return false;
	if (loop_add_fd(loop, hup.epfd, EPOLLIN, hup_ready, NULL) == NULL) {
		close(hup.epfd);
		hup.epfd = -1;
		return false;
	}
	loop_add_timer(loop, 500, hup_tick, NULL);
	return true;
}

static void hup_add(struct watch_state *w)
{
	struct http_req *r = w->req;
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci == NULL || ci->connect_fd < 0 || !hup_init(api_server(r)->loop))
		return;
	int fd = ci->connect_fd;
	if ((size_t)fd >= hup.cap) {
		size_t cap = hup.cap ? hup.cap : 1024;
		while (cap <= (size_t)fd)
			cap *= 2;
		struct watch_state **v = xrealloc(hup.by_fd, cap * sizeof(*v));
		memset(v + hup.cap, 0, (cap - hup.cap) * sizeof(*v));
		hup.by_fd = v;
		hup.cap = cap;
	}
	struct epoll_event ev = {.events = EPOLLRDHUP, .data.fd = fd};
	if (epoll_ctl(hup.epfd, EPOLL_CTL_ADD, fd, &ev) != 0 && errno != EEXIST)
		return;
	hup.by_fd[fd] = w;
	w->fd = fd;
}

static void hup_del(struct watch_state *w)
{
	if (w->fd < 0)
		return;
	if (hup.by_fd[w->fd] == w)
		hup.by_fd[w->fd] = NULL;
	w->fd = -1;
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

static void on_fire(void *ctx, struct store_event *ev)
{
	struct watch_state *w = ctx;
	if (!w->stream)
		w->watcher = NULL; /* the hub removed a one-shot watcher */
	if (w->done)
		return;
	if (w->stream && w->qlen >= STREAM_MAX_PENDING) {
		/* etcd: a watcher whose buffer is full is removed and its
		 * response ends after what is buffered */
		w->done = true;
		stop_watching(w);
	} else {
		push_event(w, ev);
		if (!w->stream)
			w->done = true;
	}
	http_resume(w->req);
}

static void on_hangup(struct watch_state *w)
{
	hup_del(w);
	w->gone = true;
	stop_watching(w);
	http_resume(w->req); /* MHD then ends the request: completed_cb frees */
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
	if (n > 0)
		return (ssize_t)n;
	if (w->done) {
		hup_del(w); /* MHD owns the connection again from here */
		return MHD_CONTENT_READER_END_OF_STREAM;
	}
	http_suspend(w->req);
	return 0;
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
	struct store *st = api_server(r)->store;
	uint64_t start_index = store_index(st);
	struct watch_state *w = xcalloc(1, sizeof(*w));
	w->req = r;
	w->fd = -1;
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
	if (found && !kv->stream) {
		reply_found(r, found, start_index);
		store_event_unref(found);
		free(w);
		return NULL;
	}
	if (found) {
		push_event(w, found);
		store_event_unref(found);
	}
	/* MHD allocates the block with the response, for every idle watcher,
	 * but uses it only for HTTP/1.0 clients (no chunking): chunks go straight
	 * into the connection's write buffer. So it is small. */
	struct MHD_Response *resp =
		MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64, watch_reader, w, NULL);
	MHD_add_response_header(resp, "Content-Type", "application/json");
	reply_etcd_headers(r, resp, start_index);
	hup_add(w);
	if (++hup.live > hup.peak)
		hup.peak = hup.live;
	http_respond(r, MHD_HTTP_OK, resp);
	return w;
}

void http_watch_free(struct http_req *r, struct watch_state *w)
{
	stop_watching(w);
	hup_del(w);
	for (unsigned i = 0; i < w->qlen; i++)
		store_event_unref(w->q[i]);
	if (w->q != w->q1)
		free(w->q);
	free(w);
	hup.live--;
	hup.last_free_tick = hup.ticks;
	if (hup.peak - hup.live >= 512 && hup.live <= hup.peak / 2)
		hup.trim_due = true;
}
