/* keys.c - the v2 keys commands of etcdctl: get ls set mk mkdir setdir
 * update updatedir rm rmdir; the keys response and error parsing and the
 * three output formats (simple, extended, json as Go's encoding/json
 * writes client.Response). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "util/goparse.h"
#include "util/xalloc.h"

static char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? xstrdup(s) : NULL;
}

static uint64_t jnum(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	if (json_is_integer(v))
		return (uint64_t)json_integer_value(v);
	if (json_is_real(v))
		return (uint64_t)json_real_value(v);
	return 0;
}

static struct ctl_node *node_parse(json_t *o)
{
	if (!json_is_object(o))
		return NULL;
	struct ctl_node *n = xcalloc(1, sizeof *n);
	n->key = jstr(o, "key");
	n->value = jstr(o, "value");
	n->expiration = jstr(o, "expiration");
	n->dir = json_is_true(json_object_get(o, "dir"));
	n->created = jnum(o, "createdIndex");
	n->modified = jnum(o, "modifiedIndex");
	n->ttl = (int64_t)jnum(o, "ttl");
	json_t *ns = json_object_get(o, "nodes");
	n->nodes_null = !json_is_array(ns);
	if (json_is_array(ns)) {
		n->nnodes = json_array_size(ns);
		n->nodes = xcalloc(n->nnodes + 1, sizeof *n->nodes);
		for (size_t i = 0; i < n->nnodes; i++) {
			n->nodes[i] = node_parse(json_array_get(ns, i));
			if (!n->nodes[i]) /* not an object: an empty node */
				n->nodes[i] = xcalloc(1, sizeof *n->nodes[i]);
		}
	}
	return n;
}

static void node_free(struct ctl_node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->nnodes; i++)
		node_free(n->nodes[i]);
	free(n->nodes);
	free(n->key);
	free(n->value);
	free(n->expiration);
	free(n);
}

void ctl_kresp_free(struct ctl_kresp *k)
{
	free(k->action);
	node_free(k->node);
	node_free(k->prev);
	*k = (struct ctl_kresp){0};
}

/* Would Go decode v into client.Node (jsoniter, types strict)? */
static bool node_ok(json_t *v, int depth)
{
	if (!v || json_is_null(v))
		return true;
	if (!json_is_object(v) || depth > 512)
		return false;
	static const char *const strs[] = {"key", "value", "expiration", NULL};
	static const char *const nums[] = {"createdIndex", "modifiedIndex", "ttl", NULL};
	for (int i = 0; strs[i]; i++) {
		json_t *f = json_object_get(v, strs[i]);
		if (f && !json_is_null(f) && !json_is_string(f))
			return false;
	}
	for (int i = 0; nums[i]; i++) {
		json_t *f = json_object_get(v, nums[i]);
		if (f && !json_is_null(f) && !json_is_integer(f))
			return false;
		if (f && i < 2 && json_is_integer(f) && json_integer_value(f) < 0)
			return false;
	}
	json_t *d = json_object_get(v, "dir");
	if (d && !json_is_null(d) && !json_is_boolean(d))
		return false;
	json_t *ns = json_object_get(v, "nodes");
	if (ns && !json_is_null(ns)) {
		if (!json_is_array(ns))
			return false;
		size_t i;
		json_t *c;
		json_array_foreach(ns, i, c)
		{
			if (json_is_null(c) || !node_ok(c, depth + 1))
				return false;
		}
	}
	return true;
}

