// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * http1.c - incremental HTTP/1.x parser. Heads, chunk-size lines and trailers
 * go through a byte-level state machine that keeps no line buffer: the values
 * that matter (path, Host, traceparent, tracestate, framing headers) are
 * extracted as the bytes pass, a run at a time in the common states (method,
 * target, version, header names, kept values and list tokens). Bodies are
 * skipped in bulk, and the unseen tail of each chunk (the capture gap) is
 * accounted for where the framing allows it. Request headers configured with
 * http1_capture_set() are kept too, bounded. See http1.h for the contract.
 */
#include <ctype.h>
#include <errno.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "http1.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define TP_LEN	      55 /* "00-<32 hex>-<16 hex>-01" */

enum {
	ST_IDLE,
	/* head: byte by byte */
	ST_METHOD,
	ST_TARGET,
	ST_REQ_VER,
	ST_REQ_VER_END,
	ST_RESP_VER,
	ST_STATUS,
	ST_STATUS_END,
	ST_REASON, /* skipped to LF */
	ST_START_LF,
	ST_HDR_START,
	ST_HDR_NAME,
	ST_HDR_VALUE,
	ST_HDR_SKIP, /* skipped to LF */
	ST_HDR_END_LF,
	/* chunked framing: byte by byte */
	ST_CHUNK_SIZE,
	ST_CHUNK_EXT, /* skipped to LF */
	ST_CHUNK_SIZE_LF,
	ST_CHUNK_DATA_CR,
	ST_CHUNK_DATA_LF,
	ST_TRAILER_START,
	ST_TRAILER_LINE, /* skipped to LF */
	ST_TRAILER_END_LF,
	/* bulk */
	ST_CHUNK_DATA,
	ST_BODY_CL,
	ST_BODY_EOF,
	ST_UNKNOWN, /* a message with unknown framing */
	ST_LOST,    /* between messages, but the next start line was unseen */
	ST_CALLBACK,
	ST_ERROR,
	ST_OPAQUE,
};

/* struct http1_msg_state.flags */
enum {
	MF_PATH_TRUNC = 1u << 0,
	MF_HAS_CL = 1u << 1,
	MF_TE = 1u << 2,
	MF_CHUNKED = 1u << 3,
	MF_CLOSE = 1u << 4,
	MF_KEEPALIVE = 1u << 5,
	MF_EXPECT = 1u << 6,
	MF_UPGRADE = 1u << 7,
	MF_TP_SEEN = 1u << 8,
	MF_TP_OK = 1u << 9,
	MF_INTERIM = 1u << 10, /* unknown framing of a 1xx head: nothing to end */
};

/* struct http1_msg_state.vflags: the header value being parsed */
enum {
	VF_STARTED = 1u << 0, /* leading whitespace skipped */
	VF_OVER = 1u << 1,    /* a non-blank byte did not fit */
	VF_PARAMS = 1u << 2,  /* in ";param" of a list element */
	VF_DIGITS = 1u << 3,  /* Content-Length: digits in this element */
	VF_NUM_END = 1u << 4, /* Content-Length: blank after the digits */
	VF_NUM_ANY = 1u << 5, /* Content-Length: some element seen */
};

/* Headers the parser extracts (header_lookup()); the others are skipped. */
enum {
	H_OTHER,
	H_HOST,
	H_TRACEPARENT,
	H_TRACESTATE,
	H_CONTENT_LENGTH,
	H_TRANSFER_ENCODING,
	H_CONNECTION,
	H_EXPECT,
	H_UPGRADE,
	H_CAPTURE0 = 16, /* + index in captured[] */
};

/* Their names, lowercase: the one list header_lookup() and the name filter read. */
static const struct {
	char name[18];
	uint8_t len, hdr;
} extracted[] = {
    {"host", 4, H_HOST}, /* the most frequent first */
    {"content-length", 14, H_CONTENT_LENGTH},
    {"connection", 10, H_CONNECTION},
    {"transfer-encoding", 17, H_TRANSFER_ENCODING},
    {"traceparent", 11, H_TRACEPARENT},
    {"tracestate", 10, H_TRACESTATE},
    {"expect", 6, H_EXPECT},
    {"upgrade", 7, H_UPGRADE},
};

static const char *const method_names[] = {
    [HTTP1_M_OTHER] = "_OTHER",	   [HTTP1_M_GET] = "GET",	  [HTTP1_M_HEAD] = "HEAD",
    [HTTP1_M_POST] = "POST",	   [HTTP1_M_PUT] = "PUT",	  [HTTP1_M_DELETE] = "DELETE",
    [HTTP1_M_CONNECT] = "CONNECT", [HTTP1_M_OPTIONS] = "OPTIONS", [HTTP1_M_TRACE] = "TRACE",
    [HTTP1_M_PATCH] = "PATCH",
};

#define METHOD_MAX 20 /* longest unknown method token accepted */

static const struct http1_callbacks no_callbacks;

/* The headers of http1_capture_set(), lowercase. */
static struct {
	char name[HTTP1_CAPTURE_NAME + 1];
	uint8_t len;
} captured[HTTP1_CAPTURE_MAX];
static size_t ncaptured;

/*
 * The name filter: bit (c & 31) of wanted_first[len] is set for the first
 * byte c of every extracted or captured name of len bytes (case folds to the
 * same bit). A name whose bit is clear is skipped without being looked up;
 * a set bit only means "look it up". Names longer than the token never match.
 */
static uint32_t wanted_first[sizeof(((struct http1_stream *)0)->tok) + 1];

static uint8_t lower_of[256]; /* lower() */
static bool lower_hex[256];   /* 0-9, a-f: trace context's ids */

/* The extracted names of each length, a bit per index in extracted[]. */
static uint8_t extracted_of_len[sizeof(extracted[0].name)];
_Static_assert(ARRAY_SIZE(extracted) <= 8, "extracted_of_len holds a bit per name");

/* 0x20 where a name has a letter, 0 elsewhere: the one bit in which an input
 * byte may differ from it there (name_is()). */
static char extracted_letters[ARRAY_SIZE(extracted)][sizeof(extracted[0].name)];
static char captured_letters[HTTP1_CAPTURE_MAX][HTTP1_CAPTURE_NAME + 1];

static uint8_t lower(uint8_t c);

static void letters_of(const char *name, size_t len, char *out)
{
	for (size_t i = 0; i < len; i++)
		out[i] = name[i] >= 'a' && name[i] <= 'z' ? 0x20 : 0;
}

static void filter_build(void)
{
	for (unsigned c = 0; c < ARRAY_SIZE(lower_of); c++) {
		lower_of[c] = lower((uint8_t)c);
		lower_hex[c] = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
	}
	memset(wanted_first, 0, sizeof(wanted_first));
	memset(extracted_of_len, 0, sizeof(extracted_of_len));
	for (size_t i = 0; i < ARRAY_SIZE(extracted); i++) {
		wanted_first[extracted[i].len] |= 1u << (extracted[i].name[0] & 31);
		extracted_of_len[extracted[i].len] |= (uint8_t)(1u << i);
		letters_of(extracted[i].name, extracted[i].len, extracted_letters[i]);
	}
	for (size_t i = 0; i < ncaptured; i++)
		letters_of(captured[i].name, captured[i].len, captured_letters[i]);
	for (size_t i = 0; i < ncaptured; i++)
		if (captured[i].len < ARRAY_SIZE(wanted_first))
			wanted_first[captured[i].len] |= 1u << (captured[i].name[0] & 31);
}

