/* test_config.c - unit tests for src/cetcd/config*.c (etcd 3.4 flags +
 * ETCD_* env, validation, --initial-cluster, help) and the capnslog lines
 * of util/log.h they print.
 * Expected messages and exit codes were taken from etcd 3.4.23 itself.
 * Prints "N passed, N failed"; exits non-zero on any failure. */
#include "cetcd/config.h"
#include "util/log.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Log lines carry a fixed time (TZ=UTC in main): 2026-12-07 18:00:00.000042. */
#define STAMP "2026-12-07 18:00:00.000042 "

static int64_t fixed_clock(void)
{
	return 1796666400LL * 1000000000 + 42000;
}

#include "../lib/harness.h"

/* One config_parse run with captured stdout/stderr. */
struct run {
	struct config c;
	int rc;
	char *out, *err;
	size_t outn, errn;
};

#define MAXARGS 32

/* args: NULL-terminated list; env: NULL-terminated list or NULL. */
static void run_v(struct run *r, char **env, const char *first, va_list ap)
{
	char *argv[MAXARGS];
	int argc = 0;
	FILE *o, *e;

	argv[argc++] = (char *)"etcd";
	for (const char *a = first; a && argc < MAXARGS - 1; a = va_arg(ap, const char *))
		argv[argc++] = (char *)a;
	argv[argc] = NULL;
	memset(r, 0, sizeof *r);
	o = open_memstream(&r->out, &r->outn);
	e = open_memstream(&r->err, &r->errn);
	log_set_output(e);
	log_set_level(LOGL_INFO);
	r->rc = config_parse(&r->c, argc, argv, env, o, e);
	log_set_output(NULL);
	fclose(o);
	fclose(e);
}

static void run(struct run *r, const char *first, ...)
{
	va_list ap;
	char *env[] = {NULL};

	va_start(ap, first);
	run_v(r, env, first, ap);
	va_end(ap);
}

static void run_env(struct run *r, char **env, const char *first, ...)
{
	va_list ap;

	va_start(ap, first);
	run_v(r, env, first, ap);
	va_end(ap);
}

static void done(struct run *r)
{
	config_free(&r->c);
	free(r->out);
	free(r->err);
}

static bool has(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle) != NULL;
}

static char *join(const struct url_list *l)
{
	return url_list_join(l, ",");
}

static bool urls_are(const struct url_list *l, const char *want)
{
	char *s = join(l);
	bool ok = strcmp(s, want) == 0;

	if (!ok)
		fprintf(stderr, "  urls: got \"%s\" want \"%s\"\n", s, want);
	free(s);
	return ok;
}

static bool is_unsupported(const struct config *c, const char *flag)
{
	for (size_t i = 0; i < c->n_unsupported; i++)
		if (strcmp(c->unsupported[i].flag, flag) == 0)
			return true;
	return false;
}

/* A flag-syntax error: rc -1, exit 2, message + usage on err, nothing on out. */
static void expect_flag_error(const char *arg, const char *msg)
{
	struct run r;
	char want[512];

	run(&r, arg, NULL);
	snprintf(want, sizeof want, "%s\nUsage:\n\n  cetcd [flags]\n", msg);
	CHECK(r.rc == -1);
	CHECK(r.c.exit_code == 2);
	CHECK(r.errn > 0 && strncmp(r.err, want, strlen(want)) == 0);
	if (!(r.errn > 0 && strncmp(r.err, want, strlen(want)) == 0))
		fprintf(stderr, "  arg %s: got err: %.200s\n", arg, r.err);
	CHECK(r.outn == 0);
	done(&r);
}

/* A verification error: rc -1, exit 1, etcd's "error verifying flags" line. */
static void expect_verify_error2(struct run *r, const char *msg)
{
	char want[1024];

	snprintf(want, sizeof want, "E | etcdmain: error verifying flags, %s. See 'etcd --help'.\n",
		 msg);
	CHECK(r->rc == -1);
	CHECK(r->c.exit_code == 1);
	CHECK(has(r->err, want));
	if (!has(r->err, want))
		fprintf(stderr, "  want: %s  got: %s\n", want, r->err);
}

static void test_defaults(void)
{
	struct run r;

	run(&r, NULL);
	CHECK(r.rc == 0);
	CHECK(r.c.exit_code == 0);
	CHECK(strcmp(r.c.name, "default") == 0);
	CHECK(strcmp(r.c.data_dir, "default.etcd") == 0);
	CHECK(r.c.data_dir_defaulted);
	CHECK(has(r.err,
		  "W | etcdmain: no data-dir provided, using default data-dir ./default.etcd\n"));
	CHECK(strcmp(r.c.wal_dir, "") == 0);
	CHECK(r.c.snapshot_count == 10000);
	CHECK(r.c.heartbeat_ms == 100);
	CHECK(r.c.election_ms == 1000);
	CHECK(r.c.max_snapshots == 5 && r.c.max_wals == 5);
	CHECK(r.c.max_request_bytes == 1572864);
	CHECK(r.c.quota_backend_bytes == 0);
	CHECK(r.c.max_txn_ops == 128);
	CHECK(r.c.max_concurrent_streams == UINT32_MAX);
	CHECK(r.c.grpc_keepalive_min_time_ns == 5000000000LL);
	CHECK(r.c.grpc_keepalive_interval_ns == 7200000000000LL);
	CHECK(r.c.experimental_warning_apply_duration_ns == 100000000LL);
	CHECK(urls_are(&r.c.listen_client_urls, "http://localhost:2379"));
	CHECK(urls_are(&r.c.advertise_client_urls, "http://localhost:2379"));
	CHECK(urls_are(&r.c.listen_peer_urls, "http://localhost:2380"));
	CHECK(urls_are(&r.c.initial_advertise_peer_urls, "http://localhost:2380"));
	CHECK(r.c.listen_metrics_urls.n == 0);
	CHECK(strcmp(r.c.initial_cluster, "default=http://localhost:2380") == 0);
	CHECK(strcmp(r.c.initial_cluster_state, "new") == 0);
	CHECK(strcmp(r.c.initial_cluster_token, "etcd-cluster") == 0);
	CHECK(strcmp(r.c.proxy, "off") == 0);
	CHECK(strcmp(r.c.discovery_fallback, "proxy") == 0);
	CHECK(r.c.proxy_failure_wait_ms == 5000 && r.c.proxy_refresh_interval_ms == 30000);
	CHECK(r.c.proxy_dial_timeout_ms == 1000 && r.c.proxy_write_timeout_ms == 5000);
	CHECK(r.c.proxy_read_timeout_ms == 0);
	CHECK(r.c.strict_reconfig_check);
	CHECK(r.c.enable_v2);
	CHECK(!r.c.pre_vote && !r.c.debug && !r.c.force_new_cluster);
	CHECK(r.c.initial_election_tick_advance);
	CHECK(r.c.cors.n == 1 && strcmp(r.c.cors.v[0], "*") == 0);
	CHECK(r.c.host_whitelist.n == 1 && strcmp(r.c.host_whitelist.v[0], "*") == 0);
	CHECK(strcmp(r.c.logger, "capnslog") == 0 && strcmp(r.c.log_level, "info") == 0);
	CHECK(r.c.log_outputs.n == 1 && strcmp(r.c.log_outputs.v[0], "default") == 0);
	CHECK(strcmp(r.c.auth_token, "simple") == 0 && r.c.bcrypt_cost == 10 &&
	      r.c.auth_token_ttl == 300);
	CHECK(strcmp(r.c.metrics, "basic") == 0 && r.c.enable_grpc_gateway);
	CHECK(r.c.experimental_compaction_batch_limit == 1000);
	CHECK(r.c.cipher_suites.n == 0);
	CHECK(r.c.n_unsupported == 0);
	CHECK(!config_is_set(&r.c, "name"));
	CHECK(r.outn == 0);
	done(&r);
}

