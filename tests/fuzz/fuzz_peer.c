/* fuzz_peer.c - libFuzzer target: the peer message codec
 * (member/peer_codec.c), the body of every POST /raft a member receives.
 * Input: one batch. Invariants: a batch that decodes re-encodes (header +
 * each record) to bytes y that decode to the same records and re-encode to
 * exactly y; every entry, snapshot and payload lies inside the input. */
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "member/peer_codec.h"
#include "util/buf.h"

static void encode_all(const struct peer_decoded *d, struct buf *out)
{
	peer_encode_header(out, (uint32_t)d->n_records);
	for (size_t i = 0; i < d->n_records; i++) {
		const struct peer_record *r = &d->records[i];
		if (r->kind == PEER_REC_MESSAGE)
			peer_encode_message(out, &r->msg);
		else
			peer_encode_proposal(out, r->payload, r->len);
	}
}

static bool inside(const void *p, size_t n, const uint8_t *data, size_t size)
{
	if (n == 0)
		return true;
	const uint8_t *b = p;
	return p != NULL && b >= data && b + n <= data + size;
}

static void check_inside(const struct peer_decoded *d, const uint8_t *data, size_t size)
{
	for (size_t i = 0; i < d->n_records; i++) {
		const struct peer_record *r = &d->records[i];
		FUZZ_CHECK(r->kind == PEER_REC_MESSAGE || r->kind == PEER_REC_PROPOSAL);
		if (r->kind == PEER_REC_PROPOSAL) {
			FUZZ_CHECK(inside(r->payload, r->len, data, size));
			continue;
		}
		const struct raft_message *m = &r->msg;
		for (size_t e = 0; e < m->n_entries; e++)
			FUZZ_CHECK(inside(m->entries[e].data, m->entries[e].len, data, size));
		if (m->snapshot != NULL)
			FUZZ_CHECK(inside(m->snapshot->data, m->snapshot->len, data, size));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct peer_decoded d;
	int rc = peer_decode(data, size, &d);
	if (rc != PEER_CODEC_OK) {
		FUZZ_CHECK(peer_codec_strerror(rc) != NULL);
		peer_decoded_free(&d);
		return 0;
	}
	check_inside(&d, data, size);
	struct buf y = BUF_INIT, z = BUF_INIT;
	encode_all(&d, &y);
	struct peer_decoded e;
	FUZZ_CHECK(peer_decode(y.data, y.len, &e) == PEER_CODEC_OK);
	FUZZ_CHECK(e.n_records == d.n_records);
	for (size_t i = 0; i < d.n_records; i++) {
		const struct raft_message *a = &d.records[i].msg, *b = &e.records[i].msg;
		FUZZ_CHECK(d.records[i].kind == e.records[i].kind);
		if (d.records[i].kind != PEER_REC_MESSAGE)
			continue;
		FUZZ_CHECK(a->type == b->type && a->from == b->from && a->to == b->to);
		FUZZ_CHECK(a->term == b->term && a->index == b->index && a->commit == b->commit);
		FUZZ_CHECK(a->n_entries == b->n_entries &&
			   (a->snapshot == NULL) == (b->snapshot == NULL));
	}
	check_inside(&e, (const uint8_t *)y.data, y.len);
	encode_all(&e, &z);
	FUZZ_CHECK(y.len == z.len && memcmp(y.data, z.data, y.len) == 0);
	peer_decoded_free(&e);
	peer_decoded_free(&d);
	buf_free(&y);
	buf_free(&z);
	return 0;
}
