/* tcp_push.h - lifting TCP_CORK on a helper thread. A corked socket's held
 * data leaves when the cork comes off, and on loopback that setsockopt does
 * the whole delivery (the receiving side's TCP work and the reader's wake-up
 * run in the caller): about 10 us per socket here, most of a watch
 * fan-out's cost. A pusher does it on its own thread, so the loop goes on
 * with the next watcher while the previous one's answer leaves.
 * Private to net/ (http_server.c owns one per server; doc/watches.md). */
#ifndef CETCD_TCP_PUSH_H
#define CETCD_TCP_PUSH_H

struct tcp_pusher;

/* Starts the thread; NULL if it cannot (the caller then uncorks inline). */
struct tcp_pusher *tcp_pusher_new(void);
/* Uncorks what is queued, stops the thread, frees. p may be NULL. */
void tcp_pusher_free(struct tcp_pusher *p);
/* Queues fd to be uncorked soon (from the loop thread). The descriptor may
 * be closed, even reused, before that: uncorking a socket that holds
 * nothing sends nothing, and on anything but a TCP socket the call fails
 * harmlessly. */
void tcp_pusher_push(struct tcp_pusher *p, int fd);

#endif /* CETCD_TCP_PUSH_H */
