// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * otlp_http.c - the OTLP/HTTP transport on libcurl (TLS, proxies from the
 * usual *_proxy variables, keep-alive) and gzip with zlib. See otlp_http.h.
 *
 * Redirects are not followed (the OTLP spec leaves them to the client; a
 * POST body would have to be re-sent) and only http/https are allowed.
 *
 * The collector is not trusted with the daemon's time or memory: a request
 * never outlives its timeout, at most OTLP_HTTP_BODY_MAX response bytes are
 * kept, and a response whose body or headers go beyond OTLP_HTTP_READ_MAX or
 * OTLP_HTTP_HEADERS_MAX is cut off there (the status still counts).
 */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <zlib.h>

#include "otlp_env.h"
#include "otlp_http.h"
#include "ownconn.h"
#include "version.h"

struct otlp_http {
	CURL *curl;
	struct curl_slist *headers;
	bool gzip;
	const _Atomic uint64_t *abort_at_ns;
	bool aborted;
	char errbuf[CURL_ERROR_SIZE];
	char retry_after[64];
	uint8_t *body;
	size_t body_len;
	uint64_t body_read;    /* response body bytes received, kept or not */
	uint64_t headers_read; /* response header bytes received */
	bool cut;	       /* we stopped reading a response that was too large */
};

uint64_t otlp_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void otlp_url_redact(char *out, size_t outlen, const char *url)
{
	const char *auth = strstr(url, "://"), *end, *at;

	if (!auth) {
		snprintf(out, outlen, "%s", url);
		return;
	}
	auth += 3;
	end = auth + strcspn(auth, "/?#");
	at = memrchr(auth, '@', (size_t)(end - auth));
	if (!at) {
		snprintf(out, outlen, "%s", url);
		return;
	}
	snprintf(out, outlen, "%.*s***%s", (int)(auth - url), url, at);
}

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int otlp_http_global_init(void)
{
	pthread_once(&global_once, global_init);
	return global_rc == CURLE_OK ? 0 : -ENOMEM;
}

int otlp_gzip(const uint8_t *in, size_t len, uint8_t **out, size_t *outlen)
{
	z_stream z = {0};
	uint8_t *buf;
	size_t cap;

	/* windowBits 15 + 16: a gzip header and trailer instead of zlib's */
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		return -ENOMEM;
	cap = deflateBound(&z, len) + 32;
	buf = malloc(cap);
	if (!buf) {
		deflateEnd(&z);
		return -ENOMEM;
	}
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)len;
	z.next_out = buf;
	z.avail_out = (uInt)cap;
	if (len > UINT32_MAX || deflate(&z, Z_FINISH) != Z_STREAM_END) {
		deflateEnd(&z);
		free(buf);
		return -ENOMEM;
	}
	*outlen = z.total_out;
	*out = buf;
	deflateEnd(&z);
	return 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct otlp_http *h = ctx;
	size_t n = size * nmemb, keep = n;

	h->body_read += n;
	if (h->body_read > OTLP_HTTP_READ_MAX) {
		h->cut = true;
		return 0; /* fails the transfer; otlp_http_post() keeps the status */
	}
	if (h->body_len + keep > OTLP_HTTP_BODY_MAX)
		keep = OTLP_HTTP_BODY_MAX - h->body_len;
	if (keep) {
		uint8_t *nb = realloc(h->body, h->body_len + keep);

		if (!nb)
			return 0; /* fails the transfer */
		h->body = nb;
		memcpy(h->body + h->body_len, data, keep);
		h->body_len += keep;
	}
	return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct otlp_http *h = ctx;
	size_t n = size * nmemb;

	h->headers_read += n;
	if (h->headers_read > OTLP_HTTP_HEADERS_MAX)
		return 0; /* fails the transfer: no response */
	/* a new response (after 100 Continue, say) starts over */
	if (n >= 5 && !strncmp(data, "HTTP/", 5))
		h->retry_after[0] = '\0';
	if (n > 12 && !strncasecmp(data, "Retry-After:", 12)) {
		const char *v = data + 12;
		size_t vl = n - 12;

		while (vl && (*v == ' ' || *v == '\t'))
			v++, vl--;
		while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
			vl--;
		if (vl >= sizeof(h->retry_after))
			vl = sizeof(h->retry_after) - 1;
		for (size_t i = 0; i < vl; i++) /* it may be logged: no control bytes */
			h->retry_after[i] = (unsigned char)v[i] < 0x20 || v[i] == 0x7f ? '?' : v[i];
		h->retry_after[vl] = '\0';
	}
	return n;
}

/* libcurl has a connection (new or reused) and is about to send on it:
 * publish its 4-tuple, so that a selected collector on this node does not
 * trace the export (ownconn.h). Runs before the request's first byte, so
 * before the receiving side's records reach the pipeline. */
