/* member.c - etcdctl's member list/add/remove/update and cluster-health
 * over /v2/members and /health, and cetcdctl's own endpoint health|status
 * (every member's client URL at once). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "util/xalloc.h"

struct member {
	char *id, *name;
	char **peer, **client;
	size_t npeer, nclient;
};

static void strs(json_t *a, char ***out, size_t *n)
{
	*out = NULL;
	*n = 0;
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v)
	{
		*out = xrealloc(*out, (*n + 1) * sizeof(char *));
		(*out)[(*n)++] = xstrdup(json_string_value(v) ? json_string_value(v) : "");
	}
}

static void member_free(struct member *m)
{
	for (size_t i = 0; i < m->npeer; i++)
		free(m->peer[i]);
	for (size_t i = 0; i < m->nclient; i++)
		free(m->client[i]);
	free(m->peer);
	free(m->client);
	free(m->id);
	free(m->name);
}

static void members_free(struct member *ms, size_t n)
{
	for (size_t i = 0; i < n; i++)
		member_free(&ms[i]);
	free(ms);
}

static void member_parse(json_t *m, struct member *o)
{
	const char *id = json_string_value(json_object_get(m, "id"));
	const char *name = json_string_value(json_object_get(m, "name"));
	o->id = xstrdup(id ? id : "");
	o->name = xstrdup(name ? name : "");
	strs(json_object_get(m, "peerURLs"), &o->peer, &o->npeer);
	strs(json_object_get(m, "clientURLs"), &o->client, &o->nclient);
}

static void join(struct buf *b, char **v, size_t n, const char *sep)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_puts(b, sep);
		buf_puts(b, v[i]);
	}
	if (!b->data)
		buf_puts(b, "");
}

/* Go's Error() text of a request failure (a ClusterError keeps its
 * trailing newline). */
static void print_go_err(const char *prefix, struct ctl_err *e)
{
	fflush(stdout);
	fprintf(stderr, "%s%s\n", prefix, e->text.data ? e->text.data : "");
}

/* mAPI.List: 0 with the members, -1 with the error text in e. */
static int members_list(struct member **out, size_t *n, struct ctl_err *e)
{
	struct ctl_resp r;
	if (ctl_do("GET", "/v2/members", NULL, NULL, false, &r, e) != 0)
		return -1;
	if (r.status != 200) {
		buf_printf(&e->text, "unexpected status code %ld", r.status);
		ctl_resp_free(&r);
		return -1;
	}
	json_t *root = json_loadb(r.body.data ? r.body.data : "", r.body.len, 0, NULL);
	if (!root) {
		ctl_go_json_error(r.body.data ? r.body.data : "", r.body.len, &e->text);
		ctl_resp_free(&r);
		return -1;
	}
	json_t *ms = json_object_get(root, "members");
	*n = json_array_size(ms);
	*out = xcalloc(*n + 1, sizeof **out);
	for (size_t i = 0; i < *n; i++)
		member_parse(json_array_get(ms, i), &(*out)[i]);
	json_decref(root);
	ctl_resp_free(&r);
	return 0;
}

static int member_list(int argc)
{
	if (argc != 0) {
		fprintf(stderr, "No arguments accepted\n");
		exit(1);
	}
	ctl_client_init(true);
	ctl_deadline_ms = ctl_now_ms() + ctl.total_timeout_ns / 1000000;
	struct member *ms;
	size_t n;
	struct ctl_err e;
	if (members_list(&ms, &n, &e) != 0) {
		print_go_err("", &e);
		exit(1);
	}
	struct ctl_resp r;
	if (ctl_do("GET", "/v2/members/leader", NULL, NULL, false, &r, &e) != 0) {
		print_go_err("Failed to get leader:  ", &e);
		exit(1);
	}
	if (r.status != 200) {
		fprintf(stderr, "Failed to get leader:  unexpected status code %ld\n", r.status);
		exit(1);
	}
	json_t *lj = json_loadb(r.body.data ? r.body.data : "", r.body.len, 0, NULL);
	struct member leader = {0};
	member_parse(lj, &leader);
	json_decref(lj);
	ctl_resp_free(&r);
	for (size_t i = 0; i < n; i++) {
		struct buf p = BUF_INIT, c = BUF_INIT;
		join(&p, ms[i].peer, ms[i].npeer, ",");
		join(&c, ms[i].client, ms[i].nclient, ",");
		if (ms[i].name[0] == 0)
			printf("%s[unstarted]: peerURLs=%s\n", ms[i].id, p.data);
		else
			printf("%s: name=%s peerURLs=%s clientURLs=%s isLeader=%s\n", ms[i].id,
			       ms[i].name, p.data, c.data,
			       strcmp(ms[i].id, leader.id) == 0 ? "true" : "false");
		buf_free(&p);
		buf_free(&c);
	}
	member_free(&leader);
	members_free(ms, n);
	return 0;
}

