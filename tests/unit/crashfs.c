/* crashfs.c - the in-memory crash-simulating file layer for the disk tests:
 * inodes keep a current image, a synced image and the list of unsynced ops;
 * the namespace keeps a current and a synced (fsync_dir'ed) table. */
#include "crashfs.h"
#include "util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum cf_op_kind {
	CF_WRITE,
	CF_TRUNCATE,
	CF_EXTEND
};

struct cf_op {
	enum cf_op_kind kind;
	uint64_t off; /* WRITE offset; TRUNCATE/EXTEND: the new length */
	size_t len;
	uint8_t *data; /* WRITE: owned copy */
};

struct cf_image {
	uint8_t *bytes;
	size_t len, cap;
};

struct cf_inode {
	bool is_dir;
	struct cf_image cur; /* what reads see */
	struct cf_image syn; /* what survives a crash for sure */
	struct cf_op *ops;   /* unsynced, oldest first */
	size_t n_ops, cap_ops;
};

struct cf_name {
	char *path;
	size_t ino;
};

struct cf_table {
	struct cf_name *v;
	size_t n, cap;
};

static struct {
	struct cf_inode **inodes;
	size_t n_inodes;
	struct cf_table cur, syn;
	long *fds; /* fd - CF_FD_BASE -> inode index, or -1 */
	size_t n_fds;
	uint64_t rng;
	uint64_t syncs;
	int sync_error;	 /* crashfs_fail_syncs: -errno for every sync */
	bool force_keep; /* crashfs_crash_tear_at: exact prefix length */
	size_t keep;
	uint64_t boundaries; /* ops that change the disk, since init */
	uint64_t cut_at;     /* crashfs_power_cut_at: the boundary that never runs */
	bool off;	     /* the power is off: every op fails with -EIO */
} cf;

#define CF_FD_BASE 1000

/* Every op that may change what a crash leaves (a write, a sync, a name
 * change) is a boundary: counted, and the power may go just before it. */
static bool cf_boundary(void)
{
	if (cf.off)
		return false;
	cf.boundaries++;
	if (cf.cut_at && cf.boundaries >= cf.cut_at) {
		cf.off = true;
		return false;
	}
	return true;
}

#define CF_POWER_OR_EIO()            \
	do {                         \
		if (!cf_boundary())  \
			return -EIO; \
	} while (0)
#define CF_ON_OR_EIO()               \
	do {                         \
		if (cf.off)          \
			return -EIO; \
	} while (0)

static uint64_t cf_rand(void)
{
	uint64_t x = cf.rng;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	cf.rng = x;
	return x;
}

/* ---- images ---------------------------------------------------------------- */

static void cf_image_resize(struct cf_image *im, size_t len)
{
	if (len > im->cap) {
		size_t cap = im->cap ? im->cap : 256;
		while (cap < len)
			cap *= 2;
		im->bytes = xrealloc(im->bytes, cap);
		im->cap = cap;
	}
	if (len > im->len)
		memset(im->bytes + im->len, 0, len - im->len);
	im->len = len;
}

static void cf_image_write(struct cf_image *im, uint64_t off, const void *data, size_t len)
{
	if (len == 0)
		return;
	if (off + len > im->len)
		cf_image_resize(im, off + len);
	if (data)
		memcpy(im->bytes + off, data, len);
	else
		memset(im->bytes + off, 0, len);
}

static void cf_image_copy(struct cf_image *dst, const struct cf_image *src)
{
	dst->len = 0;
	cf_image_resize(dst, src->len);
	if (src->len)
		memcpy(dst->bytes, src->bytes, src->len);
}

static void cf_apply(struct cf_image *im, const struct cf_op *op, size_t keep, bool zero)
{
	switch (op->kind) {
	case CF_WRITE:
		cf_image_write(im, op->off, zero ? NULL : op->data, keep);
		break;
	case CF_TRUNCATE:
		cf_image_resize(im, op->off);
		break;
	case CF_EXTEND:
		if (op->off > im->len)
			cf_image_resize(im, op->off);
		break;
	}
}

/* ---- inodes ----------------------------------------------------------------- */

static void cf_ops_clear(struct cf_inode *in)
{
	for (size_t i = 0; i < in->n_ops; i++)
		free(in->ops[i].data);
	in->n_ops = 0;
}

static void cf_record(struct cf_inode *in, enum cf_op_kind kind, uint64_t off, const void *data,
		      size_t len)
{
	if (in->n_ops == in->cap_ops) {
		in->cap_ops = in->cap_ops ? in->cap_ops * 2 : 8;
		in->ops = xrealloc(in->ops, in->cap_ops * sizeof(*in->ops));
	}
	struct cf_op *op = &in->ops[in->n_ops++];
	op->kind = kind;
	op->off = off;
	op->len = len;
	op->data = NULL;
	if (kind == CF_WRITE) {
		op->data = xrealloc(NULL, len);
		memcpy(op->data, data, len);
	}
}

