/* members_json.c - the member table as etcd's JSON (see members_json.h). */
#include "api/members_json.h"

#include <inttypes.h>
#include <string.h>

static void put_str_array(struct buf *b, char *const *v, size_t n)
{
	buf_putc(b, '[');
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_putc(b, ',');
		buf_put_json_str(b, v[i], strlen(v[i]));
	}
	buf_putc(b, ']');
}

void json_put_member(struct buf *b, const struct member *m)
{
	buf_printf(b, "{\"id\":\"%" PRIx64 "\",\"name\":", m->id);
	buf_put_json_str(b, m->name, strlen(m->name));
	buf_puts(b, ",\"peerURLs\":");
	put_str_array(b, m->peer_urls, m->n_peer_urls);
	buf_puts(b, ",\"clientURLs\":");
	put_str_array(b, m->client_urls, m->n_client_urls);
	buf_putc(b, '}');
}

void json_put_members(struct buf *b, const struct cluster *c)
{
	buf_putc(b, '[');
	for (size_t i = 0; i < c->n_members; i++) {
		if (i)
			buf_putc(b, ',');
		json_put_member(b, &c->members[i]);
	}
	buf_putc(b, ']');
}

/* etcd 3.4's membership.Member as encoding/json writes it: the id a uint64
 * number (printed unsigned, so ids above 2^63 stay exact), the embedded
 * RaftAttributes (peerURLs, isLearner omitempty) before the Attributes (name
 * and clientURLs, both omitempty, so an unstarted member has neither). */
static void json_put_peer_member(struct buf *b, const struct member *m)
{
	buf_printf(b, "{\"id\":%" PRIu64 ",\"peerURLs\":", m->id);
	if (m->n_peer_urls)
		put_str_array(b, m->peer_urls, m->n_peer_urls);
	else
		buf_puts(b, "null");
	if (m->name[0]) {
		buf_puts(b, ",\"name\":");
		buf_put_json_str(b, m->name, strlen(m->name));
	}
	if (m->n_client_urls) {
		buf_puts(b, ",\"clientURLs\":");
		put_str_array(b, m->client_urls, m->n_client_urls);
	}
	buf_putc(b, '}');
}

void json_put_peer_members(struct buf *b, const struct cluster *c)
{
	buf_putc(b, '[');
	for (size_t i = 0; i < c->n_members; i++) {
		if (i)
			buf_putc(b, ',');
		json_put_peer_member(b, &c->members[i]);
	}
	buf_putc(b, ']');
}
