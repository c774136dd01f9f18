/* fuzz_command.c - libFuzzer target: the replicated command decoder
 * (kv/command.c: command_decode and what apply reads out of a decoded
 * payload: the published member, a member's new peer URLs, the
 * configuration context, the auth operation). Input: one payload, as a
 * log entry carries it.
 * Invariants: a payload that decodes re-encodes to bytes y that decode
 * again and re-encode to exactly y (encode(decode(y)) == y); the
 * CMD_CONF quick test agrees with the decoder; a decoded write applied to
 * a store either succeeds or fails with an etcd error, never crashes. */
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "kv/command.h"
#include "kv/store.h"
#include "util/buf.h"

/* The payload the encoder makes for what c holds; false when c holds
 * something apply would refuse (a publish or conf context that does not
 * decode). */
static bool encode_again(const struct command *c, struct buf *out)
{
	switch (c->type) {
	case CMD_WRITE:
		command_encode_write(out, c->member_id, c->req_id, &c->write);
		return true;
	case CMD_EXPIRE:
		command_encode_expire(out, c->member_id, c->req_id);
		return true;
	case CMD_AUTH:
		command_encode_auth(out, c->member_id, c->req_id, &c->auth);
		return true;
	case CMD_PUBLISH: {
		struct cluster one = {0};
		bool ok = command_publish_member(c, &one) == 0;
		if (ok)
			command_encode_publish(out, &one.members[0]);
		cluster_free(&one);
		return ok;
	}
	case CMD_UPDATE: {
		struct cluster one = {0};
		bool ok = command_update_member(c, &one) == 0;
		if (ok)
			command_encode_update(out, c->member_id, c->req_id, &one.members[0]);
		cluster_free(&one);
		return ok;
	}
	case CMD_CONF: {
		struct conf_context cc;
		if (command_decode_conf_context(c->attrs, c->attrs_len, &cc) != 0)
			return false;
		/* an added table that does not decode is dropped by the decoder */
		command_encode_conf(out, cc.member_id, cc.req_id, c->conf_type, c->conf_node,
				    cc.added.n_members ? &cc.added : NULL);
		conf_context_free(&cc);
		return true;
	}
	}
	FUZZ_CHECK(!"command_decode returned an unknown type");
	return false;
}

static void apply_write(const struct store_write *w)
{
	struct store *s = store_new();
	static const struct store_write seed = {.op = OP_SET, .path = "/d/x", .value = "v"};
	struct store_event *ev = NULL;
	struct store_error err = {0};
	FUZZ_CHECK(store_write(s, &seed, 0, &ev, &err) == 0);
	store_event_unref(ev);
	ev = NULL;
	if (store_write(s, w, 1000, &ev, &err) == 0)
		FUZZ_CHECK(ev != NULL);
	else
		FUZZ_CHECK(err.code != 0);
	store_event_unref(ev);
	store_error_clear(&err);
	store_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct command c;
	if (command_decode(data, size, &c) != 0)
		return 0;
	FUZZ_CHECK(command_is_conf(data, size) == (c.type == CMD_CONF));
	struct buf y = BUF_INIT, z = BUF_INIT;
	if (encode_again(&c, &y)) {
		struct command d;
		FUZZ_CHECK(command_decode(y.data, y.len, &d) == 0);
		FUZZ_CHECK(d.type == c.type);
		FUZZ_CHECK(encode_again(&d, &z));
		FUZZ_CHECK(y.len == z.len && memcmp(y.data, z.data, y.len) == 0);
		command_free(&d);
	}
	/* the write applies as it came (apply checks nothing more) */
	if (c.type == CMD_WRITE && c.write.path[0] == '/')
		apply_write(&c.write);
	buf_free(&y);
	buf_free(&z);
	command_free(&c);
	return 0;
}