int ctl_kresp_parse(const struct ctl_resp *r, struct ctl_kresp *out, struct ctl_err *err)
{
	*out = (struct ctl_kresp){0};
	*err = (struct ctl_err){0};
	const char *body = r->body.data ? r->body.data : "";
	if (r->status == 200 || r->status == 201) {
		if (r->body.len == 0) {
			buf_puts(&err->text, "client: response body is empty");
			return 1;
		}
		json_t *root = json_loadb(body, r->body.len, 0, NULL);
		json_t *act = json_object_get(root, "action");
		if (!json_is_object(root) || (act && !json_is_null(act) && !json_is_string(act)) ||
		    !node_ok(json_object_get(root, "node"), 0) ||
		    !node_ok(json_object_get(root, "prevNode"), 0)) {
			json_decref(root);
			goto invalid;
		}
		if (r->index_text[0]) {
			uint64_t idx;
			enum go_num_err e = go_parse_uint(r->index_text, 10, 64, &idx);
			if (e != GO_NUM_OK) {
				char *q = go_quoted(r->index_text);
				buf_printf(&err->text, "strconv.ParseUint: parsing %s: %s", q,
					   e == GO_NUM_RANGE ? "value out of range" :
							       "invalid syntax");
				free(q);
				json_decref(root);
				return -1;
			}
			out->index = idx;
		}
		out->action = jstr(root, "action");
		out->node = node_parse(json_object_get(root, "node"));
		out->prev = node_parse(json_object_get(root, "prevNode"));
		json_decref(root);
		if (!out->node) {
			out->no_node = true;
			out->node = xcalloc(1, sizeof *out->node);
			out->node->nodes_null = true;
		}
		return 0;
	}
	json_t *root = json_loadb(body, r->body.len, 0, NULL);
	static const char *const errs[] = {"errorCode", "index", NULL};
	bool ok = json_is_object(root);
	for (int i = 0; ok && errs[i]; i++) {
		json_t *f = json_object_get(root, errs[i]);
		ok = !f || json_is_null(f) || json_is_integer(f);
	}
	static const char *const estr[] = {"message", "cause", NULL};
	for (int i = 0; ok && estr[i]; i++) {
		json_t *f = json_object_get(root, estr[i]);
		ok = !f || json_is_null(f) || json_is_string(f);
	}
	if (!ok) {
		json_decref(root);
		goto invalid;
	}
	const char *cause = json_string_value(json_object_get(root, "cause"));
	const char *msg = json_string_value(json_object_get(root, "message"));
	buf_printf(&err->text, "%llu: %s (%s) [%llu]", (unsigned long long)jnum(root, "errorCode"),
		   msg ? msg : "", cause ? cause : "", (unsigned long long)jnum(root, "index"));
	json_decref(root);
	return -1;
invalid:
	buf_puts(&err->text, "client: response is invalid json. The endpoint is probably not "
			     "valid etcd cluster endpoint");
	return -1;
}

static void node_json(struct buf *b, const struct ctl_node *n)
{
	if (!n) {
		buf_puts(b, "null");
		return;
	}
	const char *k = n->key ? n->key : "", *v = n->value ? n->value : "";
	buf_puts(b, "{\"key\":");
	buf_put_json_str(b, k, strlen(k));
	if (n->dir)
		buf_puts(b, ",\"dir\":true");
	buf_puts(b, ",\"value\":");
	buf_put_json_str(b, v, strlen(v));
	buf_puts(b, ",\"nodes\":");
	if (n->nodes_null) {
		buf_puts(b, "null");
	} else {
		buf_putc(b, '[');
		for (size_t i = 0; i < n->nnodes; i++) {
			if (i)
				buf_putc(b, ',');
			node_json(b, n->nodes[i]);
		}
		buf_putc(b, ']');
	}
	buf_printf(b, ",\"createdIndex\":%llu,\"modifiedIndex\":%llu",
		   (unsigned long long)n->created, (unsigned long long)n->modified);
	if (n->expiration) {
		buf_puts(b, ",\"expiration\":");
		buf_put_json_str(b, n->expiration, strlen(n->expiration));
	}
	if (n->ttl != 0)
		buf_printf(b, ",\"ttl\":%lld", (long long)n->ttl);
	buf_putc(b, '}');
}

static const char *sval(const char *s)
{
	return s ? s : "";
}

void ctl_print_kresp(const struct ctl_kresp *k, const char *format)
{
	bool del = k->action && strcmp(k->action, "delete") == 0;
	if (strcmp(format, "simple") == 0) {
		if (!del)
			printf("%s\n", sval(k->node->value));
		else
			printf("PrevNode.Value: %s\n", k->prev ? sval(k->prev->value) : "");
	} else if (strcmp(format, "extended") == 0) {
		printf("Key: %s\n", sval(k->node->key));
		printf("Created-Index: %llu\n", (unsigned long long)k->node->created);
		printf("Modified-Index: %llu\n", (unsigned long long)k->node->modified);
		if (k->prev)
			printf("PrevNode.Value: %s\n", sval(k->prev->value));
		printf("TTL: %lld\n", (long long)k->node->ttl);
		printf("Index: %llu\n", (unsigned long long)k->index);
		if (!del)
			printf("\n%s\n", sval(k->node->value));
	} else if (strcmp(format, "json") == 0) {
		struct buf b = BUF_INIT;
		buf_puts(&b, "{\"action\":");
		buf_put_json_str(&b, sval(k->action), strlen(sval(k->action)));
		buf_puts(&b, ",\"node\":");
		node_json(&b, k->no_node ? NULL : k->node);
		buf_puts(&b, ",\"prevNode\":");
		node_json(&b, k->prev);
		buf_puts(&b, "}\n");
		fwrite(b.data, 1, b.len, stdout);
		buf_free(&b);
	} else {
		fprintf(stderr, "Unsupported output format: %s\n", format);
	}
}