static void test_syntax_forms(void)
{
	static const char *forms[][2] = {
		{"-name", "x"},
		{"--name", "x"},
		{"-name=x", NULL},
		{"--name=x", NULL},
	};
	struct run r;

	for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
		run(&r, forms[i][0], forms[i][1], NULL);
		CHECK(r.rc == 0);
		CHECK(strcmp(r.c.name, "x") == 0);
		CHECK(config_is_set(&r.c, "name"));
		done(&r);
	}
	/* last occurrence wins */
	run(&r, "--name=a", "-name", "b", "--snapshot-count=7", "-snapshot-count", "9", NULL);
	CHECK(r.rc == 0 && strcmp(r.c.name, "b") == 0 && r.c.snapshot_count == 9);
	done(&r);
	/* value may start with '-' when separate */
	run(&r, "--name", "-x-", NULL);
	CHECK(r.rc == 0 && strcmp(r.c.name, "-x-") == 0);
	done(&r);
	/* '=' inside the value */
	run(&r, "--initial-cluster-token=a=b", NULL);
	CHECK(r.rc == 0 && strcmp(r.c.initial_cluster_token, "a=b") == 0);
	done(&r);
	/* empty value through '=' */
	run(&r, "--wal-dir=", "--data-dir", "/tmp/d", NULL);
	CHECK(r.rc == 0 && strcmp(r.c.wal_dir, "") == 0 && strcmp(r.c.data_dir, "/tmp/d") == 0);
	CHECK(!r.c.data_dir_defaulted);
	done(&r);
	/* "--" ends the flags: what follows is a stray argument */
	run(&r, "--name=a", "--", "--name=b", NULL);
	expect_verify_error2(&r, "'--name=b' is not a valid flag");
	CHECK(strcmp(r.c.name, "a") == 0);
	done(&r);
	/* "--" at the very end is fine */
	run(&r, "--name=a", "--", NULL);
	CHECK(r.rc == 0 && strcmp(r.c.name, "a") == 0);
	done(&r);
	/* positional arguments */
	run(&r, "stray", NULL);
	expect_verify_error2(&r, "'stray' is not a valid flag");
	CHECK(r.outn == 0);
	done(&r);
	run(&r, "--name", "x", "stray", "--debug", NULL);
	expect_verify_error2(&r, "'stray' is not a valid flag");
	CHECK(!r.c.debug); /* Go stops at the first non-flag */
	done(&r);
	run(&r, "-", NULL);
	expect_verify_error2(&r, "'-' is not a valid flag");
	done(&r);
}

static void test_bools(void)
{
	static const char *trues[] = {"1", "t", "T", "TRUE", "true", "True"};
	static const char *falses[] = {"0", "f", "F", "FALSE", "false", "False"};
	char arg[64];
	struct run r;

	run(&r, "--force-new-cluster", "-debug", "--enable-v2", NULL);
	CHECK(r.rc == 0 && r.c.force_new_cluster && r.c.debug && r.c.enable_v2);
	done(&r);
	for (size_t i = 0; i < 6; i++) {
		snprintf(arg, sizeof arg, "--pre-vote=%s", trues[i]);
		run(&r, arg, NULL);
		CHECK(r.rc == 0 && r.c.pre_vote);
		done(&r);
		snprintf(arg, sizeof arg, "--strict-reconfig-check=%s", falses[i]);
		run(&r, arg, NULL);
		CHECK(r.rc == 0 && !r.c.strict_reconfig_check);
		done(&r);
	}
	/* a bool never takes the next argument */
	run(&r, "--force-new-cluster", "false", NULL);
	expect_verify_error2(&r, "'false' is not a valid flag");
	done(&r);
	expect_flag_error("--enable-v2=maybe",
			  "invalid boolean value \"maybe\" for -enable-v2: parse error");
	expect_flag_error("--enable-v2=", "invalid boolean value \"\" for -enable-v2: parse error");
	expect_flag_error("-debug=yes", "invalid boolean value \"yes\" for -debug: parse error");
}

static void test_bad_syntax(void)
{
	struct run r;

	expect_flag_error("--foo", "flag provided but not defined: -foo");
	expect_flag_error("-foo=1", "flag provided but not defined: -foo");
	expect_flag_error("--Name=x", "flag provided but not defined: -Name");
	expect_flag_error("---name=x", "bad flag syntax: ---name=x");
	expect_flag_error("-=x", "bad flag syntax: -=x");
	expect_flag_error("--=x", "bad flag syntax: --=x");
	expect_flag_error("--name", "flag needs an argument: -name");
	expect_flag_error("-snapshot-count", "flag needs an argument: -snapshot-count");
	/* the whole usage text follows the message */
	run(&r, "--foo", NULL);
	CHECK(has(r.err, "  cetcd -h | --help\n    Show the help information about cetcd"));
	done(&r);
	/* an error stops parsing: later flags are not looked at */
	run(&r, "--foo", "--version", NULL);
	CHECK(r.rc == -1 && r.c.exit_code == 2 && r.outn == 0);
	done(&r);
}

static void test_numbers(void)
{
	struct run r;

	expect_flag_error("--snapshot-count=abc",
			  "invalid value \"abc\" for flag -snapshot-count: parse error");
	expect_flag_error("--snapshot-count=-1",
			  "invalid value \"-1\" for flag -snapshot-count: parse error");
	expect_flag_error("--snapshot-count=+1",
			  "invalid value \"+1\" for flag -snapshot-count: parse error");
	expect_flag_error("--snapshot-count=",
			  "invalid value \"\" for flag -snapshot-count: parse error");
	expect_flag_error("--snapshot-count= 5",
			  "invalid value \" 5\" for flag -snapshot-count: parse error");
	expect_flag_error("--snapshot-count=1.5",
			  "invalid value \"1.5\" for flag -snapshot-count: parse error");
	expect_flag_error(
		"--snapshot-count=99999999999999999999",
		"invalid value \"99999999999999999999\" for flag -snapshot-count: value out of range");
	expect_flag_error("--max-wals=_1", "invalid value \"_1\" for flag -max-wals: parse error");
	expect_flag_error("--max-wals=1__0",
			  "invalid value \"1__0\" for flag -max-wals: parse error");
	expect_flag_error("--max-wals=09", "invalid value \"09\" for flag -max-wals: parse error");
	expect_flag_error("--quota-backend-bytes=abc",
			  "invalid value \"abc\" for flag -quota-backend-bytes: parse error");
	expect_flag_error(
		"--quota-backend-bytes=9223372036854775808",
		"invalid value \"9223372036854775808\" for flag -quota-backend-bytes: value out of range");
	expect_flag_error("--backend-batch-limit=abc",
			  "invalid value \"abc\" for flag -backend-batch-limit: parse error");
	expect_flag_error(
		"--max-concurrent-streams=abc",
		"invalid value \"abc\" for flag -max-concurrent-streams: strconv.ParseUint: parsing \"abc\": invalid syntax");
	expect_flag_error(
		"--max-concurrent-streams=4294967296",
		"invalid value \"4294967296\" for flag -max-concurrent-streams: strconv.ParseUint: parsing \"4294967296\": value out of range");

	/* Go base-0 integers */
	run(&r, "--snapshot-count=0x10", "--max-wals=1_000", "--max-snapshots=010",
	    "--max-txn-ops=0b101", "--bcrypt-cost=0o17", "--quota-backend-bytes=-5",
	    "--backend-batch-limit=+3", "--max-concurrent-streams=0x10", "--snapshot-count",
	    "18446744073709551615", NULL);
	CHECK(r.rc == 0);
	CHECK(r.c.snapshot_count == UINT64_MAX);
	CHECK(r.c.max_wals == 1000 && r.c.max_snapshots == 8 && r.c.max_txn_ops == 5);
	CHECK(r.c.bcrypt_cost == 15 && r.c.quota_backend_bytes == -5 &&
	      r.c.backend_batch_limit == 3);
	CHECK(r.c.max_concurrent_streams == 16);
	done(&r);
	run(&r, "--quota-backend-bytes=-9223372036854775808", "--max-snapshots=0", NULL);
	CHECK(r.rc == 0 && r.c.quota_backend_bytes == INT64_MIN && r.c.max_snapshots == 0);
	done(&r);
}