__attribute__((constructor)) static void filter_init(void)
{
	filter_build();
}

int http1_capture_set(const char *const *names, size_t n)
{
	if (n > HTTP1_CAPTURE_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(names[i]);

		if (!len || len > HTTP1_CAPTURE_NAME)
			return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(names[i]);

		for (size_t j = 0; j < len; j++)
			captured[i].name[j] = (char)tolower((unsigned char)names[i][j]);
		captured[i].name[len] = '\0';
		captured[i].len = (uint8_t)len;
	}
	ncaptured = n;
	filter_build();
	return 0;
}

const char *http1_method_name(enum http1_method m)
{
	if ((unsigned)m >= ARRAY_SIZE(method_names))
		return method_names[HTTP1_M_OTHER];
	return method_names[m];
}

static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? c | 0x20 : c;
}

static bool is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static bool is_alnum(uint8_t c)
{
	return is_digit(c) || (lower(c) >= 'a' && lower(c) <= 'z');
}

static bool is_blank(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static bool is_method_char(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
}

/* A byte of a request-target or a header name: visible ASCII or obs-text. */
static bool is_visible(uint8_t c)
{
	return c > ' ' && c != 0x7f;
}

static int hex_value(uint8_t c)
{
	if (is_digit(c))
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static enum http1_method method_lookup(const void *tok, size_t len)
{
	for (size_t i = 1; i < ARRAY_SIZE(method_names); i++)
		if (strlen(method_names[i]) == len && !memcmp(method_names[i], tok, len))
			return (enum http1_method)i;
	return HTTP1_M_OTHER;
}

static bool is_state_head(uint8_t st)
{
	return st >= ST_METHOD && st <= ST_HDR_END_LF;
}

/* States parsed byte by byte, or by skipping to the end of the line. */
static bool is_state_line(uint8_t st)
{
	return st >= ST_METHOD && st <= ST_TRAILER_END_LF;
}

static bool is_state_skip(uint8_t st)
{
	return st == ST_REASON || st == ST_HDR_SKIP || st == ST_CHUNK_EXT || st == ST_TRAILER_LINE;
}

void http1_stream_init(struct http1_stream *s, enum http1_kind kind,
		       const struct http1_callbacks *cb, void *ctx)
{
	memset(s, 0, offsetof(struct http1_stream, arena));
	s->cb = cb ? cb : &no_callbacks;
	s->ctx = ctx;
	s->kind = (uint8_t)kind;
	s->state = ST_IDLE;
}

const char *http1_error_name(unsigned e)
{
	static const char *const names[HTTP1_E_MAX] = {
	    [HTTP1_E_REQUEST_LINE] = "bad_request_line",
	    [HTTP1_E_STATUS_LINE] = "bad_status_line",
	    [HTTP1_E_STATUS_CODE] = "bad_status_code",
	    [HTTP1_E_START_LINE] = "bad_start_line",
	    [HTTP1_E_START_LINE_GAP] = "start_line_not_captured",
	    [HTTP1_E_HEADER] = "bad_header",
	    [HTTP1_E_CONTENT_LENGTH] = "bad_content_length",
	    [HTTP1_E_CONFLICTING_LENGTH] = "conflicting_content_length",
	    [HTTP1_E_TRANSFER_ENCODING] = "bad_transfer_encoding",
	    [HTTP1_E_CHUNK_SIZE] = "bad_chunk_size",
	    [HTTP1_E_CHUNK_END] = "bad_chunk_end",
	    [HTTP1_E_TRAILER] = "bad_trailer",
	    [HTTP1_E_HEAD_TOO_LARGE] = "head_too_large",
	    [HTTP1_E_CHUNK_META_TOO_LARGE] = "chunk_metadata_too_large",
	    [HTTP1_E_UNPAIRED_RESPONSE] = "response_without_request",
	    [HTTP1_E_PIPELINE_OVERFLOW] = "pipeline_too_deep",
	};

	return e < HTTP1_E_MAX && names[e] ? names[e] : "unknown";
}

static void fail(struct http1_stream *s, enum http1_error reason)
{
	s->state = ST_ERROR;
	if (s->cb->on_error)
		s->cb->on_error(s->ctx, reason);
}

static void end_message(struct http1_stream *s)
{
	s->state = ST_IDLE;
	if (s->cb->on_end)
		s->cb->on_end(s->ctx);
}

static void end_then_opaque(struct http1_stream *s)
{
	s->state = ST_OPAQUE;
	if (s->cb->on_end)
		s->cb->on_end(s->ctx);
}

static void begin_message(struct http1_stream *s)
{
	memset(&s->m, 0, sizeof(s->m));
	s->m.version_minor = 1;
	s->state = s->kind == HTTP1_REQUESTS ? ST_METHOD : ST_RESP_VER;
}

/* v[0..n) are lower-case hex digits. */
static bool hex_run(const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!lower_hex[(uint8_t)v[i]])
			return false;
	return true;
}

/* v[0..n) are all '0' (n a multiple of 8): a word at a time. */
static bool zero_run(const char *v, size_t n)
{
	uint64_t w, diff = 0;

	for (size_t i = 0; i < n; i += 8) {
		memcpy(&w, v + i, sizeof(w));
		diff |= w ^ 0x3030303030303030ull;
	}
	return !diff;
}

/* Validates a W3C trace-context traceparent of version-format 00 shape:
 * "vv-<32 hex trace id>-<16 hex parent id>-ff", lower case, the version
 * not ff and neither id all zero. Every traced request carries one. */
static bool traceparent_valid(const char *v)
{
	return v[2] == '-' && v[35] == '-' && v[52] == '-' && hex_run(v, 2) && hex_run(v + 3, 32) &&
	       hex_run(v + 36, 16) && hex_run(v + 53, 2) && !(v[0] == 'f' && v[1] == 'f') &&
	       !zero_run(v + 3, 32) && !zero_run(v + 36, 16);
}

/* Builds the head on the stack, its strings pointing into the stream, and
 * hands it to on_head; returns its flags. */
static unsigned deliver_head(struct http1_stream *s, bool truncated)
{
	const struct http1_msg_state *m = &s->m;
	struct http1_head h = {
	    .is_request = s->kind == HTTP1_REQUESTS,
	    .method = (enum http1_method)m->method,
	    .path = s->arena,
	    .path_len = m->path_len,
	    .path_truncated = m->flags & MF_PATH_TRUNC,
	    .status = m->status,
	    .version_minor = m->version_minor,
	    .host = s->arena + m->host_off,
	    .host_len = m->host_len,
	    .traceparent = (m->flags & MF_TP_OK) ? s->traceparent : "",
	    .traceparent_len = (m->flags & MF_TP_OK) ? TP_LEN : 0,
	    .tracestate = s->arena + m->ts_off,
	    .tracestate_len = m->ts_len,
	    .content_length = m->content_length,
	    .has_content_length = m->flags & MF_HAS_CL,
	    .chunked = m->flags & MF_CHUNKED,
	    .expect_continue = m->flags & MF_EXPECT,
	    .upgrade = m->flags & MF_UPGRADE,
	    .truncated = truncated,
	    .captured = {"", "", "", ""}, /* past the names set: empty */
	};

	if (m->version_minor == 0)
		h.conn_close = (m->flags & MF_CLOSE) || !(m->flags & MF_KEEPALIVE);
	else
		h.conn_close = m->flags & MF_CLOSE;
	_Static_assert(HTTP1_CAPTURE_MAX == 4, "one empty string each, above");
	for (size_t i = 0; i < ncaptured; i++) {
		h.captured[i] = s->arena + m->cap_off[i];
		h.captured_len[i] = m->cap_len[i];
	}
	s->state = ST_CALLBACK;
	return s->cb->on_head ? s->cb->on_head(s->ctx, &h) : 0;
}

static bool is_interim(const struct http1_stream *s)
{
	return s->kind == HTTP1_RESPONSES && s->m.status < 200 && s->m.status != 101;
}

static void start_chunk_size(struct http1_stream *s)
{
	s->m.remaining = 0;
	s->m.pos = 0;
	s->m.hlen = 0;
	s->state = ST_CHUNK_SIZE;
}

/* The blank line ending the head was parsed: report it and pick the framing. */
static void head_complete(struct http1_stream *s)
{
	struct http1_msg_state *m = &s->m;
	bool request = s->kind == HTTP1_REQUESTS;
	unsigned f;

	if (is_interim(s)) {
		s->state = ST_IDLE; /* 100, 102, 103: consumed silently */
		return;
	}
	f = deliver_head(s, false);
	if (s->state != ST_CALLBACK)
		return; /* the callback made the stream opaque */
	if ((f & HTTP1_F_TUNNEL) || m->status == 101) {
		end_then_opaque(s);
	} else if ((f & HTTP1_F_NO_BODY) || m->status == 204 || m->status == 304) {
		end_message(s);
	} else if (m->flags & MF_CHUNKED) {
		start_chunk_size(s);
	} else if (m->flags & MF_TE) {
		/* RFC 9112 6.3: a request must end its codings with chunked. */
		if (request)
			fail(s, HTTP1_E_TRANSFER_ENCODING);
		else
			s->state = ST_BODY_EOF;
	} else if ((m->flags & MF_HAS_CL) && m->content_length) {
		m->remaining = m->content_length;
		s->state = ST_BODY_CL;
	} else if (request || (m->flags & MF_HAS_CL)) {
		end_message(s);
	} else {
		s->state = ST_BODY_EOF;
	}
}

/* A gap hit the head after a usable start line: report what was seen. */
static void head_truncated(struct http1_stream *s)
{
	unsigned f;

	if (s->state == ST_TARGET)
		s->m.flags |= MF_PATH_TRUNC;
	if (is_interim(s)) {
		s->m.flags |= MF_INTERIM;
		s->state = ST_UNKNOWN;
		return;
	}
	f = deliver_head(s, true);
	if (s->state != ST_CALLBACK)
		return;
	if ((f & HTTP1_F_TUNNEL) || s->m.status == 101)
		end_then_opaque(s);
	else
		s->state = ST_UNKNOWN;
}

/* Matches one byte of "HTTP/1.<digit>"; returns false on a mismatch. */
static bool version_byte(struct http1_msg_state *m, uint8_t c)
{
	static const char lit[] = "HTTP/1.";

	if (m->pos < sizeof(lit) - 1) {
		if (c != (uint8_t)lit[m->pos])
			return false;
	} else {
		if (!is_digit(c))
			return false;
		m->version_minor = c != '0'; /* 1.2+ are read as 1.1 */
	}
	m->pos++;
	return true;
}

static void start_line_byte(struct http1_stream *s, uint8_t c)
{
	struct http1_msg_state *m = &s->m;

	switch (s->state) {
	case ST_METHOD:
		if (c == ' ' && m->tok_len) {
			m->method = method_lookup(s->tok, m->tok_len);
			s->state = ST_TARGET;
		} else if (is_method_char(c) && m->tok_len < METHOD_MAX) {
			s->tok[m->tok_len++] = (char)c;
		} else {
			fail(s, HTTP1_E_REQUEST_LINE);
		}
		break;
	case ST_TARGET:
		if (c == ' ' && m->path_len) {
			m->pos = 0;
			s->state = ST_REQ_VER;
		} else if (!is_visible(c)) {
			fail(s, HTTP1_E_REQUEST_LINE);
		} else if (m->path_len < HTTP1_PATH_MAX - 1) {
			s->arena[m->path_len++] = (char)c;
			m->arena_len = m->path_len;
		} else {
			m->flags |= MF_PATH_TRUNC;
		}
		break;
	case ST_REQ_VER:
		if (!version_byte(m, c))
			fail(s, HTTP1_E_REQUEST_LINE);
		else if (m->pos == 8)
			s->state = ST_REQ_VER_END;
		break;
	case ST_RESP_VER:
		if (m->pos == 8 && c == ' ') {
			m->pos = 0;
			s->state = ST_STATUS;
		} else if (m->pos == 8 || !version_byte(m, c))
			fail(s, HTTP1_E_STATUS_LINE);
		break;
	case ST_STATUS:
		if (!is_digit(c)) {
			fail(s, HTTP1_E_STATUS_LINE);
			break;
		}
		m->status = (uint16_t)(m->status * 10 + (c - '0'));
		if (++m->pos < 3)
			break;
		if (m->status < 100 || m->status > 599)
			fail(s, HTTP1_E_STATUS_CODE);
		else
			s->state = ST_STATUS_END;
		break;
	case ST_STATUS_END:
	case ST_REQ_VER_END:
		if (c == ' ' && s->state == ST_STATUS_END)
			s->state = ST_REASON;
		else if (c == '\r')
			s->state = ST_START_LF;
		else if (c == '\n')
			s->state = ST_HDR_START;
		else
			fail(s, s->kind == HTTP1_REQUESTS ? HTTP1_E_REQUEST_LINE
							  : HTTP1_E_STATUS_LINE);
		break;
	case ST_START_LF:
		if (c == '\n')
			s->state = ST_HDR_START;
		else
			fail(s, HTTP1_E_START_LINE);
		break;
	}
}

/*
 * Copies value bytes p[0..n) (no LF among them) into dst[0..cap), dropping
 * leading and trailing blanks; a non-blank byte beyond cap sets VF_OVER.
 */
static void value_copy(struct http1_msg_state *m, char *dst, size_t cap, const uint8_t *p, size_t n)
{
	size_t j = 0, k, t;

	if (!(m->vflags & VF_STARTED)) {
		while (j < n && is_blank(p[j]))
			j++;
		if (j == n)
			return;
		m->vflags |= VF_STARTED;
	}
	k = m->val_len < cap ? cap - m->val_len : 0;
	if (k > n - j)
		k = n - j;
	memcpy(dst + m->val_len, p + j, k);
	for (t = k; t && is_blank(p[j + t - 1]); t--)
		;
	if (t)
		m->val_trim = (uint16_t)(m->val_len + t);
	m->val_len = (uint16_t)(m->val_len + k);
	for (j += k; j < n; j++) {
		if (!is_blank(p[j])) {
			m->vflags |= VF_OVER;
			break;
		}
	}
}

static size_t arena_room(const struct http1_stream *s, size_t field_cap)
{
	size_t room = HTTP1_ARENA_SIZE - s->m.arena_len;

	return room < field_cap ? room : field_cap;
}

/* Ends one element of a Content-Length list ("42" or "42, 42"). */
static void cl_element_end(struct http1_stream *s)
{
	struct http1_msg_state *m = &s->m;

	if (m->vflags & VF_DIGITS) {
		if ((m->flags & MF_HAS_CL) && m->content_length != m->num) {
			fail(s, HTTP1_E_CONFLICTING_LENGTH);
			return;
		}
		m->content_length = m->num;
		m->flags |= MF_HAS_CL;
		m->vflags |= VF_NUM_ANY;
	}
	m->vflags &= ~(VF_DIGITS | VF_NUM_END);
	m->num = 0;
}

static void cl_byte(struct http1_stream *s, uint8_t c)
{
	struct http1_msg_state *m = &s->m;

	if (is_digit(c)) {
		if ((m->vflags & VF_NUM_END) || m->num > (UINT64_MAX - (c - '0')) / 10) {
			fail(s, HTTP1_E_CONTENT_LENGTH);
			return;
		}
		m->num = m->num * 10 + (c - '0');
		m->vflags |= VF_DIGITS;
	} else if (is_blank(c)) {
		if (m->vflags & VF_DIGITS)
			m->vflags |= VF_NUM_END;
	} else if (c == ',') {
		cl_element_end(s);
	} else {
		fail(s, HTTP1_E_CONTENT_LENGTH);
	}
}

static bool tok_is(const struct http1_stream *s, const char *lit, size_t len)
{
	return s->m.tok_len == len && s->tok[0] == lit[0] && !memcmp(s->tok, lit, len);
}

#define TOK_IS(s, lit) tok_is(s, lit, sizeof(lit) - 1)

/* Appends p[0..n) lowercase to the token; a token too long matches nothing. */
static void tok_append(struct http1_stream *s, const uint8_t *p, size_t n)
{
	struct http1_msg_state *m = &s->m;
	size_t len = m->tok_len;

	if (len + n > sizeof(s->tok)) {
		m->tok_len = UINT8_MAX;
		return;
	}
	for (size_t j = 0; j < n; j++)
		s->tok[len + j] = (char)lower_of[p[j]];
	m->tok_len = (uint8_t)(len + n);
}

/* One token of a list-valued header is complete (lowercase in s->tok). */
static void token_end(struct http1_stream *s)
{
	struct http1_msg_state *m = &s->m;

	if (!m->tok_len)
		return;
	switch (m->hdr) {
	case H_CONNECTION:
		if (TOK_IS(s, "close"))
			m->flags |= MF_CLOSE;
		else if (TOK_IS(s, "keep-alive"))
			m->flags |= MF_KEEPALIVE;
		break;
	case H_TRANSFER_ENCODING:
		m->flags |= MF_TE;
		if (TOK_IS(s, "chunked"))
			m->flags |= MF_CHUNKED;
		else
			m->flags &= ~MF_CHUNKED;
		break;
	case H_EXPECT:
		if (TOK_IS(s, "100-continue"))
			m->flags |= MF_EXPECT;
		break;
	case H_UPGRADE:
		m->flags |= MF_UPGRADE;
		break;
	}
	m->tok_len = 0;
}

static void token_byte(struct http1_stream *s, uint8_t c)
{
	struct http1_msg_state *m = &s->m;

	if (c == ',') {
		token_end(s);
		m->vflags &= ~VF_PARAMS;
	} else if (m->vflags & VF_PARAMS) {
		return;
	} else if (c == ';') {
		token_end(s);
		m->vflags |= VF_PARAMS;
	} else if (is_blank(c)) {
		token_end(s);
	} else {
		tok_append(s, &c, 1);
	}
}

/* Where the value of a copied header goes (room in *cap); NULL for the others. */
static char *value_dst(struct http1_stream *s, size_t *cap)
{
	struct http1_msg_state *m = &s->m;

	switch (m->hdr) {
	case H_HOST:
		*cap = arena_room(s, HTTP1_HOST_MAX - 1);
		return s->arena + m->arena_len;
	case H_TRACEPARENT:
		*cap = TP_LEN;
		return s->traceparent;
	case H_TRACESTATE:
		*cap = arena_room(s, HTTP1_TRACESTATE_MAX - 1 - m->ts_len);
		return s->arena + m->arena_len;
	default:
		if (m->hdr < H_CAPTURE0)
			return NULL;
		*cap = arena_room(s, HTTP1_CAPTURE_VALUE - 1);
		return s->arena + m->arena_len;
	}
}

static void value_byte(struct http1_stream *s, uint8_t c)
{
	size_t cap;
	char *dst = value_dst(s, &cap);

	if (dst)
		value_copy(&s->m, dst, cap, &c, 1);
	else if (s->m.hdr == H_CONTENT_LENGTH)
		cl_byte(s, c);
	else
		token_byte(s, c);
}

/* Whether name[0..len) is the lowercase lit[0..lit_len), ignoring ASCII case. */
/* Whether 8 bytes at a equal lit's but for the case of lit's letters. */
static bool folds_to8(const uint8_t *a, const char *lit, const char *letters)
{
	uint64_t x, y, m;

	memcpy(&x, a, sizeof(x));
	memcpy(&y, lit, sizeof(y));
	memcpy(&m, letters, sizeof(m));
	return ((x ^ y) & ~m) == 0;
}

/* The same for 4 bytes. */
static bool folds_to4(const uint8_t *a, const char *lit, const char *letters)
{
	uint32_t x, y, m;

	memcpy(&x, a, sizeof(x));
	memcpy(&y, lit, sizeof(y));
	memcpy(&m, letters, sizeof(m));
	return ((x ^ y) & ~m) == 0;
}

/*
 * Whether name[0..len) is lit (lowercase, lit_len bytes; letters: its
 * letters_of()) with lower() applied to name: a byte may differ from lit's
 * only where lit has a letter, and only in the case bit. 8 bytes at a time
 * (the last word overlapping the one before), 4 for short names.
 */
static bool name_is(const uint8_t *name, size_t len, const char *lit, const char *letters,
		    size_t lit_len)
{
	size_t i;

	if (len != lit_len)
		return false;
	if (len >= 8) {
		for (i = 0; i + 8 < len; i += 8)
			if (!folds_to8(name + i, lit + i, letters + i))
				return false;
		return folds_to8(name + len - 8, lit + len - 8, letters + len - 8);
	}
	if (len >= 4)
		return folds_to4(name, lit, letters) &&
		       folds_to4(name + len - 4, lit + len - 4, letters + len - 4);
	for (i = 0; i < len; i++)
		if (lower_of[name[i]] != (uint8_t)lit[i])
			return false;
	return true;
}

/* Which of the headers the parser extracts name[0..len) is; H_OTHER if none. */
static uint8_t header_lookup(const uint8_t *name, size_t len)
{
	unsigned of_len = len < ARRAY_SIZE(extracted_of_len) ? extracted_of_len[len] : 0;

	for (; of_len; of_len &= of_len - 1) {
		size_t i = (size_t)__builtin_ctz(of_len);

		if (name_is(name, len, extracted[i].name, extracted_letters[i], extracted[i].len))
			return extracted[i].hdr;
	}
	return H_OTHER;
}

/* The header name name[0..len) (a token as s->tok holds one, or the input)
 * ended with ':': decide what to extract from the value. */
static void begin_value(struct http1_stream *s, const uint8_t *name, size_t len)
{
	struct http1_msg_state *m = &s->m;

	m->hdr = header_lookup(name, len);
	/* a captured header: the first one of its name wins */
	for (size_t i = 0; m->hdr == H_OTHER && s->kind == HTTP1_REQUESTS && i < ncaptured; i++)
		if (name_is(name, len, captured[i].name, captured_letters[i], captured[i].len) &&
		    !m->cap_len[i])
			m->hdr = (uint8_t)(H_CAPTURE0 + i);
	m->tok_len = 0;
	m->vflags = 0;
	m->val_len = 0;
	m->val_trim = 0;
	m->num = 0;

	switch (m->hdr) {
	case H_HOST:
		if (m->host_len)
			m->hdr = H_OTHER; /* the first Host wins */
		break;
	case H_TRACEPARENT:
		if (m->flags & MF_TP_SEEN) {
			m->flags &= ~MF_TP_OK; /* ambiguous: drop it */
			m->hdr = H_OTHER;
		}
		m->flags |= MF_TP_SEEN;
		break;
	case H_TRACESTATE:
		/* Repeated tracestate headers are one list; join them if adjacent. */
		if (!m->ts_len)
			break;
		if (m->ts_off + m->ts_len == m->arena_len && arena_room(s, 1) &&
		    m->ts_len < HTTP1_TRACESTATE_MAX - 1) {
			s->arena[m->arena_len] = ',';
			m->val_len = m->val_trim = 1;
		} else {
			m->hdr = H_OTHER;
		}
		break;
	}
	s->state = m->hdr == H_OTHER ? ST_HDR_SKIP : ST_HDR_VALUE;
}

/* The value of an extracted header ended with LF: commit it. */
static void end_value(struct http1_stream *s)
{
	struct http1_msg_state *m = &s->m;

	switch (m->hdr) {
	case H_HOST:
		m->host_off = m->arena_len;
		m->host_len = m->val_trim;
		m->arena_len += m->val_trim;
		break;
	case H_TRACEPARENT:
		if (!(m->vflags & VF_OVER) && m->val_trim == TP_LEN &&
		    traceparent_valid(s->traceparent))
			m->flags |= MF_TP_OK;
		break;
	case H_TRACESTATE:
		if (!m->ts_len)
			m->ts_off = m->arena_len;
		else if (m->val_trim <= 1)
			break; /* only the joining comma */
		m->ts_len += m->val_trim;
		m->arena_len += m->val_trim;
		break;
	case H_CONTENT_LENGTH:
		cl_element_end(s);
		if (s->state == ST_ERROR)
			return;
		if (!(m->vflags & VF_NUM_ANY)) {
			fail(s, HTTP1_E_CONTENT_LENGTH);
			return;
		}
		break;
	default:
		if (m->hdr >= H_CAPTURE0) {
			m->cap_off[m->hdr - H_CAPTURE0] = m->arena_len;
			m->cap_len[m->hdr - H_CAPTURE0] = (uint8_t)m->val_trim;
			m->arena_len += m->val_trim;
		} else {
			token_end(s);
		}
		break;
	}
	s->state = ST_HDR_START;
}

static void header_byte(struct http1_stream *s, uint8_t c)
{
	struct http1_msg_state *m = &s->m;

	switch (s->state) {
	case ST_HDR_START:
		if (c == '\r') {
			s->state = ST_HDR_END_LF;
		} else if (c == '\n') {
			head_complete(s);
		} else if (c == ' ' || c == '\t') {
			m->hdr = H_OTHER; /* obs-fold: ignore the continuation */
			s->state = ST_HDR_SKIP;
		} else if (is_visible(c) && c != ':') {
			s->tok[0] = (char)lower(c);
			m->tok_len = 1;
			s->state = ST_HDR_NAME;
		} else {
			fail(s, HTTP1_E_HEADER);
		}
		break;
	case ST_HDR_NAME:
		if (c == ':') {
			begin_value(s, (const uint8_t *)s->tok, m->tok_len);
		} else if (!is_visible(c)) {
			fail(s, HTTP1_E_HEADER);
		} else if (m->tok_len < sizeof(s->tok)) {
			s->tok[m->tok_len++] = (char)lower(c);
		} else {
			m->tok_len = UINT8_MAX; /* longer than any name we extract */
		}
		break;
	case ST_HDR_VALUE:
		if (c == '\n')
			end_value(s);
		else
			value_byte(s, c);
		break;
	case ST_HDR_END_LF:
		if (c == '\n')
			head_complete(s);
		else
			fail(s, HTTP1_E_HEADER);
		break;
	}
}

static void chunk_size_done(struct http1_stream *s)
{
	if (s->m.remaining) {
		s->state = ST_CHUNK_DATA;
	} else {
		s->m.hlen = 0; /* the trailers get their own budget */
		s->state = ST_TRAILER_START;
	}
}

static void chunk_byte(struct http1_stream *s, uint8_t c)
{
	struct http1_msg_state *m = &s->m;
	int v;

	switch (s->state) {
	case ST_CHUNK_SIZE:
		v = hex_value(c);
		if (v >= 0) {
			if (m->remaining >> 60) {
				fail(s, HTTP1_E_CHUNK_SIZE);
				break;
			}
			m->remaining = m->remaining << 4 | (unsigned)v;
			m->pos = 1;
		} else if (!m->pos) {
			fail(s, HTTP1_E_CHUNK_SIZE);
		} else if (c == ';' || c == ' ' || c == '\t') {
			s->state = ST_CHUNK_EXT;
		} else if (c == '\r') {
			s->state = ST_CHUNK_SIZE_LF;
		} else if (c == '\n') {
			chunk_size_done(s);
		} else {
			fail(s, HTTP1_E_CHUNK_SIZE);
		}
		break;
	case ST_CHUNK_SIZE_LF:
		if (c == '\n')
			chunk_size_done(s);
		else
			fail(s, HTTP1_E_CHUNK_SIZE);
		break;
	case ST_CHUNK_DATA_CR:
		if (c == '\r')
			s->state = ST_CHUNK_DATA_LF;
		else if (c == '\n')
			start_chunk_size(s);
		else
			fail(s, HTTP1_E_CHUNK_END);
		break;
	case ST_CHUNK_DATA_LF:
		if (c == '\n')
			start_chunk_size(s);
		else
			fail(s, HTTP1_E_CHUNK_END);
		break;
	case ST_TRAILER_START:
		if (c == '\r')
			s->state = ST_TRAILER_END_LF;
		else if (c == '\n')
			end_message(s);
		else
			s->state = ST_TRAILER_LINE;
		break;
	case ST_TRAILER_END_LF:
		if (c == '\n')
			end_message(s);
		else
			fail(s, HTTP1_E_TRAILER);
		break;
	}
}

static enum http1_error too_large(uint8_t st)
{
	return is_state_head(st) ? HTTP1_E_HEAD_TOO_LARGE : HTTP1_E_CHUNK_META_TOO_LARGE;
}

/* Skips to the end of the line in one of the is_state_skip() states. */
static size_t skip_line(struct http1_stream *s, const uint8_t *p, size_t n)
{
	const uint8_t *lf = memchr(p, '\n', n);
	size_t k = lf ? (size_t)(lf - p) + 1 : n;

	if (k > HTTP1_HEAD_LIMIT - s->m.hlen) {
		fail(s, too_large(s->state));
		return n;
	}
	s->m.hlen += (uint32_t)k;
	if (!lf)
		return k;
	switch (s->state) {
	case ST_REASON:
	case ST_HDR_SKIP:
		s->state = ST_HDR_START;
		break;
	case ST_CHUNK_EXT:
		chunk_size_done(s);
		break;
	case ST_TRAILER_LINE:
		s->state = ST_TRAILER_START;
		break;
	}
	return k;
}

/*
 * Runs: the common cases of the byte-level states a run of bytes at a time,
 * doing for each byte exactly what the byte path (start_line_byte(),
 * header_byte()) does, within the head's remaining budget. Each stops
 * before a byte that changes the state or needs a check, which the byte path
 * then takes; 0 means "take the byte path".
 */
static size_t run_budget(const struct http1_stream *s, size_t n)
{
	uint32_t hlen = s->m.hlen;

	if (hlen >= HTTP1_HEAD_LIMIT)
		return 0;
	return n < HTTP1_HEAD_LIMIT - hlen ? n : HTTP1_HEAD_LIMIT - hlen;
}

/* ST_METHOD: method characters while the token has room. */
static size_t method_run(struct http1_stream *s, const uint8_t *p, size_t n)
{
	struct http1_msg_state *m = &s->m;
	size_t k = 0;

	if (n > (size_t)(METHOD_MAX - m->tok_len))
		n = METHOD_MAX - m->tok_len;
	while (k < n && is_method_char(p[k]))
		k++;
	memcpy(s->tok + m->tok_len, p, k);
	m->tok_len = (uint8_t)(m->tok_len + k);
	return k;
}

/*
 * The length of the run at p[0..n) of visible bytes (is_visible()) other
 * than a and b, where p[0..avail) may be read (n <= avail): 16 bytes a step
 * while 16 can be read, then a byte at a time. Targets, header names and
 * list tokens are most of a head's bytes: a byte at a time, their scans
 * were most of its parse.
 */
static inline __attribute__((always_inline)) size_t visible_run(const uint8_t *p, size_t n,
								size_t avail, uint8_t a, uint8_t b)
{
	size_t k = 0;

#if defined(__SSE2__)
	const __m128i space = _mm_set1_epi8(' '), del = _mm_set1_epi8(0x7f),
		      va = _mm_set1_epi8((char)a), vb = _mm_set1_epi8((char)b);

	for (; k < n && k + 16 <= avail; k += 16) {
		__m128i c = _mm_loadu_si128((const __m128i *)(const void *)(p + k));
		__m128i end = _mm_or_si128(
		    _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(c, space), c), _mm_cmpeq_epi8(c, del)),
		    _mm_or_si128(_mm_cmpeq_epi8(c, va), _mm_cmpeq_epi8(c, vb)));
		unsigned m = (unsigned)_mm_movemask_epi8(end);

		if (m) {
			k += (size_t)__builtin_ctz(m);
			return k < n ? k : n;
		}
	}
	if (k > n)
		return n;
