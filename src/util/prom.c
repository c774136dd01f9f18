/* prom.c - Prometheus text exposition (see prom.h): number formatting as
 * Go's strconv 'g' shortest form, cumulative histogram lines, and the
 * process collector over /proc/self and getrlimit. */
#include "util/prom.h"

#include <dirent.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

void prom_hist_observe(struct prom_hist *h, double start, int n, double v)
{
	int i = 0;
	double bound = start;
	while (i < n && v > bound) {
		bound *= 2;
		i++;
	}
	h->bucket[i]++;
	h->count++;
	h->sum += v;
}

void prom_hist_add(struct prom_hist *dst, const struct prom_hist *src)
{
	for (int i = 0; i <= PROM_HIST_MAX; i++)
		dst->bucket[i] += src->bucket[i];
	dst->count += src->count;
	dst->sum += src->sum;
}

/* The shortest text that reads back as v (Go's FormatFloat(v, 'g', -1)). */
static void put_float(struct buf *b, double v)
{
	if (isinf(v)) {
		buf_puts(b, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (isnan(v)) {
		buf_puts(b, "NaN");
		return;
	}
	char tmp[40];
	for (int prec = 6; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	buf_puts(b, tmp);
}

void prom_family(struct buf *b, const char *name, const char *type, const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void put_name(struct buf *b, const char *name, const char *labels)
{
	buf_puts(b, name);
	if (labels && *labels)
		buf_printf(b, "{%s}", labels);
	buf_putc(b, ' ');
}

void prom_u64(struct buf *b, const char *name, const char *labels, uint64_t v)
{
	put_name(b, name, labels);
	buf_put_u64(b, v);
	buf_putc(b, '\n');
}

void prom_double(struct buf *b, const char *name, const char *labels, double v)
{
	put_name(b, name, labels);
	put_float(b, v);
	buf_putc(b, '\n');
}

void prom_one_u64(struct buf *b, const char *name, const char *type, const char *help, uint64_t v)
{
	prom_family(b, name, type, help);
	prom_u64(b, name, "", v);
}

void prom_hist_put(struct buf *b, const char *name, const char *labels, const struct prom_hist *h,
		   double start, int n)
{
	const char *sep = labels && *labels ? "," : "";
	uint64_t cum = 0;
	double bound = start;
	for (int i = 0; i <= n; i++) {
		cum += h->bucket[i];
		buf_printf(b, "%s_bucket{%s%sle=\"", name, labels ? labels : "", sep);
		if (i < n)
			put_float(b, bound);
		else
			buf_puts(b, "+Inf");
		buf_printf(b, "\"} %" PRIu64 "\n", cum);
		bound *= 2;
	}
	buf_printf(b, "%s_sum", name);
	if (labels && *labels)
		buf_printf(b, "{%s}", labels);
	buf_putc(b, ' ');
	put_float(b, h->sum);
	buf_printf(b, "\n%s_count", name);
	if (labels && *labels)
		buf_printf(b, "{%s}", labels);
	buf_printf(b, " %" PRIu64 "\n", h->count);
}

static void vec_head(struct buf *b, struct prom_vec *v)
{
	if (!v->headed)
		prom_family(b, v->name, v->type, v->help);
	v->headed = true;
}

void prom_vec_u64(struct buf *b, struct prom_vec *v, const char *labels, uint64_t value)
{
	vec_head(b, v);
	prom_u64(b, v->name, labels, value);
}

void prom_vec_hist(struct buf *b, struct prom_vec *v, const char *labels, const struct prom_hist *h,
		   double start, int n)
{
	vec_head(b, v);
	prom_hist_put(b, v->name, labels, h, start, n);
}

/* ---- the process collector ---------------------------------------------------- */

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own descriptor */
}

/* Seconds since the epoch at boot (/proc/stat btime), or -1. */
static double boot_time(void)
{
	FILE *f = fopen("/proc/stat", "r");
	if (!f)
		return -1;
	char line[256];
	double bt = -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "btime ", 6) == 0) {
			bt = strtod(line + 6, NULL);
			break;
		}
	fclose(f);
	return bt;
}

struct proc_stat {
	unsigned long utime, stime;
	unsigned long long starttime;
	unsigned long vsize;
	long rss;
};

static int read_proc_stat(struct proc_stat *ps)
{
	FILE *f = fopen("/proc/self/stat", "r");
	if (!f)
		return -1;
	char line[1024];
	char *ok = fgets(line, sizeof(line), f);
	fclose(f);
	if (!ok)
		return -1;
	/* the command name may hold spaces and parentheses: skip to the last ')' */
	char *p = strrchr(line, ')');
	if (!p)
		return -1;
	int n = sscanf(p + 2,
		       "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d %*d %*d "
		       "%*d %llu %lu %ld",
		       &ps->utime, &ps->stime, &ps->starttime, &ps->vsize, &ps->rss);
	return n == 5 ? 0 : -1;
}

void prom_process(struct buf *b)
{
	struct proc_stat ps;
	long ticks = sysconf(_SC_CLK_TCK);
	long page = sysconf(_SC_PAGESIZE);
	bool have_stat = read_proc_stat(&ps) == 0 && ticks > 0;
	if (have_stat) {
		prom_family(b, "process_cpu_seconds_total", "counter",
			    "Total user and system CPU time spent in seconds.");
		prom_double(b, "process_cpu_seconds_total", "",
			    (double)(ps.utime + ps.stime) / (double)ticks);
	}
	struct rlimit rl;
	bool have_nofile = getrlimit(RLIMIT_NOFILE, &rl) == 0;
	double max_fds = rl.rlim_cur == RLIM_INFINITY ? INFINITY : (double)rl.rlim_cur;
	int fds = count_fds();
	if (have_nofile) {
		prom_family(b, "process_max_fds", "gauge",
			    "Maximum number of open file descriptors.");
		prom_double(b, "process_max_fds", "", max_fds);
	}
	if (fds >= 0)
		prom_one_u64(b, "process_open_fds", "gauge", "Number of open file descriptors.",
			     (uint64_t)fds);
	if (have_stat) {
		prom_family(b, "process_resident_memory_bytes", "gauge",
			    "Resident memory size in bytes.");
		prom_double(b, "process_resident_memory_bytes", "", (double)ps.rss * (double)page);
		double bt = boot_time();
		if (bt >= 0) {
			prom_family(b, "process_start_time_seconds", "gauge",
				    "Start time of the process since unix epoch in seconds.");
			prom_double(b, "process_start_time_seconds", "",
				    bt + (double)ps.starttime / (double)ticks);
		}
		prom_family(b, "process_virtual_memory_bytes", "gauge",
			    "Virtual memory size in bytes.");
		prom_double(b, "process_virtual_memory_bytes", "", (double)ps.vsize);
	}
	struct rlimit as;
	if (getrlimit(RLIMIT_AS, &as) == 0) {
		prom_family(b, "process_virtual_memory_max_bytes", "gauge",
			    "Maximum amount of virtual memory available in bytes.");
		prom_double(b, "process_virtual_memory_max_bytes", "",
			    as.rlim_cur == RLIM_INFINITY ? 18446744073709551615.0 :
							   (double)as.rlim_cur);
	}
	/* etcd's own pair (pkg/runtime through etcdserver/metrics.go) */
	if (have_nofile) {
		prom_family(b, "os_fd_limit", "gauge", "The file descriptor limit.");
		prom_double(b, "os_fd_limit", "", max_fds);
	}
	if (fds >= 0)
		prom_one_u64(b, "os_fd_used", "gauge", "The number of used file descriptors.",
			     (uint64_t)fds);
}