static void test_durations(void)
{
	struct run r;

	run(&r, "--grpc-keepalive-min-time=1h30m", "--grpc-keepalive-interval=1.5s",
	    "--grpc-keepalive-timeout=0", "--backend-batch-interval=-2ms",
	    "--experimental-corrupt-check-time=300us", "--experimental-warning-apply-duration=.5s",
	    NULL);
	CHECK(r.rc == 0);
	CHECK(r.c.grpc_keepalive_min_time_ns == 5400000000000LL);
	CHECK(r.c.grpc_keepalive_interval_ns == 1500000000LL);
	CHECK(r.c.grpc_keepalive_timeout_ns == 0);
	CHECK(r.c.backend_batch_interval_ns == -2000000LL);
	CHECK(r.c.experimental_corrupt_check_time_ns == 300000LL);
	CHECK(r.c.experimental_warning_apply_duration_ns == 500000000LL);
	done(&r);
	expect_flag_error("--grpc-keepalive-min-time=abc",
			  "invalid value \"abc\" for flag -grpc-keepalive-min-time: parse error");
	expect_flag_error("--grpc-keepalive-min-time=5",
			  "invalid value \"5\" for flag -grpc-keepalive-min-time: parse error");
	expect_flag_error("--grpc-keepalive-min-time=5x",
			  "invalid value \"5x\" for flag -grpc-keepalive-min-time: parse error");
	expect_flag_error("--grpc-keepalive-min-time=",
			  "invalid value \"\" for flag -grpc-keepalive-min-time: parse error");
	expect_flag_error("--grpc-keepalive-min-time=.s",
			  "invalid value \".s\" for flag -grpc-keepalive-min-time: parse error");
	expect_flag_error(
		"--grpc-keepalive-min-time=3000000h",
		"invalid value \"3000000h\" for flag -grpc-keepalive-min-time: parse error");
}

static void test_choices(void)
{
	struct run r;

	run(&r, "--initial-cluster-state=existing", "--proxy", "readonly",
	    "--discovery-fallback=exit", NULL);
	CHECK(r.rc == 0);
	CHECK(strcmp(r.c.initial_cluster_state, "existing") == 0);
	CHECK(strcmp(r.c.proxy, "readonly") == 0);
	CHECK(strcmp(r.c.discovery_fallback, "exit") == 0);
	CHECK(!is_unsupported(&r.c, "proxy") && !is_unsupported(&r.c, "discovery-fallback"));
	CHECK(!is_unsupported(&r.c, "initial-cluster-state"));
	done(&r);
	expect_flag_error("--initial-cluster-state=foo",
			  "invalid value \"foo\" for flag -initial-cluster-state: invalid value");
	expect_flag_error("--initial-cluster-state=New",
			  "invalid value \"New\" for flag -initial-cluster-state: invalid value");
	expect_flag_error("--proxy=bogus",
			  "invalid value \"bogus\" for flag -proxy: invalid value");
	expect_flag_error("--discovery-fallback=bogus",
			  "invalid value \"bogus\" for flag -discovery-fallback: invalid value");
}

static void test_env(void)
{
	struct run r;

	{
		char *env[] = {"PATH=/bin",
			       "ETCD_NAME=envname",
			       "ETCD_SNAPSHOT_COUNT=42",
			       "ETCD_ENABLE_V2=true",
			       "ETCD_LISTEN_CLIENT_URLS=http://127.0.0.1:1",
			       "ETCD_ADVERTISE_CLIENT_URLS=http://127.0.0.1:1",
			       NULL};

		run_env(&r, env, NULL);
		CHECK(r.rc == 0);
		CHECK(strcmp(r.c.name, "envname") == 0);
		CHECK(strcmp(r.c.data_dir, "envname.etcd") == 0);
		CHECK(strcmp(r.c.initial_cluster, "envname=http://localhost:2380") == 0);
		CHECK(r.c.snapshot_count == 42);
		CHECK(urls_are(&r.c.listen_client_urls, "http://127.0.0.1:1"));
		CHECK(config_is_set(&r.c, "name") && config_is_set(&r.c, "listen-client-urls"));
		CHECK(has(
			r.err,
			"I | pkg/flags: recognized and used environment variable ETCD_NAME=envname\n"));
		CHECK(!has(r.err, "PATH"));
		done(&r);
	}
	{ /* env and flag for the same setting: the flag wins (etcd 3.4 would
		 * exit; cetcd's contract is "flag wins"), with a warning */
		char *env[] = {"ETCD_NAME=x", NULL};

		run_env(&r, env, "--name", "y", NULL);
		CHECK(r.rc == 0);
		CHECK(strcmp(r.c.name, "y") == 0);
		CHECK(has(r.err, "W | pkg/flags: environment variable \"ETCD_NAME\" is shadowed by "
				 "the corresponding command-line flag, which wins\n"));
		done(&r);
	}
	{ /* an empty variable is shadowed the same way */
		char *env[] = {"ETCD_NAME=", NULL};

		run_env(&r, env, "--name=y", NULL);
		CHECK(r.rc == 0 && strcmp(r.c.name, "y") == 0);
		done(&r);
	}
	{ /* an unset flag with an env var of another flag: both apply */
		char *env[] = {"ETCD_SNAPSHOT_COUNT=5", NULL};

		run_env(&r, env, "--name=y", NULL);
		CHECK(r.rc == 0 && r.c.snapshot_count == 5 && strcmp(r.c.name, "y") == 0);
		done(&r);
	}
	{ /* unknown and empty ETCD_* variables: warnings in environment order */
		char *env[] = {"ETCD_FOO=bar", "ETCD_NAME=", "HOME=/root", "ETCDX=1", NULL};

		run_env(&r, env, NULL);
		CHECK(r.rc == 0);
		CHECK(has(r.err,
			  "W | pkg/flags: unrecognized environment variable ETCD_FOO=bar\n" STAMP
			  "W | pkg/flags: unrecognized environment variable ETCD_NAME=\n"));
		CHECK(!has(r.err, "HOME") && !has(r.err, "ETCDX"));
		CHECK(strcmp(r.c.name, "default") == 0);
		done(&r);
	}
	{ /* bad env values: "error verifying flags", exit 1, no usage */
		static const struct {
			const char *env, *msg;
		} bad[] = {
			{"ETCD_SNAPSHOT_COUNT=abc",
			 "invalid value \"abc\" for ETCD_SNAPSHOT_COUNT: parse error"},
			{"ETCD_ENABLE_V2=maybe",
			 "invalid value \"maybe\" for ETCD_ENABLE_V2: parse error"},
			{"ETCD_INITIAL_CLUSTER_STATE=foo",
			 "invalid value \"foo\" for ETCD_INITIAL_CLUSTER_STATE: invalid value"},
			{"ETCD_LISTEN_CLIENT_URLS=foo",
			 "invalid value \"foo\" for ETCD_LISTEN_CLIENT_URLS: URL scheme must be http, https, unix, or unixs: foo"},
			{"ETCD_HEARTBEAT_INTERVAL=99999999999999999999",
			 "invalid value \"99999999999999999999\" for ETCD_HEARTBEAT_INTERVAL: value out of range"},
			{"ETCD_GRPC_KEEPALIVE_TIMEOUT=1",
			 "invalid value \"1\" for ETCD_GRPC_KEEPALIVE_TIMEOUT: parse error"},
		};

		for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			char *env[] = {(char *)bad[i].env, NULL};

			run_env(&r, env, NULL);
			expect_verify_error2(&r, bad[i].msg);
			CHECK(!has(r.err, "Usage:"));
			done(&r);
		}
	}
	{ /* two bad variables: the last one in flag-name order is reported */
		char *env[] = {"ETCD_SNAPSHOT_COUNT=x", "ETCD_MAX_WALS=y", NULL};

		run_env(&r, env, NULL);
		expect_verify_error2(&r,
				     "invalid value \"x\" for ETCD_SNAPSHOT_COUNT: parse error");
		done(&r);
	}
	{ /* env bool is parsed as a value, "--version" is not taken from env */
		char *env[] = {"ETCD_DEBUG=1", "ETCD_FORCE_NEW_CLUSTER=False", NULL};

		run_env(&r, env, NULL);
		CHECK(r.rc == 0 && r.c.debug && !r.c.force_new_cluster);
		done(&r);
	}
	{ /* the first of duplicated variables wins (Go's os.Getenv) */
		char *env[] = {"ETCD_NAME=first", "ETCD_NAME=second", NULL};

		run_env(&r, env, NULL);
		CHECK(r.rc == 0 && strcmp(r.c.name, "first") == 0);
		done(&r);
	}
	{ /* NULL envp is allowed */
		char *argv[] = {"etcd", NULL};
		struct config c;
		FILE *devnull = fopen("/dev/null", "w");

		log_set_output(devnull);
		CHECK(config_parse(&c, 1, argv, NULL, devnull, devnull) == 0);
		log_set_output(NULL);
		config_free(&c);
		fclose(devnull);
	}
}

