/* http_auth.h - etcd 3.4's v2 auth API: /v2/auth/enable (GET, PUT,
 * DELETE), /v2/auth/users[/<name>] and /v2/auth/roles[/<name>] (GET; PUT
 * and DELETE on a name), with etcd's JSON, status codes and messages.
 * Reads are served from the member's auth table; changes go through the
 * log (kv/command.c CMD_AUTH, applied by member/apply.c) and are answered
 * once applied. A new password is hashed here, on the password worker,
 * before its change is proposed: the log carries the hash. Routes in
 * routes.c. Loop thread only. */
#ifndef CETCD_HTTP_AUTH_H
#define CETCD_HTTP_AUTH_H

#include "net/http_server.h"

void http_auth_enable(struct http_req *r);
void http_auth_users(struct http_req *r);
void http_auth_roles(struct http_req *r);

#endif /* CETCD_HTTP_AUTH_H */
