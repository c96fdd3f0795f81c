// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_httpmetrics.c - unit tests for the HTTP RED metrics (user/signals/httpmetrics.c)
 * recorded into a real registry (user/signals/metrics.c) and read back from the
 * Prometheus text that user/export/prom.c renders: family metadata, buckets, counts
 * and sums, the in-flight gauge, label values, the error.type rules applied
 * end to end through httptrack, server.address from the Host header or the
 * peer address, and the series cap.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "conntab.h"
#include "httpmetrics.h"
#include "httptrack.h"
#include "protocol.h"
#include "metrics.h"
#include "prom.h"
#include "promtext.h"
#include "semconv.h"

#define SERVER "http_server_request_duration_seconds"
#define CLIENT "http_client_request_duration_seconds"
#define ACTIVE "http_server_active_requests"
#define MS     1000000ull

struct fx {
	struct metric_registry *r;
	struct httpmetrics *m;
	char *text; /* last render */
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->r = metric_registry_new();
	assert_non_null(f->r);
	f->m = httpmetrics_new(f->r, 100);
	assert_non_null(f->m);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	httpmetrics_free(f->m);
	httpmetrics_free(NULL);
	metric_registry_free(f->r);
	free(f->text);
	free(f);
	return 0;
}

/* The registry as /metrics shows it after the event loop's drain (the
 * in-flight counts flushed). */
static const char *render_fmt(struct fx *f, enum prom_format fmt)
{
	httpmetrics_flush(f->m);
	return promtext_into(&f->text, f->r, fmt);
}

static const char *render(struct fx *f)
{
	return render_fmt(f, PROM_FMT_TEXT);
}

static char series_buf[1024];
static const char *scheme = "http"; /* the url_scheme the series helpers expect */

static const char *server_series(const char *suffix, const char *service, const char *method,
				 const char *status, const char *route, const char *err,
				 const char *le)
{
	int n =
	    snprintf(series_buf, sizeof(series_buf),
		     SERVER "%s{service_name=\"%s\",http_request_method=\"%s\","
			    "http_response_status_code=\"%s\",http_route=\"%s\",error_type=\"%s\","
			    "network_protocol_version=\"1.1\",url_scheme=\"%s\"",
		     suffix, service, method, status, route, err, scheme);

	snprintf(series_buf + n, sizeof(series_buf) - (size_t)n, le ? ",le=\"%s\"}" : "}", le);
	return series_buf;
}

static const char *client_series(const char *suffix, const char *service, const char *method,
				 const char *status, const char *route, const char *err,
				 const char *addr, const char *port)
{
	snprintf(series_buf, sizeof(series_buf),
		 CLIENT "%s{service_name=\"%s\",http_request_method=\"%s\","
			"http_response_status_code=\"%s\",http_route=\"%s\",error_type=\"%s\","
			"server_address=\"%s\",server_port=\"%s\",network_protocol_version=\"1.1\","
			"url_scheme=\"%s\"}",
		 suffix, service, method, status, route, err, addr, port, scheme);
	return series_buf;
}

static const char *active_series(const char *service, const char *method)
{
	snprintf(series_buf, sizeof(series_buf),
		 ACTIVE "{service_name=\"%s\",http_request_method=\"%s\",url_scheme=\"%s\"}",
		 service, method, scheme);
	return series_buf;
}

static struct http_exchange server_x(enum http1_method method, int status, const char *route,
				     uint64_t dur_ns)
{
	struct http_exchange x;

	memset(&x, 0, sizeof(x));
	x.server = true;
	x.tgid = 4242;
	x.method = method;
	x.status = status;
	x.start_ns = 5 * 1000 * MS;
	x.end_ns = x.start_ns + dur_ns;
	snprintf(x.route, sizeof(x.route), "%s", route);
	return x;
}

static void set_v4(struct conn *c, const char *ip, uint16_t port)
{
	struct rt_endpoint r = {.addr[10] = 0xff, .addr[11] = 0xff, .port = port};

	assert_int_equal(inet_pton(AF_INET, ip, r.addr + 12), 1);
	conn_set_endpoints(c, &c->local, &r, AF_INET);
}

static void set_v6(struct conn *c, const char *ip, uint16_t port)
{
	struct rt_endpoint r = {.port = port};

	assert_int_equal(inet_pton(AF_INET6, ip, r.addr), 1);
	conn_set_endpoints(c, &c->local, &r, AF_INET6);
}

/* ---- families ---- */

