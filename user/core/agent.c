// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * agent.c - the node agent's event loop: dispatches ring-buffer records to
 * the connection table and the HTTP tracker, keeps process selection up to
 * date, runs periodic sweeps, and exposes everything on /metrics. See
 * agent.h.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "capture.h"
#include "conntab.h"
#include "httpmetrics.h"
#include "httptrack.h"
#include "log.h"
#include "metrics.h"
#include "dbmetrics.h"
#include "otlp.h"
#include "procs.h"
#include "promserver.h"
#include "route.h"
#include "sampler.h"
#include "selfmetrics.h"
#include "shim_decode.h"
#include "shimack.h"
#include "shm_ring.h"
#include "tracer.h"
#include "version.h"

#define MAX_CONNS	65536
#define POLL_MS		100
#define SWEEP_NS	1000000000ull
#define SCAN_NS		2000000000ull
#define EXITED_MAX	4096
#define SHM_RING_BYTES	(4u << 20)
#define OTLP_FLUSH_MS	3000
#define DEFAULT_SLOW_MS 1000

static volatile sig_atomic_t stop_requested;

struct agent {
	const struct redtap_config *cfg;
	struct metric_registry *reg;
	struct route_table *routes;
	struct capture *cap;
	struct conntab *conns;
	struct httptrack *http;
	struct httpmetrics *hm;
	struct selfmetrics *self;
	struct procs *procs;
	struct promserver *srv;
	struct dbmetrics *db;
	bool stopping; /* tearing down: open exchanges are not reported */
	struct otlp_exporter *otlp;
	struct tracer *tracer;
	struct shimack *acks;
	struct shm_ring *ring; /* shim-only mode */
	/* written by the event loop, read by the /metrics thread */
	uint64_t shim_bad;
	uint64_t shim_reported_drops;
	uint64_t events[RT_EV_TYPE_MAX];
	uint64_t bad_records;
	uint64_t http_errors;
	uint64_t conn_full;
	uint64_t instrumented;
	/* processes that exited since the last sweep */
	uint64_t sweep_now; /* the sweep's clock, read once per sweep */
	uint32_t exited[EXITED_MAX];
	size_t nexited;
};

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Single writer, concurrent reader: relaxed atomics keep it race-free. */
static void bump(uint64_t *v, uint64_t by)
{
	__atomic_store_n(v, *v + by, __ATOMIC_RELAXED);
}

static uint64_t peek(const uint64_t *v)
{
	return __atomic_load_n(v, __ATOMIC_RELAXED);
}

/* --- HTTP exchanges into metrics --- */

static void http_started(void *ctx, struct http_exchange *x)
{
	struct agent *a = ctx;

	if (a->tracer)
		tracer_http_start(a->tracer, x);
	httpmetrics_start(a->hm, x, procs_service_name(a->procs, x->tgid));
}

static void http_done(void *ctx, const struct http_exchange *x)
{
	struct agent *a = ctx;
	const char *service;
	bool exported = false;

	if (a->stopping)
		return;
	service = procs_service_name(a->procs, x->tgid);
	if (a->tracer)
		exported =
		    tracer_http_done(a->tracer, x, service, procs_exe_name(a->procs, x->tgid));
	httpmetrics_done(a->hm, x, service, exported);
}

static void emit_span(void *ctx, const struct span *s)
{
	struct agent *a = ctx;

	otlp_export_span(a->otlp, s);
}

/* --- shim records (ioctl channel or shared-memory ring) --- */

/* host_pid_tgid: the ioctl's pid_tgid as the kernel saw it (0 for the
 * ring), which is right even when the shim runs in another pid namespace. */
