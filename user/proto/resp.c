// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * resp.c - Redis RESP2/RESP3 wire protocol to cache operations (resp.h).
 *
 * Each side has a reader that walks RESP values incrementally: type byte,
 * line, bulk body (kept only as a short prefix, skipped by its length) and a
 * stack of open aggregates. Client values are commands, queued in a FIFO;
 * server values are replies, matched to the FIFO by position. Commands sent
 * inside MULTI move to a second FIFO on +QUEUED and are answered by the
 * elements of EXEC's array.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "resp.h"

#define KEEP	      63	  /* bytes kept of a line or bulk body */
#define LINE_MAX_LEN  (64u << 10) /* inline commands and simple lines */
#define BULK_MAX      (512ull << 20)
#define COUNT_MAX     (1ll << 24)
#define QUEUE_INITIAL 16

static const char *const commands[] = {
    "ACL",
    "APPEND",
    "ASKING",
    "AUTH",
    "BGREWRITEAOF",
    "BGSAVE",
    "BITCOUNT",
    "BITFIELD",
    "BITFIELD_RO",
    "BITOP",
    "BITPOS",
    "BLMOVE",
    "BLMPOP",
    "BLPOP",
    "BRPOP",
    "BRPOPLPUSH",
    "BZMPOP",
    "BZPOPMAX",
    "BZPOPMIN",
    "CLIENT",
    "CLUSTER",
    "COMMAND",
    "CONFIG",
    "COPY",
    "DBSIZE",
    "DEBUG",
    "DECR",
    "DECRBY",
    "DEL",
    "DISCARD",
    "DUMP",
    "ECHO",
    "EVAL",
    "EVALSHA",
    "EVALSHA_RO",
    "EVAL_RO",
    "EXEC",
    "EXISTS",
    "EXPIRE",
    "EXPIREAT",
    "EXPIRETIME",
    "FAILOVER",
    "FCALL",
    "FCALL_RO",
    "FLUSHALL",
    "FLUSHDB",
    "FUNCTION",
    "GEOADD",
    "GEODIST",
    "GEOHASH",
    "GEOPOS",
    "GEORADIUS",
    "GEORADIUSBYMEMBER",
    "GEORADIUSBYMEMBER_RO",
    "GEORADIUS_RO",
    "GEOSEARCH",
    "GEOSEARCHSTORE",
    "GET",
    "GETBIT",
    "GETDEL",
    "GETEX",
    "GETRANGE",
    "GETSET",
    "HDEL",
    "HELLO",
    "HEXISTS",
    "HGET",
    "HGETALL",
    "HINCRBY",
    "HINCRBYFLOAT",
    "HKEYS",
    "HLEN",
    "HMGET",
    "HMSET",
    "HRANDFIELD",
    "HSCAN",
    "HSET",
    "HSETNX",
    "HSTRLEN",
    "HVALS",
    "INCR",
    "INCRBY",
    "INCRBYFLOAT",
    "INFO",
    "KEYS",
    "LASTSAVE",
    "LATENCY",
    "LCS",
    "LINDEX",
    "LINSERT",
    "LLEN",
    "LMOVE",
    "LMPOP",
    "LOLWUT",
    "LPOP",
    "LPOS",
    "LPUSH",
    "LPUSHX",
    "LRANGE",
    "LREM",
    "LSET",
    "LTRIM",
    "MEMORY",
    "MGET",
    "MIGRATE",
    "MODULE",
    "MONITOR",
    "MOVE",
    "MSET",
    "MSETNX",
    "MULTI",
    "OBJECT",
    "PERSIST",
    "PEXPIRE",
    "PEXPIREAT",
    "PEXPIRETIME",
    "PFADD",
    "PFCOUNT",
    "PFDEBUG",
    "PFMERGE",
    "PFSELFTEST",
    "PING",
    "PSETEX",
    "PSUBSCRIBE",
    "PSYNC",
    "PTTL",
    "PUBLISH",
    "PUBSUB",
    "PUNSUBSCRIBE",
    "QUIT",
    "RANDOMKEY",
    "READONLY",
    "READWRITE",
    "RENAME",
    "RENAMENX",
    "REPLCONF",
    "REPLICAOF",
    "RESET",
    "RESTORE",
    "ROLE",
    "RPOP",
    "RPOPLPUSH",
    "RPUSH",
    "RPUSHX",
    "SADD",
    "SAVE",
    "SCAN",
    "SCARD",
    "SCRIPT",
    "SDIFF",
    "SDIFFSTORE",
    "SELECT",
    "SET",
    "SETBIT",
    "SETEX",
    "SETNX",
    "SETRANGE",
    "SHUTDOWN",
    "SINTER",
    "SINTERCARD",
    "SINTERSTORE",
    "SISMEMBER",
    "SLAVEOF",
    "SLOWLOG",
    "SMEMBERS",
    "SMISMEMBER",
    "SMOVE",
    "SORT",
    "SORT_RO",
    "SPOP",
    "SPUBLISH",
    "SRANDMEMBER",
    "SREM",
    "SSCAN",
    "SSUBSCRIBE",
    "STRLEN",
    "SUBSCRIBE",
    "SUBSTR",
    "SUNION",
    "SUNIONSTORE",
    "SUNSUBSCRIBE",
    "SWAPDB",
    "SYNC",
    "TIME",
    "TOUCH",
    "TTL",
    "TYPE",
    "UNLINK",
    "UNSUBSCRIBE",
    "UNWATCH",
    "WAIT",
    "WAITAOF",
    "WATCH",
    "XACK",
    "XADD",
    "XAUTOCLAIM",
    "XCLAIM",
    "XDEL",
    "XGROUP",
    "XINFO",
    "XLEN",
    "XPENDING",
    "XRANGE",
    "XREAD",
    "XREADGROUP",
    "XREVRANGE",
    "XSETID",
    "XTRIM",
    "ZADD",
    "ZCARD",
    "ZCOUNT",
    "ZDIFF",
    "ZDIFFSTORE",
    "ZINCRBY",
    "ZINTER",
    "ZINTERCARD",
    "ZINTERSTORE",
    "ZLEXCOUNT",
    "ZMPOP",
    "ZMSCORE",
    "ZPOPMAX",
    "ZPOPMIN",
    "ZRANDMEMBER",
    "ZRANGE",
    "ZRANGEBYLEX",
    "ZRANGEBYSCORE",
    "ZRANGESTORE",
    "ZRANK",
    "ZREM",
    "ZREMRANGEBYLEX",
    "ZREMRANGEBYRANK",
    "ZREMRANGEBYSCORE",
    "ZREVRANGE",
    "ZREVRANGEBYLEX",
    "ZREVRANGEBYSCORE",
    "ZREVRANK",
    "ZSCAN",
    "ZSCORE",
    "ZUNION",
    "ZUNIONSTORE",
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

enum rd_state { RD_TYPE = 0, RD_LINE, RD_BULK, RD_LOST };

struct agg {
	int64_t left; /* elements still to come */
	bool attr;    /* a RESP3 attribute: not an element of its parent */
};

/* Walks the values of one side. */
struct reader {
	uint8_t state;
	uint8_t type;	   /* of the value being read; 0: an inline command line */
	uint8_t depth;	   /* open aggregates */
	uint8_t top_type;  /* of the top-level value */
	uint8_t elem_type; /* of the depth-1 element being read */
	uint32_t line_len; /* bytes of the line so far */
	uint32_t kept;	   /* bytes in keep[] */
	uint32_t e_idx;	   /* index of the depth-1 element being read */
	int64_t top_count;
	uint64_t bulk_left; /* body bytes and CRLF still to come */
	uint64_t bulk_len;  /* body bytes */
	uint64_t ts;	    /* chunk with the top-level value's first byte */
	char keep[KEEP + 1];
	char top[KEEP + 1];  /* top-level scalar: line or body prefix */
	char elem[KEEP + 1]; /* the depth-1 element just read */
	char e0[32], e1[16]; /* depth-1 elements 0 and 1 */
	struct agg stack[RESP_DEPTH_MAX];
};

enum cmd_kind {
	K_PLAIN = 0,
	K_MULTI,
	K_EXEC,
	K_DISCARD,
	K_SELECT,
	K_HELLO,
	K_SUB,	 /* SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE */
	K_UNSUB, /* UNSUBSCRIBE, PUNSUBSCRIBE, SUNSUBSCRIBE */
	K_RESET,
	K_MONITOR,
};

struct cmd {
	uint64_t start_ns;
	const char *name;
	uint8_t kind;
	bool queued;  /* sent inside MULTI: expects +QUEUED */
	char arg[8];  /* SELECT: the index; HELLO: the version */
	char sub[16]; /* (UN)SUBSCRIBE: the confirmation's name, lower case */
};

struct ring {
	struct cmd *v;
	uint32_t cap, head, len;
};

struct resp_conn {
	const struct resp_callbacks *cb;
	void *ctx;
	struct reader rd[2];
	struct ring q;		/* commands waiting for a reply */
	struct ring tx;		/* commands queued by MULTI, waiting for EXEC */
	uint64_t replies_after; /* replies read before this time answer lost commands */
	uint64_t s_lost_ts;	/* server framing lost in the read of this time; 0: not */
	bool c_lost;		/* client framing lost, no command queued since */
	uint64_t c_gap_ts;	/* c_lost by a capture gap in the write of this time: 0 if not */
	bool in_multi;
	bool subscribed;
	bool resp3;
	bool monitor; /* MONITOR: the server streams; nothing more is matched */
	char ns[8];
	uint64_t errors[RESP_E_MAX];
};

static const char *const error_names[RESP_E_MAX] = {
    [RESP_E_BAD_TYPE] = "bad_type",
    [RESP_E_BAD_LENGTH] = "bad_length",
    [RESP_E_TOO_DEEP] = "too_deep",
    [RESP_E_LINE_TOO_LONG] = "line_too_long",
    [RESP_E_GAP] = "gap",
    [RESP_E_UNEXPECTED] = "unexpected",
    [RESP_E_QUEUE_FULL] = "queue_full",
    [RESP_E_OPS_LOST] = "ops_lost",
};

static const char *const status_names[RESP_STATUS_MAX] = {
    [RESP_OK] = "ok",		[RESP_FAILED] = "failed", [RESP_ABORTED] = "aborted",
    [RESP_UNKNOWN] = "unknown", [RESP_CLOSED] = "closed",
};

const char *resp_error_name(enum resp_error e)
{
	return (unsigned)e < RESP_E_MAX ? error_names[e] : "unknown";
}

const char *resp_status_name(enum resp_status s)
{
	return (unsigned)s < RESP_STATUS_MAX ? status_names[s] : "unknown";
}

uint64_t resp_errors(const struct resp_conn *c, enum resp_error e)
{
	return c && (unsigned)e < RESP_E_MAX ? c->errors[e] : 0;
}

static void count_error(struct resp_conn *c, enum resp_error e)
{
	c->errors[e]++;
	if (c->cb && c->cb->on_error)
		c->cb->on_error(c->ctx, e);
}

static int cmp_name(const void *key, const void *elem)
{
	return strcmp(key, *(const char *const *)elem);
}

const char *resp_command_name(const char *cmd, size_t len)
{
	const char *const *hit;
	char up[24];
	size_t i;

	if (!cmd || !len || len >= sizeof(up))
		return "_OTHER";
	for (i = 0; i < len; i++) {
		char ch = cmd[i];

		if (ch >= 'a' && ch <= 'z')
			ch = (char)(ch - 'a' + 'A');
		if (!((ch >= 'A' && ch <= 'Z') || ch == '_' || (ch >= '0' && ch <= '9')))
			return "_OTHER";
		up[i] = ch;
	}
	up[len] = 0;
	hit = bsearch(up, commands, NCOMMANDS, sizeof(commands[0]), cmp_name);
	return hit ? *hit : "_OTHER";
}

static void scopy(char *dst, size_t dsz, const char *src, size_t n)
{
	if (n > dsz - 1)
		n = dsz - 1;
	memcpy(dst, src, n);
	dst[n] = 0;
}

static void lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* ---- command FIFOs ----------------------------------------------------------------------- */

static struct cmd *ring_at(struct ring *r, uint32_t i)
{
	return &r->v[(r->head + i) % r->cap];
}

static struct cmd *ring_head(struct ring *r)
{
	return r->len ? ring_at(r, 0) : NULL;
}

static void ring_pop(struct ring *r)
{
	r->head = (r->head + 1) % r->cap;
	r->len--;
}

/* -ENOSPC at RESP_QUEUE_MAX, -ENOMEM. */
static int ring_push(struct ring *r, const struct cmd *x)
{
	if (r->len == r->cap) {
		uint32_t ncap = r->cap ? r->cap * 2 : QUEUE_INITIAL, i;
		struct cmd *nv;

		if (r->cap >= RESP_QUEUE_MAX)
			return -ENOSPC;
		nv = calloc(ncap, sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		for (i = 0; i < r->len; i++)
			nv[i] = *ring_at(r, i);
		free(r->v);
		r->v = nv;
		r->cap = ncap;
		r->head = 0;
	}
	*ring_at(r, r->len++) = *x;
	return 0;
}

static void report(struct resp_conn *c, const struct cmd *x, uint64_t end, enum resp_status st,
		   const char *err)
{
	struct resp_op op;

	if (!c->cb || !c->cb->on_op)
		return;
	memset(&op, 0, sizeof(op));
	op.start_ns = x->start_ns;
	op.end_ns = end < x->start_ns ? x->start_ns : end;
	op.status = st;
	op.operation = x->name;
	op.namespace_ = c->ns;
	if (err)
		scopy(op.error, sizeof(op.error), err, strlen(err));
	c->cb->on_op(c->ctx, &op);
}

/* Ends every command of r with one status. */
static void ring_end_all(struct resp_conn *c, struct ring *r, uint64_t ts, enum resp_status st)
{
	while (r->len) {
		report(c, ring_head(r), ts, st, NULL);
		ring_pop(r);
	}
}

/* The server's answers to what was sent before a lossy read are lost with it. */
static void settle_hidden(struct resp_conn *c, uint64_t ts)
{
	if (!c->s_lost_ts || ts <= c->s_lost_ts)
		return;
	ring_end_all(c, &c->tx, c->s_lost_ts, RESP_UNKNOWN);
	ring_end_all(c, &c->q, c->s_lost_ts, RESP_UNKNOWN);
	c->s_lost_ts = 0;
}

/* ---- commands ---------------------------------------------------------------------------- */

static enum cmd_kind kind_of(const char *name)
{
	static const struct {
		const char *name;
		enum cmd_kind kind;
	} kinds[] = {
	    {"MULTI", K_MULTI},	       {"EXEC", K_EXEC},	  {"DISCARD", K_DISCARD},
	    {"SELECT", K_SELECT},      {"HELLO", K_HELLO},	  {"SUBSCRIBE", K_SUB},
	    {"PSUBSCRIBE", K_SUB},     {"SSUBSCRIBE", K_SUB},	  {"UNSUBSCRIBE", K_UNSUB},
	    {"PUNSUBSCRIBE", K_UNSUB}, {"SUNSUBSCRIBE", K_UNSUB}, {"RESET", K_RESET},
	    {"MONITOR", K_MONITOR},
	};
	size_t i;

	/* every command passes here: the first byte rules most names out */
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (name[0] == kinds[i].name[0] && !strcmp(name, kinds[i].name))
			return kinds[i].kind;
	return K_PLAIN;
}

static void on_command(struct resp_conn *c, struct reader *r)
{
	struct cmd x;
	int err;

	memset(&x, 0, sizeof(x));
	x.start_ns = r->ts;
	x.name = resp_command_name(r->e0, strlen(r->e0));
	x.kind = (uint8_t)kind_of(x.name);
	if (c->in_multi && x.kind != K_EXEC && x.kind != K_DISCARD && x.kind != K_MULTI &&
	    x.kind != K_RESET)
		x.queued = true;
	switch (x.kind) {
	case K_MULTI:
		c->in_multi = true;
		break;
	case K_EXEC:
	case K_DISCARD:
	case K_RESET:
		c->in_multi = false;
		break;
	case K_SELECT:
	case K_HELLO:
		scopy(x.arg, sizeof(x.arg), r->e1, strlen(r->e1));
		break;
	case K_SUB:
	case K_UNSUB:
		c->subscribed = true;
		scopy(x.sub, sizeof(x.sub), r->e0, strlen(r->e0));
		lower(x.sub);
		break;
	}
	settle_hidden(c, r->ts);
	if (c->c_lost) {
		/* a client that sent again before its hidden commands were answered cannot be
		 * matched: what it still waited for is dropped */
		if (c->c_gap_ts && (c->q.len || c->tx.len)) {
			count_error(c, RESP_E_OPS_LOST);
			c->q.len = 0;
			c->tx.len = 0;
		}
		c->c_lost = false;
		c->c_gap_ts = 0;
		c->replies_after = r->ts;
	}
	err = ring_push(&c->q, &x);
	if (err) {
		count_error(c, RESP_E_QUEUE_FULL);
		ring_end_all(c, &c->q, r->ts, RESP_UNKNOWN);
	}
}

/* ---- replies ----------------------------------------------------------------------------- */

static bool is_error_type(uint8_t t)
{
	return t == '-' || t == '!';
}

/* The first word of an error text. */
static void error_prefix(const char *text, char out[32])
{
	size_t n = strcspn(text, " \r\n");

	scopy(out, 32, text, n);
	if (!out[0])
		scopy(out, 32, "ERR", 3);
}

static bool is_confirmation(const char *e0)
{
	static const char *const kinds[] = {"subscribe",   "psubscribe",   "ssubscribe",
					    "unsubscribe", "punsubscribe", "sunsubscribe"};
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(e0, kinds[i]))
			return true;
	return false;
}

static bool is_message(const char *e0)
{
	return !strcmp(e0, "message") || !strcmp(e0, "pmessage") || !strcmp(e0, "smessage");
}

/* A depth-1 element of the server's current top-level value is complete. */
static void on_element(struct resp_conn *c, struct reader *r, uint64_t ts)
{
	struct cmd *h = ring_head(&c->q), *t;
	char err[32];

	if (!h || h->kind != K_EXEC || r->top_type != '*' || (c->c_lost && !c->c_gap_ts) ||
	    r->ts < c->replies_after || c->s_lost_ts || !(t = ring_head(&c->tx)))
		return;
	if (is_error_type(r->elem_type)) {
		error_prefix(r->elem, err);
		report(c, t, ts, RESP_FAILED, err);
	} else {
		report(c, t, ts, RESP_OK, NULL);
	}
	ring_pop(&c->tx);
}

static void on_reply(struct resp_conn *c, struct reader *r, uint64_t ts)
{
	bool err = is_error_type(r->top_type);
	bool agg = r->top_type == '*' || r->top_type == '>';
	char prefix[32] = "";
	struct cmd *h;

	if (c->monitor || (c->c_lost && !c->c_gap_ts) || r->ts < c->replies_after || c->s_lost_ts)
		return;
	h = ring_head(&c->q);
	if (agg && (r->top_type == '>' || c->subscribed) && is_confirmation(r->e0)) {
		/* the first confirmation answers its (UN)SUBSCRIBE; the others nothing */
		if (h && (h->kind == K_SUB || h->kind == K_UNSUB) && !strcmp(h->sub, r->e0)) {
			report(c, h, ts, RESP_OK, NULL);
			ring_pop(&c->q);
		}
		return;
	}
	if (r->top_type == '>' ||
	    (r->top_type == '*' && !c->resp3 && c->subscribed && is_message(r->e0)))
		return; /* a push or a published message: not a reply */
	if (err)
		error_prefix(r->top, prefix);
	if (!h && c->c_gap_ts) {
		/* the answer to a command the capture gap hid: counted, its name unknown */
		struct cmd x = {.start_ns = c->c_gap_ts, .name = ""};

		report(c, &x, ts, err ? RESP_FAILED : RESP_OK, err ? prefix : NULL);
		return;
	}
	if (!h) {
		count_error(c, RESP_E_UNEXPECTED);
		return;
	}
	if (h->queued && !err && r->top_type == '+' && !strcmp(r->top, "QUEUED")) {
		struct cmd x = *h;

		ring_pop(&c->q);
		if (ring_push(&c->tx, &x))
			count_error(c, RESP_E_QUEUE_FULL);
		return;
	}
	switch (h->kind) {
	case K_EXEC:
		/* elements answered their commands; what is left never ran */
		ring_end_all(c, &c->tx, ts,
			     err || r->top_count < 0 || !agg ? RESP_ABORTED : RESP_UNKNOWN);
		break;
	case K_DISCARD:
		if (!err)
			ring_end_all(c, &c->tx, ts, RESP_ABORTED);
		break;
	case K_SELECT:
		if (!err && h->arg[0] && strspn(h->arg, "0123456789") == strlen(h->arg))
			scopy(c->ns, sizeof(c->ns), h->arg, strlen(h->arg));
		break;
	case K_HELLO:
		if (!err && h->arg[0])
			c->resp3 = !strcmp(h->arg, "3");
		break;
	case K_RESET:
		if (!err) {
			scopy(c->ns, sizeof(c->ns), "0", 1);
			c->resp3 = c->subscribed = c->in_multi = false;
			ring_end_all(c, &c->tx, ts, RESP_ABORTED);
		}
		break;
	case K_MONITOR:
		if (!err)
			c->monitor = true;
		break;
	}
	report(c, h, ts, err ? RESP_FAILED : RESP_OK, err ? prefix : NULL);
	ring_pop(&c->q);
}

/* ---- the value reader -------------------------------------------------------------------- */

/* The RESP2/RESP3 type bytes: a table, not strchr(), as every value is tested. */
static const bool resp_types[256] = {
    ['+'] = 1, ['-'] = 1, [':'] = 1, ['$'] = 1, ['*'] = 1, ['_'] = 1, ['#'] = 1, [','] = 1,
    ['('] = 1, ['!'] = 1, ['='] = 1, ['%'] = 1, ['~'] = 1, ['>'] = 1, ['|'] = 1};

static bool type_ok(uint8_t t)
{
	return resp_types[t];
}

static bool is_bulk(uint8_t t)
{
	return t == '$' || t == '!' || t == '=';
}

static bool is_agg(uint8_t t)
{
	return t == '*' || t == '~' || t == '>' || t == '%' || t == '|';
}

/* A decimal in s ("-1" allowed when neg_ok); false when not a number. */
static bool parse_num(const char *s, int64_t *out)
{
	int64_t v = 0;
	bool neg = *s == '-';

	if (neg)
		s++;
	if (!*s || strlen(s) > 12)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (*s - '0');
	}
	*out = neg ? -v : v;
	return true;
}