/* argOrStdin: argv[i], or all of stdin; NULL when neither has anything. */
static char *arg_or_stdin(int argc, char **argv, int i)
{
	if (i < argc)
		return xstrdup(argv[i]);
	struct buf b = BUF_INIT;
	char tmp[4096];
	ssize_t n;
	while ((n = read(0, tmp, sizeof tmp)) > 0)
		buf_append(&b, tmp, (size_t)n);
	if (n < 0 || b.len == 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b, NULL);
}

/* Runs one keys request and parses it, exiting as handleError does. */
static void keys_request(const char *method, struct buf *path, const char *body,
			 struct ctl_kresp *out)
{
	struct ctl_resp r;
	struct ctl_err e;
	ctl_deadline_ms = ctl_now_ms() + ctl.total_timeout_ns / 1000000;
	const char *ctype = strcmp(method, "GET") == 0 ? NULL : "application/x-www-form-urlencoded";
	if (ctl_do(method, path->data, body, ctype, false, &r, &e) != 0)
		ctl_fail(&e, CTL_EXIT_SERVER_ERROR);
	ctl_deadline_ms = 0;
	if (ctl_kresp_parse(&r, out, &e) != 0)
		ctl_fail(&e, CTL_EXIT_SERVER_ERROR);
	ctl_resp_free(&r);
	if (out->no_node && strcmp(ctl.output, "json") != 0)
		ctl_fail_msg("client: the response has no node", CTL_EXIT_SERVER_ERROR);
}

/* Query parameters, appended in Go's url.Values.Encode order (callers add
 * them sorted by name). */
static void qparam(struct buf *q, const char *name, const char *v)
{
	buf_putc(q, q->len ? '&' : '?');
	buf_puts(q, name);
	buf_putc(q, '=');
	ctl_query_escape(q, v);
}

static void ls_print(const struct ctl_node *n, bool p)
{
	if (n->dir && p)
		printf("%s/\n", sval(n->key));
	else
		printf("%s\n", sval(n->key));
	for (size_t i = 0; i < n->nnodes; i++)
		ls_print(n->nodes[i], p);
}

static int cmd_get_ls(bool ls, int argc, char **argv)
{
	struct ctl_flag flags[] = {
		{.names = "sort", .kind = CTL_BOOL},
		{.names = "quorum, q", .kind = CTL_BOOL},
		{.names = "help, h", .kind = CTL_BOOL},
		{.names = ls ? "recursive, r" : NULL, .kind = CTL_BOOL},
		{.names = "p", .kind = CTL_BOOL},
		{0},
	};
	int first = ctl_cmd_flags(ls ? "ls" : "get", flags, argc, argv);
	const char *key = "/";
	if (first < argc)
		key = argv[first];
	else if (!ls)
		ctl_fail_msg("key required", CTL_EXIT_BAD_ARGS);
	ctl_client_init(true);
	struct buf path = BUF_INIT;
	ctl_keys_path(&path, key);
	struct buf q = BUF_INIT;
	qparam(&q, "quorum", ctl_flag(flags, "quorum")->b ? "true" : "false");
	qparam(&q, "recursive", ls && ctl_flag(flags, "recursive")->b ? "true" : "false");
	qparam(&q, "sorted", ctl_flag(flags, "sort")->b ? "true" : "false");
	buf_puts(&path, q.data);
	struct ctl_kresp k;
	keys_request("GET", &path, NULL, &k);
	if (!ls) {
		if (k.node->dir) {
			fprintf(stderr, "%s: is a directory\n", sval(k.node->key));
			exit(1);
		}
		ctl_print_kresp(&k, ctl.output);
	} else if (strcmp(ctl.output, "simple") == 0) {
		if (!k.node->dir)
			printf("%s\n", sval(k.node->key));
		bool p = ctl_flag(flags, "p")->b;
		for (size_t i = 0; i < k.node->nnodes; i++)
			ls_print(k.node->nodes[i], p);
	} else {
		ctl_print_kresp(&k, ctl.output);
	}
	ctl_kresp_free(&k);
	buf_free(&q);
	buf_free(&path);
	return 0;
}

/* The set-like commands: set mk update (with a value), mkdir setdir
 * updatedir (directories). prev_exist: NULL (ignore), "true", "false". */
