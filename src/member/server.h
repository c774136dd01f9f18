/* server.h - the member: the state the loop thread owns, wired together.
 * Every field is touched only from the loop thread, and written only by
 * server.c: the driver (node*.c, apply.c) reports what the log changed
 * through the functions below, boot and join return what they learnt. */
#ifndef CETCD_SERVER_H
#define CETCD_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "kv/cluster.h"

struct loop;
struct signal_stop;
struct store;
struct auth_state;
struct node;
struct proposals;
struct http_server;
struct http_service;
struct peer_sender;
struct url_map;
struct http_tls;
struct http_client_tls;

/* What the server needs from the configuration (main.c fills it). */
struct server_opts {
	const char *name;
	const char *data_dir;
	const char *wal_dir; /* "" = <data_dir>/member/wal */
	char **listen_client_urls;
	size_t n_listen_client_urls;
	char **listen_peer_urls;
	size_t n_listen_peer_urls;
	char **listen_metrics_urls; /* --listen-metrics-urls (may be none) */
	size_t n_listen_metrics_urls;
	char **advertise_client_urls;
	size_t n_advertise_client_urls;
	char **initial_advertise_peer_urls;
	size_t n_initial_advertise_peer_urls;
	const char *initial_cluster_token;
	const struct url_map *initial_cluster; /* name=url pairs (util/url.h) */
	bool join_existing;		       /* --initial-cluster-state existing */
	bool restarting;		       /* the data dir has a WAL: --initial-* are ignored */
	bool force_new_cluster;		       /* restart as the only member (force_new.c) */
	uint64_t heartbeat_ms;
	uint64_t election_ms;
	uint64_t snapshot_count;
	uint64_t max_snapshots; /* 0 = keep all */
	uint64_t max_wals;	/* 0 = keep all */
	/* Limits (doc/api-compat.md "Limits"): the bytes of key + value +
	 * prevValue a write may carry (--max-request-bytes; 0 = no limit); the
	 * store's accounted size past which writes that add data are refused
	 * (--v2-quota-bytes; 0 = no quota); the event history's length
	 * (--v2-watch-window; 0 = 1000); open client connections (at the cap a
	 * new one is refused at accept; --max-client-conns; 0 = the descriptor
	 * limit minus a reserve). */
	uint64_t max_request_bytes;
	uint64_t v2_quota_bytes;
	uint64_t watch_window;
	uint64_t max_client_conns;
	/* What the client and peer listeners serve (the api's route tables);
	 * every request gets the server as its context. */
	const struct http_service *client_service;
	const struct http_service *peer_service;
	/* TLS (net/tls.h): the https:// client and peer listeners' material
	 * (NULL: such URLs are refused), and what this member presents to its
	 * peers and expects from them (NULL: libcurl's defaults). */
	const struct http_tls *client_tls;
	const struct http_tls *peer_tls;
	const struct http_client_tls *peer_client_tls;
	const struct http_service *metrics_service;
};

struct server {
	struct server_opts opts;
	struct loop *loop;
	struct signal_stop *signals; /* SIGINT/SIGTERM stop the loop */
	struct store *store;
	struct auth_state *auth; /* the v2 auth table (kv/auth.h), beside the store */
	struct node *node;
	struct proposals *props;
	struct http_server *http;	  /* client listeners */
	struct http_server *peer_http;	  /* peer listeners */
	struct http_server *metrics_http; /* --listen-metrics-urls, or NULL */
	struct peer_sender *peers;	  /* sends Raft messages to the other members */
	struct cluster cluster;
	uint64_t self_id;
	int64_t start_wall_ns;
	uint64_t request_timeout_ms;   /* 5 s + 2 x election timeout, like etcd */
	bool expire_in_flight;	       /* leader: an expire sweep is proposed */
	uint64_t expire_hold_until_ms; /* a new leader's TTL grace (see maybe_propose_expiry) */
	uint64_t publish_sent_ms;      /* last publish proposal */
	bool published_applied;	       /* our own publish came back through the log */
	uint64_t removed_ms;	       /* when our own removal was applied (0: never) */
	uint64_t expire_proposed_ms;
};

/* The member table, read-only: only member/ changes it (through applied
 * entries). */
static inline const struct cluster *server_members(const struct server *s)
{
	return &s->cluster;
}

/* Builds the member and binds the listeners. Returns NULL with a message on
 * stderr when something (a port, the data dir) is unusable. */
struct server *server_new(const struct server_opts *opts);
/* Runs until SIGINT/SIGTERM. Returns the process exit code. */
int server_run(struct server *s);
void server_free(struct server *s);

/* What the log changed (apply.c, node*.c). */
/* The member table is replaced (bootstrap entry, snapshot); takes *table. */
void server_replace_members(struct server *s, struct cluster *table);
/* A member added at runtime (m: its table entry; copied). */
void server_member_added(struct server *s, uint64_t id, const struct member *m);
/* A member removed at runtime (this one too: it stops after a grace). */
void server_member_removed(struct server *s, uint64_t id);
/* A member's published attributes (name, client URLs) were applied. */
void server_member_published(struct server *s, const struct member *m);
/* This member's own expiry sweep was applied. */
void server_expiry_applied(struct server *s);
/* This member became the leader. */
void server_became_leader(struct server *s);

#endif /* CETCD_SERVER_H */
