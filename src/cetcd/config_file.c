/* config_file.c - --config-file / ETCD_CONFIG_FILE: etcd 3.4's YAML
 * configuration file (embed.ConfigFromFile, then etcdmain's configProxy
 * read from the same file). etcd reads the file with sigs.k8s.io/yaml:
 * go-yaml v2 turns it into a JSON object (keys sorted) that Go's
 * encoding/json decodes into its structs. So here: libyaml parses, plain
 * scalars are typed as go-yaml v2 resolves them (null, bool, int, float,
 * else string), keys match case-insensitively, unknown keys are ignored,
 * and the first type error in sorted key order is reported with Go's
 * words. The values then go through the flag table's setters
 * (config_value.c). The messages were compared with etcd 3.4.23 itself
 * (tests/unit/test_config.c pins them). */
#include "cetcd/config_private.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h> /* isfinite */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <yaml.h>

#include "util/goparse.h"

/* ---- the keys etcd's structs know, with their Go types ---------------- */

enum gotype {
	GT_STRING,
	GT_BOOL,
	GT_UINT,
	GT_UINT32,
	GT_UINT64,
	GT_INT,
	GT_INT64,
	GT_DURATION, /* time.Duration: JSON nanoseconds */
	GT_STRINGS,  /* []string */
	GT_SECURITY, /* embed.securityConfig */
};

struct file_key {
	const char *key;
	enum gotype type;
	const char *flag; /* the flag row it sets; NULL: the key's own name */
};

/* embed.Config and its configJSON (json tags of etcd 3.4's embed/config.go).
 * The top-level cert-file and friends are not in it: TLS comes in the two
 * *-transport-security maps. */
static const struct file_key embed_keys[] = {
	{"advertise-client-urls", GT_STRING, NULL},
	{"auth-token", GT_STRING, NULL},
	{"auth-token-ttl", GT_UINT, NULL},
	{"auto-compaction-mode", GT_STRING, NULL},
	{"auto-compaction-retention", GT_STRING, NULL},
	{"backend-batch-interval", GT_DURATION, NULL},
	{"backend-batch-limit", GT_INT, NULL},
	{"bcrypt-cost", GT_UINT, NULL},
	{"cipher-suites", GT_STRINGS, NULL},
	{"client-transport-security", GT_SECURITY, ""},
	{"cors", GT_STRING, NULL},
	{"data-dir", GT_STRING, NULL},
	{"debug", GT_BOOL, NULL},
	{"discovery", GT_STRING, NULL},
	{"discovery-proxy", GT_STRING, NULL},
	{"discovery-srv", GT_STRING, NULL},
	{"discovery-srv-name", GT_STRING, NULL},
	{"election-timeout", GT_UINT, NULL},
	{"enable-grpc-gateway", GT_BOOL, NULL},
	{"enable-pprof", GT_BOOL, NULL},
	{"enable-v2", GT_BOOL, NULL},
	{"experimental-backend-bbolt-freelist-type", GT_STRING, NULL},
	{"experimental-compaction-batch-limit", GT_INT, NULL},
	{"experimental-corrupt-check-time", GT_DURATION, NULL},
	{"experimental-enable-lease-checkpoint", GT_BOOL, NULL},
	{"experimental-enable-lease-checkpoint-persist", GT_BOOL, NULL},
	{"experimental-enable-v2v3", GT_STRING, NULL},
	{"experimental-initial-corrupt-check", GT_BOOL, NULL},
	{"experimental-warning-apply-duration", GT_DURATION, NULL},
	{"experimental-watch-progress-notify-interval", GT_DURATION, NULL},
	{"force-new-cluster", GT_BOOL, NULL},
	{"grpc-keepalive-interval", GT_DURATION, NULL},
	{"grpc-keepalive-min-time", GT_DURATION, NULL},
	{"grpc-keepalive-timeout", GT_DURATION, NULL},
	{"heartbeat-interval", GT_UINT, NULL},
	{"host-whitelist", GT_STRING, NULL},
	{"initial-advertise-peer-urls", GT_STRING, NULL},
	{"initial-cluster", GT_STRING, NULL},
	{"initial-cluster-state", GT_STRING, NULL},
	{"initial-cluster-token", GT_STRING, NULL},
	{"initial-election-tick-advance", GT_BOOL, NULL},
	{"listen-client-http-urls", GT_STRING, NULL},
	{"listen-client-urls", GT_STRING, NULL},
	{"listen-metrics-urls", GT_STRING, NULL},
	{"listen-peer-urls", GT_STRING, NULL},
	{"log-level", GT_STRING, NULL},
	{"log-output", GT_STRINGS, NULL},
	{"log-outputs", GT_STRINGS, NULL},
	{"log-package-levels", GT_STRING, NULL},
	{"logger", GT_STRING, NULL},
	{"max-concurrent-streams", GT_UINT32, NULL},
	{"max-request-bytes", GT_UINT, NULL},
	{"max-snapshots", GT_UINT, NULL},
	{"max-txn-ops", GT_UINT, NULL},
	{"max-wals", GT_UINT, NULL},
	{"metrics", GT_STRING, NULL},
	{"name", GT_STRING, NULL},
	{"next-cluster-version-compatible", GT_BOOL, NULL},
	{"peer-transport-security", GT_SECURITY, "peer-"},
	{"pre-vote", GT_BOOL, NULL},
	{"quota-backend-bytes", GT_INT64, NULL},
	{"snapshot-count", GT_UINT64, NULL},
	{"strict-reconfig-check", GT_BOOL, NULL},
	{"tls-max-version", GT_STRING, NULL},
	{"tls-min-version", GT_STRING, NULL},
	{"unsafe-no-fsync", GT_BOOL, NULL},
	{"wal-dir", GT_STRING, NULL},
};

