/* loop.h - the event loop: one epoll set for every fd (MHD daemons, signals,
 * later the WAL thread's eventfd and libcurl sockets), periodic timers, and
 * before-sleep hooks that run once per iteration (flush proposals, apply,
 * resume connections). Loop thread only. */
#ifndef CETCD_LOOP_H
#define CETCD_LOOP_H

#include <stdint.h>

struct loop;

typedef void (*loop_fd_fn)(void *ctx, uint32_t events);
typedef void (*loop_fn)(void *ctx);
/* Returns how long the loop may sleep for this hook's sake, in ms (-1: any). */
typedef int64_t (*loop_timeout_fn)(void *ctx);

struct loop *loop_new(void);
void loop_free(struct loop *l);

struct loop_fd;
/* Watches fd for epoll events; fn runs on the loop thread. Returns a handle,
 * or NULL if epoll refused the fd. */
struct loop_fd *loop_add_fd(struct loop *l, int fd, uint32_t events, loop_fd_fn fn, void *ctx);
/* Changes the epoll events watched for h. Returns 0 or -1. */
int loop_mod_fd(struct loop *l, struct loop_fd *h, uint32_t events);
/* Stops watching (call before closing the fd). Safe from inside a callback:
 * the handle is freed after the current batch of events. */
void loop_del_fd(struct loop *l, struct loop_fd *h);

struct loop_timer;
/* Runs fn every interval_ms (first run interval_ms from now). The handle
 * belongs to the loop: loop_del_timer or loop_free frees it. */
struct loop_timer *loop_add_timer(struct loop *l, uint64_t interval_ms, loop_fn fn, void *ctx);
/* Changes the interval; the next run is interval_ms from now. */
void loop_timer_set(struct loop_timer *t, uint64_t interval_ms);
/* Stops a timer (NULL: no-op). Safe from inside a timer callback. */
void loop_del_timer(struct loop *l, struct loop_timer *t);
/* Runs fn before every sleep, in the order added. */
void loop_add_before_sleep(struct loop *l, loop_fn fn, void *ctx);
/* Asks timeout how long the loop may sleep (e.g. MHD's own timeout), and
 * runs due(ctx) after every wake-up whose source asked for 0 ms or less
 * time than has passed (work a library has pending without an fd event). */
void loop_add_timeout_source(struct loop *l, loop_timeout_fn timeout, loop_fn due, void *ctx);
/* Removes the timeout source added with ctx. Not from inside a timeout
 * source's own callbacks. */
void loop_del_timeout_source(struct loop *l, void *ctx);

/* Runs until loop_stop. Returns 0, or -1 if epoll failed. */
int loop_run(struct loop *l);
void loop_stop(struct loop *l);

#endif /* CETCD_LOOP_H */