static size_t cf_inode_new(bool is_dir)
{
	struct cf_inode *in = xcalloc(1, sizeof(*in));
	in->is_dir = is_dir;
	cf.inodes = xrealloc(cf.inodes, (cf.n_inodes + 1) * sizeof(*cf.inodes));
	cf.inodes[cf.n_inodes] = in;
	return cf.n_inodes++;
}

static void cf_inode_free(struct cf_inode *in)
{
	cf_ops_clear(in);
	free(in->ops);
	free(in->cur.bytes);
	free(in->syn.bytes);
	free(in);
}

/* Crash one inode: rebuild cur from syn plus what mode keeps. */
static void cf_inode_crash(struct cf_inode *in, enum crashfs_mode mode)
{
	struct cf_image im = {0};
	cf_image_copy(&im, &in->syn);
	if (mode != CRASHFS_DROP && in->n_ops > 0) {
		for (size_t i = 0; i + 1 < in->n_ops; i++)
			cf_apply(&im, &in->ops[i], in->ops[i].len, false);
		struct cf_op *last = &in->ops[in->n_ops - 1];
		if (mode == CRASHFS_TEAR) {
			size_t keep = last->len ? (size_t)(cf_rand() % last->len) : 0;
			if (cf.force_keep)
				keep = cf.keep < last->len ? cf.keep : last->len;
			if (last->kind == CF_WRITE)
				cf_apply(&im, last, keep, false);
		} else {
			cf_apply(&im, last, last->len, true);
		}
	}
	free(in->cur.bytes);
	in->cur = im;
	cf_image_copy(&in->syn, &in->cur);
	cf_ops_clear(in);
}

/* ---- names ------------------------------------------------------------------ */

static long cf_lookup(const struct cf_table *t, const char *path)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->v[i].path, path))
			return (long)i;
	return -1;
}

static void cf_table_add(struct cf_table *t, const char *path, size_t ino)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->v = xrealloc(t->v, t->cap * sizeof(*t->v));
	}
	t->v[t->n].path = xstrdup(path);
	t->v[t->n].ino = ino;
	t->n++;
}

static void cf_table_del(struct cf_table *t, size_t i)
{
	free(t->v[i].path);
	t->v[i] = t->v[--t->n];
}

static void cf_table_free(struct cf_table *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].path);
	free(t->v);
	memset(t, 0, sizeof(*t));
}

/* True when path's parent directory is exactly dir. */
static bool cf_is_child(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (n == 1 && dir[0] == '/')
		n = 0;
	if (strncmp(path, dir, n) != 0 || path[n] != '/' || path[n + 1] == '\0')
		return false;
	return strchr(path + n + 1, '/') == NULL;
}

static bool cf_parent_is_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return false;
	if (slash == path)
		return true; /* parent is "/" */
	char parent[4096];
	size_t n = (size_t)(slash - path);
	if (n >= sizeof(parent))
		return false;
	memcpy(parent, path, n);
	parent[n] = '\0';
	long i = cf_lookup(&cf.cur, parent);
	return i >= 0 && cf.inodes[cf.cur.v[i].ino]->is_dir;
}

/* ---- fds --------------------------------------------------------------------- */

static struct cf_inode *cf_fd(int fd)
{
	if (fd < CF_FD_BASE || (size_t)(fd - CF_FD_BASE) >= cf.n_fds)
		return NULL;
	long ino = cf.fds[fd - CF_FD_BASE];
	return ino < 0 ? NULL : cf.inodes[ino];
}

static int cf_fd_new(size_t ino)
{
	size_t i;
	for (i = 0; i < cf.n_fds; i++)
		if (cf.fds[i] < 0)
			break;
	if (i == cf.n_fds) {
		cf.fds = xrealloc(cf.fds, (cf.n_fds + 1) * sizeof(*cf.fds));
		cf.n_fds++;
	}
	cf.fds[i] = (long)ino;
	return (int)i + CF_FD_BASE;
}

/* ---- the ops ------------------------------------------------------------------- */