static void on_shim_record(struct agent *a, const void *rec, size_t len, uint64_t host_pid_tgid)
{
	uint8_t trace_id[16], span_id[8];
	const char *service;
	struct db_op op;

	if (shim_decode(rec, len, &op)) {
		bump(&a->shim_bad, 1);
		return;
	}
	if (host_pid_tgid) {
		op.pid = (uint32_t)(host_pid_tgid >> 32);
		op.tid = (uint32_t)host_pid_tgid;
	}
	if (op.is_hello) {
		uint64_t lost;

		procs_hint(a->procs, op.pid, op.service_name, op.comm);
		/* Only the ioctl channel needs an ack; ring hellos are counted. */
		shimack_hello(a->acks, op.pid, host_pid_tgid ? op.shim_ack_addr : 0,
			      op.shim_dropped + op.shim_untracked, &lost, now_ns());
		bump(&a->shim_reported_drops, lost);
		return;
	}
	service = procs_service_name(a->procs, op.pid);
	if (a->tracer && tracer_db_op(a->tracer, &op, service, procs_exe_name(a->procs, op.pid),
				      trace_id, span_id)) {
		char trace[33], span[17];

		span_hex(trace_id, 16, trace);
		span_hex(span_id, 8, span);
		dbmetrics_record_ex(a->db, &op, service, trace, span);
		return;
	}
	dbmetrics_record(a->db, &op, service);
}

static void on_ring_record(void *ctx, const void *rec, size_t len)
{
	on_shim_record(ctx, rec, len, 0);
}

static const struct httptrack_callbacks http_cbs = {
    .on_start = http_started,
    .on_done = http_done,
};

static void conn_closed(void *ctx, struct conn *c, uint64_t ts)
{
	struct agent *a = ctx;

	httptrack_close(a->http, c, ts);
}

/* --- records --- */

static void on_data(struct agent *a, const struct rt_data_event *ev, size_t len)
{
	struct conn *c;

	if (len < sizeof(*ev) + ev->cap_len || ev->cap_len > ev->len) {
		bump(&a->bad_records, 1);
		return;
	}
	c = conntab_get(a->conns, &ev->conn, true);
	if (!c) {
		bump(&a->conn_full, 1);
		return;
	}
	c->last_ts = ev->hdr.ts;
	httptrack_data(a->http, c, ev);
	/* Not a protocol we parse: its bytes need not leave the kernel. */
	if (c->proto == CONN_PROTO_OPAQUE && !c->opaque_told && a->cap) {
		int rc;

		c->opaque_told = 1;
		rc = capture_set_opaque(a->cap, c->tgid, c->fd, c->gen);
		if (rc)
			rt_debug("connection %u/%u stays captured: %s", c->tgid, c->fd,
				 strerror(-rc));
	}
}

static void on_conn_open(struct agent *a, const struct rt_conn_event *ev)
{
	struct conn *c = conntab_get(a->conns, &ev->conn, true);

	if (!c) {
		bump(&a->conn_full, 1);
		return;
	}
	c->local = ev->local;
	c->remote = ev->remote;
	c->family = ev->family;
	c->role_hint = ev->role;
	c->has_endpoints = 1;
	c->opened_ts = c->last_ts = ev->hdr.ts;
}

static void on_select(void *ctx, uint32_t tgid, bool on)
{
	struct agent *a = ctx;
	int rc = a->cap ? capture_select(a->cap, tgid, on) : 0;

	if (rc)
		rt_warn("cannot %s process %u: %s", on ? "select" : "deselect", tgid,
			strerror(-rc));
	else
		rt_debug("%s process %u (%s)", on ? "selected" : "deselected", tgid,
			 procs_service_name(a->procs, tgid));
}