static void lose(struct resp_conn *c, enum resp_side side, enum resp_error why, uint64_t ts)
{
	struct reader *r = &c->rd[side];

	r->state = RD_LOST;
	r->depth = 0;
	count_error(c, why);
	if (side == RESP_CLIENT && why == RESP_E_GAP) {
		/* the commands before the gap stay queued: their replies come first, and each
		 * reply beyond them answers one command the gap hid (the replies are the
		 * ground truth) */
		c->c_lost = true;
		c->c_gap_ts = ts;
	} else if (side == RESP_CLIENT) {
		if (c->q.len)
			count_error(c, RESP_E_OPS_LOST);
		c->q.len = 0;
		c->tx.len = 0;
		c->c_lost = true;
		c->c_gap_ts = 0;
	} else {
		/* replies lost while hidden commands were answered: how many is unknown */
		if (c->c_gap_ts)
			count_error(c, RESP_E_OPS_LOST);
		c->s_lost_ts = ts;
	}
}

/* Where the content of a finished scalar goes, by its depth. */
static void capture(struct reader *r, const char *s, size_t n)
{
	if (r->depth == 0) {
		scopy(r->top, sizeof(r->top), s, n);
	} else if (r->depth == 1) {
		scopy(r->elem, sizeof(r->elem), s, n);
		if (r->e_idx == 0)
			scopy(r->e0, sizeof(r->e0), s, n);
		else if (r->e_idx == 1)
			scopy(r->e1, sizeof(r->e1), s, n);
	}
}

