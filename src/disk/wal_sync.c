/* wal_sync.c - group commit over one struct wal: a mutex-protected FIFO of
 * copied batches, written in rounds either by the WAL thread (which reports
 * through an eventfd) or, when that thread is idle, by the loop itself
 * (wal_sync_flush). A busy flag lets exactly one of them own the wal. */
#include "disk/wal_sync.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "util/list.h"
#include "util/xalloc.h"

struct queued {
	struct list link; /* in the queue, then in a round's group */
	uint64_t seq;
	bool has_hs, marker, must_sync;
	struct raft_hard_state hs;
	uint64_t snap_index, snap_term;
	struct raft_entry *entries; /* points into this allocation */
	size_t n_entries;
};

struct wal_sync {
	struct wal *w; /* used only by the owner of busy */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t wake;	  /* work queued, stop, or w free again */
	pthread_cond_t done;	  /* durable advanced or failed (wal_sync_wait) */
	struct list queue;	  /* of struct queued, seq order, under mu */
	size_t n_queued;	  /* batches in the queue, under mu */
	bool busy;		  /* under mu: a round (thread or inline) owns w */
	uint64_t last_seq;	  /* last submitted, under mu */
	uint64_t release_index;	  /* pending release request, under mu */
	bool stop;		  /* under mu */
	bool failed;		  /* under mu */
	char err[512];		  /* under mu */
	struct wal_sync_stats st; /* under mu */
	_Atomic uint64_t durable;
	int efd;
};

/* ---- copying batches ----------------------------------------------------------- */

static struct queued *batch_copy(const struct wal_batch *b)
{
	size_t bytes = sizeof(struct queued) + b->n_entries * sizeof(struct raft_entry);
	for (size_t i = 0; i < b->n_entries; i++)
		bytes += b->entries[i].len;
	struct queued *q = xmalloc(bytes);
	memset(q, 0, sizeof(*q));
	q->seq = b->seq;
	q->has_hs = b->hard_state != NULL;
	if (q->has_hs)
		q->hs = *b->hard_state;
	q->marker = b->snapshot_marker;
	q->snap_index = b->snap_index;
	q->snap_term = b->snap_term;
	q->must_sync = b->must_sync;
	q->entries = (struct raft_entry *)(q + 1);
	q->n_entries = b->n_entries;
	char *data = (char *)(q->entries + b->n_entries);
	for (size_t i = 0; i < b->n_entries; i++) {
		q->entries[i] = b->entries[i];
		if (b->entries[i].len) {
			memcpy(data, b->entries[i].data, b->entries[i].len);
			q->entries[i].data = data;
			data += b->entries[i].len;
		} else {
			q->entries[i].data = NULL;
		}
	}
	return q;
}

/* ---- rounds: one group written and made durable ------------------------------------ */

/* What one round took from the queue and what it did. Whoever runs a round
 * owns s->w from take_round to finish_round (s->busy). */
struct round {
	struct list group; /* taken from the queue; run_round frees it */
	uint64_t release;  /* release request taken with it (0: none) */
	bool final;	   /* wal_sync_stop: sync even a commit-only group */
	bool dead;	   /* the log had failed: drop the group, never ack */
	bool ok;
	uint64_t top; /* highest seq made durable (0: none) */
	uint64_t batches, entries;
	int released;
	bool have_stats;
	struct wal_stats ws;
};

/* Under mu, with s->w free: takes every queued batch (and the release
 * request when with_release) and marks s->w busy. */
static void take_round(struct wal_sync *s, struct round *r, bool with_release)
{
	memset(r, 0, sizeof(*r));
	list_init(&r->group);
	list_splice_tail(&r->group, &s->queue);
	s->n_queued = 0;
	if (with_release) {
		r->release = s->release_index;
		s->release_index = 0;
	}
	r->final = s->stop;
	r->dead = s->failed;
	s->busy = true;
}

static int write_batch(struct wal *w, const struct queued *q)
{
	if (wal_append(w, q->has_hs ? &q->hs : NULL, NULL, 0) < 0)
		return -1;
	if (q->marker && wal_snapshot_marker(w, q->snap_index, q->snap_term) < 0)
		return -1;
	return wal_append(w, NULL, q->entries, q->n_entries);
}

