/* config_private.h - what the configuration files share and main.c does
 * not see: the flag table's row type, the per-flag parse state, setting a
 * value, and a few string helpers. One file per concern:
 *   config_table.c            the flag table (data) and the support texts
 *   config_value.c            one flag value: Go flag.Value.Set per type
 *   config.c                  the engine: argv, ETCD_* env, precedence
 *   config_file.c             --config-file: etcd's YAML file instead
 *   config_validate.c         etcd's checks and derived values
 *   config_initial_cluster.c  --initial-cluster and the bootstrap check
 *   config_unsupported.c      flags cetcd accepts but does not act on
 *   config_help.c             usage, --help, --version */
#ifndef CETCD_CONFIG_PRIVATE_H
#define CETCD_CONFIG_PRIVATE_H

#include <stdlib.h>
#include <string.h>

#include "cetcd/config.h"
#include "util/buf.h"
#include "util/xalloc.h"

/* ---- the flag table (config_table.c) ---------------------------------- */

enum ftype {
	FT_STR,	    /* Go string */
	FT_BOOL,    /* Go bool (IsBoolFlag: "-f" alone means true) */
	FT_UINT,    /* Go uint / uint64 (64-bit): ParseUint(s, 0, 64) */
	FT_UINT32,  /* etcd's uint32Value: raw strconv error text */
	FT_INT64,   /* Go int / int64: ParseInt(s, 0, 64) */
	FT_DUR,	    /* Go time.Duration, stored as int64 ns */
	FT_URLS,    /* etcd's UniqueURLs; extra = allowed exception */
	FT_CHOICE,  /* etcd's SelectiveStringValue; extra = "a|b|c" */
	FT_STRS,    /* etcd's StringsValue: comma split */
	FT_USTRS,   /* etcd's UniqueStringsValue: comma split, sorted, unique */
	FT_IGNORED, /* etcd's IgnoredFlag: warns, bool-like */
};

enum impl {
	IM_YES,	 /* cetcd honours it */
	IM_NO,	 /* accepted, recorded in c->unsupported when not default */
	IM_NOOP, /* v3-only knob: no effect in a v2 server, recorded too */
	IM_V2,	 /* --enable-v2: cetcd always serves v2 */
};

enum section {
	S_HIDDEN,
	S_MEMBER,
	S_CLUSTER,
	S_SECURITY,
	S_AUTH,
	S_PROFILING,
	S_LOGGING,
	S_PROXY,
	S_EXPERIMENTAL,
	S_UNSAFE,
	S_DEPRECATED,
	S_CETCD, /* cetcd's own flags (etcd has none of the kind) */
	S_COUNT
};

struct flag_def {
	const char *name; /* without dashes */
	enum ftype type;
	size_t off;	   /* offsetof(struct config, field) */
	const char *def;   /* default, in flag syntax (set through the parser) */
	const char *extra; /* FT_URLS: exception; FT_CHOICE: choices */
	enum section sec;  /* help section, S_HIDDEN = not in etcd's --help */
	const char *shown; /* default as etcd's --help shows it */
	const char *help;  /* help text, '\n' separates lines */
	enum impl impl;
};

extern const struct flag_def flag_table[];
extern const size_t flag_count;

/* The row for name[0..n), or NULL. */
const struct flag_def *flag_lookup(const char *name, size_t n);
/* Why a flag with impl != IM_YES is listed as unsupported. */
const char *flag_unsupported_why(const struct flag_def *f);

/* ---- per-flag state (struct config's private part) -------------------- */

enum origin {
	ORIGIN_DEFAULT = 0,
	ORIGIN_FLAG,
	ORIGIN_ENV,
	ORIGIN_FILE
};

struct config_flag_state {
	enum origin origin; /* how the flag got its value */
	char *raw;	    /* the last value given, owned (NULL = default) */
	/* FT_URLS: etcd's UniqueURLs "Values" set: str of each URL plus the
	 * allowed exception ("" or "*") given since the last real set. It
	 * makes re-setting a member string a no-op; --cors is read from it. */
	struct str_list seen;
};

/* The state of flag_table[i] in c. */
struct config_flag_state *flag_state(const struct config *c, const struct flag_def *f);

/* ---- one value (config_value.c) ---------------------------------------- */

/* Applies v to flag f of c (Go's flag.Value.Set). Returns 0, or -1 with the
 * Set error text in err (what Go prints after "invalid value ... : "). */
int config_set_value(struct config *c, const struct flag_def *f, const char *v, char *err,
		     size_t cap);
void config_free_value(struct config *c, const struct flag_def *f);
/* Same value in a and b (for URL lists: the same set of strings given). */
bool config_value_eq(const struct config *a, const struct config *b, const struct flag_def *f);
/* Defaults for every flag; c need not be initialised. */
void config_init_defaults(struct config *c);

/* ---- the configuration file (config_file.c) ---------------------------- */

/* How config_load_file fails, as etcd does. */
enum config_file_rc {
	CONFIG_FILE_OK = 0,
	CONFIG_FILE_INVALID = -1, /* "error verifying flags, <err>. See 'etcd --help'." */
	CONFIG_FILE_STDERR = -2,  /* <err> alone on stderr, exit 1 (a bad URL) */
	CONFIG_FILE_LOGGED = -3,  /* <err> through Go's log.Fatalf: an info line, exit 1 */
	CONFIG_FILE_PANIC = -4,	  /* pkg/flags panics with <err>: exit 2 */
};

/* Sets c's flags from etcd's YAML configuration file at path (c holds the
 * defaults). Returns CONFIG_FILE_OK, or how it fails with etcd's message
 * in err. */
enum config_file_rc config_load_file(struct config *c, const char *path, char *err, size_t cap);

/* ---- checks and derived values (config_validate.c) --------------------- */

/* configFromCmdLine's derived values (cors, emptied advertise URLs, the
 * discovery rule), computed before validation. */
void config_derive(struct config *c);
/* The same for a configuration file (embed.configFromFile's rules). */
void config_derive_file(struct config *c);
/* embed.Config.Validate and etcdmain's checks. Writes etcd's [WARNING]
 * lines to log and applies the log level (util/log.h). Returns 0; -1 with
 * a message in err; 1 for the missing --advertise-client-urls error (etcd
 * adds a hint line). */
int config_validate(struct config *c, FILE *log, char *err, size_t cap);
/* After a successful parse: the initial cluster from --name and the
 * default data dir, as etcd's startEtcdOrProxyV2. */
void config_finish(struct config *c);

/* ---- --initial-cluster (config_initial_cluster.c) ---------------------- */

/* etcd's InitialClusterFromName over the advertise peer URLs: a new string. */
char *config_initial_cluster_from_name(const struct config *c);

/* ---- usage and help (config_help.c) ------------------------------------ */

extern const char config_usage_line[];
void config_print_help(FILE *out);
void config_print_version(FILE *out);

/* ---- unsupported flags (config_unsupported.c) -------------------------- */

void config_collect_unsupported(struct config *c);

/* ---- string helpers (config_value.c) ----------------------------------- */

void set_str(char **slot, const char *v);
char *quoted_list(char *const *v, size_t n); /* Go's %q of a []string; caller frees */
void strlist_push(struct str_list *l, const char *s);
void strlist_free(struct str_list *l);
bool strlist_has(const struct str_list *l, const char *s);
bool strlist_eq(const struct str_list *a, const struct str_list *b);
void strlist_sort(struct str_list *l);

#endif /* CETCD_CONFIG_PRIVATE_H */