static void top_done(struct resp_conn *c, enum resp_side side, uint64_t ts)
{
	struct reader *r = &c->rd[side];

	if (side == RESP_CLIENT) {
		if (r->e0[0])
			on_command(c, r);
	} else {
		on_reply(c, r, ts);
	}
}

/* A value is complete: climbs the stack of open aggregates. */
static void value_done(struct resp_conn *c, enum resp_side side, uint64_t ts)
{
	struct reader *r = &c->rd[side];

	r->state = RD_TYPE;
	for (;;) {
		struct agg *a;

		if (r->depth == 0) {
			top_done(c, side, ts);
			return;
		}
		a = &r->stack[r->depth - 1];
		if (r->depth == 1) {
			if (side == RESP_SERVER)
				on_element(c, r, ts);
			r->e_idx++;
		}
		if (--a->left > 0)
			return;
		r->depth--;
		if (a->attr)
			return; /* an attribute is no element of its parent */
	}
}

/* The start of a value at the reader's depth. */
static void value_start(struct reader *r, uint8_t type, uint64_t ts)
{
	if (r->depth == 0) {
		r->ts = ts;
		r->top_type = type;
		r->top_count = 0;
		r->top[0] = r->elem[0] = r->e0[0] = r->e1[0] = 0;
		r->e_idx = 0;
	} else if (r->depth == 1) {
		r->elem_type = type;
		r->elem[0] = 0;
	}
	r->type = type;
	r->line_len = r->kept = 0;
	r->state = RD_LINE;
}