static int cmd_set_like(const char *cmd, int argc, char **argv)
{
	bool is_set = strcmp(cmd, "set") == 0, is_mk = strcmp(cmd, "mk") == 0;
	bool dir = strcmp(cmd, "mkdir") == 0 || strcmp(cmd, "setdir") == 0 ||
		   strcmp(cmd, "updatedir") == 0;
	const char *prev_exist = NULL;
	if (is_mk || strcmp(cmd, "mkdir") == 0)
		prev_exist = "false";
	else if (strcmp(cmd, "update") == 0 || strcmp(cmd, "updatedir") == 0)
		prev_exist = "true";
	struct ctl_flag flags[8] = {
		{.names = "ttl", .kind = CTL_INT},
		{.names = "help, h", .kind = CTL_BOOL},
	};
	if (is_set) {
		flags[2] = (struct ctl_flag){.names = "swap-with-value", .kind = CTL_STRING};
		flags[3] = (struct ctl_flag){.names = "swap-with-index", .kind = CTL_INT};
	} else if (is_mk) {
		flags[2] = (struct ctl_flag){.names = "in-order", .kind = CTL_BOOL};
	}
	int first = ctl_cmd_flags(cmd, flags, argc, argv);
	if (first >= argc)
		ctl_fail_msg("key required", CTL_EXIT_BAD_ARGS);
	const char *key = argv[first];
	char *value = NULL;
	if (!dir) {
		value = arg_or_stdin(argc - first, argv + first, 1);
		if (!value)
			ctl_fail_msg("value required", CTL_EXIT_BAD_ARGS);
	}
	ctl_client_init(true);
	int64_t ttl = ctl_flag(flags, "ttl")->i;
	struct buf path = BUF_INIT, q = BUF_INIT, form = BUF_INIT;
	ctl_keys_path(&path, key);
	if (ttl > 0)
		buf_printf(&form, "ttl=%lld", (long long)ttl);
	if (!dir) {
		buf_puts(&form, form.len ? "&value=" : "value=");
		ctl_query_escape(&form, value);
	}
	const char *method = "PUT";
	if (is_mk && ctl_flag(flags, "in-order")->b) {
		method = "POST";
	} else {
		if (dir)
			qparam(&q, "dir", "true");
		if (prev_exist)
			qparam(&q, "prevExist", prev_exist);
		if (is_set) {
			int64_t pi = ctl_flag(flags, "swap-with-index")->i;
			const char *pv = ctl_flag(flags, "swap-with-value")->s;
			char tmp[32];
			snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)pi);
			if (pi != 0)
				qparam(&q, "prevIndex", tmp);
			if (pv && *pv)
				qparam(&q, "prevValue", pv);
		}
		if (q.len)
			buf_puts(&path, q.data);
	}
	struct ctl_kresp k;
	keys_request(method, &path, form.data ? form.data : "", &k);
	if (!dir || strcmp(ctl.output, "simple") != 0)
		ctl_print_kresp(&k, ctl.output);
	ctl_kresp_free(&k);
	free(value);
	buf_free(&path);
	buf_free(&q);
	buf_free(&form);
	return 0;
}

static int cmd_rm(bool rmdir, int argc, char **argv)
{
	struct ctl_flag flags[] = {
		{.names = "dir", .kind = CTL_BOOL},
		{.names = "recursive, r", .kind = CTL_BOOL},
		{.names = "with-value", .kind = CTL_STRING},
		{.names = "with-index", .kind = CTL_INT},
		{.names = "help, h", .kind = CTL_BOOL},
		{0},
	};
	struct ctl_flag none[] = {{.names = "help, h", .kind = CTL_BOOL}, {0}};
	int first = ctl_cmd_flags(rmdir ? "rmdir" : "rm", rmdir ? none : flags, argc, argv);
	if (first >= argc)
		ctl_fail_msg("key required", CTL_EXIT_BAD_ARGS);
	ctl_client_init(true);
	struct buf path = BUF_INIT, q = BUF_INIT;
	ctl_keys_path(&path, argv[first]);
	if (rmdir || ctl_flag(flags, "dir")->b)
		qparam(&q, "dir", "true");
	if (!rmdir) {
		char tmp[32];
		int64_t pi = ctl_flag(flags, "with-index")->i;
		const char *pv = ctl_flag(flags, "with-value")->s;
		snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)pi);
		if (pi != 0)
			qparam(&q, "prevIndex", tmp);
		if (pv && *pv)
			qparam(&q, "prevValue", pv);
		if (ctl_flag(flags, "recursive")->b)
			qparam(&q, "recursive", "true");
	}
	if (q.len)
		buf_puts(&path, q.data);
	struct ctl_kresp k;
	keys_request("DELETE", &path, NULL, &k);
	if (!k.node->dir || strcmp(ctl.output, "simple") != 0)
		ctl_print_kresp(&k, ctl.output);
	ctl_kresp_free(&k);
	buf_free(&path);
	buf_free(&q);
	return 0;
}

int ctl_cmd_keys(const char *cmd, int argc, char **argv)
{
	if (strcmp(cmd, "get") == 0 || strcmp(cmd, "ls") == 0)
		return cmd_get_ls(cmd[0] == 'l', argc, argv);
	if (strcmp(cmd, "rm") == 0 || strcmp(cmd, "rmdir") == 0)
		return cmd_rm(cmd[2] == 'd', argc, argv);
	return cmd_set_like(cmd, argc, argv);
}