static void test_families_and_metadata(void **state)
{
	struct fx *f = *state;
	const struct metric_family *fam[8];
	static const double want[] = {0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25,
				      0.5,   0.75, 1,	  2.5,	5,     7.5, 10};
	const double *bounds;
	size_t nb, nl;
	const char *text;

	assert_int_equal(httpmetrics_families(f->m, fam, 8), 6);
	assert_string_equal(metric_family_name(fam[0]), SERVER);
	assert_string_equal(metric_family_name(fam[1]), CLIENT);
	assert_string_equal(metric_family_name(fam[2]), ACTIVE);
	assert_string_equal(metric_family_name(fam[3]), "rpc_server_duration_seconds");
	assert_string_equal(metric_family_name(fam[4]), "rpc_client_duration_seconds");
	assert_string_equal(metric_family_name(fam[5]), "grpc_server_handling_seconds");
	assert_int_equal(metric_family_type(fam[0]), METRIC_HISTOGRAM);
	assert_int_equal(metric_family_type(fam[2]), METRIC_GAUGE);
	assert_string_equal(metric_family_unit(fam[0]), "seconds");
	bounds = metric_family_bounds(fam[1], &nb);
	assert_int_equal(nb, 14);
	for (size_t i = 0; i < nb; i++)
		assert_true(bounds[i] == want[i]);
	/* the client's labels end with network_protocol_version (the
	 * Kubernetes ones, when present, come after it) */
	assert_string_equal(metric_family_label_names(fam[1], &nl)[7], "network_protocol_version");
	assert_true(nl >= 8);
	assert_int_equal(httpmetrics_families(f->m, fam, 2), 2);
	assert_int_equal(httpmetrics_families(f->m, fam, 0), 0);

	/* Nothing observed: metadata only. */
	text = render(f);
	assert_non_null(strstr(text, "# TYPE " SERVER " histogram\n"));
	assert_non_null(strstr(text, "# TYPE " CLIENT " histogram\n"));
	assert_non_null(strstr(text, "# TYPE " ACTIVE " gauge\n"));
	assert_null(strstr(text, "_bucket{"));

	/* A second set on the same registry collides. */
	assert_null(httpmetrics_new(f->r, 10));
}

/* ---- server histogram and gauge ---- */

/* A value of the series test_server_exchange_buckets records into. */
static double users_value(const char *text, const char *suffix, const char *le)
{
	return promtext_value(text,
			      server_series(suffix, "shop", "GET", "200", "/users/{id}", "", le));
}

static void test_server_exchange_buckets(void **state)
{
	struct fx *f = *state;
	struct http_exchange x = server_x(HTTP1_M_GET, 200, "/users/{id}", 30 * MS);
	const char *text;

	httpmetrics_start(f->m, &x, "shop");
	text = render(f);
	assert_true(promtext_value(text, active_series("shop", "GET")) == 1);
	assert_true(isnan(users_value(text, "_count", NULL)));
	httpmetrics_done(f->m, &x, "shop", false);
	text = render(f);
	assert_true(promtext_value(text, active_series("shop", "GET")) == 0);
	assert_true(users_value(text, "_bucket", "0.025") == 0);
	assert_true(users_value(text, "_bucket", "0.05") == 1);
	assert_true(users_value(text, "_bucket", "+Inf") == 1);
	assert_true(users_value(text, "_count", NULL) == 1);
	assert_true(fabs(users_value(text, "_sum", NULL) - 0.03) < 1e-12);

	/* Three more of 2 s, and one of 20 s (past the last bound). */
	x = server_x(HTTP1_M_GET, 200, "/users/{id}", 2000 * MS);
	for (int i = 0; i < 3; i++) {
		httpmetrics_start(f->m, &x, "shop");
		httpmetrics_done(f->m, &x, "shop", false);
	}
	x = server_x(HTTP1_M_GET, 200, "/users/{id}", 20000 * MS);
	httpmetrics_start(f->m, &x, "shop");
	httpmetrics_done(f->m, &x, "shop", false);
	text = render(f);
	assert_true(users_value(text, "_bucket", "1") == 1);
	assert_true(users_value(text, "_bucket", "2.5") == 4);
	assert_true(users_value(text, "_bucket", "10") == 4);
	assert_true(users_value(text, "_bucket", "+Inf") == 5);
	assert_true(users_value(text, "_count", NULL) == 5);
	assert_true(fabs(users_value(text, "_sum", NULL) - 26.03) < 1e-9);
	assert_true(promtext_value(text, active_series("shop", "GET")) == 0);
	/* Nothing went into the client family. */
	assert_null(strstr(text, CLIENT "_bucket{"));
}

static void test_gauge_per_service_and_method(void **state)
{
	struct fx *f = *state;
	/* one exchange per start, as httptrack hands them out */
	struct http_exchange get = server_x(HTTP1_M_GET, 200, "/", MS), get2 = get, get_b = get;
	struct http_exchange post = server_x(HTTP1_M_POST, 201, "/", MS);
	struct http_exchange other = server_x(HTTP1_M_OTHER, 200, "/", MS);
	const char *text;

	httpmetrics_start(f->m, &get, "a");
	httpmetrics_start(f->m, &get2, "a");
	httpmetrics_start(f->m, &post, "a");
	httpmetrics_start(f->m, &get_b, "b");
	httpmetrics_start(f->m, &other, "b");
	text = render(f);
	assert_true(promtext_value(text, active_series("a", "GET")) == 2);
	assert_true(promtext_value(text, active_series("a", "POST")) == 1);
	assert_true(promtext_value(text, active_series("b", "GET")) == 1);
	assert_true(promtext_value(text, active_series("b", "_OTHER")) == 1);
	httpmetrics_done(f->m, &get, "a", false);
	httpmetrics_done(f->m, &other, "b", false);
	text = render(f);
	assert_true(promtext_value(text, active_series("a", "GET")) == 1);
	assert_true(promtext_value(text, active_series("b", "_OTHER")) == 0);
	assert_true(promtext_value(
			text, server_series("_count", "b", "_OTHER", "200", "/", "", NULL)) == 1);
	/* The end takes the 1 back from the series its start added it to, even
	 * when the service name changed in between. */
	httpmetrics_done(f->m, &get2, "renamed", false);
	text = render(f);
	assert_true(promtext_value(text, active_series("a", "GET")) == 0);
	assert_true(isnan(promtext_value(text, active_series("renamed", "GET"))));
}

