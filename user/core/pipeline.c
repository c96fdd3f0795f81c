// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pipeline.c - dispatches ring-buffer and shim records to the connection
 * table, the protocol trackers, the tracer and the metric families, and
 * counts what it could not use. See pipeline.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conntab.h"
#include "dbmetrics.h"
#include "dbwire.h"
#include "http2.h"
#include "httpmetrics.h"
#include "httptrack.h"
#include "log.h"
#include "ownconn.h"
#include "logs.h"
#include "pipeline.h"
#include "procs.h"
#include "protocol.h"
#include "shim_decode.h"
#include "shimack.h"
#include "sqlsum.h"
#include "tracer.h"

struct pipeline {
	struct procs *procs;   /* borrowed */
	struct tracer *tracer; /* borrowed, may be NULL */
	struct logs *logs;     /* borrowed, may be NULL */
	struct pipeline_hooks hooks;
	bool own_traffic; /* the agent's own connections are parsed too */
	struct conntab *conns;
	struct proto_set protos; /* in detection order */
	struct proto_sink sink;	 /* where the protocols report */
	struct proto_env env;
	uint64_t parse_errors[PROTO_SET_MAX][PIPELINE_REASONS_MAX];
	struct httpmetrics *hm;
	struct dbmetrics *db;
	struct shimack *acks;
	/* processes whose database operations the shim reports */
	struct dbwire_cover *covered;
	bool stopping; /* tearing down: open exchanges are not reported */
	struct pipeline_stats st;
	uint64_t sweep_now; /* the sweep's clock, read once per sweep */
};

/* --- HTTP exchanges into traces and metrics --- */

static void http_started(void *ctx, struct http_exchange *x)
{
	struct pipeline *p = ctx;

	if (p->tracer)
		tracer_http_start(p->tracer, x);
	httpmetrics_start(p->hm, x, procs_service_name(p->procs, x->tgid));
}

static void http_done(void *ctx, const struct http_exchange *x)
{
	struct pipeline *p = ctx;
	const char *service;
	bool exported = false;

	p->st.exchanges++;
	p->st.http_unseen += x->request_unseen;
	if (p->stopping)
		return;
	service = procs_service_name(p->procs, x->tgid);
	if (p->tracer)
		exported =
		    tracer_http_done(p->tracer, x, service, procs_exe_name(p->procs, x->tgid));
	httpmetrics_done(p->hm, x, service, exported);
}

static void parse_error(void *ctx, const struct protocol *proto, unsigned reason)
{
	struct pipeline *p = ctx;

	for (size_t i = 0; i < p->protos.n; i++)
		if (p->protos.p[i] == proto && reason < PIPELINE_REASONS_MAX)
			p->parse_errors[i][reason]++;
}

/* The shim's records win for the processes it reports from. */
static bool db_covered(void *ctx, uint32_t tgid)
{
	struct pipeline *p = ctx;

	return dbwire_cover_has(p->covered, tgid);
}

static void conn_closed(void *ctx, struct conn *c, uint64_t ts)
{
	struct pipeline *p = ctx;

	proto_set_close(&p->protos, c, ts);
}

/* A database operation (shim or wire protocol) into a span and the family. */
static void db_op(void *ctx, const struct db_op *op)
{
	struct pipeline *p = ctx;
	const char *service = procs_service_name(p->procs, op->pid);
	uint8_t trace_id[16], span_id[8];

	if (p->tracer && tracer_db_op(p->tracer, op, service, procs_exe_name(p->procs, op->pid),
				      trace_id, span_id)) {
		dbmetrics_record_ex(p->db, op, service, trace_id, span_id);
		return;
	}
	dbmetrics_record(p->db, op, service);
}

/* --- shim records (ioctl channel or shared-memory ring) --- */

/* se: the ioctl channel's record as the kernel saw it (NULL for the ring);
 * its pid_tgid and uid are right even when the shim runs in another pid
 * namespace. now: CLOCK_MONOTONIC ns, the record's time (ring records carry
 * none: the last sweep's time, as ring hellos are only counted). */