/* types.NewURLs' checks on one peer URL: 0, or -1 with Go's text. */
static int check_url(const char *u, struct buf *err)
{
	const char *s = strstr(u, "://");
	if (!s || !((s - u == 4 && strncmp(u, "http", 4) == 0) ||
		    (s - u == 5 && strncmp(u, "https", 5) == 0) ||
		    (s - u == 4 && strncmp(u, "unix", 4) == 0) ||
		    (s - u == 5 && strncmp(u, "unixs", 5) == 0))) {
		buf_printf(err, "URL scheme must be http, https, unix, or unixs: %s", u);
		return -1;
	}
	const char *h = s + 3;
	size_t hl = strcspn(h, "/?#");
	if (!memchr(h, ':', hl)) {
		buf_printf(err, "URL address does not have the form \"host:port\": %s", u);
		return -1;
	}
	if (h[hl] == '/' && h[hl + 1] != 0) {
		buf_printf(err, "URL must not contain a path: %s", u);
		return -1;
	}
	return 0;
}

/* {"peerURLs":[...]} of a comma-separated list; -1 on a bad URL. */
static int peer_body(const char *list, struct buf *body, struct buf *err)
{
	char *dup = xstrdup(list), *rest = dup, *tok;
	buf_puts(body, "{\"peerURLs\":[");
	bool firsturl = true;
	while ((tok = strsep(&rest, ",")) != NULL) {
		if (check_url(tok, err) != 0) {
			free(dup);
			return -1;
		}
		if (!firsturl)
			buf_putc(body, ',');
		firsturl = false;
		buf_put_json_str(body, tok, strlen(tok));
	}
	buf_puts(body, "]}");
	free(dup);
	return 0;
}

/* A members error body's message (409/404), or the status text. */
static void members_error(const struct ctl_resp *r, struct buf *out)
{
	json_t *root = json_loadb(r->body.data ? r->body.data : "", r->body.len, 0, NULL);
	const char *m = json_string_value(json_object_get(root, "message"));
	buf_puts(out, m ? m : "");
	json_decref(root);
}

static int member_add(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "Provide a name and a single member peerURL\n");
		exit(1);
	}
	ctl_client_init(true);
	ctl_deadline_ms = ctl_now_ms() + ctl.total_timeout_ns / 1000000;
	struct buf body = BUF_INIT, err = BUF_INIT;
	if (peer_body(argv[1], &body, &err) != 0 || strchr(argv[1], ',')) {
		if (!err.data)
			buf_printf(&err, "URL address does not have the form \"host:port\": %s",
				   argv[1]);
		fprintf(stderr, "%s\n", err.data);
		exit(1);
	}
	struct ctl_resp r;
	struct ctl_err e;
	if (ctl_do("POST", "/v2/members", body.data, "application/json", false, &r, &e) != 0) {
		print_go_err("", &e);
		exit(1);
	}
	if (r.status != 201) {
		if (r.status == 409)
			members_error(&r, &err);
		else
			buf_printf(&err, "unexpected status code %ld", r.status);
		fprintf(stderr, "%s\n", err.data);
		exit(1);
	}
	json_t *mj = json_loadb(r.body.data, r.body.len, 0, NULL);
	struct member nm = {0};
	member_parse(mj, &nm);
	json_decref(mj);
	printf("Added member named %s with ID %s to cluster\n", argv[0], nm.id);
	struct member *ms;
	size_t n;
	if (members_list(&ms, &n, &e) != 0) {
		print_go_err("", &e);
		exit(1);
	}
	struct buf conf = BUF_INIT;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < ms[i].npeer; j++)
			buf_printf(&conf, "%s%s=%s", conf.len ? "," : "",
				   strcmp(ms[i].id, nm.id) == 0 ? argv[0] : ms[i].name,
				   ms[i].peer[j]);
	printf("\n");
	printf("ETCD_NAME=\"%s\"\n", argv[0]);
	printf("ETCD_INITIAL_CLUSTER=\"%s\"\n", conf.data ? conf.data : "");
	printf("ETCD_INITIAL_CLUSTER_STATE=\"existing\"\n");
	return 0;
}

