/* cluster_file.h - <data-dir>/proxy/cluster: the peer URLs a proxy last
 * learnt, as etcd writes them ({"PeerURLs":["http://...",...]}), so that a
 * restarted proxy finds the cluster even when its flags are stale. Written
 * atomically: a temporary file, fsync, rename, fsync of the directory. */
#ifndef CETCD_PROXY_CLUSTER_FILE_H
#define CETCD_PROXY_CLUSTER_FILE_H

#include <stddef.h>

#include "util/buf.h"

/* Reads the file at path. Returns 1 with *urls (owned: free each string and
 * the array) and *n set, 0 if there is no such file, -1 with a message in
 * err if it cannot be read or parsed. */
int cluster_file_read(const char *path, char ***urls, size_t *n, struct buf *err);
/* Writes urls to path atomically (creating its directory, mode 0700, if
 * missing). Returns 0, or -1 with a message in err. */
int cluster_file_write(const char *path, char *const *urls, size_t n, struct buf *err);

#endif /* CETCD_PROXY_CLUSTER_FILE_H */
