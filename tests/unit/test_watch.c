/* test_watch.c - unit tests of watches (src/watch*.c through store_watch): live
 * and history matching, the 1000-event window, hidden keys, ancestor deletes,
 * stream watchers, unwatch, refresh. Links only libkv.a. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/harness.h"
#include "kv/store.h"

#define T0  INT64_C(1464082530752422783)
#define SEC INT64_C(1000000000)

/* What a watcher saw. */
struct seen {
	int fired;
	uint64_t index[8];
	char key[8][64];
	struct store *store;	/* for callbacks that act on the store */
	struct watcher *victim; /* unwatched from inside fire */
	uint64_t watchers_at_fire;
};

static void on_fire(void *ctx, struct store_event *ev)
{
	struct seen *s = ctx;
	if (s->fired < 8) {
		s->index[s->fired] = ev->index;
		snprintf(s->key[s->fired], sizeof(s->key[0]), "%s", ev->key);
	}
	if (s->store) {
		struct store_stats st;
		store_get_stats(s->store, &st);
		s->watchers_at_fire = st.watchers;
		if (s->victim) {
			store_unwatch(s->store, s->victim);
			s->victim = NULL;
		}
	}
	s->fired++;
}

static uint64_t do_write(struct store *s, struct store_write w)
{
	struct store_event *ev = NULL;
	struct store_error err = {0};
	int rc = store_write(s, &w, T0, &ev, &err);
	uint64_t idx = rc == 0 ? ev->index : 0;
	store_event_unref(ev);
	store_error_clear(&err);
	return idx;
}

static uint64_t set(struct store *s, const char *path, const char *value)
{
	return do_write(s, (struct store_write){.op = OP_SET, .path = path, .value = value});
}

static uint64_t del(struct store *s, const char *path, bool recursive)
{
	return do_write(
		s, (struct store_write){.op = OP_DELETE, .path = path, .recursive = recursive});
}

/* Registers a live watch that must not be answered from history. */
static struct watcher *watch(struct store *s, const char *path, bool recursive, bool stream,
			     uint64_t since, struct seen *seen)
{
	struct watcher *w = NULL;
	struct store_event *found = NULL;
	struct store_error err = {0};
	int rc = store_watch(s, path, recursive, stream, since, on_fire, seen, &w, &found, &err);
	CHECK(rc == 0 && w != NULL && found == NULL);
	store_event_unref(found);
	store_error_clear(&err);
	return w;
}

static uint64_t watchers(struct store *s)
{
	struct store_stats st;
	store_get_stats(s, &st);
	return st.watchers;
}

static void test_live_exact_and_recursive(void)
{
	struct store *s = store_new();
	struct seen exact = {0}, rec = {0}, nonrec = {0}, sib = {0}, root = {0};
	watch(s, "/foo", false, false, 0, &exact);
	watch(s, "/foo", true, false, 0, &rec);
	watch(s, "/foo", false, false, 0, &nonrec);
	watch(s, "/foobar", true, false, 0, &sib);
	watch(s, "/", true, false, 0, &root);
	CHECK(watchers(s) == 5);
	set(s, "/foobar2", "x"); /* 1: only the root watch */
	CHECK(root.fired == 1 && root.index[0] == 1);
	CHECK(exact.fired == 0 && rec.fired == 0 && sib.fired == 0);
	set(s, "/foo/child", "x"); /* 2: recursive /foo only */
	CHECK(rec.fired == 1 && rec.index[0] == 2);
	CHECK_STR(rec.key[0], "/foo/child");
	CHECK(exact.fired == 0 && nonrec.fired == 0 && sib.fired == 0);
	del(s, "/foo", true); /* 3: exact watchers fire */
	CHECK(exact.fired == 1 && exact.index[0] == 3 && nonrec.fired == 1);
	CHECK(watchers(s) == 1); /* /foobar left */
	set(s, "/foobar", "y");	 /* 4 */
	CHECK(sib.fired == 1 && sib.index[0] == 4);
	CHECK(watchers(s) == 0);
	/* one-shots fired once only */
	set(s, "/foo", "z");
	CHECK(exact.fired == 1 && rec.fired == 1 && root.fired == 1);
	store_free(s);
}

