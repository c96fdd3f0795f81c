/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * http1.h - incremental HTTP/1.x parser for one direction of a TCP connection.
 *
 * The eBPF side delivers, per connection and direction, one chunk per syscall:
 * data[0..cap_len) was captured, and total_len - cap_len more bytes moved
 * unseen (a "gap"). One struct http1_stream parses one direction, either
 * requests or responses, and reports each message through callbacks: on_head
 * when the head is parsed, on_end when head and body are complete, on_error
 * once if the input is not HTTP/1.x (the stream then ignores all input).
 *
 * API:
 * - Embed a struct http1_stream anywhere (it is about 640 bytes, owns no
 *   memory and needs no release), then http1_stream_init() it. The callbacks
 *   table and ctx are borrowed: they must outlive the stream (a static const
 *   table is the usual choice). Any callback may be NULL.
 * - http1_stream_feed() runs the callbacks synchronously, possibly several
 *   times per chunk (pipelining). Callbacks may call http1_stream_set_opaque()
 *   on the stream that called them and anything on other streams; they must
 *   not feed, close or re-init the stream that called them.
 * - The struct http1_head passed to on_head lives on the parser's stack for
 *   the duration of the call, and its strings point into the stream: copy
 *   what you keep (http1_head_copy()) before the call returns or sets the
 *   stream opaque.
 * - Framing is exact as long as gaps fall in bodies of known length. A gap in
 *   a head or in chunk-size lines leaves the message in "unknown framing":
 *   it ends when a later chunk begins with a start line, when the connection
 *   closes, or when the caller calls http1_stream_end_unknown().
 * - Not thread-safe: one thread feeds a stream at a time. Work is O(n) in the
 *   input; there is no allocation.
 */
#ifndef REDTAP_HTTP1_H
#define REDTAP_HTTP1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum http1_method {
	HTTP1_M_OTHER = 0,
	HTTP1_M_GET,
	HTTP1_M_HEAD,
	HTTP1_M_POST,
	HTTP1_M_PUT,
	HTTP1_M_DELETE,
	HTTP1_M_CONNECT,
	HTTP1_M_OPTIONS,
	HTTP1_M_TRACE,
	HTTP1_M_PATCH,
};

/* "GET", ...; "_OTHER" for HTTP1_M_OTHER and out-of-range values (OTel's rule). */
const char *http1_method_name(enum http1_method m);

#define HTTP1_PATH_MAX	      256
#define HTTP1_HOST_MAX	      128
#define HTTP1_TRACEPARENT_MAX 64
#define HTTP1_TRACESTATE_MAX  256

/*
 * Request headers captured for span attributes (http1_capture_set()): at
 * most HTTP1_CAPTURE_MAX names of at most HTTP1_CAPTURE_NAME bytes; each
 * value is cut at HTTP1_CAPTURE_VALUE - 1 bytes and stored in the arena
 * after what came before it in the head (dropped when it is full).
 */
#define HTTP1_CAPTURE_MAX   4
#define HTTP1_CAPTURE_NAME  20
#define HTTP1_CAPTURE_VALUE 64

/* Largest head (start line + headers), chunk-size line or trailer block accepted. */
#define HTTP1_HEAD_LIMIT (64u * 1024u)

/*
 * Bytes a stream keeps for the path and the Host and tracestate values of the
 * head being parsed, in order of arrival. The path and Host always fit
 * (255 + 127 bytes); tracestate gets what is left and is truncated beyond.
 */
#define HTTP1_ARENA_SIZE 480

/*
 * A message head. Its strings are len bytes at a pointer that is never NULL,
 * not NUL-terminated, in the stream's memory (no 1 KiB copy per head): they
 * are valid while on_head runs, until it sets the stream opaque.
 */