/* The gauge reaches the registry at a flush (the end of a drain); an
 * exchange the in-flight table cannot count (no process here) moves it at
 * once instead, and both kinds add up in the same series. */
static void test_gauge_flushed_or_direct(void **state)
{
	struct fx *f = *state;
	struct http_exchange counted = server_x(HTTP1_M_GET, 200, "/", MS), direct = counted;
	const char *text;

	direct.tgid = 0;
	httpmetrics_start(f->m, &counted, "mix");
	text = promtext_into(&f->text, f->r, PROM_FMT_TEXT); /* no flush */
	assert_true(isnan(promtext_value(text, active_series("mix", "GET"))));
	httpmetrics_start(f->m, &direct, "mix");
	text = promtext_into(&f->text, f->r, PROM_FMT_TEXT);
	assert_true(promtext_value(text, active_series("mix", "GET")) == 1);
	text = render(f);
	assert_true(promtext_value(text, active_series("mix", "GET")) == 2);
	httpmetrics_done(f->m, &direct, "mix", false);
	text = promtext_into(&f->text, f->r, PROM_FMT_TEXT);
	assert_true(promtext_value(text, active_series("mix", "GET")) == 1);
	httpmetrics_done(f->m, &counted, "mix", false);
	text = promtext_into(&f->text, f->r, PROM_FMT_TEXT);
	assert_true(promtext_value(text, active_series("mix", "GET")) == 1);
	text = render(f);
	assert_true(promtext_value(text, active_series("mix", "GET")) == 0);
}

/* ---- server.address ---- */

static void addr_of(const char *host, const struct conn *c, char *out, size_t outlen)
{
	struct http_exchange x;

	memset(&x, 0, sizeof(x));
	snprintf(x.host, sizeof(x.host), "%s", host);
	x.conn = c;
	httpmetrics_server_address(&x, out, outlen);
}

static void test_server_address_from_host(void **state)
{
	struct conn c;
	char out[HTTP1_HOST_MAX], small[5];

	(void)state;
	memset(&c, 0, sizeof(c));
	set_v4(&c, "10.9.8.7", 3128); /* e.g. a proxy: the Host header wins */
	addr_of("api.example.com:8080", &c, out, sizeof(out));
	assert_string_equal(out, "api.example.com");
	addr_of("api.example.com", &c, out, sizeof(out));
	assert_string_equal(out, "api.example.com");
	addr_of("192.168.1.5:80", &c, out, sizeof(out));
	assert_string_equal(out, "192.168.1.5");
	addr_of("[2001:db8::1]:8443", &c, out, sizeof(out));
	assert_string_equal(out, "2001:db8::1");
	addr_of("[::1]", &c, out, sizeof(out));
	assert_string_equal(out, "::1");
	addr_of("[fe80::1", &c, out, sizeof(out)); /* unbalanced: no overread */
	assert_string_equal(out, "fe80::1");
	addr_of("api.example.com:8080", NULL, out, sizeof(out));
	assert_string_equal(out, "api.example.com");
	/* Truncated to the buffer, always terminated. */
	memset(small, 'X', sizeof(small));
	addr_of("api.example.com", &c, small, sizeof(small));
	assert_string_equal(small, "api.");
	addr_of("[2001:db8::1]:8443", &c, small, sizeof(small));
	assert_string_equal(small, "2001");
}

static void test_server_address_from_peer(void **state)
{
	struct conn c;
	char out[HTTP1_HOST_MAX];

	(void)state;
	memset(&c, 0, sizeof(c));
	set_v4(&c, "10.1.2.3", 8080);
	addr_of("", &c, out, sizeof(out));
	assert_string_equal(out, "10.1.2.3");
	set_v6(&c, "2001:db8::5", 443);
	addr_of("", &c, out, sizeof(out));
	assert_string_equal(out, "2001:db8::5");
	set_v6(&c, "::1", 443);
	addr_of("", &c, out, sizeof(out));
	assert_string_equal(out, "::1");
	addr_of("", NULL, out, sizeof(out));
	assert_string_equal(out, "");
}

/*
 * A connection whose endpoints were never learnt (a socket older than the
 * agent) must not report the all-zero address "::" as its server.
 */
static void test_server_address_unknown_endpoints(void **state)
{
	struct conn c;
	char out[HTTP1_HOST_MAX];

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_false(c.has_endpoints);
	addr_of("", &c, out, sizeof(out));
	assert_string_equal(out, "");
}

static void test_client_labels_rendered(void **state)
{
	struct fx *f = *state;
	struct http_exchange x;
	struct conn c;
	const char *text;

	memset(&c, 0, sizeof(c));
	set_v4(&c, "10.1.2.3", 8080);
	memset(&x, 0, sizeof(x));
	x.method = HTTP1_M_PUT;
	x.status = 204;
	x.start_ns = 1000 * MS;
	x.end_ns = 1000 * MS + 7 * MS;
	snprintf(x.route, sizeof(x.route), "/v1/items/{id}");
	x.conn = &c;
	httpmetrics_done(f->m, &x, "svc", false);
	set_v6(&c, "2001:db8::7", 9000);
	snprintf(x.host, sizeof(x.host), "[2001:db8::7]:9000");
	httpmetrics_done(f->m, &x, "svc", false);
	httpmetrics_done(f->m, &x, "svc", false);
	text = render(f);
	assert_true(promtext_value(text, client_series("_count", "svc", "PUT", "204",
						       "/v1/items/{id}", "", "10.1.2.3", "8080")) ==
		    1);
	assert_true(
	    promtext_value(text, client_series("_count", "svc", "PUT", "204", "/v1/items/{id}", "",
					       "2001:db8::7", "9000")) == 2);
	/* A client exchange does not touch the server's in-flight gauge. */
	assert_null(strstr(text, ACTIVE "{"));
	assert_null(strstr(text, SERVER "_count{"));
}

