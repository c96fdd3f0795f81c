/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * otlp_http.h - one OTLP/HTTP POST with libcurl: protobuf body, optional
 * gzip, custom headers, a timeout, and an abort deadline another thread
 * can set. Keeps its connection alive between requests.
 *
 * API: otlp_http_new() per signal and thread; otlp_http_post() fills a
 * result whose body stays valid until the next post or otlp_http_free().
 * A handle is used by one thread at a time. otlp_http_global_init() runs
 * curl_global_init() once per process (called by otlp_http_new()).
 */
#ifndef REDTAP_OTLP_HTTP_H
#define REDTAP_OTLP_HTTP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OTLP_HTTP_BODY_MAX (64 * 1024) /* response bytes kept; the rest is discarded */
/* Response body bytes read at most: a longer body is cut off (r->body_cut). */
#define OTLP_HTTP_READ_MAX (1024 * 1024)
/* Response header bytes read at most: more fails the request (no response). */
#define OTLP_HTTP_HEADERS_MAX (64 * 1024)

struct otlp_http;

struct otlp_http_result {
	long status;	      /* HTTP status; 0 when no response came */
	bool aborted;	      /* stopped because the abort deadline passed */
	bool body_cut;	      /* the body was longer than OTLP_HTTP_READ_MAX: not read to its end */
	char retry_after[64]; /* the Retry-After header of the final response, "" if none */
	char error[256];      /* what failed when status is 0 */
	const uint8_t *body;  /* response body (at most OTLP_HTTP_BODY_MAX bytes) */
	size_t body_len;
};

int otlp_http_global_init(void);

/*
 * url is used as-is; headers is a decoded "k=v,k2=v2" list (or NULL); gzip
 * compresses request bodies. Returns NULL and errno (EINVAL when libcurl
 * rejects the URL or a header, ENOMEM).
 */
struct otlp_http *otlp_http_new(const char *url, const char *headers, bool gzip);
void otlp_http_free(struct otlp_http *h); /* NULL ok */

/*
 * POSTs body. timeout_ms bounds the whole request; *abort_at_ns (CLOCK_MONOTONIC,
 * 0 = none; may be NULL) stops it early. Returns 0 when a response came
 * (whatever its status), -EIO when none did (connection refused, reset,
 * timeout, aborted: see r->error and r->aborted), -ENOMEM.
 */
int otlp_http_post(struct otlp_http *h, const uint8_t *body, size_t len, unsigned timeout_ms,
		   const _Atomic uint64_t *abort_at_ns, struct otlp_http_result *r);

/* gzip (RFC 1952) of in into a malloc()ed *out. Returns 0 or -ENOMEM. */
int otlp_gzip(const uint8_t *in, size_t len, uint8_t **out, size_t *outlen);

/*
 * url for a log line: credentials in it ("https://user:secret@host/") become
 * "***@". Always NUL-terminates out (outlen > 0); truncates when too small.
 */
void otlp_url_redact(char *out, size_t outlen, const char *url);

/* CLOCK_MONOTONIC in nanoseconds (the clock of every otlp deadline). */
uint64_t otlp_mono_ns(void);

#endif /* REDTAP_OTLP_HTTP_H */
