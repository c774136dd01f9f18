/* v2err.h - the etcd v2 error table: errorCode -> message and HTTP status.
 * One X-macro list; everything else derives from it. Pure. Two codes are
 * cetcd's own, in ranges etcd leaves free (doc/api-compat.md): 310 (a write
 * refused by --v2-quota-bytes) and 410 (the last object of a stream=true
 * watch that could not keep up). */
#ifndef CETCD_V2ERR_H
#define CETCD_V2ERR_H

#define V2ERR_TABLE(X)                                                                           \
	X(100, KEY_NOT_FOUND, "Key not found", 404)                                              \
	X(101, TEST_FAILED, "Compare failed", 412)                                               \
	X(102, NOT_FILE, "Not a file", 403)                                                      \
	X(103, NO_MORE_PEER, "Reached the max number of peers in the cluster", 400)              \
	X(104, NOT_DIR, "Not a directory", 400)                                                  \
	X(105, NODE_EXIST, "Key already exists", 412)                                            \
	X(106, KEY_IS_PRESERVED, "The prefix of given key is a keyword in etcd", 400)            \
	X(107, ROOT_RONLY, "Root is read only", 400)                                             \
	X(108, DIR_NOT_EMPTY, "Directory not empty", 403)                                        \
	X(109, EXISTING_PEER_ADDR, "Peer address has existed", 400)                              \
	X(110, UNAUTHORIZED, "The request requires user authentication", 401)                    \
	X(200, VALUE_REQUIRED, "Value is Required in POST form", 400)                            \
	X(201, PREV_VALUE_REQUIRED, "PrevValue is Required in POST form", 400)                   \
	X(202, TTL_NAN, "The given TTL in POST form is not a number", 400)                       \
	X(203, INDEX_NAN, "The given index in POST form is not a number", 400)                   \
	X(204, VALUE_OR_TTL_REQUIRED, "Value or TTL is required in POST form", 400)              \
	X(205, TIMEOUT_NAN, "The given timeout in POST form is not a number", 400)               \
	X(206, NAME_REQUIRED, "Name is required in POST form", 400)                              \
	X(207, INDEX_OR_VALUE_REQUIRED, "Index or value is required", 400)                       \
	X(208, INDEX_VALUE_MUTEX, "Index and value cannot both be specified", 400)               \
	X(209, INVALID_FIELD, "Invalid field", 400)                                              \
	X(210, INVALID_FORM, "Invalid POST form", 400)                                           \
	X(211, REFRESH_VALUE, "Value provided on refresh", 400)                                  \
	X(212, REFRESH_TTL_REQUIRED, "A TTL must be provided on refresh", 400)                   \
	X(300, RAFT_INTERNAL, "Raft Internal Error", 500)                                        \
	X(301, LEADER_ELECT, "During Leader Election", 500)                                      \
	X(310, STORE_QUOTA, "Store quota exceeded", 507) /* cetcd only */                        \
	X(400, WATCHER_CLEARED, "watcher is cleared due to etcd recovery", 400)                  \
	X(401, EVENT_INDEX_CLEARED, "The event in requested index is outdated and cleared", 400) \
	X(402, STANDBY_INTERNAL, "Standby Internal Error", 400)                                  \
	X(403, INVALID_ACTIVE_SIZE, "Invalid active size", 400)                                  \
	X(404, INVALID_REMOVE_DELAY, "Standby remove delay", 400)                                \
	X(410, WATCHER_TOO_SLOW, "The watcher fell behind and was closed", 400) /* cetcd only */ \
	X(500, CLIENT_INTERNAL, "Client Internal Error", 400)

enum v2err_code {
#define V2ERR_ENUM(code, name, msg, status) V2E_##name = code,
	V2ERR_TABLE(V2ERR_ENUM)
#undef V2ERR_ENUM
};

/* etcd's message for code, or "" for a code not in the table. */
const char *v2err_message(int code);
/* etcd's HTTP status for code (400 for anything unmapped, as etcd). */
int v2err_http_status(int code);

#endif /* CETCD_V2ERR_H */
