/* test_cluster_file.c - proxy/cluster_file: etcd's exact bytes, a round
 * trip, an absent file, malformed files, the directory created (0700) and
 * no temporary file left behind. Works in a fresh directory under /tmp. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/harness.h"
#include "proxy/cluster_file.h"
#include "util/buf.h"

static char base[64];

static void path_in(char *out, size_t cap, const char *rel)
{
	snprintf(out, cap, "%s/%s", base, rel);
}

static void put_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

static char *slurp(const char *path)
{
	static char text[4096];
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return NULL;
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	return text;
}

static void free_urls(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static size_t entries(const char *dir)
{
	DIR *d = opendir(dir);
	size_t n = 0;
	struct dirent *de;
	while (d && (de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

static void test_round_trip(void)
{
	char dir[128], path[160];
	path_in(dir, sizeof(dir), "data/proxy");
	snprintf(path, sizeof(path), "%s/cluster", dir);
	char *urls[] = {"http://127.0.0.1:2380", "http://10.0.0.2:2380"};
	struct buf err = BUF_INIT;
	REQUIRE_EQ(cluster_file_write(path, urls, 2, &err), 0);
	/* etcd's bytes: json.Marshal(struct{ PeerURLs []string }) */
	CHECK_STR(slurp(path),
		  "{\"PeerURLs\":[\"http://127.0.0.1:2380\",\"http://10.0.0.2:2380\"]}");
	struct stat st;
	CHECK(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0700);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK_EQ(entries(dir), 1); /* no temporary file left */
	char **got;
	size_t n;
	CHECK_EQ(cluster_file_read(path, &got, &n, &err), 1);
	REQUIRE_EQ(n, 2);
	CHECK_STR(got[0], urls[0]);
	CHECK_STR(got[1], urls[1]);
	free_urls(got, n);
	/* rewritten with one URL */
	REQUIRE_EQ(cluster_file_write(path, urls + 1, 1, &err), 0);
	CHECK_STR(slurp(path), "{\"PeerURLs\":[\"http://10.0.0.2:2380\"]}");
	CHECK_EQ(entries(dir), 1);
	CHECK_EQ(cluster_file_read(path, &got, &n, &err), 1);
	CHECK_EQ(n, 1);
	free_urls(got, n);
	/* etcd's own file (a nil list too) reads */
	put_file(path, "{\"PeerURLs\":[\"http://a:1\"]}\n");
	CHECK_EQ(cluster_file_read(path, &got, &n, &err), 1);
	CHECK_EQ(n, 1);
	free_urls(got, n);
	put_file(path, "{\"PeerURLs\":null}");
	CHECK_EQ(cluster_file_read(path, &got, &n, &err), 1);
	CHECK_EQ(n, 0);
	free_urls(got, n);
	CHECK_EQ(err.len, 0);
	buf_free(&err);
}

static void test_absent(void)
{
	char path[160];
	path_in(path, sizeof(path), "nowhere/cluster");
	char **got = (char **)1;
	size_t n = 9;
	struct buf err = BUF_INIT;
	CHECK_EQ(cluster_file_read(path, &got, &n, &err), 0);
	CHECK(got == NULL);
	CHECK_EQ(n, 0);
	CHECK_EQ(err.len, 0);
	buf_free(&err);
}

static void expect_malformed(const char *text, const char *words)
{
	char path[160];
	path_in(path, sizeof(path), "bad");
	put_file(path, text);
	char **got;
	size_t n;
	struct buf err = BUF_INIT;
	CHECK_EQ(cluster_file_read(path, &got, &n, &err), -1);
	CHECK(err.data != NULL && strstr(err.data, path) != NULL);
	CHECK(err.data != NULL && strstr(err.data, words) != NULL);
	if (err.data && strstr(err.data, words) == NULL)
		printf("  got: %s\n", err.data);
	buf_free(&err);
}

static void test_malformed(void)
{
	expect_malformed("garbage", "malformed");
	expect_malformed("", "malformed");
	expect_malformed("{\"PeerURLs\":[\"http://a:1\"", "malformed");
	expect_malformed("[\"http://a:1\"]", "PeerURLs");
	expect_malformed("{\"peers\":[]}", "PeerURLs");
	expect_malformed("{\"PeerURLs\":[1]}", "PeerURLs[0]");
}

static void test_unwritable(void)
{
	char path[160];
	path_in(path, sizeof(path), "file/cluster");
	char file[160];
	path_in(file, sizeof(file), "file");
	put_file(file, "x"); /* a file where the directory should be */
	char *urls[] = {"http://a:1"};
	struct buf err = BUF_INIT;
	CHECK_EQ(cluster_file_write(path, urls, 1, &err), -1);
	CHECK(err.len > 0);
	buf_free(&err);
}

static void cleanup(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", base);
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
		{"round_trip", test_round_trip},
		{"absent", test_absent},
		{"malformed", test_malformed},
		{"unwritable", test_unwritable},
	};
	snprintf(base, sizeof(base), "/tmp/cetcd-cluster-file-XXXXXX");
	if (mkdtemp(base) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	int rc = run_tests(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
	cleanup();
	return rc;
}
