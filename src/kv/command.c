/* command.c - PURE: encode/decode every replicated payload: log entries, the
 * context of a configuration entry, the state-snapshot envelope (formats in
 * command.h and doc/disk-format.md). */
#include "kv/command.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/le.h"
#include "util/xalloc.h"

#define CMD_VERSION 1

enum {
	F_DIR = 1,
	F_UNIQUE = 2,
	F_RECURSIVE = 4,
	F_REFRESH = 8,
	F_HAS_TTL = 16,
	F_HAS_VALUE = 32,
	F_HAS_PREV_VALUE = 64,
};

/* str = u32 length + bytes (binary-safe: values may hold NULs). */
static void put_bytes(struct buf *b, const char *s, size_t n)
{
	buf_put_le32(b, (uint32_t)n);
	buf_append(b, s, n);
}

static void put_header(struct buf *b, enum cmd_type type, uint64_t member_id, uint64_t req_id)
{
	buf_put_byte(b, CMD_VERSION);
	buf_put_byte(b, (uint8_t)type);
	buf_put_le64(b, member_id);
	buf_put_le64(b, req_id);
}

void command_encode_write(struct buf *out, uint64_t member_id, uint64_t req_id,
			  const struct store_write *w)
{
	uint8_t flags = (w->dir ? F_DIR : 0) | (w->unique ? F_UNIQUE : 0) |
			(w->recursive ? F_RECURSIVE : 0) | (w->refresh ? F_REFRESH : 0) |
			(w->has_ttl ? F_HAS_TTL : 0) | (w->value ? F_HAS_VALUE : 0) |
			(w->prev_value ? F_HAS_PREV_VALUE : 0);
	put_header(out, CMD_WRITE, member_id, req_id);
	buf_put_byte(out, (uint8_t)w->op);
	buf_put_byte(out, flags);
	buf_put_le64(out, w->ttl);
	buf_put_le64(out, w->prev_index);
	put_bytes(out, w->path, strlen(w->path));
	if (w->value)
		put_bytes(out, w->value, store_write_value_len(w));
	if (w->prev_value)
		put_bytes(out, w->prev_value, store_write_prev_value_len(w));
}

void command_encode_expire(struct buf *out, uint64_t member_id, uint64_t req_id)
{
	put_header(out, CMD_EXPIRE, member_id, req_id);
}

/* ---- decoding ---------------------------------------------------------- */

/* Copies a length-prefixed string into *mem (advancing it), NUL-terminated;
 * its length (NULs inside included) goes to *len when not NULL. */
static const char *get_str(struct le_reader *r, char **mem, size_t *len)
{
	uint64_t n = le_read_uint(r, 4);
	const uint8_t *p = le_read_bytes(r, (size_t)n);
	if (p == NULL)
		return NULL;
	if (len != NULL)
		*len = (size_t)n;
	char *s = *mem;
	memcpy(s, p, n);
	s[n] = '\0';
	*mem += n + 1;
	return s;
}

/* u32 length + m as a one-member table. */
static void put_one_member(struct buf *out, const struct member *m)
{
	struct cluster one = {0};
	struct buf attrs = BUF_INIT;
	cluster_put_member(&one, m->id, m->name ? m->name : "", m->peer_urls, m->n_peer_urls,
			   m->client_urls, m->n_client_urls);
	cluster_encode(&one, &attrs);
	buf_put_le32(out, (uint32_t)attrs.len);
	buf_append(out, attrs.data, attrs.len);
	buf_free(&attrs);
	cluster_free(&one);
}

void command_encode_publish(struct buf *out, const struct member *m)
{
	put_header(out, CMD_PUBLISH, m->id, 0);
	put_one_member(out, m);
}

void command_encode_update(struct buf *out, uint64_t member_id, uint64_t req_id,
			   const struct member *m)
{
	struct member urls_only = {
		.id = m->id, .name = "", .peer_urls = m->peer_urls, .n_peer_urls = m->n_peer_urls};
	put_header(out, CMD_UPDATE, member_id, req_id);
	put_one_member(out, &urls_only);
}

int command_update_member(const struct command *c, struct cluster *one)
{
	if (c->type != CMD_UPDATE || cluster_decode(one, c->attrs, c->attrs_len) != 0)
		return -1;
	return one->n_members == 1 && one->members[0].n_peer_urls > 0 ? 0 : -1;
}

int command_publish_member(const struct command *c, struct cluster *one)
{
	if (c->type != CMD_PUBLISH || cluster_decode(one, c->attrs, c->attrs_len) != 0)
		return -1;
	return one->n_members == 1 && one->members[0].id == c->member_id ? 0 : -1;
}

