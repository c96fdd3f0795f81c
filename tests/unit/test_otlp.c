// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_otlp.c - unit tests for OTLP delivery: the transport (otlp_http.c:
 * headers, gzip), the retry loop (otlp_send.c: Retry-After, backoff on
 * refused connections, no retry on 400/500, deadlines, partial_success)
 * and the exporter (otlp.c: batching by size and delay, flush on free,
 * bounded shutdown, periodic metrics, drop counting), against a scripted
 * HTTP server on 127.0.0.1 run by a thread of this test.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "log.h"
#include "otlp.h"
#include "otlp_http.h"
#include "otlp_send.h"
#include "otlp_encode.h"
#include "proto/otlp_metrics.pb-c.h"
#include "proto/otlp_trace.pb-c.h"

/* ---- a scripted HTTP/1.1 server: one request per connection ---- */

#define MAX_REQ	   64
#define MAX_SCRIPT 8

struct answer {
	int status;
	const char *retry_after;
	const uint8_t *body;
	size_t body_len;
	unsigned delay_ms;
};

struct request {
	char path[64];
	char head[4096];
	uint8_t *body;
	size_t len;
	uint64_t at_ns;
};

struct server {
	int fd, port;
	pthread_t thread;
	atomic_bool stop;
	pthread_mutex_t lock;
	struct answer script[MAX_SCRIPT]; /* answers for the next requests, then 200 */
	int nscript;
	struct request req[MAX_REQ];
	int nreq;
};

static struct server srv;

