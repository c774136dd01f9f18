/* sdnotify.h - readiness for systemd's Type=notify units, without libsystemd. */
#ifndef CETCD_NET_SDNOTIFY_H
#define CETCD_NET_SDNOTIFY_H

/* Sends "READY=1" to $NOTIFY_SOCKET (an AF_UNIX datagram socket; a leading
 * '@' names an abstract socket), as sd_notify(0, "READY=1") does. Returns 0
 * when sent or when NOTIFY_SOCKET is not set, -errno on failure. */
int sd_notify_ready(void);

#endif