static void on_shim_record(struct pipeline *p, const void *rec, size_t len,
			   const struct rt_shim_event *se, uint64_t now)
{
	struct db_op op;

	if (shim_decode(rec, len, &op)) {
		p->st.shim_bad++;
		return;
	}
	if (se) {
		uint32_t tgid = (uint32_t)(se->hdr.pid_tgid >> 32);

		/* a batch another thread flushed: the ioctl's thread is not the
		 * operation's; the record's own tid is the kernel's when the shim
		 * runs in our pid namespace (its pid is the kernel's tgid), else
		 * the operation gets no thread (no parent) */
		if (!(se->count & RT_SHIM_MSG_F_FOREIGN))
			op.tid = (uint32_t)se->hdr.pid_tgid;
		else if (op.pid != tgid)
			op.tid = 0;
		op.pid = tgid;
	}
	if (op.is_hello) {
		struct shimack_hello_in in = {
		    .pid = op.pid,
		    .uid = se ? se->uid : 0,
		    /* Only the ioctl channel needs an ack; ring hellos are counted. */
		    .addr = se ? op.shim_ack_addr : 0,
		    .nonce = op.shim_ack_nonce,
		    .dropped = op.shim_dropped + op.shim_untracked,
		};
		uint64_t lost = 0;

		procs_hint(p->procs, op.pid, op.service_name, op.comm);
		shimack_hello(p->acks, &in, &lost, now);
		/* acked or not: a shim on probation already sends its operations */
		dbwire_cover_set(p->covered, op.pid, true);
		p->st.shim_reported_drops += lost;
		return;
	}
	db_op(p, &op);
}

/* The records of one ioctl message: one (count 0 or 1: the whole of data[],
 * as older shims send it), or a batch of at most the count the kernel
 * charged the budgets for; a framing error, or a record past that count,
 * is malformed and ends the batch. */
static void on_shim_msg(struct pipeline *p, const struct rt_shim_event *se, uint64_t now)
{
	unsigned max = se->count & RT_SHIM_MSG_COUNT_MASK, n = 0;
	const void *rec;
	size_t off = 0;
	int rlen;

	if (max <= 1) {
		on_shim_record(p, se->data, se->len, se, now);
		return;
	}
	while ((rlen = shim_batch_next(se->data, se->len, &off, &rec)) > 0) {
		if (n++ == max) {
			rlen = -EINVAL;
			break;
		}
		on_shim_record(p, rec, (size_t)rlen, se, now);
	}
	if (rlen < 0)
		p->st.shim_bad++;
}

void pipeline_ring_record(void *ctx, const void *rec, size_t len)
{
	struct pipeline *p = ctx;

	on_shim_record(p, rec, len, NULL, p->sweep_now);
}

/* --- ring-buffer records --- */

/* Tells the kernel, once, that an opaque connection's bytes need not leave it. */
static void stop_copying(struct pipeline *p, struct conn *c)
{
	int rc;

	if (c->opaque_told || !p->hooks.set_opaque)
		return;
	c->opaque_told = 1;
	rc = p->hooks.set_opaque(p->hooks.ctx, c->tgid, c->fd, c->gen);
	if (rc)
		rt_debug("connection %u/%u stays captured: %s", c->tgid, c->fd, strerror(-rc));
}

/* A connection just classified: asks the kernel for the wide capture when
 * its protocol wants it (once per connection, at its classification). */
static void widen(struct pipeline *p, struct conn *c)
{
	const struct protocol *pr = proto_set_of(&p->protos, c);
	int rc;

	if (!pr || !pr->wide_capture || !p->hooks.set_wide)
		return;
	rc = p->hooks.set_wide(p->hooks.ctx, c->tgid, c->fd, c->gen);
	if (rc)
		rt_debug("connection %u/%u keeps its capture size: %s", c->tgid, c->fd,
			 strerror(-rc));
}

/* tid: the record's thread (its own, or the executor beside it). */
static void on_data(struct pipeline *p, const struct rt_data_event *ev, size_t len, uint32_t tid)
{
	struct proto_chunk chunk;
	struct conn *c;
	uint8_t was;

	if (len < sizeof(*ev) + ev->cap_len || ev->cap_len > ev->len) {
		p->st.bad_records++;
		return;
	}
	c = conntab_get(p->conns, &ev->conn, true);
	if (!c) {
		p->st.conn_full++;
		return;
	}
	c->last_ts = ev->hdr.ts;
	if (ev->flags & RT_DATA_F_TLS)
		c->tls = 1; /* plaintext from the TLS probes: the exchanges are https */
	chunk = (struct proto_chunk){
	    .data = ev->data,
	    .cap_len = ev->cap_len,
	    .len = ev->len,
	    .ts = ev->hdr.ts,
	    .tid = tid,
	    .dir = ev->dir,
	    .source = (ev->flags & RT_DATA_F_TLS) ? PROTO_SRC_TLS : PROTO_SRC_SYSCALL,
	};
	/* The other end of the agent's own connection (ownconn.h): left out. */
	if (c->proto == CONN_PROTO_UNKNOWN && !p->own_traffic && c->has_endpoints &&
	    ownconn_match(&c->local, &c->remote)) {
		proto_set_close(&p->protos, c, ev->hdr.ts); /* opaque from now on */
		p->st.conn_own++;
		stop_copying(p, c);
		return;
	}
	/* Not a protocol we parse (any more): its bytes need not leave the kernel. */
	was = c->proto;
	if (proto_set_feed(&p->protos, c, &chunk))
		stop_copying(p, c);
	else if (was == CONN_PROTO_UNKNOWN)
		widen(p, c);
}

