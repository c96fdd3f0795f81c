// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * http2.c - HTTP/2 per connection, struct protocol http2_protocol: the
 * preface, one frame parser per direction fed at any byte boundary, header
 * blocks through nghttp2's HPACK inflater, streams paired into exchanges,
 * gRPC status, type and errors. See http2.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nghttp2/nghttp2.h>

#include "http2.h"
#include "httptrack.h"
#include "protocol.h"
#include "route.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
#define PREFACE_LEN	 24
#define PREFACE_SURE	 16 /* "PRI * HTTP/2.0\r\n": enough when the rest was not captured */
#define FRAME_HDR	 9
#define DETECT_FRAME_MAX 16384	       /* SETTINGS_MAX_FRAME_SIZE's default */
#define TABLE_DEFAULT	 4096	       /* SETTINGS_HEADER_TABLE_SIZE's default */
#define GAP_QUIET_NS	 1000000000ull /* a stream whose end a gap may have hidden */
#define BAD_FRAMES_MAX	 8 /* framing errors before a connection with no exchange goes */

enum frame_type {
	F_DATA,
	F_HEADERS,
	F_PRIORITY,
	F_RST_STREAM,
	F_SETTINGS,
	F_PUSH_PROMISE,
	F_PING,
	F_GOAWAY,
	F_WINDOW_UPDATE,
	F_CONTINUATION,
};

#define FL_END_STREAM  0x01
#define FL_ACK	       0x01
#define FL_END_HEADERS 0x04
#define FL_PADDED      0x08
#define FL_PRIORITY    0x20

/* Flags each frame type defines (RFC 9113 section 6). */
static const uint8_t type_flags[] = {
    [F_DATA] = FL_END_STREAM | FL_PADDED,
    [F_HEADERS] = FL_END_STREAM | FL_END_HEADERS | FL_PADDED | FL_PRIORITY,
    [F_SETTINGS] = FL_ACK,
    [F_PUSH_PROMISE] = FL_END_HEADERS | FL_PADDED,
    [F_PING] = FL_ACK,
    [F_CONTINUATION] = FL_END_HEADERS,
};

enum h2_rst {
	RST_NO_ERROR = 0x0,
	RST_REFUSED_STREAM = 0x7,
	RST_CANCEL = 0x8,
	RST_ENHANCE_YOUR_CALM = 0xb,
	RST_INADEQUATE_SECURITY = 0xc,
};

enum grpc_code {
	GRPC_OK = 0,
	GRPC_CANCELLED = 1,
	GRPC_UNKNOWN = 2,
	GRPC_DEADLINE_EXCEEDED = 4,
	GRPC_PERMISSION_DENIED = 7,
	GRPC_RESOURCE_EXHAUSTED = 8,
	GRPC_UNIMPLEMENTED = 12,
	GRPC_INTERNAL = 13,
	GRPC_UNAVAILABLE = 14,
	GRPC_DATA_LOSS = 15,
	GRPC_CODE_MAX = 16,
};

static const char *const grpc_codes[] = {
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
};

static const char *const grpc_types[] = {
    [GRPC_UNARY] = "unary",
    [GRPC_CLIENT_STREAM] = "client_stream",
    [GRPC_SERVER_STREAM] = "server_stream",
    [GRPC_BIDI_STREAM] = "bidi_stream",
};

static const char *const error_names[] = {
    [H2_E_FRAME] = "bad_frame",
    [H2_E_HPACK] = "hpack_error",
    [H2_E_HPACK_UNKNOWN] = "hpack_unknown_index",
    [H2_E_GAP] = "frame_gap",
    [H2_E_TOO_MANY_STREAMS] = "too_many_streams",
    [H2_E_UNPAIRED] = "unpaired_response",
    [H2_E_NO_PSEUDO] = "missing_pseudo_header",
};

const char *h2_error_name(unsigned e)
{
	return e < NELEM(error_names) ? error_names[e] : "unknown";
}

const char *grpc_type_name(unsigned t)
{
	return t < NELEM(grpc_types) ? grpc_types[t] : grpc_types[GRPC_UNARY];
}

const char *grpc_code_name(int code)
{
	return code >= 0 && (size_t)code < NELEM(grpc_codes) ? grpc_codes[code]
							     : grpc_codes[GRPC_UNKNOWN];
}

bool grpc_code_is_error(int code, bool server)
{
	if (!server)
		return code != GRPC_OK;
	switch (code) {
	case GRPC_UNKNOWN:
	case GRPC_DEADLINE_EXCEEDED:
	case GRPC_UNIMPLEMENTED:
	case GRPC_INTERNAL:
	case GRPC_UNAVAILABLE:
	case GRPC_DATA_LOSS:
		return true;
	default:
		return code < 0 || code > GRPC_CODE_MAX; /* not a code gRPC defines */
	}
}

bool grpc_split_path(const char *path, char *service, size_t service_size, char *method,
		     size_t method_size)
{
	const char *slash = path[0] == '/' ? strchr(path + 1, '/') : NULL;
	size_t slen = slash ? (size_t)(slash - path - 1) : 0;
	size_t mlen = slash ? strlen(slash + 1) : 0;

	service[0] = method[0] = '\0';
	if (!slen || !mlen || strchr(slash + 1, '/') || slen >= service_size || mlen >= method_size)
		return false;
	memcpy(service, path + 1, slen);
	service[slen] = '\0';
	memcpy(method, slash + 1, mlen + 1);
	return true;
}

/* --- state --- */

/* The fields of one header block an exchange needs, filled as the
 * inflater emits them (each direction has one block open at most). */
struct h2_block {
	uint32_t sid;
	uint64_t ts; /* of the chunk holding the HEADERS frame's header */
	uint32_t tid;
	bool track;	 /* HEADERS (a PUSH_PROMISE block is decoded, not tracked) */
	bool end_stream; /* the HEADERS frame had END_STREAM */
	bool failed;	 /* the inflater gave up on it: fields after that are missing */
	bool unknown;	 /* some fields were entries made before we joined */
	bool has_method, has_path, has_status, has_grpc_status, has_type, grpc;
	enum http1_method method;
	int status;
	int grpc_status;
	char path[HTTP1_PATH_MAX];
	char host[HTTP1_HOST_MAX];
	char traceparent[HTTP1_TRACEPARENT_MAX];
	char tracestate[HTTP1_TRACESTATE_MAX];
};