static void test_label_escaping(void **state)
{
	struct fx *f = *state;
	struct http_exchange x;
	const char *text;

	memset(&x, 0, sizeof(x));
	x.method = HTTP1_M_GET;
	x.status = 200;
	snprintf(x.host, sizeof(x.host), "we\"ird\\host");
	snprintf(x.route, sizeof(x.route), "/");
	httpmetrics_done(f->m, &x, "s\"v\nc", false);
	text = render(f);
	assert_non_null(strstr(text, "service_name=\"s\\\"v\\nc\""));
	assert_non_null(strstr(text, "server_address=\"we\\\"ird\\\\host\""));
}

static void test_series_cap(void **state)
{
	struct fx *f = *state;
	struct metric_registry *r = metric_registry_new();
	struct httpmetrics *m = httpmetrics_new(r, 2);
	const struct metric_family *fam[3];
	static const char *const routes[] = {"/a", "/b", "/c", "/d"};
	char *text = NULL;
	size_t len;

	(void)f;
	assert_non_null(m);
	for (int i = 0; i < 4; i++) {
		struct http_exchange x = server_x(HTTP1_M_GET, 200, routes[i], MS);

		httpmetrics_done(m, &x, "svc", false);
	}
	httpmetrics_families(m, fam, 3);
	assert_int_equal(metric_family_series_count(fam[0]), 2);
	assert_int_equal(metric_family_overflow_total(fam[0]), 2);
	assert_int_equal(prom_render(r, PROM_FMT_TEXT, &text, &len), 0);
	assert_true(promtext_value(
			text, server_series("_count", "svc", "GET", "200", "/a", "", NULL)) == 1);
	assert_true(promtext_value(text, SERVER "_count{otel_metric_overflow=\"true\"}") == 2);
	assert_true(isnan(
	    promtext_value(text, server_series("_count", "svc", "GET", "200", "/c", "", NULL))));
	free(text);
	httpmetrics_free(m);
	metric_registry_free(r);
}

static void test_openmetrics_render(void **state)
{
	struct fx *f = *state;
	struct http_exchange x = server_x(HTTP1_M_DELETE, 500, "/x", 80 * MS);
	const char *text;
	size_t n;

	x.error_type = "500";
	httpmetrics_start(f->m, &x, "om");
	httpmetrics_done(f->m, &x, "om", false);
	text = render_fmt(f, PROM_FMT_OPENMETRICS);
	assert_non_null(strstr(text, "# UNIT " SERVER " seconds\n"));
	assert_true(promtext_value(text, server_series("_bucket", "om", "DELETE", "500", "/x",
						       "500", "0.1")) == 1);
	assert_true(promtext_value(text, server_series("_bucket", "om", "DELETE", "500", "/x",
						       "500", "1.0")) == 1);
	assert_true(promtext_value(text, server_series("_bucket", "om", "DELETE", "500", "/x",
						       "500", "0.075")) == 0);
	n = strlen(text);
	assert_true(n > 6 && !strcmp(text + n - 6, "# EOF\n"));
}

/* ---- error.type end to end: httptrack -> httpmetrics -> prom ---- */

struct e2e {
	struct fx *f;
	struct proto_set set; /* http1_protocol only */
	struct proto_sink sink;
	struct proto_env env;
	struct conntab *tab;
	struct rt_conn_id id;
};

static void e2e_start(void *ctx, struct http_exchange *x)
{
	struct e2e *e = ctx;

	httpmetrics_start(e->f->m, x, "shop");
}

static void e2e_done(void *ctx, const struct http_exchange *x)
{
	struct e2e *e = ctx;

	httpmetrics_done(e->f->m, x, "shop", false);
}

static void e2e_close(void *ctx, struct conn *c, uint64_t ts)
{
	struct e2e *e = ctx;

	proto_set_close(&e->set, c, ts);
}

static struct conn *e2e_feed(struct e2e *e, uint8_t dir, uint64_t ts, const char *s)
{
	struct proto_chunk ch = {
	    .data = (const uint8_t *)s,
	    .cap_len = strlen(s),
	    .len = strlen(s),
	    .ts = ts,
	    .tid = e->id.tgid + 1,
	    .dir = dir,
	};
	struct conn *c = conntab_get(e->tab, &e->id, true);

	assert_non_null(c);
	proto_set_feed(&e->set, c, &ch);
	return c;
}

static void exchange(struct e2e *e, uint8_t req_dir, uint64_t ts, const char *method, int status)
{
	char buf[128];

	snprintf(buf, sizeof(buf), "%s /orders/123 HTTP/1.1\r\nHost: api.internal:8080\r\n\r\n",
		 method);
	e2e_feed(e, req_dir, ts, buf);
	snprintf(buf, sizeof(buf), "HTTP/1.1 %d X\r\nContent-Length: 0\r\n\r\n", status);
	e2e_feed(e, !req_dir, ts + 20 * MS, buf);
}

