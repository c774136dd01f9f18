/* keys_stats.c - the /v2/keys request counters (see keys_stats.h). */
#include "api/keys_stats.h"

#include <string.h>

static struct keys_stats stats;

static const char *const names[KS_N_METHODS] = {"GET", "QGET", "HEAD", "PUT", "POST", "DELETE"};

const char *keys_stats_method_name(enum keys_stats_method m)
{
	return names[m];
}

enum keys_stats_method keys_stats_method_of(const char *http_method, bool quorum)
{
	if (strcmp(http_method, "GET") == 0)
		return quorum ? KS_QGET : KS_GET;
	for (int m = KS_HEAD; m < KS_N_METHODS; m++)
		if (strcmp(http_method, names[m]) == 0)
			return (enum keys_stats_method)m;
	return KS_GET;
}

void keys_stats_received(enum keys_stats_method m)
{
	stats.received[m]++;
}

void keys_stats_done(enum keys_stats_method m, unsigned status, double seconds)
{
	if (status < 400) {
		prom_hist_observe(&stats.ok_seconds[m], KEYS_HIST_START, KEYS_HIST_N, seconds);
		return;
	}
	for (unsigned i = 0; i < stats.n_failed; i++)
		if (stats.failed[i].method == m && stats.failed[i].code == status) {
			stats.failed[i].count++;
			return;
		}
	if (stats.n_failed < sizeof(stats.failed) / sizeof(stats.failed[0]))
		stats.failed[stats.n_failed++] = (struct keys_stats_failed){m, status, 1};
}

const struct keys_stats *keys_stats_get(void)
{
	return &stats;
}
