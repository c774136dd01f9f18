/* watch.c - etcdctl's watch and exec-watch: long-poll waits on a key
 * (client.Watcher: waitIndex follows the last event's modifiedIndex + 1),
 * printing each event, or running a command with ETCD_WATCH_* set. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "util/xalloc.h"

static void on_sigint(int sig)
{
	(void)sig;
	_exit(0);
}

/* The next event of the watcher at *wait_index on key. Exits as etcdctl
 * does on an error. */
static void watch_next(const char *key, bool recursive, uint64_t *wait_index, struct ctl_kresp *k)
{
	for (;;) {
		struct buf path = BUF_INIT;
		ctl_keys_path(&path, key);
		buf_printf(&path, "?recursive=%s&wait=true&waitIndex=%llu",
			   recursive ? "true" : "false", (unsigned long long)*wait_index);
		struct ctl_resp r;
		struct ctl_err e;
		if (ctl_do("GET", path.data, NULL, NULL, true, &r, &e) != 0)
			ctl_fail(&e, CTL_EXIT_SERVER_ERROR);
		buf_free(&path);
		int rc = ctl_kresp_parse(&r, k, &e);
		ctl_resp_free(&r);
		if (rc == 1) {
			ctl_err_free(&e);
			continue;
		}
		if (rc != 0)
			ctl_fail(&e, CTL_EXIT_SERVER_ERROR);
		*wait_index = k->node->modified + 1;
		return;
	}
}

/* exec.LookPath: the command's path, or NULL. */
static char *look_path(const char *file)
{
	if (strchr(file, '/')) {
		struct stat st;
		if (stat(file, &st) == 0 && !S_ISDIR(st.st_mode) && (st.st_mode & 0111))
			return xstrdup(file);
		return NULL;
	}
	const char *path = getenv("PATH");
	if (!path)
		return NULL;
	char *dup = xstrdup(path), *rest = dup, *dir;
	char *found = NULL;
	while (!found && (dir = strsep(&rest, ":")) != NULL) {
		struct buf b = BUF_INIT;
		buf_printf(&b, "%s/%s", *dir ? dir : ".", file);
		struct stat st;
		if (stat(b.data, &st) == 0 && !S_ISDIR(st.st_mode) && (st.st_mode & 0111))
			found = buf_steal(&b, NULL);
		buf_free(&b);
	}
	free(dup);
	return found;
}

static void run_exec(char **cmd, const struct ctl_kresp *k)
{
	char *path = look_path(cmd[0]);
	if (!path) {
		fflush(stdout);
		if (strchr(cmd[0], '/'))
			fprintf(stderr, "fork/exec %s: no such file or directory", cmd[0]);
		else
			fprintf(stderr, "exec: \"%s\": executable file not found in $PATH", cmd[0]);
		exit(1);
	}
	char idx[32];
	snprintf(idx, sizeof idx, "%llu", (unsigned long long)k->node->modified);
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid == 0) {
		setenv("ETCD_WATCH_ACTION", k->action ? k->action : "", 1);
		setenv("ETCD_WATCH_MODIFIED_INDEX", idx, 1);
		setenv("ETCD_WATCH_KEY", k->node->key ? k->node->key : "", 1);
		setenv("ETCD_WATCH_VALUE", k->node->value ? k->node->value : "", 1);
		signal(SIGINT, SIG_DFL);
		execv(path, cmd);
		_exit(127);
	}
	free(path);
	while (waitpid(-1, NULL, WNOHANG) > 0) {
	}
}

int ctl_cmd_watch(const char *cmd, int argc, char **argv)
{
	bool exec = strcmp(cmd, "exec-watch") == 0;
	struct ctl_flag flags[] = {
		{.names = "after-index", .kind = CTL_INT},
		{.names = "recursive, r", .kind = CTL_BOOL},
		{.names = "help, h", .kind = CTL_BOOL},
		{.names = exec ? NULL : "forever, f", .kind = CTL_BOOL},
		{0},
	};
	int first = ctl_cmd_flags(cmd, flags, argc, argv);
	int nargs = argc - first;
	char **args = argv + first;
	const char *key;
	char **cmd_args = NULL;
	if (!exec) {
		if (nargs == 0)
			ctl_fail_msg("key required", CTL_EXIT_BAD_ARGS);
		key = args[0];
	} else {
		if (nargs < 2)
			ctl_fail_msg("key and command to exec required", CTL_EXIT_BAD_ARGS);
		bool sep = false;
		for (int i = 1; i < nargs; i++)
			if (strcmp(args[i], "--") == 0)
				sep = true;
		cmd_args = xcalloc((size_t)nargs + 1, sizeof(char *));
		if (sep) {
			key = args[0];
			memcpy(cmd_args, args + 2, (size_t)(nargs - 2) * sizeof(char *));
		} else {
			key = args[nargs - 1];
			memcpy(cmd_args, args, (size_t)(nargs - 1) * sizeof(char *));
		}
		if (!cmd_args[0])
			ctl_fail_msg("key and command to exec required", CTL_EXIT_BAD_ARGS);
	}
	bool recursive = ctl_flag(flags, "recursive")->b;
	bool forever = !exec && ctl_flag(flags, "forever")->b;
	int64_t after = ctl_flag(flags, "after-index")->i;
	ctl_client_init(true);
	signal(SIGINT, on_sigint);
	uint64_t wait_index = after > 0 ? (uint64_t)after + 1 : 0;
	for (;;) {
		struct ctl_kresp k;
		watch_next(key, recursive, &wait_index, &k);
		if (k.node->dir) {
			if (exec)
				fprintf(stderr, "Ignored dir %s change\n",
					k.node->key ? k.node->key : "");
			ctl_kresp_free(&k);
			continue;
		}
		if (exec) {
			run_exec(cmd_args, &k);
			ctl_kresp_free(&k);
			continue;
		}
		if (recursive)
			printf("[%s] %s\n", k.action ? k.action : "",
			       k.node->key ? k.node->key : "");
		ctl_print_kresp(&k, ctl.output);
		fflush(stdout);
		ctl_kresp_free(&k);
		if (!forever)
			break;
	}
	free(cmd_args);
	return 0;
}