static void test_error_type_rules_end_to_end(void **state)
{
	struct fx *f = *state;
	struct e2e e = {.f = f, .id = {.gen = 1, .tgid = 300, .fd = 4}};
	const char *text;
	struct conn *c;

	e.sink = (struct proto_sink){.http_start = e2e_start, .http_done = e2e_done, .ctx = &e};
	e.env = (struct proto_env){.sink = &e.sink};
	assert_int_equal(proto_set_add(&e.set, &http1_protocol, &e.env), 0);
	e.tab = conntab_new(8, e2e_close, &e);
	assert_non_null(e.tab);

	/* Server side: 5xx is an error, 4xx is not; a request cut by the close is. */
	exchange(&e, RT_DIR_INGRESS, 1000 * MS, "GET", 200);
	exchange(&e, RT_DIR_INGRESS, 2000 * MS, "GET", 404);
	exchange(&e, RT_DIR_INGRESS, 3000 * MS, "GET", 503);
	exchange(&e, RT_DIR_INGRESS, 3500 * MS, "GET", 503);
	e2e_feed(&e, RT_DIR_INGRESS, 4000 * MS,
		 "POST /orders HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
	text = render(f);
	assert_true(promtext_value(text, active_series("shop", "POST")) == 1);
	conntab_close(e.tab, &e.id, 4500 * MS);

	/* Client side: 4xx is an error too. */
	e.id.fd = 5;
	c = e2e_feed(&e, RT_DIR_EGRESS, 5000 * MS, "GET /ping HTTP/1.1\r\n\r\n");
	set_v4(c, "10.0.0.9", 8080);
	e2e_feed(&e, RT_DIR_INGRESS, 5001 * MS, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	exchange(&e, RT_DIR_EGRESS, 6000 * MS, "PUT", 404);
	exchange(&e, RT_DIR_EGRESS, 7000 * MS, "PUT", 500);
	exchange(&e, RT_DIR_EGRESS, 8000 * MS, "PUT", 302);
	e2e_feed(&e, RT_DIR_EGRESS, 9000 * MS,
		 "PUT /orders/9 HTTP/1.1\r\nHost: api.internal\r\n\r\n");
	conntab_close(e.tab, &e.id, 9100 * MS);

	text = render(f);
	assert_true(promtext_value(text, server_series("_count", "shop", "GET", "200",
						       "/orders/{id}", "", NULL)) == 1);
	/* a 404 on a path no --route names: no http_route (clients choose such paths) */
	assert_true(
	    promtext_value(text, server_series("_count", "shop", "GET", "404", "", "", NULL)) == 1);
	assert_true(isnan(promtext_value(
	    text, server_series("_count", "shop", "GET", "404", "/orders/{id}", "", NULL))));
	assert_true(promtext_value(text, server_series("_count", "shop", "GET", "503",
						       "/orders/{id}", "503", NULL)) == 2);
	assert_true(promtext_value(text, server_series("_count", "shop", "POST", "", "/orders",
						       "connection_closed", NULL)) == 1);
	assert_true(fabs(promtext_value(text, server_series("_sum", "shop", "POST", "", "/orders",
							    "connection_closed", NULL)) -
			 0.5) < 1e-9);
	assert_true(promtext_value(text, server_series("_bucket", "shop", "GET", "503",
						       "/orders/{id}", "503", "0.025")) == 2);
	/* Every started request ended. */
	assert_true(promtext_value(text, active_series("shop", "GET")) == 0);
	assert_true(promtext_value(text, active_series("shop", "POST")) == 0);

	/* Client series: no Host -> the peer's IP; Host -> its host part. */
	assert_true(promtext_value(text, client_series("_count", "shop", "GET", "200", "/ping", "",
						       "10.0.0.9", "8080")) == 1);
	assert_true(
	    promtext_value(text, client_series("_count", "shop", "PUT", "404", "/orders/{id}",
					       "404", "api.internal", "8080")) == 1);
	assert_true(
	    promtext_value(text, client_series("_count", "shop", "PUT", "500", "/orders/{id}",
					       "500", "api.internal", "8080")) == 1);
	assert_true(
	    promtext_value(text, client_series("_count", "shop", "PUT", "302", "/orders/{id}", "",
					       "api.internal", "8080")) == 1);
	assert_true(
	    promtext_value(text, client_series("_count", "shop", "PUT", "", "/orders/{id}",
					       "connection_closed", "api.internal", "8080")) == 1);
	assert_null(strstr(text, ACTIVE "{service_name=\"shop\",http_request_method=\"PUT\","));

	conntab_free(e.tab);
	proto_set_release(&e.set);
}

/* The exported span's ids go into the registry as they are (binary) and come
 * out as hex only in the OpenMetrics exemplar; the families carry their
 * semconv entries. */
static void test_exemplar_ids_and_semconv(void **state)
{
	static const uint8_t tid[16] = {0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6,
					0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36};
	static const uint8_t sid[8] = {0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7};
	struct fx *f = *state;
	struct http_exchange x = server_x(HTTP1_M_GET, 200, "/a", 30 * MS);
	const struct metric_family *fam[3];
	const char *text;

	assert_int_equal(httpmetrics_families(f->m, fam, 3), 3);
	assert_ptr_equal(metric_family_semconv(fam[0]), &semconv_http_server_request_duration);
	assert_ptr_equal(metric_family_semconv(fam[1]), &semconv_http_client_request_duration);
	assert_ptr_equal(metric_family_semconv(fam[2]), &semconv_http_server_active_requests);
	memcpy(x.trace.trace_id, tid, sizeof(tid));
	memcpy(x.trace.span_id, sid, sizeof(sid));
	x.trace.valid = true;
	httpmetrics_done(f->m, &x, "shop", false); /* not exported: no exemplar */
	text = render_fmt(f, PROM_FMT_OPENMETRICS);
	assert_null(strstr(text, "trace_id"));
	httpmetrics_done(f->m, &x, "shop", true);
	text = render_fmt(f, PROM_FMT_OPENMETRICS);
	assert_non_null(strstr(text,
			       "le=\"0.05\"} 2 # {trace_id=\"4bf92f3577b34da6a3ce929d0e0e4736\","
			       "span_id=\"00f067aa0ba902b7\"} 0.03 "));
}

/* gRPC calls go to the RPC families and go-grpc-prometheus' view, not the
 * HTTP ones; an undecoded status is not labelled; a server's UNIMPLEMENTED
 * is "_OTHER". HTTP/2 exchanges carry network_protocol_version="2". */
static void test_grpc_and_http2(void **state)
{
	struct fx *f = *state;
	struct http_exchange x = server_x(HTTP1_M_POST, 200, "/shop.v1.Catalog/Get", 30 * MS);
	struct conn c;
	const char *text;

	x.version = HTTP_V2;
	x.grpc = true;
	x.grpc_status = 14;
	x.grpc_type = 2; /* GRPC_SERVER_STREAM */
	x.error_type = "UNAVAILABLE";
	snprintf(x.path, sizeof(x.path), "/shop.v1.Catalog/Get");
	httpmetrics_start(f->m, &x, "shop");
	httpmetrics_done(f->m, &x, "shop", false);
	x.grpc_status = 12;
	x.error_type = "UNIMPLEMENTED";
	httpmetrics_done(f->m, &x, "shop", false);
	x.grpc_status = -1; /* trailers not decoded */
	x.error_type = NULL;
	httpmetrics_done(f->m, &x, "shop", false);
	memset(&c, 0, sizeof(c));
	set_v4(&c, "10.0.0.9", 50051);
	x.conn = &c;
	x.server = false;
	x.grpc_status = 0;
	httpmetrics_done(f->m, &x, "web", false);
	x = server_x(HTTP1_M_GET, 200, "/a", 10 * MS);
	x.version = HTTP_V2;
	httpmetrics_done(f->m, &x, "shop", false);
	text = render(f);
	assert_null(strstr(text, ACTIVE "{service_name=\"shop\",http_request_method=\"POST\","));
	assert_true(promtext_value(
			text, "rpc_server_duration_seconds_count{service_name=\"shop\","
			      "rpc_system=\"grpc\",rpc_service=\"shop.v1.Catalog\","
			      "rpc_method=\"Get\",rpc_grpc_status_code=\"14\","
			      "error_type=\"UNAVAILABLE\",network_protocol_version=\"2\"}") == 1);
	assert_true(promtext_value(
			text, "rpc_server_duration_seconds_count{service_name=\"shop\","
			      "rpc_system=\"grpc\",rpc_service=\"_OTHER\","
			      "rpc_method=\"_OTHER\",rpc_grpc_status_code=\"12\","
			      "error_type=\"UNIMPLEMENTED\",network_protocol_version=\"2\"}") == 1);
	assert_true(promtext_value(text,
				   "grpc_server_handling_seconds_count{service_name=\"shop\","
				   "grpc_type=\"server_stream\",grpc_service=\"shop.v1.Catalog\","
				   "grpc_method=\"Get\",grpc_code=\"UNAVAILABLE\"}") == 1);
	assert_true(promtext_value(
			text, "grpc_server_handling_seconds_bucket{service_name=\"shop\","
			      "grpc_type=\"server_stream\",grpc_service=\"shop.v1.Catalog\","
			      "grpc_method=\"Get\",grpc_code=\"UNAVAILABLE\",le=\"0.05\"}") == 1);
	assert_true(promtext_value(text,
				   "rpc_client_duration_seconds_count{service_name=\"web\","
				   "rpc_system=\"grpc\",rpc_service=\"shop.v1.Catalog\","
				   "rpc_method=\"Get\",rpc_grpc_status_code=\"0\",error_type=\"\","
				   "server_address=\"10.0.0.9\",server_port=\"50051\","
				   "network_protocol_version=\"2\"}") == 1);
	assert_null(strstr(text, "rpc_grpc_status_code=\"\""));
	assert_null(strstr(text, "http_route=\"/shop.v1.Catalog/Get\""));
	assert_true(promtext_value(text, SERVER
				   "_count{service_name=\"shop\",http_request_method=\"GET\","
				   "http_response_status_code=\"200\",http_route=\"/a\","
				   "error_type=\"\",network_protocol_version=\"2\","
				   "url_scheme=\"http\"}") == 1);
}

/* url.scheme: "https" on every HTTP family when the connection's bytes came
 * from the TLS probes (conn->tls, set by the pipeline from RT_DATA_F_TLS),
 * "http" otherwise; the gauge goes up and down in the same series. */
static void test_url_scheme(void **state)
{
	struct fx *f = *state;
	struct http_exchange x = server_x(HTTP1_M_GET, 200, "/s", 20 * MS);
	struct conn c;
	const char *text;

	memset(&c, 0, sizeof(c));
	set_v4(&c, "10.0.0.7", 443);
	c.tls = 1;
	x.conn = &c;
	httpmetrics_start(f->m, &x, "tls");
	scheme = "https";
	text = render(f);
	assert_true(promtext_value(text, active_series("tls", "GET")) == 1);
	httpmetrics_done(f->m, &x, "tls", false);
	x.server = false;
	httpmetrics_done(f->m, &x, "tls", false);
	c.tls = 0; /* the same exchanges in clear */
	httpmetrics_done(f->m, &x, "tls", false);
	x.server = true;
	httpmetrics_start(f->m, &x, "tls");
	httpmetrics_done(f->m, &x, "tls", false);
	text = render(f);
	assert_true(promtext_value(text, active_series("tls", "GET")) == 0);
	assert_true(promtext_value(
			text, server_series("_count", "tls", "GET", "200", "/s", "", NULL)) == 1);
	assert_true(promtext_value(text, client_series("_count", "tls", "GET", "200", "/s", "",
						       "10.0.0.7", "443")) == 1);
	scheme = "http";
	assert_true(promtext_value(text, active_series("tls", "GET")) == 0);
	assert_true(promtext_value(
			text, server_series("_count", "tls", "GET", "200", "/s", "", NULL)) == 1);
	assert_true(promtext_value(text, client_series("_count", "tls", "GET", "200", "/s", "",
						       "10.0.0.7", "443")) == 1);
	assert_string_equal(httpmetrics_url_scheme(&x), "http");
	x.conn = NULL;
	assert_string_equal(httpmetrics_url_scheme(&x), "http");
}

/*
 * Exchanges of many label sets, interleaved (the memos of recent series
 * collide and are replaced), with series expiring in between: every
 * exchange is counted in its own series, and a series that expired starts
 * again from zero (a memo never finds the freed one).
 */
static void test_memo_counts(void **state)
{
	static const char *const svcs[] = {"shop", "shop2"};
	static const enum http1_method methods[] = {HTTP1_M_GET, HTTP1_M_POST, HTTP1_M_OTHER};
	static const char *const mnames[] = {"GET", "POST", "_OTHER"};
	static const int statuses[] = {200, 503};
	static const char *const routes[] = {
	    "/a", "/api/users/{id}", "/api/items/{id}", "/api/users/{id}/x",
	    /* the same length, first and last 8 bytes: the memos' fingerprint */
	    "/api/v1/aaaa/x/orders", "/api/v1/bbbb/x/orders"};
	enum { NS = 2, NM = 3, NST = 2, NR = 6, N = NS * NM * NST * NR }; /* under the cap */
	struct fx *f = *state;
	unsigned want[N] = {0}, seq = 12345;
	char status[8];
	double v;

	metric_registry_set_ttl(f->r, 300 * 1000 * MS);
	assert_int_equal(metric_registry_expire(f->r, 1000 * 1000 * MS), 0);
	for (int round = 0; round < 3; round++) {
		for (int n = 0; n < 4000; n++) {
			unsigned i, k;
			struct http_exchange x;

			seq = seq * 1103515245u + 12345u;
			/* the first round's last combinations are left out: they expire */
			i = (seq >> 8) % (round ? (unsigned)N : (unsigned)N - 20);
			k = i;
			x = server_x(methods[(k / NR / NST) % NM], statuses[(k / NR) % NST],
				     routes[k % NR], MS);
			if (statuses[(k / NR) % NST] >= 500)
				x.error_type = "503";
			httpmetrics_start(f->m, &x, svcs[k / NR / NST / NM]);
			httpmetrics_done(f->m, &x, svcs[k / NR / NST / NM], false);
			want[i]++;
		}
		if (round == 0) {
			/* all idle for the TTL: everything goes, the memos are void */
			assert_true(metric_registry_expire(f->r, 1400 * 1000 * MS) > 0);
			memset(want, 0, sizeof(want));
		}
	}
	/* three requests in flight: +1 each (recalled after the first), then back to 0 */
	{
		struct http_exchange held[3];

		for (int k = 0; k < 3; k++) {
			held[k] = server_x(HTTP1_M_POST, 200, "/a", MS);
			httpmetrics_start(f->m, &held[k], "shop2");
		}
		render(f);
		assert_true(promtext_value(f->text, active_series("shop2", "POST")) == 3);
		for (int k = 0; k < 3; k++)
			httpmetrics_done(f->m, &held[k], "shop2", false);
		want[1 * NM * NST * NR + 1 * NST * NR + 0 * NR + 0] += 3; /* shop2 POST 200 /a */
	}
	render(f);
	assert_true(promtext_value(f->text, active_series("shop2", "POST")) == 0);
	for (unsigned i = 0; i < N; i++) {
		const char *route = routes[i % NR];
		int st = statuses[(i / NR) % NST];

		snprintf(status, sizeof(status), "%d", st);
		v = promtext_value(f->text, server_series("_count", svcs[i / NR / NST / NM],
							  mnames[(i / NR / NST) % NM], status,
							  route, st >= 500 ? "503" : "", NULL));
		if (want[i])
			assert_true(v == want[i]);
		else
			assert_true(isnan(v)); /* expired, not seen since */
	}
}

/* Whether attribute a's label is one a memo key determines, by its
 * OpenTelemetry key: the method, status code, protocol version and scheme. */
static bool keyed_by_name(enum semconv_attr a)
{
	static const char *const keyed[] = {"http.request.method", "http.response.status_code",
					    "network.protocol.version", "url.scheme"};

	for (size_t i = 0; i < sizeof(keyed) / sizeof(keyed[0]); i++)
		if (!strcmp(semconv_key(a), keyed[i]))
			return true;
	return false;
}

/*
 * The labels a memo vouches for (not compared on a recall) are exactly those
 * of the family's label list whose attributes its key determines: a mask
 * that disagrees with the list (a label order changed under a mask spelled
 * by position) fails here.
 */
static void test_memo_keyed_by_attribute(void **state)
{
	static const struct semconv_metric *const entries[] = {
	    &semconv_http_server_request_duration, &semconv_http_client_request_duration,
	    &semconv_http_server_active_requests};
	struct fx *f = *state;
	const struct metric_family *fams[6];

	assert_int_equal(httpmetrics_families(f->m, fams, 6), 6);
	for (size_t e = 0; e < 3; e++) {
		const struct semconv_metric *sc = entries[e];
		uint64_t mask = httpmetrics_memo_keyed(f->m, fams[e]), want = 0;

		assert_ptr_equal(metric_family_semconv(fams[e]), sc);
		assert_true(sc->nattrs <= 64);
		for (size_t i = 0; i < sc->nattrs; i++)
			if (keyed_by_name(sc->attrs[i]))
				want |= 1ull << i;
		if (mask != want)
			fail_msg("%s: memo mask %#llx, label list wants %#llx", sc->name,
				 (unsigned long long)mask, (unsigned long long)want);
		/* the method and the scheme are keyed in all three */
		assert_int_equal(__builtin_popcountll(mask), e == 2 ? 2 : 4);
	}
	for (size_t e = 3; e < 6; e++)
		assert_int_equal(httpmetrics_memo_keyed(f->m, fams[e]), 0);
}

/*
 * Two exchanges of one memo key (method, status, version, scheme), process
 * and route fingerprint that differ in one other label, alternated: each
 * lands in its own series (a memo never vouches for a label its key does
 * not determine). One label per process, so that no other pair's memo is
 * tried first.
 */
enum { VARY_SERVICE, VARY_ROUTE, VARY_ERROR, VARY_HOST, VARY_PORT, VARY_N };

static void vary(struct http_exchange *x, struct conn *c, const char **svc, int what, int which)
{
	/* the same length, first and last 8 bytes: the memos' fingerprint */
	static const char *const routes[] = {"/api/v1/aaaa/x/orders", "/api/v1/bbbb/x/orders"};
	static const char *const svcs[] = {"s0", "s1", "s2", "s3", "s4"}; /* a series each */

	*x = server_x(HTTP1_M_GET, 200, routes[what == VARY_ROUTE && which], MS);
	x->tgid = 100 + (uint32_t)what;
	x->error_type = what == VARY_ERROR && which ? "E" : NULL;
	*svc = what == VARY_SERVICE && which ? "other" : svcs[what];
	set_v4(c, "10.0.0.9", what == VARY_PORT && which ? 8081 : 8080);
	snprintf(x->host, sizeof(x->host), "%s", what == VARY_HOST && which ? "h2" : "h1");
	x->conn = c;
}

static void test_memo_compares_unkeyed_labels(void **state)
{
	struct fx *f = *state;
	struct http_exchange x;
	struct conn c;
	const char *text, *svc;

	memset(&c, 0, sizeof(c));
	for (int what = 0; what < VARY_N; what++) {
		for (int n = 0; n < 6; n++) {
			vary(&x, &c, &svc, what, n & 1);
			if (what < VARY_HOST) { /* labels of both families */
				httpmetrics_start(f->m, &x, svc);
				httpmetrics_done(f->m, &x, svc, false);
			}
			x.server = false;
			httpmetrics_done(f->m, &x, svc, false);
		}
	}
	text = render(f);
	for (int what = 0; what < VARY_N; what++) {
		for (int which = 0; which < 2; which++) {
			char port[8];

			vary(&x, &c, &svc, what, which);
			snprintf(port, sizeof(port), "%u", c.remote.port);
			assert_true(
			    promtext_value(text, client_series("_count", svc, "GET", "200", x.route,
							       x.error_type ? "E" : "", x.host,
							       port)) == 3);
			if (what < VARY_HOST)
				assert_true(
				    promtext_value(
					text, server_series("_count", svc, "GET", "200", x.route,
							    x.error_type ? "E" : "", NULL)) == 3);
		}
	}
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_families_and_metadata),
	    T(test_server_exchange_buckets),
	    T(test_gauge_per_service_and_method),
	    T(test_gauge_flushed_or_direct),
	    T(test_server_address_from_host),
	    T(test_server_address_from_peer),
	    T(test_server_address_unknown_endpoints),
	    T(test_client_labels_rendered),
	    T(test_label_escaping),
	    T(test_series_cap),
	    T(test_openmetrics_render),
	    T(test_error_type_rules_end_to_end),
	    T(test_exemplar_ids_and_semconv),
	    T(test_grpc_and_http2),
	    T(test_url_scheme),
	    T(test_memo_counts),
	    T(test_memo_keyed_by_attribute),
	    T(test_memo_compares_unkeyed_labels),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
