/* http_hangup.h - noticing clients that hang up while their request waits.
 * MHD does not look at a suspended connection, so a long poll or a proxied
 * request whose client goes away would go unnoticed until it next writes.
 * The server keeps one epoll set of its own (EPOLLRDHUP) holding the waiting
 * clients' sockets, registered in the loop as one fd: watching a request is
 * one epoll_ctl, and unwatching costs none, whatever the number of waiters.
 * Private to net/ (http_server.c owns the set; callers use http_server.h). */
#ifndef CETCD_HTTP_HANGUP_H
#define CETCD_HTTP_HANGUP_H

#include <stdbool.h>
#include <stddef.h>

struct loop;
struct http_req;
struct hangup_set;

struct hangup_set *hangup_set_new(struct loop *l);
void hangup_set_free(struct loop *l, struct hangup_set *s);
/* Adds r's socket; false if it cannot be watched. */
bool hangup_set_add(struct hangup_set *s, struct http_req *r, int fd);
/* Forgets r (no syscall: the kernel drops the registration with the socket,
 * and a keep-alive connection's next wait finds it still there). */
void hangup_set_del(struct hangup_set *s, struct http_req *r, int fd);

#endif /* CETCD_HTTP_HANGUP_H */