#endif
	while (k < n && is_visible(p[k]) && p[k] != a && p[k] != b)
		k++;
	return k;
}

/* ST_TARGET: the visible bytes of the request-target, kept while they fit. */
static size_t target_run(struct http1_stream *s, const uint8_t *p, size_t n)
{
	struct http1_msg_state *m = &s->m;
	size_t room = HTTP1_PATH_MAX - 1 - m->path_len;
	/* no stop byte of its own: DEL, given as one, stops every run anyway */
	size_t k = visible_run(p, n, n, 0x7f, 0x7f);
	if (k > room)
		m->flags |= MF_PATH_TRUNC;
	room = k < room ? k : room;
	memcpy(s->arena + m->path_len, p, room);
	m->path_len = (uint16_t)(m->path_len + room);
	m->arena_len = m->path_len;
	return k;
}

/*
 * After a response's version: " <3 digits> " with a valid status at once,
 * as ST_RESP_VER, ST_STATUS and ST_STATUS_END take it byte by byte; 0 for
 * anything else (the byte path then judges it).
 */
static size_t status_run(struct http1_stream *s, const uint8_t *p, size_t n)
{
	struct http1_msg_state *m = &s->m;
	unsigned status;

	if (n < 5 || p[0] != ' ' || !is_digit(p[1]) || !is_digit(p[2]) || !is_digit(p[3]) ||
	    p[4] != ' ')
		return 0;
	status = (p[1] - '0') * 100u + (p[2] - '0') * 10u + (p[3] - '0');
	if (status < 100 || status > 599)
		return 0;
	m->status = (uint16_t)status;
	m->pos = 3;
	s->state = ST_REASON;
	return 5;
}