struct http1_head {
	bool is_request;
	enum http1_method method; /* requests */
	const char *path;	  /* request-target as sent */
	size_t path_len;	  /* < HTTP1_PATH_MAX */
	bool path_truncated;
	int status;		 /* responses: 100..599 */
	int version_minor;	 /* 0 or 1 (HTTP/1.0 or HTTP/1.1) */
	const char *host;	 /* Host header, empty if absent */
	size_t host_len;	 /* < HTTP1_HOST_MAX */
	const char *traceparent; /* W3C traceparent, empty if absent or invalid */
	size_t traceparent_len;	 /* 55 or 0 */
	const char *tracestate;	 /* empty if absent; truncated if longer */
	size_t tracestate_len;	 /* < HTTP1_TRACESTATE_MAX */
	uint64_t content_length;
	bool has_content_length;
	bool chunked;	      /* Transfer-Encoding ends with chunked */
	bool conn_close;      /* Connection: close (or HTTP/1.0 without keep-alive) */
	bool expect_continue; /* Expect: 100-continue */
	bool upgrade;	      /* Upgrade header present */
	bool truncated;	      /* head not seen completely (capture gap): framing unknown */
	/* requests: the values of the http1_capture_set() headers, by index; empty if absent
	 * (and at every index past the names set, where nothing is copied) */
	const char *captured[HTTP1_CAPTURE_MAX];
	size_t captured_len[HTTP1_CAPTURE_MAX]; /* < HTTP1_CAPTURE_VALUE */
};

/* Copies a head string (s, len) to dst as a NUL-terminated string, cut to
 * size - 1 bytes (size > 0); returns the bytes copied before the NUL. */
static inline size_t http1_head_copy(char *dst, size_t size, const char *s, size_t len)
{
	if (len >= size)
		len = size - 1;
	if (len)
		memcpy(dst, s, len);
	dst[len] = '\0';
	return len;
}

enum http1_kind { HTTP1_REQUESTS, HTTP1_RESPONSES };

/* Flags returned by on_head to tell the parser about the message's body. */
#define HTTP1_F_NO_BODY 1u /* response to HEAD (or otherwise known to have no body) */
#define HTTP1_F_TUNNEL	2u /* after this message the stream becomes opaque (CONNECT 2xx) */

/*
 * Why a stream gave up (on_error), as llhttp's error codes: the parser's own
 * reasons, then the ones the exchange tracker (httptrack.c) finds when it
 * pairs requests with responses. http1_error_name() gives the label value
 * of redtap_parse_errors_total{protocol="http",reason=...}.
 */
enum http1_error {
	HTTP1_E_REQUEST_LINE,	      /* bad method, target or version */
	HTTP1_E_STATUS_LINE,	      /* bad version or separator */
	HTTP1_E_STATUS_CODE,	      /* not 100..599 */
	HTTP1_E_START_LINE,	      /* bad line end after the start line */
	HTTP1_E_START_LINE_GAP,	      /* unused: a start line cut by a gap is a lost message */
	HTTP1_E_HEADER,		      /* bad header name or line */
	HTTP1_E_CONTENT_LENGTH,	      /* unparsable or overflowing Content-Length */
	HTTP1_E_CONFLICTING_LENGTH,   /* Content-Length values differ */
	HTTP1_E_TRANSFER_ENCODING,    /* chunked not last, or unknown coding */
	HTTP1_E_CHUNK_SIZE,	      /* bad chunk-size line */
	HTTP1_E_CHUNK_END,	      /* chunk data not followed by CRLF */
	HTTP1_E_TRAILER,	      /* bad trailer section */
	HTTP1_E_HEAD_TOO_LARGE,	      /* head beyond HTTP1_HEAD_LIMIT */
	HTTP1_E_CHUNK_META_TOO_LARGE, /* chunk-size line or trailers too long */
	HTTP1_E_UNPAIRED_RESPONSE,    /* tracker: a response with no request pending */
	HTTP1_E_PIPELINE_OVERFLOW,    /* tracker: deeper pipelining than kept; oldest dropped */
	HTTP1_E_MAX,		      /* keep last */
};

/* Static snake_case name ("bad_request_line"); "unknown" out of range. */
const char *http1_error_name(unsigned e);

struct http1_callbacks {
	/* A message head was parsed (for a truncated head: as much as was seen). */
	unsigned (*on_head)(void *ctx, const struct http1_head *h);
	/* The message (head + body) is complete. */
	void (*on_end)(void *ctx);
	/* Not HTTP/1.x or broken beyond repair; reported once, then opaque. */
	void (*on_error)(void *ctx, enum http1_error reason);
};

