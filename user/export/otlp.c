// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * otlp.c - the OTLP exporter: its two threads, the span batching, the
 * periodic metrics export, shutdown and counters. See otlp.h.
 *
 * The traces thread waits until the queue holds batch_max_spans spans or
 * batch_delay_ms has passed since the last export, takes one batch out of
 * the queue (under the lock, briefly), then encodes and sends it without
 * the lock: producers only ever wait for a pointer push. The logs thread
 * does the same with log records (its own queue, batch size and delay:
 * the OTEL_BLRP_* settings); both run batch_main(). The metrics
 * thread wakes every metric_interval_ms, snapshots the registry (the
 * registry lock is held only for the copy) and sends it.
 *
 * Shutdown sets abort_at_ns, the deadline for everything: both threads
 * drain what they can, their backoff sleeps end early when waiting would
 * pass it, and libcurl's progress callback aborts a request still running
 * at that time. Spans left after it are counted as dropped.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "otlp.h"
#include "otlp_encode.h"
#include "otlp_env.h"
#include "otlp_http.h"
#include "otlp_queue.h"
#include "otlp_resource.h"
#include "otlp_send.h"

#define MS 1000000ULL

struct otlp_exporter;

/* What batch_main() needs to know of one batched signal (traces, logs). */
struct batch_signal {
	struct otlp_exporter *e;
	struct otlp_queue *queue; /* NULL when the signal is disabled */
	pthread_cond_t *cond;	  /* a batch is ready, or stop */
	size_t max;		  /* items per request */
	unsigned delay_ms;	  /* most time an item waits */
	void (*export)(struct otlp_exporter *e, void **batch, size_t n);
};

struct otlp_exporter {
	struct otlp_config cfg;
	struct metric_registry *reg;
	uint64_t start_unix_ns; /* start of the cumulative metric points */

	pthread_mutex_t lock;
	pthread_cond_t batch_cond; /* traces thread: a batch is ready, or stop */
	pthread_cond_t stop_cond;  /* every wait of either thread: stop */
	struct otlp_queue *queue;  /* NULL when traces are disabled */
	bool stopping;
	_Atomic uint64_t abort_at_ns; /* flush deadline, set by otlp_exporter_free() */

	pthread_t traces_thread, metrics_thread;
	bool traces_running, metrics_running;
	struct otlp_sender tsend, msend;
	struct otlp_resource_ctx tres, mres; /* one per thread: each has its pid cache */
	bool tres_init, mres_init;
	int nsync; /* how many of lock, batch_cond, stop_cond are initialized */

	/* logs: the same as traces, with their own queue, condition and thread */
	struct batch_signal tb, lb;
	struct otlp_queue *lqueue; /* NULL when logs are disabled */
	pthread_cond_t logs_cond;
	bool logs_cond_init;
	pthread_t logs_thread;
	bool logs_running;
	struct otlp_sender lsend;
	struct otlp_resource_ctx lres;
	bool lres_init;

	_Atomic uint64_t spans_exported, spans_dropped, metrics_exports, retries;
	_Atomic uint64_t logs_exported, logs_dropped;
	_Atomic uint64_t errors[OTLP_SIGNALS];
};

static uint64_t unix_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static struct timespec mono_abs(uint64_t ns)
{
	return (struct timespec){.tv_sec = (time_t)(ns / 1000000000ULL),
				 .tv_nsec = (long)(ns % 1000000000ULL)};
}

/* otlp_sender sleep hook: waits ms unless a stop makes the wait outlast the deadline. */
static bool exporter_sleep(void *ctx, uint64_t ms)
{
	struct otlp_exporter *e = ctx;
	uint64_t end = otlp_mono_ns() + ms * MS;
	bool go_on = true;

	pthread_mutex_lock(&e->lock);
	for (;;) {
		uint64_t at = atomic_load(&e->abort_at_ns);
		struct timespec ts = mono_abs(end);

		if (otlp_mono_ns() >= end)
			break;
		if (e->stopping && at && end > at) {
			go_on = false;
			break;
		}
		pthread_cond_timedwait(&e->stop_cond, &e->lock, &ts);
	}
	pthread_mutex_unlock(&e->lock);
	return go_on;
}

/* ---- traces ---- */

