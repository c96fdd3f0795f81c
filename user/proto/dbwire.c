// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * dbwire.c - the PostgreSQL and Redis wire parsers as protocols of the
 * pipeline: role from the first chunk, each direction to its side of the
 * parser, operations into struct db_op, parse errors to the sink. See
 * dbwire.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbwire.h"
#include "pgwire.h"
#include "resp.h"
#include "shim_decode.h"
#include "strfmt.h"

/* One instance per pipeline and protocol. */
struct dbwire {
	const struct proto_sink *sink;
	const struct protocol *proto;
};

/* One connection. */
struct wire_conn {
	struct dbwire *w;
	struct conn *c;	 /* set during feed and close */
	void *parser;	 /* struct pgwire_conn or struct resp_conn */
	uint8_t req_dir; /* direction the requests travel in, as seen by c->tgid */
	bool server;	 /* the process is the database server: not parsed */
	bool stood_down; /* covered by the shim or opaque: report nothing more */
	bool misfit;	 /* a framing error before any operation: not this protocol */
	uint64_t ops;	 /* operations reported */
	uint32_t tid;	 /* thread that sent the latest request */
};

static void *dbwire_new(const struct proto_env *env, const struct protocol *proto)
{
	struct dbwire *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->sink = env->sink;
	w->proto = proto;
	return w;
}

static void *pg_new(const struct proto_env *env)
{
	return dbwire_new(env, &pgwire_protocol);
}

static void *redis_new(const struct proto_env *env)
{
	return dbwire_new(env, &resp_protocol);
}

static void dbwire_free(void *inst)
{
	free(inst);
}

/* Reasons that say the bytes are not the protocol at all (not a capture gap). */
static bool framing_reason(const struct protocol *p, unsigned reason)
{
	if (p == &pgwire_protocol)
		return reason == PGWIRE_E_BAD_TYPE || reason == PGWIRE_E_BAD_LENGTH ||
		       reason == PGWIRE_E_BAD_STARTUP;
	return reason == RESP_E_BAD_TYPE || reason == RESP_E_BAD_LENGTH ||
	       reason == RESP_E_TOO_DEEP || reason == RESP_E_LINE_TOO_LONG;
}

static void parse_error(struct wire_conn *wc, unsigned reason)
{
	/* a line protocol that starts like an inline command ("PING 1 ...") */
	if (!wc->ops && framing_reason(wc->w->proto, reason))
		wc->misfit = true;
	if (wc->w->sink->parse_error)
		wc->w->sink->parse_error(wc->w->sink->ctx, wc->w->proto, reason);
}

/* The parts of a db_op every wire operation has. */
static void op_init(struct wire_conn *wc, struct db_op *op, const char *system, uint64_t start,
		    uint64_t end)
{
	const struct conn *c = wc->c;

	memset(op, 0, sizeof(*op));
	op->pid = c->tgid;
	op->tid = wc->tid ? wc->tid : c->tgid;
	op->start_ns = start;
	op->end_ns = end;
	op->system = system;
	op->conn_id = (uint64_t)c->fd << 32 ^ c->first_gen;
	if (c->has_endpoints) {
		str_copy(op->server_address, sizeof(op->server_address), conn_remote_ip(c));
		op->server_port = c->remote.port;
	}
}

static void op_emit(struct wire_conn *wc, const struct db_op *op)
{
	wc->ops++;
	if (!wc->stood_down && wc->w->sink->db_op)
		wc->w->sink->db_op(wc->w->sink->ctx, op);
}

/* error.type for the outcomes that are not a server error. */
static const char *outcome_error(bool aborted, bool closed)
{
	return aborted ? "pipeline_aborted" : closed ? "abandoned" : "";
}

/* ---- PostgreSQL ---------------------------------------------------------------------------- */

static void pg_on_op(void *ctx, const struct pgwire_op *po)
{
	struct wire_conn *wc = ctx;
	struct db_op op;

	op_init(wc, &op, "postgresql", po->start_ns, po->end_ns);
	str_copy(op.operation, sizeof(op.operation), po->operation);
	str_copy(op.query_summary, sizeof(op.query_summary), po->summary);
	str_copy(op.namespace_, sizeof(op.namespace_), po->namespace_);
	if (po->status == PGWIRE_FAILED) {
		str_copy(op.status_code, sizeof(op.status_code), po->sqlstate);
		str_copy(op.error_type, sizeof(op.error_type),
			 po->sqlstate[0] ? po->sqlstate : "_OTHER");
	} else {
		str_copy(op.error_type, sizeof(op.error_type),
			 outcome_error(po->status == PGWIRE_ABORTED, po->status == PGWIRE_CLOSED));
	}
	op_emit(wc, &op);
}