static void test_urls(void)
{
	struct url_list l;
	char err[512];
	struct run r;
	char *s;

	CHECK(url_list_parse(" http://127.0.0.2:2, HTTP://127.0.0.1:1 ,https://[::1]:3", &l, err,
			     sizeof err) == 0);
	CHECK(l.n == 3);
	CHECK(strcmp(l.v[0].str, "http://127.0.0.1:1") == 0); /* sorted, scheme lower-cased */
	CHECK(strcmp(l.v[1].str, "http://127.0.0.2:2") == 0);
	CHECK(strcmp(l.v[2].str, "https://[::1]:3") == 0);
	CHECK(strcmp(l.v[2].scheme, "https") == 0 && strcmp(l.v[2].host, "::1") == 0 &&
	      strcmp(l.v[2].port, "3") == 0);
	CHECK(strcmp(l.v[0].host, "127.0.0.1") == 0 && strcmp(l.v[0].port, "1") == 0);
	s = url_list_join(&l, ", ");
	CHECK(strcmp(s, "http://127.0.0.1:1, http://127.0.0.2:2, https://[::1]:3") == 0);
	free(s);
	url_list_free(&l);

	{
		static const struct {
			const char *in, *msg;
		} bad[] = {
			{"foo", "URL scheme must be http, https, unix, or unixs: foo"},
			{"", "URL scheme must be http, https, unix, or unixs: "},
			{"ftp://127.0.0.1:1",
			 "URL scheme must be http, https, unix, or unixs: ftp://127.0.0.1:1"},
			{"http://127.0.0.1",
			 "URL address does not have the form \"host:port\": http://127.0.0.1"},
			{"http://127.0.0.1:2379/x",
			 "URL must not contain a path: http://127.0.0.1:2379/x"},
			{"http://127.0.0.1:2379/",
			 "URL must not contain a path: http://127.0.0.1:2379/"},
			{"http://127.0.0.1:abc",
			 "parse \"http://127.0.0.1:abc\": invalid port \":abc\" after host"},
			{"http://a b:1",
			 "parse \"http://a b:1\": invalid character \" \" in host name"},
			{"://x", "parse \"://x\": missing protocol scheme"},
			{"127.0.0.1:2379",
			 "parse \"127.0.0.1:2379\": first path segment in URL cannot contain colon"},
			{"http://[::1:1", "parse \"http://[::1:1\": missing ']' in host"},
			{"http://a%20b:1", "parse \"http://a%20b:1\": invalid URL escape \"%20\""},
			{"http://a%zz:1", "parse \"http://a%zz:1\": invalid URL escape \"%zz\""},
			{"http://h:1/%zz", "parse \"http://h:1/%zz\": invalid URL escape \"%zz\""},
			{"http://1:2:3",
			 "URL address does not have the form \"host:port\": http://1:2:3"},
			{"http://127.0.0.1:1,", "URL scheme must be http, https, unix, or unixs: "},
		};

		for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			err[0] = 0;
			CHECK(url_list_parse(bad[i].in, &l, err, sizeof err) == -1);
			CHECK(strcmp(err, bad[i].msg) == 0);
			if (strcmp(err, bad[i].msg) != 0)
				fprintf(stderr, "  in %s: got %s\n", bad[i].in, err);
			CHECK(l.n == 0 && l.v == NULL);
		}
	}
	/* flag errors are flag-syntax errors (exit 2) */
	expect_flag_error(
		"--listen-client-urls=foo",
		"invalid value \"foo\" for flag -listen-client-urls: URL scheme must be http, https, unix, or unixs: foo");
	expect_flag_error(
		"--listen-peer-urls=http://127.0.0.1:2380/x",
		"invalid value \"http://127.0.0.1:2380/x\" for flag -listen-peer-urls: URL must not contain a path: http://127.0.0.1:2380/x");
	/* bind URLs must be IPs or localhost */
	run(&r, "--listen-client-urls=http://foo:2379", "--advertise-client-urls=http://foo:2379",
	    NULL);
	expect_verify_error2(&r, "expected IP in URL for binding (http://foo:2379)");
	done(&r);
	run(&r, "--listen-peer-urls=http://example.com:2380", NULL);
	expect_verify_error2(&r, "expected IP in URL for binding (http://example.com:2380)");
	done(&r);
	run(&r, "--listen-metrics-urls=http://example.com:2381", NULL);
	expect_verify_error2(&r, "expected IP in URL for binding (http://example.com:2381)");
	done(&r);
	/* advertise URLs may be host names but need a host */
	run(&r, "--initial-advertise-peer-urls=http://:2380", NULL);
	expect_verify_error2(
		&r,
		"--initial-advertise-peer-urls \"http://:2380\" must be \"host:port\" (unexpected empty host (http://:2380))");
	done(&r);
	run(&r, "--advertise-client-urls=http://:2379,http://a:1", NULL);
	expect_verify_error2(
		&r,
		"--advertise-client-urls \"http://:2379,http://a:1\" must be \"host:port\" (unexpected empty host (http://:2379))");
	done(&r);
	/* listen-client-urls alone: advertise URLs required (two lines) */
	run(&r, "--listen-client-urls=http://127.0.0.1:1", NULL);
	expect_verify_error2(
		&r,
		"--advertise-client-urls is required when --listen-client-urls is set explicitly");
	CHECK(has(
		r.err,
		"E | etcdmain: When listening on specific address(es), this etcd process must advertise accessible url(s) to each connected client.\n"));
	done(&r);
	/* ... unless acting as a proxy */
	run(&r, "--listen-client-urls=http://127.0.0.1:1", "--proxy=on", NULL);
	CHECK(r.rc == 0 && r.c.advertise_client_urls.n == 1);
	done(&r);
	/* lists, IPv6, sorting, duplicates kept as etcd does */
	run(&r, "--listen-client-urls=http://127.0.0.2:2,http://[::1]:1,http://localhost:3",
	    "--advertise-client-urls", "http://b.example:1,http://a.example:1", NULL);
	CHECK(r.rc == 0);
	CHECK(urls_are(&r.c.listen_client_urls,
		       "http://127.0.0.2:2,http://[::1]:1,http://localhost:3"));
	CHECK(urls_are(&r.c.advertise_client_urls, "http://a.example:1,http://b.example:1"));
	done(&r);
	/* etcd quirk: re-setting a value that is one of the current URLs is a no-op */
	run(&r, "--listen-client-urls=http://127.0.0.1:1,http://127.0.0.1:2",
	    "--listen-client-urls=http://127.0.0.1:1", "--advertise-client-urls=http://h:1", NULL);
	CHECK(r.rc == 0 &&
	      urls_are(&r.c.listen_client_urls, "http://127.0.0.1:1,http://127.0.0.1:2"));
	done(&r);
	run(&r, "--listen-client-urls=http://127.0.0.1:1",
	    "--listen-client-urls=http://127.0.0.1:2", "--advertise-client-urls=http://h:1", NULL);
	CHECK(r.rc == 0 && urls_are(&r.c.listen_client_urls, "http://127.0.0.1:2"));
	done(&r);
	/* empty value keeps the previous list but counts as set */
	run(&r, "--listen-client-urls=", NULL);
	expect_verify_error2(
		&r,
		"--advertise-client-urls is required when --listen-client-urls is set explicitly");
	CHECK(urls_are(&r.c.listen_client_urls, "http://localhost:2379"));
	done(&r);
	/* https listeners are served; unix ones are recorded as unsupported */
	run(&r, "--listen-client-urls=https://127.0.0.1:1", "--advertise-client-urls=https://h:1",
	    NULL);
	CHECK(r.rc == 0 && !is_unsupported(&r.c, "listen-client-urls"));
	done(&r);
	run(&r, "--listen-client-urls=unix://127.0.0.1:1", "--advertise-client-urls=http://h:1",
	    NULL);
	CHECK(r.rc == 0 && is_unsupported(&r.c, "listen-client-urls"));
	done(&r);
	run(&r, "--listen-client-urls=http://127.0.0.1:1", "--advertise-client-urls=http://h:1",
	    NULL);
	CHECK(r.rc == 0 && r.c.n_unsupported == 0);
	done(&r);
}