/* An inline command line: tokens become elements 0 and 1. */
static void inline_done(struct reader *r)
{
	const char *p = r->keep, *tok;
	size_t n;
	int i = 0;

	while (*p && i < 2) {
		p += strspn(p, " \t");
		tok = p;
		n = strcspn(p, " \t");
		if (!n)
			break;
		if (i == 0)
			scopy(r->e0, sizeof(r->e0), tok, n);
		else
			scopy(r->e1, sizeof(r->e1), tok, n);
		p += n;
		i++;
	}
	r->top_type = '*';
}

/* A complete line (CR stripped) of the current value. false: framing lost. */
static bool line_done(struct resp_conn *c, enum resp_side side, uint64_t ts)
{
	struct reader *r = &c->rd[side];
	int64_t n;

	if (r->kept && r->keep[r->kept - 1] == '\r')
		r->keep[--r->kept] = 0;
	r->keep[r->kept] = 0;
	if (r->type == 0) {
		inline_done(r);
		if (r->e0[0])
			top_done(c, side, ts);
		r->state = RD_TYPE;
		return true;
	}
	if (!is_bulk(r->type) && !is_agg(r->type)) {
		capture(r, r->keep, r->kept);
		value_done(c, side, ts);
		return true;
	}
	if (!parse_num(r->keep, &n) || n < -1 ||
	    (n >= 0 && (is_bulk(r->type) ? (uint64_t)n > BULK_MAX : n > COUNT_MAX))) {
		lose(c, side, RESP_E_BAD_LENGTH, ts);
		return false;
	}
	if (n == -1) { /* null */
		if (r->depth == 0)
			r->top_count = -1;
		capture(r, "", 0);
		value_done(c, side, ts);
		return true;
	}
	if (is_bulk(r->type)) {
		r->bulk_left = (uint64_t)n + 2;
		r->bulk_len = (uint64_t)n;
		r->kept = 0;
		r->state = RD_BULK;
		return true;
	}
	if (r->type == '%' || r->type == '|')
		n *= 2;
	if (r->depth == 0)
		r->top_count = n;
	if (n == 0) {
		value_done(c, side, ts);
		return true;
	}
	if (r->depth == RESP_DEPTH_MAX) {
		lose(c, side, RESP_E_TOO_DEEP, ts);
		return false;
	}
	r->stack[r->depth].left = n;
	r->stack[r->depth].attr = r->type == '|';
	r->depth++;
	r->state = RD_TYPE;
	return true;
}