static void export_batch(struct otlp_exporter *e, void **batch, size_t n)
{
	struct otlp_send_result res;
	uint8_t *body;
	size_t len;
	int rc;

	rc = otlp_encode_traces(&e->tres, (const struct span *const *)batch, n, &body, &len);
	if (rc) {
		rt_err("otlp traces: cannot encode %zu spans: out of memory", n);
		atomic_fetch_add(&e->errors[OTLP_TRACES], 1);
		atomic_fetch_add(&e->spans_dropped, n);
		return;
	}
	rc = otlp_send(&e->tsend, body, len,
		       otlp_mono_ns() + (uint64_t)e->cfg.batch_export_timeout_ms * MS, &res);
	free(body);
	atomic_fetch_add(&e->retries, res.retries);
	if (rc) {
		atomic_fetch_add(&e->errors[OTLP_TRACES], 1);
		atomic_fetch_add(&e->spans_dropped, n);
		return;
	}
	if (res.rejected > (int64_t)n)
		res.rejected = (int64_t)n;
	atomic_fetch_add(&e->spans_exported, n - (size_t)res.rejected);
	atomic_fetch_add(&e->spans_dropped, (size_t)res.rejected);
}

static bool past_abort(struct otlp_exporter *e)
{
	uint64_t at = atomic_load(&e->abort_at_ns);

	return at && otlp_mono_ns() >= at;
}

/* The thread of a batched signal: sends a batch when max items are queued
 * or delay_ms has passed since the last export. */
static void *batch_main(void *arg)
{
	struct batch_signal *b = arg;
	struct otlp_exporter *e = b->e;
	size_t max = b->max;
	void **batch = calloc(max, sizeof(*batch));
	uint64_t next;

	if (!batch) {
		rt_err("otlp: out of memory; a signal will not be exported");
		return NULL;
	}
	pthread_mutex_lock(&e->lock);
	next = otlp_mono_ns() + (uint64_t)b->delay_ms * MS;
	for (;;) {
		size_t n;

		while (!e->stopping && otlp_queue_len(b->queue) < max && otlp_mono_ns() < next) {
			struct timespec ts = mono_abs(next);

			pthread_cond_timedwait(b->cond, &e->lock, &ts);
		}
		if (e->stopping && (!otlp_queue_len(b->queue) || past_abort(e)))
			break;
		n = otlp_queue_pop_items(b->queue, batch, max);
		pthread_mutex_unlock(&e->lock);
		if (n)
			b->export(e, batch, n);
		for (size_t i = 0; i < n; i++)
			free(batch[i]);
		pthread_mutex_lock(&e->lock);
		next = otlp_mono_ns() + (uint64_t)b->delay_ms * MS;
	}
	pthread_mutex_unlock(&e->lock);
	free(batch);
	return NULL;
}

void otlp_export_span(struct otlp_exporter *e, const struct span *s)
{
	struct span *copy;
	size_t dropped;

	if (!e || !e->queue || !s)
		return;
	copy = otlp_span_dup(s);
	if (!copy) {
		atomic_fetch_add(&e->spans_dropped, 1);
		return;
	}
	pthread_mutex_lock(&e->lock);
	dropped = otlp_queue_push(e->queue, copy);
	if (otlp_queue_len(e->queue) >= e->cfg.batch_max_spans)
		pthread_cond_signal(&e->batch_cond);
	pthread_mutex_unlock(&e->lock);
	if (dropped)
		atomic_fetch_add(&e->spans_dropped, dropped);
}

/* ---- logs ---- */

static void export_logs(struct otlp_exporter *e, void **batch, size_t n)
{
	struct otlp_send_result res;
	uint8_t *body;
	size_t len;
	int rc;

	rc = otlp_encode_logs(&e->lres, (const struct log_record *const *)batch, n, &body, &len);
	if (rc) {
		rt_err("otlp logs: cannot encode %zu records: out of memory", n);
		atomic_fetch_add(&e->errors[OTLP_LOGS], 1);
		atomic_fetch_add(&e->logs_dropped, n);
		return;
	}
	rc = otlp_send(&e->lsend, body, len,
		       otlp_mono_ns() + (uint64_t)e->cfg.logs_export_timeout_ms * MS, &res);
	free(body);
	atomic_fetch_add(&e->retries, res.retries);
	if (rc) {
		atomic_fetch_add(&e->errors[OTLP_LOGS], 1);
		atomic_fetch_add(&e->logs_dropped, n);
		return;
	}
	if (res.rejected > (int64_t)n)
		res.rejected = (int64_t)n;
	atomic_fetch_add(&e->logs_exported, n - (size_t)res.rejected);
	atomic_fetch_add(&e->logs_dropped, (size_t)res.rejected);
}