/* The context: u64 member_id, u64 req_id, [the added member's table]. */
#define CONF_CTX_HEAD 16

void command_encode_conf(struct buf *out, uint64_t member_id, uint64_t req_id, uint8_t conf_type,
			 uint64_t node, const struct cluster *added)
{
	struct buf ctx = BUF_INIT;
	buf_put_le64(&ctx, member_id);
	buf_put_le64(&ctx, req_id);
	if (added)
		cluster_encode(added, &ctx);
	put_header(out, CMD_CONF, member_id, 0);
	buf_put_byte(out, conf_type);
	buf_put_le64(out, node);
	buf_put_le32(out, (uint32_t)ctx.len);
	buf_append(out, ctx.data, ctx.len);
	buf_free(&ctx);
}

bool command_is_conf(const void *data, size_t len)
{
	return len > 1 && ((const uint8_t *)data)[1] == CMD_CONF;
}

int command_decode_conf_context(const void *data, size_t len, struct conf_context *out)
{
	memset(out, 0, sizeof(*out));
	if (len < CONF_CTX_HEAD)
		return -1;
	const uint8_t *p = data;
	out->member_id = le_get_u64(p);
	out->req_id = le_get_u64(p + 8);
	if (len > CONF_CTX_HEAD)
		cluster_decode(&out->added, p + CONF_CTX_HEAD, len - CONF_CTX_HEAD);
	return 0;
}

void conf_context_free(struct conf_context *cc)
{
	cluster_free(&cc->added);
}

/* ---- the state snapshot envelope ----------------------------------------- */

#define STATE_MAGIC_V1 "CETCDSN1" /* no auth table */
#define STATE_MAGIC    "CETCDSN2"
#define STATE_HEAD     12 /* magic + u32 table length */

static void put_section(struct buf *out, const struct buf *sec)
{
	buf_put_le32(out, (uint32_t)sec->len);
	buf_append(out, sec->data, sec->len);
}

void command_encode_snapshot_head(struct buf *out, const struct cluster *table,
				  const struct auth_state *auth)
{
	struct buf t = BUF_INIT;
	buf_append(out, STATE_MAGIC, 8);
	cluster_encode(table, &t);
	put_section(out, &t);
	buf_reset(&t);
	auth_encode(auth, &t);
	put_section(out, &t);
	buf_free(&t);
}

int command_decode_snapshot(const void *data, size_t len, struct cluster *table,
			    struct auth_state *auth, const void **store, size_t *store_len,
			    char *err, size_t cap)
{
	const uint8_t *p = data;
	bool v1 = len >= STATE_HEAD && memcmp(p, STATE_MAGIC_V1, 8) == 0;
	if (len < STATE_HEAD || (!v1 && memcmp(p, STATE_MAGIC, 8) != 0)) {
		snprintf(err, cap, "not a cetcd state snapshot");
		return -1;
	}
	size_t tlen = le_get_u32(p + 8);
	if (tlen > len - STATE_HEAD) {
		snprintf(err, cap, "bad member table in snapshot");
		return -1;
	}
	size_t off = STATE_HEAD + tlen, alen = 0;
	struct auth_state *a = auth_state_new();
	if (!v1) {
		bool fits = len - off >= 4;
		alen = fits ? le_get_u32(p + off) : 0;
		if (!fits || alen > len - off - 4 || auth_decode(a, p + off + 4, alen) != 0) {
			auth_state_free(a);
			snprintf(err, cap, "bad auth table in snapshot");
			return -1;
		}
		off += 4 + alen;
	}
	if (cluster_decode(table, p + STATE_HEAD, tlen) != 0) {
		auth_state_free(a);
		snprintf(err, cap, "bad member table in snapshot");
		return -1;
	}
	auth_state_move(auth, a);
	auth_state_free(a);
	*store = p + off;
	*store_len = len - off;
	return 0;
}

/* ---- auth changes --------------------------------------------------------- */

enum {
	A_NAME = 1,
	A_PASSWORD = 2,
	A_GRANT = 4,
	A_REVOKE = 8,
};

static void put_perms(struct buf *out, const struct auth_perms *p)
{
	auth_list_put(out, &p->read);
	auth_list_put(out, &p->write);
}

