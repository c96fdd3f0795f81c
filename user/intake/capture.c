// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * capture.c - loads bpf/capture.bpf.c through its bpftool skeleton: checks
 * the platform, mounts tracefs when missing, sets the load-time
 * configuration, seeds the listening-port map from /proc/net/tcp*, attaches
 * every program and reads the ring buffers (one per CPU). See capture.h.
 */
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dirent.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "capture.h"
#include "capture.skel.h"
#include "connctl.h"
#include "gotrack.h"
#include "kfeatures.h"
#include "log.h"
#include "logfiles.h"
#include "ringbuf.h"
#include "rings.h"
#include "tlstrack.h"
#include "tracefs.h"

#define VMLINUX_BTF  "/sys/kernel/btf/vmlinux"
#define WAKEUP_BYTES (32u << 10) /* BENCHMARKS.md, "The wake-up threshold" */
/* A ring that took longer than SLOW_FILL_NS to gather WAKEUP_BYTES (under
 * 8 MB/s) wakes the reader at WAKEUP_BYTES_SLOW (BENCHMARKS.md, "Larger
 * bites of a slow stream"). */
#define WAKEUP_BYTES_SLOW (128u << 10)
#define SLOW_FILL_NS	  4000000ull

struct capture {
	struct capture_bpf *skel;
	struct rb_reader *rb; /* the rings' data mapped once (ringbuf.h) */
	int ring_fds[RT_RINGS_MAX];
	unsigned rings;	    /* ring_fds[0..rings) are open */
	uint32_t ring_size; /* bytes of each ring */
	/* the "selected" bitmaps (RT_SELECT_WORDS entries), mapped a page at
	 * a time as tgids need it: the whole is 1 MiB of RSS, a page holds
	 * the bits of 16384 tgids */
	struct rt_select_word *select_pages[RT_SELECT_WORDS * sizeof(struct rt_select_word) / 4096];
	size_t page;
	capture_record_fn fn;
	void *ctx;
	struct gotrack *go;	/* Go processes: goroutine ids (gotrack.h) */
	struct tlstrack *tls;	/* OpenSSL's plaintext (tlstrack.h); NULL: none */
	struct logfiles *files; /* logs.files (logfiles.h), borrowed; NULL: none */
	struct connctl *ctl;	/* the daemon's writes to "conns"; NULL: none */
	int ncpus;
	/* totals logged at close, for bench/profile.sh */
	uint64_t records, bytes, polls, busy_polls;
};

/* The mapped bitmap entry of tgid, mapping its page on first use; NULL and
 * errno on failure. */
static struct rt_select_word *select_word(struct capture *c, uint32_t tgid)
{
	size_t per_page = c->page / sizeof(struct rt_select_word), idx = tgid / 64,
	       pg = idx / per_page;
	void *m;

	if (pg >= sizeof(c->select_pages) / sizeof(c->select_pages[0])) {
		errno = ERANGE;
		return NULL;
	}
	if (!c->select_pages[pg]) {
		m = mmap(NULL, c->page, PROT_READ | PROT_WRITE, MAP_SHARED,
			 bpf_map__fd(c->skel->maps.selected), (off_t)(pg * c->page));
		if (m == MAP_FAILED)
			return NULL;
		c->select_pages[pg] = m;
	}
	return &c->select_pages[pg][idx % per_page];
}

/* Sets or clears tgid's selected bit, or its go bit: atomically, as the
 * kernel's programs set bits of the same words. */
static int bit_set(struct capture *c, uint32_t tgid, bool go, bool on)
{
	__u64 bit = 1ull << (tgid % 64), *w;
	struct rt_select_word *e;

	if (tgid / 64 >= RT_SELECT_WORDS)
		return -ERANGE;
	e = select_word(c, tgid);
	if (!e)
		return -errno;
	w = go ? &e->go : &e->selected;
	if (on)
		__atomic_fetch_or(w, bit, __ATOMIC_SEQ_CST);
	else
		__atomic_fetch_and(w, ~bit, __ATOMIC_SEQ_CST);
	return 0;
}

/* gotrack's gotrack_mark_fn: the go bit, set before a go_procs entry is
 * written and cleared after it is deleted. */
static int go_mark(void *ctx, uint32_t tgid, bool on)
{
	return bit_set(ctx, tgid, true, on);
}