static void test_cors(void)
{
	struct run r;

	expect_flag_error(
		"--cors=http://example.com",
		"invalid value \"http://example.com\" for flag -cors: URL address does not have the form \"host:port\": http://example.com");
	run(&r, "--cors=http://b.com:80,http://a.com:443", NULL);
	CHECK(r.rc == 0 && r.c.cors.n == 2);
	CHECK(strcmp(r.c.cors.v[0], "http://a.com:443") == 0 &&
	      strcmp(r.c.cors.v[1], "http://b.com:80") == 0);
	done(&r);
	run(&r, "--cors=http://b.com:80", "--cors=*", NULL);
	CHECK(r.rc == 0 && r.c.cors.n == 2 && strcmp(r.c.cors.v[0], "*") == 0);
	done(&r);
}

static void test_initial_cluster(void)
{
	struct url_map cl;
	char err[512];
	struct run r;

	CHECK(config_initial_cluster_parse(
		      "a=http://127.0.0.1:1,b=http://127.0.0.1:2,a=http://10.0.0.1:3", &cl, err,
		      sizeof err) == 0);
	CHECK(cl.n == 3);
	CHECK(strcmp(cl.v[0].name, "a") == 0 && strcmp(cl.v[0].url.str, "http://127.0.0.1:1") == 0);
	CHECK(strcmp(cl.v[1].name, "b") == 0 && strcmp(cl.v[1].url.port, "2") == 0);
	CHECK(strcmp(cl.v[2].name, "a") == 0 && strcmp(cl.v[2].url.host, "10.0.0.1") == 0);
	url_map_free(&cl);
	CHECK(config_initial_cluster_parse(",,x=http://h:1,", &cl, err, sizeof err) == 0 &&
	      cl.n == 1);
	url_map_free(&cl);
	CHECK(config_initial_cluster_parse("", &cl, err, sizeof err) == 0 && cl.n == 0);
	CHECK(config_initial_cluster_parse("foo", &cl, err, sizeof err) == -1);
	CHECK(strcmp(err,
		     "error setting up initial cluster: URL scheme must be http, https, unix, or unixs: ") ==
	      0);
	CHECK(config_initial_cluster_parse("default=foo", &cl, err, sizeof err) == -1);
	CHECK(strcmp(err,
		     "error setting up initial cluster: URL scheme must be http, https, unix, or unixs: foo") ==
	      0);
	CHECK(config_initial_cluster_parse("a=http://127.0.0.1:1,default=http://localhost:2380/p",
					   &cl, err, sizeof err) == -1);
	CHECK(strcmp(err,
		     "error setting up initial cluster: URL must not contain a path: http://localhost:2380/p") ==
	      0);
	CHECK(cl.n == 0);

	/* --name recomputes the default initial cluster (etcd UpdateDefaultClusterFromName) */
	run(&r, "--name", "x", NULL);
	CHECK(r.rc == 0 && strcmp(r.c.initial_cluster, "x=http://localhost:2380") == 0);
	CHECK(strcmp(r.c.data_dir, "x.etcd") == 0);
	CHECK(config_initial_cluster_parse(r.c.initial_cluster, &cl, err, sizeof err) == 0);
	CHECK(config_check_initial_cluster(&r.c, &cl, err, sizeof err) == 0);
	url_map_free(&cl);
	done(&r);
	run(&r, "--name=x",
	    "--initial-advertise-peer-urls=http://127.0.0.1:2380,http://127.0.0.1:7001", NULL);
	CHECK(r.rc == 0 &&
	      strcmp(r.c.initial_cluster, "x=http://127.0.0.1:2380,x=http://127.0.0.1:7001") == 0);
	done(&r);
	/* name "default" with other advertise URLs keeps the default string (etcd does too) */
	run(&r, "--initial-advertise-peer-urls=http://127.0.0.2:2380", NULL);
	CHECK(r.rc == 0 && strcmp(r.c.initial_cluster, "default=http://localhost:2380") == 0);
	CHECK(config_initial_cluster_parse(r.c.initial_cluster, &cl, err, sizeof err) == 0);
	CHECK(config_check_initial_cluster(&r.c, &cl, err, sizeof err) == -1);
	CHECK(strcmp(err, "--initial-cluster has default=http://localhost:2380 but missing from "
			  "--initial-advertise-peer-urls=http://127.0.0.2:2380 (resolved urls: "
			  "\"http://127.0.0.2:2380\" != \"http://localhost:2380\")") == 0);
	url_map_free(&cl);
	done(&r);
	/* localhost and 127.0.0.1 are the same member URL after resolution */
	run(&r, "--initial-advertise-peer-urls=http://127.0.0.1:2380", NULL);
	CHECK(config_initial_cluster_parse(r.c.initial_cluster, &cl, err, sizeof err) == 0);
	CHECK(config_check_initial_cluster(&r.c, &cl, err, sizeof err) == 0);
	url_map_free(&cl);
	done(&r);
	/* advertise URL missing from the cluster */
	run(&r, "--initial-advertise-peer-urls=http://127.0.0.1:1,http://127.0.0.1:2",
	    "--initial-cluster=default=http://127.0.0.1:1,default=http://127.0.0.1:3", NULL);
	CHECK(config_initial_cluster_parse(r.c.initial_cluster, &cl, err, sizeof err) == 0);
	CHECK(config_check_initial_cluster(&r.c, &cl, err, sizeof err) == -1);
	CHECK(strcmp(err,
		     "--initial-cluster has default=http://127.0.0.1:3 but missing from "
		     "--initial-advertise-peer-urls=http://127.0.0.1:1,http://127.0.0.1:2 (resolved urls: "
		     "\"http://127.0.0.1:2\" != \"http://127.0.0.1:3\")") == 0);
	url_map_free(&cl);
	done(&r);
	/* explicit initial cluster is kept as given */
	run(&r, "--name=n1", "--initial-cluster=n1=http://127.0.0.1:1,n2=http://127.0.0.1:2",
	    "--initial-advertise-peer-urls=http://127.0.0.1:1", NULL);
	CHECK(r.rc == 0 &&
	      strcmp(r.c.initial_cluster, "n1=http://127.0.0.1:1,n2=http://127.0.0.1:2") == 0);
	CHECK(config_initial_cluster_parse(r.c.initial_cluster, &cl, err, sizeof err) == 0);
	CHECK(config_check_initial_cluster(&r.c, &cl, err, sizeof err) == 0);
	url_map_free(&cl);
	done(&r);
	/* local name missing */
	run(&r, "--initial-cluster=", NULL);
	CHECK(r.rc == 0 && strcmp(r.c.initial_cluster, "") == 0);
	CHECK(config_initial_cluster_parse(r.c.initial_cluster, &cl, err, sizeof err) == 0);
	CHECK(config_check_initial_cluster(&r.c, &cl, err, sizeof err) == -1);
	CHECK(strcmp(err,
		     "couldn't find local name \"default\" in the initial cluster configuration") ==
	      0);
	url_map_free(&cl);
	done(&r);
	/* length mismatch message */
	run(&r, "--initial-cluster=default=http://127.0.0.1:1,default=http://127.0.0.1:2", NULL);
	CHECK(r.rc == 0);
	CHECK(config_initial_cluster_parse(r.c.initial_cluster, &cl, err, sizeof err) == 0);
	CHECK(config_check_initial_cluster(&r.c, &cl, err, sizeof err) == -1);
	CHECK(strcmp(err,
		     "--initial-cluster has default=http://127.0.0.1:1,default=http://127.0.0.1:2 but missing from "
		     "--initial-advertise-peer-urls=http://localhost:2380 (len([\"http://localhost:2380\"]) != "
		     "len([\"http://127.0.0.1:1\" \"http://127.0.0.1:2\"]))") == 0);
	url_map_free(&cl);
	done(&r);
	/* discovery clears the default initial cluster, conflicts with an explicit one */
	run(&r, "--discovery=https://discovery.etcd.io/x", NULL);
	CHECK(r.rc == 0 && strcmp(r.c.initial_cluster, "") == 0 &&
	      !is_unsupported(&r.c, "discovery"));
	done(&r);
	run(&r, "--discovery=https://discovery.etcd.io/x",
	    "--initial-cluster=default=http://localhost:2380", NULL);
	expect_verify_error2(
		&r,
		"multiple discovery or bootstrap flags are set. Choose one of \"initial-cluster\", \"discovery\" or \"discovery-srv\"");
	done(&r);
}