static void pg_on_error(void *ctx, enum pgwire_error e)
{
	parse_error(ctx, e);
}

static void pg_on_opaque(void *ctx)
{
	(void)ctx; /* pgwire_opaque() is checked after each feed */
}

static const struct pgwire_callbacks pg_cbs = {pg_on_op, pg_on_error, pg_on_opaque};

/* ---- Redis --------------------------------------------------------------------------------- */

static void redis_on_op(void *ctx, const struct resp_op *ro)
{
	struct wire_conn *wc = ctx;
	struct db_op op;

	op_init(wc, &op, "redis", ro->start_ns, ro->end_ns);
	str_copy(op.operation, sizeof(op.operation), ro->operation);
	str_copy(op.namespace_, sizeof(op.namespace_), ro->namespace_);
	if (ro->status == RESP_FAILED) {
		str_copy_n(op.status_code, sizeof(op.status_code), ro->error, 15);
		str_copy(op.error_type, sizeof(op.error_type), ro->error);
	} else {
		str_copy(op.error_type, sizeof(op.error_type),
			 outcome_error(ro->status == RESP_ABORTED, ro->status == RESP_CLOSED));
	}
	op_emit(wc, &op);
}

static void redis_on_error(void *ctx, enum resp_error e)
{
	parse_error(ctx, e);
}

static const struct resp_callbacks redis_cbs = {redis_on_op, redis_on_error};

/* ---- the protocol functions ---------------------------------------------------------------- */

/* Which direction carries requests, from the detected sender of the first chunk. */
static int open_conn(void *inst, struct conn *c, const struct proto_chunk *first, bool requests)
{
	struct dbwire *w = inst;
	struct wire_conn *wc = calloc(1, sizeof(*wc));

	if (!wc)
		return -ENOMEM;
	wc->w = w;
	wc->req_dir = requests ? first->dir : !first->dir;
	/* requests read by this process: it is the server */
	wc->server = wc->req_dir == RT_DIR_INGRESS;
	if (!wc->server) {
		wc->parser =
		    w->proto == &pgwire_protocol
			? (void *)pgwire_new(&pg_cbs, wc)
			: (void *)resp_new(&redis_cbs, wc, c->role_hint != RT_ROLE_UNKNOWN);
		if (!wc->parser) {
			free(wc);
			return -ENOMEM;
		}
	}
	c->proto_state = wc;
	return 0;
}

static enum proto_detect pg_detect(const struct proto_chunk *ch)
{
	switch (pgwire_detect(ch->data, ch->cap_len)) {
	case PGWIRE_DETECT_FRONTEND:
	case PGWIRE_DETECT_BACKEND:
		return PROTO_DETECT_YES;
	case PGWIRE_DETECT_MORE:
		return PROTO_DETECT_MORE;
	default:
		return PROTO_DETECT_NO;
	}
}

static int pg_open(void *inst, struct conn *c, const struct proto_chunk *first)
{
	return open_conn(inst, c, first,
			 pgwire_detect(first->data, first->cap_len) == PGWIRE_DETECT_FRONTEND);
}

static enum proto_detect redis_detect(const struct proto_chunk *ch)
{
	switch (resp_detect(ch->data, ch->cap_len)) {
	case RESP_DETECT_CLIENT:
	case RESP_DETECT_SERVER:
		return PROTO_DETECT_YES;
	case RESP_DETECT_MORE:
		return PROTO_DETECT_MORE;
	default:
		return PROTO_DETECT_NO;
	}
}

static int redis_open(void *inst, struct conn *c, const struct proto_chunk *first)
{
	return open_conn(inst, c, first,
			 resp_detect(first->data, first->cap_len) == RESP_DETECT_CLIENT);
}

static bool covered(const struct wire_conn *wc, const struct conn *c)
{
	const struct proto_sink *s = wc->w->sink;

	return s->db_covered && s->db_covered(s->ctx, c->tgid);
}

static enum proto_verdict dbwire_feed(void *inst, struct conn *c, const struct proto_chunk *ch)
{
	struct wire_conn *wc = c->proto_state;
	bool req = ch->dir == wc->req_dir;

