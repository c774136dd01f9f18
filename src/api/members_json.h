/* members_json.h - the member table as etcd writes it (httptypes.Member):
 * {"id":"<hex>","name":..,"peerURLs":[..],"clientURLs":[..]}. One writer
 * for the client's /v2/members and the peers' GET /members. */
#ifndef CETCD_MEMBERS_JSON_H
#define CETCD_MEMBERS_JSON_H

#include "kv/cluster.h"
#include "util/buf.h"

/* Appends one member object. */
void json_put_member(struct buf *b, const struct member *m);
/* Appends a JSON array of every member, in the table's (id) order. */
void json_put_members(struct buf *b, const struct cluster *c);

#endif /* CETCD_MEMBERS_JSON_H */
