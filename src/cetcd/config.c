/* config.c - the engine: etcd 3.4's command line (Go's flag.FlagSet
 * parseOne: -f, --f, -f=v, -f v, bools, "--", -h/--help) and its ETCD_*
 * variables (pkg/flags.SetFlagsFromEnv + verifyEnv), with the precedence
 * cetcd promises: a flag beats its variable, which beats the default; or,
 * with --config-file / ETCD_CONFIG_FILE, etcd's YAML file instead of both
 * (config_file.c). Runs the steps of config_parse in etcd's order. Messages and exit statuses
 * were compared with etcd 3.4.23 itself (tests/unit/test_config.c pins
 * them). The flag table is config_table.c; setting one value is
 * config_value.c. */
#include "cetcd/config_private.h"

#include <stdlib.h>
#include <string.h>

#include "util/goparse.h"
#include "util/log.h"

struct config_flag_state *flag_state(const struct config *c, const struct flag_def *f)
{
	return &c->flags[f - flag_table];
}

void config_free(struct config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < flag_count; i++) {
		config_free_value(c, &flag_table[i]);
		if (c->flags) {
			free(c->flags[i].raw);
			strlist_free(&c->flags[i].seen);
		}
	}
	strlist_free(&c->cors);
	free(c->data_dir);
	c->data_dir = NULL;
	for (size_t i = 0; i < c->n_unsupported; i++)
		free(c->unsupported[i].value);
	free(c->unsupported);
	free(c->flags);
	memset(c, 0, sizeof *c);
}

bool config_is_set(const struct config *c, const char *flag)
{
	const struct flag_def *f = flag_lookup(flag, strlen(flag));

	return f && c->flags && flag_state(c, f)->origin != ORIGIN_DEFAULT;
}

void config_flag_to_env(const char *flag, char *dst, size_t cap)
{
	size_t n = 0;

	if (!cap)
		return;
	for (const char *p = "ETCD_"; *p && n + 1 < cap; p++)
		dst[n++] = *p;
	for (const char *p = flag; *p && n + 1 < cap; p++) {
		char ch = *p == '-' ? '_' : *p;

		dst[n++] = (ch >= 'a' && ch <= 'z') ? (char)(ch - 'a' + 'A') : ch;
	}
	dst[n] = '\0';
}

/* A value was given for f, from the command line or the environment. */
static void note_given(struct config *c, const struct flag_def *f, enum origin o, const char *v)
{
	struct config_flag_state *st = flag_state(c, f);

	st->origin = o;
	set_str(&st->raw, v);
}

/* ------------------------------------------------------------------ */
/* The command line (Go's flag package)                                */

struct pstate {
	struct config *c;
	FILE *out, *err;
};

/* Go flag.FlagSet.failf + Usage: message, then etcd's usage line. */
static int flag_fail(struct pstate *ps, const char *msg)
{
	fprintf(ps->err, "%s\n", msg);
	fprintf(ps->err, "%s\n", config_usage_line);
	ps->c->exit_code = 2;
	return -1;
}

/* Go's "invalid boolean value %q for -flag: why" for bools and "invalid
 * value %q for flag -flag: why" for the rest. */
static int value_fail(struct pstate *ps, const char *v, const struct flag_def *f, const char *why)
{
	char msg[1024], *qv = go_quoted(v);

	if (f->type == FT_BOOL || f->type == FT_IGNORED)
		snprintf(msg, sizeof msg, "invalid boolean value %s for -%s: %s", qv, f->name, why);
	else
		snprintf(msg, sizeof msg, "invalid value %s for flag -%s: %s", qv, f->name, why);
	free(qv);
	return flag_fail(ps, msg);
}

/* Go flag.FlagSet.parseOne. Returns 1 = parsed a flag, 0 = stop (no more
 * flags; *idx at the first non-flag), -1 = error, 2 = help requested. */
