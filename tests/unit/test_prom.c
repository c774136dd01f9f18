/* test_prom.c - util/prom: the exposition lines (family heads, samples,
 * Go's shortest float text), histogram buckets with etcd's bounds
 * (cumulative, le labels as client_golang writes them), label vectors that
 * appear with their first sample, and the process collector's families. */
#include "../lib/harness.h"
#include "util/prom.h"

static void test_samples(void)
{
	struct buf b = BUF_INIT;
	prom_one_u64(&b, "x_total", "counter", "Some help.", 42);
	CHECK_STR(b.data, "# HELP x_total Some help.\n# TYPE x_total counter\nx_total 42\n");
	buf_reset(&b);
	prom_double(&b, "g", "a=\"b\"", 2.500608e+07);
	prom_double(&b, "g", "", 0.1);
	prom_double(&b, "g", "", 18446744073709551615.0);
	CHECK_STR(b.data, "g{a=\"b\"} 2.500608e+07\ng 0.1\ng 1.8446744073709552e+19\n");
	buf_free(&b);
}

static void test_histogram(void)
{
	struct prom_hist h = {0};
	prom_hist_observe(&h, 0.001, 14, 0.0005); /* first bucket */
	prom_hist_observe(&h, 0.001, 14, 0.001);  /* on the bound: le is inclusive */
	prom_hist_observe(&h, 0.001, 14, 0.003);  /* 0.004 */
	prom_hist_observe(&h, 0.001, 14, 100.0);  /* +Inf only */
	CHECK_EQ(h.count, 4);
	CHECK_EQ(h.bucket[0], 2);
	CHECK_EQ(h.bucket[2], 1);
	CHECK_EQ(h.bucket[14], 1);
	struct buf b = BUF_INIT;
	prom_hist_put(&b, "d", "", &h, 0.001, 14);
	CHECK(strstr(b.data, "d_bucket{le=\"0.001\"} 2\n") != NULL);
	CHECK(strstr(b.data, "d_bucket{le=\"0.002\"} 2\n") != NULL);
	CHECK(strstr(b.data, "d_bucket{le=\"0.004\"} 3\n") != NULL);
	CHECK(strstr(b.data, "d_bucket{le=\"8.192\"} 3\n") != NULL);
	CHECK(strstr(b.data, "d_bucket{le=\"+Inf\"} 4\n") != NULL);
	CHECK(strstr(b.data, "d_sum 100.0045\n") != NULL);
	CHECK(strstr(b.data, "d_count 4\n") != NULL);
	buf_reset(&b);
	struct prom_hist k = {0};
	prom_hist_observe(&k, 0.0005, 13, 0.0001);
	prom_hist_put(&b, "k", "method=\"GET\"", &k, 0.0005, 13);
	CHECK(strstr(b.data, "k_bucket{method=\"GET\",le=\"0.0005\"} 1\n") != NULL);
	CHECK(strstr(b.data, "k_bucket{method=\"GET\",le=\"2.048\"} 1\n") != NULL);
	CHECK(strstr(b.data, "k_sum{method=\"GET\"} 0.0001\nk_count{method=\"GET\"} 1\n") != NULL);
	buf_free(&b);
}

static void test_vec(void)
{
	struct buf b = BUF_INIT;
	struct prom_vec v = PROM_VEC("v_total", "counter", "H.");
	prom_vec_u64(&b, &v, "a=\"1\"", 1);
	prom_vec_u64(&b, &v, "a=\"2\"", 2);
	CHECK_STR(b.data, "# HELP v_total H.\n# TYPE v_total counter\nv_total{a=\"1\"} 1\n"
			  "v_total{a=\"2\"} 2\n");
	buf_free(&b);
}

static void test_process(void)
{
	struct buf b = BUF_INIT;
	prom_process(&b);
	REQUIRE(b.data != NULL);
	CHECK(strstr(b.data, "# TYPE process_cpu_seconds_total counter\n") != NULL);
	CHECK(strstr(b.data, "# TYPE process_open_fds gauge\n") != NULL);
	CHECK(strstr(b.data, "# TYPE process_resident_memory_bytes gauge\n") != NULL);
	CHECK(strstr(b.data, "# TYPE process_start_time_seconds gauge\n") != NULL);
	CHECK(strstr(b.data, "\nprocess_max_fds ") != NULL);
	buf_free(&b);
}

int main(void)
{
	test_samples();
	test_histogram();
	test_vec();
	test_process();
	return check_summary();
}