/* The body of a bulk value is complete. */
static void bulk_done(struct resp_conn *c, enum resp_side side, uint64_t ts)
{
	struct reader *r = &c->rd[side];

	/* the kept prefix may hold the CRLF of a short body */
	capture(r, r->keep, r->kept < r->bulk_len ? r->kept : (size_t)r->bulk_len);
	value_done(c, side, ts);
}

/* A plausible start of a value of side at p: 1 yes, 0 no, -1 cannot tell. */
static int plausible(enum resp_side side, const uint8_t *p, size_t len, bool strict);

void resp_feed(struct resp_conn *c, enum resp_side side, const uint8_t *data, size_t cap_len,
	       uint64_t total_len, uint64_t ts)
{
	struct reader *r;
	size_t i = 0;

	if (!c || (side != RESP_CLIENT && side != RESP_SERVER))
		return;
	if (!data)
		cap_len = 0;
	if (total_len < cap_len)
		total_len = cap_len;
	r = &c->rd[side];
	if (r->state == RD_LOST) {
		if (plausible(side, data, cap_len, false) <= 0)
			return;
		r->state = RD_TYPE;
		r->depth = 0;
	}
	while (i < cap_len) {
		uint8_t b = data[i];

		switch (r->state) {
		case RD_TYPE:
			if (side == RESP_CLIENT && r->depth == 0 && b != '*') {
				if (b == '\r' || b == '\n') { /* empty lines between commands */
					i++;
					continue;
				}
				value_start(r, 0, ts);
				continue;
			}
			if (!type_ok(b)) {
				lose(c, side, RESP_E_BAD_TYPE, ts);
				return;
			}
			value_start(r, b, ts);
			i++;
			break;
		case RD_LINE: {
			const uint8_t *nl = memchr(data + i, '\n', cap_len - i);
			size_t n = nl ? (size_t)(nl - (data + i)) : cap_len - i;
			size_t k = n < KEEP - r->kept ? n : KEEP - r->kept;

			memcpy(r->keep + r->kept, data + i, k);
			r->kept += (uint32_t)k;
			r->line_len += (uint32_t)(n < LINE_MAX_LEN ? n : LINE_MAX_LEN);
			i += n;
			if (r->line_len >= LINE_MAX_LEN) {
				lose(c, side, RESP_E_LINE_TOO_LONG, ts);
				return;
			}
			if (nl) {
				i++;
				if (!line_done(c, side, ts))
					return;
			}
			break;
		}
		case RD_BULK: {
			size_t n = cap_len - i < r->bulk_left ? cap_len - i : (size_t)r->bulk_left;
			size_t k = n < KEEP - r->kept ? n : KEEP - r->kept;

			memcpy(r->keep + r->kept, data + i, k);
			r->kept += (uint32_t)k;
			r->bulk_left -= n;
			i += n;
			if (!r->bulk_left)
				bulk_done(c, side, ts);
			break;
		}
		default:
			return;
		}
	}
	if (total_len > cap_len) {
		uint64_t gap = total_len - cap_len;

		if (r->state == RD_BULK && gap <= r->bulk_left) {
			r->bulk_left -= gap;
			if (!r->bulk_left)
				bulk_done(c, side, ts);
			return;
		}
		if (r->state == RD_BULK) {
			gap -= r->bulk_left;
			r->bulk_left = 0;
			bulk_done(c, side, ts);
		}
		if (gap && r->state != RD_LOST)
			lose(c, side, RESP_E_GAP, ts);
	}
}