static void test_validation(void)
{
	struct run r;

	run(&r, "--heartbeat-interval=0", NULL);
	expect_verify_error2(&r, "--heartbeat-interval must be >0 (set to 0ms)");
	done(&r);
	run(&r, "--election-timeout=0", NULL);
	expect_verify_error2(&r, "--election-timeout must be >0 (set to 0ms)");
	done(&r);
	run(&r, "--heartbeat-interval=99999999999", NULL);
	expect_verify_error2(
		&r,
		"--election-timeout[1000ms] should be at least as 5 times as --heartbeat-interval[99999999999ms]");
	done(&r);
	run(&r, "--heartbeat-interval=201", NULL);
	expect_verify_error2(
		&r,
		"--election-timeout[1000ms] should be at least as 5 times as --heartbeat-interval[201ms]");
	done(&r);
	run(&r, "--heartbeat-interval=200", NULL);
	CHECK(r.rc == 0);
	done(&r);
	run(&r, "--election-timeout=50001", NULL);
	expect_verify_error2(
		&r, "--election-timeout[50001ms] is too long, and should be set less than 50000ms");
	done(&r);
	run(&r, "--election-timeout=50000", NULL);
	CHECK(r.rc == 0);
	done(&r);
	run(&r, "--logger=foo", NULL);
	expect_verify_error2(&r, "unknown logger option \"foo\"");
	done(&r);
	run(&r, "--log-outputs=stderr,stdout", NULL);
	expect_verify_error2(
		&r,
		"--logger=capnslog supports only 1 value in '--log-outputs', got [\"stderr\" \"stdout\"]");
	done(&r);
	run(&r, "--log-outputs=/tmp/x", NULL);
	expect_verify_error2(
		&r,
		"unknown log-output \"/tmp/x\" (only supports \"default\", \"stderr\", \"stdout\")");
	done(&r);
	run(&r, "--log-outputs=stderr", "--log-level=debug", NULL);
	CHECK(r.rc == 0 && r.c.log_outputs.n == 1 && strcmp(r.c.log_level, "debug") == 0);
	done(&r);
	run(&r, "--auto-compaction-mode=foo", NULL);
	expect_verify_error2(&r, "unknown auto-compaction-mode \"foo\"");
	done(&r);
	run(&r, "--experimental-enable-lease-checkpoint-persist", NULL);
	expect_verify_error2(
		&r,
		"setting experimental-enable-lease-checkpoint-persist requires experimental-enable-lease-checkpoint");
	done(&r);
}

static void test_version_help(void)
{
	struct run r;

	run(&r, "--version", NULL);
	CHECK(r.rc == 1 && r.c.exit_code == 0);
	CHECK(r.out && strncmp(r.out,
			       "etcd Version: 3.4.23\ncetcd Version: 0.1.0\nGit SHA: none\n"
			       "Go Version: n/a (C)\nGo OS/Arch: linux/",
			       92) == 0);
	CHECK(r.errn == 0);
	done(&r);
	run(&r, "-version", "--name=x", NULL);
	CHECK(r.rc == 1 && has(r.out, "etcd Version: 3.4.23\n"));
	done(&r);
	{ /* env is not consulted before --version */
		char *env[] = {"ETCD_SNAPSHOT_COUNT=abc", NULL};

		run_env(&r, env, "--version", NULL);
		CHECK(r.rc == 1 && r.c.exit_code == 0);
		done(&r);
	}
	run(&r, "--version", "stray", NULL);
	expect_verify_error2(&r, "'stray' is not a valid flag");
	done(&r);
	run(&r, "--version=false", NULL);
	CHECK(r.rc == 0 && r.outn == 0);
	done(&r);
	run(&r, "--version", "--foo", NULL);
	CHECK(r.rc == -1 && r.c.exit_code == 2 && r.outn == 0);
	done(&r);

	{
		static const char *const helps[] = {"-h",     "--h",	      "-help",
						    "--help", "--help=false", "-h=1"};

		for (size_t i = 0; i < sizeof helps / sizeof helps[0]; i++) {
			run(&r, "--name=x", helps[i], "--foo", NULL);
			CHECK(r.rc == 1 && r.c.exit_code == 0);
			CHECK(r.err && strncmp(r.err, "Usage:\n\n  cetcd [flags]\n", 24) == 0);
			CHECK(r.out &&
			      strncmp(r.out,
				      "\nMember:\n  --name 'default'\n    Human-readable name for this member.\n",
				      67) == 0);
			done(&r);
		}
	}
	run(&r, "--help", NULL);
	{
		static const char *const want[] = {
			"  --snapshot-count '10000'\n",
			"    [env ETCD_NAME]\n",
			"  --listen-client-urls 'http://localhost:2379'\n    List of URLs to listen on for client traffic.\n    [env ETCD_LISTEN_CLIENT_URLS]\n",
			"  --proxy 'off'\n    Proxy mode setting ('off', 'readonly' or 'on').\n    [env ETCD_PROXY]\n",
			"\nClustering:\n",
			"\nSecurity:\n",
			"\nAuth:\n",
			"\nProfiling and Monitoring:\n",
			"\nLogging:\n",
			"\nv2 Proxy (to be deprecated in v4):\n",
			"\nExperimental feature:\n",
			"\nUnsafe feature:\n",
			"\nCAUTIOUS with unsafe flag! It may break the guarantees given by the consensus protocol!\n",
			"\nTO BE DEPRECATED:\n\n  --debug 'false'\n",
			"  --bcrypt-cost 10\n",
			"  --initial-cluster-token 'etcd-cluster'\n    Initial cluster token for the etcd cluster during bootstrap.\n    Specifying this",
			"  --config-file ''\n",
			"  --unsafe-no-fsync 'false'\n",
			"  --log-output 'default'\n",
			"  --enable-grpc-gateway 'true'\n",
			"  --version 'false'\n",
			"  --experimental-enable-lease-checkpoint-persist 'false'\n",
			"-cluster-active-size",
			"-test.outputdir",
			"[env ETCD_EXPERIMENTAL_WATCH_PROGRESS_NOTIFY_INTERVAL]",
			"[env ETCD_QUOTA_BACKEND_BYTES] cetcd: accepted but has no effect",
		};

		for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
			CHECK(has(r.out, want[i]));
			if (!has(r.out, want[i]))
				fprintf(stderr, "  help lacks: %s\n", want[i]);
		}
		CHECK(r.outn >= 2 && strcmp(r.out + r.outn - 2, "\n\n") == 0);
	}
	done(&r);
}

