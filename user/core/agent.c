// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * agent.c - the node agent's OS wiring: sets up the stages in order, runs
 * the event loop (ring buffer or shim ring into the pipeline, periodic
 * sweeps, process scans) until SIGINT or SIGTERM, and tears down in the
 * reverse order. What happens to a record is pipeline.c's business. See
 * agent.h.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "capture.h"
#include "log.h"
#include "logfiles.h"
#include "logs.h"
#include "metrics.h"
#include "k8sapi.h"
#include "otlp.h"
#include "otlp_http.h"
#include "pipeline.h"
#include "podmeta.h"
#include "procmetrics.h"
#include "procs.h"
#include "promserver.h"
#include "reqlabels.h"
#include "route.h"
#include "sampler.h"
#include "selfmetrics.h"
#include "shim_decode.h"
#include "shm_ring.h"
#include "tracer.h"
#include "version.h"

#define MAX_CONNS      65536
#define POLL_MS	       100
#define SWEEP_NS       1000000000ull
#define SHM_RING_BYTES (4u << 20)
#define PROCMETRICS_NS (5 * SWEEP_NS) /* process and Go runtime metrics */
#define OTLP_FLUSH_MS  3000

static volatile sig_atomic_t stop_requested;

struct agent {
	const struct redtap_config *cfg;
	struct metric_registry *reg;
	struct route_table *routes;
	struct capture *cap;
	struct pipeline *pipe;
	struct selfmetrics *self;
	struct procmetrics *pm; /* process.* of the instrumented processes */
	uint64_t last_pm;
	uint64_t last_progs; /* the BPF programs' statistics, read every PROCMETRICS_NS */
	struct procs *procs;
	struct promserver *srv;
	struct otlp_exporter *otlp;
	struct tracer *tracer;
	struct logs *logs;	/* zero-code log capture, when cfg->logs */
	struct logfiles *files; /* logs.files: which files are logs; NULL: none */
	struct shm_ring *ring;	/* shim-only mode */
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

static void emit_span(void *ctx, const struct span *s)
{
	struct agent *a = ctx;

	otlp_export_span(a->otlp, s);
}

static void emit_log(void *ctx, const struct log_record *r)
{
	struct agent *a = ctx;

	otlp_export_log(a->otlp, r);
}

/* --- the pipeline's hooks into the kernel side --- */

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

/* procs has decided a process the kernel held pending: stop its fork records. */
static void on_decided(void *ctx, uint32_t tgid)
{
	struct agent *a = ctx;
	int rc = a->cap ? capture_pending_done(a->cap, tgid) : 0;

	if (rc)
		rt_debug("process %u stays pending: %s", tgid, strerror(-rc));
}

static int on_opaque(void *ctx, uint32_t tgid, uint32_t fd, uint64_t gen)
{
	struct agent *a = ctx;

	return a->cap ? capture_set_opaque(a->cap, tgid, fd, gen) : 0;
}

static int on_wide(void *ctx, uint32_t tgid, uint32_t fd, uint64_t gen)
{
	struct agent *a = ctx;

	return a->cap ? capture_set_wide(a->cap, tgid, fd, gen) : 0;
}

/* --- periodic work --- */

/* capture_prog_stats()'s: a program of the agent's into the snapshot. */
static void own_prog(void *ctx, const char *name, uint64_t run_ns, uint64_t runs)
{
	struct self_snapshot *snap = ctx;
	struct self_prog *p;

	if (snap->nprogs == SELF_PROGS_MAX)
		return;
	p = &snap->progs[snap->nprogs++];
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->run_ns = run_ns;
	p->runs = runs;
}

/* What the agent costs: its own process's CPU time and resident memory
 * (read from its stat line as those of the instrumented processes are,
 * without their fd count, which no self-metric shows), and its BPF programs'
 * run time, every PROCMETRICS_NS (a bpf() call a program; a snapshot
 * without them leaves their counters as they are). */
static void own_cost(struct agent *a, struct self_snapshot *snap)
{
	uint64_t now = now_ns();
	struct procmetrics_sample me;
	long tck = sysconf(_SC_CLK_TCK);
	uint64_t ns_per_tick = 1000000000ull / (uint64_t)(tck > 0 ? tck : 100);

	if (!procmetrics_read_stat("/proc", (uint32_t)getpid(), &me)) {
		snap->own_read = true;
		snap->cpu_ns[0] = me.utime * ns_per_tick;
		snap->cpu_ns[1] = me.stime * ns_per_tick;
		snap->rss_bytes = me.rss_bytes;
	}
	if (a->cap && (!a->last_progs || now - a->last_progs >= PROCMETRICS_NS)) {
		a->last_progs = now;
		capture_prog_stats(a->cap, own_prog, snap);
	}
}

/*
 * The one writer of the self-metrics: the loop's sweep. Scrapes and OTLP
 * exports read the registry under its lock and see values at most a
 * sweep old.
 */
static void update_selfmetrics(struct agent *a)
{
	struct self_snapshot snap;

	pipeline_self_snapshot(a->pipe, &snap);
	if (a->cap) {
		capture_drops(a->cap, snap.kernel_drops);
		capture_go_unknown(a->cap, snap.go_unknown);
		capture_tls_unsupported(a->cap, snap.tls_unsupported);
	}
	own_cost(a, &snap);
	snap.instrumented = procs_instrumented(a->procs);
	snap.procs_untracked = procs_overflows(a->procs);
	if (a->ring)
		snap.shim_dropped += shm_ring_dropped(a->ring);
	snap.shim_dropped += shim_reporters_rejected(); /* refused by shim.uids / shim.cgroups */
	if (a->otlp) {
		struct otlp_stats st;

		otlp_exporter_stats(a->otlp, &st);
		snap.otlp_enabled = true;
		snap.otlp_errors[0] = st.export_errors[0];
		snap.otlp_errors[1] = st.export_errors[1];
		snap.otlp_dropped_spans = st.spans_dropped;
		snap.otlp_exported_spans = st.spans_exported;
	}
	if (a->tracer) {
		struct tracer_stats ts;

		tracer_stats(a->tracer, &ts);
		snap.budget_spans = ts.budget_spans;
	}
	if (a->logs) {
		struct otlp_stats st;

		otlp_exporter_stats(a->otlp, &st); /* zeros without an exporter */
		logs_update_selfmetrics(a->logs, st.logs_exported, st.logs_dropped);
	}
	selfmetrics_update(a->self, &snap);
}

static void pm_one(void *ctx, uint32_t tgid)
{
	struct agent *a = ctx;

	procmetrics_add(a->pm, tgid, procs_service_name(a->procs, tgid));
}

/* Where a Go process's runtime is: gotrack's reader thread reads the
 * executables, never the sweep. */
static int pm_go(void *ctx, uint32_t tgid, struct goruntime_layout *l, bool *pie)
{
	struct agent *a = ctx;

	return a->cap ? capture_go_runtime(a->cap, tgid, l, pie) : -ENOSYS;
}

/* process.* of the instrumented processes, every PROCMETRICS_NS. */
static void update_procmetrics(struct agent *a, uint64_t now)
{
	if (!a->pm || !a->procs || (a->last_pm && now - a->last_pm < PROCMETRICS_NS))
		return;
	a->last_pm = now;
	procmetrics_begin(a->pm);
	procs_for_each(a->procs, PROCMETRICS_MAX_PROCS + 1, pm_one, a);
	procmetrics_end(a->pm);
}

static void sweep(struct agent *a)
{
	uint64_t now = now_ns();

	update_procmetrics(a, now);

	pipeline_sweep(a->pipe, now);
	metric_registry_expire(a->reg, now); /* idle series, after --series-ttl */
	if (a->ring)
		shm_ring_heartbeat(a->ring);
	update_selfmetrics(a);
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
	metric_registry_set_ttl(a->reg, (uint64_t)cfg->series_ttl_s * 1000000000ull);
	if (podmeta_configure(cfg->k8s_labels))
		return -EINVAL; /* config.c has checked it */
	a->self = selfmetrics_new(a->reg);
	a->pm = procmetrics_new(a->reg, cfg->max_series, NULL);
	if (a->pm)
		procmetrics_set_go(a->pm, pm_go, a);
	return a->self && a->pm ? 0 : -ENOMEM;
}

/* After procs and the tracer: the pipeline borrows both. */
static int setup_pipeline(struct agent *a)
{
	struct pipeline_opts o = {
	    .reg = a->reg,
	    .routes = a->routes,
	    .procs = a->procs,
	    .tracer = a->tracer,
	    .logs = a->logs,
	    .max_series = a->cfg->max_series,
	    .max_conns = MAX_CONNS,
	    .own_traffic = a->cfg->own_traffic,
	    .hooks = {.select = on_select, .set_opaque = on_opaque, .set_wide = on_wide, .ctx = a},
	};

	a->pipe = pipeline_new(&o);
	return a->pipe ? 0 : -ENOMEM;
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
	    .h2_capture_bytes = a->cfg->http2_capture_bytes,
	    .ringbuf_bytes = a->cfg->ringbuf_bytes,
	    .filter = procs_filtering(a->procs),
	    .shim_rate = a->cfg->shim_rate,
	    .shim_burst = a->cfg->shim_burst,
	    .shim_uid_rate = a->cfg->shim_uid_rate,
	    .log_bytes = a->cfg->logs ? a->cfg->logs_capture_bytes : 0,
	    .log_rate = a->cfg->logs_rate,
	    .log_burst = a->cfg->logs_burst,
	    .log_files = a->files,
	    .goroutines = a->tracer != NULL, /* setup_export() ran before */
	};
	char err[512];
	int e;

