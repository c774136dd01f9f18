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

#endif /* CETCD_MEMBERS_JSON_H */