static int cf_open(const char *path, int flags, mode_t mode)
{
	(void)mode;
	if (flags & (O_CREAT | O_TRUNC))
		CF_POWER_OR_EIO();
	else
		CF_ON_OR_EIO();
	long i = cf_lookup(&cf.cur, path);
	if (i >= 0 && (flags & O_CREAT) && (flags & O_EXCL))
		return -EEXIST;
	if (i < 0) {
		if (!(flags & O_CREAT))
			return -ENOENT;
		if (!cf_parent_is_dir(path))
			return -ENOENT;
		cf_table_add(&cf.cur, path, cf_inode_new(false));
		i = (long)cf.cur.n - 1;
	}
	size_t ino = cf.cur.v[i].ino;
	if (cf.inodes[ino]->is_dir)
		return -EISDIR;
	if (flags & O_TRUNC) {
		cf_image_resize(&cf.inodes[ino]->cur, 0);
		cf_record(cf.inodes[ino], CF_TRUNCATE, 0, NULL, 0);
	}
	return cf_fd_new(ino);
}

static int cf_close(int fd)
{
	CF_ON_OR_EIO();
	if (!cf_fd(fd))
		return -EBADF;
	cf.fds[fd - CF_FD_BASE] = -1;
	return 0;
}

static ssize_t cf_pread(int fd, void *buf, size_t n, uint64_t off)
{
	CF_ON_OR_EIO();
	struct cf_inode *in = cf_fd(fd);
	if (!in)
		return -EBADF;
	if (off >= in->cur.len)
		return 0;
	if (n > in->cur.len - off)
		n = in->cur.len - off;
	memcpy(buf, in->cur.bytes + off, n);
	return (ssize_t)n;
}

static ssize_t cf_pwrite(int fd, const void *buf, size_t n, uint64_t off)
{
	CF_POWER_OR_EIO();
	struct cf_inode *in = cf_fd(fd);
	if (!in)
		return -EBADF;
	cf_image_write(&in->cur, off, buf, n);
	cf_record(in, CF_WRITE, off, buf, n);
	return (ssize_t)n;
}

static int cf_sync(int fd)
{
	CF_POWER_OR_EIO();
	struct cf_inode *in = cf_fd(fd);
	if (!in)
		return -EBADF;
	cf.syncs++;
	if (cf.sync_error)
		return cf.sync_error; /* like Linux: the data may or may not be on disk */
	cf_image_copy(&in->syn, &in->cur);
	cf_ops_clear(in);
	return 0;
}

static int cf_fsync_dir(const char *dir)
{
	CF_POWER_OR_EIO();
	long d = cf_lookup(&cf.cur, dir);
	if (strcmp(dir, "/") != 0 && (d < 0 || !cf.inodes[cf.cur.v[d].ino]->is_dir))
		return -ENOENT;
	for (size_t i = 0; i < cf.syn.n;) {
		if (cf_is_child(cf.syn.v[i].path, dir))
			cf_table_del(&cf.syn, i);
		else
			i++;
	}
	for (size_t i = 0; i < cf.cur.n; i++)
		if (cf_is_child(cf.cur.v[i].path, dir))
			cf_table_add(&cf.syn, cf.cur.v[i].path, cf.cur.v[i].ino);
	return 0;
}

static int cf_rename(const char *from, const char *to)
{
	CF_POWER_OR_EIO();
	long i = cf_lookup(&cf.cur, from);
	if (i < 0)
		return -ENOENT;
	if (!cf_parent_is_dir(to))
		return -ENOENT;
	size_t ino = cf.cur.v[i].ino;
	long j = cf_lookup(&cf.cur, to);
	if (j >= 0)
		cf_table_del(&cf.cur, (size_t)j);
	i = cf_lookup(&cf.cur, from); /* the delete may have moved it */
	cf_table_del(&cf.cur, (size_t)i);
	cf_table_add(&cf.cur, to, ino);
	return 0;
}

static int cf_unlink(const char *path)
{
	CF_POWER_OR_EIO();
	long i = cf_lookup(&cf.cur, path);
	if (i < 0)
		return -ENOENT;
	if (cf.inodes[cf.cur.v[i].ino]->is_dir)
		return -EISDIR;
	cf_table_del(&cf.cur, (size_t)i);
	return 0;
}

static int cf_ftruncate(int fd, uint64_t len)
{
	CF_POWER_OR_EIO();
	struct cf_inode *in = cf_fd(fd);
	if (!in)
		return -EBADF;
	cf_image_resize(&in->cur, len);
	cf_record(in, CF_TRUNCATE, len, NULL, 0);
	return 0;
}

static int cf_fallocate(int fd, uint64_t len)
{
	CF_POWER_OR_EIO();
	struct cf_inode *in = cf_fd(fd);
	if (!in)
		return -EBADF;
	if (len > in->cur.len)
		cf_image_resize(&in->cur, len);
	cf_record(in, CF_EXTEND, len, NULL, 0);
	return 0;
}

static int cf_mkdir(const char *path, mode_t mode)
{
	(void)mode;
	CF_POWER_OR_EIO();
	if (!strcmp(path, "/") || cf_lookup(&cf.cur, path) >= 0)
		return -EEXIST;
	if (!cf_parent_is_dir(path))
		return -ENOENT;
	cf_table_add(&cf.cur, path, cf_inode_new(true));
	return 0;
}