enum stage {
	ST_FIELD, /* fixed fields at the payload's start (pad length, ids, codes) */
	ST_BODY,  /* header block fragment or DATA */
	ST_SKIP,  /* padding, or a payload nothing needs */
};

/* One direction's byte stream. */
struct h2_dir {
	nghttp2_hd_inflater *inf; /* NULL after an allocation failure */
	bool table_known;	  /* the inflater followed this direction from its start */
	size_t table_limit;	  /* the inflater's SETTINGS_HEADER_TABLE_SIZE */
	size_t pending_limit;	  /* a larger one to apply between blocks; 0: none */
	uint8_t preface_left;	  /* connection preface bytes still expected */
	bool lost;		  /* frame boundaries unknown until a chunk starts one */
	uint8_t hdr[FRAME_HDR];
	uint8_t hdr_len;
	bool in_frame;
	bool bad_frame; /* the frame breaks the rules: its payload is skipped */
	uint8_t type, flags, stage;
	uint32_t sid;
	uint32_t left;	    /* payload bytes still to come */
	uint32_t body_left; /* of them, before the padding */
	uint8_t field[8];
	uint8_t field_len, field_need;
	bool in_block; /* a header block is open: only its CONTINUATION may follow */
	struct h2_block blk;
};

struct h2_stream {
	uint32_t sid;
	uint8_t req_dir;   /* the direction requests travel in */
	bool req_ended;	   /* the request side sent END_STREAM */
	bool gap;	   /* a gap may have hidden the end of this stream */
	uint32_t msgs[2];  /* gRPC messages started: [0] requests, [1] responses */
	uint32_t mleft[2]; /* bytes left in the current message */
	uint32_t mlen[2];
	uint8_t mpre[2]; /* bytes of the 5-byte message prefix read */
	uint64_t last_ts;
	struct http_exchange x;
};

struct h2_conn {
	struct h2 *h;
	struct conn *c;
	uint64_t cur_ts;
	uint32_t cur_tid;
	unsigned bad_frames;
	uint64_t reported; /* exchanges reported */
	struct h2_dir d[2];
	uint16_t nstreams;
	struct h2_stream *streams[H2_STREAMS_MAX];
	/* h2c upgrade (RFC 7540 3.2): the HTTP/1.1 request's head, then the
	 * server's answer, are collected in head before the frames start */
	uint8_t upgrade; /* enum upgrade */
	uint8_t up_dir;	 /* the client's direction */
	uint16_t head_len;
	uint64_t up_ts; /* of the request's first bytes */
	uint32_t up_tid;
	char *head; /* UPGRADE_HEAD_MAX bytes while collecting */
};

enum upgrade {
	UPG_NONE,
	UPG_REQUEST, /* reading the client's HTTP/1.1 request head */
	UPG_ANSWER,  /* reading the server's answer: 101, or a plain HTTP/1.1 response */
};

#define UPGRADE_HEAD_MAX 4096

/* One instance per pipeline. */
struct h2 {
	const struct proto_sink *sink;
	const struct route_table *routes;
	size_t streams; /* allocated for all connections */
};

size_t http2_streams_allocated(const void *inst)
{
	const struct h2 *h = inst;

	return h->streams;
}

static void report(struct h2_conn *hc, enum h2_error reason)
{
	const struct proto_sink *sink = hc->h->sink;

	if (reason == H2_E_FRAME)
		hc->bad_frames++;
	if (sink->parse_error)
		sink->parse_error(sink->ctx, &http2_protocol, reason);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t be24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

/* --- HPACK --- */

/*
 * An inflater for a direction whose table is unknown is seeded with
 * placeholder entries named "?" (no valid header name) that fill the
 * default table. The entries the peer adds from here on take the front
 * positions in both tables and are evicted at the same moments (both evict
 * the older entries first), so what they decode is right; an index past
 * them lands on a placeholder, which marks the field unknown instead of
 * failing the whole block, so later fields still decode. An index past
 * the placeholders (a larger table) fails the block.
 */
#define PLACEHOLDER_SIZE 33 /* RFC 7541 entry size of "?": "" */

static void inflater_seed(nghttp2_hd_inflater *inf)
{
	/* literal with incremental indexing, new name "?", value "" */
	static const uint8_t entry[] = {0x40, 1, '?', 0};
	uint8_t blk[TABLE_DEFAULT / PLACEHOLDER_SIZE * sizeof(entry)];
	size_t n, off = 0;

	for (n = 0; n + sizeof(entry) <= sizeof(blk); n += sizeof(entry))
		memcpy(blk + n, entry, sizeof(entry));
	while (off < n) {
		nghttp2_nv nv;
		int fl = 0;
		ssize_t rv = nghttp2_hd_inflate_hd2(inf, &nv, &fl, blk + off, n - off, 1);

		if (rv < 0)
			return;
		off += (size_t)rv;
		if (fl & NGHTTP2_HD_INFLATE_FINAL)
			break;
	}
	nghttp2_hd_inflate_end_headers(inf);
}

/* A fresh inflater. known: it starts with the direction; else the peer's
 * table is unknown (seeded with placeholders), and the largest table
 * followed is allowed. */
static void inflater_reset(struct h2_dir *dd, bool known)
{
	if (dd->inf)
		nghttp2_hd_inflate_del(dd->inf);
	dd->inf = NULL;
	dd->table_known = known;
	dd->pending_limit = 0;
	dd->table_limit = known ? TABLE_DEFAULT : H2_TABLE_MAX;
	if (nghttp2_hd_inflate_new(&dd->inf)) {
		dd->inf = NULL;
		return;
	}
	if (known)
		return;
	inflater_seed(dd->inf);
	if (nghttp2_hd_inflate_change_table_size(dd->inf, H2_TABLE_MAX)) {
		nghttp2_hd_inflate_del(dd->inf);
		dd->inf = NULL;
	}
}

/* The inflater failed (or missed bytes) inside a block: what it holds is
 * unknown from here on. */
static void block_fail(struct h2_conn *hc, struct h2_dir *dd, enum h2_error why)
{
	if (dd->blk.failed)
		return;
	dd->blk.failed = true;
	report(hc, why == H2_E_HPACK && !dd->table_known ? H2_E_HPACK_UNKNOWN : why);
	inflater_reset(dd, false);
}

static void copy_value(char *dst, size_t cap, const uint8_t *v, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	for (size_t i = 0; i < n; i++)
		dst[i] = v[i] >= 0x20 && v[i] != 0x7f ? (char)v[i] : '?';
	dst[n] = '\0';
}

static bool name_is(const nghttp2_nv *nv, const char *lit)
{
	size_t n = strlen(lit);

	return nv->namelen == n && memcmp(nv->name, lit, n) == 0;
}

/* A decimal of 1..3 digits, else -1. */
static int small_int(const uint8_t *v, size_t n)
{
	int r = 0;

	if (!n || n > 3)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		r = r * 10 + (v[i] - '0');
	}
	return r;
}