/* clang-format off */
static const char *const drop_names[RT_DROP_MAX] = {
    [RT_DROP_RINGBUF_FULL] = "ringbuf_full",
    [RT_DROP_STASH_FULL] = "stash_full",
    [RT_DROP_CONN_FULL] = "conn_table_full",
    [RT_DROP_READ_FAULT] = "read_fault",
    [RT_DROP_SHIM_RATE] = "shim_rate_limited",
    [RT_DROP_LOG_RATE] = "log_rate_limited",
    [RT_DROP_TLS_NO_FD] = "tls_fd_unknown",
    [RT_DROP_FILE_RATE] = "file_open_rate_limited",
};
/* clang-format on */

const char *capture_drop_reason_name(unsigned reason)
{
	return reason < RT_DROP_MAX ? drop_names[reason] : "unknown";
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	enum log_level l = level == LIBBPF_WARN ? LOG_LVL_WARN : LOG_LVL_DEBUG;

	/* libbpf warns about things the caller handles; keep them at debug
	 * unless the user asked for them. */
	if (level == LIBBPF_WARN && log_current_level < LOG_LVL_DEBUG)
		l = LOG_LVL_DEBUG;
	if (l > log_current_level)
		return 0;
	/* Verifier logs are long and preformatted: pass them through whole. */
	if (strstr(fmt, "PROG LOAD LOG") || strlen(fmt) <= 3)
		return vfprintf(stderr, fmt, ap);
	log_vmsg(l, fmt, ap);
	return 0;
}

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* tracepoint attachment reads event ids from tracefs; mount it if needed. */
static int ensure_tracefs(char *err, size_t errlen)
{
	int rc = tracefs_ensure(err, errlen);

	if (rc == 1)
		rt_info("mounted tracefs on %s", TRACEFS);
	return rc < 0 ? rc : 0;
}

int capture_preflight(char *err, size_t errlen)
{
	if (geteuid() != 0) {
		seterr(err, errlen,
		       "loading eBPF programs needs root (CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN): "
		       "run the agent with sudo, or use --no-bpf for shim-only mode");
		return -EPERM;
	}
	if (access(VMLINUX_BTF, R_OK) != 0) {
		seterr(err, errlen,
		       "kernel BTF is missing (" VMLINUX_BTF "): redtap needs a kernel built "
		       "with CONFIG_DEBUG_INFO_BTF=y; use --no-bpf for shim-only mode");
		return -ENOENT;
	}
	return ensure_tracefs(err, errlen);
}

/* Marks every TCP port in LISTEN state in /proc/net/tcp{,6}. */
static void seed_listen_ports(struct capture *c)
{
	static const char *const files[] = {"/proc/net/tcp", "/proc/net/tcp6"};
	int fd = bpf_map__fd(c->skel->maps.listen_ports);
	__u8 one = 1;
	char line[512];

	for (size_t i = 0; i < 2; i++) {
		FILE *f = fopen(files[i], "re");

		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			unsigned port, state;
			__u16 p;

			/* "  0: 0100007F:1F90 00000000:0000 0A ..." */
			if (sscanf(line, " %*d: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x", &port,
				   &state) != 2 ||
			    state != 0x0A)
				continue;
			p = (__u16)port;
			bpf_map_update_elem(fd, &p, &one, BPF_ANY);
		}
		fclose(f);
	}
}

static int on_record(void *ctx, void *data, size_t len)
{
	struct capture *c = ctx;

	c->records++;
	c->bytes += len;
	if (len >= sizeof(struct rt_event_hdr) &&
	    ((const struct rt_event_hdr *)data)->type == RT_EV_FILE_OPEN) {
		if (c->files) /* consumed here: the pipeline never sees it */
			logfiles_on_open(c->files, data, len);
		return 0;
	}
	if (c->tls && len >= sizeof(struct rt_event_hdr)) {
		const struct rt_event_hdr *h = data;

		/* a process's libraries are mapped by its first data record */
		if (h->type == RT_EV_DATA)
			tlstrack_seen(c->tls, (uint32_t)(h->pid_tgid >> 32));
		else if (h->type == RT_EV_PROC_EXEC)
			tlstrack_forget(c->tls, (uint32_t)(h->pid_tgid >> 32));
	}
	return c->go ? gotrack_deliver(c->go, data, len, c->fn, c->ctx)
		     : c->fn(c->ctx, data, len, 0);
}