/* ST_REQ_VER, ST_RESP_VER: a whole "HTTP/1.<digit>" at once, and what
 * commonly follows (a request's CRLF, a response's status). */
static size_t version_run(struct http1_stream *s, const uint8_t *p, size_t n)
{
	struct http1_msg_state *m = &s->m;

	if (m->pos || n < 8 || memcmp(p, "HTTP/1.", 7) || !is_digit(p[7]))
		return 0;
	m->version_minor = p[7] != '0'; /* 1.2+ are read as 1.1 */
	m->pos = 8;
	if (s->state == ST_RESP_VER)
		return 8 + status_run(s, p + 8, n - 8);
	s->state = ST_REQ_VER_END;
	if (n >= 10 && p[8] == '\r' && p[9] == '\n') {
		s->state = ST_HDR_START; /* as ST_REQ_VER_END and ST_START_LF take them */
		return 10;
	}
	return 8;
}

/* ST_HDR_NAME: the bytes of a header name up to ':' or a byte not allowed. */
static size_t name_run(struct http1_stream *s, const uint8_t *p, size_t n)
{
	size_t k = 0;

	while (k < n && p[k] != ':' && is_visible(p[k]))
		k++;
	tok_append(s, p, k);
	return k;
}

/* A list value's bytes p[0..n) (no LF among them), each as token_byte()
 * takes it; p[0..avail) may be read. */
