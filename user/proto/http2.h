/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * http2.h - HTTP/2 (RFC 9113) and gRPC on top of it as a protocol of the
 * pipeline (protocol.h): prior-knowledge h2 and cleartext h2c, each stream
 * one exchange reported like HTTP/1's (struct http_exchange, version
 * HTTP_V2), a gRPC call flagged with its status and type.
 *
 * API: http2_protocol, for proto_set_add(); it must come before
 * http1_protocol in the set (the connection preface reads as an HTTP/1
 * request line "PRI * HTTP/2.0").
 *
 * Detection: the client's connection preface in either direction (whoever
 * sends it is the client); or, for a connection whose start was not seen,
 * a chunk that is a strict chain of well-formed frames holding a HEADERS
 * or DATA frame of a client stream, which no HTTP/1, PostgreSQL, Redis or
 * TLS bytes can be (their first byte makes a length over 16 KiB).
 *
 * Frames are parsed one byte stream per direction, split at any byte; no
 * frame is buffered: header block fragments (HEADERS, CONTINUATION,
 * PUSH_PROMISE) stream into nghttp2's HPACK inflater, one per direction,
 * and only the fields an exchange needs are kept. Bounded: H2_STREAMS_MAX
 * open streams per connection and H2_STREAMS_BUDGET for the instance
 * (beyond: not tracked, counted), an HPACK table of at most H2_TABLE_MAX
 * bytes per direction, nghttp2's own limit on one header field.
 *
 * Unknown dynamic table: on a connection whose preface was not seen, or
 * after a capture gap inside a header block, the inflater starts with a
 * default-size table of placeholder entries (named "?", no valid name).
 * The entries the peer adds from then on take the front positions of both
 * tables and leave them at the same moments, so they decode right; a
 * reference to an older entry lands on a placeholder: that field is
 * unknown, the others of the block still decode (an index past the
 * placeholders fails the block). Where that hides what an exchange needs
 * (a request's :method or :path, a response's :status, a gRPC call's
 * grpc-status) it is counted (hpack_unknown_index) and nothing is labelled
 * from a guess: no :path, no exchange; no grpc-status, no RPC metric.
 *
 * Exchange times: start at the chunk holding the request's HEADERS frame
 * header, end at the chunk holding the frame that ends the response stream
 * (END_STREAM, RST_STREAM, or a GOAWAY that refuses it); a streaming gRPC
 * call is one exchange from open to close. The close reports what is still
 * open with error_type "connection_closed".
 */
#ifndef REDTAP_HTTP2_H
#define REDTAP_HTTP2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define H2_STREAMS_MAX	  128	/* open streams tracked per connection */
#define H2_STREAMS_BUDGET 8192	/* stream entries for all connections of an instance */
#define H2_TABLE_MAX	  65536 /* largest HPACK dynamic table followed, bytes */

/* The reason label of redtap_parse_errors_total{protocol="http2"}. */
enum h2_error {
	H2_E_FRAME,	       /* a frame that breaks RFC 9113's framing rules */
	H2_E_HPACK,	       /* a header block nghttp2 refused on a connection seen whole */
	H2_E_HPACK_UNKNOWN,    /* a block needs dynamic-table entries made before we saw it */
	H2_E_GAP,	       /* uncaptured bytes hid frame boundaries: resynchronised */
	H2_E_TOO_MANY_STREAMS, /* over H2_STREAMS_MAX or the budget: stream not tracked */
	H2_E_UNPAIRED,	       /* a response on a stream whose request was not seen */
	H2_E_NO_PSEUDO,	       /* request headers without :method or :path */
	H2_E_MAX,	       /* keep last */
};

/* Static snake_case name; "unknown" out of range. */
const char *h2_error_name(unsigned e);

/* What the messages of a gRPC call looked like (go-grpc-prometheus'
 * grpc_type): more than one request message makes it client streaming,
 * more than one response message server streaming. A streaming method
 * that sent one message each way reads as unary. */
enum grpc_type {
	GRPC_UNARY = 0,
	GRPC_CLIENT_STREAM,
	GRPC_SERVER_STREAM,
	GRPC_BIDI_STREAM,
};

/* "unary", "client_stream", "server_stream", "bidi_stream". */
const char *grpc_type_name(unsigned t);
/* "OK", "CANCELLED", ... "UNAUTHENTICATED"; "UNKNOWN" out of range. */
const char *grpc_code_name(int code);
/* OTel's RPC rule for gRPC: a server fails on UNKNOWN, DEADLINE_EXCEEDED,
 * UNIMPLEMENTED, INTERNAL, UNAVAILABLE and DATA_LOSS; a client on any code
 * but OK. */
bool grpc_code_is_error(int code, bool server);
/* Splits a gRPC :path "/package.Service/Method"; false (outputs "") when
 * it is not of that form. */
bool grpc_split_path(const char *path, char *service, size_t service_size, char *method,
		     size_t method_size);

struct protocol;
extern const struct protocol http2_protocol;

/* Stream entries an http2 instance holds for all its connections. */
size_t http2_streams_allocated(const void *inst);

#endif /* REDTAP_HTTP2_H */