static int parse_one(struct pstate *ps, int argc, char *const argv[], int *idx)
{
	const char *s, *name, *value = NULL;
	size_t nlen;
	const struct flag_def *f;
	char msg[1024], why[768];

	if (*idx >= argc)
		return 0;
	s = argv[*idx];
	if (strlen(s) < 2 || s[0] != '-')
		return 0;
	name = s + 1;
	if (s[1] == '-') {
		if (s[2] == '\0') { /* "--" terminates the flags */
			(*idx)++;
			return 0;
		}
		name = s + 2;
	}
	if (name[0] == '\0' || name[0] == '-' || name[0] == '=') {
		snprintf(msg, sizeof msg, "bad flag syntax: %s", s);
		return flag_fail(ps, msg);
	}
	(*idx)++;
	nlen = strlen(name);
	for (size_t i = 1; i < nlen; i++)
		if (name[i] == '=') {
			value = name + i + 1;
			nlen = i;
			break;
		}
	f = flag_lookup(name, nlen);
	if (!f) {
		if ((nlen == 4 && memcmp(name, "help", 4) == 0) || (nlen == 1 && name[0] == 'h'))
			return 2;
		snprintf(msg, sizeof msg, "flag provided but not defined: -%.*s", (int)nlen, name);
		return flag_fail(ps, msg);
	}
	if (f->type == FT_BOOL || f->type == FT_IGNORED) {
		if (!value)
			value = "true";
		if (config_set_value(ps->c, f, value, why, sizeof why) < 0)
			return value_fail(ps, value, f, why);
	} else {
		if (!value && *idx < argc)
			value = argv[(*idx)++];
		if (!value) {
			snprintf(msg, sizeof msg, "flag needs an argument: -%s", f->name);
			return flag_fail(ps, msg);
		}
		if (config_set_value(ps->c, f, value, why, sizeof why) < 0)
			return value_fail(ps, value, f, why);
	}
	note_given(ps->c, f, ORIGIN_FLAG, value);
	return 1;
}

/* ------------------------------------------------------------------ */
/* The environment (etcd pkg/flags.SetFlagsFromEnv + verifyEnv)         */

static const char *env_get(char *const envp[], const char *key)
{
	size_t n = strlen(key);

	for (size_t i = 0; envp && envp[i]; i++)
		if (strncmp(envp[i], key, n) == 0 && envp[i][n] == '=')
			return envp[i] + n + 1;
	return NULL;
}

static int cmp_flag_idx(const void *a, const void *b)
{
	return strcmp(flag_table[*(const size_t *)a].name, flag_table[*(const size_t *)b].name);
}

/* SetFlagsFromEnv: each flag not given on the command line takes its
 * non-empty ETCD_* variable, in flag-name order. Marks used[] per row.
 * Returns 0, or -1 with the last failing variable's message in err. */
static int env_set_flags(struct config *c, char *const envp[], bool *used, char *err, size_t cap)
{
	size_t *order = xcalloc(flag_count, sizeof *order);
	int rc = 0;

	for (size_t i = 0; i < flag_count; i++)
		order[i] = i;
	qsort(order, flag_count, sizeof order[0], cmp_flag_idx);
	for (size_t k = 0; k < flag_count; k++) {
		const struct flag_def *f = &flag_table[order[k]];
		char key[128], why[768];
		const char *v;

		if (flag_state(c, f)->origin == ORIGIN_FLAG)
			continue;
		config_flag_to_env(f->name, key, sizeof key);
		v = env_get(envp, key);
		if (!v || !*v)
			continue;
		used[order[k]] = true;
		if (config_set_value(c, f, v, why, sizeof why) < 0) {
			char *qv = go_quoted(v);

			errbuf_printf(err, cap, "invalid value %s for %s: %s", qv, key, why);
			free(qv);
			rc = -1;
			continue;
		}
		note_given(c, f, ORIGIN_ENV, v);
		log_info("pkg/flags", "recognized and used environment variable %s=%s", key, v);
	}
	free(order);
	return rc;
}

/* verifyEnv: warns about ETCD_* variables that were not used. A variable
 * shadowed by a command-line flag only warns: the flag wins (etcd exits). */
static void env_verify(const struct config *c, char *const envp[], const bool *used)
{
	for (size_t i = 0; envp && envp[i]; i++) {
		const char *e = envp[i], *eq = strchr(e, '=');
		size_t kn = eq ? (size_t)(eq - e) : strlen(e);
		bool is_used = false, shadowed = false;

		if (!eq)
			log_warn("pkg/flags", "found invalid env %s", e);
		for (size_t j = 0; j < flag_count; j++) {
			char key[128];

			config_flag_to_env(flag_table[j].name, key, sizeof key);
			if (strlen(key) != kn || memcmp(key, e, kn) != 0)
				continue;
			is_used = used[j];
			shadowed = c->flags[j].origin == ORIGIN_FLAG;
		}
		if (is_used)
			continue;
		if (shadowed) {
			char *k = xstrndup(e, kn), *qk = go_quoted(k);

			log_warn(
				"pkg/flags",
				"environment variable %s is shadowed by the corresponding command-line flag, which wins",
				qk);
			free(k);
			free(qk);
			continue;
		}
		if (strncmp(e, "ETCD_", 5) == 0)
			log_warn("pkg/flags", "unrecognized environment variable %s", e);
	}
}