static void test_ignored_and_unsupported(void)
{
	struct run r;
	char *buf = NULL;
	size_t n = 0;
	FILE *f;

	run(&r, "-v", "--snapshot=1", "-peer-heartbeat-interval", "5", NULL);
	/* ignored flags are bool-like: "5" is a stray argument */
	expect_verify_error2(&r, "'5' is not a valid flag");
	CHECK(has(
		r.err,
		"W | pkg/flags: flag \"-v\" is no longer supported - ignoring.\n" STAMP
		"W | pkg/flags: flag \"-snapshot\" is no longer supported - ignoring.\n" STAMP
		"W | pkg/flags: flag \"-peer-heartbeat-interval\" is no longer supported - ignoring.\n"));
	done(&r);

	run(&r, "--proxy=off", "--client-cert-auth=false",
	    "--cert-file=", "--quota-backend-bytes=0", "--enable-v2=true", "--name=n", NULL);
	CHECK(r.rc == 0 && r.c.n_unsupported == 0); /* defaults are harmless */
	done(&r);

	run(&r, "--proxy=on", "--cert-file=/c.pem", "--enable-v2=false",
	    "--quota-backend-bytes=1024", "--unsafe-no-fsync", "--snapshot-count=5", "--auto-tls",
	    NULL);
	CHECK(r.rc == 0);
	CHECK(!is_unsupported(&r.c, "proxy") && !is_unsupported(&r.c, "cert-file"));
	CHECK(is_unsupported(&r.c, "enable-v2") && is_unsupported(&r.c, "quota-backend-bytes"));
	CHECK(is_unsupported(&r.c, "unsafe-no-fsync") && !is_unsupported(&r.c, "auto-tls"));
	CHECK(!is_unsupported(&r.c, "snapshot-count"));
	CHECK(r.c.n_unsupported == 3);
	CHECK(!r.c.enable_v2 && r.c.quota_backend_bytes == 1024);
	f = open_memstream(&buf, &n);
	log_set_output(f);
	config_unsupported(&r.c);
	log_set_output(NULL);
	fclose(f);
	CHECK(!has(buf, "--cert-file"));
	CHECK(!has(buf, "--proxy"));
	CHECK(!has(buf, "--auto-tls"));
	CHECK(has(
		buf,
		"W | etcdmain: flag --enable-v2=false is not supported (cetcd always serves the v2 API)\n"));
	CHECK(has(buf,
		  "W | etcdmain: flag --quota-backend-bytes=1024 is accepted but has no effect"));
	free(buf);
	done(&r);

	/* the TLS flags are acted on; etcd 2's --ca-file/--peer-ca-file are kept */
	run(&r, "--cert-file=/c.pem", "--key-file=/k.pem", "--client-cert-auth", "--peer-auto-tls",
	    "--cipher-suites=TLS_RSA_WITH_AES_128_CBC_SHA", "--ca-file=/ca.pem", NULL);
	CHECK(r.rc == 0 && r.c.n_unsupported == 0);
	CHECK(strcmp(r.c.ca_file, "/ca.pem") == 0 && r.c.client_cert_auth && r.c.peer_auto_tls);
	done(&r);
	{
		char *env[] = {"ETCD_PEER_CA_FILE=/p.pem", NULL};

		run_env(&r, env, NULL);
		CHECK(r.rc == 0 && strcmp(r.c.peer_ca_file, "/p.pem") == 0);
		done(&r);
	}

	{ /* set through the environment: recorded with the env value */
		char *env[] = {"ETCD_AUTH_TOKEN=jwt", NULL};

		run_env(&r, env, NULL);
		CHECK(r.rc == 0 && is_unsupported(&r.c, "auth-token"));
		CHECK(strcmp(r.c.unsupported[0].value, "jwt") == 0);
		done(&r);
	}
}

static void test_lists(void)
{
	struct run r;

	run(&r, "--host-whitelist=b,a,b", "--cipher-suites=X,Y,X", NULL);
	CHECK(r.rc == 0);
	CHECK(r.c.host_whitelist.n == 2 && strcmp(r.c.host_whitelist.v[0], "a") == 0);
	CHECK(r.c.cipher_suites.n == 3 && strcmp(r.c.cipher_suites.v[2], "X") == 0);
	done(&r);
	/* etcd 3.4: a lone --log-output only warns (same length as --log-outputs) */
	run(&r, "--log-output=stdout", NULL);
	CHECK(r.rc == 0 && r.c.log_outputs.n == 1 && strcmp(r.c.log_outputs.v[0], "default") == 0);
	CHECK(has(
		r.err,
		"[WARNING] Deprecated '--log-output' flag is set to [\"stdout\"]\nPlease use '--log-outputs' flag\n"));
	done(&r);
	run(&r, "--log-output=stdout", "--log-outputs=stdout", NULL);
	expect_verify_error2(
		&r,
		"'--log-output=[\"stdout\"]' and '--log-outputs=[\"stdout\"]' are incompatible; only set --log-outputs");
	done(&r);
	run(&r, "--log-output=stdout,stderr", NULL);
	CHECK(r.rc == -1 &&
	      has(r.err, "'--log-output' flag has been deprecated! Please use '--log-outputs'!\n"));
	done(&r);
}

/* --log-level / --debug set the threshold once the logging flags validate
 * (etcd's setupLogging): lines logged before still show. */
static void test_log_level(void)
{
	struct run r;

	run(&r, "--log-level=panic", "--v", "--heartbeat-interval=0", NULL);
	CHECK(r.rc == -1 && r.c.exit_code == 1);
	CHECK(has(r.err, "W | pkg/flags: flag \"-v\" is no longer supported - ignoring.\n"));
	CHECK(!has(r.err, "error verifying flags")); /* E is above critical */
	CHECK(!log_enabled(LOGL_ERROR) && log_enabled(LOGL_CRITICAL));
	done(&r);
	run(&r, "--log-level", "error", NULL);
	CHECK(r.rc == 0 && !has(r.err, "no data-dir provided"));
	CHECK(log_enabled(LOGL_ERROR) && !log_enabled(LOGL_WARNING));
	done(&r);
	run(&r, "--log-level=warn", NULL);
	CHECK(r.rc == 0 && has(r.err, "W | etcdmain: no data-dir provided"));
	CHECK(log_enabled(LOGL_WARNING) && !log_enabled(LOGL_NOTICE));
	done(&r);
	run(&r, "--debug", "--log-level=warn", NULL);
	CHECK(r.rc == 0 && log_enabled(LOGL_DEBUG));
	CHECK(has(
		r.err,
		"[WARNING] Deprecated '--debug' flag is set to true with inconsistent '--log-level=warn' flag\n"));
	done(&r);
	{
		char *env[] = {"ETCD_LOG_LEVEL=error", NULL};

		run_env(&r, env, NULL);
		CHECK(r.rc == 0 && strcmp(r.c.log_level, "error") == 0);
		CHECK(has(
			r.err,
			"I | pkg/flags: recognized and used environment variable ETCD_LOG_LEVEL=error\n"));
		CHECK(!log_enabled(LOGL_WARNING) && !has(r.err, "no data-dir provided"));
		done(&r);
	}
	{
		char *env[] = {"ETCD_DEBUG=true", NULL};

		run_env(&r, env, NULL);
		CHECK(r.rc == 0 && r.c.debug && log_enabled(LOGL_DEBUG));
		done(&r);
	}
	run(&r, "--log-level=dpanic", NULL);
	CHECK(r.rc == 0 && log_enabled(LOGL_CRITICAL) && !log_enabled(LOGL_ERROR));
	done(&r);
	run(&r, "--log-level=DEBUG", NULL);
	expect_verify_error2(&r, "unknown level \"DEBUG\"");
	done(&r);
	log_set_level(LOGL_INFO);
}

static void test_misc(void)
{
	char env[64];
	struct run r;

	config_flag_to_env("listen-client-urls", env, sizeof env);
	CHECK(strcmp(env, "ETCD_LISTEN_CLIENT_URLS") == 0);
	config_flag_to_env("test.coverprofile", env, sizeof env);
	CHECK(strcmp(env, "ETCD_TEST.COVERPROFILE") == 0);
	config_flag_to_env("name", env, 7);
	CHECK(strcmp(env, "ETCD_N") == 0);

	run(&r, "stray", NULL);
	CHECK(r.errn > 0 &&
	      strcmp(r.err, STAMP
		     "E | etcdmain: error verifying flags, 'stray' is not a valid flag. See 'etcd --help'.\n") ==
		      0);
	done(&r);

	/* config_free is idempotent and safe on a zeroed struct */
	{
		struct config c;

		memset(&c, 0, sizeof c);
		config_free(&c);
		run(&r, NULL);
		config_free(&r.c);
		config_free(&r.c);
		free(r.out);
		free(r.err);
	}
}

/* ---- --config-file (etcd's YAML file; messages from etcd 3.4.23) ---- */