static void token_run(struct http1_stream *s, const uint8_t *p, size_t n, size_t avail)
{
	size_t k = 0, j;

	while (k < n) {
		j = k;
		if (s->m.vflags & VF_PARAMS) {
			while (j < n && p[j] != ',')
				j++;
		} else {
			j += visible_run(p + j, n - j, avail - j, ',', ';');
			tok_append(s, p + k, j - k);
		}
		if (j == k)
			token_byte(s, p[j++]);
		k = j;
	}
}

/* ST_HDR_VALUE: the value up to its LF, then the LF (end_value()) if it is there. */
static size_t value_run(struct http1_stream *s, const uint8_t *p, size_t n)
{
	struct http1_msg_state *m = &s->m;
	const uint8_t *lf = memchr(p, '\n', n);
	size_t k = 0, end = lf ? (size_t)(lf - p) : n, cap;
	char *dst = value_dst(s, &cap);

	if (dst) {
		value_copy(m, dst, cap, p, end);
		k = end;
	} else if (m->hdr == H_CONTENT_LENGTH) {
		while (k < end && s->state == ST_HDR_VALUE)
			cl_byte(s, p[k++]);
	} else {
		token_run(s, p, end, n);
		k = end;
	}
	if (lf && k == end && s->state == ST_HDR_VALUE) {
		end_value(s);
		k++;
	}
	return k;
}