static int on_record(void *ctx, const void *data, size_t len)
{
	const struct rt_event_hdr *h = data;
	struct agent *a = ctx;

	if (len < sizeof(*h) || h->len > len || h->type == 0 || h->type >= RT_EV_TYPE_MAX ||
	    h->version != RT_EVENT_VERSION) {
		bump(&a->bad_records, 1);
		return 0;
	}
	bump(&a->events[h->type], 1);
	switch (h->type) {
	case RT_EV_DATA:
		if (len >= sizeof(struct rt_data_event))
			on_data(a, data, len);
		break;
	case RT_EV_CONN_OPEN:
		if (len >= sizeof(struct rt_conn_event))
			on_conn_open(a, data);
		break;
	case RT_EV_CONN_CLOSE:
		if (len >= sizeof(*h) + sizeof(struct rt_conn_id))
			conntab_close(a->conns, (const void *)(h + 1), h->ts);
		break;
	case RT_EV_PROC_EXEC:
		if (len >= sizeof(struct rt_proc_event))
			procs_exec(a->procs, (uint32_t)(h->pid_tgid >> 32),
				   ((const struct rt_proc_event *)data)->comm, on_select, a);
		break;
	case RT_EV_PROC_EXIT:
		if (a->nexited < EXITED_MAX)
			a->exited[a->nexited++] = (uint32_t)(h->pid_tgid >> 32);
		break;
	case RT_EV_SHIM: {
		const struct rt_shim_event *se = data;

		if (len >= sizeof(*se) && sizeof(*se) + se->len <= len)
			on_shim_record(a, se->data, se->len, h->pid_tgid);
		else
			bump(&a->shim_bad, 1);
		break;
	}
	default:
		break;
	}
	return 0;
}

/* --- periodic work --- */

static bool exited_conn(void *ctx, const struct conn *c)
{
	const struct agent *a = ctx;

	for (size_t i = 0; i < a->nexited; i++)
		if (a->exited[i] == c->tgid)
			return true;
	return false;
}

static void sweep_one(void *ctx, struct conn *c)
{
	struct agent *a = ctx;

	httptrack_sweep(a->http, c, a->sweep_now);
}

static void sweep(struct agent *a)
{
	uint64_t now = now_ns();

	if (a->nexited) {
		/* Close their connections first: the service name is still cached. */
		conntab_close_if(a->conns, exited_conn, a, now);
		for (size_t i = 0; i < a->nexited; i++)
			procs_exit(a->procs, a->exited[i]);
		a->nexited = 0;
	}
	a->sweep_now = now;
	conntab_for_each(a->conns, sweep_one, a);
	if (a->tracer)
		tracer_sweep(a->tracer, now);
	shimack_refresh(a->acks, now);
	if (a->ring)
		shm_ring_heartbeat(a->ring);
	__atomic_store_n(&a->instrumented, procs_instrumented(a->procs), __ATOMIC_RELAXED);
}

static void prerender(void *ctx)
{
	struct agent *a = ctx;
	struct self_snapshot snap = {0};

	for (unsigned t = 0; t < RT_EV_TYPE_MAX; t++)
		snap.events[t] = peek(&a->events[t]);
	if (a->cap)
		capture_drops(a->cap, snap.kernel_drops);
	snap.http_parse_errors = peek(&a->http_errors) + peek(&a->bad_records);
	snap.db_parse_errors = peek(&a->shim_bad);
	snap.conn_table_full = peek(&a->conn_full);
	snap.instrumented = peek(&a->instrumented);
	snap.shim_dropped =
	    peek(&a->shim_reported_drops) + (a->ring ? shm_ring_dropped(a->ring) : 0);
	snap.nfamilies = httpmetrics_families(a->hm, snap.families, 7);
	snap.families[snap.nfamilies++] = dbmetrics_family(a->db);
	if (a->otlp) {
		struct otlp_stats st;

		otlp_exporter_stats(a->otlp, &st);
		snap.otlp_enabled = true;
		snap.otlp_errors[0] = st.export_errors[0];
		snap.otlp_errors[1] = st.export_errors[1];
		snap.otlp_dropped_spans = st.spans_dropped;
		snap.otlp_exported_spans = st.spans_exported;
	}
	selfmetrics_update(a->self, &snap);
}

/* --- set-up and tear-down --- */

