/* mhd_hello.c - do-nothing HTTP baseline for the benchmark harness.
 *
 * One libmicrohttpd daemon, one thread, epoll, turbo: the same MHD setup as cetcd's
 * client listener, answering every request with a fixed etcd-like GET reply. wrk
 * against this shows what HTTP alone costs on the machine (the ceiling for a GET).
 * run.py compiles it on the fly (cc + pkg-config libmicrohttpd); not built by make.
 *
 * With a directory, every PUT first writes a 160-byte record (about one small PUT's
 * WAL record) to a fallocated file there and fdatasyncs it, as a WAL of one member
 * would: the put1floor scenario's floor for a durable one-connection PUT (HTTP and
 * one write+fdatasync, no Raft, no store).
 *
 *   mhd_hello PORT [FSYNC_DIR]   listens on 127.0.0.1:PORT until killed
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

static const char body[] =
	"{\"action\":\"get\",\"node\":{\"key\":\"/bench/get\",\"value\":\"0123456789abcdef\","
	"\"modifiedIndex\":4,\"createdIndex\":4}}\n";

#define FSYNC_FILE_BYTES ((off_t)64 << 20)
#define RECORD_BYTES	 160

static int fsync_fd = -1; /* the fallocated file PUTs write to, or -1 */
static off_t fsync_off;

static int open_fsync_file(const char *dir)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/mhd-hello-wal", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || posix_fallocate(fd, 0, FSYNC_FILE_BYTES) != 0 || fsync(fd) < 0) {
		perror(path);
		return -1;
	}
	return fd;
}

/* One record appended (wrapping at the end of the file) and made durable. */
static int durable_record(void)
{
	static const char record[RECORD_BYTES] = "mhd_hello record";
	if (fsync_off + RECORD_BYTES > FSYNC_FILE_BYTES)
		fsync_off = 0;
	if (pwrite(fsync_fd, record, RECORD_BYTES, fsync_off) != RECORD_BYTES ||
	    fdatasync(fsync_fd) < 0)
		return -1;
	fsync_off += RECORD_BYTES;
	return 0;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
			       const char *method, const char *version, const char *upload,
			       size_t *upload_size, void **req_cls)
{
	static int marker;
	(void)cls;
	(void)url;
	(void)version;
	(void)upload;
	if (*req_cls == NULL) { /* first call: headers only; answer on the next call, so
				   MHD keeps the connection alive (as cetcd does) */
		*req_cls = &marker;
		return MHD_YES;
	}
	if (*upload_size != 0) { /* swallow any body */
		*upload_size = 0;
		return MHD_YES;
	}
	if (fsync_fd >= 0 && strcmp(method, "PUT") == 0 && durable_record() < 0)
		return MHD_NO;
	struct MHD_Response *r = MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body,
								 MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", "application/json");
	MHD_add_response_header(r, "X-Etcd-Index", "4");
	enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

int main(int argc, char **argv)
{
	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: mhd_hello PORT [FSYNC_DIR]\n");
		return 2;
	}
	if (argc == 3 && (fsync_fd = open_fsync_file(argv[2])) < 0)
		return 1;
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)atoi(argv[1]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct MHD_Daemon *d = MHD_start_daemon(
		MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_TURBO, 0, NULL, NULL, handler, NULL,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned)60000, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)0,
		MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024, MHD_OPTION_END);
	if (d == NULL) {
		fprintf(stderr, "mhd_hello: cannot listen on 127.0.0.1:%s\n", argv[1]);
		return 1;
	}
	for (;;)
		pause();
}