void resp_close(struct resp_conn *c, uint64_t ts)
{
	if (!c)
		return;
	settle_hidden(c, UINT64_MAX);
	ring_end_all(c, &c->tx, ts, RESP_CLOSED);
	ring_end_all(c, &c->q, ts, RESP_CLOSED);
}

struct resp_conn *resp_new(const struct resp_callbacks *cb, void *ctx, bool from_start)
{
	struct resp_conn *c = calloc(1, sizeof(*c));

	if (!c) {
		errno = ENOMEM;
		return NULL;
	}
	c->cb = cb;
	c->ctx = ctx;
	if (from_start)
		c->ns[0] = '0';
	return c;
}

void resp_free(struct resp_conn *c)
{
	if (!c)
		return;
	free(c->q.v);
	free(c->tx.v);
	free(c);
}

/* ---- detection --------------------------------------------------------------------------- */

/* A CRLF-terminated line at p[0..len): its length without CRLF, -1 if none yet, -2 if a
 * control byte or more than max bytes come first. */
static long crlf_line(const uint8_t *p, size_t len, size_t max)
{
	size_t i;

	for (i = 0; i < len && i <= max; i++) {
		if (p[i] == '\r')
			return i + 1 < len ? (p[i + 1] == '\n' ? (long)i : -2) : -1;
		if (p[i] < 0x20 || p[i] == 0x7f)
			return -2;
	}
	return i > max ? -2 : -1;
}