static enum http1_method method_of(const uint8_t *v, size_t n)
{
	for (unsigned m = HTTP1_M_GET; m <= HTTP1_M_PATCH; m++) {
		const char *name = http1_method_name((enum http1_method)m);

		if (strlen(name) == n && memcmp(name, v, n) == 0)
			return (enum http1_method)m;
	}
	return HTTP1_M_OTHER;
}

static void block_field(struct h2_block *b, const nghttp2_nv *nv)
{
	static const char grpc_ct[] = "application/grpc";

	if (name_is(nv, "?")) {
		b->unknown = true; /* a placeholder: an entry made before we joined */
	} else if (name_is(nv, ":method")) {
		b->has_method = true;
		b->method = method_of(nv->value, nv->valuelen);
	} else if (name_is(nv, ":path")) {
		b->has_path = nv->valuelen > 0;
		copy_value(b->path, sizeof(b->path), nv->value, nv->valuelen);
	} else if (name_is(nv, ":authority") || (name_is(nv, "host") && !b->host[0])) {
		copy_value(b->host, sizeof(b->host), nv->value, nv->valuelen);
	} else if (name_is(nv, ":status")) {
		b->status = small_int(nv->value, nv->valuelen);
		b->has_status = b->status >= 100 && b->status <= 599;
	} else if (name_is(nv, "content-type")) {
		b->has_type = true;
		b->grpc = nv->valuelen >= sizeof(grpc_ct) - 1 &&
			  memcmp(nv->value, grpc_ct, sizeof(grpc_ct) - 1) == 0;
	} else if (name_is(nv, "grpc-status")) {
		b->grpc_status = small_int(nv->value, nv->valuelen);
		b->has_grpc_status = b->grpc_status >= 0;
	} else if (name_is(nv, "traceparent")) {
		if (nv->valuelen < sizeof(b->traceparent))
			copy_value(b->traceparent, sizeof(b->traceparent), nv->value, nv->valuelen);
	} else if (name_is(nv, "tracestate")) {
		copy_value(b->tracestate, sizeof(b->tracestate), nv->value, nv->valuelen);
	}
}

/* Streams n bytes of a block fragment into the inflater (final: the
 * block ends, n may be 0). */
static void block_feed(struct h2_conn *hc, struct h2_dir *dd, const uint8_t *p, size_t n,
		       bool final)
{
	if (dd->blk.failed)
		return;
	if (!dd->inf) {
		dd->blk.failed = true; /* out of memory: nothing decoded, nothing guessed */
		return;
	}
	for (;;) {
		nghttp2_nv nv;
		int fl = 0;
		ssize_t rv = nghttp2_hd_inflate_hd2(dd->inf, &nv, &fl, p, n, final);

		if (rv < 0 || (size_t)rv > n) {
			block_fail(hc, dd, H2_E_HPACK);
			return;
		}
		if (rv) {
			p += rv;
			n -= (size_t)rv;
		}
		if (fl & NGHTTP2_HD_INFLATE_EMIT)
			block_field(&dd->blk, &nv);
		if (fl & NGHTTP2_HD_INFLATE_FINAL) {
			nghttp2_hd_inflate_end_headers(dd->inf);
			return;
		}
		if (!(fl & NGHTTP2_HD_INFLATE_EMIT) && !n)
			return;
	}
}

/* Between blocks: a larger table the peer allowed (only growing is safe
 * without the encoder's size update). */
static void apply_limit(struct h2_dir *dd)
{
	if (!dd->pending_limit || !dd->inf)
		return;
	if (dd->pending_limit > dd->table_limit &&
	    !nghttp2_hd_inflate_change_table_size(dd->inf, dd->pending_limit))
		dd->table_limit = dd->pending_limit;
	dd->pending_limit = 0;
}

/* --- streams --- */

static struct h2_stream *stream_find(struct h2_conn *hc, uint32_t sid)
{
	for (uint16_t i = 0; i < hc->nstreams; i++)
		if (hc->streams[i]->sid == sid)
			return hc->streams[i];
	return NULL;
}

static uint8_t grpc_type_of(const struct h2_stream *s)
{
	bool cs = s->msgs[0] > 1, ss = s->msgs[1] > 1;

	return cs && ss ? GRPC_BIDI_STREAM
	       : cs	? GRPC_CLIENT_STREAM
	       : ss	? GRPC_SERVER_STREAM
			: GRPC_UNARY;
}