/* Per-message parser state. Private. */
struct http1_msg_state {
	uint64_t remaining;	 /* body or chunk-data bytes still expected */
	uint64_t content_length; /* committed Content-Length */
	uint64_t num;		 /* Content-Length list element being parsed */
	uint32_t flags;		 /* MF_* in http1.c */
	uint32_t hlen;		 /* bytes of this head, chunk-size line or trailer block */
	uint16_t status;
	uint16_t arena_len; /* committed bytes of arena[] */
	uint16_t path_len;  /* the path is arena[0..path_len) */
	uint16_t host_off, host_len;
	uint16_t ts_off, ts_len;
	uint16_t val_len;  /* bytes of the header value being copied */
	uint16_t val_trim; /* val_len without trailing whitespace */
	uint8_t method, version_minor, hdr, pos, tok_len, vflags;
	uint16_t cap_off[HTTP1_CAPTURE_MAX]; /* captured values in arena[] */
	uint8_t cap_len[HTTP1_CAPTURE_MAX];
};

/* One direction of one connection. Fields are private: use the functions below. */
struct http1_stream {
	const struct http1_callbacks *cb;
	void *ctx;
	struct http1_msg_state m;
	uint8_t kind, state;
	char tok[20];	      /* method, header name, or the token of a list value */
	char traceparent[55]; /* candidate traceparent value */
	char arena[HTTP1_ARENA_SIZE];
};

/*
 * Sets the request headers whose values every stream captures from now on
 * (names case-insensitive; n = 0: none). Process-wide: call it before any
 * stream is fed. -EINVAL for more than HTTP1_CAPTURE_MAX names, or an empty
 * or longer than HTTP1_CAPTURE_NAME one.
 */
int http1_capture_set(const char *const *names, size_t n);

/* Prepares s to parse messages of the given kind. cb and ctx are borrowed. */
void http1_stream_init(struct http1_stream *s, enum http1_kind kind,
		       const struct http1_callbacks *cb, void *ctx);

/*
 * Feeds one chunk: data[0..cap_len) seen, then (total_len - cap_len) unseen
 * bytes (total_len < cap_len is treated as total_len == cap_len). Calls the
 * callbacks synchronously, possibly several times (pipelining).
 */
void http1_stream_feed(struct http1_stream *s, const uint8_t *data, size_t cap_len,
		       uint64_t total_len);

enum http1_close_result { HTTP1_CLOSE_IDLE, HTTP1_CLOSE_COMPLETE, HTTP1_CLOSE_INCOMPLETE };

/*
 * The connection closed. IDLE: no message in progress. COMPLETE: the message
 * in progress was delimited by the close (response without length, or unknown
 * framing) and on_end was called. INCOMPLETE: a message was cut short (on_end
 * not called). The stream is then idle again (also after an error or opaque).
 */
enum http1_close_result http1_stream_close(struct http1_stream *s);

/* True while a message is in progress with unknown framing (truncated head, or
 * sync lost in a chunked body). */
bool http1_stream_framing_unknown(const struct http1_stream *s);

/* The caller decided the current unknown-framing message has ended (e.g. the
 * peer started a new request): calls on_end and waits for a new head. No-op
 * otherwise. */
void http1_stream_end_unknown(struct http1_stream *s);

/* True when message boundaries are unknown after a capture gap: a message
 * of unknown framing is in progress, or one started unseen. Whole
 * messages may have passed unseen. */
bool http1_stream_out_of_sync(const struct http1_stream *s);

/* True when a message has started (its first byte was seen) and not ended. */
bool http1_stream_busy(const struct http1_stream *s);

/* After an upgrade (101) or a tunnel: ignore all further input. */
void http1_stream_set_opaque(struct http1_stream *s);

/* Protocol sniffing on the first bytes of a connection direction. */
enum http1_detect {
	HTTP1_DETECT_NONE,
	HTTP1_DETECT_REQUEST,
	HTTP1_DETECT_RESPONSE,
	HTTP1_DETECT_MORE, /* too few bytes to tell */
};

/*
 * REQUEST: a method token, SP, and a target (for an unknown method, the whole
 * line up to " HTTP/1.x" must be visible). RESPONSE: "HTTP/1.x NNN" with NNN
 * in 100..599. MORE: data is a strict prefix of one of these.
 */
enum http1_detect http1_detect(const uint8_t *data, size_t len);

#endif /* REDTAP_HTTP1_H */