static void test_history(void)
{
	struct store *s = store_new();
	set(s, "/a", "1");   /* 1 */
	set(s, "/b/c", "2"); /* 2 */
	set(s, "/a", "3");   /* 3 */
	struct watcher *w = NULL;
	struct store_event *found = NULL;
	struct store_error err = {0};
	CHECK(store_watch(s, "/a", false, false, 1, on_fire, NULL, &w, &found, &err) == 0);
	CHECK(w == NULL && found && found->index == 1);
	store_event_unref(found);
	CHECK(store_watch(s, "/a", false, false, 2, on_fire, NULL, &w, &found, &err) == 0);
	CHECK(w == NULL && found && found->index == 3);
	store_event_unref(found);
	/* recursive on a dir, and on a plain key (etcd-io/etcd#6328 fixed) */
	CHECK(store_watch(s, "/b", true, false, 1, on_fire, NULL, &w, &found, &err) == 0);
	CHECK(w == NULL && found && found->index == 2);
	store_event_unref(found);
	CHECK(store_watch(s, "/a", true, false, 2, on_fire, NULL, &w, &found, &err) == 0);
	CHECK(w == NULL && found && found->index == 3);
	store_event_unref(found);
	/* nothing matching in history: registered, since kept */
	struct seen seen = {0};
	CHECK(store_watch(s, "/b", true, false, 3, on_fire, &seen, &w, &found, &err) == 0);
	CHECK(w != NULL && found == NULL);
	set(s, "/b/d", "x"); /* 4 */
	CHECK(seen.fired == 1 && seen.index[0] == 4);
	/* a future since: waits for that index */
	struct seen fut = {0};
	watch(s, "/a", false, false, 7, &fut);
	set(s, "/a", "5"); /* 5 */
	set(s, "/a", "6"); /* 6 */
	CHECK(fut.fired == 0);
	set(s, "/a", "7"); /* 7 */
	CHECK(fut.fired == 1 && fut.index[0] == 7);
	/* since 0 = current + 1 */
	struct seen now = {0};
	watch(s, "/a", false, false, 0, &now);
	set(s, "/a", "8");
	CHECK(now.fired == 1 && now.index[0] == 8);
	store_free(s);
}

static void test_window(void)
{
	struct store *s = store_new();
	char path[32];
	for (int i = 1; i <= 1100; i++) {
		snprintf(path, sizeof(path), "/k%d", i);
		set(s, path, "v");
	}
	CHECK(store_index(s) == 1100);
	struct watcher *w = NULL;
	struct store_event *found = NULL;
	struct store_error err = {0};
	/* 1000 back (index 101) is served */
	CHECK(store_watch(s, "/k101", false, false, 101, on_fire, NULL, &w, &found, &err) == 0);
	CHECK(w == NULL && found && found->index == 101);
	store_event_unref(found);
	CHECK(store_watch(s, "/", true, false, 101, on_fire, NULL, &w, &found, &err) == 0);
	CHECK(w == NULL && found && found->index == 101);
	store_event_unref(found);
	/* 1001 back (index 100) is cleared */
	CHECK(store_watch(s, "/k100", false, false, 100, on_fire, NULL, &w, &found, &err) == -1);
	CHECK(w == NULL && found == NULL);
	CHECK(err.code == 401 && err.index == 1100);
	CHECK_STR(err.cause, "the requested history has been cleared [101/100]");
	store_error_clear(&err);
	CHECK(store_watch(s, "/x", true, true, 1, on_fire, NULL, &w, &found, &err) == -1);
	CHECK_STR(err.cause, "the requested history has been cleared [101/1]");
	store_error_clear(&err);
	CHECK(watchers(s) == 0);
	store_free(s);
}

static void test_hidden(void)
{
	struct store *s = store_new();
	struct seen root = {0}, dir = {0}, exact = {0}, inside = {0};
	watch(s, "/", true, true, 0, &root);
	watch(s, "/d", true, true, 0, &dir);
	watch(s, "/d/_h", false, true, 0, &exact);
	watch(s, "/d/_h", true, true, 0, &inside);
	set(s, "/d/_h", "1"); /* 1 */
	CHECK(root.fired == 0 && dir.fired == 0 && exact.fired == 1 && inside.fired == 1);
	set(s, "/_top", "1"); /* 2 */
	CHECK(root.fired == 0);
	set(s, "/d/x_y", "1"); /* 3: '_' not at a component start */
	CHECK(root.fired == 1 && dir.fired == 1);
	del(s, "/d/_h", false); /* 4 */
	CHECK(root.fired == 1 && dir.fired == 1);
	/* history scan does return hidden events (etcd quirk) */
	struct watcher *w = NULL;
	struct store_event *found = NULL;
	struct store_error err = {0};
	CHECK(store_watch(s, "/", true, false, 1, on_fire, NULL, &w, &found, &err) == 0);
	CHECK(w == NULL && found && found->index == 1);
	CHECK_STR(found ? found->key : NULL, "/d/_h");
	store_event_unref(found);
	CHECK(watchers(s) == 4);
	store_free(s); /* frees the stream watchers still registered */
}