/*
 * ST_HDR_START: a header line whose name the filter rules out is skipped at
 * once when its LF is in p[0..n). A name that may be extracted goes on to
 * begin_value() as from the byte path (ST_HDR_VALUE, or ST_HDR_SKIP for a
 * name that only looked like one), without looking for the LF; anything
 * else (the blank line, an obs-fold, a bad name, a line not whole) takes
 * the byte path.
 */
static size_t header_line(struct http1_stream *s, const uint8_t *p, size_t n)
{
	size_t k = visible_run(p, n, n, ':', ':'); /* an LF stops it too */
	const uint8_t *lf;

	if (!k || k == n || p[k] != ':')
		return 0;
	if (k < ARRAY_SIZE(wanted_first) && (wanted_first[k] >> (p[0] & 31) & 1)) {
		begin_value(s, p, k);
		return k + 1;
	}
	lf = memchr(p + k + 1, '\n', n - k - 1);
	return lf ? (size_t)(lf - p) + 1 : 0;
}

/*
 * The head a run at a time, within its budget: each state's run, else the
 * byte path's step for one byte (the budget makes its size check pass), and
 * the skipped lines whose LF is within the budget. Stops where the head ends
 * or the budget does; 0: take parse_lines()' own byte path.
 */
static size_t run(struct http1_stream *s, const uint8_t *p, size_t n)
{
	size_t done = 0, k;
	const uint8_t *lf;

	n = run_budget(s, n);
	while (done < n) {
		uint8_t st = s->state;

		switch (st) {
		case ST_METHOD:
			k = method_run(s, p + done, n - done);
			break;
		case ST_TARGET:
			k = target_run(s, p + done, n - done);
			break;
		case ST_REQ_VER:
		case ST_RESP_VER:
			k = version_run(s, p + done, n - done);
			break;
		case ST_HDR_START:
			k = header_line(s, p + done, n - done);
			break;
		case ST_HDR_NAME:
			k = name_run(s, p + done, n - done);
			break;
		case ST_HDR_VALUE:
			k = value_run(s, p + done, n - done);
			break;
		case ST_REASON:
		case ST_HDR_SKIP:
			lf = memchr(p + done, '\n', n - done);
			if (!lf)
				return done;
			done += skip_line(s, p + done, (size_t)(lf - p) + 1 - done);
			continue;
		default:
			if (!is_state_head(st))
				return done;
			k = 0;
			break;
		}
		if (!k) {
			s->m.hlen++;
			if (st <= ST_START_LF)
				start_line_byte(s, p[done]);
			else
				header_byte(s, p[done]);
			k = 1;
		} else {
			s->m.hlen += (uint32_t)k;
		}
		done += k;
	}
	return done;
}