static bool digits(const uint8_t *p, long n, bool neg_ok)
{
	long i = 0;

	if (neg_ok && n > 1 && p[0] == '-')
		i = 1;
	if (n - i < 1 || n - i > 12)
		return false;
	for (; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	return true;
}

/* "*N\r\n$L\r\n<name>": 1 a known command, 0 not a command, -1 cannot tell. */
static int command_array(const uint8_t *p, size_t len)
{
	long l1, l2;
	int64_t n;
	char num[16];

	l1 = crlf_line(p + 1, len - 1, 12);
	if (l1 == -1)
		return -1;
	if (l1 < 1 || !digits(p + 1, l1, false))
		return 0;
	p += l1 + 3;
	len -= (size_t)l1 + 3;
	if (!len)
		return -1;
	if (p[0] != '$')
		return 0;
	l2 = crlf_line(p + 1, len - 1, 12);
	if (l2 == -1)
		return -1;
	if (l2 < 1 || !digits(p + 1, l2, false))
		return 0;
	scopy(num, sizeof(num), (const char *)p + 1, (size_t)l2);
	if (!parse_num(num, &n) || n < 1 || n > 23)
		return 0;
	p += l2 + 3;
	len -= (size_t)l2 + 3;
	if (len < (size_t)n)
		return -1;
	return strcmp(resp_command_name((const char *)p, (size_t)n), "_OTHER") != 0;
}

/* An inline command: a known command word, printable, no HTTP version. */
static int inline_command(const uint8_t *p, size_t len)
{
	long l = crlf_line(p, len, 512);
	size_t w = 0;

	if (l == -2)
		return 0;
	while (w < len && w < 24 &&
	       ((p[w] >= 'A' && p[w] <= 'Z') || (p[w] >= 'a' && p[w] <= 'z') || p[w] == '_'))
		w++;
	if (l == -1)
		return w == len && w < 24 ? -1 : 0;
	if (!w || (w < (size_t)l && p[w] != ' ') || w > (size_t)l)
		return 0;
	if (memmem(p, (size_t)l, " HTTP/", 6))
		return 0;
	return strcmp(resp_command_name((const char *)p, w), "_OTHER") != 0;
}

static int plausible(enum resp_side side, const uint8_t *p, size_t len, bool strict)
{
	long l;

	if (!p || !len)
		return -1;
	if (side == RESP_CLIENT)
		return p[0] == '*' ? command_array(p, len) : strict ? inline_command(p, len) : 0;
	if (!type_ok(p[0]))
		return 0;
	l = crlf_line(p + 1, len - 1, 512);
	if (l == -1)
		return -1;
	if (l < 0)
		return 0;
	switch (p[0]) {
	case '+':
		return l >= 2;
	case '-':
		return l >= 2 && p[1] >= 'A' && p[1] <= 'Z' && p[2] >= 'A' && p[2] <= 'Z';
	case ':':
	case '(':
		return digits(p + 1, l, true);
	case '$':
	case '*':
	case '!':
	case '=':
	case '%':
	case '~':
	case '>':
	case '|':
		return digits(p + 1, l, true) && (p[1] != '-' || (l == 2 && p[2] == '1'));
	case '_':
		return l == 0;
	case '#':
		return l == 1 && (p[1] == 't' || p[1] == 'f');
	case ',':
		return l >= 1 && strspn((const char *)p + 1, "0123456789.-+eEinfa") >= (size_t)l;
	default:
		return 0;
	}
}

enum resp_detect resp_detect(const uint8_t *data, size_t len)
{
	int r;

	if (!data || !len)
		return RESP_DETECT_MORE;
	r = plausible(RESP_CLIENT, data, len, true);
	if (r > 0)
		return RESP_DETECT_CLIENT;
	if (r < 0)
		return RESP_DETECT_MORE;
	r = plausible(RESP_SERVER, data, len, true);
	if (r > 0)
		return RESP_DETECT_SERVER;
	return r < 0 ? RESP_DETECT_MORE : RESP_DETECT_NONE;
}
