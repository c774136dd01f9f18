/* ctl.h - cetcdctl's internals: the global options, the command-line parser
 * (Go's flag package with urfave/cli v1.20's argument reordering, as etcdctl
 * v2 parses), the v2 HTTP client (endpoints, failover, cluster sync, --debug
 * cURL lines, etcd's error texts) and the commands. Uses util/, plus
 * libcurl and jansson, and disk/ (with raft/'s types) for backup. */
#ifndef CETCD_CTL_H
#define CETCD_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/* etcdctl's exit codes (etcdctl/ctlv2/command/error.go). */
enum {
	CTL_EXIT_SUCCESS = 0,
	CTL_EXIT_BAD_ARGS = 1,
	CTL_EXIT_BAD_CONNECTION = 2,
	CTL_EXIT_BAD_AUTH = 3,
	CTL_EXIT_SERVER_ERROR = 4,
	CTL_EXIT_CLUSTER_NOT_HEALTHY = 5,
};

/* ---- usage texts (help_text.c) ---- */
struct ctl_help {
	const char *cmd; /* "" for the application's */
	const char *text;
};
extern const struct ctl_help ctl_helps[];
/* Prints cmd's usage text to stdout, "etcdctl" made the program's name. */
void ctl_print_help(const char *cmd);

/* ---- flags (cli.c) ---- */
enum ctl_flag_kind {
	CTL_BOOL,
	CTL_STRING,
	CTL_INT,
	CTL_DURATION,
	CTL_STRINGS
};
struct ctl_flag {
	const char *names; /* "recursive, r" */
	enum ctl_flag_kind kind;
	bool set;	   /* given on the command line */
	bool b;		   /* CTL_BOOL */
	const char *s;	   /* CTL_STRING */
	int64_t i;	   /* CTL_INT; CTL_DURATION in nanoseconds */
	const char **list; /* CTL_STRINGS: every value given, in order */
	size_t nlist;
};
/* Parses argv[0..argc) against flags (NULL-named terminated), Go flag style;
 * reorder moves flags ahead of arguments first (urfave/cli commands).
 * Returns the index of the first argument in the (reordered) argv, or -1
 * with the Go error message in err. argv is permuted in place. */
int ctl_parse_flags(struct ctl_flag *flags, int argc, char **argv, bool reorder, struct buf *err);
struct ctl_flag *ctl_flag(struct ctl_flag *flags, const char *name);

/* ---- the global options ---- */
struct ctl_opts {
	bool debug, no_sync;
	const char *output; /* simple | extended | json */
	char **eps;	    /* endpoints, normalised (scheme added) */
	size_t neps;
	size_t pinned;
	const char *ca_file, *cert_file, *key_file;
	char *username, *password; /* NULL: no auth */
	int64_t timeout_ns, total_timeout_ns;
};
extern struct ctl_opts ctl;
/* The monotonic deadline (ms) of this thread's requests; 0: none. */
extern _Thread_local int64_t ctl_deadline_ms;

/* ---- HTTP (client.c) ---- */
struct ctl_resp {
	long status;
	struct buf body;
	char index_text[32]; /* X-Etcd-Index as sent ("" if none) */
	char location[512];  /* Location of a 3xx */
	uint64_t etcd_index;
};
/* An error: text is what etcdctl prints after "Error:  "; detail is the
 * ClusterError detail (printed on its own line), connection says all of
 * the endpoints' errors were connection errors. */
struct ctl_err {
	struct buf text, detail;
	bool connection;
	bool cluster;
};
void ctl_err_free(struct ctl_err *e);
/* One request through the endpoints, the pinned one first, failing over on
 * connection errors and 5xx. path is the escaped path with query; body may
 * be NULL (no -d in --debug). wait: no per-request header timeout and no
 * command deadline. Returns 0 with resp filled, or -1 with err. */
int ctl_do(const char *method, const char *path, const char *body, const char *ctype, bool wait,
	   struct ctl_resp *resp, struct ctl_err *err);
/* One request to one base URL (cluster-health, endpoint health): no
 * failover, no debug line. Returns 0 or -1 with a Go-style error text. */
int ctl_get_url(const char *url, long timeout_ms, struct ctl_resp *resp, struct buf *err);
void ctl_resp_free(struct ctl_resp *r);
/* Go encoding/json's error text for a body that is not JSON (the common
 * cases), appended to out. */
void ctl_go_json_error(const char *body, size_t len, struct buf *out);
/* The client as etcdctl's mustNewClient makes it: syncs the endpoints from
 * /v2/members unless --no-sync; exits on the errors etcdctl exits on. */
void ctl_client_init(bool sync);
/* Prints err as etcdctl's handleError and exits with code. */
_Noreturn void ctl_fail(struct ctl_err *err, int code);
_Noreturn void ctl_fail_msg(const char *msg, int code);
/* Go's url.QueryEscape of s appended to b. */
void ctl_query_escape(struct buf *b, const char *s);
/* /v2/keys + the key, canonical and escaped (client.v2KeysURL). */
void ctl_keys_path(struct buf *b, const char *key);
int64_t ctl_now_ms(void);

/* ---- keys (keys.c) ---- */
struct ctl_node {
	char *key, *value, *expiration;
	bool dir, has_value;
	uint64_t created, modified;
	int64_t ttl;
	struct ctl_node **nodes;
	size_t nnodes;
	bool nodes_null;
};
struct ctl_kresp {
	bool no_node; /* the answer had no "node" (JSON output prints null) */
	char *action;
	struct ctl_node *node, *prev;
	uint64_t index;
};
/* Parses a keys response: 200/201 a Response, otherwise etcd's error
 * (into err). Returns 0, 1 for an empty 200 body, -1 on error. */
int ctl_kresp_parse(const struct ctl_resp *r, struct ctl_kresp *out, struct ctl_err *err);
void ctl_kresp_free(struct ctl_kresp *k);
void ctl_print_kresp(const struct ctl_kresp *k, const char *format);
/* The keys commands; each returns the exit code. */
int ctl_cmd_keys(const char *cmd, int argc, char **argv);
int ctl_cmd_watch(const char *cmd, int argc, char **argv);
int ctl_cmd_member(int argc, char **argv);
int ctl_cmd_cluster_health(int argc, char **argv);
int ctl_cmd_endpoint(int argc, char **argv);
int ctl_cmd_lock(const char *cmd, int argc, char **argv);
int ctl_cmd_auth(const char *cmd, int argc, char **argv);
int ctl_cmd_dump(const char *cmd, int argc, char **argv);
int ctl_cmd_backup(int argc, char **argv); /* backup.c: data dirs, no HTTP */

/* Runs a command's flags, printing urfave's "Incorrect Usage: " text and
 * exiting 1 on a bad flag, its help on -h/--help. Returns the index of
 * the first argument. */
int ctl_cmd_flags(const char *cmd, struct ctl_flag *flags, int argc, char **argv);
/* The same for a command with subcommands ("member"): no reordering, and
 * urfave's application-style "Incorrect Usage.". */
int ctl_cmd_flags_as(const char *cmd, struct ctl_flag *flags, int argc, char **argv, bool parent);

/* srv.c: etcdctl v2's --discovery-srv. Appends the endpoints found under
 * domain (service name suffix name, "" for none) to *eps; http:// ones only
 * when insecure (else "ignoring discovered insecure endpoint" on stderr).
 * Returns 0, or -1 with "dns lookup errors: ... and ..." in err. */
int ctl_srv_endpoints(const char *domain, const char *name, bool insecure, char ***eps,
		      size_t *neps, struct buf *err);

#endif /* CETCD_CTL_H */