void otlp_export_log(struct otlp_exporter *e, const struct log_record *r)
{
	size_t size, dropped;
	struct log_record *copy;

	if (!e || !e->lqueue || !r)
		return;
	size = sizeof(*r) + r->body_len + 1;
	copy = malloc(size);
	if (!copy) {
		atomic_fetch_add(&e->logs_dropped, 1);
		return;
	}
	memcpy(copy, r, sizeof(*r) + r->body_len);
	copy->body[r->body_len] = '\0';
	pthread_mutex_lock(&e->lock);
	dropped = otlp_queue_push_item(e->lqueue, copy);
	if (otlp_queue_len(e->lqueue) >= e->cfg.batch_max_logs)
		pthread_cond_signal(&e->logs_cond);
	pthread_mutex_unlock(&e->lock);
	if (dropped)
		atomic_fetch_add(&e->logs_dropped, dropped);
}

/* ---- metrics ---- */

static void export_metrics(struct otlp_exporter *e)
{
	struct metric_snapshot *snap = metric_registry_snapshot(e->reg);
	struct otlp_send_result res;
	uint8_t *body;
	size_t len;
	int rc;

	if (!snap) {
		rt_err("otlp metrics: cannot snapshot the registry: out of memory");
		atomic_fetch_add(&e->errors[OTLP_METRICS], 1);
		return;
	}
	rc = otlp_encode_metrics(&e->mres, snap, e->start_unix_ns, unix_ns(), &body, &len);
	metric_snapshot_free(snap);
	if (rc) {
		rt_err("otlp metrics: cannot encode: out of memory");
		atomic_fetch_add(&e->errors[OTLP_METRICS], 1);
		return;
	}
	if (!len) { /* no series yet: nothing to send */
		free(body);
		return;
	}
	rc = otlp_send(&e->msend, body, len,
		       otlp_mono_ns() + (uint64_t)e->cfg.metric_export_timeout_ms * MS, &res);
	free(body);
	atomic_fetch_add(&e->retries, res.retries);
	atomic_fetch_add(rc ? &e->errors[OTLP_METRICS] : &e->metrics_exports, 1);
}

static void *metrics_main(void *arg)
{
	struct otlp_exporter *e = arg;
	uint64_t interval = (uint64_t)e->cfg.metric_interval_ms * MS;
	uint64_t next = otlp_mono_ns() + interval;

	pthread_mutex_lock(&e->lock);
	while (!e->stopping) {
		struct timespec ts = mono_abs(next);
		uint64_t now;

		pthread_cond_timedwait(&e->stop_cond, &e->lock, &ts);
		now = otlp_mono_ns();
		if (e->stopping || now < next)
			continue;
		pthread_mutex_unlock(&e->lock);
		export_metrics(e);
		pthread_mutex_lock(&e->lock);
		next += interval;
		now = otlp_mono_ns();
		if (next <= now) /* an export took longer than the interval */
			next = now + interval;
	}
	pthread_mutex_unlock(&e->lock);
	if (!past_abort(e))
		export_metrics(e); /* the final values */
	return NULL;
}

/* ---- lifecycle ---- */

static void apply_defaults(struct otlp_config *c)
{
	struct otlp_config d;

	otlp_config_init(&d);
#define DEFAULT(f)                                                                                 \
	do {                                                                                       \
		if (!c->f)                                                                         \
			c->f = d.f;                                                                \
	} while (0)
	DEFAULT(timeout_ms);
	DEFAULT(metric_interval_ms);
	DEFAULT(queue_max_spans);
	DEFAULT(batch_max_spans);
	DEFAULT(batch_delay_ms);
	DEFAULT(batch_export_timeout_ms);
	DEFAULT(metric_export_timeout_ms);
	DEFAULT(queue_max_logs);
	DEFAULT(batch_max_logs);
	DEFAULT(logs_delay_ms);
	DEFAULT(logs_export_timeout_ms);
#undef DEFAULT
	if (c->batch_max_spans > c->queue_max_spans)
		c->batch_max_spans = c->queue_max_spans;
	if (c->batch_max_logs > c->queue_max_logs)
		c->batch_max_logs = c->queue_max_logs;
	c->logs_url[sizeof(c->logs_url) - 1] = '\0';
	c->logs_headers[sizeof(c->logs_headers) - 1] = '\0';
	c->traces_url[sizeof(c->traces_url) - 1] = '\0';
	c->metrics_url[sizeof(c->metrics_url) - 1] = '\0';
	c->headers[sizeof(c->headers) - 1] = '\0';
	c->traces_headers[sizeof(c->traces_headers) - 1] = '\0';
	c->metrics_headers[sizeof(c->metrics_headers) - 1] = '\0';
	c->resource_attrs[sizeof(c->resource_attrs) - 1] = '\0';
}