/* sock_ino was appended to the record: taken when hdr.len covers it. */
static void on_conn_open(struct pipeline *p, const struct rt_conn_event *ev)
{
	uint64_t ino = ev->hdr.len >= sizeof(*ev) ? ev->sock_ino : 0;
	struct conn *c = conntab_open(p->conns, &ev->conn, ino);

	if (!c) {
		p->st.conn_full++;
		return;
	}
	if (c->has_endpoints && ino && c->sock_ino == ino)
		return; /* the same socket, its kernel entry re-created */
	conn_set_endpoints(c, &ev->local, &ev->remote, ev->family);
	c->role_hint = ev->role;
	c->opened_ts = c->last_ts = ev->hdr.ts;
}

/* In record order: a process's connections close (and report) while its
 * name is still known, then procs forgets it. Only the connections opened
 * before the exit: the pid may already name a new process. */
static void on_proc_exit(struct pipeline *p, const struct rt_event_hdr *h, size_t len)
{
	conntab_close_tgid(p->conns, (uint32_t)(h->pid_tgid >> 32), h->ts, h->ts);
	if (p->logs) /* its last partial lines, while its name is known */
		logs_forget(p->logs, (uint32_t)(h->pid_tgid >> 32));
	procs_record(p->procs, h, len, p->hooks.select, p->hooks.ctx);
}

int pipeline_record(void *ctx, const void *data, size_t len)
{
	return pipeline_record_as(ctx, data, len, 0);
}

int pipeline_record_as(void *ctx, const void *data, size_t len, uint32_t tid)
{
	const struct rt_event_hdr *h = data;
	struct pipeline *p = ctx;

	if (len < sizeof(*h) || h->len > len || h->type == 0 || h->type >= RT_EV_TYPE_MAX ||
	    h->version != RT_EVENT_VERSION) {
		p->st.bad_records++;
		return 0;
	}
	p->st.events[h->type]++;
	if (!tid) /* no executor beside the record: its own thread */
		tid = (uint32_t)h->pid_tgid;
	switch (h->type) {
	case RT_EV_DATA:
		if (len >= sizeof(struct rt_data_event))
			on_data(p, data, len, tid);
		break;
	case RT_EV_LOG:
		if (p->logs)
			logs_record(p->logs, data, len, tid);
		break;
	case RT_EV_CONN_OPEN:
		if (h->len >= RT_OFFSETOF(struct rt_conn_event, sock_ino))
			on_conn_open(p, data);
		break;
	case RT_EV_CONN_CLOSE:
		if (len >= sizeof(*h) + sizeof(struct rt_conn_id))
			conntab_close(p->conns, (const void *)(h + 1), h->ts);
		break;
	case RT_EV_PROC_EXEC:
		/* in record order: no ack write reaches the new program */
		shimack_forget(p->acks, (uint32_t)(h->pid_tgid >> 32));
		dbwire_cover_set(p->covered, (uint32_t)(h->pid_tgid >> 32), false);
		/* fall through */
	case RT_EV_PROC_FORK:
	case RT_EV_LISTEN:
		procs_record(p->procs, data, len, p->hooks.select, p->hooks.ctx);
		break;
	case RT_EV_PROC_EXIT:
		shimack_forget(p->acks, (uint32_t)(h->pid_tgid >> 32));
		dbwire_cover_set(p->covered, (uint32_t)(h->pid_tgid >> 32), false);
		on_proc_exit(p, data, len);
		break;
	case RT_EV_SHIM: {
		const struct rt_shim_event *se = data;

		if (len < sizeof(*se) || sizeof(*se) + se->len > len)
			p->st.shim_bad++;
		else if (shim_reporter_ok(se->uid, se->cgroup_id)) /* counts refusals */
			on_shim_msg(p, se, h->ts);
		break;
	}
	default:
		break;
	}
	return 0;
}

/* --- periodic work --- */

static void sweep_one(void *ctx, struct conn *c)
{
	struct pipeline *p = ctx;

	proto_set_sweep(&p->protos, c, p->sweep_now);
}

void pipeline_sweep(struct pipeline *p, uint64_t now)
{
	p->sweep_now = now;
	conntab_for_each(p->conns, sweep_one, p);
	if (p->tracer)
		tracer_sweep(p->tracer, now);
	if (p->logs)
		logs_sweep(p->logs, now);
	shimack_refresh(p->acks, now);
}