static int setup_metrics(struct agent *a)
{
	const struct redtap_config *cfg = a->cfg;

	a->reg = metric_registry_new();
	a->routes = route_table_new();
	if (!a->reg || !a->routes)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->nroutes; i++) {
		if (route_table_add(a->routes, cfg->routes[i])) {
			fprintf(stderr,
				"redtap: invalid route pattern \"%s\": it must start with '/', "
				"use {name} for a segment and '*' only as the last one\n",
				cfg->routes[i]);
			return -EINVAL;
		}
	}
	a->hm = httpmetrics_new(a->reg, cfg->max_series);
	a->db = dbmetrics_new(a->reg, cfg->max_series);
	a->acks = shimack_new();
	a->self = selfmetrics_new(a->reg);
	a->http = httptrack_new(a->routes, &http_cbs, a);
	a->conns = conntab_new(MAX_CONNS, conn_closed, a);
	if (!a->hm || !a->db || !a->acks || !a->self || !a->http || !a->conns)
		return -ENOMEM;
	metric_registry_set_prerender(a->reg, prerender, a);
	return 0;
}

static int setup_procs(struct agent *a)
{
	const struct redtap_config *cfg = a->cfg;
	struct procs_selectors sel = {
	    .pids = cfg->pids,
	    .npids = cfg->npids,
	    .exe_globs = cfg->exe_globs,
	    .nexe_globs = cfg->nexe_globs,
	    .ports = cfg->ports,
	    .nports = cfg->nports,
	};

	a->procs = procs_new(&sel, (uint32_t)getpid());
	return a->procs ? 0 : -ENOMEM;
}

static int setup_capture(struct agent *a)
{
	struct capture_opts opts = {
	    .capture_bytes = a->cfg->capture_bytes,
	    .ringbuf_bytes = a->cfg->ringbuf_bytes,
	    .filter = procs_filtering(a->procs),
	};
	char err[512];

	if (capture_preflight(err, sizeof(err))) {
		fprintf(stderr, "redtap: %s\n", err);
		return -EPERM;
	}
	a->cap = capture_open(&opts, on_record, a, err, sizeof(err));
	if (!a->cap) {
		fprintf(stderr, "redtap: %s\n", err);
		return -errno;
	}
	procs_scan(a->procs, on_select, a);
	return 0;
}

/* OTLP export and traces, configured by the standard OTEL_* variables. */
static int setup_export(struct agent *a)
{
	struct otlp_config oc;
	struct tracer_opts to = {0};
	const char *slow = getenv("REDTAP_TRACES_SLOW_MS");
	const char *crit = getenv("REDTAP_TRACES_CRITICAL_ROUTES");
	char err[512], *routes = NULL, *save = NULL, *tok, *list[64];
	int rc = 0;

	otlp_config_init(&oc);
	if (otlp_config_from_env(&oc, err, sizeof(err)) ||
	    sampler_parse(&to.sampler, getenv("OTEL_TRACES_SAMPLER"),
			  getenv("OTEL_TRACES_SAMPLER_ARG"), err, sizeof(err))) {
		fprintf(stderr, "redtap: %s\n", err);
		return -EINVAL;
	}
	if (!oc.traces_url[0] && !oc.metrics_url[0])
		return 0;
	a->otlp = otlp_exporter_new(&oc, oc.metrics_url[0] ? a->reg : NULL);
	if (!a->otlp) {
		fprintf(stderr, "redtap: cannot start the OTLP exporter: %s\n", strerror(errno));
		return -errno;
	}
	if (!oc.traces_url[0])
		return 0;
	to.slow_ns = DEFAULT_SLOW_MS * 1000000ull;
	if (tracer_parse_slow(slow, &to.slow_ns, &to.slow_routes)) {
		fprintf(stderr,
			"redtap: REDTAP_TRACES_SLOW_MS: \"%s\" is not MS[,/route=MS...] "
			"(e.g. 1000,/checkout=250)\n",
			slow);
		return -EINVAL;
	}
	if (crit && *crit) {
		routes = strdup(crit);
		for (tok = strtok_r(routes, ",", &save); tok && to.ncritical < 64;
		     tok = strtok_r(NULL, ",", &save))
			list[to.ncritical++] = tok;
		to.critical_routes = list;
	}
	a->tracer = tracer_new(&to, emit_span, a);
	if (!a->tracer)
		rc = -ENOMEM;
	free(routes);
	rt_info("OTLP export: traces %s, metrics %s", oc.traces_url[0] ? oc.traces_url : "off",
		oc.metrics_url[0] ? oc.metrics_url : "off");
	return rc;
}