static int on_connected(void *ctx, char *peer_ip, char *local_ip, int peer_port, int local_port)
{
	(void)ctx;
	ownconn_add(local_ip, local_port, peer_ip, peer_port);
	return CURL_PREREQFUNC_OK;
}

static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct otlp_http *h = ctx;
	uint64_t at = h->abort_at_ns ? atomic_load(h->abort_at_ns) : 0;

	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	if (at && otlp_mono_ns() >= at) {
		h->aborted = true;
		return 1;
	}
	return 0;
}

struct header_ctx {
	struct curl_slist *list;
	int err;
};

static int header_add(void *ctx, const char *key, const char *val)
{
	struct header_ctx *hc = ctx;
	struct curl_slist *n;
	char line[8400];

	/* "Name;" sends a header with an empty value; "Name:" would remove it */
	if (*val)
		snprintf(line, sizeof(line), "%s: %s", key, val);
	else
		snprintf(line, sizeof(line), "%s;", key);
	n = curl_slist_append(hc->list, line);
	if (!n)
		return hc->err = -ENOMEM;
	hc->list = n;
	return 0;
}

static int build_headers(struct otlp_http *h, const char *extra)
{
	static const char *const fixed[] = {"Content-Type: application/x-protobuf", "Expect:"};
	struct header_ctx hc = {0};

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		struct curl_slist *n = curl_slist_append(hc.list, fixed[i]);

		if (!n)
			goto out_free;
		hc.list = n;
	}
	if (h->gzip) {
		struct curl_slist *n = curl_slist_append(hc.list, "Content-Encoding: gzip");

		if (!n)
			goto out_free;
		hc.list = n;
	}
	if (extra && *extra)
		otlp_kv_parse(extra, false, header_add, &hc);
	if (hc.err)
		goto out_free;
	h->headers = hc.list;
	return 0;
out_free:
	curl_slist_free_all(hc.list);
	return -ENOMEM;
}

struct otlp_http *otlp_http_new(const char *url, const char *headers, bool gzip)
{
	struct otlp_http *h;
	char ua[64];
	int err = -ENOMEM;

	if (otlp_http_global_init())
		goto out;
	h = calloc(1, sizeof(*h));
	if (!h)
		goto out;
	h->gzip = gzip;
	h->curl = curl_easy_init();
	if (!h->curl || build_headers(h, headers))
		goto out_free;
	snprintf(ua, sizeof(ua), "redtap/%s", redtap_version);
	err = -EINVAL;
	if (curl_easy_setopt(h->curl, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK)
		goto out_free;
	curl_easy_setopt(h->curl, CURLOPT_USERAGENT, ua);
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, h->headers);
	curl_easy_setopt(h->curl, CURLOPT_POST, 1L);
	curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(h->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h->curl, CURLOPT_HEADERDATA, h);
	curl_easy_setopt(h->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h->curl, CURLOPT_XFERINFODATA, h);
	curl_easy_setopt(h->curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h->curl, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h->curl, CURLOPT_PREREQFUNCTION, on_connected);
	return h;
out_free:
	otlp_http_free(h);
out:
	errno = -err;
	return NULL;
}

void otlp_http_free(struct otlp_http *h)
{
	if (!h)
		return;
	if (h->curl)
		curl_easy_cleanup(h->curl);
	curl_slist_free_all(h->headers);
	free(h->body);
	free(h);
}

int otlp_http_post(struct otlp_http *h, const uint8_t *body, size_t len, unsigned timeout_ms,
		   const _Atomic uint64_t *abort_at_ns, struct otlp_http_result *r)
{
	uint8_t *zbody = NULL;
	size_t zlen = 0;
	CURLcode rc;
	int err;

	memset(r, 0, sizeof(*r));
	h->body_len = 0;
	h->body_read = 0;
	h->headers_read = 0;
	h->cut = false;
	h->retry_after[0] = '\0';
	h->errbuf[0] = '\0';
	h->aborted = false;
	h->abort_at_ns = abort_at_ns;
	if (h->gzip) {
		err = otlp_gzip(body, len, &zbody, &zlen);
		if (err)
			return err;
		body = zbody;
		len = zlen;
	}
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, (long)(timeout_ms ? timeout_ms : 1));
	rc = curl_easy_perform(h->curl);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, NULL);
	free(zbody);

	snprintf(r->retry_after, sizeof(r->retry_after), "%s", h->retry_after);
	r->body = h->body;
	r->body_len = h->body_len;
	if (rc == CURLE_WRITE_ERROR && h->cut) {
		/* The head came in full: the answer counts, the rest of the body is not read. */
		r->body_cut = true;
		rc = CURLE_OK;
	}
	if (rc != CURLE_OK) {
		r->aborted = h->aborted;
		snprintf(r->error, sizeof(r->error), "%s",
			 h->aborted	? "stopped at shutdown"
			 : h->errbuf[0] ? h->errbuf
					: curl_easy_strerror(rc));
		return rc == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EIO;
	}
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &r->status);
	return 0;
}