void pipeline_flush(struct pipeline *p)
{
	httpmetrics_flush(p->hm);
}

void pipeline_stats(const struct pipeline *p, struct pipeline_stats *out)
{
	size_t n = 0;

	*out = p->st;
	out->conn_recreated = conntab_recreated(p->conns);
	for (size_t i = 0; i < p->protos.n; i++) {
		const struct protocol *proto = p->protos.p[i];

		for (unsigned r = 0; r < proto->nerrors && r < PIPELINE_REASONS_MAX &&
				     n + 2 < SELF_PARSE_ERRORS_MAX;
		     r++)
			out->parse_errors[n++] = (struct parse_error_count){
			    .protocol = proto->name,
			    .reason = proto->error_name(r),
			    .total = p->parse_errors[i][r],
			};
	}
	out->parse_errors[n++] = (struct parse_error_count){
	    .protocol = "shim", .reason = "malformed_record", .total = p->st.shim_bad};
	out->parse_errors[n++] = (struct parse_error_count){
	    .protocol = "ringbuf", .reason = "malformed_record", .total = p->st.bad_records};
	out->nparse_errors = n;
	out->nfamilies = httpmetrics_families(p->hm, out->families, 7);
	out->families[out->nfamilies++] = dbmetrics_family(p->db);
}

void pipeline_self_snapshot(const struct pipeline *p, struct self_snapshot *snap)
{
	struct pipeline_stats st;
	struct shimack_stats acks;

	pipeline_stats(p, &st);
	memset(snap, 0, sizeof(*snap));
	snap->conn_recreated = st.conn_recreated;
	memcpy(snap->events, st.events, sizeof(snap->events));
	memcpy(snap->parse_errors, st.parse_errors, sizeof(snap->parse_errors));
	snap->nparse_errors = st.nparse_errors;
	snap->conn_table_full = st.conn_full;
	snap->shim_dropped = st.shim_reported_drops;
	shimack_stats(p->acks, &acks);
	snap->shim_rejected[SELF_SHIM_UNVERIFIED] = acks.refused;
	snap->shim_rejected[SELF_SHIM_TABLE_FULL] = acks.table_full;
	snap->shim_rejected[SELF_SHIM_DROPS_CAPPED] = acks.drops_capped;
	snap->sql_skipped = sqlsum_parse_skipped();
	snap->http_unseen = st.http_unseen;
	snap->conn_own = st.conn_own;
	memcpy(snap->families, st.families, sizeof(snap->families));
	snap->nfamilies = st.nfamilies;
}

/* --- set-up and tear-down --- */

struct pipeline *pipeline_new(const struct pipeline_opts *o)
{
	struct pipeline *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->procs = o->procs;
	p->tracer = o->tracer;
	p->logs = o->logs;
	p->hooks = o->hooks;
	p->own_traffic = o->own_traffic;
	p->hm = httpmetrics_new(o->reg, o->max_series);
	if (p->hm)
		httpmetrics_set_routes(p->hm, o->routes);
	p->db = dbmetrics_new(o->reg, o->max_series);
	p->acks = shimack_new();
	p->covered = dbwire_cover_new();
	p->conns = conntab_new(o->max_conns, conn_closed, p);
	p->sink = (struct proto_sink){
	    .http_start = http_started,
	    .http_done = http_done,
	    .db_op = db_op,
	    .parse_error = parse_error,
	    .db_covered = db_covered,
	    .ctx = p,
	};
	p->env = (struct proto_env){.sink = &p->sink, .routes = o->routes};
	if (!p->hm || !p->db || !p->acks || !p->covered || !p->conns ||
	    /* HTTP/2 first: its preface reads as an HTTP/1 request line */
	    proto_set_add(&p->protos, &http2_protocol, &p->env) ||
	    proto_set_add(&p->protos, &http1_protocol, &p->env) ||
	    proto_set_add(&p->protos, &pgwire_protocol, &p->env) ||
	    proto_set_add(&p->protos, &resp_protocol, &p->env)) {
		pipeline_free(p);
		errno = ENOMEM;
		return NULL;
	}
	return p;
}

void pipeline_stopping(struct pipeline *p)
{
	p->stopping = true;
}

void pipeline_free(struct pipeline *p)
{
	if (!p)
		return;
	conntab_free(p->conns); /* reports through the protocols: free it first */
	proto_set_release(&p->protos);
	shimack_free(p->acks);
	dbwire_cover_free(p->covered);
	dbmetrics_free(p->db);
	httpmetrics_free(p->hm);
	free(p);
}
