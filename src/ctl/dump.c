/* dump.c - cetcdctl dump [KEY] and restore [--prefix P]: a subtree as JSON
 * lines through the v2 API (a migration path off an etcd v2 store). dump
 * writes one object per node, parents first: {"key":K,"dir":true} or
 * {"key":K,"value":V}, with "ttl":N for nodes that expire. restore reads
 * those lines from stdin and creates each node (prefix prepended to its
 * key), a directory that already exists being kept. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"
#include "util/xalloc.h"

static void dump_node(const struct ctl_node *n, struct buf *out)
{
	const char *k = n->key ? n->key : "/";
	if (strcmp(k, "/") != 0) {
		buf_puts(out, "{\"key\":");
		buf_put_json_str(out, k, strlen(k));
		if (n->dir) {
			buf_puts(out, ",\"dir\":true");
		} else {
			const char *v = n->value ? n->value : "";
			buf_puts(out, ",\"value\":");
			buf_put_json_str(out, v, strlen(v));
		}
		if (n->ttl > 0)
			buf_printf(out, ",\"ttl\":%lld", (long long)n->ttl);
		buf_puts(out, "}\n");
		fwrite(out->data, 1, out->len, stdout);
		buf_reset(out);
	}
	for (size_t i = 0; i < n->nnodes; i++)
		dump_node(n->nodes[i], out);
}

static int cmd_dump(int argc, char **argv)
{
	struct ctl_flag flags[] = {{.names = "help, h", .kind = CTL_BOOL}, {0}};
	int first = ctl_cmd_flags("dump", flags, argc, argv);
	const char *key = first < argc ? argv[first] : "/";
	ctl_client_init(true);
	struct buf path = BUF_INIT;
	ctl_keys_path(&path, key);
	buf_puts(&path, "?quorum=true&recursive=true&sorted=true");
	struct ctl_resp r;
	struct ctl_err e;
	ctl_deadline_ms = ctl_now_ms() + ctl.total_timeout_ns / 1000000;
	if (ctl_do("GET", path.data, NULL, NULL, false, &r, &e) != 0)
		ctl_fail(&e, CTL_EXIT_SERVER_ERROR);
	struct ctl_kresp k;
	if (ctl_kresp_parse(&r, &k, &e) != 0)
		ctl_fail(&e, CTL_EXIT_SERVER_ERROR);
	struct buf out = BUF_INIT;
	dump_node(k.node, &out);
	buf_free(&out);
	ctl_kresp_free(&k);
	ctl_resp_free(&r);
	buf_free(&path);
	return 0;
}

/* Creates one node; returns 0, or prints the error and returns -1. */
static int restore_one(const char *key, const char *value, bool dir, int64_t ttl)
{
	struct buf path = BUF_INIT, form = BUF_INIT;
	ctl_keys_path(&path, key);
	if (dir)
		buf_puts(&path, "?dir=true&prevExist=false");
	if (ttl > 0)
		buf_printf(&form, "ttl=%lld", (long long)ttl);
	if (!dir) {
		buf_puts(&form, form.len ? "&value=" : "value=");
		ctl_query_escape(&form, value);
	}
	struct ctl_resp r;
	struct ctl_err e;
	ctl_deadline_ms = ctl_now_ms() + ctl.total_timeout_ns / 1000000;
	int rc = ctl_do("PUT", path.data, form.data ? form.data : "",
			"application/x-www-form-urlencoded", false, &r, &e);
	buf_free(&path);
	buf_free(&form);
	if (rc != 0)
		ctl_fail(&e, CTL_EXIT_SERVER_ERROR);
	struct ctl_kresp k;
	rc = ctl_kresp_parse(&r, &k, &e);
	bool exists = rc != 0 && dir && r.status == 412;
	ctl_resp_free(&r);
	if (rc == 0) {
		ctl_kresp_free(&k);
		return 0;
	}
	if (exists) {
		ctl_err_free(&e);
		return 0;
	}
	fprintf(stderr, "Error:  %s: %s\n", key, e.text.data ? e.text.data : "");
	ctl_err_free(&e);
	return -1;
}

static int cmd_restore(int argc, char **argv)
{
	struct ctl_flag flags[] = {
		{.names = "prefix", .kind = CTL_STRING},
		{.names = "help, h", .kind = CTL_BOOL},
		{0},
	};
	int first = ctl_cmd_flags("restore", flags, argc, argv);
	if (first < argc) {
		fprintf(stderr, "Error:  restore takes no arguments (the dump comes on stdin)\n");
		return 1;
	}
	const char *prefix = ctl_flag(flags, "prefix")->s;
	ctl_client_init(true);
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	long lineno = 0, bad = 0, done = 0;
	while ((n = getline(&line, &cap, stdin)) > 0) {
		lineno++;
		if (strspn(line, " \t\r\n") == (size_t)n)
			continue;
		json_error_t jerr;
		json_t *j = json_loads(line, 0, &jerr);
		const char *key = json_string_value(json_object_get(j, "key"));
		json_t *v = json_object_get(j, "value");
		bool dir = json_is_true(json_object_get(j, "dir"));
		if (!key || (!dir && !json_is_string(v))) {
			fprintf(stderr,
				"Error:  line %ld: not a dump line (want {\"key\":...,\"value\":...} "
				"or {\"key\":...,\"dir\":true})\n",
				lineno);
			json_decref(j);
			free(line);
			return 1;
		}
		struct buf full = BUF_INIT;
		if (prefix && *prefix)
			buf_puts(&full, prefix);
		buf_puts(&full, key);
		json_t *t = json_object_get(j, "ttl");
		int64_t ttl = json_is_integer(t) ? (int64_t)json_integer_value(t) : 0;
		if (restore_one(full.data, dir ? NULL : json_string_value(v), dir, ttl) != 0)
			bad++;
		else
			done++;
		buf_free(&full);
		json_decref(j);
	}
	free(line);
	fprintf(stderr, "restored %ld nodes\n", done);
	if (bad) {
		fprintf(stderr, "Error:  %ld nodes could not be restored\n", bad);
		return CTL_EXIT_SERVER_ERROR;
	}
	return 0;
}

int ctl_cmd_dump(const char *cmd, int argc, char **argv)
{
	return strcmp(cmd, "dump") == 0 ? cmd_dump(argc, argv) : cmd_restore(argc, argv);
}
