/* members_json.h - the member table as etcd writes it, in its two shapes:
 * the client's /v2/members (httptypes.Member):
 *   {"id":"<hex>","name":..,"peerURLs":[..],"clientURLs":[..]}
 * and the peers' GET /members (etcd 3.4 marshals []*membership.Member):
 *   [{"id":<uint64>,"peerURLs":[..],"name":..,"clientURLs":[..]}]
 * with name and clientURLs left out while empty (an unstarted member). */
#ifndef CETCD_MEMBERS_JSON_H
#define CETCD_MEMBERS_JSON_H

#include "kv/cluster.h"
#include "util/buf.h"

/* Appends one member object. */
void json_put_member(struct buf *b, const struct member *m);
/* Appends a JSON array of every member, in the table's (id) order. */
void json_put_members(struct buf *b, const struct cluster *c);
/* Appends the peer /members array (etcd 3.4's membership.Member shape). */
void json_put_peer_members(struct buf *b, const struct cluster *c);

/* Checks that data[0..len) is one JSON value as Go's encoding/json scanner
 * does (json.Unmarshal validates the whole input first). Returns 0, or -1
 * with Go's message in msg ("invalid character 'x' after object key",
 * "unexpected end of JSON input", ...): the members API answers a request
 * body with it, as etcd does. */
int json_go_syntax_check(const char *data, size_t len, char *msg, size_t cap);

#endif /* CETCD_MEMBERS_JSON_H */