	if (capture_preflight(err, sizeof(err))) {
		fprintf(stderr, "redtap: %s\n", err);
		return -EPERM;
	}
	e = shim_reporters_set(a->cfg->shim_uids, a->cfg->shim_cgroups, NULL);
	if (e) {
		fprintf(stderr, "redtap: shim.cgroups: \"%s\" under /sys/fs/cgroup: %s\n",
			a->cfg->shim_cgroups, strerror(-e));
		return e;
	}
	a->cap = capture_open(&opts, pipeline_record_as, a->pipe, err, sizeof(err));
	if (!a->cap) {
		fprintf(stderr, "redtap: %s\n", err);
		return -errno;
	}
	/* The only /proc walk: from now on exec, fork, listen and exit
	 * records keep the selection (procs.h). */
	procs_set_decided(a->procs, on_decided, a);
	procs_scan(a->procs, on_select, a);
	return 0;
}

/* What setup_request_attrs() hands the tracer: it lives until tracer_new(). */
struct reqattr_buf {
	char value[HTTP1_CAPTURE_VALUE]; /* the critical header's value */
	char bag[HTTP1_CAPTURE_MAX][HTTP1_CAPTURE_NAME + 1];
	const char *bag_keys[HTTP1_CAPTURE_MAX];
};

/* i such that names[i] is name (any case), or n. */
static size_t name_index(const char *const *names, size_t n, const char *name)
{
	size_t i = 0;

	while (i < n && strcasecmp(names[i], name) != 0)
		i++;
	return i;
}