/* logfiles.h's mark writer: the kernel's "log_files" map. */
static int mark_file(void *ctx, uint32_t dev, uint64_t ino, uint32_t id, bool del)
{
	struct capture *c = ctx;
	struct rt_file_key k = {.ino = ino, .dev = dev};
	int fd = bpf_map__fd(c->skel->maps.log_files);

	if (del)
		return bpf_map_delete_elem(fd, &k) && errno != ENOENT ? -errno : 0;
	return bpf_map_update_elem(fd, &k, &id, BPF_ANY) ? -errno : 0;
}

/*
 * The open programs (log files) are loaded only with globs, and each only
 * where its tracepoint exists (open and creat are x86-64 only): without
 * globs an open costs nothing.
 */
static void setup_file_progs(struct capture *c, bool on)
{
	const struct {
		struct bpf_program *enter, *exit;
		const char *name;
	} progs[] = {
	    {c->skel->progs.enter_openat, c->skel->progs.exit_openat, "openat"},
	    {c->skel->progs.enter_openat2, c->skel->progs.exit_openat2, "openat2"},
	    {c->skel->progs.enter_open_, c->skel->progs.exit_open_, "open"},
	    {c->skel->progs.enter_creat, c->skel->progs.exit_creat, "creat"},
	};
	char path[128];
	struct stat st;

	c->skel->rodata->log_files_on = on;
	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		bool load = on;

		snprintf(path, sizeof(path), TRACEFS "/events/syscalls/sys_enter_%s",
			 progs[i].name);
		if (load && stat(path, &st)) {
			snprintf(path, sizeof(path),
				 TRACEFS_DEBUGFS "/events/syscalls/sys_enter_%s", progs[i].name);
			load = stat(path, &st) == 0;
		}
		bpf_program__set_autoload(progs[i].enter, load);
		bpf_program__set_autoload(progs[i].exit, load);
	}
}

/* Every process is selected: the log files each one has open now. */
static void scan_all_files(struct capture *c)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	uint32_t self = (uint32_t)getpid();

	if (!d)
		return;
	while ((e = readdir(d))) {
		char *end;
		unsigned long pid = strtoul(e->d_name, &end, 10);

		if (*end || !pid || pid == self)
			continue;
		logfiles_scan(c->files, "/proc", (uint32_t)pid);
	}
	closedir(d);
}

static const char *load_hint(int e)
{
	if (e == EPERM || e == EACCES)
		return "the kernel refused the eBPF programs: check "
		       "kernel.unprivileged_bpf_disabled, "
		       "lockdown mode (/sys/kernel/security/lockdown) or the container's seccomp "
		       "and capability policy";
	if (e == ENOENT || e == ESRCH)
		return "a tracepoint this kernel should have is missing";
	return "run with -v to see the verifier log";
}

