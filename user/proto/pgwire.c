// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pgwire.c - PostgreSQL v3 wire protocol to database operations (pgwire.h).
 *
 * Each side has a framer that cuts its byte stream into messages by their
 * length fields, keeping only the head of the bodies it needs (query text,
 * statement and portal names, the SQLSTATE of errors) and skipping the rest,
 * seen or not. Frontend messages that expect an answer go into a FIFO of
 * requests; backend messages pop it in order. A Sync, a Query, a FunctionCall
 * or the start-up packet ends a group, answered by exactly one ReadyForQuery.
 */
#include <errno.h>
#include <pg_query.h>
#include <stdlib.h>
#include <string.h>

#include "pgwire.h"
#include "sqlsum.h"

#define LEN_MAX	      (1u << 30) /* PostgreSQL's own limit on a message */
#define PLAUSIBLE_MAX (1u << 24) /* larger lengths are not trusted when resynchronising */
#define STARTUP_KEEP  1024
#define ERROR_KEEP    256
#define TAG_KEEP      64
#define PORTALS_MAX   8
#define FE_BUF	      (PGWIRE_NAME_MAX + 1 + PGWIRE_SQL_MAX + 1)
#define BE_BUF	      (ERROR_KEEP + 1)
#define QUEUE_INITIAL 8

#define CODE_PROTO3 196608   /* 3 << 16 */
#define CODE_CANCEL 80877102 /* 1234 << 16 | 5678 */
#define CODE_SSL    80877103
#define CODE_GSSENC 80877104

enum fr_state { FR_HEADER = 0, FR_BODY, FR_LOST };

/* Cuts one side's bytes into messages. */
struct framer {
	uint8_t state;
	uint8_t type;	/* 0: untyped start-up packet */
	uint8_t hlen;	/* header bytes collected */
	uint8_t hneed;	/* 5 (typed) or 4 (untyped) */
	bool truncated; /* a gap hit the kept part of the body */
	uint8_t hdr[5];
	uint32_t len;  /* body bytes */
	uint32_t got;  /* body bytes passed, seen or not */
	uint32_t keep; /* body bytes wanted in buf */
	uint32_t kept; /* body bytes in buf */
	uint64_t ts;   /* time of the chunk with the message's first byte */
	uint32_t bufsz;
	uint8_t *buf;
};

struct desc {
	char operation[32];
	char summary[128];
	bool unknown; /* a portal of a statement prepared before we saw it */
};

enum item_kind {
	IT_STARTUP,
	IT_QUERY,
	IT_PARSE,
	IT_BIND,
	IT_DESCRIBE_S,
	IT_DESCRIBE_P,
	IT_EXECUTE,
	IT_CLOSE,
	IT_SYNC,
	IT_FUNCALL,
};

/* One request waiting for its answer. */
struct item {
	uint8_t kind;
	bool done;	/* FUNCALL answered */
	bool errored;	/* QUERY: a statement failed, the rest are skipped */
	bool unknown;	/* EXECUTE: statement prepared before we saw it */
	bool more;	/* QUERY: statements beyond stmts[] may follow */
	uint8_t nstmts; /* QUERY: entries of stmts */
	uint8_t next;	/* QUERY: statements completed so far */
	uint64_t start_ns;
	uint64_t last_ns; /* QUERY: end of the previous statement */
	struct desc d;	  /* PARSE, BIND, EXECUTE, FUNCALL */
	struct desc *stmts;
};

/* A bounded LRU map name -> desc (prepared statements, portals). */
struct lru_ent {
	char name[PGWIRE_NAME_MAX];
	uint64_t used; /* 0: free */
	struct desc d;
};

struct lru {
	struct lru_ent *e; /* allocated on first insert */
	unsigned cap;
	uint64_t tick;
};

struct pgwire_conn {
	const struct pgwire_callbacks *cb;
	void *ctx;
	struct framer fr[2];
	struct item *q;
	uint32_t qcap, qhead, qlen;
	struct lru stmts, portals;
	uint64_t chain_ts;     /* first message of the extended-query chain being sent */
	uint64_t fail_ts;      /* time of the ErrorResponse of the group */
	struct desc fail_desc; /* what failed when no Execute follows */
	char fail_state[6];
	bool fail_pending;   /* an error before the group's first Execute */
	bool group_failed;   /* the server skips the rest of the group */
	bool be_gap;	     /* a backend gap hid answers of the current group */
	uint64_t be_lost_ts; /* backend framing lost in the chunk of this time; 0: not */
	bool fe_lost;	     /* frontend lost sync: queue nothing until the backend idles */
	bool ssl_pending;    /* the backend's next byte answers an SSL/GSS request */
	bool opaque;
	bool queued_any;
	char dbname[64];
	uint64_t errors[PGWIRE_E_MAX];
};

static const char *const error_names[PGWIRE_E_MAX] = {
    [PGWIRE_E_BAD_TYPE] = "bad_type",	    [PGWIRE_E_BAD_LENGTH] = "bad_length",
    [PGWIRE_E_BAD_STARTUP] = "bad_startup", [PGWIRE_E_GAP] = "gap",
    [PGWIRE_E_UNEXPECTED] = "unexpected",   [PGWIRE_E_QUEUE_FULL] = "queue_full",
    [PGWIRE_E_OPS_LOST] = "ops_lost",
};