static int cf_list(const char *dir, char ***names, size_t *n)
{
	CF_ON_OR_EIO();
	long d = cf_lookup(&cf.cur, dir);
	if (strcmp(dir, "/") != 0 && (d < 0 || !cf.inodes[cf.cur.v[d].ino]->is_dir))
		return -ENOENT;
	char **v = NULL;
	size_t len = 0;
	for (size_t i = 0; i < cf.cur.n; i++) {
		if (!cf_is_child(cf.cur.v[i].path, dir))
			continue;
		v = xrealloc(v, (len + 1) * sizeof(*v));
		v[len] = xstrdup(strrchr(cf.cur.v[i].path, '/') + 1);
		len++;
	}
	*names = v;
	*n = len;
	return 0;
}

static int cf_size(int fd, uint64_t *out)
{
	CF_ON_OR_EIO();
	struct cf_inode *in = cf_fd(fd);
	if (!in)
		return -EBADF;
	*out = in->cur.len;
	return 0;
}

const struct fs_ops crashfs_ops = {
	.name = "crashfs",
	.open = cf_open,
	.close = cf_close,
	.pread = cf_pread,
	.pwrite = cf_pwrite,
	.fdatasync = cf_sync,
	.fsync = cf_sync,
	.fsync_dir = cf_fsync_dir,
	.rename = cf_rename,
	.unlink = cf_unlink,
	.ftruncate = cf_ftruncate,
	.fallocate = cf_fallocate,
	.mkdir = cf_mkdir,
	.list = cf_list,
	.size = cf_size,
};

/* ---- control ------------------------------------------------------------------ */

void crashfs_reset(void)
{
	for (size_t i = 0; i < cf.n_inodes; i++)
		cf_inode_free(cf.inodes[i]);
	free(cf.inodes);
	cf_table_free(&cf.cur);
	cf_table_free(&cf.syn);
	free(cf.fds);
	memset(&cf, 0, sizeof(cf));
	fs_set_ops(NULL);
}

void crashfs_init(uint64_t seed)
{
	crashfs_reset();
	cf.rng = seed ? seed : 0x9E3779B97F4A7C15ull;
	fs_set_ops(&crashfs_ops);
}

void crashfs_crash_names(enum crashfs_mode mode, bool keep_names)
{
	for (size_t i = 0; i < cf.n_fds; i++)
		cf.fds[i] = -1;
	for (size_t i = 0; i < cf.n_inodes; i++)
		cf_inode_crash(cf.inodes[i], mode);
	if (keep_names) {
		/* the journal happened to commit every name change */
		cf_table_free(&cf.syn);
		for (size_t i = 0; i < cf.cur.n; i++)
			cf_table_add(&cf.syn, cf.cur.v[i].path, cf.cur.v[i].ino);
	} else {
		cf_table_free(&cf.cur);
		for (size_t i = 0; i < cf.syn.n; i++)
			cf_table_add(&cf.cur, cf.syn.v[i].path, cf.syn.v[i].ino);
	}
	cf.off = false;
	cf.cut_at = 0;
}

void crashfs_crash(enum crashfs_mode mode)
{
	crashfs_crash_names(mode, false);
}

void crashfs_power_cut_at(uint64_t boundary)
{
	cf.cut_at = boundary;
}

uint64_t crashfs_boundaries(void)
{
	return cf.boundaries;
}

bool crashfs_power_is_off(void)
{
	return cf.off;
}

void crashfs_crash_tear_at(size_t keep)
{
	cf.force_keep = true;
	cf.keep = keep;
	crashfs_crash(CRASHFS_TEAR);
	cf.force_keep = false;
}

int crashfs_flip_byte(const char *path, uint64_t off, uint8_t xor_mask)
{
	long i = cf_lookup(&cf.cur, path);
	if (i < 0)
		return -ENOENT;
	struct cf_inode *in = cf.inodes[cf.cur.v[i].ino];
	if (off >= in->cur.len)
		return -EINVAL;
	in->cur.bytes[off] ^= xor_mask;
	if (off < in->syn.len)
		in->syn.bytes[off] ^= xor_mask;
	return 0;
}

int crashfs_file_size(const char *path, uint64_t *size)
{
	long i = cf_lookup(&cf.cur, path);
	if (i < 0)
		return -ENOENT;
	*size = cf.inodes[cf.cur.v[i].ino]->cur.len;
	return 0;
}

void crashfs_fail_syncs(int err)
{
	cf.sync_error = err > 0 ? -err : err;
}

uint64_t crashfs_sync_count(void)
{
	return cf.syncs;
}