static int apply_env(struct config *c, char *const envp[], char *err, size_t cap)
{
	bool *used = xcalloc(flag_count, sizeof *used);
	int rc;

	rc = env_set_flags(c, envp, used, err, cap);
	env_verify(c, envp, used);
	free(used);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Entry point                                                         */

/* etcdmain's error path: "error verifying flags, %v. See 'etcd --help'." */
static int verify_fail(struct pstate *ps, const char *msg, bool unset_ac)
{
	log_error("etcdmain", "error verifying flags, %s. See 'etcd --help'.", msg);
	if (unset_ac)
		log_error(
			"etcdmain",
			"When listening on specific address(es), this etcd process must advertise accessible url(s) to each connected client.");
	ps->c->exit_code = 1;
	return -1;
}

static int parse_args(struct pstate *ps, int argc, char *const argv[])
{
	int idx = 1, rc;

	while ((rc = parse_one(ps, argc, argv, &idx)) == 1)
		;
	if (rc < 0)
		return -1;
	if (rc == 2) { /* flag.ErrHelp: Usage to stderr, flag list to stdout */
		fprintf(ps->err, "%s\n", config_usage_line);
		config_print_help(ps->out);
		ps->c->exit_code = 0;
		return 1;
	}
	if (idx < argc) {
		char msg[1024];

		snprintf(msg, sizeof msg, "'%s' is not a valid flag", argv[idx]);
		return verify_fail(ps, msg, false);
	}
	return 0;
}

/* --config-file, else ETCD_CONFIG_FILE (read apart: the other variables
 * are ignored when there is a file). A new string, or NULL. */
static char *config_file_path(const struct config *c, char *const envp[])
{
	const char *v = c->config_file[0] ? c->config_file : env_get(envp, "ETCD_CONFIG_FILE");

	return v && *v ? xstrdup(v) : NULL;
}

/* etcd's configFromFile: the file replaces the command line and the
 * environment, over the defaults. Returns an enum config_file_rc. */
static int load_file(struct config *c, const char *path, char *err, size_t cap)
{
	config_free(c);
	config_init_defaults(c);
	const struct flag_def *f = flag_lookup("config-file", strlen("config-file"));
	config_set_value(c, f, path, err, cap);
	flag_state(c, f)->origin = ORIGIN_FLAG;

	enum config_file_rc rc = config_load_file(c, path, err, cap);
	if (rc != CONFIG_FILE_OK && rc != CONFIG_FILE_INVALID)
		return rc; /* etcd exits inside configFromFile */
	char *q = go_quoted(path);
	log_info(
		"etcdmain",
		"Loading server configuration from %s. Other configuration command line flags and environment variables will be ignored if provided.",
		q);
	free(q);
	if (rc == CONFIG_FILE_OK)
		config_derive_file(c);
	return rc;
}

/* The ways etcd ends on a bad configuration file. */
static int file_fail(struct pstate *ps, int rc, const char *msg)
{
	switch (rc) {
	case CONFIG_FILE_STDERR:
		fprintf(ps->err, "%s\n", msg);
		break;
	case CONFIG_FILE_LOGGED:
		log_info(NULL, "%s", msg);
		break;
	case CONFIG_FILE_PANIC:
		log_crit("pkg/flags", "%s", msg);
		fprintf(ps->err, "panic: %s\n", msg);
		ps->c->exit_code = 2;
		return -1;
	default:
		return verify_fail(ps, msg, false);
	}
	ps->c->exit_code = 1;
	return -1;
}

int config_parse(struct config *c, int argc, char *const argv[], char *const envp[], FILE *out,
		 FILE *err)
{
	struct pstate ps = {c, out ? out : stdout, err ? err : stderr};
	char msg[1024];
	int rc;

	config_init_defaults(c);
	rc = parse_args(&ps, argc, argv);
	if (rc != 0)
		return rc;
	if (c->print_version) {
		config_print_version(ps.out);
		c->exit_code = 0;
		return 1;
	}
	char *file = config_file_path(c, envp);
	if (file) {
		rc = load_file(c, file, msg, sizeof msg);
		free(file);
		if (rc < 0)
			return file_fail(&ps, rc, msg);
	} else {
		if (apply_env(c, envp, msg, sizeof msg) < 0)
			return verify_fail(&ps, msg, false);
		config_derive(c);
	}
	rc = config_validate(c, ps.err, msg, sizeof msg);
	if (rc != 0)
		return verify_fail(&ps, msg, rc == 1);
	config_finish(c);
	config_collect_unsupported(c);
	c->exit_code = 0;
	return 0;
}