static int member_remove(int argc, char **argv)
{
	if (argc != 1) {
		fprintf(stderr, "Provide a single member ID\n");
		exit(1);
	}
	const char *id = argv[0];
	ctl_client_init(true);
	ctl_deadline_ms = ctl_now_ms() + ctl.total_timeout_ns / 1000000;
	struct member *ms;
	size_t n;
	struct ctl_err e;
	if (members_list(&ms, &n, &e) != 0) {
		print_go_err("Error while verifying ID against known members: ", &e);
		exit(1);
	}
	bool found = false;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(ms[i].id, id) == 0)
			found = true;
		if (strcmp(ms[i].name, id) == 0) {
			fprintf(stderr,
				"Found a member named %s; if this is correct, please use its ID, "
				"eg:\n\tetcdctl member remove %s\n",
				ms[i].name, ms[i].id);
			fprintf(stderr, "For more details, read the documentation at "
					"https://github.com/etcd-io/etcd/blob/master/Documentation/"
					"runtime-configuration.md#remove-a-member\n\n");
		}
	}
	if (!found) {
		fprintf(stderr, "Couldn't find a member in the cluster with an ID of %s.\n", id);
		exit(1);
	}
	struct buf path = BUF_INIT;
	buf_printf(&path, "/v2/members/%s", id);
	struct ctl_resp r;
	if (ctl_do("DELETE", path.data, NULL, NULL, false, &r, &e) != 0) {
		fprintf(stderr, "Received an error trying to remove member %s: %s", id,
			e.text.data);
		exit(1);
	}
	if (r.status != 204 && r.status != 410) {
		fprintf(stderr,
			"Received an error trying to remove member %s: unexpected status code %ld",
			id, r.status);
		exit(1);
	}
	printf("Removed member %s from cluster\n", id);
	return 0;
}

static int member_update(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "Provide an ID and a list of comma separated peerURL (0xabcd "
				"http://example.com,http://example1.com)\n");
		exit(1);
	}
	ctl_client_init(true);
	ctl_deadline_ms = ctl_now_ms() + ctl.total_timeout_ns / 1000000;
	struct buf body = BUF_INIT, err = BUF_INIT, path = BUF_INIT;
	if (peer_body(argv[1], &body, &err) != 0) {
		fprintf(stderr, "%s\n", err.data);
		exit(1);
	}
	buf_printf(&path, "/v2/members/%s", argv[0]);
	struct ctl_resp r;
	struct ctl_err e;
	if (ctl_do("PUT", path.data, body.data, "application/json", false, &r, &e) != 0) {
		print_go_err("", &e);
		exit(1);
	}
	if (r.status != 204) {
		if (r.status == 404 || r.status == 409)
			members_error(&r, &err);
		else
			buf_printf(&err, "unexpected status code %ld", r.status);
		fprintf(stderr, "%s\n", err.data);
		exit(1);
	}
	printf("Updated member with ID %s in cluster\n", argv[0]);
	return 0;
}

