/* config_help.c - what cetcd prints about itself, laid out as etcd's: the
 * usage line (after -h and after a flag-syntax error), the --help flag list
 * by etcd's sections with each flag's ETCD_* variable and what cetcd does
 * with it, and --version. */
#include "cetcd/config_private.h"

#include <string.h>

/* etcd's layout, cetcd's words: only what cetcd runs (no gateway, no
 * grpc-proxy). */
const char config_usage_line[] =
	"Usage:\n"
	"\n"
	"  cetcd [flags]\n"
	"    Start a cetcd server: a member speaking etcd's v2 API, or a v2 proxy (--proxy).\n"
	"\n"
	"  cetcd --version\n"
	"    Show the version of cetcd and of the etcd API it speaks.\n"
	"\n"
	"  cetcd -h | --help\n"
	"    Show the help information about cetcd: every flag etcd 3.4 accepts, with\n"
	"    its ETCD_* variable, grouped as etcd groups them, and what cetcd does with it.\n"
	"\n"
	"  cetcd --config-file\n"
	"    Path to the server configuration file (etcd's YAML). Note that if a configuration\n"
	"    file is provided, other command line flags and environment variables will be ignored.\n";

static const char *const section_title[S_COUNT] = {
	[S_HIDDEN] = "Also accepted (registered by etcd 3.4, not listed by its --help):",
	[S_MEMBER] = "Member:",
	[S_CLUSTER] = "Clustering:",
	[S_SECURITY] = "Security:",
	[S_AUTH] = "Auth:",
	[S_PROFILING] = "Profiling and Monitoring:",
	[S_LOGGING] = "Logging:",
	[S_PROXY] = "v2 Proxy (to be deprecated in v4):",
	[S_EXPERIMENTAL] = "Experimental feature:",
	[S_UNSAFE] = "Unsafe feature:",
	[S_DEPRECATED] = "TO BE DEPRECATED:\n",
	[S_CETCD] = "cetcd's own (not etcd flags; doc/api-compat.md \"Limits\"):",
};

static void print_flag_help(FILE *out, const struct flag_def *f)
{
	char env[128];
	const char *h = f->help;

	fprintf(out, "  --%s %s\n", f->name, f->shown);
	while (*h) {
		const char *nl = strchr(h, '\n');
		size_t n = nl ? (size_t)(nl - h) : strlen(h);

		fprintf(out, "    %.*s\n", (int)n, h);
		h += n + (nl ? 1 : 0);
	}
	config_flag_to_env(f->name, env, sizeof env);
	fprintf(out, "    [env %s]%s%s\n", env, f->impl == IM_YES ? "" : " cetcd: ",
		f->impl == IM_YES ? "" : flag_unsupported_why(f));
}

void config_print_help(FILE *out)
{
	for (int s = S_MEMBER; s < S_COUNT; s++) {
		fprintf(out, "\n%s\n", section_title[s]);
		for (size_t i = 0; i < flag_count; i++)
			if (flag_table[i].sec == (enum section)s)
				print_flag_help(out, &flag_table[i]);
		if (s == S_UNSAFE)
			fputs("\nCAUTIOUS with unsafe flag! It may break the guarantees given by the consensus protocol!\n",
			      out);
	}
	fprintf(out, "\n%s\n", section_title[S_HIDDEN]);
	for (size_t i = 0; i < flag_count; i++)
		if (flag_table[i].sec == S_HIDDEN && flag_table[i].type != FT_IGNORED)
			print_flag_help(out, &flag_table[i]);
	fputs("  Ignored with a warning (pre-2.0 flags):", out);
	for (size_t i = 0; i < flag_count; i++)
		if (flag_table[i].type == FT_IGNORED)
			fprintf(out, " -%s", flag_table[i].name);
	fputs("\n\n", out); /* etcd prints its flag text with Println */
}

static const char *go_arch(void)
{
#if defined(__x86_64__)
	return "amd64";
#elif defined(__aarch64__)
	return "arm64";
#elif defined(__i386__)
	return "386";
#elif defined(__arm__)
	return "arm";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return "ppc64le";
#elif defined(__s390x__)
	return "s390x";
#else
	return "unknown";
#endif
}

void config_print_version(FILE *out)
{
	fprintf(out, "etcd Version: %s\n", CETCD_ETCD_VERSION);
	fprintf(out, "cetcd Version: %s\n", CETCD_VERSION);
	fprintf(out, "Git SHA: none\n");
	fprintf(out, "Go Version: n/a (C)\n");
	fprintf(out, "Go OS/Arch: linux/%s\n", go_arch());
}