/* The gRPC status a client sees for a stream reset with this code. */
static int grpc_of_rst(uint32_t code)
{
	switch (code) {
	case RST_CANCEL:
		return GRPC_CANCELLED;
	case RST_REFUSED_STREAM:
		return GRPC_UNAVAILABLE;
	case RST_ENHANCE_YOUR_CALM:
		return GRPC_RESOURCE_EXHAUSTED;
	case RST_INADEQUATE_SECURITY:
		return GRPC_PERMISSION_DENIED;
	default:
		return GRPC_INTERNAL;
	}
}

/* Reports the stream and frees it. why: the error of an exchange that did
 * not end normally (connection_closed, stream_reset, refused_stream). */
static void stream_finish(struct h2_conn *hc, struct h2_stream *s, uint64_t ts, const char *why)
{
	struct http_exchange *x = &s->x;
	const struct proto_sink *sink = hc->h->sink;

	x->end_ns = ts > x->start_ns ? ts : x->start_ns;
	x->conn = hc->c;
	x->error_type = NULL;
	if (x->grpc) {
		x->grpc_type = grpc_type_of(s);
		if (x->grpc_status >= 0 && grpc_code_is_error(x->grpc_status, x->server))
			x->error_type = grpc_code_name(x->grpc_status);
		else if (x->grpc_status < 0)
			x->error_type = why;
	} else if (why) {
		x->error_type = why;
	} else if (x->status) {
		http_exchange_set_error(x);
	}
	if (sink->http_done)
		sink->http_done(sink->ctx, x);
	hc->reported++;
	for (uint16_t i = 0; i < hc->nstreams; i++) {
		if (hc->streams[i] == s) {
			hc->streams[i] = hc->streams[--hc->nstreams];
			break;
		}
	}
	free(s);
	hc->h->streams--;
}

static bool grpc_shaped(const char *path)
{
	char svc[HTTP1_PATH_MAX], meth[HTTP1_PATH_MAX];

	return grpc_split_path(path, svc, sizeof(svc), meth, sizeof(meth)) && strchr(svc, '.');
}

