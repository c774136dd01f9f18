/* signals.c - stopping the loop on a signal, and the descriptor limit (see
 * signals.h). */
#include "net/signals.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "net/loop.h"
#include "util/log.h"
#include "util/xalloc.h"

struct signal_stop {
	struct loop *loop;
	int fd;
	struct loop_fd *watch;
};

/* Go's name for the signals cetcd stops on (syscall.Signal.String). */
static const char *signal_name(int signo)
{
	return signo == SIGINT ? "interrupt" : signo == SIGTERM ? "terminated" : strsignal(signo);
}

static void on_signal(void *ctx, uint32_t events)
{
	struct signal_stop *s = ctx;
	struct signalfd_siginfo si;
	if (read(s->fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		log_notice("pkg/osutil", "received %s signal, shutting down...",
			   signal_name((int)si.ssi_signo));
	loop_stop(s->loop);
}

struct signal_stop *signal_stop_new(struct loop *l)
{
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	struct signal_stop *s = xcalloc(1, sizeof(*s));
	s->loop = l;
	s->fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (s->fd >= 0)
		s->watch = loop_add_fd(l, s->fd, EPOLLIN, on_signal, s);
	if (s->watch == NULL) {
		signal_stop_free(l, s);
		return NULL;
	}
	return s;
}

void signal_stop_free(struct loop *l, struct signal_stop *s)
{
	if (s == NULL)
		return;
	if (s->watch)
		loop_del_fd(l, s->watch);
	if (s->fd >= 0)
		close(s->fd);
	free(s);
}

void raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}
