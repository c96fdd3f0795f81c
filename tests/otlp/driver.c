// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * driver.c - drives the OTLP exporter for the exporter-level e2e tests
 * (tests/e2e/test_otlp_*.sh): builds an exporter from the OTEL_* environment,
 * exports N synthetic spans and, with --metrics, a registry holding a
 * histogram (with an exemplar and an overflow series), a gauge and a redtap_*
 * counter, then waits, prints the exporter's counters as one JSON line on
 * stdout and frees the exporter.
 *
 *   otlp_driver [--spans N] [--processes P] [--interval-us US] [--metrics]
 *               [--wait-ms MS] [--min-metric-exports K] [--free-timeout-ms MS]
 *
 * --wait-ms: how long to wait for every span to be exported or dropped (and
 * for K metric exports) before printing; 0 prints at once (the flush in
 * free is then what delivers). Span i is fully determined by i, so a test
 * can check every field of what the receiver decoded:
 *   trace id  72 65 64 74 61 70 00 00 + i (8 bytes big-endian)
 *   span id   i + 1 (big-endian); the parent of an odd span is span i - 1
 *   pid 1000 + i % P, service "svc-<i % P>", exe "app<i % P>"
 *   name "GET /items/{id}", SERVER for even i and CLIENT for odd i,
 *   start 1700000000 s + i ms, duration (i % 50 + 1) ms,
 *   attributes http.request.method=GET, url.path=/items/<i>,
 *   http.response.status_code = 500 when i % 10 == 9 (status ERROR,
 *   message "HTTP 500") else 200; span 3 has error.type="bad\xff" (not UTF-8);
 *   tracestate "vendor=v<i>" when i % 7 == 0.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "otlp.h"
#include "semconv.h"

struct opts {
	unsigned long spans, processes, interval_us, wait_ms, min_metric_exports, free_timeout_ms;
	bool metrics;
};

static void usage(void)
{
	fprintf(stderr, "usage: otlp_driver [--spans N] [--processes P] [--interval-us US] "
			"[--metrics] [--wait-ms MS] [--min-metric-exports K] "
			"[--free-timeout-ms MS]\n");
	exit(2);
}

static void parse(int argc, char **argv, struct opts *o)
{
	static const struct {
		const char *name;
		size_t off;
	} nums[] = {
	    {"--spans", offsetof(struct opts, spans)},
	    {"--processes", offsetof(struct opts, processes)},
	    {"--interval-us", offsetof(struct opts, interval_us)},
	    {"--wait-ms", offsetof(struct opts, wait_ms)},
	    {"--min-metric-exports", offsetof(struct opts, min_metric_exports)},
	    {"--free-timeout-ms", offsetof(struct opts, free_timeout_ms)},
	};

	*o = (struct opts){.spans = 10, .processes = 2, .wait_ms = 10000, .free_timeout_ms = 5000};
	for (int i = 1; i < argc; i++) {
		size_t k;

		if (!strcmp(argv[i], "--metrics")) {
			o->metrics = true;
			continue;
		}
		for (k = 0; k < sizeof(nums) / sizeof(nums[0]); k++)
			if (!strcmp(argv[i], nums[k].name))
				break;
		if (k == sizeof(nums) / sizeof(nums[0]) || i + 1 >= argc)
			usage();
		*(unsigned long *)((char *)o + nums[k].off) = strtoul(argv[++i], NULL, 10);
	}
	if (!o->processes)
		o->processes = 1;
}

static void put_be(uint8_t *p, size_t n, uint64_t v)
{
	for (size_t i = 0; i < n; i++)
		p[n - 1 - i] = (uint8_t)(v >> (8 * i));
}

static void make_span(struct span *s, unsigned long i, unsigned long nproc)
{
	char buf[64];
	bool err = i % 10 == 9;

	span_init(s);
	memcpy(s->trace_id, "redtap\0\0", 8);
	put_be(s->trace_id + 8, 8, i);
	put_be(s->span_id, 8, i + 1);
	if (i % 2)
		put_be(s->parent_span_id, 8, i);
	s->start_unix_ns = 1700000000ULL * 1000000000ULL + i * 1000000ULL;
	s->end_unix_ns = s->start_unix_ns + (i % 50 + 1) * 1000000ULL;
	s->pid = 1000 + (uint32_t)(i % nproc);
	s->kind = i % 2 ? SPAN_KIND_CLIENT : SPAN_KIND_SERVER;
	s->status = err ? SPAN_STATUS_ERROR : SPAN_STATUS_UNSET;
	s->sampled = 1;
	span_set(s, SPAN_NAME, "GET /items/{id}");
	if (err)
		span_set(s, SPAN_STATUS_MESSAGE, "HTTP 500");
	if (i % 7 == 0) {
		snprintf(buf, sizeof(buf), "vendor=v%lu", i);
		span_set(s, SPAN_TRACESTATE, buf);
	}
	snprintf(buf, sizeof(buf), "svc-%lu", i % nproc);
	span_set(s, SPAN_SERVICE_NAME, buf);
	snprintf(buf, sizeof(buf), "app%lu", i % nproc);
	span_set(s, SPAN_EXE_NAME, buf);
	span_attr_str(s, SC_HTTP_REQUEST_METHOD, "GET");
	snprintf(buf, sizeof(buf), "/items/%lu", i);
	span_attr_str(s, SC_URL_PATH, buf);
	span_attr_int(s, SC_HTTP_RESPONSE_STATUS_CODE, err ? 500 : 200);
	if (i == 3)
		span_attr_str(s, SC_ERROR_TYPE, "bad\xff");
}

