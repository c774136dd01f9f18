/* sdnotify.c - owns the sd_notify protocol, by hand: one datagram to the
 * AF_UNIX socket named by $NOTIFY_SOCKET (what systemd's Type=notify waits
 * for). No libsystemd: the protocol is one sendto. */
#include "net/sdnotify.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Fills *sa from a NOTIFY_SOCKET value; returns the address length, or 0. */
static socklen_t notify_addr(const char *path, struct sockaddr_un *sa)
{
	size_t n = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || n < 2 || n >= sizeof(sa->sun_path))
		return 0;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, path, n);
	if (path[0] == '@')
		sa->sun_path[0] = '\0';
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (path[0] == '/'));
}

int sd_notify_ready(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	if (!path || !*path)
		return 0;
	struct sockaddr_un sa;
	socklen_t len = notify_addr(path, &sa);
	if (len == 0)
		return -EINVAL;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	static const char msg[] = "READY=1";
	ssize_t r = sendto(fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL, (struct sockaddr *)&sa, len);
	int err = r < 0 ? -errno : 0;
	close(fd);
	return err;
}