/*
 * traces.header_attributes, traces.baggage_attributes and
 * traces.critical_header: the HTTP/1 parser captures the attribute headers,
 * then the baggage header and the critical one (unless already captured);
 * the spans carry the attributes (headers first, then baggage entries)
 * under their keys. Before any capture.
 */
static int setup_request_attrs(const struct redtap_config *cfg, struct tracer_opts *to,
			       struct reqattr_buf *b)
{
	char headers[HTTP1_CAPTURE_MAX][HTTP1_CAPTURE_NAME + 1];
	char keys[2 * HTTP1_CAPTURE_MAX][SEMCONV_REQUEST_KEY_MAX + 1];
	const char *hp[HTTP1_CAPTURE_MAX + 2], *kp[2 * HTTP1_CAPTURE_MAX];
	char crit[HTTP1_CAPTURE_NAME + 1], err[256];
	struct reqlabels_src src;
	size_t n, nb, ncap;

	/* each checked by the settings */
	if (tracer_parse_header_attrs(cfg->header_attrs, headers, keys, &n) ||
	    tracer_parse_header_attrs(cfg->baggage_attrs, b->bag, keys + n, &nb) ||
	    tracer_parse_critical_header(cfg->critical_header, crit, b->value))
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		hp[i] = headers[i];
	for (size_t i = 0; i < n + nb; i++)
		kp[i] = keys[i];
	ncap = n;
	if (nb) {
		to->baggage_header = name_index(hp, ncap, "baggage");
		if (to->baggage_header == ncap)
			hp[ncap++] = "baggage";
		for (size_t j = 0; j < nb; j++)
			b->bag_keys[j] = b->bag[j];
		to->nbaggage = nb;
		to->baggage_keys = b->bag_keys;
	}
	if (crit[0]) {
		to->critical_header = name_index(hp, ncap, crit);
		if (to->critical_header == ncap)
			hp[ncap++] = crit;
		to->critical_value = b->value;
	}
	if (n + nb > SEMCONV_REQUEST_KEYS || ncap > HTTP1_CAPTURE_MAX) {
		fprintf(stderr,
			"redtap: traces.header_attributes, traces.baggage_attributes and "
			"traces.critical_header: at most %d attributes and %d captured "
			"headers (the baggage header counts as one)\n",
			SEMCONV_REQUEST_KEYS, HTTP1_CAPTURE_MAX);
		return -EINVAL;
	}
	to->nrequest_attrs = n + nb;
	if (http1_capture_set(hp, ncap) || semconv_set_request_keys(kp, n + nb))
		return -EINVAL;
	/* traces.attribute_labels: before the pipeline declares the families */
	src = (struct reqlabels_src){.keys = kp,
				     .nattrs = n + nb,
				     .nbaggage = nb,
				     .bag_entries = b->bag_keys,
				     .bag_header = to->baggage_header};
	if (reqlabels_configure(cfg->attr_labels, &src, err, sizeof(err))) {
		fprintf(stderr, "redtap: %s\n", err);
		return -EINVAL;
	}
	return 0;
}