/* Without mu, owning s->w: writes the group in queue (= seq) order, then one
 * fdatasync for all of it (group commit), then the release. Frees the group. */
static void run_round(struct wal_sync *s, struct round *r)
{
	bool need_sync = r->final;
	r->ok = !r->dead;
	struct queued *q, *tmp;
	list_for_each_safe(q, tmp, &r->group, link)
	{
		list_del(&q->link);
		if (r->ok && write_batch(s->w, q) < 0)
			r->ok = false;
		if (!r->dead) {
			need_sync |= q->must_sync;
			r->top = q->seq;
			r->batches++;
			r->entries += q->n_entries;
		}
		free(q); /* a dead log drops it: never acknowledged */
	}
	if (r->dead)
		return;
	if (r->ok)
		r->ok = (need_sync ? wal_sync(s->w) : wal_flush(s->w)) == 0;
	if (!r->ok)
		r->top = 0;
	if (r->ok && r->release)
		r->released = wal_release_before(s->w, r->release);
	wal_get_stats(s->w, &r->ws);
	r->have_stats = true;
}

/* Under mu: publishes what the round made durable (or its failure), updates
 * the stats and frees s->w for the next round. */
static void finish_round(struct wal_sync *s, const struct round *r)
{
	if (!r->ok && !r->dead && !s->failed) {
		s->failed = true;
		snprintf(s->err, sizeof(s->err), "%s", wal_error(s->w));
	}
	s->busy = false;
	if (r->top) {
		atomic_store(&s->durable, r->top);
		s->st.rounds++;
		prom_hist_observe(&s->st.group, WAL_GROUP_HIST_START, WAL_GROUP_HIST_N,
				  (double)r->batches);
	}
	s->st.batches += r->batches;
	s->st.entries += r->entries;
	if (r->batches > s->st.max_group)
		s->st.max_group = r->batches;
	if (r->have_stats) {
		s->st.fsyncs = r->ws.fsyncs;
		s->st.bytes = r->ws.bytes;
		s->st.fsync_seconds = r->ws.fsync_seconds;
	}
	if (r->released > 0)
		s->st.released += (uint64_t)r->released;
	if (r->top || s->failed)
		pthread_cond_broadcast(&s->done);
	if (!list_empty(&s->queue) || s->release_index || s->stop)
		pthread_cond_signal(&s->wake); /* the thread may wait for busy */
}

/* ---- the thread -------------------------------------------------------------------- */

static void signal_loop(struct wal_sync *s)
{
	uint64_t one = 1;
	ssize_t n = write(s->efd, &one, sizeof(one));
	(void)n; /* EAGAIN: the counter is already non-zero, the loop will wake */
}

static void *wal_thread(void *arg)
{
	struct wal_sync *s = arg;
	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (s->busy || (list_empty(&s->queue) && !s->stop && !s->release_index))
			pthread_cond_wait(&s->wake, &s->mu);
		struct round r;
		take_round(s, &r, true);
		pthread_mutex_unlock(&s->mu);
		run_round(s, &r);
		pthread_mutex_lock(&s->mu);
		finish_round(s, &r);
		if (r.top || (!r.ok && !r.dead))
			signal_loop(s);
		if (r.final && list_empty(&s->queue))
			break;
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* ---- API --------------------------------------------------------------------------- */

int wal_sync_start(struct wal *w, struct wal_sync **out, char *err, size_t cap)
{
	*out = NULL;
	struct wal_sync *s = xcalloc(1, sizeof(*s));
	list_init(&s->queue);
	s->w = w;
	s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->efd < 0) {
		snprintf(err, cap, "wal_sync: eventfd: %s", strerror(errno));
		free(s);
		return -1;
	}
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->wake, NULL);
	pthread_cond_init(&s->done, NULL);
	int rc = pthread_create(&s->thread, NULL, wal_thread, s);
	if (rc != 0) {
		snprintf(err, cap, "wal_sync: pthread_create: %s", strerror(rc));
		close(s->efd);
		pthread_mutex_destroy(&s->mu);
		pthread_cond_destroy(&s->wake);
		pthread_cond_destroy(&s->done);
		free(s);
		return -1;
	}
	*out = s;
	return 0;
}