int ctl_cmd_member(int argc, char **argv)
{
	static const char *const subs[] = {"list", "add", "remove", "update", NULL};
	struct ctl_flag flags[] = {{.names = "help, h", .kind = CTL_BOOL}, {0}};
	bool known = false;
	for (int i = 0; argc > 0 && subs[i]; i++)
		known = known || strcmp(argv[0], subs[i]) == 0;
	if (!known) {
		if (argc > 0 && argv[0][0] != '-') {
			fprintf(stderr, "No help topic for '%s'\n", argv[0]);
			return 3;
		}
		ctl_cmd_flags_as("member", flags, argc, argv, true);
		ctl_print_help("member");
		return 0;
	}
	const char *sub = argv[0];
	char help[64];
	snprintf(help, sizeof help, "member %s", sub);
	int first = ctl_cmd_flags(help, flags, argc - 1, argv + 1);
	argc -= first + 1;
	argv += first + 1;
	if (strcmp(sub, "list") == 0)
		return member_list(argc);
	if (strcmp(sub, "add") == 0)
		return member_add(argc, argv);
	if (strcmp(sub, "remove") == 0)
		return member_remove(argc, argv);
	return member_update(argc, argv);
}

/* {"health":"true"} or {"health":true}: 1 healthy, 0 not, -1 unparsable. */
static int health_of(const struct ctl_resp *r)
{
	json_t *root = json_loadb(r->body.data ? r->body.data : "", r->body.len, 0, NULL);
	if (!json_is_object(root)) {
		json_decref(root);
		return -1;
	}
	json_t *h = NULL;
	const char *k;
	json_t *v;
	json_object_foreach(root, k, v)
	{
		if (strcasecmp(k, "health") == 0)
			h = v;
	}
	int ok =
		(json_is_string(h) && strcmp(json_string_value(h), "true") == 0) || json_is_true(h);
	json_decref(root);
	return ok;
}

int ctl_cmd_cluster_health(int argc, char **argv)
{
	struct ctl_flag flags[] = {
		{.names = "forever, f", .kind = CTL_BOOL},
		{.names = "help, h", .kind = CTL_BOOL},
		{0},
	};
	ctl_cmd_flags("cluster-health", flags, argc, argv);
	bool forever = ctl_flag(flags, "forever")->b;
	ctl_client_init(false);
	struct member *ms;
	size_t n;
	struct ctl_err e;
	if (members_list(&ms, &n, &e) != 0) {
		printf("cluster may be unhealthy: failed to list members\n");
		ctl_fail(&e, CTL_EXIT_SERVER_ERROR);
	}
	for (;;) {
		size_t healthy = 0;
		for (size_t i = 0; i < n; i++) {
			if (ms[i].nclient == 0) {
				printf("member %s is unreachable: no available published client urls\n",
				       ms[i].id);
				continue;
			}
			bool checked = false;
			for (size_t j = 0; j < ms[i].nclient && !checked; j++) {
				struct buf url = BUF_INIT, err = BUF_INIT;
				buf_printf(&url, "%s/health", ms[i].client[j]);
				struct ctl_resp r;
				if (ctl_get_url(url.data, 0, &r, &err) != 0) {
					printf("failed to check the health of member %s on %s: %s\n",
					       ms[i].id, ms[i].client[j], err.data);
				} else {
					int h = health_of(&r);
					if (h < 0) {
						printf("failed to check the health of member %s on %s: "
						       "invalid character in JSON\n",
						       ms[i].id, ms[i].client[j]);
					} else {
						checked = true;
						if (h) {
							printf("member %s is healthy: got healthy result "
							       "from %s\n",
							       ms[i].id, ms[i].client[j]);
							healthy++;
						} else {
							printf("member %s is unhealthy: got unhealthy "
							       "result from %s\n",
							       ms[i].id, ms[i].client[j]);
						}
					}
				}
				ctl_resp_free(&r);
				buf_free(&url);
				buf_free(&err);
			}
			if (!checked) {
				struct buf l = BUF_INIT;
				join(&l, ms[i].client, ms[i].nclient, " ");
				printf("member %s is unreachable: [%s] are all unreachable\n",
				       ms[i].id, l.data);
				buf_free(&l);
			}
		}
		if (healthy == n)
			printf("cluster is healthy\n");
		else if (healthy == 0)
			printf("cluster is unavailable\n");
		else
			printf("cluster is degraded\n");
		fflush(stdout);
		if (!forever)
			return healthy == n ? CTL_EXIT_SUCCESS : CTL_EXIT_CLUSTER_NOT_HEALTHY;
		printf("\nnext check after 10 second...\n\n");
		fflush(stdout);
		sleep(10);
	}
}