/* The application logs (user/signals/logs.h), after the tracer and the
 * exporter: they borrow both. */
static int setup_logs(struct agent *a)
{
	struct logs_opts o = {
	    .procs = a->procs,
	    .tracer = a->tracer,
	    .reg = a->reg,
	    .max_series = a->cfg->max_series,
	    .redact = a->cfg->logs_redact,
	    .redact_no_defaults = !a->cfg->logs_redact_defaults,
	    .emit = emit_log,
	    .ctx = a,
	};
	char err[512] = "";

	if (!a->cfg->logs)
		return 0;
	if (a->cfg->nlogs_files) {
		a->files =
		    logfiles_new((const char *const *)a->cfg->logs_files, a->cfg->nlogs_files);
		if (!a->files) {
			fprintf(stderr, "redtap: logs.files: %s\n", strerror(errno));
			return -errno;
		}
		o.files = a->files;
	}
	a->logs = logs_new(&o, err, sizeof(err));
	if (!a->logs) {
		fprintf(stderr, "redtap: logs: %s\n", err);
		return -errno;
	}
	rt_info("logs: capturing stdout and stderr of the selected processes");
	return 0;
}

/* OTLP export (logs only with log capture on: config_resolve()). */
static int setup_export(struct agent *a)
{
	const struct otlp_config *oc = &a->cfg->otlp;
	char traces[512], metrics[512];
	struct reqattr_buf rb;
	struct tracer_opts to = {
	    .sampler = a->cfg->sampler,
	    .critical_routes = a->cfg->critical_routes,
	    .ncritical = a->cfg->ncritical,
	    .critical_floor = a->cfg->critical_floor,
	    .error_ratio = a->cfg->error_ratio,
	    .window_ns = (uint64_t)a->cfg->sampling_window_s * 1000000000ull,
	    .budget = a->cfg->span_budget,
	};

	/* the request attributes label metrics too (traces.attribute_labels) */
	if (setup_request_attrs(a->cfg, &to, &rb))
		return -EINVAL;
	if (!oc->traces_url[0] && !oc->metrics_url[0] && !oc->logs_url[0])
		return 0;
	a->otlp = otlp_exporter_new(oc, oc->metrics_url[0] ? a->reg : NULL);
	if (!a->otlp) {
		fprintf(stderr, "redtap: cannot start the OTLP exporter: %s\n", strerror(errno));
		return -errno;
	}
	/* URLs may carry credentials (user:password@): never log them. */
	otlp_url_redact(traces, sizeof(traces), oc->traces_url[0] ? oc->traces_url : "off");
	otlp_url_redact(metrics, sizeof(metrics), oc->metrics_url[0] ? oc->metrics_url : "off");
	rt_info("OTLP export: traces %s, metrics %s", traces, metrics);
	if (!oc->traces_url[0])
		return 0;
	/* checked by the settings: cannot fail */
	tracer_parse_slow(a->cfg->traces_slow, &to.slow_ns, &to.slow_routes);
	a->tracer = tracer_new(&to, emit_span, a);
	return a->tracer ? 0 : -ENOMEM;
}

