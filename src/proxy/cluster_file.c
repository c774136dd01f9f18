/* cluster_file.c - reading and atomically writing <data-dir>/proxy/cluster,
 * the JSON etcd's proxy keeps its peer URLs in ({"PeerURLs":[...]}, as Go's
 * json.Marshal writes it, mode 0600 in a 0700 directory). */
#include "proxy/cluster_file.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/xalloc.h"

static void free_urls(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* The strings of the PeerURLs array of doc. Returns 0, or -1 with a message. */
static int urls_from_json(const char *path, json_t *doc, char ***urls, size_t *n, struct buf *err)
{
	json_t *arr = json_object_get(doc, "PeerURLs");
	if (!json_is_object(doc) || !(json_is_array(arr) || json_is_null(arr))) {
		buf_printf(err, "%s: no PeerURLs list in the proxy cluster file", path);
		return -1;
	}
	size_t k = json_array_size(arr);
	char **v = xcalloc(k ? k : 1, sizeof(*v));
	for (size_t i = 0; i < k; i++) {
		const char *s = json_string_value(json_array_get(arr, i));
		if (s == NULL) {
			buf_printf(err, "%s: PeerURLs[%zu] is not a string", path, i);
			free_urls(v, i);
			return -1;
		}
		v[i] = xstrdup(s);
	}
	*urls = v;
	*n = k;
	return 0;
}

int cluster_file_read(const char *path, char ***urls, size_t *n, struct buf *err)
{
	*urls = NULL;
	*n = 0;
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		if (errno == ENOENT)
			return 0;
		buf_printf(err, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	json_error_t je;
	json_t *doc = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
	fclose(f);
	if (doc == NULL) {
		buf_printf(err, "%s: malformed proxy cluster file: %s (line %d)", path, je.text,
			   je.line);
		return -1;
	}
	int rc = urls_from_json(path, doc, urls, n, err);
	json_decref(doc);
	return rc < 0 ? -1 : 1;
}

/* The JSON text etcd writes: {"PeerURLs":[...]}, strings escaped as Go's
 * encoding/json escapes them (buf_put_json_str). */
static char *encode(char *const *urls, size_t n)
{
	struct buf b = BUF_INIT;
	buf_puts(&b, "{\"PeerURLs\":[");
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			buf_putc(&b, ',');
		buf_put_json_str(&b, urls[i], strlen(urls[i]));
	}
	buf_puts(&b, "]}");
	return buf_steal(&b, NULL);
}

/* The directory part of path ("." if none), owned. */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (slash == NULL)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

/* Creates dir and its missing parents, mode 0700. */
static int make_dirs(const char *dir, struct buf *err)
{
	struct stat st;
	if (stat(dir, &st) == 0)
		return 0;
	char *parent = dir_of(dir);
	int rc = strcmp(parent, dir) == 0 ? 0 : make_dirs(parent, err);
	free(parent);
	if (rc < 0)
		return -1;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		buf_printf(err, "cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static int sync_dir(const char *dir, struct buf *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0) {
		buf_printf(err, "cannot sync %s: %s", dir, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* Writes text to tmp and makes it durable. */
static int write_tmp(const char *tmp, const char *text, struct buf *err)
{
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		buf_printf(err, "cannot create %s: %s", tmp, strerror(errno));
		return -1;
	}
	if (write_all(fd, text, strlen(text)) < 0 || fsync(fd) < 0) {
		buf_printf(err, "cannot write %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	if (close(fd) < 0) {
		buf_printf(err, "cannot write %s: %s", tmp, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

int cluster_file_write(const char *path, char *const *urls, size_t n, struct buf *err)
{
	char *dir = dir_of(path);
	char *text = encode(urls, n);
	struct buf tmp = BUF_INIT;
	buf_printf(&tmp, "%s.tmp", path);
	int rc = make_dirs(dir, err);
	if (rc == 0)
		rc = write_tmp(tmp.data, text, err);
	if (rc == 0 && rename(tmp.data, path) < 0) {
		buf_printf(err, "cannot rename %s to %s: %s", tmp.data, path, strerror(errno));
		unlink(tmp.data);
		rc = -1;
	}
	if (rc == 0)
		rc = sync_dir(dir, err);
	buf_free(&tmp);
	free(text);
	free(dir);
	return rc;
}
