/* wal_sync.c - the WAL thread (group commit): a mutex-protected FIFO of
 * copied batches, one writer thread, an eventfd back to the loop. */
#include "wal_sync.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct queued {
	struct queued *next;
	uint64_t seq;
	bool has_hs, marker, must_sync;
	struct raft_hard_state hs;
	uint64_t snap_index, snap_term;
	struct raft_entry *entries;	/* points into this allocation */
	size_t n_entries;
};

struct wal_sync {
	struct wal *w;			/* owned by the thread while it runs */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t wake;		/* work queued or stop */
	pthread_cond_t done;		/* durable advanced or failed (wal_sync_wait) */
	struct queued *head, *tail;	/* under mu */
	uint64_t last_seq;		/* last submitted, under mu */
	uint64_t release_index;		/* pending release request, under mu */
	bool stop;			/* under mu */
	bool failed;			/* under mu */
	char err[512];			/* under mu */
	struct wal_sync_stats st;	/* under mu */
	_Atomic uint64_t durable;
	int efd;
};

/* ---- copying batches ----------------------------------------------------------- */

static struct queued *batch_copy(const struct wal_batch *b)
{
	size_t bytes = sizeof(struct queued) + b->n_entries * sizeof(struct raft_entry);
	for (size_t i = 0; i < b->n_entries; i++)
		bytes += b->entries[i].len;
	struct queued *q = malloc(bytes);
	if (!q)
		abort();
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

/* ---- the thread ---------------------------------------------------------------- */

static void signal_loop(struct wal_sync *s)
{
	uint64_t one = 1;
	ssize_t n = write(s->efd, &one, sizeof(one));
	(void)n;	/* EAGAIN: the counter is already non-zero, the loop will wake */
}

static int write_batch(struct wal *w, const struct queued *q)
{
	if (wal_append(w, q->has_hs ? &q->hs : NULL, NULL, 0) < 0)
		return -1;
	if (q->marker && wal_snapshot_marker(w, q->snap_index, q->snap_term) < 0)
		return -1;
	return wal_append(w, NULL, q->entries, q->n_entries);
}

/* Writes one group and makes it durable. Returns the highest seq in it, or
 * 0 on failure (then s->failed is set). Frees the group. */
static uint64_t write_group(struct wal_sync *s, struct queued *group, bool final,
			    uint64_t *n_batches, uint64_t *n_entries)
{
	bool need_sync = final, ok = true;
	uint64_t top = 0;
	while (group) {
		struct queued *q = group;
		group = q->next;
		if (ok && write_batch(s->w, q) < 0)
			ok = false;
		need_sync |= q->must_sync;
		top = q->seq;
		(*n_batches)++;
		*n_entries += q->n_entries;
		free(q);
	}
	if (ok)
		ok = (need_sync ? wal_sync(s->w) : wal_flush(s->w)) == 0;
	if (ok)
		return top;
	pthread_mutex_lock(&s->mu);
	s->failed = true;
	snprintf(s->err, sizeof(s->err), "%s", wal_error(s->w));
	pthread_cond_broadcast(&s->done);
	pthread_mutex_unlock(&s->mu);
	signal_loop(s);
	return 0;
}

static void *wal_thread(void *arg)
{
	struct wal_sync *s = arg;
	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (!s->head && !s->stop && !s->release_index)
			pthread_cond_wait(&s->wake, &s->mu);
		struct queued *group = s->head;
		s->head = s->tail = NULL;
		uint64_t release = s->release_index;
		s->release_index = 0;
		bool stopping = s->stop, failed = s->failed;
		pthread_mutex_unlock(&s->mu);

		uint64_t batches = 0, entries = 0, top = 0;
		struct wal_stats ws;
		if (failed) {
			while (group) {	/* the log is dead: drop, never ack */
				struct queued *q = group;
				group = q->next;
				free(q);
			}
		} else if (group || stopping) {
			top = write_group(s, group, stopping, &batches, &entries);
		}
		int released = 0;
		if (release && !failed)
			released = wal_release_before(s->w, release);
		wal_get_stats(s->w, &ws);

		pthread_mutex_lock(&s->mu);
		if (top) {
			atomic_store(&s->durable, top);
			s->st.rounds++;
			pthread_cond_broadcast(&s->done);
		}
		s->st.batches += batches;
		s->st.entries += entries;
		if (batches > s->st.max_group)
			s->st.max_group = batches;
		s->st.fsyncs = ws.fsyncs;
		if (released > 0)
			s->st.released += (uint64_t)released;
		if (top)
			signal_loop(s);
		if (stopping && !s->head)
			break;
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* ---- API --------------------------------------------------------------------------- */

int wal_sync_start(struct wal *w, struct wal_sync **out, char *err, size_t cap)
{
	*out = NULL;
	struct wal_sync *s = calloc(1, sizeof(*s));
	if (!s)
		abort();
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

int wal_sync_submit(struct wal_sync *s, const struct wal_batch *b)
{
	struct queued *q = batch_copy(b);
	pthread_mutex_lock(&s->mu);
	if (s->failed || s->stop || b->seq <= s->last_seq) {
		pthread_mutex_unlock(&s->mu);
		free(q);
		return -1;
	}
	s->last_seq = b->seq;
	if (s->tail)
		s->tail->next = q;
	else
		s->head = q;
	s->tail = q;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->mu);
	return 0;
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
	(void)n;	/* EAGAIN: nothing new; the atomic is authoritative */
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