/* Shim-only mode: shims deliver through a shared-memory ring. */
static int setup_ring(struct agent *a)
{
	const char *path = a->cfg->shim_ring[0] ? a->cfg->shim_ring : shm_ring_default_path();

	a->ring = shm_ring_create(path, SHM_RING_BYTES);
	if (!a->ring) {
		fprintf(stderr, "redtap: cannot create the shim ring %s: %s\n", path,
			strerror(errno));
		return -errno;
	}
	return 0;
}

/*
 * Order matters: exchanges still open when the agent stops are not
 * reported (the agent stopping is no connection failure); the
 * self-metrics are brought up to date once more; the tracer decides the
 * traces it still holds, and the exporter flushes its last spans and
 * metrics while the tracer and the registry still exist.
 */
static void teardown(struct agent *a)
{
	promserver_stop(a->srv);
	if (a->pipe) {
		pipeline_stopping(a->pipe);
		update_selfmetrics(a);
		pipeline_free(a->pipe);
		a->pipe = NULL;
	}
	logs_free(a->logs); /* its last partial lines go to the exporter */
	a->logs = NULL;
	/* spans held for a tail decision get it now, then go out with the rest */
	tracer_flush(a->tracer);
	otlp_exporter_free(a->otlp, OTLP_FLUSH_MS);
	tracer_free(a->tracer);
	capture_close(a->cap);
	logfiles_free(a->files); /* after the capture and the logs, which borrow it */
	a->files = NULL;
	shm_ring_destroy(a->ring);
	selfmetrics_free(a->self);
	procmetrics_free(a->pm);
	procs_free(a->procs);
	route_table_free(a->routes);
	metric_registry_free(a->reg);
	k8sapi_stop();
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

/*
 * struct sched_attr as of Linux 3.14 (SCHED_ATTR_SIZE_VER0, 48 bytes): glibc
 * before 2.41 has neither the type nor the sched_setattr() wrapper.
 */
struct loop_sched_attr {
	uint32_t size;
	uint32_t sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime; /* a fair task's slice in ns (Linux 6.12), else ignored */
	uint64_t sched_deadline;
	uint64_t sched_period;
};

#define LOOP_SCHED_RESET_ON_FORK 0x01 /* SCHED_FLAG_RESET_ON_FORK, kept if set */

static int loop_getattr(struct loop_sched_attr *a)
{
	memset(a, 0, sizeof(*a));
	return syscall(SYS_sched_getattr, 0, a, sizeof(*a), 0) ? -errno : 0;
}

static int loop_setattr(struct loop_sched_attr *a)
{
	return syscall(SYS_sched_setattr, 0, a, 0) ? -errno : 0;
}

/*
 * The loop thread's scheduling, in one sched_setattr() call (the threads
 * started before keep theirs; the Go executable reader and the TLS library
 * scanner, started later by the loop, inherit both, which suits them: they
 * are paced background readers whose work should not hold a CPU either).
 *
 * capture.sched_batch: a SCHED_BATCH task never preempts the running one when
 * it wakes: the ring buffer's reader waits for nginx's or the client's time
 * slice to end or for them to block, instead of taking their CPU for the
 * length of a burst (issue 9, BENCHMARKS.md). On by default.
 *
 * capture.loop_slice_us: a custom EEVDF slice (sched_runtime of a fair task,
 * Linux 6.12; the kernel clamps it to 0.1..100 ms). Once the loop has run
 * for its slice, a task waking on its CPU may preempt it; its share of the
 * CPU and its wake-ups stay. Off by default: on nginx + wrk (2 CPUs) 100 us
 * did not cut the loop's 0.5 ms bursts: nginx and wrk run on the other CPU
 * meanwhile, so no one waits on the loop's (BENCHMARKS.md). Older kernels ignore sched_runtime for
 * fair tasks (and report 0 back): a warning says so; if one refuses it, the policy is applied
 * without it.
 */
static void loop_policy(const struct redtap_config *cfg)
{
	uint64_t want = (uint64_t)cfg->loop_slice_us * 1000;
	struct loop_sched_attr a;
	int err;

	if (!cfg->sched_batch && !want)
		return;
	err = loop_getattr(&a);
	if (!err && !cfg->sched_batch && a.sched_policy != SCHED_OTHER &&
	    a.sched_policy != SCHED_BATCH && a.sched_policy != SCHED_IDLE) {
		rt_warn("capture.loop_slice_us: the event loop runs under real-time policy %u, "
			"which has no slice; left as it is",
			a.sched_policy);
		return;
	}
	if (!err) {
		a.size = sizeof(a);
		a.sched_flags &= LOOP_SCHED_RESET_ON_FORK;
		if (cfg->sched_batch)
			a.sched_policy = SCHED_BATCH;
		a.sched_priority = 0;
		a.sched_runtime = want;
		a.sched_deadline = a.sched_period = 0;
		err = loop_setattr(&a);
		if (err == -EINVAL && want && cfg->sched_batch) {
			rt_warn("capture.loop_slice_us: the kernel refused a %u us slice; "
				"the event loop keeps the default one",
				cfg->loop_slice_us);
			want = 0;
			a.sched_runtime = 0;
			err = loop_setattr(&a);
		}
	}
	if (err) {
		rt_warn("capture.%s: %s", cfg->sched_batch ? "sched_batch" : "loop_slice_us",
			strerror(-err));
		return;
	}
	if (want && (loop_getattr(&a) || !a.sched_runtime)) {
		rt_warn("capture.loop_slice_us: this kernel ignores a fair task's slice "
			"(Linux 6.12 or later sets it); the event loop keeps the default one");
		want = 0;
	}
	if (want)
		rt_info("the event loop runs %s with a %llu us slice",
			cfg->sched_batch ? "as SCHED_BATCH" : "under its policy",
			(unsigned long long)a.sched_runtime / 1000);
	else
		rt_info("the event loop runs as SCHED_BATCH");
}

static int event_loop(struct agent *a)
{
	uint64_t last_sweep = now_ns();

	loop_policy(a->cfg);
	while (!stop_requested) {
		int n = a->cap ? capture_poll(a->cap, POLL_MS) : (usleep(POLL_MS * 1000), 0);
		uint64_t now = now_ns();

		promserver_beat(a->srv, now); /* /healthz fails when this stops */
		if (a->ring)
			shm_ring_drain(a->ring, pipeline_ring_record, a->pipe);
		pipeline_flush(a->pipe); /* before the sweep's exports */
		if (n < 0 && n != -EINTR) {
			rt_err("reading the ring buffer failed: %s", strerror(-n));
			return REDTAP_EXIT_FAILURE;
		}
		if (now - last_sweep >= SWEEP_NS) {
			sweep(a);
			last_sweep = now;
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
	/* the optional pod list: its first fetch runs while the probes load */
	if (k8sapi_start(&(struct k8sapi_config){.url = cfg->k8s_pods_url,
						 .token_file = cfg->k8s_token_file,
						 .ca_file = cfg->k8s_ca_file,
						 .refresh_s = cfg->k8s_refresh_s}))
		rt_warn("k8s pod list: cannot start its thread; pod metadata from /proc only");
	if (setup_procs(a))
		goto out;
	if (setup_export(a)) {
		rc = REDTAP_EXIT_USAGE;
		goto out;
	}
	if (setup_logs(a)) {
		rc = REDTAP_EXIT_USAGE;
		goto out;
	}
	if (setup_pipeline(a))
		goto out;
	if (cfg->no_bpf ? setup_ring(a) : setup_capture(a))
		goto out;
	a->srv = promserver_start(
	    &(struct promserver_opts){.host = cfg->listen_host,
				      .port = cfg->listen_port,
				      .tls_cert_file = cfg->metrics_tls_cert,
				      .tls_key_file = cfg->metrics_tls_key,
				      .token_file = cfg->metrics_token_file,
				      .max_conns_per_ip = cfg->metrics_max_conns_per_ip},
	    a->reg, err, sizeof(err));
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