/* A request's header block ended on stream b->sid, travelling in d. */
static void stream_open(struct h2_conn *hc, uint8_t d, const struct h2_block *b)
{
	const struct proto_sink *sink = hc->h->sink;
	struct h2_stream *s;

	if (!b->has_path && b->method != HTTP1_M_CONNECT) {
		if (!b->failed && !b->unknown)
			report(hc, H2_E_NO_PSEUDO);
		return;
	}
	if (hc->nstreams == H2_STREAMS_MAX || hc->h->streams >= H2_STREAMS_BUDGET) {
		report(hc, H2_E_TOO_MANY_STREAMS);
		return;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return;
	hc->h->streams++;
	hc->streams[hc->nstreams++] = s;
	s->sid = b->sid;
	s->req_dir = d;
	s->req_ended = b->end_stream;
	s->last_ts = b->ts;
	s->x.server = d == RT_DIR_INGRESS;
	s->x.tgid = hc->c->tgid;
	s->x.tid = b->tid;
	s->x.start_ns = b->ts;
	s->x.method = b->method;
	s->x.version = HTTP_V2;
	/* A content-type hidden by an unknown entry: a POST to a gRPC-shaped
	 * path is taken for a gRPC call, whose status must then be read from
	 * its trailers or it is not reported (never counted as plain HTTP). */
	s->x.grpc = b->grpc || (b->unknown && !b->has_type && b->method == HTTP1_M_POST &&
				grpc_shaped(b->path));
	s->x.grpc_status = -1;
	memcpy(s->x.path, b->path, sizeof(s->x.path));
	memcpy(s->x.host, b->host, sizeof(s->x.host));
	memcpy(s->x.traceparent, b->traceparent, sizeof(s->x.traceparent));
	memcpy(s->x.tracestate, b->tracestate, sizeof(s->x.tracestate));
	if (b->method != HTTP1_M_CONNECT)
		route_normalize(hc->h->routes, b->path, s->x.route, sizeof(s->x.route));
	s->x.conn = hc->c;
	if (sink->http_start)
		sink->http_start(sink->ctx, &s->x);
}

/* A header block ended (or was cut short) in direction d. */
static void block_done(struct h2_conn *hc, uint8_t d)
{
	struct h2_dir *dd = &hc->d[d];
	struct h2_block *b = &dd->blk;
	struct h2_stream *s;

	dd->in_block = false;
	apply_limit(dd);
	if (!b->track)
		return;
	s = stream_find(hc, b->sid);
	/* unknown entries are counted where they hide what an exchange needs */
	if (b->unknown && !b->failed &&
	    (s ? d != s->req_dir &&
		     (s->x.grpc ? b->end_stream && !b->has_grpc_status && s->x.grpc_status < 0
				: !b->has_status && !s->x.status)
	       : !b->has_status && !(b->has_method && b->has_path)))
		report(hc, H2_E_HPACK_UNKNOWN);
	if (!s) {
		if (b->has_method)
			stream_open(hc, d, b);
		else if (!b->failed && !(b->has_status && b->status < 200) && hc->d[!d].table_known)
			report(hc, H2_E_UNPAIRED); /* joined late, the request may be unseen */
		return;
	}
	s->last_ts = b->ts;
	if (d == s->req_dir) { /* request trailers */
		s->req_ended |= b->end_stream;
		return;
	}
	if (b->has_status && b->status >= 200)
		s->x.status = b->status;
	if (b->has_grpc_status)
		s->x.grpc_status = (int16_t)b->grpc_status;
	if (b->end_stream)
		stream_finish(hc, s, b->ts, NULL);
}

/* DATA payload of stream s in direction d: counts gRPC messages. */
static void data_body(struct h2_stream *s, uint8_t d, const uint8_t *p, size_t n)
{
	int k = d != s->req_dir;

	while (n) {
		if (s->mleft[k]) {
			uint32_t t = n < s->mleft[k] ? (uint32_t)n : s->mleft[k];

			s->mleft[k] -= t;
			p += t;
			n -= t;
			continue;
		}
		if (s->mpre[k] == 0) {
			s->msgs[k]++;
			s->mlen[k] = 0;
		} else {
			s->mlen[k] = s->mlen[k] << 8 | *p;
		}
		p++;
		n--;
		if (++s->mpre[k] == 5) {
			s->mpre[k] = 0;
			s->mleft[k] = s->mlen[k];
		}
	}
}

/* --- frames --- */

/* Whether a frame header follows RFC 9113's rules for its type. */
static bool frame_shape_ok(uint8_t type, uint8_t flags, uint32_t sid, uint32_t len)
{
	if (sid & 0x80000000u)
		return false;
	switch (type) {
	case F_DATA:
		return sid && (!(flags & FL_PADDED) || len >= 1);
	case F_HEADERS:
		return sid &&
		       len >= (flags & FL_PADDED ? 1u : 0u) + (flags & FL_PRIORITY ? 5u : 0u);
	case F_PRIORITY:
		return sid && len == 5;
	case F_RST_STREAM:
		return sid && len == 4;
	case F_SETTINGS:
		return !sid && len % 6 == 0 && (!(flags & FL_ACK) || !len);
	case F_PUSH_PROMISE:
		return sid && len >= (flags & FL_PADDED ? 5u : 4u);
	case F_PING:
		return !sid && len == 8;
	case F_GOAWAY:
		return !sid && len >= 8;
	case F_WINDOW_UPDATE:
		return len == 4;
	case F_CONTINUATION:
		return sid != 0;
	default:
		return true; /* unknown types are ignored */
	}
}

/* The strict form detection and resynchronisation accept: known type,
 * only its own flags, a default-size payload. */
static bool frame_header_strict(const uint8_t *p)
{
	uint32_t len = be24(p);
	uint8_t type = p[3], flags = p[4];

	return len <= DETECT_FRAME_MAX && type <= F_CONTINUATION &&
	       !(flags & ~(type < NELEM(type_flags) ? type_flags[type] : 0)) &&
	       frame_shape_ok(type, flags, be32(p + 5), len);
}

/* A whole chunk of strict frames (the last may run past it), with a
 * HEADERS or DATA frame of a stream: a connection whose start was not seen. */
static bool frames_chain(const uint8_t *p, size_t n)
{
	bool stream_frame = false;
	size_t off = 0;

	while (off < n) {
		if (n - off < FRAME_HDR || !frame_header_strict(p + off))
			return false;
		stream_frame |= p[off + 3] == F_HEADERS || p[off + 3] == F_DATA;
		off += FRAME_HDR + be24(p + off);
	}
	return stream_frame;
}

static void dir_lost(struct h2_conn *hc, uint8_t d);

static void frame_begin(struct h2_conn *hc, uint8_t d)
{
	struct h2_dir *dd = &hc->d[d];
	bool block_frame;

	dd->hdr_len = 0;
	dd->in_frame = true;
	dd->left = be24(dd->hdr);
	dd->type = dd->hdr[3];
	dd->flags = dd->hdr[4];
	dd->sid = be32(dd->hdr + 5) & 0x7fffffffu;
	dd->field_len = dd->field_need = 0;
	dd->body_left = 0;
	dd->stage = ST_SKIP;
	dd->bad_frame = !frame_shape_ok(dd->type, dd->flags, be32(dd->hdr + 5), dd->left);
	block_frame = dd->type == F_CONTINUATION;
	if (dd->in_block && (!block_frame || dd->sid != dd->blk.sid || dd->bad_frame)) {
		/* a block interrupted: the rest of it will never come */
		block_fail(hc, dd, H2_E_FRAME);
		block_done(hc, d);
		if (!block_frame && !dd->bad_frame)
			goto good;
		dd->bad_frame = true;
		return;
	}
	if (block_frame && !dd->in_block)
		dd->bad_frame = true;
	if (dd->bad_frame) {
		report(hc, H2_E_FRAME);
		return;
	}
good:
	switch (dd->type) {
	case F_HEADERS:
	case F_PUSH_PROMISE:
		memset(&dd->blk, 0, sizeof(dd->blk));
		dd->in_block = true;
		dd->blk.sid = dd->sid;
		dd->blk.ts = hc->cur_ts;
		dd->blk.tid = hc->cur_tid;
		dd->blk.track = dd->type == F_HEADERS;
		dd->blk.end_stream = dd->type == F_HEADERS && (dd->flags & FL_END_STREAM);
		if (!dd->inf)
			inflater_reset(dd, false);
		dd->field_need =
		    (uint8_t)((dd->flags & FL_PADDED ? 1 : 0) + (dd->type == F_PUSH_PROMISE ? 4
								 : dd->flags & FL_PRIORITY  ? 5
											    : 0));
		break;
	case F_DATA:
		dd->field_need = dd->flags & FL_PADDED ? 1 : 0;
		break;
	case F_CONTINUATION:
		break;
	case F_RST_STREAM:
		dd->field_need = 4;
		break;
	case F_GOAWAY:
		dd->field_need = 8;
		break;
	case F_SETTINGS:
		dd->field_need = dd->left ? 6 : 0;
		if (!dd->left)
			return;
		break;
	default:
		return; /* skipped */
	}
	if (dd->field_need) {
		dd->stage = ST_FIELD;
	} else {
		dd->stage = ST_BODY;
		dd->body_left = dd->left;
	}
}

static void on_rst(struct h2_conn *hc, uint32_t sid, uint32_t code)
{
	struct h2_stream *s = stream_find(hc, sid);

	if (!s)
		return;
	if (s->x.grpc && s->x.grpc_status < 0)
		s->x.grpc_status = (int16_t)grpc_of_rst(code);
	stream_finish(hc, s, hc->cur_ts,
		      code == RST_NO_ERROR && s->x.status ? NULL : "stream_reset");
}

/* The sender of direction d will not process the peer's streams above last. */
static void on_goaway(struct h2_conn *hc, uint8_t d, uint32_t last)
{
	for (uint16_t i = 0; i < hc->nstreams;) {
		struct h2_stream *s = hc->streams[i];

		if (s->sid > last && s->req_dir != d) {
			if (s->x.grpc && s->x.grpc_status < 0)
				s->x.grpc_status = GRPC_UNAVAILABLE;
			stream_finish(hc, s, hc->cur_ts, "refused_stream");
			continue; /* the last one moved into slot i */
		}
		i++;
	}
}

/* SETTINGS sent in direction d bound the encoder of the other one. */
static void on_setting(struct h2_conn *hc, uint8_t d, uint16_t id, uint32_t value)
{
	struct h2_dir *other = &hc->d[!d];

	if (id != 1 /* SETTINGS_HEADER_TABLE_SIZE */)
		return;
	other->pending_limit = value > H2_TABLE_MAX ? H2_TABLE_MAX : value;
	if (!other->in_block)
		apply_limit(other);
}

/* The fixed fields at the payload's start are in. */
static void fields_done(struct h2_conn *hc, uint8_t d)
{
	struct h2_dir *dd = &hc->d[d];
	uint32_t pad = 0;

	switch (dd->type) {
	case F_RST_STREAM:
		on_rst(hc, dd->sid, be32(dd->field));
		dd->stage = ST_SKIP;
		return;
	case F_GOAWAY:
		on_goaway(hc, d, be32(dd->field) & 0x7fffffffu);
		dd->stage = ST_SKIP;
		return;
	case F_SETTINGS:
		on_setting(hc, d, (uint16_t)(dd->field[0] << 8 | dd->field[1]),
			   be32(dd->field + 2));
		dd->field_len = 0;
		if (dd->left < 6)
			dd->stage = ST_SKIP;
		return;
	default:
		break;
	}
	if (dd->flags & FL_PADDED)
		pad = dd->field[0];
	if (pad > dd->left) {
		report(hc, H2_E_FRAME);
		if (dd->in_block)
			block_fail(hc, dd, H2_E_FRAME);
		dd->stage = ST_SKIP;
		return;
	}
	dd->body_left = dd->left - pad;
	dd->stage = dd->body_left ? ST_BODY : ST_SKIP;
}

/* The frame's payload is through. */
static void frame_end(struct h2_conn *hc, uint8_t d)
{
	struct h2_dir *dd = &hc->d[d];
	struct h2_stream *s;

	dd->in_frame = false;
	if (dd->bad_frame)
		return;
	switch (dd->type) {
	case F_HEADERS:
	case F_PUSH_PROMISE:
	case F_CONTINUATION:
		if (!(dd->flags & FL_END_HEADERS))
			return;
		block_feed(hc, dd, NULL, 0, true);
		block_done(hc, d);
		return;
	case F_DATA:
		s = stream_find(hc, dd->sid);
		if (!s)
			return;
		s->last_ts = hc->cur_ts;
		if (!(dd->flags & FL_END_STREAM))
			return;
		if (d == s->req_dir)
			s->req_ended = true;
		else
			stream_finish(hc, s, hc->cur_ts, NULL);
		return;
	default:
		return;
	}
}

/* Payload bytes of the current frame; returns how many were used. */
static size_t payload(struct h2_conn *hc, uint8_t d, const uint8_t *p, size_t n)
{
	struct h2_dir *dd = &hc->d[d];
	struct h2_stream *s;
	size_t t = n < dd->left ? n : dd->left;

	switch (dd->stage) {
	case ST_FIELD:
		if (t > (size_t)(dd->field_need - dd->field_len))
			t = dd->field_need - dd->field_len;
		memcpy(dd->field + dd->field_len, p, t);
		dd->field_len = (uint8_t)(dd->field_len + t);
		dd->left -= (uint32_t)t;
		if (dd->field_len == dd->field_need)
			fields_done(hc, d);
		break;
	case ST_BODY:
		if (t > dd->body_left)
			t = dd->body_left;
		if (dd->type == F_DATA) {
			s = stream_find(hc, dd->sid);
			if (s && s->x.grpc)
				data_body(s, d, p, t);
		} else {
			block_feed(hc, dd, p, t, false);
		}
		dd->body_left -= (uint32_t)t;
		dd->left -= (uint32_t)t;
		if (!dd->body_left)
			dd->stage = ST_SKIP;
		break;
	default:
		dd->left -= (uint32_t)t;
		break;
	}
	if (!dd->left)
		frame_end(hc, d);
	return t;
}

static void dir_feed(struct h2_conn *hc, uint8_t d, const uint8_t *p, size_t n)
{
	struct h2_dir *dd = &hc->d[d];

	while (n && !dd->lost) {
		size_t t;

		if (dd->preface_left) {
			if (*p != (uint8_t)preface[PREFACE_LEN - dd->preface_left]) {
				report(hc, H2_E_FRAME);
				dir_lost(hc, d);
				return;
			}
			dd->preface_left--;
			p++;
			n--;
			continue;
		}
		if (!dd->in_frame) {
			t = FRAME_HDR - dd->hdr_len;
			if (t > n)
				t = n;
			memcpy(dd->hdr + dd->hdr_len, p, t);
			dd->hdr_len = (uint8_t)(dd->hdr_len + t);
			p += t;
			n -= t;
			if (dd->hdr_len == FRAME_HDR) {
				frame_begin(hc, d);
				if (!dd->left)
					frame_end(hc, d);
			}
			continue;
		}
		t = payload(hc, d, p, n);
		p += t;
		n -= t;
	}
}

/* Frame boundaries of direction d are unknown: header blocks may have
 * been missed, so the table is unknown; open streams may have ended. */
static void dir_lost(struct h2_conn *hc, uint8_t d)
{
	struct h2_dir *dd = &hc->d[d];

	if (dd->in_block) {
		block_fail(hc, dd, H2_E_GAP);
		block_done(hc, d);
	}
	if (!dd->lost)
		report(hc, H2_E_GAP);
	dd->lost = true;
	dd->in_frame = false;
	dd->hdr_len = 0;
	dd->preface_left = 0;
	inflater_reset(dd, false);
	for (uint16_t i = 0; i < hc->nstreams; i++)
		hc->streams[i]->gap = true;
}

/* n bytes of direction d were not captured. */
static void dir_skip(struct h2_conn *hc, uint8_t d, uint64_t n)
{
	struct h2_dir *dd = &hc->d[d];

	while (n && !dd->lost) {
		uint32_t t;

		if (dd->preface_left || !dd->in_frame) {
			dir_lost(hc, d);
			return;
		}
		t = n < dd->left ? (uint32_t)n : dd->left;
		if (!dd->bad_frame && dd->stage != ST_SKIP) {
			if (dd->in_block) {
				block_fail(hc, dd, H2_E_GAP);
			} else if (dd->type == F_DATA) {
				struct h2_stream *s = stream_find(hc, dd->sid);

				if (s)
					s->gap = true;
			}
			dd->stage = ST_SKIP;
		}
		dd->left -= t;
		n -= t;
		if (!dd->left)
			frame_end(hc, d);
	}
}

/* --- struct protocol --- */

static void *h2_new(const struct proto_env *env)
{
	struct h2 *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->sink = env->sink;
	h->routes = env->routes;
	return h;
}

static void h2_free(void *inst)
{
	free(inst);
}

static bool has_preface(const struct proto_chunk *ch, bool *more)
{
	size_t n = ch->cap_len < PREFACE_LEN ? ch->cap_len : PREFACE_LEN;

	*more = false;
	if (!n || memcmp(ch->data, preface, n))
		return false;
	if (n == PREFACE_LEN || (n >= PREFACE_SURE && ch->len > ch->cap_len))
		return true;
	*more = ch->len == ch->cap_len;
	return false;
}

/* Where the ASCII text lit (lower case) is in p[0..n), case-insensitive. */
static const uint8_t *find_ci(const uint8_t *p, size_t n, const char *lit)
{
	size_t m = strlen(lit);

	for (size_t i = 0; i + m <= n; i++) {
		size_t k = 0;

		while (k < m && (p[i + k] | (p[i + k] >= 'A' && p[i + k] <= 'Z' ? 0x20 : 0)) ==
				    (uint8_t)lit[k])
			k++;
		if (k == m)
			return p + i;
	}
	return NULL;
}

/* An HTTP/1.1 request asking to switch to h2c: a request line, then
 * "Upgrade: h2c" and "HTTP2-Settings" in its head. */
static bool is_h2c_upgrade(const uint8_t *p, size_t n)
{
	const uint8_t *end = find_ci(p, n, "\r\n\r\n");

	if (end)
		n = (size_t)(end - p) + 2;
	return n && p[0] >= 'A' && p[0] <= 'Z' && find_ci(p, n, "\r\nupgrade: h2c") &&
	       find_ci(p, n, "\r\nhttp2-settings:");
}

/* A header's value from an HTTP/1 head (NUL-terminated, lines end in
 * CRLF), copied into out ("" when absent). name: "\r\nname:", lower case. */
static void head_value(const char *head, const char *name, char *out, size_t size)
{
	const uint8_t *v = find_ci((const uint8_t *)head, strlen(head), name);
	size_t n;

	out[0] = '\0';
	if (!v)
		return;
	v += strlen(name);
	while (*v == ' ' || *v == '\t')
		v++;
	n = strcspn((const char *)v, "\r\n");
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	copy_value(out, size, v, n);
}

/* The upgrade request's head is in: stream 1 is that request. */
static void upgrade_request(struct h2_conn *hc)
{
	struct h2_block b;
	const char *sp = strchr(hc->head, ' ');
	size_t plen = sp ? strcspn(sp + 1, " \r\n") : 0;

	memset(&b, 0, sizeof(b));
	b.sid = 1;
	b.ts = hc->up_ts;
	b.tid = hc->up_tid;
	b.track = b.end_stream = true; /* the request is half-closed (RFC 7540 3.2) */
	if (!sp || !plen) {
		report(hc, H2_E_NO_PSEUDO);
		return;
	}
	b.has_method = b.has_path = true;
	b.method = method_of((const uint8_t *)hc->head, (size_t)(sp - hc->head));
	copy_value(b.path, sizeof(b.path), (const uint8_t *)sp + 1, plen);
	head_value(hc->head, "\r\nhost:", b.host, sizeof(b.host));
	head_value(hc->head, "\r\ntraceparent:", b.traceparent, sizeof(b.traceparent));
	head_value(hc->head, "\r\ntracestate:", b.tracestate, sizeof(b.tracestate));
	stream_open(hc, hc->up_dir, &b);
}

/* The server's answer is in: 101 switches to frames. Anything else
 * declined the upgrade and the connection stays HTTP/1.1, which this
 * protocol does not parse: the request is reported with that answer (as
 * HTTP/1.1, ending at the answer's head) and the connection goes opaque.
 * False when it goes opaque. */
static bool upgrade_answer(struct h2_conn *hc)
{
	struct h2_stream *s = stream_find(hc, 1);
	int status = strncmp(hc->head, "HTTP/1.", 7) || strlen(hc->head) < 12
			 ? -1
			 : small_int((const uint8_t *)hc->head + 9, 3);

	if (status == 101)
		return true;
	if (s) {
		s->x.version = HTTP_V1;
		s->x.status = status >= 100 && status <= 599 ? status : 0;
		stream_finish(hc, s, hc->cur_ts, NULL);
	}
	return false;
}

/* Collects an upgrade head from the chunk. Returns where the bytes after
 * it (frames) start in the chunk, or cap_len + 1 while the head goes on;
 * *opaque when the connection is to go. */
static size_t upgrade_head(struct h2_conn *hc, const struct proto_chunk *ch, bool *opaque)
{
	size_t n = ch->cap_len, room = UPGRADE_HEAD_MAX - 1 - hc->head_len, take, before;
	const uint8_t *end;

	*opaque = false;
	if (!hc->head) {
		hc->head = malloc(UPGRADE_HEAD_MAX);
		if (!hc->head) {
			*opaque = true;
			return n + 1;
		}
	}
	before = hc->head_len;
	take = n < room ? n : room;
	memcpy(hc->head + before, ch->data, take);
	hc->head_len = (uint16_t)(before + take);
	hc->head[hc->head_len] = '\0';
	end = find_ci((const uint8_t *)hc->head, hc->head_len, "\r\n\r\n");
	if (!end) {
		/* a head longer than kept, or cut by the capture limit */
		if (hc->head_len == UPGRADE_HEAD_MAX - 1 || ch->len > ch->cap_len) {
			report(hc, H2_E_NO_PSEUDO);
			*opaque = true;
		}
		return n + 1;
	}
	take = (size_t)(end + 4 - (const uint8_t *)hc->head) - before;
	hc->head[end + 2 - (const uint8_t *)hc->head] = '\0';
	if (hc->upgrade == UPG_REQUEST) {
		upgrade_request(hc);
		hc->upgrade = UPG_ANSWER;
		hc->d[hc->up_dir].preface_left = PREFACE_LEN; /* sent after the 101 */
	} else {
		hc->upgrade = UPG_NONE;
		*opaque = !upgrade_answer(hc);
		free(hc->head);
		hc->head = NULL;
	}
	hc->head_len = 0;
	return take;
}

static enum proto_detect h2_detect(const struct proto_chunk *ch)
{
	bool more;

	if (has_preface(ch, &more) || is_h2c_upgrade(ch->data, ch->cap_len))
		return PROTO_DETECT_YES;
	if (more)
		return PROTO_DETECT_MORE;
	return ch->len == ch->cap_len && frames_chain(ch->data, ch->cap_len) ? PROTO_DETECT_YES
									     : PROTO_DETECT_NO;
}

static int h2_open(void *inst, struct conn *c, const struct proto_chunk *first)
{
	struct h2_conn *hc = calloc(1, sizeof(*hc));
	bool more, start = has_preface(first, &more);
	uint8_t d = first->dir & 1;

	if (!hc)
		return -ENOMEM;
	hc->h = inst;
	hc->c = c;
	if (!start && is_h2c_upgrade(first->data, first->cap_len)) {
		start = true; /* the connection's first bytes */
		hc->upgrade = UPG_REQUEST;
		hc->up_dir = d;
		hc->up_ts = first->ts;
		hc->up_tid = first->tid;
	}
	inflater_reset(&hc->d[0], start);
	inflater_reset(&hc->d[1], start);
	if (hc->upgrade) {
		/* frames come after the heads */
	} else if (start) {
		hc->d[d].preface_left = PREFACE_LEN;
	} else {
		/* joined late at a frame of d; the other side resynchronises */
		hc->d[!d].lost = true;
	}
	c->proto_state = hc;
	return 0;
}

static enum proto_verdict h2_feed(void *inst, struct conn *c, const struct proto_chunk *ch)
{
	struct h2_conn *hc = c->proto_state;
	uint8_t d = ch->dir & 1;
	struct h2_dir *dd = &hc->d[d];

	(void)inst;
	hc->c = c;
	hc->cur_ts = ch->ts;
	hc->cur_tid = ch->tid;
	if ((hc->upgrade == UPG_REQUEST && d == hc->up_dir) ||
	    (hc->upgrade == UPG_ANSWER && d != hc->up_dir)) {
		bool opaque;
		size_t used = upgrade_head(hc, ch, &opaque);

		if (opaque)
			return PROTO_OPAQUE;
		if (used > ch->cap_len)
			return PROTO_KEEP;
		dir_feed(hc, d, ch->data + used, ch->cap_len - used);
		if (ch->len > ch->cap_len)
			dir_skip(hc, d, ch->len - ch->cap_len);
		return PROTO_KEEP;
	}
	if (hc->upgrade == UPG_REQUEST)
		return PROTO_KEEP; /* the server speaks before the request is in */
	if (dd->lost) {
		/* a chunk that starts with a frame header takes up the thread */
		if (ch->cap_len < FRAME_HDR || !frame_header_strict(ch->data))
			return PROTO_KEEP;
		dd->lost = false;
		dd->in_frame = false;
		dd->hdr_len = 0;
	}
	dir_feed(hc, d, ch->data, ch->cap_len);
	if (ch->len > ch->cap_len)
		dir_skip(hc, d, ch->len - ch->cap_len);
	/* framing that keeps failing and never made an exchange: not HTTP/2 */
	return hc->bad_frames >= BAD_FRAMES_MAX && !hc->reported && !hc->nstreams ? PROTO_OPAQUE
										  : PROTO_KEEP;
}

/* Streams a gap may have ended, quiet for a while, end at their last frame. */
static void h2_sweep(void *inst, struct conn *c, uint64_t now_ns)
{
	struct h2_conn *hc = c->proto_state;

	(void)inst;
	if (!hc)
		return;
	hc->c = c;
	for (uint16_t i = 0; i < hc->nstreams;) {
		struct h2_stream *s = hc->streams[i];

		if (s->gap && now_ns > s->last_ts && now_ns - s->last_ts >= GAP_QUIET_NS &&
		    s->x.status) {
			stream_finish(hc, s, s->last_ts, NULL);
			continue;
		}
		i++;
	}
}

static void h2_close(void *inst, struct conn *c, uint64_t ts)
{
	struct h2_conn *hc = c->proto_state;

	(void)inst;
	if (!hc)
		return;
	hc->c = c;
	while (hc->nstreams)
		stream_finish(hc, hc->streams[0], ts, "connection_closed");
	free(hc->head);
	for (int d = 0; d < 2; d++)
		if (hc->d[d].inf)
			nghttp2_hd_inflate_del(hc->d[d].inf);
	free(hc);
	c->proto_state = NULL;
}

const struct protocol http2_protocol = {
    .name = "http2",
    .nerrors = H2_E_MAX,
    .error_name = h2_error_name,
    .new = h2_new,
    .free = h2_free,
    .detect = h2_detect,
    .open = h2_open,
    .feed = h2_feed,
    .sweep = h2_sweep,
    .close = h2_close,
    .wide_capture = true,
};