/* Shim-only mode: shims deliver through a shared-memory ring. */
static int setup_ring(struct agent *a)
{
	a->ring = shm_ring_create(shm_ring_default_path(), SHM_RING_BYTES);
	if (!a->ring) {
		fprintf(stderr, "redtap: cannot create the shim ring %s: %s\n",
			shm_ring_default_path(), strerror(errno));
		return -errno;
	}
	return 0;
}

/*
 * Order matters: exchanges still open when the agent stops are not
 * reported (the agent stopping is no connection failure); the exporter
 * flushes its last spans and metrics while everything the prerender hook
 * reads still exists; only then do the hook's sources go away.
 */
static void teardown(struct agent *a)
{
	promserver_stop(a->srv);
	a->stopping = true;
	conntab_free(a->conns);
	otlp_exporter_free(a->otlp, OTLP_FLUSH_MS);
	if (a->reg)
		metric_registry_set_prerender(a->reg, NULL, NULL);
	tracer_free(a->tracer);
	capture_close(a->cap);
	shm_ring_destroy(a->ring);
	shimack_free(a->acks);
	dbmetrics_free(a->db);
	httptrack_free(a->http);
	httpmetrics_free(a->hm);
	selfmetrics_free(a->self);
	procs_free(a->procs);
	route_table_free(a->routes);
	metric_registry_free(a->reg);
}

static void install_signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal};

	sigemptyset(&sa.sa_mask);
	/* no SA_RESTART: epoll_wait must return so the loop sees the flag */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int event_loop(struct agent *a)
{
	uint64_t last_sweep = now_ns(), last_scan = last_sweep;

	while (!stop_requested) {
		int n = a->cap ? capture_poll(a->cap, POLL_MS) : (usleep(POLL_MS * 1000), 0);
		uint64_t now = now_ns();

		if (a->ring)
			shm_ring_drain(a->ring, on_ring_record, a);
		if (n < 0 && n != -EINTR) {
			rt_err("reading the ring buffer failed: %s", strerror(-n));
			return REDTAP_EXIT_FAILURE;
		}
		if (now - last_sweep >= SWEEP_NS) {
			sweep(a);
			last_sweep = now;
		}
		if (procs_filtering(a->procs) && now - last_scan >= SCAN_NS) {
			procs_scan(a->procs, on_select, a);
			last_scan = now;
		}
	}
	return REDTAP_EXIT_OK;
}

int agent_run(const struct redtap_config *cfg)
{
	struct agent *a = calloc(1, sizeof(*a));
	char err[512];
	int rc = REDTAP_EXIT_FAILURE;

	if (!a) {
		fprintf(stderr, "redtap: out of memory\n");
		return REDTAP_EXIT_FAILURE;
	}
	a->cfg = cfg;
	stop_requested = 0;
	install_signals();
	if (setup_metrics(a)) {
		rc = REDTAP_EXIT_USAGE;
		goto out;
	}
	if (setup_procs(a))
		goto out;
	if (setup_export(a)) {
		rc = REDTAP_EXIT_USAGE;
		goto out;
	}
	if (cfg->no_bpf ? setup_ring(a) : setup_capture(a))
		goto out;
	a->srv = promserver_start(cfg->listen_host, cfg->listen_port, a->reg, err, sizeof(err));
	if (!a->srv) {
		fprintf(stderr, "redtap: %s\n", err);
		goto out;
	}
	rt_info("redtap %s running: metrics on http://%s%s%s:%u/metrics, %s", redtap_version,
		strchr(cfg->listen_host, ':') ? "[" : "", cfg->listen_host,
		strchr(cfg->listen_host, ':') ? "]" : "", cfg->listen_port,
		cfg->no_bpf		    ? "shim-only mode (no eBPF)"
		: procs_filtering(a->procs) ? "selected processes"
					    : "every process on the node");
	rc = event_loop(a);
	rt_info("stopping: detaching probes");
out:
	teardown(a);
	free(a);
	return rc;
}