struct capture *capture_open(const struct capture_opts *opts, capture_record_fn fn, void *ctx,
			     char *err, size_t errlen)
{
	struct capture *c;
	int e;

	libbpf_set_print(libbpf_print);
	c = calloc(1, sizeof(*c));
	if (!c) {
		seterr(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	c->fn = fn;
	c->ctx = ctx;
	c->page = (size_t)sysconf(_SC_PAGESIZE); /* before gotrack: its go bits */
	c->ncpus = libbpf_num_possible_cpus();

	c->skel = capture_bpf__open();
	if (!c->skel) {
		e = errno;
		seterr(err, errlen, "cannot open the eBPF object: %s", strerror(e));
		goto err_free;
	}
	c->skel->rodata->agent_tgid = (__u32)getpid();
	c->skel->rodata->capture_bytes = opts->capture_bytes;
	/* HTTP/2's own size when above it; 0 turns the preface compare off */
	c->skel->rodata->h2_capture_bytes =
	    opts->h2_capture_bytes > opts->capture_bytes ? opts->h2_capture_bytes : 0;
	if (c->skel->rodata->h2_capture_bytes > RT_CAPTURE_MAX)
		c->skel->rodata->h2_capture_bytes = RT_CAPTURE_MAX;
	/* log capture: off unless asked; its budget as GCRA like the shim's */
	c->skel->rodata->log_bytes =
	    opts->log_bytes > RT_CAPTURE_MAX ? RT_CAPTURE_MAX : opts->log_bytes;
	c->skel->rodata->log_interval_ns = opts->log_rate ? 1000000000ull / opts->log_rate : 0;
	c->skel->rodata->log_burst_ns =
	    c->skel->rodata->log_interval_ns * (opts->log_burst ? opts->log_burst : 1);
	c->skel->rodata->filter_enabled = opts->filter;
	c->skel->rodata->record_goroutines = opts->goroutines;
	c->skel->rodata->untrusted_loads = kfeatures_untrusted_loads();
	c->files = opts->log_bytes ? opts->log_files : NULL;
	setup_file_progs(c, c->files != NULL);
	/* the shim budget as GCRA: one record per interval, burst intervals ahead */
	c->skel->rodata->shim_interval_ns = opts->shim_rate ? 1000000000ull / opts->shim_rate : 0;
	c->skel->rodata->shim_burst_ns =
	    c->skel->rodata->shim_interval_ns * (opts->shim_burst ? opts->shim_burst : 1);
	c->skel->rodata->shim_uid_interval_ns =
	    opts->shim_uid_rate ? 1000000000ull / opts->shim_uid_rate : 0;
	c->skel->rodata->shim_uid_burst_ns =
	    c->skel->rodata->shim_uid_interval_ns * (opts->shim_burst ? opts->shim_burst : 1);
	/* one ring per CPU, sharing --ringbuf-size (0: auto, rings.h) */
	c->skel->rodata->ring_count = rings_count();
	c->ring_size = rings_size(opts->ringbuf_bytes, c->skel->rodata->ring_count);
	e = rings_prepare(c->skel->maps.rings, c->skel->rodata->ring_count);
	if (e) {
		e = -e;
		seterr(err, errlen, "cannot size the ring buffers: %s", strerror(e));
		goto err_destroy;
	}
	/* Wake the reader once a ring holds WAKEUP_BYTES unread (or a
	 * quarter of a small ring): large bursts of parsing made the host's
	 * tail latency worse (BENCHMARKS.md); the reader also polls every
	 * 100 ms. A slow stream is read at WAKEUP_BYTES_SLOW (or half a
	 * small ring), where fewer, colder wake-ups cost the daemon less. */
	c->skel->rodata->wakeup_bytes = c->ring_size / 4;
	if (c->skel->rodata->wakeup_bytes > WAKEUP_BYTES)
		c->skel->rodata->wakeup_bytes = WAKEUP_BYTES;
	c->skel->rodata->wakeup_bytes_slow = c->ring_size / 2;
	if (c->skel->rodata->wakeup_bytes_slow > WAKEUP_BYTES_SLOW)
		c->skel->rodata->wakeup_bytes_slow = WAKEUP_BYTES_SLOW;
	c->skel->rodata->slow_fill_ns = SLOW_FILL_NS;

	e = capture_bpf__load(c->skel);
	if (e) {
		e = -e;
		seterr(err, errlen, "cannot load the eBPF programs (%s): %s", strerror(e),
		       load_hint(e));
		goto err_destroy;
	}
	e = rings_create(c->skel->maps.rings, c->skel->rodata->ring_count, c->ring_size,
			 c->ring_fds);
	if (e) {
		e = -e;
		seterr(err, errlen, "cannot create the ring buffers (%u of %u bytes): %s",
		       c->skel->rodata->ring_count, c->ring_size, strerror(e));
		goto err_destroy;
	}
	c->rings = c->skel->rodata->ring_count;
	seed_listen_ports(c);
	c->ctl = connctl_new(bpf_map__fd(c->skel->maps.conns));
	if (!c->ctl)
		rt_warn("capture: no syscall programs (%s; kernel 5.14 has them): connections the "
			"agent does not parse are copied all the same, and HTTP/2 ones it joined "
			"late keep the short capture size",
			strerror(errno));
	c->go = gotrack_new();
	if (c->go)
		gotrack_owner_probes(c->go, opts->goroutines);
	e = c->go ? gotrack_bpf_init(c->go, c->skel->obj, go_mark, c) : -ENOMEM;
	if (e)
		rt_warn("go: no net/http entry probes (%s): client calls of Go services get no "
			"parent",
			strerror(-e));
	if (c->go && !opts->filter)
		gotrack_auto(c->go);
	c->tls = tlstrack_new(&(struct tlstrack_progs){
	    .read = c->skel->progs.tls_read_enter,
	    .read_ex = c->skel->progs.tls_read_ex_enter,
	    .write = c->skel->progs.tls_write_enter,
	    .write_ex = c->skel->progs.tls_write_ex_enter,
	    .quiet = c->skel->progs.tls_quiet_enter,
	    .ret = c->skel->progs.tls_return,
	});
	e = capture_bpf__attach(c->skel);
	if (e) {
		e = -e;
		seterr(err, errlen, "cannot attach the eBPF programs (%s): %s", strerror(e),
		       load_hint(e));
		goto err_destroy;
	}
	/* every process is selected: the system's libssl files before any
	 * process maps them (a short curl started later is seen from its
	 * first call), then those processes mapping one now. With a
	 * selection, unselected processes must not pay the uprobe traps
	 * until a selected process maps that libssl. */
	if (c->tls && !opts->filter) {
		tlstrack_probe_system(c->tls);
		tlstrack_scan_all(c->tls);
	}
	if (c->files) {
		logfiles_set_mark(c->files, mark_file, c);
		if (!opts->filter)
			scan_all_files(c);
	}
	c->rb = rb_reader_new(c->ring_fds, c->rings, c->ring_size, on_record, c);
	if (!c->rb) {
		e = errno;
		seterr(err, errlen, "cannot map the ring buffers: %s", strerror(e));
		goto err_destroy;
	}
	/* Loading parsed the kernel's BTF (megabytes, freed by now): give
	 * the freed heap back rather than carry it as RSS (~300 KiB). */
	malloc_trim(0);
	return c;

err_destroy:
	rings_close(c->ring_fds, c->rings);
	connctl_free(c->ctl);
	tlstrack_free(c->tls);
	gotrack_free(c->go);
	capture_bpf__destroy(c->skel);
err_free:
	free(c);
	errno = e;
	return NULL;
}

/* tlstrack_flush()'s: tgid maps a library with a TLS stack (tlslibs.h). */
static void tls_lib_stack(void *ctx, uint32_t tgid, unsigned stack)
{
	gotrack_tls_stack(ctx, tgid, stack);
}

int capture_poll(struct capture *c, int timeout_ms)
{
	int n, m;

	/* Producers wake us only past a backlog, so poll with a timeout
	 * and then consume whatever is there. */
	if (c->go && !c->polls)
		gotrack_async(c->go); /* the event loop's first poll */
	n = rb_reader_poll(c->rb, timeout_ms);
	if (n < 0)
		return n;
	m = rb_reader_consume(c->rb);
	if (m < 0)
		return m;
	if (c->go)
		gotrack_flush(c->go, false, c->fn, c->ctx);
	if (c->tls && c->go)
		tlstrack_flush(c->tls, tls_lib_stack, c->go);
	c->polls++;
	c->busy_polls += n + m > 0;
	return n + m;
}

/* Sets or clears tgid's bit in the kernel's selection bitmap, atomically:
 * proc_fork may set another bit of the same word at the same moment. */
_Static_assert(GOTRACK_UNKNOWN_MAX <= 8, "the self-metrics snapshot has 8 Go reason slots");

int capture_go_unknown(struct capture *c, uint64_t *out)
{
	if (!c->go) {
		memset(out, 0, GOTRACK_UNKNOWN_MAX * sizeof(*out));
		return -ENOENT;
	}
	return gotrack_unknown(c->go, out);
}

int capture_go_runtime(struct capture *c, uint32_t tgid, struct goruntime_layout *l, bool *pie)
{
	return c->go ? gotrack_runtime(c->go, tgid, l, pie) : -ENOSYS;
}

int capture_tls_unsupported(struct capture *c, uint64_t *out)
{
	if (!c->go) {
		memset(out, 0, TLSSCAN_MAX * sizeof(*out));
		return -ENOENT;
	}
	memcpy(out, gotrack_stats(c->go)->tls_unsupported, TLSSCAN_MAX * sizeof(*out));
	return 0;
}

unsigned capture_go_reasons(void)
{
	return GOTRACK_UNKNOWN_MAX;
}

const char *capture_go_reason_name(unsigned reason)
{
	return gotrack_unknown_name(reason);
}

int capture_select(struct capture *c, uint32_t tgid, bool on)
{
	int rc = bit_set(c, tgid, false, on);

	if (rc)
		return rc;
	if (c->go)
		gotrack_select(c->go, tgid, on);
	/* scanned now, and again at its first data record: what it maps by
	 * then (dlopen(): Python's ssl, an extension) is found too */
	if (c->tls && on)
		tlstrack_scan(c->tls, tgid);
	/* after the bit: a file opened from now on is reported, one opened
	 * before is found here (both: decided once) */
	if (c->files && on)
		logfiles_scan(c->files, "/proc", tgid);
	return 0;
}

int capture_pending_done(struct capture *c, uint32_t tgid)
{
	int fd = bpf_map__fd(c->skel->maps.pending);

	if (bpf_map_delete_elem(fd, &tgid) && errno != ENOENT)
		return -errno;
	return 0;
}

/*
 * The daemon's fields of a conns entry change in place, through
 * connctl.bpf.c: never a whole entry read and written back, which lost
 * what the kernel set in between (tls, cap_bytes) and could write an old
 * connection over a new one on the same fd. A deleted entry is never
 * re-created.
 */
static int conn_set(struct capture *c, uint32_t tgid, uint32_t fd, uint64_t gen,
		    enum rt_connctl_op op, uint32_t value)
{
	struct rt_connctl req = {.gen = gen, .tgid = tgid, .fd = fd, .op = op, .value = value};

	return c->ctl ? connctl_apply(c->ctl, &req) : -EOPNOTSUPP;
}

int capture_set_opaque(struct capture *c, uint32_t tgid, uint32_t fd, uint64_t gen)
{
	return conn_set(c, tgid, fd, gen, RT_CONNCTL_OPAQUE, 0);
}

int capture_set_wide(struct capture *c, uint32_t tgid, uint32_t fd, uint64_t gen)
{
	__u32 wide = c->skel->rodata->h2_capture_bytes;

	/* 0: HTTP/2 gets capture_bytes, nothing to raise */
	return wide ? conn_set(c, tgid, fd, gen, RT_CONNCTL_WIDE, wide) : 0;
}

static void obj_prog_stats(struct bpf_object *obj, capture_prog_fn fn, void *ctx)
{
	struct bpf_program *p;

	bpf_object__for_each_program(p, obj)
	{
		struct bpf_prog_info info = {0};
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(p);

		if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len) && info.run_cnt)
			fn(ctx, bpf_program__name(p), info.run_time_ns, info.run_cnt);
	}
}