/* Parses line-structured input (heads, chunk-size lines, trailers). */
static size_t parse_lines(struct http1_stream *s, const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t st = s->state;

		if (st == ST_IDLE) {
			if (p[i] == '\r' || p[i] == '\n') {
				i++; /* RFC 9112 2.2: tolerate blank lines before a message */
				continue;
			}
			begin_message(s);
			continue;
		}
		if (!is_state_line(st))
			break;
		if (is_state_skip(st)) {
			i += skip_line(s, p + i, n - i);
			continue;
		}
		if (is_state_head(st)) {
			size_t k = run(s, p + i, n - i);

			if (k) {
				i += k;
				continue;
			}
		}
		if (++s->m.hlen > HTTP1_HEAD_LIMIT) {
			fail(s, too_large(st));
			break;
		}
		if (st <= ST_START_LF)
			start_line_byte(s, p[i]);
		else if (st <= ST_HDR_END_LF)
			header_byte(s, p[i]);
		else
			chunk_byte(s, p[i]);
		i++;
	}
	return i;
}

/* Consumes some of p[0..n) in the current state; returns how much (> 0). */
static size_t step(struct http1_stream *s, const uint8_t *p, size_t n)
{
	struct http1_msg_state *m = &s->m;
	size_t k;

	switch (s->state) {
	case ST_BODY_CL:
	case ST_CHUNK_DATA:
		k = n < m->remaining ? n : (size_t)m->remaining;
		m->remaining -= k;
		if (m->remaining)
			return k;
		if (s->state == ST_BODY_CL)
			end_message(s);
		else
			s->state = ST_CHUNK_DATA_CR;
		return k;
	case ST_IDLE:
		return parse_lines(s, p, n);
	default:
		if (is_state_line(s->state))
			return parse_lines(s, p, n);
		return n; /* read-until-close body, unknown framing, lost, error, opaque */
	}
}