/* endpoint health|status: every endpoint (the members' client URLs after
 * the sync, or the given ones with --no-sync). */
int ctl_cmd_endpoint(int argc, char **argv)
{
	struct ctl_flag flags[] = {{.names = "help, h", .kind = CTL_BOOL}, {0}};
	int first = ctl_cmd_flags("endpoint", flags, argc, argv);
	if (first >= argc ||
	    (strcmp(argv[first], "health") != 0 && strcmp(argv[first], "status") != 0)) {
		fprintf(stderr, "Error:  endpoint: give health or status\n");
		return 1;
	}
	bool status = strcmp(argv[first], "status") == 0;
	ctl_client_init(true);
	int bad = 0;
	long tmo = (long)(ctl.timeout_ns / 1000000);
	for (size_t i = 0; i < ctl.neps; i++) {
		const char *ep = ctl.eps[i];
		struct buf url = BUF_INIT, err = BUF_INIT;
		struct ctl_resp r;
		int64_t t0 = ctl_now_ms();
		if (!status) {
			buf_printf(&url, "%s/health", ep);
			if (ctl_get_url(url.data, tmo, &r, &err) != 0) {
				printf("%s is unhealthy: failed to connect: %s\n", ep, err.data);
				bad = 1;
			} else if (health_of(&r) == 1) {
				printf("%s is healthy: got healthy result in %lldms\n", ep,
				       (long long)(ctl_now_ms() - t0));
			} else {
				printf("%s is unhealthy: got unhealthy result (HTTP %ld)\n", ep,
				       r.status);
				bad = 1;
			}
			ctl_resp_free(&r);
		} else {
			buf_printf(&url, "%s/v2/stats/self", ep);
			if (ctl_get_url(url.data, tmo, &r, &err) != 0) {
				printf("%s is unreachable: %s\n", ep, err.data);
				bad = 1;
			} else {
				json_t *s = json_loadb(r.body.data ? r.body.data : "", r.body.len,
						       0, NULL);
				const char *id = json_string_value(json_object_get(s, "id"));
				const char *name = json_string_value(json_object_get(s, "name"));
				const char *state = json_string_value(json_object_get(s, "state"));
				json_t *li = json_object_get(s, "leaderInfo");
				const char *leader =
					json_string_value(json_object_get(li, "leader"));
				struct ctl_resp vr;
				struct buf vurl = BUF_INIT, verr = BUF_INIT;
				buf_printf(&vurl, "%s/version", ep);
				const char *ver = NULL;
				json_t *vj = NULL;
				if (ctl_get_url(vurl.data, tmo, &vr, &verr) == 0) {
					vj = json_loadb(vr.body.data ? vr.body.data : "",
							vr.body.len, 0, NULL);
					ver = json_string_value(json_object_get(vj, "etcdserver"));
				}
				printf("%s, %s, %s, %s, isLeader=%s, leader=%s\n", ep,
				       id ? id : "?", ver ? ver : "?", name ? name : "?",
				       state && strcmp(state, "StateLeader") == 0 ? "true" :
										    "false",
				       leader ? leader : "?");
				json_decref(vj);
				json_decref(s);
				ctl_resp_free(&vr);
				buf_free(&vurl);
				buf_free(&verr);
			}
			ctl_resp_free(&r);
		}
		buf_free(&url);
		buf_free(&err);
	}
	return bad;
}
