/* signals.h - what every cetcd server process (a member or a proxy) sets up
 * around its loop: SIGINT and SIGTERM stop the loop (logged as etcd logs
 * them), SIGPIPE is ignored, and the descriptor limit is raised to the hard
 * limit (every idle watcher holds a socket). */
#ifndef CETCD_SIGNALS_H
#define CETCD_SIGNALS_H

struct loop;
struct signal_stop;

/* Blocks SIGINT and SIGTERM and stops l when one arrives. Returns NULL if
 * the signalfd cannot be made. */
struct signal_stop *signal_stop_new(struct loop *l);
void signal_stop_free(struct loop *l, struct signal_stop *s);

/* Takes all the descriptors the hard limit allows. */
void raise_fd_limit(void);

#endif /* CETCD_SIGNALS_H */