static uint64_t now_ns(void)
{
	return otlp_mono_ns();
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

/* Reads one request; returns false on a closed or broken connection. */
static bool read_request(int c, struct request *r)
{
	char buf[65536];
	size_t got = 0, clen = 0, hlen;
	char *end, *cl;

	for (;;) {
		ssize_t n = recv(c, buf + got, sizeof(buf) - 1 - got, 0);

		if (n <= 0)
			return false;
		got += (size_t)n;
		buf[got] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (end)
			break;
		if (got == sizeof(buf) - 1)
			return false;
	}
	hlen = (size_t)(end - buf) + 4;
	snprintf(r->head, sizeof(r->head), "%.*s", (int)hlen, buf);
	sscanf(buf, "POST %63s", r->path);
	cl = strcasestr(r->head, "\r\nContent-Length:");
	if (cl)
		clen = strtoul(cl + 17, NULL, 10);
	r->body = malloc(clen + 1);
	r->len = clen;
	memcpy(r->body, buf + hlen, got - hlen < clen ? got - hlen : clen);
	for (size_t have = got - hlen; have < clen;) {
		ssize_t n = recv(c, r->body + have, clen - have, 0);

		if (n <= 0)
			return false;
		have += (size_t)n;
	}
	return true;
}

static void answer(int c, const struct answer *a)
{
	char head[512];
	int n;

	for (unsigned waited = 0; waited < a->delay_ms && !atomic_load(&srv.stop); waited += 10)
		sleep_ms(10);
	n = snprintf(head, sizeof(head),
		     "HTTP/1.1 %d X\r\nContent-Type: application/x-protobuf\r\n"
		     "Content-Length: %zu\r\nConnection: close\r\n%s%s%s\r\n",
		     a->status, a->body_len, a->retry_after ? "Retry-After: " : "",
		     a->retry_after ? a->retry_after : "", a->retry_after ? "\r\n" : "");
	send(c, head, (size_t)n, MSG_NOSIGNAL);
	if (a->body_len)
		send(c, a->body, a->body_len, MSG_NOSIGNAL);
}

static void *server_main(void *arg)
{
	(void)arg;
	while (!atomic_load(&srv.stop)) {
		struct pollfd p = {.fd = srv.fd, .events = POLLIN};
		struct answer a = {.status = 200};
		struct request r = {0};
		int c;

		if (poll(&p, 1, 20) <= 0)
			continue;
		c = accept(srv.fd, NULL, NULL);
		if (c < 0)
			continue;
		if (read_request(c, &r)) {
			r.at_ns = now_ns();
			pthread_mutex_lock(&srv.lock);
			if (srv.nscript) {
				a = srv.script[0];
				memmove(srv.script, srv.script + 1,
					(size_t)--srv.nscript * sizeof(srv.script[0]));
			}
			if (srv.nreq < MAX_REQ)
				srv.req[srv.nreq++] = r;
			else
				free(r.body);
			pthread_mutex_unlock(&srv.lock);
			answer(c, &a);
		} else {
			free(r.body);
		}
		close(c);
	}
	return NULL;
}

static int server_start(void **state)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	int one = 1;

	(void)state;
	memset(&srv, 0, sizeof(srv));
	pthread_mutex_init(&srv.lock, NULL);
	srv.fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(srv.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(srv.fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(srv.fd, 64) ||
	    getsockname(srv.fd, (struct sockaddr *)&sa, &sl))
		return -1;
	srv.port = ntohs(sa.sin_port);
	return pthread_create(&srv.thread, NULL, server_main, NULL) ? -1 : 0;
}

static int server_stop(void **state)
{
	(void)state;
	atomic_store(&srv.stop, true);
	pthread_join(srv.thread, NULL);
	close(srv.fd);
	for (int i = 0; i < srv.nreq; i++)
		free(srv.req[i].body);
	pthread_mutex_destroy(&srv.lock);
	return 0;
}

static void script(int status, const char *retry_after, unsigned delay_ms)
{
	pthread_mutex_lock(&srv.lock);
	srv.script[srv.nscript++] =
	    (struct answer){.status = status, .retry_after = retry_after, .delay_ms = delay_ms};
	pthread_mutex_unlock(&srv.lock);
}

static void script_body(int status, const uint8_t *body, size_t len)
{
	pthread_mutex_lock(&srv.lock);
	srv.script[srv.nscript++] =
	    (struct answer){.status = status, .body = body, .body_len = len};
	pthread_mutex_unlock(&srv.lock);
}

static int nreq(void)
{
	int n;

	pthread_mutex_lock(&srv.lock);
	n = srv.nreq;
	pthread_mutex_unlock(&srv.lock);
	return n;
}

static void url(char *out, size_t len, int port, const char *path)
{
	snprintf(out, len, "http://127.0.0.1:%d%s", port, path);
}

/* A port nothing listens on. */
static int closed_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	getsockname(fd, (struct sockaddr *)&sa, &sl);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* ---- transport and retries ---- */

static void sender_init(struct otlp_sender *s, struct otlp_http *h)
{
	memset(s, 0, sizeof(*s));
	s->http = h;
	s->what = "traces";
	s->timeout_ms = 2000;
	s->partial = otlp_traces_partial;
	s->seed = 42;
}

static void test_post_headers_gzip(void **state)
{
	char u[128], plain[64];
	struct otlp_http *h;
	struct otlp_sender s;
	struct otlp_send_result res;
	uLongf plen = sizeof(plain);
	z_stream z = {0};

	(void)state;
	url(u, sizeof(u), srv.port, "/v1/traces");
	h = otlp_http_new(u, "x-api-key=abc def,X-Tenant=t1,empty=", true);
	assert_non_null(h);
	sender_init(&s, h);
	assert_int_equal(
	    otlp_send(&s, (const uint8_t *)"hello otlp", 10, now_ns() + 5000000000ULL, &res), 0);
	assert_int_equal(res.status, 200);
	assert_int_equal(res.retries, 0);
	assert_int_equal(nreq(), 1);
	assert_string_equal(srv.req[0].path, "/v1/traces");
	assert_non_null(
	    strcasestr(srv.req[0].head, "\r\nContent-Type: application/x-protobuf\r\n"));
	assert_non_null(strcasestr(srv.req[0].head, "\r\nContent-Encoding: gzip\r\n"));
	assert_non_null(strstr(srv.req[0].head, "\r\nx-api-key: abc def\r\n"));
	assert_non_null(strstr(srv.req[0].head, "\r\nX-Tenant: t1\r\n"));
	assert_non_null(strstr(srv.req[0].head, "\r\nempty:\r\n"));
	assert_non_null(strstr(srv.req[0].head, "\r\nUser-Agent: redtap/"));
	assert_null(strcasestr(srv.req[0].head, "Expect:"));
	/* the body is a gzip stream of the payload */
	assert_true(srv.req[0].len > 10 && srv.req[0].body[0] == 0x1f &&
		    srv.req[0].body[1] == 0x8b);
	assert_int_equal(inflateInit2(&z, 16 + 15), Z_OK);
	z.next_in = srv.req[0].body;
	z.avail_in = (uInt)srv.req[0].len;
	z.next_out = (Bytef *)plain;
	z.avail_out = (uInt)plen;
	assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
	assert_int_equal(z.total_out, 10);
	assert_memory_equal(plain, "hello otlp", 10);
	inflateEnd(&z);
	otlp_http_free(h);
}

static void test_retry_after_then_success(void **state)
{
	char u[128];
	struct otlp_http *h;
	struct otlp_sender s;
	struct otlp_send_result res;
	uint64_t t0;

	(void)state;
	url(u, sizeof(u), srv.port, "/v1/traces");
	h = otlp_http_new(u, NULL, false);
	sender_init(&s, h);
	script(503, "1", 0);
	script(429, "0", 0);
	script(502, NULL, 0); /* no Retry-After: backoff (0.5 to 1 s at the first step) */
	t0 = now_ns();
	assert_int_equal(otlp_send(&s, (const uint8_t *)"x", 1, t0 + 10000000000ULL, &res), 0);
	assert_int_equal(res.retries, 3);
	assert_int_equal(nreq(), 4);
	/* Retry-After: 1 was honoured, then 0, then a backoff of at least 0.5 s
	 * (the ceiling has grown past the first step by then) */
	assert_true(srv.req[1].at_ns - srv.req[0].at_ns >= 950000000ULL);
	assert_true(srv.req[2].at_ns - srv.req[1].at_ns < 500000000ULL);
	assert_true(srv.req[3].at_ns - srv.req[2].at_ns >= 450000000ULL);
	assert_true(now_ns() - t0 < 7000000000ULL);
	otlp_http_free(h);
}

/* A collector answering "Retry-After: 0" over and over cannot make the exporter spin. */
static void test_retry_after_zero_floor(void **state)
{
	char u[128];
	struct otlp_http *h;
	struct otlp_sender s;
	struct otlp_send_result res;
	uint64_t t0;

	(void)state;
	url(u, sizeof(u), srv.port, "/v1/traces");
	h = otlp_http_new(u, NULL, false);
	sender_init(&s, h);
	for (int i = 0; i < MAX_SCRIPT; i++)
		script(429, "0", 0);
	t0 = now_ns();
	/* pauses of 250, 250, 500, 1000 ms: at most 4 requests in 1.9 s, where all
	 * 8 scripted answers and the 200 after them would come without the floor */
	assert_int_equal(otlp_send(&s, (const uint8_t *)"x", 1, t0 + 1900000000ULL, &res),
			 -ETIMEDOUT);
	assert_in_range(nreq(), 3, 4);
	assert_true(srv.req[1].at_ns - srv.req[0].at_ns >= 240000000ULL);
	assert_true(now_ns() - t0 < 2500000000ULL);
	otlp_http_free(h);
}

/* A huge response body is cut off after OTLP_HTTP_READ_MAX bytes; the status counts. */
static void test_huge_body_cut(void **state)
{
	size_t big = 64 * 1024 * 1024;
	struct otlp_http_result r;
	uint8_t *body = malloc(big);
	struct otlp_http *h;
	char u[128];
	uint64_t t0;

	(void)state;
	assert_non_null(body);
	memset(body, 'z', big);
	url(u, sizeof(u), srv.port, "/v1/traces");
	h = otlp_http_new(u, NULL, false);
	assert_non_null(h);
	script_body(200, body, big);
	script_body(503, body, big);
	t0 = now_ns();
	assert_int_equal(otlp_http_post(h, (const uint8_t *)"x", 1, 5000, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	assert_true(r.body_cut);
	assert_int_equal(r.body_len, OTLP_HTTP_BODY_MAX);
	assert_int_equal(otlp_http_post(h, (const uint8_t *)"x", 1, 5000, NULL, &r), 0);
	assert_int_equal(r.status, 503);
	assert_true(r.body_cut);
	/* both well before the 5 s timeout: reading stopped at the cap */
	assert_true(now_ns() - t0 < 3000000000ULL);
	/* a normal answer on the same handle afterwards */
	assert_int_equal(otlp_http_post(h, (const uint8_t *)"x", 1, 5000, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	assert_false(r.body_cut);
	otlp_http_free(h);
	/* the server thread may still be sending: stop it before freeing the body */
	server_stop(NULL);
	free(body);
	memset(&srv, 0, sizeof(srv));
	assert_int_equal(server_start(NULL), 0);
}

/* Credentials in an endpoint URL never reach the log. */
static void test_url_redact(void **state)
{
	char out[128];

	(void)state;
	otlp_url_redact(out, sizeof(out), "https://user:s3cret@otel.example:4318/v1/traces");
	assert_string_equal(out, "https://***@otel.example:4318/v1/traces");
	otlp_url_redact(out, sizeof(out), "http://a@b@host/p?q=x@y");
	assert_string_equal(out, "http://***@host/p?q=x@y");
	otlp_url_redact(out, sizeof(out), "http://host:4318/v1/metrics?k=a@b");
	assert_string_equal(out, "http://host:4318/v1/metrics?k=a@b");
	otlp_url_redact(out, 12, "https://user:s3cret@h/");
	assert_string_equal(out, "https://***");
}

static void test_not_retried(void **state)
{
	char u[128];
	struct otlp_http *h;
	struct otlp_sender s;
	struct otlp_send_result res;

	(void)state;
	url(u, sizeof(u), srv.port, "/v1/traces");
	h = otlp_http_new(u, NULL, false);
	sender_init(&s, h);
	script(400, NULL, 0);
	assert_int_equal(otlp_send(&s, (const uint8_t *)"x", 1, now_ns() + 5000000000ULL, &res),
			 -EPROTO);
	assert_int_equal(res.status, 400);
	assert_int_equal(nreq(), 1);
	script(500, "1", 0); /* 500 is not retryable, Retry-After or not */
	script(401, NULL, 0);
	assert_int_equal(otlp_send(&s, (const uint8_t *)"x", 1, now_ns() + 5000000000ULL, &res),
			 -EPROTO);
	assert_int_equal(otlp_send(&s, (const uint8_t *)"x", 1, now_ns() + 5000000000ULL, &res),
			 -EPROTO);
	assert_int_equal(res.retries, 0);
	assert_int_equal(nreq(), 3);
	otlp_http_free(h);
}

static void test_refused_until_deadline(void **state)
{
	char u[128];
	struct otlp_http *h;
	struct otlp_sender s;
	struct otlp_send_result res;
	uint64_t t0 = now_ns();

	(void)state;
	url(u, sizeof(u), closed_port(), "/v1/traces");
	h = otlp_http_new(u, NULL, false);
	sender_init(&s, h);
	assert_int_equal(otlp_send(&s, (const uint8_t *)"x", 1, t0 + 2500000000ULL, &res),
			 -ETIMEDOUT);
	assert_int_equal(res.status, 0);
	assert_true(res.retries >= 1); /* connection failures are retried */
	assert_true(now_ns() - t0 < 3000000000ULL);
	otlp_http_free(h);
}

static void test_retry_after_past_deadline(void **state)
{
	char u[128];
	struct otlp_http *h;
	struct otlp_sender s;
	struct otlp_send_result res;
	uint64_t t0 = now_ns();

	(void)state;
	url(u, sizeof(u), srv.port, "/v1/traces");
	h = otlp_http_new(u, NULL, false);
	sender_init(&s, h);
	script(503, "30", 0);
	assert_int_equal(otlp_send(&s, (const uint8_t *)"x", 1, t0 + 2000000000ULL, &res),
			 -ETIMEDOUT);
	assert_int_equal(nreq(), 1); /* gave up at once instead of sleeping past the deadline */
	assert_true(now_ns() - t0 < 1000000000ULL);
	/* a slow collector: the request timeout is cut to the time left */
	script(200, NULL, 3000);
	t0 = now_ns();
	assert_int_equal(otlp_send(&s, (const uint8_t *)"x", 1, t0 + 700000000ULL, &res),
			 -ETIMEDOUT);
	assert_true(now_ns() - t0 < 1500000000ULL);
	otlp_http_free(h);
}

static void test_partial_success_read(void **state)
{
	Otlpb__ExportTraceServiceResponse resp = OTLPB__EXPORT_TRACE_SERVICE_RESPONSE__INIT;
	Otlpb__ExportTracePartialSuccess ps = OTLPB__EXPORT_TRACE_PARTIAL_SUCCESS__INIT;
	static uint8_t body[128];
	char u[128];
	struct otlp_http *h;
	struct otlp_sender s;
	struct otlp_send_result res;

	(void)state;
	ps.has_rejected_spans = true;
	ps.rejected_spans = 2;
	ps.error_message = "too old";
	resp.partial_success = &ps;
	pthread_mutex_lock(&srv.lock);
	srv.script[srv.nscript++] =
	    (struct answer){.status = 200,
			    .body = body,
			    .body_len = otlpb__export_trace_service_response__pack(&resp, body)};
	pthread_mutex_unlock(&srv.lock);
	url(u, sizeof(u), srv.port, "/v1/traces");
	h = otlp_http_new(u, NULL, false);
	sender_init(&s, h);
	assert_int_equal(otlp_send(&s, (const uint8_t *)"x", 1, now_ns() + 5000000000ULL, &res), 0);
	assert_int_equal(res.rejected, 2);
	otlp_http_free(h);
}

/* ---- the exporter ---- */

static void make_span(struct span *s, unsigned i)
{
	span_init(s);
	s->trace_id[0] = 1;
	s->trace_id[15] = (uint8_t)i;
	s->span_id[6] = (uint8_t)(i >> 8);
	s->span_id[7] = (uint8_t)i;
	s->pid = 1;
	s->kind = SPAN_KIND_SERVER;
	s->start_unix_ns = 1;
	s->end_unix_ns = 2;
	span_set(s, SPAN_NAME, "op");
	span_set(s, SPAN_SERVICE_NAME, "svc");
	span_attr_int(s, SC_SERVER_PORT, i);
}

static size_t spans_in(const struct request *r)
{
	Otlpb__ExportTraceServiceRequest *req =
	    otlpb__export_trace_service_request__unpack(NULL, r->len, r->body);
	size_t n = 0;

	assert_non_null(req);
	for (size_t i = 0; i < req->n_resource_spans; i++)
		for (size_t j = 0; j < req->resource_spans[i]->n_scope_spans; j++)
			n += req->resource_spans[i]->scope_spans[j]->n_spans;
	otlpb__export_trace_service_request__free_unpacked(req, NULL);
	return n;
}

static void wait_stats(struct otlp_exporter *e, struct otlp_stats *st, uint64_t want_done)
{
	for (int i = 0; i < 500; i++) {
		otlp_exporter_stats(e, st);
		if (st->spans_exported + st->spans_dropped >= want_done)
			return;
		sleep_ms(10);
	}
}

static void test_exporter_batches(void **state)
{
	struct otlp_config c;
	struct otlp_exporter *e;
	struct otlp_stats st;
	struct span s;

	(void)state;
	otlp_config_init(&c);
	url(c.traces_url, sizeof(c.traces_url), srv.port, "/v1/traces");
	c.batch_max_spans = 5;
	c.batch_delay_ms = 300;
	e = otlp_exporter_new(&c, NULL);
	assert_non_null(e);
	for (unsigned i = 0; i < 12; i++) {
		make_span(&s, i);
		otlp_export_span(e, &s);
	}
	wait_stats(e, &st, 12);
	assert_int_equal(st.spans_exported, 12);
	assert_int_equal(st.spans_dropped, 0);
	assert_int_equal(st.export_errors[OTLP_TRACES], 0);
	/* two full batches at once, the rest after the delay */
	assert_int_equal(nreq(), 3);
	assert_int_equal(spans_in(&srv.req[0]), 5);
	assert_int_equal(spans_in(&srv.req[1]), 5);
	assert_int_equal(spans_in(&srv.req[2]), 2);
	assert_true(srv.req[2].at_ns - srv.req[1].at_ns >= 250000000ULL);
	otlp_exporter_free(e, 1000);
}

static void test_exporter_flush_on_free(void **state)
{
	struct otlp_config c;
	struct otlp_exporter *e;
	struct span s;

	(void)state;
	otlp_config_init(&c);
	url(c.traces_url, sizeof(c.traces_url), srv.port, "/v1/traces");
	c.batch_delay_ms = 60000;
	c.batch_max_spans = 4;
	c.queue_max_spans = 100;
	e = otlp_exporter_new(&c, NULL);
	assert_non_null(e);
	script(503, "0", 0); /* the flush retries too */
	for (unsigned i = 0; i < 3; i++) {
		make_span(&s, i);
		otlp_export_span(e, &s);
	}
	sleep_ms(100);
	assert_int_equal(nreq(), 0); /* below the batch size, long delay: nothing sent yet */
	otlp_exporter_free(e, 3000);
	assert_int_equal(nreq(), 2);
	assert_int_equal(spans_in(&srv.req[1]), 3);
}

static void test_exporter_shutdown_bounded(void **state)
{
	struct otlp_config c;
	struct otlp_exporter *e;
	struct span s;
	uint64_t t0;

	(void)state;
	otlp_config_init(&c);
	url(c.traces_url, sizeof(c.traces_url), srv.port, "/v1/traces");
	c.batch_max_spans = 1;
	e = otlp_exporter_new(&c, NULL);
	assert_non_null(e);
	script(200, NULL, 5000); /* a collector that hangs */
	make_span(&s, 1);
	otlp_export_span(e, &s);
	sleep_ms(200);
	t0 = now_ns();
	otlp_exporter_free(e, 300);
	assert_true(now_ns() - t0 < 1500000000ULL);
}

static void test_exporter_down_drops_counted(void **state)
{
	struct otlp_config c;
	struct otlp_exporter *e;
	struct otlp_stats st;
	struct span s;

	(void)state;
	otlp_config_init(&c);
	url(c.traces_url, sizeof(c.traces_url), closed_port(), "/v1/traces");
	c.queue_max_spans = 8;
	c.batch_max_spans = 4;
	c.batch_delay_ms = 50;
	c.batch_export_timeout_ms = 1200; /* room for one retry (backoff 0.5 to 1 s) */
	e = otlp_exporter_new(&c, NULL);
	assert_non_null(e);
	for (unsigned i = 0; i < 100; i++) {
		make_span(&s, i);
		otlp_export_span(e, &s);
	}
	/* at most one batch out of the queue plus a full queue survive the burst */
	otlp_exporter_stats(e, &st);
	assert_true(st.spans_dropped >= 100 - 8 - 4);
	wait_stats(e, &st, 100);
	assert_int_equal(st.spans_exported, 0);
	assert_int_equal(st.spans_dropped, 100);
	assert_true(st.export_errors[OTLP_TRACES] >= 2);
	assert_true(st.retries >= 1);
	otlp_exporter_free(e, 0);
}

static void test_exporter_metrics(void **state)
{
	static const char *const labels[] = {"service_name"};
	const char *vals[] = {"svc"};
	struct metric_registry *reg = metric_registry_new();
	struct metric_family *f;
	struct otlp_config c;
	struct otlp_exporter *e;
	struct otlp_stats st;
	Otlpb__ExportMetricsServiceRequest *req;
	int n;

	(void)state;
	f = metric_family_new(reg, METRIC_COUNTER, "requests", NULL, NULL, labels, 1, NULL, 0, 0);
	metric_counter_add(metric_series_get(f, vals), 1);
	otlp_config_init(&c);
	url(c.metrics_url, sizeof(c.metrics_url), srv.port, "/v1/metrics");
	c.metric_interval_ms = 100;
	e = otlp_exporter_new(&c, reg);
	assert_non_null(e);
	otlp_export_span(e, NULL); /* traces are off: a no-op */
	for (int i = 0; i < 200; i++) {
		otlp_exporter_stats(e, &st);
		if (st.metrics_exports >= 2)
			break;
		sleep_ms(10);
	}
	assert_true(st.metrics_exports >= 2);
	metric_counter_add(metric_series_get(f, vals), 1);
	otlp_exporter_free(e, 2000); /* one last export with the final value */
	n = nreq();
	assert_true(n >= 3);
	assert_string_equal(srv.req[n - 1].path, "/v1/metrics");
	req = otlpb__export_metrics_service_request__unpack(NULL, srv.req[n - 1].len,
							    srv.req[n - 1].body);
	assert_non_null(req);
	assert_true(req->resource_metrics[0]
			->scope_metrics[0]
			->metrics[0]
			->sum->data_points[0]
			->as_double == 2);
	otlpb__export_metrics_service_request__free_unpacked(req, NULL);
	metric_registry_free(reg);
}

static void test_exporter_disabled(void **state)
{
	struct otlp_config c;
	struct otlp_exporter *e;
	struct otlp_stats st;
	struct span s;

	(void)state;
	otlp_config_init(&c);
	e = otlp_exporter_new(&c, NULL);
	assert_non_null(e);
	make_span(&s, 1);
	otlp_export_span(e, &s);
	otlp_exporter_stats(e, &st);
	assert_int_equal(st.spans_dropped + st.spans_exported, 0);
	otlp_exporter_free(e, 100);
	otlp_exporter_free(NULL, 100);
	otlp_export_span(NULL, &s);
	/* a URL libcurl refuses */
	strcpy(c.traces_url, "gopher://h/x");
	e = otlp_exporter_new(&c, NULL);
	assert_null(e);
	assert_int_equal(errno, EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_post_headers_gzip, server_start, server_stop),
	    cmocka_unit_test_setup_teardown(test_retry_after_then_success, server_start,
					    server_stop),
	    cmocka_unit_test_setup_teardown(test_retry_after_zero_floor, server_start, server_stop),
	    cmocka_unit_test_setup_teardown(test_huge_body_cut, server_start, server_stop),
	    cmocka_unit_test(test_url_redact),
	    cmocka_unit_test_setup_teardown(test_not_retried, server_start, server_stop),
	    cmocka_unit_test(test_refused_until_deadline),
	    cmocka_unit_test_setup_teardown(test_retry_after_past_deadline, server_start,
					    server_stop),
	    cmocka_unit_test_setup_teardown(test_partial_success_read, server_start, server_stop),
	    cmocka_unit_test_setup_teardown(test_exporter_batches, server_start, server_stop),
	    cmocka_unit_test_setup_teardown(test_exporter_flush_on_free, server_start, server_stop),
	    cmocka_unit_test_setup_teardown(test_exporter_shutdown_bounded, server_start,
					    server_stop),
	    cmocka_unit_test(test_exporter_down_drops_counted),
	    cmocka_unit_test_setup_teardown(test_exporter_metrics, server_start, server_stop),
	    cmocka_unit_test(test_exporter_disabled),
	};

	log_init(LOG_LVL_ERROR, false);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