static void test_ancestor_delete(void)
{
	struct store *s = store_new();
	set(s, "/d/x/y", "1"); /* 1 */
	set(s, "/file", "1");  /* 2 */
	struct seen deep = {0}, mid = {0}, below_file = {0}, other = {0}, hidden = {0};
	watch(s, "/d/x/y", false, false, 0, &deep);
	watch(s, "/d/x", false, false, 0, &mid);
	watch(s, "/d/x/_h/q", false, false, 0, &hidden); /* path never existed */
	watch(s, "/file/child", false, false, 0, &below_file);
	watch(s, "/dx", true, false, 0, &other);
	del(s, "/d", true); /* 3 */
	CHECK(deep.fired == 1 && deep.index[0] == 3);
	CHECK_STR(deep.key[0], "/d");
	CHECK(mid.fired == 1 && mid.index[0] == 3);
	CHECK_STR(mid.key[0], "/d");
	CHECK(hidden.fired == 0); /* no node was removed there */
	CHECK(other.fired == 0);
	del(s, "/file", false); /* 4: a watch below a file keeps waiting */
	CHECK(below_file.fired == 0);
	set(s, "/file/child", "c"); /* 5 */
	CHECK(below_file.fired == 1 && below_file.index[0] == 5);
	/* from history: the dir's delete serves watches on its old descendants,
	 * and (etcd quirk: plain string prefix) on /dx too */
	struct watcher *w = NULL;
	struct store_event *found = NULL;
	struct store_error err = {0};
	CHECK(store_watch(s, "/d/x/y/z", false, false, 3, on_fire, NULL, &w, &found, &err) == 0);
	CHECK(w == NULL && found && found->index == 3);
	store_event_unref(found);
	CHECK(store_watch(s, "/dx", false, false, 3, on_fire, NULL, &w, &found, &err) == 0);
	CHECK(w == NULL && found && found->index == 3);
	store_event_unref(found);
	/* a deleted *file* does not serve watches below it */
	CHECK(store_watch(s, "/file/zz", false, false, 4, on_fire, NULL, &w, &found, &err) == 0);
	CHECK(w != NULL && found == NULL);
	store_unwatch(s, w);
	/* expiry of a dir: descendants' watchers get the dir's expire event */
	struct store_write t = {.op = OP_SET, .path = "/e", .dir = true, .has_ttl = true, .ttl = 1};
	do_write(s, t);	     /* 6 */
	set(s, "/e/k", "v"); /* 7 */
	struct seen ek = {0}, eroot = {0};
	watch(s, "/e/k", false, false, 0, &ek);
	watch(s, "/", true, false, 0, &eroot);
	CHECK(store_expire(s, T0 + SEC) == 1); /* 8 */
	CHECK(ek.fired == 1 && ek.index[0] == 8);
	CHECK_STR(ek.key[0], "/e");
	CHECK(eroot.fired == 1 && eroot.index[0] == 8);
	CHECK(watchers(s) == 2); /* /d/x/_h/q and /dx still wait */
	store_free(s);
}

static void test_stream_and_unwatch(void)
{
	struct store *s = store_new();
	struct seen st = {0}, dirst = {0};
	struct watcher *w = watch(s, "/s", false, true, 0, &st);
	watch(s, "/sd", true, true, 0, &dirst);
	set(s, "/s", "1");    /* 1 */
	set(s, "/s", "2");    /* 2 */
	set(s, "/sd/a", "1"); /* 3 */
	CHECK(st.fired == 2 && st.index[0] == 1 && st.index[1] == 2);
	CHECK(dirst.fired == 1 && dirst.index[0] == 3);
	CHECK(watchers(s) == 2);
	/* etcd delivers a delete twice to a stream watcher on the deleted path
	 * (once as a removed node, once as the event's own key) */
	del(s, "/s", false); /* 4 */
	CHECK(st.fired == 4 && st.index[2] == 4 && st.index[3] == 4);
	del(s, "/sd", true); /* 5 */
	CHECK(dirst.fired == 3 && dirst.index[1] == 5 && dirst.index[2] == 5);
	store_unwatch(s, w);
	CHECK(watchers(s) == 1);
	set(s, "/s", "again");
	CHECK(st.fired == 4);
	/* stream with a history hit: both the event and the live watcher */
	struct seen hist = {0};
	struct watcher *hw = NULL;
	struct store_event *found = NULL;
	struct store_error err = {0};
	CHECK(store_watch(s, "/s", false, true, 1, on_fire, &hist, &hw, &found, &err) == 0);
	CHECK(hw != NULL && found && found->index == 1);
	store_event_unref(found);
	set(s, "/s", "live");
	CHECK(hist.fired == 1 && hist.index[0] == store_index(s));
	store_unwatch(s, hw);
	CHECK(watchers(s) == 1);
	store_free(s);
}

