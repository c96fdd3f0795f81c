// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * httpmetrics.c - records HTTP exchanges into the semconv RED histograms
 * and the in-flight gauge (declared in semconv.c; label values are passed
 * in the order of the entries' attribute lists). See httpmetrics.h.
 *
 * The series of the HTTP families are found again through small tables of
 * memos (seriesmemo.h), indexed by the exchange's method, status, version,
 * scheme, process and route: a memo whose key (the method, status, version
 * and scheme, from which their labels are derived) is the exchange's has
 * only its other labels compared (metric_series_recall()), with no hash of
 * all 15 values. A memo never dangles: the registry voids it when the
 * family removes a series. The in-flight gauge is counted in inflight.h's
 * table and applied by httpmetrics_flush(), once a drain.
 */
#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http2.h"
#include "httpmetrics.h"
#include "inflight.h"
#include "reqlabels.h"
#include "semconv.h"
#include "seriesmemo.h"
#include "strfmt.h"

#define MEMO_SLOTS 128 /* a power of two, SERIESMEMO_WAYS or more */

struct httpmetrics {
	struct metric_family *server;
	struct metric_family *client;
	struct metric_family *active;
	struct metric_family *rpc_server; /* gRPC calls, instead of the HTTP families */
	struct metric_family *rpc_client;
	struct metric_family *grpc_handling; /* grpc_server_handling_seconds */
	const struct route_table *routes;    /* borrowed */
	struct seriesmemo_slot server_memo[MEMO_SLOTS];
	struct seriesmemo_slot client_memo[MEMO_SLOTS];
	struct seriesmemo_slot active_memo[MEMO_SLOTS / 8];
	unsigned memo_victim;	   /* rotates over the ways */
	struct inflight *inflight; /* the gauge's counts, applied by httpmetrics_flush() */
	/* the label positions memo keys stand for (memo_keyed[] in each
	 * family's label list): the check masks of the recalls are ~these */
	uint64_t server_keyed, client_keyed, active_keyed;
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* The attributes whose labels memo_key() determines, named by attribute:
 * their positions in each family's label list (semconv.c) are found once,
 * at httpmetrics_new(), so a new order of the list cannot make a memo vouch
 * for a label its key does not determine. A family without one of them
 * (the gauge has no status or version) simply has no bit for it. */
static const enum semconv_attr memo_keyed[] = {SC_HTTP_REQUEST_METHOD, SC_HTTP_RESPONSE_STATUS_CODE,
					       SC_NETWORK_PROTOCOL_VERSION, SC_URL_SCHEME};

/* What the keyed labels are derived from; status 0 for the active gauge. */
static uint64_t memo_key_of(uint8_t method, int status, uint8_t version, bool tls)
{
	return (uint64_t)method | (uint64_t)(uint32_t)status << 16 | (uint64_t)version << 48 |
	       (uint64_t)tls << 56 | 1ull << 63;
}

/* x's method as one byte (named "_OTHER" beyond the known ones either way). */
static uint8_t method_of(const struct http_exchange *x)
{
	return x->method <= 0xff ? (uint8_t)x->method : HTTP1_M_OTHER;
}

/* Whether x's bytes came from the TLS probes (url.scheme "https"). */
static bool on_tls(const struct http_exchange *x)
{
	return x->conn && x->conn->tls;
}

static uint64_t memo_key(const struct http_exchange *x, int status)
{
	return memo_key_of(method_of(x), status, x->version, on_tls(x));
}

struct httpmetrics *httpmetrics_new(struct metric_registry *r, size_t max_series)
{
	struct httpmetrics *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->server = semconv_family_new(r, &semconv_http_server_request_duration, max_series);
	m->client = semconv_family_new(r, &semconv_http_client_request_duration, max_series);
	m->active = semconv_family_new(r, &semconv_http_server_active_requests, max_series);
	m->rpc_server = semconv_family_new(r, &semconv_rpc_server_duration, max_series);
	m->rpc_client = semconv_family_new(r, &semconv_rpc_client_duration, max_series);
	m->grpc_handling = semconv_family_new(r, &semconv_grpc_server_handling, max_series);
	m->inflight = inflight_new();
	if (!m->server || !m->client || !m->active || !m->rpc_server || !m->rpc_client ||
	    !m->grpc_handling || !m->inflight) {
		httpmetrics_free(m);
		return NULL;
	}
	m->server_keyed =
	    semconv_attr_mask(&semconv_http_server_request_duration, memo_keyed, NELEM(memo_keyed));
	m->client_keyed =
	    semconv_attr_mask(&semconv_http_client_request_duration, memo_keyed, NELEM(memo_keyed));
	m->active_keyed =
	    semconv_attr_mask(&semconv_http_server_active_requests, memo_keyed, NELEM(memo_keyed));
	return m;
}

uint64_t httpmetrics_memo_keyed(const struct httpmetrics *m, const struct metric_family *f)
{
	if (f == m->server)
		return m->server_keyed;
	if (f == m->client)
		return m->client_keyed;
	return f == m->active ? m->active_keyed : 0;
}

void httpmetrics_set_routes(struct httpmetrics *m, const struct route_table *routes)
{
	m->routes = routes;
}

/* The http_route label: none for a 404 on a path no configured route names. */
static const char *route_label(const struct httpmetrics *m, const struct http_exchange *x)
{
	if (x->status == 404 && !route_table_has(m->routes, x->route))
		return "";
	return x->route;
}

void httpmetrics_free(struct httpmetrics *m)
{
	if (!m)
		return;
	inflight_free(m->inflight);
	free(m);
}

void httpmetrics_server_address(const struct http_exchange *x, char *out, size_t outlen)
{
	const char *h = x->host;
	size_t n;

	if (h[0]) {
		/* Host: name[:port] or [v6]:port */
		if (h[0] == '[') {
			const char *close = strchr(h, ']');

			n = close ? (size_t)(close - h - 1) : strlen(h + 1);
			str_copy_n(out, outlen, h + 1, n);
			return;
		}
		n = strcspn(h, ":");
		str_copy_n(out, outlen, h, n);
		return;
	}
	str_copy(out, outlen, x->conn ? conn_remote_ip(x->conn) : "");
}

static const char *scheme_name(bool tls)
{
	return tls ? "https" : "http";
}

const char *httpmetrics_url_scheme(const struct http_exchange *x)
{
	return scheme_name(on_tls(x));
}

/* The in-flight gauge's series of these labels, through the memos. */
static struct metric_series *active_series(struct httpmetrics *m, uint32_t tgid,
					   const char *service, uint8_t method, bool tls,
					   double *update)
{
	const char *labels[] = {service, http1_method_name(method), scheme_name(tls)};

	return seriesmemo_get(m->active_memo, NELEM(m->active_memo), &m->memo_victim, m->active,
			      labels, NELEM(labels), tgid, memo_key_of(method, 0, HTTP_V1, tls), "",
			      m->active_keyed, update);
}

void httpmetrics_start(struct httpmetrics *m, struct http_exchange *x, const char *service)
{
	uint8_t method = method_of(x);
	bool tls = on_tls(x);
	struct metric_series *s;
	double one = 1;

	if (!x->server || x->grpc || inflight_start(m->inflight, x, service, method, tls))
		return;
	/* not counted by the table (its set full, no process): the gauge at
	 * once, as a flush would */
	s = active_series(m, x->tgid, service, method, tls, &one);
	if (s && !isnan(one))
		metric_gauge_add(s, one); /* not added with the recall */
	x->inflight = s;
}

static struct metric_series *inflight_find(void *ctx, const struct inflight_key *k)
{
	return active_series(ctx, k->tgid, k->service, k->method, k->tls, NULL);
}

void httpmetrics_flush(struct httpmetrics *m)
{
	inflight_flush(m->inflight, inflight_find, m);
}

/* Whether an observation of x carries an exemplar (observe()). */
static bool exemplar_wanted(const struct http_exchange *x, bool exemplar)
{
	return exemplar && x->trace.valid;
}

static void observe(struct metric_series *s, const struct http_exchange *x, double secs,
		    bool exemplar)
{
	struct timespec now;

	if (!s)
		return;
	if (!exemplar_wanted(x, exemplar)) {
		metric_histogram_observe(s, secs);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	metric_histogram_observe_exemplar(s, secs, x->trace.trace_id, x->trace.span_id,
					  (double)now.tv_sec + (double)now.tv_nsec / 1e9);
}

/* A gRPC call: the RPC conventions' family and go-grpc-prometheus' view.
 * A call whose grpc-status could not be decoded (a header block that
 * needed an unknown HPACK entry) is not labelled with a guess: it only
 * counts as a parse error. A server's UNIMPLEMENTED names no method the
 * server has: the client chose the name, so it is "_OTHER". */
static void rpc_done(struct httpmetrics *m, const struct http_exchange *x, const char *service,
		     double secs, bool exemplar)
{
	char svc[HTTP1_PATH_MAX], meth[HTTP1_PATH_MAX], code[8] = "", addr[HTTP1_HOST_MAX],
							port[8] = "";
	const char *err = x->error_type ? x->error_type : "";
	const char *ver = http_version_name(x->version);

	if (x->grpc_status < 0 && !x->error_type)
		return;
	if (!grpc_split_path(x->path, svc, sizeof(svc), meth, sizeof(meth)) ||
	    (x->server && x->grpc_status == 12 /* UNIMPLEMENTED */)) {
		snprintf(svc, sizeof(svc), "_OTHER");
		snprintf(meth, sizeof(meth), "_OTHER");
	}
	if (x->grpc_status >= 0)
		str_int8(code, x->grpc_status);
	if (x->server) {
		const char *labels[] = {service, "grpc", svc, meth, code, err, ver};
		const char *glabels[] = {service, grpc_type_name(x->grpc_type), svc, meth,
					 grpc_code_name(x->grpc_status)};

		observe(metric_series_get(m->rpc_server, labels), x, secs, exemplar);
		/* go-grpc-prometheus counts what the handler returned: a code */
		if (x->grpc_status >= 0)
			observe(metric_series_get(m->grpc_handling, glabels), x, secs, false);
		return;
	}
	httpmetrics_server_address(x, addr, sizeof(addr));
	if (x->conn && x->conn->has_endpoints && x->conn->remote.port)
		str_int8(port, x->conn->remote.port);
	{
		const char *labels[] = {service, "grpc", svc, meth, code, err, addr, port, ver};

		observe(metric_series_get(m->rpc_client, labels), x, secs, exemplar);
	}
}

void httpmetrics_done(struct httpmetrics *m, const struct http_exchange *x, const char *service,
		      bool exemplar)
{
	char status[8] = "", addr[HTTP1_HOST_MAX], port[8] = "";
	const char *method = http1_method_name(x->method);
	const char *err = x->error_type ? x->error_type : "";
	double secs = (double)(x->end_ns - x->start_ns) / 1e9;
	const char *ver = http_version_name(x->version);
	const char *scheme = httpmetrics_url_scheme(x);
	char rl[REQLABELS_MAX][REQLABELS_VALUE];
	const char *r[REQLABELS_MAX];
	struct metric_series *s;
	double v = secs;

	/* the slot that counted the start, or the series the start added 1
	 * to: no second look-up, and the gauge returns to zero even if the
	 * labels (or gRPC) changed in between */
	if (x->server && !inflight_done(m->inflight, x) && x->inflight)
		metric_gauge_add(x->inflight, -1);
	if (x->grpc) {
		rpc_done(m, x, service, secs, exemplar);
		return;
	}
	reqlabels_values(x, rl, r); /* the bounded request labels, traces.attribute_labels */
	if (x->status)
		str_int8(status, x->status);
	if (x->server) {
		const char *labels[] = {service, method, status, route_label(m, x),
					err,	 ver,	 scheme, r[0],
					r[1],	 r[2],	 r[3]};

		s = seriesmemo_get(m->server_memo, MEMO_SLOTS, &m->memo_victim, m->server, labels,
				   NELEM(labels), x->tgid, memo_key(x, x->status), labels[3],
				   m->server_keyed, exemplar_wanted(x, exemplar) ? NULL : &v);
		if (!isnan(v))
			observe(s, x, v, exemplar); /* not observed with the recall */
		return;
	}
	httpmetrics_server_address(x, addr, sizeof(addr));
	if (x->conn && x->conn->has_endpoints && x->conn->remote.port)
		str_int8(port, x->conn->remote.port);
	{
		const char *labels[] = {service, method, status, x->route, err,	 addr, port,
					ver,	 scheme, r[0],	 r[1],	   r[2], r[3]};

		s = seriesmemo_get(m->client_memo, MEMO_SLOTS, &m->memo_victim, m->client, labels,
				   NELEM(labels), x->tgid, memo_key(x, x->status), x->route,
				   m->client_keyed, exemplar_wanted(x, exemplar) ? NULL : &v);
		if (!isnan(v))
			observe(s, x, v, exemplar); /* not observed with the recall */
	}
}

size_t httpmetrics_families(const struct httpmetrics *m, const struct metric_family **out,
			    size_t max)
{
	const struct metric_family *all[] = {m->server,	    m->client,	   m->active,
					     m->rpc_server, m->rpc_client, m->grpc_handling};
	size_t n = 0;

	for (; n < NELEM(all) && n < max; n++)
		out[n] = all[n];
	return n;
}