/* Appends a copy of b to the queue; wakes the thread when wake. */
static int enqueue(struct wal_sync *s, const struct wal_batch *b, bool wake)
{
	struct queued *q = batch_copy(b);
	pthread_mutex_lock(&s->mu);
	if (s->failed || s->stop || b->seq <= s->last_seq) {
		pthread_mutex_unlock(&s->mu);
		free(q);
		return -1;
	}
	s->last_seq = b->seq;
	list_add_tail(&s->queue, &q->link);
	s->n_queued++;
	if (wake)
		pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->mu);
	return 0;
}

int wal_sync_submit(struct wal_sync *s, const struct wal_batch *b)
{
	return enqueue(s, b, true);
}

int wal_sync_queue(struct wal_sync *s, const struct wal_batch *b)
{
	return enqueue(s, b, false);
}

int wal_sync_flush(struct wal_sync *s, size_t max_inline, uint64_t *durable)
{
	pthread_mutex_lock(&s->mu);
	if (s->failed) {
		pthread_mutex_unlock(&s->mu);
		return -1;
	}
	if (list_empty(&s->queue)) {
		pthread_mutex_unlock(&s->mu);
		return 0;
	}
	if (s->busy || s->n_queued > max_inline) {
		/* a round is in flight (the thread takes the queue after it),
		 * or the caller leaves this many to the thread */
		pthread_cond_signal(&s->wake);
		pthread_mutex_unlock(&s->mu);
		return 0;
	}
	struct round r;
	take_round(s, &r, false); /* deleting segments stays on the thread */
	pthread_mutex_unlock(&s->mu);
	run_round(s, &r);
	pthread_mutex_lock(&s->mu);
	finish_round(s, &r);
	if (r.top)
		s->st.inline_rounds++;
	pthread_mutex_unlock(&s->mu);
	if (!r.ok)
		return -1;
	*durable = atomic_load(&s->durable);
	return 1;
}

void wal_sync_release_before(struct wal_sync *s, uint64_t index)
{
	pthread_mutex_lock(&s->mu);
	if (index > s->release_index)
		s->release_index = index;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->mu);
}

int wal_sync_fd(const struct wal_sync *s)
{
	return s->efd;
}

uint64_t wal_sync_durable(struct wal_sync *s)
{
	uint64_t count;
	ssize_t n = read(s->efd, &count, sizeof(count));
	(void)n; /* EAGAIN: nothing new; the atomic is authoritative */
	return atomic_load(&s->durable);
}

bool wal_sync_failed(struct wal_sync *s, char *err, size_t cap)
{
	pthread_mutex_lock(&s->mu);
	bool failed = s->failed;
	if (failed && err && cap)
		snprintf(err, cap, "%s", s->err);
	pthread_mutex_unlock(&s->mu);
	return failed;
}

int wal_sync_wait(struct wal_sync *s, uint64_t seq)
{
	pthread_mutex_lock(&s->mu);
	while (atomic_load(&s->durable) < seq && !s->failed)
		pthread_cond_wait(&s->done, &s->mu);
	int rc = atomic_load(&s->durable) >= seq ? 0 : -1;
	pthread_mutex_unlock(&s->mu);
	return rc;
}

void wal_sync_get_stats(struct wal_sync *s, struct wal_sync_stats *out)
{
	pthread_mutex_lock(&s->mu);
	*out = s->st;
	pthread_mutex_unlock(&s->mu);
}

int wal_sync_stop(struct wal_sync *s, char *err, size_t cap)
{
	pthread_mutex_lock(&s->mu);
	s->stop = true;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	int rc = 0;
	if (s->failed) {
		if (err && cap)
			snprintf(err, cap, "%s", s->err);
		rc = -1;
	}
	close(s->efd);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->wake);
	pthread_cond_destroy(&s->done);
	free(s);
	return rc;
}
