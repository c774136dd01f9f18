/* prom.h - Prometheus text exposition (format 0.0.4) into a struct buf:
 * metric family heads, samples, fixed-bucket histograms, and the process_*
 * family read from /proc/self. The histogram type is plain data that any
 * layer may keep and observe into (a few integer and double operations);
 * only the renderers (api/http_metrics.c, proxy) read it. Rendering reads
 * /proc and the clock; observing does neither. */
#ifndef CETCD_PROM_H
#define CETCD_PROM_H

#include <stdbool.h>
#include <stdint.h>

#include "util/buf.h"

/* The content type of a scrape answer, as etcd 3.4 (client_golang) sends it. */
#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Up to PROM_HIST_MAX upper bounds start * 2^i (Go's
 * prometheus.ExponentialBuckets(start, 2, n)); the bounds are not stored:
 * the observer and the renderer pass the same (start, n). */
#define PROM_HIST_MAX 16
struct prom_hist {
	uint64_t bucket[PROM_HIST_MAX + 1]; /* per bucket (not cumulative); [n]: above the last */
	uint64_t count;
	double sum;
};

/* Counts v (seconds, say) into h. n <= PROM_HIST_MAX. */
void prom_hist_observe(struct prom_hist *h, double start, int n, double v);
/* Adds every count of src into dst. */
void prom_hist_add(struct prom_hist *dst, const struct prom_hist *src);

/* "# HELP name help" and "# TYPE name type" (type: counter, gauge, histogram). */
void prom_family(struct buf *b, const char *name, const char *type, const char *help);
/* One sample line; labels is "" or the inside of the braces, already
 * escaped (e.g. "method=\"GET\""). */
void prom_u64(struct buf *b, const char *name, const char *labels, uint64_t v);
void prom_double(struct buf *b, const char *name, const char *labels, double v);
/* A family head and one sample, for the common unlabelled case. */
void prom_one_u64(struct buf *b, const char *name, const char *type, const char *help, uint64_t v);
/* The _bucket (cumulative, le=...), _sum and _count lines of h. */
void prom_hist_put(struct buf *b, const char *name, const char *labels, const struct prom_hist *h,
		   double start, int n);

/* A labelled family (a Go *Vec): its HELP and TYPE lines come with its
 * first sample, so a family with no label value seen yet is left out, as
 * client_golang leaves it out. */
struct prom_vec {
	const char *name, *type, *help;
	bool headed;
};
#define PROM_VEC(name, type, help) ((struct prom_vec){(name), (type), (help), false})
void prom_vec_u64(struct buf *b, struct prom_vec *v, const char *labels, uint64_t value);
void prom_vec_hist(struct buf *b, struct prom_vec *v, const char *labels, const struct prom_hist *h,
		   double start, int n);

/* process_cpu_seconds_total, process_open_fds, process_max_fds,
 * process_virtual_memory_bytes, process_virtual_memory_max_bytes,
 * process_resident_memory_bytes, process_start_time_seconds (client_golang's
 * process collector) and etcd's os_fd_used / os_fd_limit. A value that
 * cannot be read is left out. */
void prom_process(struct buf *b);

#endif /* CETCD_PROM_H */