void command_encode_auth(struct buf *out, uint64_t member_id, uint64_t req_id,
			 const struct auth_op *op)
{
	uint8_t flags = (op->name ? A_NAME : 0) | (op->password ? A_PASSWORD : 0) |
			(op->has_grant ? A_GRANT : 0) | (op->has_revoke ? A_REVOKE : 0);
	put_header(out, CMD_AUTH, member_id, req_id);
	buf_put_byte(out, (uint8_t)op->type);
	buf_put_byte(out, flags);
	if (op->name)
		auth_str_put(out, op->name);
	if (op->password)
		auth_str_put(out, op->password);
	auth_list_put(out, &op->roles);
	auth_list_put(out, &op->grant);
	auth_list_put(out, &op->revoke);
	put_perms(out, &op->perms);
	put_perms(out, &op->grant_perms);
	put_perms(out, &op->revoke_perms);
}

static void get_perms(struct le_reader *r, struct auth_perms *p)
{
	auth_list_get(r, &p->read);
	auth_list_get(r, &p->write);
}

static int decode_auth(struct le_reader *r, struct command *c)
{
	struct auth_op *op = &c->auth;
	uint64_t type = le_read_uint(r, 1);
	uint64_t flags = le_read_uint(r, 1);
	if (r->bad || type < AUTH_OP_ENABLE || type > AUTH_OP_MAX)
		return -1;
	op->type = (enum auth_op_type)type;
	op->has_grant = flags & A_GRANT;
	op->has_revoke = flags & A_REVOKE;
	if (flags & A_NAME)
		op->name = auth_str_get(r);
	if (flags & A_PASSWORD)
		op->password = auth_str_get(r);
	auth_list_get(r, &op->roles);
	auth_list_get(r, &op->grant);
	auth_list_get(r, &op->revoke);
	get_perms(r, &op->perms);
	get_perms(r, &op->grant_perms);
	get_perms(r, &op->revoke_perms);
	if (r->bad || r->left != 0) {
		auth_op_free(op);
		return -1;
	}
	return 0;
}

static int decode_publish(struct le_reader *r, struct command *c)
{
	uint64_t n = le_read_uint(r, 4);
	if (r->bad || n != r->left)
		return -1;
	c->mem = xmalloc(n);
	memcpy(c->mem, r->p, n);
	c->attrs = c->mem;
	c->attrs_len = n;
	return 0;
}

int command_decode(const void *data, size_t len, struct command *c)
{
	struct le_reader r = {data, len, false};
	memset(c, 0, sizeof(*c));
	if (le_read_uint(&r, 1) != CMD_VERSION)
		return -1;
	c->type = (enum cmd_type)le_read_uint(&r, 1);
	c->member_id = le_read_uint(&r, 8);
	c->req_id = le_read_uint(&r, 8);
	if (r.bad)
		return -1;
	if (c->type == CMD_EXPIRE)
		return r.left == 0 ? 0 : -1;
	if (c->type == CMD_PUBLISH || c->type == CMD_UPDATE)
		return decode_publish(&r, c);
	if (c->type == CMD_AUTH)
		return decode_auth(&r, c);
	if (c->type == CMD_CONF) {
		c->conf_type = (uint8_t)le_read_uint(&r, 1);
		c->conf_node = le_read_uint(&r, 8);
		return r.bad ? -1 : decode_publish(&r, c);
	}
	if (c->type != CMD_WRITE)
		return -1;

	struct store_write *w = &c->write;
	uint64_t op = le_read_uint(&r, 1);
	uint64_t flags = le_read_uint(&r, 1);
	w->ttl = le_read_uint(&r, 8);
	w->prev_index = le_read_uint(&r, 8);
	if (r.bad || op > OP_CAD)
		return -1;
	w->op = (enum store_op)op;
	w->dir = flags & F_DIR;
	w->unique = flags & F_UNIQUE;
	w->recursive = flags & F_RECURSIVE;
	w->refresh = flags & F_REFRESH;
	w->has_ttl = flags & F_HAS_TTL;

	/* all strings fit in the remaining bytes plus three terminators */
	c->mem = xmalloc(r.left + 3);
	char *mem = c->mem;
	size_t path_len = 0;
	w->path = get_str(&r, &mem, &path_len);
	if (flags & F_HAS_VALUE)
		w->value = get_str(&r, &mem, &w->value_len);
	if (flags & F_HAS_PREV_VALUE)
		w->prev_value = get_str(&r, &mem, &w->prev_value_len);
	/* the path is a C string: a NUL inside it would silently cut it */
	if (!r.bad && memchr(w->path, '\0', path_len) != NULL)
		r.bad = true;
	if (r.bad || r.left != 0) {
		command_free(c);
		return -1;
	}
	return 0;
}

void command_free(struct command *c)
{
	auth_op_free(&c->auth);
	free(c->mem);
	c->mem = NULL;
}