/* A registry like the daemon's: a histogram with an exemplar and an overflow
 * series, a gauge, and a self-metric. */
static struct metric_registry *make_registry(void)
{
	static const uint8_t tid[16] = {0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6,
					0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36};
	static const uint8_t sid[8] = {0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7};
	/* every label of the entries; the ones after error.type (the protocol
	 * version, url.scheme, the request and Kubernetes labels) empty */
	const char *a[] = {"svc-a", "GET", "200", "/users/{id}", "", "", "", "", "", "", "", "",
			   "",	    "",	   ""};
	const char *b[] = {"svc-b", "POST", "500", "/orders", "", "", "", "",
			   "",	    "",	    "",	   "",	      "", "", ""};
	/* svc-b already holds its fair share of the cap (metrics.h): overflow */
	const char *c[] = {"svc-b", "GET", "200", "/", "", "", "", "", "", "", "", "", "", "", ""};
	const char *ga[] = {"svc-a", "GET", "", "", "", "", ""};
	const char *ev[] = {"data"};
	struct metric_registry *r = metric_registry_new();
	struct metric_family *h, *g, *k;
	struct metric_series *s;

	if (!r)
		return NULL;
	h = semconv_family_new(r, &semconv_http_server_request_duration, 2);
	g = semconv_family_new(r, &semconv_http_server_active_requests, 0);
	k = semconv_family_new(r, &semconv_redtap_events_received, 0);
	if (!h || !g || !k)
		goto out_free;
	s = metric_series_get(h, a);
	metric_histogram_observe(s, 0.003);
	metric_histogram_observe(s, 0.02);
	metric_histogram_observe_exemplar(s, 0.2, tid, sid, 1700000000.5);
	metric_histogram_observe(metric_series_get(h, b), 20);
	metric_histogram_observe(metric_series_get(h, c), 1); /* third: the overflow series */
	metric_gauge_set(metric_series_get(g, ga), 3);
	metric_counter_add(metric_series_get(k, ev), 42);
	return r;
out_free:
	metric_registry_free(r);
	return NULL;
}

static void sleep_ms(unsigned long ms)
{
	struct timespec ts = {.tv_sec = (time_t)(ms / 1000),
			      .tv_nsec = (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
	struct metric_registry *reg = NULL;
	struct otlp_exporter *e;
	struct otlp_config cfg;
	struct otlp_stats st;
	struct rusage ru;
	struct opts o;
	struct span *s = malloc(sizeof(*s));
	char err[512];
	int rc;

	parse(argc, argv, &o);
	log_init(getenv("REDTAP_LOG_DEBUG") ? LOG_LVL_DEBUG : LOG_LVL_INFO, false);
	rc = otlp_config_from_env(&cfg, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "otlp_driver: %s\n", err);
		return 2;
	}
	if (o.metrics && !(reg = make_registry())) {
		fprintf(stderr, "otlp_driver: cannot build the registry\n");
		return 1;
	}
	e = otlp_exporter_new(&cfg, reg);
	if (!e || !s) {
		fprintf(stderr, "otlp_driver: otlp_exporter_new: %s\n", strerror(errno));
		return 1;
	}
	for (unsigned long i = 0; i < o.spans; i++) {
		make_span(s, i, o.processes);
		otlp_export_span(e, s);
		if (o.interval_us)
			usleep((useconds_t)o.interval_us);
	}
	for (unsigned long waited = 0; waited < o.wait_ms; waited += 20) {
		otlp_exporter_stats(e, &st);
		if (st.spans_exported + st.spans_dropped >= o.spans &&
		    st.metrics_exports + st.export_errors[OTLP_METRICS] >= o.min_metric_exports)
			break;
		sleep_ms(20);
	}
	otlp_exporter_stats(e, &st);
	getrusage(RUSAGE_SELF, &ru);
	printf("{\"spans_exported\": %llu, \"spans_dropped\": %llu, \"metrics_exports\": %llu, "
	       "\"errors_traces\": %llu, \"errors_metrics\": %llu, \"retries\": %llu, "
	       "\"maxrss_kb\": %ld}\n",
	       (unsigned long long)st.spans_exported, (unsigned long long)st.spans_dropped,
	       (unsigned long long)st.metrics_exports,
	       (unsigned long long)st.export_errors[OTLP_TRACES],
	       (unsigned long long)st.export_errors[OTLP_METRICS], (unsigned long long)st.retries,
	       ru.ru_maxrss);
	fflush(stdout);
	otlp_exporter_free(e, (unsigned)o.free_timeout_ms);
	metric_registry_free(reg);
	free(s);
	return 0;
}