static void test_fire_reentrancy(void)
{
	struct store *s = store_new();
	/* a one-shot is gone from the stats when its fire runs */
	struct seen one = {.store = s};
	watch(s, "/r", false, false, 0, &one);
	set(s, "/r", "1");
	CHECK(one.fired == 1 && one.watchers_at_fire == 0);
	/* a fire that unwatches a stream watcher due to fire later on the same event */
	struct seen killer = {.store = s}, victim = {0}, later = {0};
	watch(s, "/r", false, false, 0, &killer);
	struct watcher *vw = watch(s, "/r", false, true, 0, &victim);
	watch(s, "/r", true, true, 0, &later);
	killer.victim = vw;
	set(s, "/r", "2");
	CHECK(killer.fired == 1 && victim.fired == 0 && later.fired == 1);
	CHECK(watchers(s) == 1);
	/* the victim is gone for good */
	set(s, "/r", "3");
	CHECK(victim.fired == 0 && later.fired == 2);
	/* unwatch a stream watcher on an ancestor list from a deeper fire */
	struct seen top = {0}, deep = {.store = s};
	struct watcher *tw = watch(s, "/", true, true, 0, &top);
	watch(s, "/r", false, false, 0, &deep);
	deep.victim = tw;
	set(s, "/r", "4");
	/* "/" is checked before "/r": top fires, then deep removes it */
	CHECK(top.fired == 1 && deep.fired == 1);
	set(s, "/r", "5");
	CHECK(top.fired == 1);
	store_free(s);
}

static void test_refresh_and_watch(void)
{
	struct store *s = store_new();
	set(s, "/t", "v"); /* 1 */
	struct seen live = {0};
	watch(s, "/t", false, false, 0, &live);
	struct store_write r = {
		.op = OP_UPDATE, .path = "/t", .refresh = true, .has_ttl = true, .ttl = 5};
	CHECK(do_write(s, r) == 2);
	CHECK(live.fired == 0 && watchers(s) == 1);
	set(s, "/t", "w"); /* 3 */
	CHECK(live.fired == 1 && live.index[0] == 3);
	/* the history scan skips the refresh */
	struct watcher *w = NULL;
	struct store_event *found = NULL;
	struct store_error err = {0};
	CHECK(store_watch(s, "/t", false, false, 2, on_fire, NULL, &w, &found, &err) == 0);
	CHECK(w == NULL && found && found->index == 3);
	store_event_unref(found);
	/* refresh as the only later event: the watcher waits */
	CHECK(do_write(s, r) == 4);
	CHECK(store_watch(s, "/t", false, false, 4, on_fire, &live, &w, &found, &err) == 0);
	CHECK(w != NULL && found == NULL);
	store_unwatch(s, w);
	CHECK(watchers(s) == 0);
	store_free(s);
}

static void test_many_watchers(void)
{
	struct store *s = store_new();
	enum {
		N = 200
	};
	static struct seen seen[N];
	char path[32];
	for (int i = 0; i < N; i++) {
		snprintf(path, sizeof(path), "/w/%d", i % 10);
		watch(s, path, false, false, 0, &seen[i]);
	}
	CHECK(watchers(s) == N);
	set(s, "/w/3", "x");
	int fired = 0;
	for (int i = 0; i < N; i++)
		fired += seen[i].fired;
	CHECK(fired == N / 10);
	CHECK(watchers(s) == N - N / 10);
	del(s, "/w", true); /* /w/3 removed, the others never existed */
	fired = 0;
	for (int i = 0; i < N; i++)
		fired += seen[i].fired;
	CHECK(fired == N / 10);
	store_free(s);
}

int main(void)
{
	test_live_exact_and_recursive();
	test_history();
	test_window();
	test_hidden();
	test_ancestor_delete();
	test_stream_and_unwatch();
	test_fire_reentrancy();
	test_refresh_and_watch();
	test_many_watchers();
	return check_summary();
}
