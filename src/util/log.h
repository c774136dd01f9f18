/* log.h - the one logger: etcd 3.4's capnslog lines, byte for byte,
 *
 *     2026-12-07 18:00:00.000000 I | etcdserver: message
 *
 * local time to the microsecond, the level letter, the etcd package that
 * would have said it. A line above the threshold is dropped; the rest are
 * written with one stdio call each, so lines from different threads do not
 * mix. Set the threshold and output before threads start. */
#ifndef CETCD_LOG_H
#define CETCD_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* capnslog's levels, most severe first; letters C E W N I D. */
enum log_level {
	LOGL_CRITICAL,
	LOGL_ERROR,
	LOGL_WARNING,
	LOGL_NOTICE,
	LOGL_INFO,
	LOGL_DEBUG,
};

/* Writes one line at level lvl for package pkg, a literal naming the etcd
 * package that logs the same event ("etcdserver", "etcdmain", ...), or
 * NULL for what etcd logs through Go's standard log package. A newline is added unless the message ends with one, as capnslog does. */
void log_line(enum log_level lvl, const char *pkg, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_crit(pkg, ...)   log_line(LOGL_CRITICAL, pkg, __VA_ARGS__)
#define log_error(pkg, ...)  log_line(LOGL_ERROR, pkg, __VA_ARGS__)
#define log_warn(pkg, ...)   log_line(LOGL_WARNING, pkg, __VA_ARGS__)
#define log_notice(pkg, ...) log_line(LOGL_NOTICE, pkg, __VA_ARGS__)
#define log_info(pkg, ...)   log_line(LOGL_INFO, pkg, __VA_ARGS__)
#define log_debug(pkg, ...)  log_line(LOGL_DEBUG, pkg, __VA_ARGS__)

/* Lines less severe than max are dropped. Default LOGL_INFO. */
void log_set_level(enum log_level max);
/* True when a line at lvl would be written (to skip costly arguments). */
bool log_enabled(enum log_level lvl);

/* etcd's --log-level names (logutil.ConvertToCapnslogLogLevel): debug,
 * info, warn, error, and dpanic / panic / fatal = critical. Returns 0, or
 * -1 for any other name. */
int log_level_parse(const char *name, enum log_level *out);

/* Where lines go. NULL = stderr (the default). */
void log_set_output(FILE *f);

/* The wall clock stamped on lines, unix nanoseconds. NULL = util/clock.h's
 * clock_wall_ns (the default); tests pass a fixed time. */
void log_set_clock(int64_t (*wall_ns)(void));

#endif /* CETCD_LOG_H */
