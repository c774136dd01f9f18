/* cli.c - the command line as etcdctl v2 reads it: Go's flag package
 * (-f, --f, -f=v, -f v; parsing stops at the first argument or "--"),
 * urfave/cli v1.20's reordering of a command's flags ahead of its
 * arguments, its "Incorrect Usage" texts and the usage pages. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"
#include "util/goparse.h"

/* Is name one of the comma-separated names ("recursive, r")? */
static bool flag_has_name(const char *names, const char *name, size_t len)
{
	const char *p = names;
	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		const char *e = p;
		while (*e && *e != ',')
			e++;
		if ((size_t)(e - p) == len && memcmp(p, name, len) == 0)
			return true;
		p = e;
	}
	return false;
}

static struct ctl_flag *flag_find(struct ctl_flag *flags, const char *name, size_t len)
{
	for (struct ctl_flag *f = flags; f && f->names; f++)
		if (flag_has_name(f->names, name, len))
			return f;
	return NULL;
}

struct ctl_flag *ctl_flag(struct ctl_flag *flags, const char *name)
{
	return flag_find(flags, name, strlen(name));
}

/* Is arg one of the flags ("-name", "--name", "-name=v")? */
static bool arg_is_flag(struct ctl_flag *flags, const char *arg)
{
	if (arg[0] != '-' || strcmp(arg, "-") == 0)
		return false;
	arg += arg[1] == '-' ? 2 : 1;
	return flag_find(flags, arg, strcspn(arg, "=")) != NULL;
}

/* urfave/cli's reorderArgs (v1.22.6 and later, as etcdctl 3.4.23 is
 * built): the command's own flags first, each with the argument after it
 * unless that is one of the flags (even a bool flag takes it: the flag
 * parser then stops there); "--" goes ahead of the other arguments, which
 * keep their order, and everything after it follows. */
static void reorder(struct ctl_flag *fl, int argc, char **argv)
{
	char **flags = calloc((size_t)argc + 2, sizeof(char *));
	char **rest = calloc((size_t)argc + 2, sizeof(char *));
	int nf = 0, nr = 0;
	bool read_value = false;
	for (int i = 0; i < argc; i++) {
		char *a = argv[i];
		if (read_value && !arg_is_flag(fl, a)) {
			read_value = false;
			flags[nf++] = a;
		} else if (strcmp(a, "--") == 0) {
			memmove(rest + 1, rest, (size_t)nr * sizeof(char *));
			rest[0] = a;
			nr++;
			while (++i < argc)
				rest[nr++] = argv[i];
			break;
		} else if (arg_is_flag(fl, a)) {
			flags[nf++] = a;
			read_value = strchr(a, '=') == NULL;
		} else {
			rest[nr++] = a;
		}
	}
	memcpy(argv, flags, (size_t)nf * sizeof(char *));
	memcpy(argv + nf, rest, (size_t)nr * sizeof(char *));
	free(flags);
	free(rest);
}

static int flag_set_value(struct ctl_flag *f, const char *name, const char *v, struct buf *err)
{
	switch (f->kind) {
	case CTL_BOOL: {
		bool b;
		if (go_parse_bool(v, &b) != 0) {
			buf_printf(err, "invalid boolean value \"%s\" for -%s: parse error", v,
				   name);
			return -1;
		}
		f->b = b;
		return 0;
	}
	case CTL_STRING:
		f->s = v;
		return 0;
	case CTL_STRINGS:
		f->list = realloc(f->list, (f->nlist + 1) * sizeof(char *));
		if (!f->list)
			abort();
		f->list[f->nlist++] = v;
		return 0;
	case CTL_INT:
		if (go_parse_int(v, 0, 64, &f->i) != GO_NUM_OK)
			break;
		return 0;
	case CTL_DURATION:
		if (go_parse_duration(v, &f->i) != 0)
			break;
		return 0;
	}
	char *q = go_quoted(v);
	buf_printf(err, "invalid value %s for flag -%s: parse error", q, name);
	free(q);
	return -1;
}

int ctl_parse_flags(struct ctl_flag *flags, int argc, char **argv, bool do_reorder, struct buf *err)
{
	if (do_reorder)
		reorder(flags, argc, argv);
	int i = 0;
	while (i < argc) {
		const char *s = argv[i];
		if (strlen(s) < 2 || s[0] != '-')
			break;
		int minuses = 1;
		if (s[1] == '-') {
			minuses = 2;
			if (s[2] == 0) {
				i++;
				break;
			}
		}
		const char *name = s + minuses;
		if (name[0] == '-' || name[0] == '=') {
			buf_printf(err, "bad flag syntax: %s", s);
			return -1;
		}
		i++;
		const char *eq = strchr(name, '=');
		size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
		char nbuf[256];
		snprintf(nbuf, sizeof nbuf, "%.*s", (int)nlen, name);
		struct ctl_flag *f = flag_find(flags, name, nlen);
		if (!f) {
			if (strcmp(nbuf, "help") == 0 || strcmp(nbuf, "h") == 0) {
				buf_puts(err, "help");
				return -2;
			}
			buf_printf(err, "flag provided but not defined: -%s", nbuf);
			return -1;
		}
		f->set = true;
		const char *v = eq ? eq + 1 : NULL;
		if (f->kind == CTL_BOOL && !v) {
			f->b = true;
			continue;
		}
		if (!v) {
			if (i >= argc) {
				buf_printf(err, "flag needs an argument: -%s", nbuf);
				return -1;
			}
			v = argv[i++];
		}
		if (flag_set_value(f, nbuf, v, err) != 0)
			return -1;
	}
	return i;
}

void ctl_print_help(const char *cmd)
{
	for (const struct ctl_help *h = ctl_helps; h->cmd; h++) {
		if (strcmp(h->cmd, cmd) != 0)
			continue;
		for (const char *p = h->text; *p;) {
			if (strncmp(p, "etcdctl", 7) == 0) {
				fputs("cetcdctl", stdout);
				p += 7;
			} else {
				putchar(*p++);
			}
		}
		return;
	}
	ctl_print_help("");
}

int ctl_cmd_flags_as(const char *cmd, struct ctl_flag *flags, int argc, char **argv, bool parent)
{
	struct buf err = BUF_INIT;
	int first = ctl_parse_flags(flags, argc, argv, !parent, &err);
	struct ctl_flag *h = ctl_flag(flags, "help");
	if (first == -2 || (h && h->b)) {
		ctl_print_help(cmd);
		exit(0);
	}
	if (first < 0) {
		printf("Incorrect Usage%s %s\n\n", parent ? "." : ":", err.data);
		ctl_print_help(cmd);
		fprintf(stderr, "%s\n", err.data);
		exit(1);
	}
	buf_free(&err);
	return first;
}

int ctl_cmd_flags(const char *cmd, struct ctl_flag *flags, int argc, char **argv)
{
	return ctl_cmd_flags_as(cmd, flags, argc, argv, false);
}
