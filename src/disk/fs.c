/* fs.c - the posix implementation of struct fs_ops (the disk layer's only
 * file syscalls) and small helpers over whichever ops are installed. */
#include "disk/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/xalloc.h"

/* ---- posix ops ----------------------------------------------------------- */

static int px_ret(int rc)
{
	return rc < 0 ? -errno : rc;
}

static int px_open(const char *path, int flags, mode_t mode)
{
	return px_ret(open(path, flags | O_CLOEXEC, mode));
}

static int px_close(int fd)
{
	return px_ret(close(fd));
}

static ssize_t px_pread(int fd, void *buf, size_t n, uint64_t off)
{
	ssize_t r;
	do
		r = pread(fd, buf, n, (off_t)off);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

static ssize_t px_pwrite(int fd, const void *buf, size_t n, uint64_t off)
{
	ssize_t r;
	do
		r = pwrite(fd, buf, n, (off_t)off);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

static int px_fdatasync(int fd)
{
	return px_ret(fdatasync(fd));
}

static int px_fsync(int fd)
{
	return px_ret(fsync(fd));
}

static int px_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = px_ret(fsync(fd));
	close(fd);
	return rc;
}

static int px_rename(const char *from, const char *to)
{
	return px_ret(rename(from, to));
}

static int px_unlink(const char *path)
{
	return px_ret(unlink(path));
}

static int px_ftruncate(int fd, uint64_t len)
{
	return px_ret(ftruncate(fd, (off_t)len));
}

/* fallocate(2) mode 0 extends the size, so later fdatasyncs need not
 * journal a size change. Filesystems without it get zeros written. */
static int px_fallocate(int fd, uint64_t len)
{
	if (fallocate(fd, 0, 0, (off_t)len) == 0)
		return 0;
	if (errno != EOPNOTSUPP && errno != ENOSYS)
		return -errno;
	return -posix_fallocate(fd, 0, (off_t)len); /* returns an errno value */
}

static int px_mkdir(const char *path, mode_t mode)
{
	return px_ret(mkdir(path, mode));
}

static int px_list(const char *dir, char ***names, size_t *n)
{
	DIR *d = opendir(dir);
	if (!d)
		return -errno;
	char **v = NULL;
	size_t len = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (len == cap) {
			cap = cap ? cap * 2 : 16;
			v = xrealloc(v, cap * sizeof(*v));
		}
		v[len] = xstrdup(de->d_name);
		len++;
	}
	closedir(d);
	*names = v;
	*n = len;
	return 0;
}

static int px_size(int fd, uint64_t *out)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	*out = (uint64_t)st.st_size;
	return 0;
}

const struct fs_ops fs_posix_ops = {
	.name = "posix",
	.open = px_open,
	.close = px_close,
	.pread = px_pread,
	.pwrite = px_pwrite,
	.fdatasync = px_fdatasync,
	.fsync = px_fsync,
	.fsync_dir = px_fsync_dir,
	.rename = px_rename,
	.unlink = px_unlink,
	.ftruncate = px_ftruncate,
	.fallocate = px_fallocate,
	.mkdir = px_mkdir,
	.list = px_list,
	.size = px_size,
};

const struct fs_ops *fs_ops = &fs_posix_ops;

void fs_set_ops(const struct fs_ops *ops)
{
	fs_ops = ops ? ops : &fs_posix_ops;
}

/* ---- helpers -------------------------------------------------------------- */

void fs_names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int fs_write_full(int fd, const void *buf, size_t n, uint64_t off)
{
	const char *p = buf;
	while (n > 0) {
		ssize_t w = fs_ops->pwrite(fd, p, n, off);
		if (w < 0)
			return (int)w;
		if (w == 0)
			return -EIO;
		p += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

int fs_read_full(int fd, void *buf, size_t n, uint64_t off)
{
	char *p = buf;
	while (n > 0) {
		ssize_t r = fs_ops->pread(fd, p, n, off);
		if (r < 0)
			return (int)r;
		if (r == 0)
			return -EIO;
		p += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

int fs_read_file(const char *path, void **data, size_t *len)
{
	int fd = fs_ops->open(path, O_RDONLY, 0);
	if (fd < 0)
		return fd;
	uint64_t size;
	int rc = fs_ops->size(fd, &size);
	char *p = NULL;
	if (rc == 0) {
		p = xmalloc(size + 1);
		rc = fs_read_full(fd, p, size, 0);
	}
	fs_ops->close(fd);
	if (rc < 0) {
		free(p);
		return rc;
	}
	p[size] = '\0';
	*data = p;
	*len = size;
	return 0;
}

static void fs_parent(char *buf, size_t cap, const char *path)
{
	snprintf(buf, cap, "%s", path);
	size_t n = strlen(buf);
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
	char *slash = strrchr(buf, '/');
	if (!slash)
		snprintf(buf, cap, ".");
	else if (slash == buf)
		buf[1] = '\0';
	else
		*slash = '\0';
}

int fs_mkdir_durable(const char *path)
{
	int rc = fs_ops->mkdir(path, 0750);
	if (rc == -EEXIST)
		return 0;
	char parent[4096];
	fs_parent(parent, sizeof(parent), path);
	if (rc == -ENOENT && strcmp(parent, path) != 0) {
		rc = fs_mkdir_durable(parent); /* mkdir -p */
		if (rc == 0)
			rc = fs_ops->mkdir(path, 0750);
	}
	if (rc < 0)
		return rc;
	return fs_ops->fsync_dir(parent);
}

void fs_join(char *buf, size_t cap, const char *dir, const char *name)
{
	snprintf(buf, cap, "%s/%s", dir, name);
}

void fs_pair_name(char *buf, size_t cap, uint64_t a, uint64_t b, const char *ext)
{
	snprintf(buf, cap, "%016" PRIx64 "-%016" PRIx64 ".%s", a, b, ext);
}

bool fs_parse_pair_name(const char *name, const char *ext, uint64_t *a, uint64_t *b)
{
	size_t len = 16 + 1 + 16 + 1 + strlen(ext);
	unsigned long long x, y;
	int used = 0;
	if (strlen(name) != len || name[16] != '-' || name[33] != '.' ||
	    strcmp(name + 34, ext) != 0 || sscanf(name, "%16llx-%16llx.%n", &x, &y, &used) != 2 ||
	    used != 34)
		return false;
	*a = x;
	*b = y;
	return true;
}