/* Accounts for gap bytes that moved unseen after the captured ones. */
static void apply_gap(struct http1_stream *s, uint64_t gap)
{
	struct http1_msg_state *m = &s->m;
	bool over;

	switch (s->state) {
	case ST_IDLE:
		s->state = ST_LOST; /* a message started in the gap */
		break;
	case ST_TARGET:
		if (m->path_len) {
			head_truncated(s);
			break;
		}
		/* fall through */
	case ST_METHOD:
	case ST_RESP_VER:
	case ST_STATUS:
		/* Too little of the start line to report: the message is lost
		 * (pipelined past the capture prefix), not malformed. */
		s->state = ST_LOST;
		break;
	case ST_BODY_CL:
		if (gap < m->remaining) {
			m->remaining -= gap;
			break;
		}
		over = gap > m->remaining;
		m->remaining = 0;
		end_message(s);
		if (over && s->state == ST_IDLE)
			s->state = ST_LOST;
		break;
	case ST_CHUNK_DATA:
		if (gap > m->remaining) {
			s->state = ST_UNKNOWN;
			break;
		}
		m->remaining -= gap;
		if (!m->remaining)
			s->state = ST_CHUNK_DATA_CR;
		break;
	default:
		if (is_state_head(s->state))
			head_truncated(s);
		else if (is_state_line(s->state))
			s->state = ST_UNKNOWN; /* chunk-size line, chunk end or trailers */
		break;
	}
}

/*
 * Whether a chunk arriving in unknown framing starts a new message. Blank
 * lines before it are skipped (some clients send CRLF after a body).
 */
static bool is_resync_point(const struct http1_stream *s, const uint8_t *p, size_t n)
{
	while (n && (*p == '\r' || *p == '\n')) {
		p++;
		n--;
	}
	if (s->kind == HTTP1_RESPONSES)
		return n >= 7 && !memcmp(p, "HTTP/1.", 7);
	return http1_detect(p, n) == HTTP1_DETECT_REQUEST;
}

static bool is_stopped(const struct http1_stream *s)
{
	return s->state == ST_ERROR || s->state == ST_OPAQUE;
}

void http1_stream_feed(struct http1_stream *s, const uint8_t *data, size_t cap_len,
		       uint64_t total_len)
{
	size_t i = 0;

	if (!data)
		cap_len = 0;
	if (total_len < cap_len)
		total_len = cap_len;
	if (is_stopped(s))
		return;
	if ((s->state == ST_UNKNOWN || s->state == ST_LOST) && cap_len &&
	    is_resync_point(s, data, cap_len)) {
		if (s->state == ST_UNKNOWN && !(s->m.flags & MF_INTERIM))
			end_message(s);
		else
			s->state = ST_IDLE;
	}
	while (i < cap_len && !is_stopped(s)) {
		size_t k = step(s, data + i, cap_len - i);

		if (!k)
			break; /* cannot happen: every state consumes input */
		i += k;
	}
	if (total_len > cap_len && !is_stopped(s))
		apply_gap(s, total_len - cap_len);
}

enum http1_close_result http1_stream_close(struct http1_stream *s)
{
	enum http1_close_result r;

	switch (s->state) {
	case ST_IDLE:
	case ST_LOST:
	case ST_ERROR:
	case ST_OPAQUE:
	case ST_CALLBACK:
		r = HTTP1_CLOSE_IDLE;
		s->state = ST_IDLE;
		break;
	case ST_UNKNOWN:
		if (s->m.flags & MF_INTERIM) {
			r = HTTP1_CLOSE_IDLE;
			s->state = ST_IDLE;
			break;
		}
		/* fall through */
	case ST_BODY_EOF:
		r = HTTP1_CLOSE_COMPLETE;
		end_message(s);
		break;
	default:
		r = HTTP1_CLOSE_INCOMPLETE;
		s->state = ST_IDLE;
		break;
	}
	return r;
}

bool http1_stream_framing_unknown(const struct http1_stream *s)
{
	return s->state == ST_UNKNOWN;
}

void http1_stream_end_unknown(struct http1_stream *s)
{
	if (s->state != ST_UNKNOWN)
		return;
	if (s->m.flags & MF_INTERIM)
		s->state = ST_IDLE;
	else
		end_message(s);
}

bool http1_stream_out_of_sync(const struct http1_stream *s)
{
	return s->state == ST_UNKNOWN || s->state == ST_LOST;
}

bool http1_stream_busy(const struct http1_stream *s)
{
	switch (s->state) {
	case ST_IDLE:
	case ST_LOST:
	case ST_ERROR:
	case ST_OPAQUE:
		return false;
	case ST_UNKNOWN:
		return !(s->m.flags & MF_INTERIM);
	default:
		return true;
	}
}

void http1_stream_set_opaque(struct http1_stream *s)
{
	s->state = ST_OPAQUE;
}

static enum http1_detect detect_response(const uint8_t *d, size_t n)
{
	static const char pat[] = "HTTP/1.d nnn"; /* d, n: digits */
	size_t len = sizeof(pat) - 1;
	int status;

	for (size_t i = 0; i < len && i < n; i++) {
		bool ok = pat[i] == 'd' || pat[i] == 'n' ? is_digit(d[i]) : d[i] == (uint8_t)pat[i];

		if (!ok)
			return HTTP1_DETECT_NONE;
	}
	if (n < len)
		return HTTP1_DETECT_MORE;
	status = (d[9] - '0') * 100 + (d[10] - '0') * 10 + (d[11] - '0');
	if (status < 100 || status > 599)
		return HTTP1_DETECT_NONE;
	if (n > len && d[len] != ' ' && d[len] != '\r' && d[len] != '\n')
		return HTTP1_DETECT_NONE;
	return HTTP1_DETECT_RESPONSE;
}

static enum http1_detect detect_request(const uint8_t *d, size_t n)
{
	static const char ver[] = "HTTP/1.d";
	enum http1_detect out_of_data;
	size_t i = 0, v;

	while (i < n && i <= METHOD_MAX && is_method_char(d[i]))
		i++;
	if (i == n)
		return i <= METHOD_MAX ? HTTP1_DETECT_MORE : HTTP1_DETECT_NONE;
	if (!i || i > METHOD_MAX || d[i] != ' ')
		return HTTP1_DETECT_NONE;
	/* A known method and a target prefix are enough; others need the version. */
	out_of_data =
	    method_lookup(d, i) != HTTP1_M_OTHER ? HTTP1_DETECT_REQUEST : HTTP1_DETECT_MORE;
	if (++i == n)
		return HTTP1_DETECT_MORE;
	/* origin-form, asterisk-form, absolute-form or authority-form */
	if (d[i] != '/' && d[i] != '*' && !is_alnum(d[i]))
		return HTTP1_DETECT_NONE;
	while (i < n && is_visible(d[i]))
		i++;
	if (i == n)
		return out_of_data;
	if (d[i++] != ' ')
		return HTTP1_DETECT_NONE;
	for (v = 0; v < sizeof(ver) - 1; v++, i++) {
		if (i == n)
			return out_of_data;
		if (ver[v] == 'd' ? !is_digit(d[i]) : d[i] != (uint8_t)ver[v])
			return HTTP1_DETECT_NONE;
	}
	if (i < n && d[i] != '\r' && d[i] != '\n')
		return HTTP1_DETECT_NONE;
	return i < n ? HTTP1_DETECT_REQUEST : out_of_data;
}

enum http1_detect http1_detect(const uint8_t *data, size_t len)
{
	enum http1_detect r;

	if (!data || !len)
		return HTTP1_DETECT_MORE;
	r = detect_response(data, len);
	if (r != HTTP1_DETECT_NONE)
		return r;
	return detect_request(data, len);
}