void capture_prog_stats(struct capture *c, capture_prog_fn fn, void *ctx)
{
	struct bpf_object *go = gotrack_bpf_object(c->go);

	obj_prog_stats(c->skel->obj, fn, ctx);
	if (go)
		obj_prog_stats(go, fn, ctx);
}

int capture_drops(struct capture *c, uint64_t out[RT_DROP_MAX])
{
	int fd = bpf_map__fd(c->skel->maps.drops);
	__u64 *vals;

	vals = calloc((size_t)c->ncpus, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (__u32 r = 0; r < RT_DROP_MAX; r++) {
		out[r] = 0;
		if (bpf_map_lookup_elem(fd, &r, vals))
			continue;
		for (int cpu = 0; cpu < c->ncpus; cpu++)
			out[r] += vals[cpu];
	}
	free(vals);
	return 0;
}

void capture_close(struct capture *c)
{
	if (!c)
		return;
	rt_info("capture: %llu records, %llu bytes from %u ring buffers in %llu polls (%llu "
		"with records); their windows moved %llu times, %llu records too long skipped",
		(unsigned long long)c->records, (unsigned long long)c->bytes, c->rings,
		(unsigned long long)c->polls, (unsigned long long)c->busy_polls,
		(unsigned long long)(c->rb ? rb_reader_moves(c->rb) : 0),
		(unsigned long long)(c->rb ? rb_reader_skipped(c->rb) : 0));
	rb_reader_free(c->rb);
	rings_close(c->ring_fds, c->rings);
	if (c->files)
		logfiles_set_mark(c->files, NULL, NULL);
	tlstrack_free(c->tls);
	gotrack_free(c->go);
	connctl_free(c->ctl);
	for (size_t i = 0; i < sizeof(c->select_pages) / sizeof(c->select_pages[0]); i++)
		if (c->select_pages[i])
			munmap(c->select_pages[i], c->page);
	capture_bpf__destroy(c->skel);
	free(c);
}