/* Sets up the sender and resource context of one signal. Returns 0 or -errno. */
static int signal_init(struct otlp_exporter *e, enum otlp_signal sig)
{
	const struct otlp_config *c = &e->cfg;
	struct otlp_sender *const senders[] = {&e->tsend, &e->msend, &e->lsend};
	struct otlp_resource_ctx *const res[] = {&e->tres, &e->mres, &e->lres};
	bool *const res_init[] = {&e->tres_init, &e->mres_init, &e->lres_init};
	const char *const urls[] = {c->traces_url, c->metrics_url, c->logs_url};
	const char *const headers_of[] = {c->traces_headers, c->metrics_headers, c->logs_headers};
	const enum otlp_compression comps[] = {c->traces_compression, c->metrics_compression,
					       c->logs_compression};
	const unsigned timeouts[] = {c->traces_timeout_ms, c->metrics_timeout_ms,
				     c->logs_timeout_ms};
	static const char *const names[] = {"traces", "metrics", "logs"};
	static int (*const partials[])(const uint8_t *, size_t, int64_t *, char *, size_t) = {
	    otlp_traces_partial, otlp_metrics_partial, otlp_logs_partial};
	struct otlp_sender *s = senders[sig];
	const char *headers = headers_of[sig];
	enum otlp_compression comp = comps[sig];
	unsigned timeout = timeouts[sig];
	bool gzip = comp == OTLP_COMPRESSION_INHERIT ? c->gzip : comp == OTLP_COMPRESSION_GZIP;
	int rc;

	rc = otlp_resource_ctx_init(res[sig], c->resource_attrs);
	if (rc)
		return rc;
	*res_init[sig] = true;
	s->http = otlp_http_new(urls[sig], headers[0] ? headers : c->headers, gzip);
	if (!s->http)
		return -errno;
	s->what = names[sig];
	s->timeout_ms = timeout ? timeout : c->timeout_ms;
	s->partial = partials[sig];
	s->sleep = exporter_sleep;
	s->sleep_ctx = e;
	s->abort_at_ns = &e->abort_at_ns;
	s->seed = otlp_mono_ns() ^ ((uint64_t)(uintptr_t)s << 16) ^ (uint64_t)sig;
	return 0;
}

static int cond_init_mono(pthread_cond_t *c)
{
	pthread_condattr_t attr;
	int rc;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	rc = pthread_cond_init(c, &attr);
	pthread_condattr_destroy(&attr);
	return -rc;
}

static void exporter_release(struct otlp_exporter *e)
{
	otlp_http_free(e->tsend.http);
	otlp_http_free(e->msend.http);
	otlp_http_free(e->lsend.http);
	if (e->tres_init)
		otlp_resource_ctx_release(&e->tres);
	if (e->mres_init)
		otlp_resource_ctx_release(&e->mres);
	if (e->lres_init)
		otlp_resource_ctx_release(&e->lres);
	otlp_queue_free(e->queue);
	otlp_queue_free(e->lqueue);
	if (e->logs_cond_init)
		pthread_cond_destroy(&e->logs_cond);
	if (e->nsync > 2)
		pthread_cond_destroy(&e->stop_cond);
	if (e->nsync > 1)
		pthread_cond_destroy(&e->batch_cond);
	if (e->nsync > 0)
		pthread_mutex_destroy(&e->lock);
	free(e);
}

static void stop_threads(struct otlp_exporter *e, unsigned timeout_ms)
{
	pthread_mutex_lock(&e->lock);
	e->stopping = true;
	atomic_store(&e->abort_at_ns, otlp_mono_ns() + (uint64_t)timeout_ms * MS);
	pthread_cond_broadcast(&e->batch_cond);
	pthread_cond_broadcast(&e->stop_cond);
	if (e->logs_cond_init)
		pthread_cond_broadcast(&e->logs_cond);
	pthread_mutex_unlock(&e->lock);
	if (e->traces_running)
		pthread_join(e->traces_thread, NULL);
	if (e->metrics_running)
		pthread_join(e->metrics_thread, NULL);
	if (e->logs_running)
		pthread_join(e->logs_thread, NULL);
	e->traces_running = e->metrics_running = e->logs_running = false;
}

struct otlp_exporter *otlp_exporter_new(const struct otlp_config *c, struct metric_registry *reg)
{
	struct otlp_exporter *e = calloc(1, sizeof(*e));
	bool traces = c->traces_url[0], metrics = c->metrics_url[0] && reg, logs = c->logs_url[0];
	char shown[sizeof(c->traces_url)];
	int rc = -ENOMEM;