/* embed's securityConfig; the flag is the map's prefix plus the key */
static const struct file_key security_keys[] = {
	{"auto-tls", GT_BOOL, NULL},	      {"cert-file", GT_STRING, NULL},
	{"client-cert-auth", GT_BOOL, NULL},  {"key-file", GT_STRING, NULL},
	{"trusted-ca-file", GT_STRING, NULL},
};

/* etcdmain's configProxy, read from the same file afterwards */
static const struct file_key proxy_keys[] = {
	{"discovery-fallback", GT_STRING, NULL}, {"proxy", GT_STRING, NULL},
	{"proxy-dial-timeout", GT_UINT, NULL},	 {"proxy-failure-wait", GT_UINT, NULL},
	{"proxy-read-timeout", GT_UINT, NULL},	 {"proxy-refresh-interval", GT_UINT, NULL},
	{"proxy-write-timeout", GT_UINT, NULL},
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static const char *gotype_name(enum gotype t)
{
	switch (t) {
	case GT_STRING:
		return "string";
	case GT_BOOL:
		return "bool";
	case GT_UINT:
		return "uint";
	case GT_UINT32:
		return "uint32";
	case GT_UINT64:
		return "uint64";
	case GT_INT:
		return "int";
	case GT_INT64:
		return "int64";
	case GT_DURATION:
		return "time.Duration";
	case GT_STRINGS:
		return "[]string";
	case GT_SECURITY:
		return "embed.securityConfig";
	}
	return "?";
}

/* ---- go-yaml v2's view of a node ---------------------------------------- */

enum jkind {
	J_NULL,
	J_BOOL,
	J_INT,
	J_FLOAT,
	J_STRING,
	J_ARRAY,
	J_OBJECT
};

struct jval {
	enum jkind kind;
	bool b;
	char num[64]; /* J_INT, J_FLOAT: the JSON text Go would marshal */
	const char *str;
	yaml_node_t *node;
};

static bool in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

/* go-yaml v2 resolve(): the numeric forms of a plain scalar. */
static bool resolve_number(const char *s, struct jval *v)
{
	char plain[64];
	size_t n = 0;

	if (!strchr("+-.0123456789", s[0]))
		return false;
	for (const char *p = s; *p; p++)
		if (*p != '_') {
			if (n + 1 >= sizeof plain)
				return false;
			plain[n++] = *p;
		}
	plain[n] = '\0';
	char *end;
	errno = 0;
	bool neg = plain[0] == '-';
	const char *digits = plain + (plain[0] == '-' || plain[0] == '+');
	if (strncmp(digits, "0b", 2) == 0 || strncmp(digits, "0o", 2) == 0 ||
	    strncmp(digits, "0x", 2) == 0 || (digits[0] >= '0' && digits[0] <= '9')) {
		int base = strncmp(digits, "0b", 2) == 0 ? 2 :
			   strncmp(digits, "0o", 2) == 0 ? 8 :
							   0;
		const char *from = base ? digits + 2 : plain;
		if (base && neg) /* strtoll with base 2/8 does not take a prefix */
			from = NULL;
		if (from && *from) {
			long long i = strtoll(from, &end, base);
			if (*end == '\0' && errno == 0) {
				v->kind = J_INT;
				snprintf(v->num, sizeof v->num, "%lld", i);
				return true;
			}
			errno = 0;
			unsigned long long u = strtoull(from, &end, base);
			if (!neg && *end == '\0' && errno == 0) {
				v->kind = J_INT;
				snprintf(v->num, sizeof v->num, "%llu", u);
				return true;
			}
		}
	}
	errno = 0;
	double d = strtod(plain, &end);
	if (*end != '\0' || end == plain || errno != 0 || !isfinite(d) || strpbrk(plain, "xXnNiI"))
		return false;
	v->kind = J_FLOAT;
	/* encoding/json writes a float in 'f' form below 1e21 (up to 1e18 here) */
	if (d > -1e18 && d < 1e18 && d == (double)(long long)d)
		snprintf(v->num, sizeof v->num, "%.0f", d);
	else
		snprintf(v->num, sizeof v->num, "%.17g", d);
	return true;
}

static struct jval to_jval(yaml_node_t *node)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
	static const char *const trues[] = {"y",    "Y",    "yes", "Yes", "YES", "true",
					    "True", "TRUE", "on",  "On",  "ON",	 NULL};
	static const char *const falses[] = {"n",     "N",     "no",  "No",  "NO",  "false",
					     "False", "FALSE", "off", "Off", "OFF", NULL};
	struct jval v = {.kind = J_NULL, .node = node};

	if (!node)
		return v;
	if (node->type == YAML_SEQUENCE_NODE) {
		v.kind = J_ARRAY;
		return v;
	}
	if (node->type == YAML_MAPPING_NODE) {
		v.kind = J_OBJECT;
		return v;
	}
	const char *s = (const char *)node->data.scalar.value;
	v.str = s;
	v.kind = J_STRING;
	if (node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return v;
	if (in_list(s, nulls))
		v.kind = J_NULL;
	else if (in_list(s, trues))
		v.kind = J_BOOL, v.b = true;
	else if (in_list(s, falses))
		v.kind = J_BOOL, v.b = false;
	else if (!resolve_number(s, &v))
		v.kind = J_STRING;
	return v;
}

static const char *jkind_name(enum jkind k)
{
	static const char *const names[] = {"null",   "bool",  "number", "number",
					    "string", "array", "object"};
	return names[k];
}

/* ---- decoding, as encoding/json would ----------------------------------- */

struct decoder {
	struct config *c;
	yaml_document_t *doc;
	const char *strct;    /* the Go struct the fields are in, for messages */
	const char *prefix;   /* the field path so far, "" at the top */
	const char *flag_pfx; /* prefix of the flag rows (securityConfig) */
	char *err;
	size_t cap;
};

static int type_error(struct decoder *d, const char *what, const char *key, const char *type)
{
	errbuf_printf(d->err, d->cap,
		      "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal %s "
		      "into Go struct field %s.%s%s of type %s",
		      what, d->strct, d->prefix, key, type);
	return -1;
}

/* The value text a setter takes, or NULL when v leaves the field as it
 * is (null). -1: a type error (in d->err). */
static int scalar_text(struct decoder *d, const struct file_key *k, const struct jval *v, char *out,
		       size_t cap, const char **text)
{
	*text = NULL;
	if (v->kind == J_NULL)
		return 0;
	switch (k->type) {
	case GT_STRING:
		if (v->kind != J_STRING)
			return type_error(d, jkind_name(v->kind), k->key, "string");
		*text = v->str;
		return 0;
	case GT_BOOL:
		if (v->kind != J_BOOL)
			return type_error(d, jkind_name(v->kind), k->key, "bool");
		*text = v->b ? "true" : "false";
		return 0;
	default:
		break;
	}
	if (v->kind != J_INT && v->kind != J_FLOAT)
		return type_error(d, jkind_name(v->kind), k->key, gotype_name(k->type));
	bool is_unsigned = k->type == GT_UINT || k->type == GT_UINT32 || k->type == GT_UINT64;
	char *end;
	errno = 0;
	if (is_unsigned) {
		unsigned long long u = strtoull(v->num, &end, 10);
		bool ok = *end == '\0' && errno == 0 && v->num[0] != '-' &&
			  (k->type != GT_UINT32 || u <= UINT32_MAX);
		if (!ok)
			goto bad_number;
	} else {
		strtoll(v->num, &end, 10);
		if (*end != '\0' || errno != 0)
			goto bad_number;
	}
	snprintf(out, cap, k->type == GT_DURATION ? "%sns" : "%s", v->num);
	*text = out;
	return 0;
bad_number : {
	char what[80];
	snprintf(what, sizeof what, "number %s", v->num);
	return type_error(d, what, k->key, gotype_name(k->type));
}
}

/* []string: the elements joined with commas, as the flag takes them. */
static int strings_text(struct decoder *d, const struct file_key *k, const struct jval *v,
			struct buf *out, bool *given)
{
	*given = false;
	if (v->kind == J_NULL)
		return 0;
	if (v->kind != J_ARRAY)
		return type_error(d, jkind_name(v->kind), k->key, "[]string");
	for (yaml_node_item_t *it = v->node->data.sequence.items.start;
	     it < v->node->data.sequence.items.top; it++) {
		struct jval e = to_jval(yaml_document_get_node(d->doc, *it));
		if (e.kind != J_STRING && e.kind != J_NULL)
			return type_error(d, jkind_name(e.kind), k->key, "string");
		if (out->len)
			buf_append(out, ",", 1);
		if (e.kind == J_STRING)
			buf_append(out, e.str, strlen(e.str));
	}
	*given = true;
	return 0;
}

/* The keys whose empty value etcd skips (it only parses a non-empty
 * string into URLs or a set). */
static bool empty_means_unset(const char *key)
{
	static const char *const keys[] = {"listen-peer-urls",
					   "listen-client-urls",
					   "listen-client-http-urls",
					   "initial-advertise-peer-urls",
					   "advertise-client-urls",
					   "listen-metrics-urls",
					   "cors",
					   "host-whitelist",
					   "proxy",
					   "discovery-fallback",
					   NULL};
	return in_list(key, keys);
}

/* etcd's own words, and way out, when a value does not take. */
static int set_error(struct decoder *d, const char *key, const char *value, const char *why)
{
	if (strcmp(key, "initial-cluster-state") == 0) { /* embed.Config.Validate */
		char *q = go_quoted(value);
		errbuf_printf(d->err, d->cap, "unexpected clusterState %s", q);
		free(q);
		return CONFIG_FILE_INVALID;
	}
	if (strcmp(key, "proxy") == 0 || strcmp(key, "discovery-fallback") == 0) {
		errbuf_printf(d->err, d->cap, "unexpected error setting up %s: %s",
			      key[0] == 'p' ? "proxyFlag" : "discovery-fallback flag", why);
		return CONFIG_FILE_LOGGED;
	}
	if (strcmp(key, "cors") == 0) {
		errbuf_printf(d->err, d->cap, "new UniqueURLs should never fail: %s", why);
		return CONFIG_FILE_PANIC;
	}
	/* sic: etcd 3.4 names the advertise client URLs "advertise-peer-urls" */
	errbuf_printf(d->err, d->cap, "unexpected error setting up %s: %s",
		      strcmp(key, "advertise-client-urls") == 0 ? "advertise-peer-urls" : key, why);
	return CONFIG_FILE_STDERR;
}

static int set_flag(struct decoder *d, const struct file_key *k, const char *value)
{
	char name[128], why[768];
	snprintf(name, sizeof name, "%s%s", d->flag_pfx, k->flag ? k->flag : k->key);
	const struct flag_def *f = flag_lookup(name, strlen(name));
	if (!f)
		return 0; /* a key of etcd's struct with no flag: nothing to set */
	if (!*value && empty_means_unset(k->key))
		return 0;
	if (config_set_value(d->c, f, value, why, sizeof why) < 0)
		return set_error(d, k->key, value, why);
	struct config_flag_state *st = flag_state(d->c, f);
	st->origin = ORIGIN_FILE;
	set_str(&st->raw, value);
	return 0;
}

static int decode_object(struct decoder *d, yaml_node_t *map, const struct file_key *keys,
			 size_t n_keys);

static int decode_field(struct decoder *d, const struct file_key *k, yaml_node_t *node)
{
	struct jval v = to_jval(node);
	if (k->type == GT_SECURITY) {
		if (v.kind == J_NULL)
			return 0;
		if (v.kind != J_OBJECT)
			return type_error(d, jkind_name(v.kind), k->key, gotype_name(k->type));
		char path[128];
		snprintf(path, sizeof path, "%s.", k->key);
		struct decoder sub = *d;
		sub.strct = "securityConfig";
		sub.prefix = path;
		sub.flag_pfx = k->flag;
		return decode_object(&sub, node, security_keys, N_OF(security_keys));
	}
	if (k->type == GT_STRINGS) {
		struct buf b = BUF_INIT;
		bool given;
		int rc = strings_text(d, k, &v, &b, &given);
		if (rc == 0 && given) {
			buf_append(&b, "", 0);
			rc = set_flag(d, k, b.data ? (char *)b.data : "");
		}
		buf_free(&b);
		return rc;
	}
	char num[80];
	const char *text;
	if (scalar_text(d, k, &v, num, sizeof num, &text) < 0)
		return -1;
	return text ? set_flag(d, k, text) : 0;
}

/* A mapping key as go-yaml gives it to JSON: the scalar's text. */
static const char *key_text(yaml_document_t *doc, yaml_node_pair_t *p)
{
	yaml_node_t *k = yaml_document_get_node(doc, p->key);
	return k && k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : "";
}

struct sorted_pair {
	const char *key;
	yaml_node_pair_t *pair;
};

static int cmp_pairs(const void *a, const void *b)
{
	const struct sorted_pair *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	/* a repeated key: the later one wins, as in the map go-yaml builds */
	return c ? c : (x->pair < y->pair ? -1 : x->pair > y->pair);
}

/* The object's fields in JSON (sorted) order, each to the known key it
 * names (encoding/json: case-insensitively); the first error stops. */
static int decode_object(struct decoder *d, yaml_node_t *map, const struct file_key *keys,
			 size_t n_keys)
{
	size_t n = (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
	struct sorted_pair *pairs = xcalloc(n ? n : 1, sizeof *pairs);
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		pairs[i].pair = map->data.mapping.pairs.start + i;
		pairs[i].key = key_text(d->doc, pairs[i].pair);
	}
	qsort(pairs, n, sizeof *pairs, cmp_pairs);
	for (size_t i = 0; i < n && rc == 0; i++) {
		/* a repeated key counts once, with its last value */
		if (i + 1 < n && strcmp(pairs[i].key, pairs[i + 1].key) == 0)
			continue;
		const struct file_key *k = NULL;
		for (size_t j = 0; j < n_keys && !k; j++)
			if (strcmp(keys[j].key, pairs[i].key) == 0)
				k = &keys[j];
		for (size_t j = 0; j < n_keys && !k; j++)
			if (strcasecmp(keys[j].key, pairs[i].key) == 0)
				k = &keys[j];
		if (k)
			rc = decode_field(d, k,
					  yaml_document_get_node(d->doc, pairs[i].pair->value));
	}
	free(pairs);
	return rc;
}

/* ---- the file ------------------------------------------------------------ */

/* go-yaml v2's parser.fail(): "yaml: line N: problem". */
static void yaml_error(const yaml_parser_t *p, char *err, size_t cap)
{
	size_t line = 0;
	if (p->problem_mark.line != 0)
		line = p->problem_mark.line + (p->error == YAML_SCANNER_ERROR);
	else if (p->context_mark.line != 0)
		line = p->context_mark.line;
	const char *problem = p->problem ? p->problem : "unknown problem parsing YAML content";
	if (line)
		errbuf_printf(err, cap, "error converting YAML to JSON: yaml: line %zu: %s", line,
			      problem);
	else
		errbuf_printf(err, cap, "error converting YAML to JSON: yaml: %s", problem);
}

static int decode_document(struct config *c, yaml_document_t *doc, char *err, size_t cap)
{
	yaml_node_t *root = yaml_document_get_root_node(doc);
	struct jval v = to_jval(root);

	if (v.kind == J_NULL)
		return 0; /* an empty file: the defaults */
	if (v.kind != J_OBJECT) {
		errbuf_printf(
			err, cap,
			"error unmarshaling JSON: while decoding JSON: json: cannot unmarshal "
			"%s into Go value of type embed.configYAML",
			jkind_name(v.kind));
		return -1;
	}
	struct decoder d = {c, doc, "configYAML", "", "", err, cap};
	int rc = decode_object(&d, root, embed_keys, N_OF(embed_keys));
	if (rc != CONFIG_FILE_OK)
		return rc;
	d.strct = "configProxy";
	return decode_object(&d, root, proxy_keys, N_OF(proxy_keys));
}

/* Go's syscall.Errno text: the C library's, first letter in lower case. */
static void go_errno_text(int e, char *out, size_t cap)
{
	snprintf(out, cap, "%s", strerror(e));
	if (out[0] >= 'A' && out[0] <= 'Z')
		out[0] = (char)(out[0] - 'A' + 'a');
}

/* ioutil.ReadFile's errors: "open PATH: why", "read PATH: why". */
static FILE *open_file(const char *path, char *err, size_t cap)
{
	char why[128];
	FILE *f = fopen(path, "rb");
	struct stat st;

	if (!f) {
		go_errno_text(errno, why, sizeof why);
		errbuf_printf(err, cap, "open %s: %s", path, why);
		return NULL;
	}
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		go_errno_text(EISDIR, why, sizeof why);
		errbuf_printf(err, cap, "read %s: %s", path, why);
		fclose(f);
		return NULL;
	}
	return f;
}

enum config_file_rc config_load_file(struct config *c, const char *path, char *err, size_t cap)
{
	FILE *f = open_file(path, err, cap);
	if (!f)
		return CONFIG_FILE_INVALID;
	yaml_parser_t parser;
	yaml_document_t doc;
	int rc = -1;

	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		yaml_error(&parser, err, cap);
	} else {
		rc = decode_document(c, &doc, err, cap);
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&parser);
	fclose(f);
	return rc;
}