static const char *const status_names[PGWIRE_STATUS_MAX] = {
    [PGWIRE_OK] = "ok",		  [PGWIRE_FAILED] = "failed", [PGWIRE_ABORTED] = "aborted",
    [PGWIRE_UNKNOWN] = "unknown", [PGWIRE_CLOSED] = "closed",
};

const char *pgwire_error_name(enum pgwire_error e)
{
	return (unsigned)e < PGWIRE_E_MAX ? error_names[e] : "unknown";
}

const char *pgwire_status_name(enum pgwire_status s)
{
	return (unsigned)s < PGWIRE_STATUS_MAX ? status_names[s] : "unknown";
}

static void count_error(struct pgwire_conn *c, enum pgwire_error e)
{
	c->errors[e]++;
	if (c->cb && c->cb->on_error)
		c->cb->on_error(c->ctx, e);
}

uint64_t pgwire_errors(const struct pgwire_conn *c, enum pgwire_error e)
{
	return c && (unsigned)e < PGWIRE_E_MAX ? c->errors[e] : 0;
}

bool pgwire_opaque(const struct pgwire_conn *c)
{
	return c && c->opaque;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void scopy(char *dst, size_t dsz, const char *src)
{
	size_t n = strnlen(src, dsz - 1);

	memcpy(dst, src, n);
	dst[n] = 0;
}

/* ---- message types ---------------------------------------------------------------------- */

/* The message types of each side, and the frontend's that have no body:
 * tables, not strchr(), as three tests are made on every message. */
static const bool fe_types[256] = {
    ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['H'] = 1, ['P'] = 1,
    ['Q'] = 1, ['S'] = 1, ['X'] = 1, ['c'] = 1, ['d'] = 1, ['f'] = 1, ['p'] = 1};
static const bool be_types[256] = {
    ['1'] = 1, ['2'] = 1, ['3'] = 1, ['A'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['G'] = 1,
    ['H'] = 1, ['I'] = 1, ['K'] = 1, ['N'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['V'] = 1,
    ['W'] = 1, ['Z'] = 1, ['c'] = 1, ['d'] = 1, ['n'] = 1, ['s'] = 1, ['t'] = 1, ['v'] = 1};
static const bool fe_bodiless[256] = {['S'] = 1, ['H'] = 1, ['X'] = 1, ['c'] = 1};

static bool fe_type(uint8_t t)
{
	return fe_types[t];
}

static bool be_type(uint8_t t)
{
	return be_types[t];
}

/* Whether a body length is acceptable for a message type of one side. */
static bool len_ok(enum pgwire_side side, uint8_t t, uint32_t blen)
{
	if (blen > LEN_MAX - 4)
		return false;
	if (side == PGWIRE_FRONTEND)
		return fe_bodiless[t] ? blen == 0 : true;
	switch (t) {
	case 'Z':
		return blen == 1;
	case '1':
	case '2':
	case '3':
	case 'n':
	case 'c':
	case 'I':
		return blen == 0;
	case 'K':
		return blen >= 8 && blen <= 260;
	case 'R':
		return blen >= 4;
	default:
		return true;
	}
}

static bool text_byte(uint8_t b)
{
	return b >= 0x20 || b == '\t' || b == '\n' || b == '\r';
}

/* Text bytes (ASCII or UTF-8 lead/continuation) up to a NUL or the end: the NUL's
 * index, len if none was seen, or -1 on a control byte. */
static long text_run(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (!p[i])
			return (long)i;
		if (!text_byte(p[i]) || p[i] == 0x7f)
			return -1;
	}
	return (long)len;
}

/*
 * How plausible it is that p[0..len) starts with a message of side: 1 yes,
 * 0 no, -1 cannot tell yet. strict adds checks on the body (detection).
 */
static int plausible(enum pgwire_side side, const uint8_t *p, size_t len, bool strict)
{
	uint32_t blen;
	size_t have;
	long r;

	if (!len)
		return -1;
	if (side == PGWIRE_FRONTEND ? !fe_type(p[0]) : !be_type(p[0]))
		return 0;
	if (len < 5)
		return -1;
	if (be32(p + 1) < 4)
		return 0;
	blen = be32(p + 1) - 4;
	if (blen > PLAUSIBLE_MAX || !len_ok(side, p[0], blen))
		return 0;
	if (!strict)
		return 1;
	have = len - 5 < blen ? len - 5 : blen;
	switch (side == PGWIRE_FRONTEND ? p[0] : p[0] | 0x100) {
	case 'Q':
		if (blen < 1)
			return 0;
		r = text_run(p + 5, have);
		if (r < 0 || (r < (long)have && (size_t)r != blen - 1))
			return 0;
		return have == blen || have >= 16 ? 1 : -1;
	case 'P':
		r = text_run(p + 5, have);
		if (r < 0)
			return 0;
		return have >= 8 || have == blen ? 1 : -1;
	case 'S':
	case 'X':
	case 'Z' | 0x100:
		if (p[0] == 'Z') {
			if (len < 6)
				return -1;
			return p[5] == 'I' || p[5] == 'T' || p[5] == 'E';
		}
		return 1;
	case 'C' | 0x100:
		if (blen < 2 || blen > TAG_KEEP)
			return 0;
		if (have < 1)
			return -1;
		return p[5] >= 'A' && p[5] <= 'Z' && text_run(p + 5, have) >= 0;
	case 'E' | 0x100:
		if (blen < 2)
			return 0;
		if (have < 2)
			return -1;
		return strchr("SVCM", p[5]) && p[5] && text_run(p + 6, have - 1) >= 0;
	case '1' | 0x100:
	case '2' | 0x100:
		return 1;
	case 'T' | 0x100:
	case 'D' | 0x100:
		if (blen < 2)
			return 0;
		if (have < 2)
			return -1;
		return be32(p + 1) >= 6 && (p[5] << 8 | p[6]) < 1664;
	case 'R' | 0x100:
		if (have < 4)
			return -1;
		return be32(p + 5) <= 12;
	default:
		return !strict;
	}
}

/* Untyped start-up packet: 1 FRONTEND, 0 no, -1 cannot tell. */
static int plausible_startup(const uint8_t *p, size_t len)
{
	uint32_t plen, code;

	if (len < 8)
		return len && p[0] == 0 && (len < 2 || p[1] == 0) ? -1 : 0;
	plen = be32(p);
	code = be32(p + 4);
	if (code == CODE_SSL || code == CODE_GSSENC)
		return plen == 8;
	if (code == CODE_CANCEL)
		return plen == 16;
	if (code >> 16 == 3 && (code & 0xffff) < 16)
		return plen >= 9 && plen <= 10000;
	return 0;
}

enum pgwire_detect pgwire_detect(const uint8_t *data, size_t len)
{
	int r;

	if (!data || !len)
		return PGWIRE_DETECT_MORE;
	if (data[0] == 0) {
		r = plausible_startup(data, len);
		return r > 0   ? PGWIRE_DETECT_FRONTEND
		       : r < 0 ? PGWIRE_DETECT_MORE
			       : PGWIRE_DETECT_NONE;
	}
	if (strchr("QPSX", data[0])) {
		r = plausible(PGWIRE_FRONTEND, data, len, true);
		if (r)
			return r > 0 ? PGWIRE_DETECT_FRONTEND : PGWIRE_DETECT_MORE;
	}
	if (strchr("ZCE12TDR", data[0])) {
		r = plausible(PGWIRE_BACKEND, data, len, true);
		if (r)
			return r > 0 ? PGWIRE_DETECT_BACKEND : PGWIRE_DETECT_MORE;
	}
	return PGWIRE_DETECT_NONE;
}

/* ---- maps of statements and portals ------------------------------------------------------ */

static struct lru_ent *lru_find(struct lru *m, const char *name)
{
	unsigned i;

	if (!m->e)
		return NULL;
	for (i = 0; i < m->cap; i++)
		if (m->e[i].used && !strcmp(m->e[i].name, name)) {
			m->e[i].used = ++m->tick;
			return &m->e[i];
		}
	return NULL;
}

static void lru_remove(struct lru *m, const char *name)
{
	struct lru_ent *e = lru_find(m, name);

	if (e)
		e->used = 0;
}

static void lru_clear(struct lru *m)
{
	unsigned i;

	for (i = 0; m->e && i < m->cap; i++)
		m->e[i].used = 0;
}

/* name must be shorter than PGWIRE_NAME_MAX. Silently forgets it on ENOMEM. */
static void lru_put(struct lru *m, const char *name, const struct desc *d)
{
	struct lru_ent *e = lru_find(m, name);
	unsigned i;

	if (!e) {
		if (!m->e) {
			m->e = calloc(m->cap, sizeof(*m->e));
			if (!m->e)
				return;
		}
		e = &m->e[0];
		for (i = 1; i < m->cap && e->used; i++)
			if (!m->e[i].used || m->e[i].used < e->used)
				e = &m->e[i];
		scopy(e->name, sizeof(e->name), name);
	}
	e->d = *d;
	e->used = ++m->tick;
}

/* ---- the request queue ------------------------------------------------------------------- */

static struct item *q_at(struct pgwire_conn *c, uint32_t i)
{
	return &c->q[(c->qhead + i) % c->qcap];
}

static struct item *q_head(struct pgwire_conn *c)
{
	return c->qlen ? q_at(c, 0) : NULL;
}

static void item_release(struct item *it)
{
	free(it->stmts);
	it->stmts = NULL;
}

static void q_pop(struct pgwire_conn *c)
{
	item_release(q_at(c, 0));
	c->qhead = (c->qhead + 1) % c->qcap;
	c->qlen--;
}

static void report(struct pgwire_conn *c, const struct desc *d, uint64_t start, uint64_t end,
		   enum pgwire_status st, const char *sqlstate, bool unknown)
{
	struct pgwire_op op;

	if (!c->cb || !c->cb->on_op)
		return;
	memset(&op, 0, sizeof(op));
	op.start_ns = start;
	op.end_ns = end < start ? start : end;
	op.status = st;
	if (sqlstate)
		scopy(op.sqlstate, sizeof(op.sqlstate), sqlstate);
	if (d) {
		scopy(op.operation, sizeof(op.operation), d->operation);
		scopy(op.summary, sizeof(op.summary), d->summary);
	}
	op.namespace_ = c->dbname;
	op.prepared_unknown = unknown;
	c->cb->on_op(c->ctx, &op);
}

/* Drops every queued request; operations among them are counted as lost. */
static void q_drop_all(struct pgwire_conn *c)
{
	bool lost = false;

	while (c->qlen) {
		struct item *it = q_head(c);

		if (it->kind == IT_EXECUTE || it->kind == IT_QUERY || it->kind == IT_FUNCALL)
			lost = true;
		q_pop(c);
	}
	if (lost)
		count_error(c, PGWIRE_E_OPS_LOST);
	c->group_failed = c->fail_pending = c->be_gap = false;
}

/* Frontend sync is lost: forget the queue, wait for the backend to idle. */
static void fe_lose(struct pgwire_conn *c)
{
	q_drop_all(c);
	c->fe_lost = true;
	c->chain_ts = 0;
}

static void end_group(struct pgwire_conn *c, uint64_t ts, bool quiet);

/*
 * The client sends again after a read whose end the backend framer lost: what
 * it was waiting for ended in that gap. Ends every queued group as unknown.
 */
static void settle_hidden(struct pgwire_conn *c, uint64_t ts)
{
	if (!c->be_lost_ts || ts <= c->be_lost_ts)
		return;
	while (c->qlen)
		end_group(c, c->be_lost_ts, true);
	c->be_lost_ts = 0;
}

/* Appends a zeroed item; NULL when the queue is full (sync is then lost). */
static struct item *q_push(struct pgwire_conn *c, enum item_kind kind, uint64_t ts)
{
	struct item *it;

	if (c->fe_lost)
		return NULL;
	settle_hidden(c, ts);
	if (c->qlen == c->qcap) {
		uint32_t ncap = c->qcap ? c->qcap * 2 : QUEUE_INITIAL, i;
		struct item *nq;

		if (c->qcap >= PGWIRE_QUEUE_MAX || !(nq = calloc(ncap, sizeof(*nq)))) {
			count_error(c, PGWIRE_E_QUEUE_FULL);
			fe_lose(c);
			return NULL;
		}
		for (i = 0; i < c->qlen; i++)
			nq[i] = *q_at(c, i);
		free(c->q);
		c->q = nq;
		c->qcap = ncap;
		c->qhead = 0;
	}
	it = q_at(c, c->qlen++);
	memset(it, 0, sizeof(*it));
	it->kind = kind;
	it->start_ns = ts;
	c->queued_any = true;
	return it;
}

/* ---- frontend messages ------------------------------------------------------------------- */

static void describe(const char *sql, size_t len, bool truncated, struct desc *d)
{
	struct sql_summary s;

	memset(d, 0, sizeof(*d));
	if (sqlsum_describe(sql, len, truncated, &s))
		return;
	scopy(d->operation, sizeof(d->operation), s.operation);
	scopy(d->summary, sizeof(d->summary), s.summary);
}

/* A NUL-terminated string at buf[*off..n), advancing *off; NULL if not complete. */
static const char *cstr(const uint8_t *buf, uint32_t n, uint32_t *off)
{
	const uint8_t *nul;
	const char *s;

	if (*off >= n)
		return NULL;
	nul = memchr(buf + *off, 0, n - *off);
	if (!nul)
		return NULL;
	s = (const char *)buf + *off;
	*off = (uint32_t)(nul - buf) + 1;
	return s;
}

/* True when the text has a ';' followed by something other than blanks and ';'. */
static bool several_statements(const char *s, size_t n)
{
	const char *semi = memchr(s, ';', n);

	for (; semi && semi < s + n; semi++)
		if (!strchr(" \t\r\n;", *semi))
			return true;
	return false;
}

static void query_statements(struct item *it, const char *sql, size_t n, bool truncated)
{
	PgQuerySplitResult r;
	int i, k;

	if (!several_statements(sql, n)) {
		it->stmts = calloc(1, sizeof(*it->stmts));
		if (!it->stmts) {
			it->more = true;
			return;
		}
		describe(sql, n, truncated, &it->stmts[0]);
		it->nstmts = 1;
		it->more = truncated;
		return;
	}
	r = pg_query_split_with_scanner(sql);
	if (r.error || r.n_stmts <= 0) {
		/* cannot tell how many: every statement stays unknown */
		it->more = true;
		pg_query_free_split_result(r);
		return;
	}
	k = r.n_stmts < PGWIRE_Q_STMTS ? r.n_stmts : PGWIRE_Q_STMTS;
	it->stmts = calloc((size_t)k, sizeof(*it->stmts));
	if (!it->stmts)
		k = 0;
	for (i = 0; i < k; i++) {
		const PgQuerySplitStmt *st = r.stmts[i];
		size_t off = (size_t)st->stmt_location, len = (size_t)st->stmt_len;

		if (off > n)
			off = n;
		if (!len || off + len > n)
			len = n - off;
		describe(sql + off, len, truncated && i == r.n_stmts - 1, &it->stmts[i]);
	}
	it->nstmts = (uint8_t)k;
	it->more = truncated || r.n_stmts > k;
	pg_query_free_split_result(r);
}

static void fe_startup(struct pgwire_conn *c, struct framer *f)
{
	uint32_t code, off = 4;
	const char *k, *v, *user = NULL, *db = NULL;

	if (f->kept < 4) {
		count_error(c, PGWIRE_E_BAD_STARTUP);
		return;
	}
	code = be32(f->buf);
	if (code == CODE_SSL || code == CODE_GSSENC) {
		c->ssl_pending = true;
		return;
	}
	if (code == CODE_CANCEL)
		return;
	if (code >> 16 != 3) {
		count_error(c, PGWIRE_E_BAD_STARTUP);
		return;
	}
	while ((k = cstr(f->buf, f->kept, &off)) && *k && (v = cstr(f->buf, f->kept, &off))) {
		if (!strcmp(k, "user"))
			user = v;
		else if (!strcmp(k, "database"))
			db = v;
	}
	scopy(c->dbname, sizeof(c->dbname), db && *db ? db : user ? user : "");
	sqlsum_utf8_fix(c->dbname);
	q_drop_all(c);
	c->fe_lost = false;
	q_push(c, IT_STARTUP, f->ts);
}

static void fe_parse(struct pgwire_conn *c, struct framer *f)
{
	uint32_t off = 0;
	const char *name = cstr(f->buf, f->kept, &off), *sql;
	struct item *it;
	struct desc d;

	if (!c->chain_ts)
		c->chain_ts = f->ts;
	if (!name) {
		/* the name was cut by a gap: any entry may now be stale */
		lru_clear(&c->stmts);
		memset(&d, 0, sizeof(d));
	} else {
		bool cut;

		sql = (const char *)f->buf + off;
		/* the text ends at its NUL, or is cut by the keep limit or a gap */
		cut = !memchr(sql, 0, f->kept - off);
		describe(sql, strnlen(sql, f->kept - off), cut, &d);
		if (strlen(name) < PGWIRE_NAME_MAX)
			lru_put(&c->stmts, name, &d);
	}
	it = q_push(c, IT_PARSE, f->ts);
	if (it)
		it->d = d;
}

static void fe_bind(struct pgwire_conn *c, struct framer *f)
{
	uint32_t off = 0;
	const char *portal = cstr(f->buf, f->kept, &off);
	const char *stmt = portal ? cstr(f->buf, f->kept, &off) : NULL;
	struct lru_ent *e = stmt ? lru_find(&c->stmts, stmt) : NULL;
	struct desc d;
	struct item *it;

	if (!c->chain_ts)
		c->chain_ts = f->ts;
	memset(&d, 0, sizeof(d));
	if (e)
		d = e->d;
	d.unknown = !e;
	if (!portal)
		lru_clear(&c->portals);
	else if (strlen(portal) < PGWIRE_NAME_MAX)
		lru_put(&c->portals, portal, &d);
	it = q_push(c, IT_BIND, f->ts);
	if (it)
		it->d = d;
}

static void fe_execute(struct pgwire_conn *c, struct framer *f)
{
	uint32_t off = 0;
	const char *portal = cstr(f->buf, f->kept, &off);
	struct lru_ent *p = portal ? lru_find(&c->portals, portal) : NULL;
	uint64_t start = c->chain_ts ? c->chain_ts : f->ts;
	struct item *it;

	c->chain_ts = 0;
	it = q_push(c, IT_EXECUTE, start);
	if (!it)
		return;
	if (p)
		it->d = p->d;
	it->unknown = !p || p->d.unknown;
}

static void fe_close_or_describe(struct pgwire_conn *c, struct framer *f)
{
	char what = f->kept ? (char)f->buf[0] : 0;
	uint32_t off = 1;
	const char *name = f->kept ? cstr(f->buf, f->kept, &off) : NULL;

	if (!c->chain_ts)
		c->chain_ts = f->ts;
	if (f->type == 'D') {
		q_push(c, what == 'S' ? IT_DESCRIBE_S : IT_DESCRIBE_P, f->ts);
		return;
	}
	if (what == 'S' || what == 'P') {
		struct lru *m = what == 'S' ? &c->stmts : &c->portals;

		if (name)
			lru_remove(m, name);
		else
			lru_clear(m);
	}
	q_push(c, IT_CLOSE, f->ts);
}

static void fe_message(struct pgwire_conn *c, struct framer *f)
{
	struct item *it;

	switch (f->type) {
	case 0:
		fe_startup(c, f);
		break;
	case 'Q':
		c->chain_ts = 0;
		it = q_push(c, IT_QUERY, f->ts);
		if (it) {
			f->buf[f->kept] = 0;
			query_statements(it, (const char *)f->buf, strlen((const char *)f->buf),
					 f->truncated || f->kept < f->len);
			it->last_ns = f->ts;
		}
		break;
	case 'P':
		fe_parse(c, f);
		break;
	case 'B':
		fe_bind(c, f);
		break;
	case 'E':
		fe_execute(c, f);
		break;
	case 'D':
	case 'C':
		fe_close_or_describe(c, f);
		break;
	case 'S':
		c->chain_ts = 0;
		q_push(c, IT_SYNC, f->ts);
		break;
	case 'F':
		c->chain_ts = 0;
		it = q_push(c, IT_FUNCALL, f->ts);
		if (it)
			scopy(it->d.operation, sizeof(it->d.operation), "FUNCTION CALL");
		break;
	default: /* H, X, d, c, f, p: no answer of their own */
		break;
	}
}

/* ---- backend messages -------------------------------------------------------------------- */

/* The C field of an ErrorResponse body, or "" if it is not in the kept part. */
static void error_sqlstate(const struct framer *f, char out[6])
{
	uint32_t off = 0;

	out[0] = 0;
	while (off < f->kept && f->buf[off]) {
		uint8_t code = f->buf[off++];
		const char *v = cstr(f->buf, f->kept, &off);

		if (!v)
			return;
		if (code == 'C') {
			scopy(out, 6, v);
			return;
		}
	}
}

/*
 * Ends the oldest group: on ReadyForQuery (quiet false), or when a backend gap
 * hid it (quiet true: the outcomes of what is left are unknown).
 */
static void end_group(struct pgwire_conn *c, uint64_t ts, bool quiet)
{
	struct item *it;
	bool end = false;

	if (quiet)
		c->be_gap = true;
	if (!c->qlen)
		goto out;
	while (!end && (it = q_head(c))) {
		switch (it->kind) {
		case IT_EXECUTE:
		case IT_FUNCALL:
			if (it->done)
				break;
			if (c->fail_pending) {
				report(c, &it->d, it->start_ns, c->fail_ts, PGWIRE_FAILED,
				       c->fail_state, it->unknown);
				c->fail_pending = false;
			} else {
				report(c, &it->d, it->start_ns, ts,
				       c->group_failed ? PGWIRE_ABORTED : PGWIRE_UNKNOWN, NULL,
				       it->unknown);
			}
			end = it->kind == IT_FUNCALL;
			break;
		case IT_QUERY:
			for (; it->next < it->nstmts; it->next++) {
				if (it->errored)
					report(c, &it->stmts[it->next], ts, ts, PGWIRE_ABORTED,
					       NULL, false);
				else if (c->be_gap)
					report(c, &it->stmts[it->next], it->last_ns, ts,
					       PGWIRE_UNKNOWN, NULL, false);
			}
			end = true;
			break;
		case IT_SYNC:
		case IT_STARTUP:
			end = true;
			break;
		default:
			break;
		}
		q_pop(c);
	}
	if (!end && !quiet) {
		/* no request was waiting for this: something was missed */
		count_error(c, PGWIRE_E_UNEXPECTED);
	} else if (c->fail_pending) {
		report(c, &c->fail_desc, c->fail_ts, c->fail_ts, PGWIRE_FAILED, c->fail_state,
		       false);
	}
out:
	c->group_failed = c->fail_pending = c->be_gap = false;
	if (!quiet)
		c->be_lost_ts = 0;
}

static void be_error(struct pgwire_conn *c, struct framer *f, uint64_t ts)
{
	struct item *it = q_head(c);
	char state[6];

	if (!it || c->be_gap || it->kind == IT_STARTUP)
		return; /* FATAL at start-up or shutdown, or an answer we cannot place */
	error_sqlstate(f, state);
	switch (it->kind) {
	case IT_QUERY:
		if (it->next < it->nstmts)
			report(c, &it->stmts[it->next], it->last_ns, ts, PGWIRE_FAILED, state,
			       false);
		else if (!it->errored)
			report(c, NULL, it->last_ns, ts, PGWIRE_FAILED, state, false);
		if (it->next < it->nstmts)
			it->next++;
		it->errored = true;
		return;
	case IT_EXECUTE:
	case IT_FUNCALL:
		report(c, &it->d, it->start_ns, ts, PGWIRE_FAILED, state, it->unknown);
		it->done = true;
		if (it->kind == IT_EXECUTE)
			q_pop(c);
		c->group_failed = true;
		return;
	case IT_SYNC:
		count_error(c, PGWIRE_E_UNEXPECTED);
		return;
	default: /* Parse, Bind, Describe, Close: the group's first Execute fails */
		if (!c->group_failed) {
			c->fail_pending = true;
			c->fail_ts = ts;
			c->fail_desc = it->d;
			memcpy(c->fail_state, state, sizeof(state));
		}
		c->group_failed = true;
		q_pop(c);
		return;
	}
}

/* A message that answers the head request of kind `want`: pops it, or flags a mismatch. */
static void be_answer(struct pgwire_conn *c, enum item_kind want, enum item_kind or_kind)
{
	struct item *it = q_head(c);

	if (it && (it->kind == want || it->kind == or_kind)) {
		q_pop(c);
		return;
	}
	if (c->queued_any) {
		count_error(c, PGWIRE_E_UNEXPECTED);
		c->be_gap = true;
	}
}

static void be_complete(struct pgwire_conn *c, uint64_t ts, bool empty)
{
	struct item *it = q_head(c);

	if (it && it->kind == IT_EXECUTE) {
		if (!empty)
			report(c, &it->d, it->start_ns, ts, PGWIRE_OK, NULL, it->unknown);
		q_pop(c);
	} else if (it && it->kind == IT_QUERY) {
		if (empty)
			return;
		if (it->next < it->nstmts) {
			report(c, &it->stmts[it->next], it->last_ns, ts, PGWIRE_OK, NULL, false);
			it->next++;
		} else if (it->more) {
			report(c, NULL, it->last_ns, ts, PGWIRE_OK, NULL, false);
		}
		it->last_ns = ts;
	} else if (c->queued_any) {
		count_error(c, PGWIRE_E_UNEXPECTED);
		c->be_gap = true;
	}
}

static void be_message(struct pgwire_conn *c, struct framer *f, uint64_t ts, bool chunk_end)
{
	struct item *it;

	if (c->fe_lost) {
		/* a ReadyForQuery that ends what the server wrote: it is idle */
		if (f->type == 'Z' && chunk_end) {
			c->fe_lost = false;
			c->be_gap = false;
		}
		return;
	}
	if (c->be_gap && f->type != 'Z')
		return;
	switch (f->type) {
	case 'Z':
		end_group(c, ts, false);
		break;
	case 'E':
		be_error(c, f, ts);
		break;
	case 'C':
		be_complete(c, ts, false);
		break;
	case 's':
		be_complete(c, ts, false);
		break;
	case 'I':
		be_complete(c, ts, true);
		break;
	case '1':
		be_answer(c, IT_PARSE, IT_PARSE);
		break;
	case '2':
		be_answer(c, IT_BIND, IT_BIND);
		break;
	case '3':
		be_answer(c, IT_CLOSE, IT_CLOSE);
		break;
	case 'n':
		be_answer(c, IT_DESCRIBE_S, IT_DESCRIBE_P);
		break;
	case 'T':
		it = q_head(c);
		if (it && (it->kind == IT_DESCRIBE_S || it->kind == IT_DESCRIBE_P))
			q_pop(c);
		break;
	case 'V':
		it = q_head(c);
		if (it && it->kind == IT_FUNCALL && !it->done) {
			report(c, &it->d, it->start_ns, ts, PGWIRE_OK, NULL, false);
			it->done = true;
		}
		break;
	default: /* t, D, G, H, W, d, c, A, N, S, K, R, v: not the end of an answer */
		break;
	}
}

/* ---- framing ----------------------------------------------------------------------------- */

static uint32_t keep_for(enum pgwire_side side, uint8_t type, uint32_t blen, uint32_t bufsz)
{
	uint32_t want = 0;

	if (side == PGWIRE_FRONTEND) {
		switch (type) {
		case 0:
			want = STARTUP_KEEP;
			break;
		case 'Q':
			want = PGWIRE_SQL_MAX;
			break;
		case 'P':
			want = FE_BUF - 1;
			break;
		case 'B':
		case 'E':
		case 'C':
		case 'D':
			want = 2 * PGWIRE_NAME_MAX + 2;
			break;
		}
	} else {
		switch (type) {
		case 'E':
			want = ERROR_KEEP;
			break;
		case 'C':
		case 'Z':
			want = TAG_KEEP;
			break;
		}
	}
	if (want > bufsz - 1)
		want = bufsz - 1;
	return blen < want ? blen : want;
}

static void lose(struct pgwire_conn *c, enum pgwire_side side, enum pgwire_error why, uint64_t ts)
{
	c->fr[side].state = FR_LOST;
	count_error(c, why);
	if (side == PGWIRE_FRONTEND) {
		fe_lose(c);
	} else {
		c->be_gap = true;
		c->be_lost_ts = ts;
	}
}

static void dispatch(struct pgwire_conn *c, enum pgwire_side side, uint64_t ts, bool chunk_end)
{
	struct framer *f = &c->fr[side];

	f->buf[f->kept] = 0;
	if (side == PGWIRE_FRONTEND)
		fe_message(c, f);
	else
		be_message(c, f, ts, chunk_end);
	f->state = FR_HEADER;
	f->hlen = 0;
}

/* Header complete: checks it and sets up the body. false when framing is lost. */
static bool start_body(struct pgwire_conn *c, enum pgwire_side side)
{
	struct framer *f = &c->fr[side];
	uint32_t l = f->hneed == 4 ? be32(f->hdr) : be32(f->hdr + 1);

	f->type = f->hneed == 4 ? 0 : f->hdr[0];
	if (f->hneed == 5 && (side == PGWIRE_FRONTEND ? !fe_type(f->type) : !be_type(f->type))) {
		lose(c, side, PGWIRE_E_BAD_TYPE, f->ts);
		return false;
	}
	if (l < 4 || (f->hneed == 4 && (l < 8 || l > 10000)) ||
	    (f->hneed == 5 && !len_ok(side, f->type, l - 4))) {
		lose(c, side, f->hneed == 4 ? PGWIRE_E_BAD_STARTUP : PGWIRE_E_BAD_LENGTH, f->ts);
		return false;
	}
	f->len = l - 4;
	f->got = f->kept = 0;
	f->truncated = false;
	f->keep = keep_for(side, f->type, f->len, f->bufsz);
	f->state = FR_BODY;
	return true;
}

/* The unseen gap after a chunk: skip it by the lengths, or lose framing. */
static void skip_gap(struct pgwire_conn *c, enum pgwire_side side, uint64_t gap, uint64_t ts)
{
	struct framer *f = &c->fr[side];

	if (f->state == FR_LOST || c->opaque)
		return;
	if (f->state == FR_BODY) {
		uint64_t r = f->len - f->got;

		if (f->kept < f->keep)
			f->truncated = true;
		if (gap < r) {
			f->got += (uint32_t)gap;
			return;
		}
		f->got = f->len;
		gap -= r;
		dispatch(c, side, ts, gap == 0);
		if (!gap)
			return;
	}
	lose(c, side, PGWIRE_E_GAP, ts);
}

void pgwire_feed(struct pgwire_conn *c, enum pgwire_side side, const uint8_t *data, size_t cap_len,
		 uint64_t total_len, uint64_t ts_ns)
{
	struct framer *f;
	size_t i = 0;

	if (!c || (side != PGWIRE_FRONTEND && side != PGWIRE_BACKEND) || c->opaque)
		return;
	if (!data)
		cap_len = 0;
	if (total_len < cap_len)
		total_len = cap_len;
	f = &c->fr[side];
	if (f->state == FR_LOST) {
		int p = side == PGWIRE_FRONTEND && cap_len && !data[0]
			    ? plausible_startup(data, cap_len)
			    : plausible(side, data, cap_len, false);

		if (p <= 0)
			return;
		f->state = FR_HEADER;
		f->hlen = 0;
	}
	while (i < cap_len && !c->opaque) {
		if (f->state == FR_HEADER) {
			size_t n;

			if (!f->hlen) {
				if (side == PGWIRE_BACKEND && c->ssl_pending) {
					c->ssl_pending = false;
					if (data[i] == 'S' || data[i] == 'G') {
						c->opaque = true;
						if (c->cb && c->cb->on_opaque)
							c->cb->on_opaque(c->ctx);
						return;
					}
					if (data[i] == 'N') {
						i++;
						continue;
					}
				}
				f->ts = ts_ns;
				f->hneed = side == PGWIRE_FRONTEND && !data[i] ? 4 : 5;
			}
			n = f->hneed - f->hlen;
			if (n > cap_len - i)
				n = cap_len - i;
			memcpy(f->hdr + f->hlen, data + i, n);
			f->hlen += (uint8_t)n;
			i += n;
			if (f->hlen < f->hneed)
				break;
			if (!start_body(c, side))
				return;
		} else {
			size_t n = f->len - f->got;

			if (n > cap_len - i)
				n = cap_len - i;
			if (!f->truncated && f->kept < f->keep) {
				size_t k = f->keep - f->kept < n ? f->keep - f->kept : n;

				memcpy(f->buf + f->kept, data + i, k);
				f->kept += (uint32_t)k;
			}
			f->got += (uint32_t)n;
			i += n;
		}
		if (f->state == FR_BODY && f->got == f->len)
			dispatch(c, side, ts_ns, i == cap_len && total_len == cap_len);
	}
	if (total_len > cap_len)
		skip_gap(c, side, total_len - cap_len, ts_ns);
}

void pgwire_close(struct pgwire_conn *c, uint64_t ts_ns)
{
	if (!c)
		return;
	while (c->qlen) {
		struct item *it = q_head(c);
		uint8_t k;

		if ((it->kind == IT_EXECUTE || it->kind == IT_FUNCALL) && !it->done)
			report(c, &it->d, it->start_ns, ts_ns, PGWIRE_CLOSED, NULL, it->unknown);
		if (it->kind == IT_QUERY && !it->errored)
			for (k = it->next; k < it->nstmts; k++)
				report(c, &it->stmts[k], it->last_ns, ts_ns, PGWIRE_CLOSED, NULL,
				       false);
		q_pop(c);
	}
	c->group_failed = c->fail_pending = c->be_gap = false;
}

struct pgwire_conn *pgwire_new(const struct pgwire_callbacks *cb, void *ctx)
{
	struct pgwire_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->cb = cb;
	c->ctx = ctx;
	c->fr[PGWIRE_FRONTEND].bufsz = FE_BUF;
	c->fr[PGWIRE_BACKEND].bufsz = BE_BUF;
	c->fr[PGWIRE_FRONTEND].buf = malloc(FE_BUF);
	c->fr[PGWIRE_BACKEND].buf = malloc(BE_BUF);
	c->stmts.cap = PGWIRE_STMTS_MAX;
	c->portals.cap = PORTALS_MAX;
	if (!c->fr[0].buf || !c->fr[1].buf) {
		pgwire_free(c);
		errno = ENOMEM;
		return NULL;
	}
	return c;
}

void pgwire_free(struct pgwire_conn *c)
{
	if (!c)
		return;
	while (c->qlen)
		q_pop(c);
	free(c->q);
	free(c->stmts.e);
	free(c->portals.e);
	free(c->fr[0].buf);
	free(c->fr[1].buf);
	free(c);
}