	if (!e)
		goto out;
	e->cfg = *c;
	apply_defaults(&e->cfg);
	rc = -EINVAL;
	if ((traces && !otlp_url_valid(e->cfg.traces_url)) ||
	    (metrics && !otlp_url_valid(e->cfg.metrics_url)) ||
	    (logs && !otlp_url_valid(e->cfg.logs_url)))
		goto out_free;
	e->reg = reg;
	e->start_unix_ns = unix_ns();
	rc = -pthread_mutex_init(&e->lock, NULL);
	if (rc)
		goto out_free;
	e->nsync++;
	rc = cond_init_mono(&e->batch_cond);
	if (rc)
		goto out_free;
	e->nsync++;
	rc = cond_init_mono(&e->stop_cond);
	if (rc)
		goto out_free;
	e->nsync++;
	rc = -ENOMEM;
	if (traces) {
		e->queue = otlp_queue_new(e->cfg.queue_max_spans);
		if (!e->queue)
			goto out_free;
		rc = signal_init(e, OTLP_TRACES);
		if (rc)
			goto out_free;
		e->tb = (struct batch_signal){e,
					      e->queue,
					      &e->batch_cond,
					      e->cfg.batch_max_spans,
					      e->cfg.batch_delay_ms,
					      export_batch};
		rc = -pthread_create(&e->traces_thread, NULL, batch_main, &e->tb);
		if (rc)
			goto out_free;
		e->traces_running = true;
	}
	if (metrics) {
		rc = signal_init(e, OTLP_METRICS);
		if (rc)
			goto out_stop;
		rc = -pthread_create(&e->metrics_thread, NULL, metrics_main, e);
		if (rc)
			goto out_stop;
		e->metrics_running = true;
	}
	if (logs) {
		rc = -ENOMEM;
		e->lqueue = otlp_queue_new(e->cfg.queue_max_logs);
		if (!e->lqueue)
			goto out_stop;
		rc = cond_init_mono(&e->logs_cond);
		if (rc)
			goto out_stop;
		e->logs_cond_init = true;
		rc = signal_init(e, OTLP_LOGS);
		if (rc)
			goto out_stop;
		e->lb = (struct batch_signal){e,
					      e->lqueue,
					      &e->logs_cond,
					      e->cfg.batch_max_logs,
					      e->cfg.logs_delay_ms,
					      export_logs};
		rc = -pthread_create(&e->logs_thread, NULL, batch_main, &e->lb);
		if (rc)
			goto out_stop;
		e->logs_running = true;
	}
	if (traces) {
		otlp_url_redact(shown, sizeof(shown), e->cfg.traces_url);
		rt_info("otlp: exporting traces to %s", shown);
	}
	if (metrics) {
		otlp_url_redact(shown, sizeof(shown), e->cfg.metrics_url);
		rt_info("otlp: exporting metrics to %s every %u ms", shown,
			e->cfg.metric_interval_ms);
	}
	if (logs) {
		otlp_url_redact(shown, sizeof(shown), e->cfg.logs_url);
		rt_info("otlp: exporting logs to %s", shown);
	}
	return e;
out_stop:
	stop_threads(e, 0);
out_free:
	exporter_release(e);
out:
	errno = -rc;
	return NULL;
}

void otlp_exporter_free(struct otlp_exporter *e, unsigned timeout_ms)
{
	if (!e)
		return;
	stop_threads(e, timeout_ms);
	if (e->queue)
		atomic_fetch_add(&e->spans_dropped, otlp_queue_len(e->queue));
	if (e->lqueue)
		atomic_fetch_add(&e->logs_dropped, otlp_queue_len(e->lqueue));
	exporter_release(e);
}

void otlp_exporter_stats(struct otlp_exporter *e, struct otlp_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!e)
		return;
	out->spans_exported = atomic_load(&e->spans_exported);
	out->spans_dropped = atomic_load(&e->spans_dropped);
	out->metrics_exports = atomic_load(&e->metrics_exports);
	out->export_errors[OTLP_TRACES] = atomic_load(&e->errors[OTLP_TRACES]);
	out->export_errors[OTLP_METRICS] = atomic_load(&e->errors[OTLP_METRICS]);
	out->export_errors[OTLP_LOGS] = atomic_load(&e->errors[OTLP_LOGS]);
	out->logs_exported = atomic_load(&e->logs_exported);
	out->logs_dropped = atomic_load(&e->logs_dropped);
	out->retries = atomic_load(&e->retries);
}