	(void)inst;
	if (wc->server || covered(wc, c)) {
		wc->stood_down = true;
		return PROTO_OPAQUE;
	}
	wc->c = c;
	if (req)
		wc->tid = ch->tid;
	if (wc->w->proto == &pgwire_protocol) {
		pgwire_feed(wc->parser, req ? PGWIRE_FRONTEND : PGWIRE_BACKEND, ch->data,
			    ch->cap_len, ch->len, ch->ts);
		if (pgwire_opaque(wc->parser))
			return PROTO_OPAQUE; /* encrypted from here on */
	} else {
		resp_feed(wc->parser, req ? RESP_CLIENT : RESP_SERVER, ch->data, ch->cap_len,
			  ch->len, ch->ts);
	}
	if (wc->misfit) {
		wc->stood_down = true; /* what it queued is not ours to report */
		return PROTO_OPAQUE;
	}
	return PROTO_KEEP;
}

static void dbwire_close(void *inst, struct conn *c, uint64_t ts)
{
	struct wire_conn *wc = c->proto_state;

	(void)inst;
	if (!wc)
		return;
	wc->c = c;
	if (wc->w->proto == &pgwire_protocol) {
		pgwire_close(wc->parser, ts);
		pgwire_free(wc->parser);
	} else {
		resp_close(wc->parser, ts);
		resp_free(wc->parser);
	}
	free(wc);
	c->proto_state = NULL;
}

static const char *pg_error_name(unsigned reason)
{
	return pgwire_error_name((enum pgwire_error)reason);
}

static const char *redis_error_name(unsigned reason)
{
	return resp_error_name((enum resp_error)reason);
}

const struct protocol pgwire_protocol = {
    .name = "postgresql",
    .nerrors = PGWIRE_E_MAX,
    .error_name = pg_error_name,
    .new = pg_new,
    .free = dbwire_free,
    .detect = pg_detect,
    .open = pg_open,
    .feed = dbwire_feed,
    .sweep = NULL,
    .close = dbwire_close,
};

const struct protocol resp_protocol = {
    .name = "redis",
    .nerrors = RESP_E_MAX,
    .error_name = redis_error_name,
    .new = redis_new,
    .free = dbwire_free,
    .detect = redis_detect,
    .open = redis_open,
    .feed = dbwire_feed,
    .sweep = NULL,
    .close = dbwire_close,
};

/* ---- processes the shim covers ------------------------------------------------------------- */

/* Open addressing, linear probing; 0 is the empty slot (tgid 0 is never a client). */
struct dbwire_cover {
	uint32_t slot[DBWIRE_COVER_MAX * 2];
	unsigned n;
};

struct dbwire_cover *dbwire_cover_new(void)
{
	return calloc(1, sizeof(struct dbwire_cover));
}

void dbwire_cover_free(struct dbwire_cover *s)
{
	free(s);
}

static unsigned cover_find(const struct dbwire_cover *s, uint32_t tgid)
{
	unsigned i = (tgid * 2654435761u) % (DBWIRE_COVER_MAX * 2);

	while (s->slot[i] && s->slot[i] != tgid)
		i = (i + 1) % (DBWIRE_COVER_MAX * 2);
	return i;
}

bool dbwire_cover_has(const struct dbwire_cover *s, uint32_t tgid)
{
	return s && tgid && s->slot[cover_find(s, tgid)] == tgid;
}

int dbwire_cover_set(struct dbwire_cover *s, uint32_t tgid, bool on)
{
	unsigned i, j;

	if (!s || !tgid)
		return 0;
	i = cover_find(s, tgid);
	if (on) {
		if (s->slot[i])
			return 0;
		if (s->n >= DBWIRE_COVER_MAX)
			return -ENOSPC;
		s->slot[i] = tgid;
		s->n++;
		return 0;
	}
	if (!s->slot[i])
		return 0;
	/* delete and re-insert the rest of the cluster */
	s->slot[i] = 0;
	s->n--;
	for (j = (i + 1) % (DBWIRE_COVER_MAX * 2); s->slot[j];
	     j = (j + 1) % (DBWIRE_COVER_MAX * 2)) {
		uint32_t t = s->slot[j];

		s->slot[j] = 0;
		s->slot[cover_find(s, t)] = t;
	}
	return 0;
}