/* Writes text to a new temp file; returns its path (static buffer). */
static const char *yaml_file(const char *text)
{
	static char path[64];
	FILE *f;
	int fd;

	snprintf(path, sizeof path, "/tmp/cetcd-test-config-XXXXXX");
	fd = mkstemp(path);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (f) {
		fputs(text, f);
		fclose(f);
	}
	return path;
}

/* One run over a file; the file is removed afterwards. */
static void run_file(struct run *r, const char *text)
{
	const char *path = yaml_file(text);

	run(r, "--config-file", path, NULL);
	unlink(path);
}

static void expect_file_error(const char *text, const char *msg)
{
	struct run r;

	run_file(&r, text);
	expect_verify_error2(&r, msg);
	done(&r);
}

#define JSON_ERR "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal "

static void test_config_file(void)
{
	struct run r;

	run_file(&r, "# etcd's sample keys\n"
		     "NAME: 'from-file'\n"
		     "data-dir: /tmp/ff\n"
		     "snapshot-count: 0x10\n"
		     "heartbeat-interval: 50\n"
		     "election-timeout: 500\n"
		     "listen-client-urls: http://127.0.0.1:1,https://127.0.0.1:2\n"
		     "advertise-client-urls: http://127.0.0.1:1\n"
		     "enable-v2: yes\n"
		     "strict-reconfig-check: off\n"
		     "cipher-suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]\n"
		     "log-outputs: [stderr]\n"
		     "backend-batch-interval: 1000\n"
		     "proxy-failure-wait: 7000\n"
		     "client-transport-security:\n"
		     "  cert-file: /c.pem\n"
		     "  key-file: /k.pem\n"
		     "  client-cert-auth: true\n"
		     "  trusted-ca-file: /ca.pem\n"
		     "peer-transport-security:\n"
		     "  auto-tls: true\n"
		     "cert-file: /ignored.pem\n"
		     "no-such-key: 1\n"
		     "initial-cluster-state:\n");
	CHECK(r.rc == 0);
	CHECK(strcmp(r.c.name, "from-file") == 0);
	CHECK(strcmp(r.c.data_dir, "/tmp/ff") == 0);
	CHECK(r.c.snapshot_count == 16 && r.c.heartbeat_ms == 50 && r.c.election_ms == 500);
	CHECK(urls_are(&r.c.listen_client_urls, "http://127.0.0.1:1,https://127.0.0.1:2"));
	CHECK(!r.c.strict_reconfig_check);
	CHECK(r.c.cipher_suites.n == 1 && r.c.log_outputs.n == 1);
	CHECK(r.c.backend_batch_interval_ns == 1000);
	CHECK(r.c.proxy_failure_wait_ms == 7000);
	CHECK(strcmp(r.c.cert_file, "/c.pem") == 0 && strcmp(r.c.key_file, "/k.pem") == 0);
	CHECK(r.c.client_cert_auth && strcmp(r.c.trusted_ca_file, "/ca.pem") == 0);
	CHECK(r.c.peer_auto_tls && !r.c.auto_tls);
	CHECK(strcmp(r.c.initial_cluster, "from-file=http://localhost:2380") == 0);
	CHECK(strcmp(r.c.initial_cluster_state, "new") == 0);
	CHECK(has(r.err,
		  "I | etcdmain: Loading server configuration from \"/tmp/cetcd-test-config-"));
	CHECK(has(r.err, "Other configuration command line flags and environment variables will be "
			 "ignored if provided.\n"));
	done(&r);

	/* the command line and the environment are ignored; the variable names
	 * the file when the flag does not */
	{
		const char *path = yaml_file("name: f\n");
		char var[128];
		snprintf(var, sizeof var, "ETCD_CONFIG_FILE=%s", path);
		char *env[] = {var, "ETCD_SNAPSHOT_COUNT=5", "ETCD_BOGUS=1", NULL};
		run_env(&r, env, "--name", "flag", "--heartbeat-interval", "20", NULL);
		CHECK(r.rc == 0);
		CHECK(strcmp(r.c.name, "f") == 0 && r.c.heartbeat_ms == 100);
		CHECK(r.c.snapshot_count == 10000);
		CHECK(!has(r.err, "ETCD_BOGUS") && !has(r.err, "recognized"));
		CHECK(strcmp(r.c.data_dir, "f.etcd") == 0);
		done(&r);
		unlink(path);
	}

	/* an empty file: the defaults; listen URLs without advertise ones are
	 * fine (the command line's rule is not the file's) */
	run_file(&r, "");
	CHECK(r.rc == 0 && strcmp(r.c.name, "default") == 0);
	done(&r);
	run_file(&r, "listen-client-urls: http://127.0.0.1:7\n");
	CHECK(r.rc == 0 && urls_are(&r.c.advertise_client_urls, "http://localhost:2379"));
	done(&r);
	run_file(&r, "discovery: http://127.0.0.1:9/x\n");
	CHECK(r.rc == 0 && strcmp(r.c.initial_cluster, "") == 0);
	done(&r);

	expect_file_error("name: 123\ndata-dir: /x\nsnapshot-count: -1\n",
			  JSON_ERR "number into Go struct field configYAML.name of type string");
	expect_file_error("snapshot-count: -1\n",
			  JSON_ERR "number -1 into Go struct field configYAML.snapshot-count of "
				   "type uint64");
	expect_file_error("snapshot-count: 1.5\n",
			  JSON_ERR "number 1.5 into Go struct field configYAML.snapshot-count of "
				   "type uint64");
	expect_file_error("heartbeat-interval: \"100\"\nenable-v2: yes\n",
			  JSON_ERR "string into Go struct field configYAML.heartbeat-interval of "
				   "type uint");
	expect_file_error("client-transport-security:\n  cert-file: 5\n", JSON_ERR
			  "number into Go struct field "
			  "securityConfig.client-transport-security.cert-file of type string");
	expect_file_error("cipher-suites: abc\n",
			  JSON_ERR "string into Go struct field configYAML.cipher-suites of type "
				   "[]string");
	expect_file_error("- a\n- b\n", JSON_ERR "array into Go value of type embed.configYAML");
	expect_file_error("hello\n", JSON_ERR "string into Go value of type embed.configYAML");
	expect_file_error("name: x\n  bad: : :\n",
			  "error converting YAML to JSON: yaml: line 2: mapping values are not "
			  "allowed in this context");
	expect_file_error("enable-v2: yes\nname: \"on\"\nx: [1,2\n",
			  "error converting YAML to JSON: yaml: line 3: did not find expected ',' "
			  "or ']'");
	expect_file_error("initial-cluster-state: foo\n", "unexpected clusterState \"foo\"");
	run(&r, "--config-file", "/nonexistent/c.yml", NULL);
	expect_verify_error2(&r, "open /nonexistent/c.yml: no such file or directory");
	done(&r);
	run(&r, "--config-file", "/tmp", NULL);
	expect_verify_error2(&r, "read /tmp: is a directory");
	done(&r);

	/* etcd's other ways out: a bad URL on stderr alone, the proxy mode
	 * through Go's log, --cors through a panic */
	run_file(&r, "advertise-client-urls: foo\n");
	CHECK(r.rc == -1 && r.c.exit_code == 1);
	CHECK(has(r.err, "unexpected error setting up advertise-peer-urls: URL scheme must be "
			 "http, https, unix, or unixs: foo\n"));
	CHECK(!has(r.err, "Loading server configuration"));
	done(&r);
	run_file(&r, "proxy: bogus\n");
	CHECK(r.rc == -1 && r.c.exit_code == 1);
	CHECK(has(r.err, STAMP "I | unexpected error setting up proxyFlag: invalid value\n"));
	done(&r);
	run_file(&r, "cors: foo\n");
	CHECK(r.rc == -1 && r.c.exit_code == 2);
	CHECK(has(r.err, "C | pkg/flags: new UniqueURLs should never fail: "));
	done(&r);
}

int main(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
	log_set_clock(fixed_clock);
	test_defaults();
	test_syntax_forms();
	test_bools();
	test_bad_syntax();
	test_numbers();
	test_durations();
	test_choices();
	test_env();
	test_urls();
	test_cors();
	test_initial_cluster();
	test_validation();
	test_version_help();
	test_ignored_and_unsupported();
	test_lists();
	test_log_level();
	test_misc();
	test_config_file();
	return check_summary();
}
