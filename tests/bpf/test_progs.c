// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_progs.c - kernel-side tests of bpf/capture.bpf.c, in the spirit of
 * the kernel's tools/testing/selftests/bpf: the real object, loaded by its
 * skeleton, attached, and driven by real system calls from this process
 * and its children; what the programs did is read back from their maps
 * and ring buffer. Needs root. Run by `make bpf-test`.
 *
 *  - every program is accepted by the verifier with the shipped defaults,
 *    with the extreme capture sizes (16 and RT_CAPTURE_MAX), with and
 *    without the HTTP/2 capture size, and in both selection modes;
 *  - capture.bpf.o and bench/floor.bpf.o attach to the same points;
 *  - bench/bound.bpf.o (the benchmarks' lower bound) loads at each level;
 *  - a fork of a selected process is selected, its exit clears it and is
 *    reported with its start time; forks of a process the daemon has not
 *    decided yet are reported; a listen() is reported;
 *  - I/O on pipes never enters the connection table (only the negative
 *    cache, until close), I/O on a TCP socket does, under the socket's
 *    inode number, and a close is reported;
 *  - a connection that starts with the HTTP/2 preface is copied up to
 *    h2_capture_bytes from its first record on, both ends, and another is
 *    cut at capture_bytes until the daemon raises its cap_bytes;
 *  - the daemon's opaque and wide (user/intake/connctl.c, run here on the
 *    real object) change their own field of an entry and keep the
 *    kernel's (tls, cap_bytes, generation), and are refused for an entry
 *    that became another connection on the same fd;
 *  - with two rings, a record written on CPU c is in ring c % 2 only;
 *  - the daemon's ring reader hands out every record whole and in order,
 *    those that wrap included, from a ring mapped whole and from one read
 *    through a moving window;
 *  - the reader is woken once a ring's unread backlog reaches the
 *    threshold, not again for a ring it drained meanwhile;
 *  - a data record reads the goroutine (struct rt_data_tail) of a process
 *    with a go_procs entry only while the process's go bit is set, and
 *    the go bit dies with the process; a Go process's egress records
 *    look up only the owner maps its go_procs entry names.
 *
 * With --insns FILE it writes each program's instruction counts
 * (verified, translated, JITed bytes) as a Markdown table instead
 * (bench/kernel.sh): capture.bpf.c's at two capture sizes, then
 * goprobes.bpf.c's, loaded on capture's maps by the daemon's own
 * goprobes_load().
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <asm/prctl.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/wait.h>
#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "redtap/event.h"
#include "capture.skel.h"
#include "connctl.h"
#include "bound.skel.h"
#include "floor.skel.h"
#include "rings.h"
#include "ringbuf.h"
#include "tracefs.h"
#include "goprobes_load.h"
#include "kfeatures.h"

#define MAX_RECS 4096
#define PORT	 30150 /* this suite's own TCP port (127.0.0.1) */

/* Records of interest read from the ring buffer: a copy of each. */
struct recs {
	uint8_t *rec[MAX_RECS];
	size_t len[MAX_RECS];
	size_t n;
};

struct fx {
	struct capture_bpf *skel;
	struct ring_buffer *rb;
	struct rt_select_word *select; /* the mmapped "selected" bitmaps */
	struct recs recs;
};

static int silent(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN && getenv("BPF_TEST_VERBOSE"))
		return vfprintf(stderr, fmt, ap);
	return 0;
}

static int keep(void *ctx, void *data, size_t len)
{
	struct recs *r = ctx;

	if (r->n >= MAX_RECS)
		return 0;
	r->rec[r->n] = malloc(len);
	if (!r->rec[r->n])
		return 0;
	memcpy(r->rec[r->n], data, len);
	r->len[r->n++] = len;
	return 0;
}

static void recs_clear(struct recs *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->rec[i]);
	r->n = 0;
}

/* Reads what the ring holds so far, then forgets it: the records after
 * this are the next call's. */
static void recs_drop_pending(struct fx *f)
{
	ring_buffer__consume(f->rb);
	recs_clear(&f->recs);
}

/* Loads an opened object with n rings of size bytes (user/intake/rings.c,
 * as the daemon does); the rings live in the object's array of maps. */
/* Whether the tests load the untrusted loads (kfeatures.h) where the
 * kernel allows them, as the agent does; test_verifier_accepts_every_config
 * also loads without. */
static bool no_untrusted_loads;

/* Loads the object with n rings of size bytes (every load of these tests
 * comes here). */
static int load_rings_sized(struct capture_bpf *skel, unsigned n, uint32_t size)
{
	int fds[RT_RINGS_MAX], e;

	skel->rodata->untrusted_loads = !no_untrusted_loads && kfeatures_untrusted_loads();
	skel->rodata->ring_count = n;
	e = rings_prepare(skel->maps.rings, n);
	if (!e)
		e = capture_bpf__load(skel);
	if (!e)
		e = rings_create(skel->maps.rings, n, size, fds);
	if (!e)
		rings_close(fds, n); /* the array holds them */
	return e;
}

static int load_rings(struct capture_bpf *skel, unsigned n)
{
	return load_rings_sized(skel, n, 1u << 20);
}

/* An fd of ring i of a loaded object, or -1. */
static int ring_fd(struct capture_bpf *skel, unsigned i)
{
	uint32_t id;

	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.rings), &i, &id))
		return -1;
	return bpf_map_get_fd_by_id(id);
}

/* A reader of ring i of a loaded object, filling recs. */
static struct ring_buffer *ring_reader(struct capture_bpf *skel, unsigned i, struct recs *recs)
{
	struct ring_buffer *rb;
	int fd = ring_fd(skel, i);

	if (fd < 0)
		return NULL;
	rb = ring_buffer__new(fd, keep, recs, NULL);
	close(fd); /* the reader's mapping holds the ring */
	return rb;
}

/* Opens and loads the object; filter mode, this process never the agent;
 * h2_capture_bytes as given; one ring, which every CPU writes. */
static struct capture_bpf *load_h2(uint32_t capture_bytes, uint32_t h2, bool filter)
{
	struct capture_bpf *skel = capture_bpf__open();

	if (!skel)
		return NULL;
	skel->rodata->agent_tgid = 0;
	skel->rodata->capture_bytes = capture_bytes;
	skel->rodata->h2_capture_bytes = h2;
	skel->rodata->filter_enabled = filter;
	if (load_rings(skel, 1)) {
		capture_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

/* As the agent loads it by default: HTTP/2 copied up to RT_H2_CAPTURE_DEFAULT
 * when that is more than capture_bytes. */
static struct capture_bpf *load(uint32_t capture_bytes, bool filter)
{
	return load_h2(capture_bytes,
		       RT_H2_CAPTURE_DEFAULT > capture_bytes ? RT_H2_CAPTURE_DEFAULT : 0, filter);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->skel = load(RT_CAPTURE_DEFAULT, true);
	if (!f->skel || capture_bpf__attach(f->skel))
		return -1;
	f->select =
	    mmap(NULL, RT_SELECT_WORDS * sizeof(struct rt_select_word), PROT_READ | PROT_WRITE,
		 MAP_SHARED, bpf_map__fd(f->skel->maps.selected), 0);
	if (f->select == MAP_FAILED)
		return -1;
	f->rb = ring_reader(f->skel, 0, &f->recs);
	if (!f->rb)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (!f)
		return 0; /* setup failed before it had a fixture */
	ring_buffer__free(f->rb);
	munmap(f->select, RT_SELECT_WORDS * sizeof(struct rt_select_word));
	capture_bpf__destroy(f->skel);
	recs_clear(&f->recs);
	free(f);
	return 0;
}

static bool selected(const struct fx *f, uint32_t tgid)
{
	return __atomic_load_n(&f->select[tgid / 64].selected, __ATOMIC_SEQ_CST) >> (tgid % 64) & 1;
}

static bool go_bit(const struct fx *f, uint32_t tgid)
{
	return __atomic_load_n(&f->select[tgid / 64].go, __ATOMIC_SEQ_CST) >> (tgid % 64) & 1;
}

static bool go_tls_bit(const struct fx *f, uint32_t tgid)
{
	return __atomic_load_n(&f->select[tgid / 64].go_tls, __ATOMIC_SEQ_CST) >> (tgid % 64) & 1;
}

/* Sets or clears tgid's bit in one of the words of its entry, atomically
 * as the daemon does. */
static void bit_to(__u64 *word, uint32_t tgid, bool on)
{
	if (on)
		__atomic_fetch_or(word, 1ull << (tgid % 64), __ATOMIC_SEQ_CST);
	else
		__atomic_fetch_and(word, ~(1ull << (tgid % 64)), __ATOMIC_SEQ_CST);
}

static void set_go(struct fx *f, uint32_t tgid, bool on)
{
	bit_to(&f->select[tgid / 64].go, tgid, on);
}

static void set_go_tls(struct fx *f, uint32_t tgid, bool on)
{
	bit_to(&f->select[tgid / 64].go_tls, tgid, on);
}

static void set_selected(struct fx *f, uint32_t tgid, bool on)
{
	bit_to(&f->select[tgid / 64].selected, tgid, on);
}

/* The first record of type for tgid (the header's), or NULL; drains first. */
static const void *find_rec(struct fx *f, uint16_t type, uint32_t tgid)
{
	ring_buffer__consume(f->rb);
	for (size_t i = 0; i < f->recs.n; i++) {
		const struct rt_event_hdr *h = (const void *)f->recs.rec[i];

		if (h->type == type && (uint32_t)(h->pid_tgid >> 32) == tgid)
			return h;
	}
	return NULL;
}

/* ---- the verifier ---- */

static void test_verifier_accepts_every_config(void **state)
{
	static const uint32_t sizes[] = {RT_CAPTURE_DEFAULT, 16, RT_CAPTURE_MAX};

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		for (int k = 0; k < 8; k++) {
			int filter = k & 1;
			uint32_t h2 = k & 2 ? RT_CAPTURE_MAX : 0; /* h2 wider, or off */
			struct capture_bpf *skel;
			struct bpf_program *p;
			int n = 0;

			no_untrusted_loads = k & 4;
			skel = load_h2(sizes[i], h2, filter);
			no_untrusted_loads = false;
			if (!skel)
				fail_msg("not loaded: capture_bytes %u, h2 %u, filter %d, untrusted "
					 "loads %s",
					 sizes[i], h2, filter, k & 4 ? "off" : "as the kernel allows");
			bpf_object__for_each_program(p, skel->obj)
			{
				assert_true(bpf_program__fd(p) >= 0);
				n++;
			}
			assert_int_equal(n, 9 + 20 + 8); /* data exits, others, log-file opens */
			capture_bpf__destroy(skel);
		}
	}
}

/* Loads and attaches skel (its log settings already in rodata) in filter
 * mode with this process selected, with n rings; the returned reader of
 * ring 0 feeds recs. */
static struct ring_buffer *load_selecting_self_rings(struct capture_bpf *skel, struct recs *recs,
						     unsigned n)
{
	uint32_t self = (uint32_t)getpid(), idx = self / 64;
	struct rt_select_word word = {.selected = 1ull << (self % 64)};
	struct ring_buffer *rb;

	skel->rodata->capture_bytes = RT_CAPTURE_DEFAULT;
	skel->rodata->filter_enabled = true;
	assert_int_equal(load_rings(skel, n), 0);
	assert_int_equal(capture_bpf__attach(skel), 0);
	rb = ring_reader(skel, 0, recs);
	assert_non_null(rb);
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(skel->maps.selected), &idx, &word, 0), 0);
	return rb;
}

static struct ring_buffer *load_selecting_self(struct capture_bpf *skel, struct recs *recs)
{
	return load_selecting_self_rings(skel, recs, 1);
}

/* Moves this thread to CPU cpu; false when it cannot run there. */
static bool run_on(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) == 0 && sched_getcpu() == cpu;
}

/* Per-CPU rings: with two rings, a record written on CPU c is in ring
 * c % 2 and no other, whichever CPU it is. Log records of this process's
 * stdout, written from CPU 1 and then from CPU 0. */
static void test_ring_per_cpu(void **state)
{
	struct capture_bpf *skel = capture_bpf__open();
	struct recs recs[2];
	struct ring_buffer *rb[2];
	uint32_t self = (uint32_t)getpid();
	int out[2], saved, found[2] = {0, 0};
	cpu_set_t all;
	char sink[256];

	(void)state;
	memset(recs, 0, sizeof(recs));
	if (libbpf_num_possible_cpus() < 2 || sched_getaffinity(0, sizeof(all), &all) ||
	    !CPU_ISSET(0, &all) || !CPU_ISSET(1, &all)) {
		capture_bpf__destroy(skel);
		skip();
	}
	assert_non_null(skel);
	skel->rodata->log_bytes = 64;
	skel->rodata->log_interval_ns = 1000;
	skel->rodata->log_burst_ns = 1000000000ull;
	rb[0] = load_selecting_self_rings(skel, &recs[0], 2);
	rb[1] = ring_reader(skel, 1, &recs[1]);
	assert_non_null(rb[1]);
	assert_null(ring_reader(skel, 2, &recs[1])); /* two rings, no more */

	assert_int_equal(pipe(out), 0);
	fflush(stdout);
	saved = dup(1);
	assert_true(dup2(out[1], 1) == 1);
	assert_true(run_on(1));
	assert_int_equal(write(1, "on cpu 1\n", 9), 9);
	assert_true(run_on(0));
	assert_int_equal(write(1, "on cpu 0\n", 9), 9);
	assert_true(dup2(saved, 1) == 1);
	close(saved);
	assert_int_equal(sched_setaffinity(0, sizeof(all), &all), 0);
	assert_true(read(out[0], sink, sizeof(sink)) > 0);

	for (int r = 0; r < 2; r++) {
		ring_buffer__consume(rb[r]);
		for (size_t i = 0; i < recs[r].n; i++) {
			const struct rt_data_event *ev = (const void *)recs[r].rec[i];

			assert_int_equal(ev->hdr.cpu % 2, r); /* every record, of any process */
			if (ev->hdr.type != RT_EV_LOG || ev->conn.tgid != self || ev->cap_len != 9)
				continue;
			if (!memcmp(ev->data, r ? "on cpu 1\n" : "on cpu 0\n", 9))
				found[r]++;
			else
				fail_msg("ring %d has a record written on the other CPU", r);
		}
	}
	assert_int_equal(found[0], 1);
	assert_int_equal(found[1], 1);
	close(out[0]);
	close(out[1]);
	for (int r = 0; r < 2; r++) {
		ring_buffer__free(rb[r]);
		recs_clear(&recs[r]);
	}
	capture_bpf__destroy(skel);
}

/* Log capture (issue 16): writes to stdout and its dups become RT_EV_LOG
 * records cut at log_bytes, other fds do not, and the per-process budget
 * drops (and counts) what is over it. Its own skeleton: log capture is
 * load-time configuration. */
static void test_log_capture(void **state)
{
	struct capture_bpf *skel = capture_bpf__open();
	struct recs recs = {0};
	struct ring_buffer *rb;
	uint32_t self = (uint32_t)getpid(), r = RT_DROP_LOG_RATE;
	uint64_t drops[512] = {0}, dropped = 0;
	int out[2], other[2], saved, dup7, logs = 0, cut = 0, ncpu = libbpf_num_possible_cpus();
	char big[200], sink[4096];

	(void)state;
	assert_non_null(skel);
	skel->rodata->log_bytes = 64;
	skel->rodata->log_interval_ns = 1000000000ull; /* 1 write/s ... */
	skel->rodata->log_burst_ns = 5000000000ull;    /* ... 6 at once */
	rb = load_selecting_self(skel, &recs);

	assert_int_equal(pipe(out), 0);
	assert_int_equal(pipe(other), 0);
	fflush(stdout);
	saved = dup(1);
	assert_true(dup2(out[1], 1) == 1);
	dup7 = dup(1); /* a dup of stdout counts too */
	memset(big, 'x', sizeof(big));
	assert_int_equal(write(1, "INFO one\n", 9), 9);
	assert_int_equal(write(dup7, "WARN two\n", 9), 9);
	assert_int_equal(write(1, big, sizeof(big)), (ssize_t)sizeof(big));
	assert_int_equal(write(other[1], "not a log\n", 10), 10); /* another fd: no */
	for (int i = 0; i < 20; i++)				  /* over the budget */
		assert_int_equal(write(1, "DEBUG x\n", 8), 8);
	assert_true(dup2(saved, 1) == 1);
	close(saved);
	close(dup7);
	assert_true(read(out[0], sink, sizeof(sink)) > 0);

	ring_buffer__consume(rb);
	for (size_t i = 0; i < recs.n; i++) {
		const struct rt_data_event *ev = (const void *)recs.rec[i];

		if (ev->hdr.type != RT_EV_LOG || ev->conn.tgid != self)
			continue;
		logs++;
		assert_true(ev->cap_len <= 64 && ev->cap_len <= ev->len);
		assert_true(ev->conn.fd == 1 || ev->conn.fd == (uint32_t)dup7);
		assert_int_equal(memmem(ev->data, ev->cap_len, "not a log", 9) == NULL, 1);
		cut += ev->len == sizeof(big) && ev->cap_len == 64;
	}
	assert_in_range(logs, 3, 8); /* the burst, not the 23 writes */
	assert_int_equal(cut, 1);
	assert_true(ncpu > 0 && ncpu <= 512);
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(skel->maps.drops), &r, drops), 0);
	for (int c = 0; c < ncpu; c++)
		dropped += drops[c];
	assert_true(dropped >= 15);
	close(out[0]);
	close(out[1]);
	close(other[0]);
	close(other[1]);
	ring_buffer__free(rb);
	recs_clear(&recs);
	capture_bpf__destroy(skel);
}

/* What the daemon's reader saw of this process's log lines. */
struct seen {
	uint32_t self;
	unsigned next; /* the line expected next */
	unsigned bad;  /* lines out of order or not as written */
};

/* The object opened (not loaded) to send this process's log lines whole,
 * in filter mode, with no budget to speak of: the ring readers' tests. */
static struct capture_bpf *open_log_lines(void)
{
	struct capture_bpf *skel = capture_bpf__open();

	assert_non_null(skel);
	skel->rodata->capture_bytes = RT_CAPTURE_DEFAULT;
	skel->rodata->filter_enabled = true;
	skel->rodata->log_bytes = 256;
	skel->rodata->log_interval_ns = 1;
	skel->rodata->log_burst_ns = 1000000000ull;
	return skel;
}

/* Line i of test_reader_real_rings: "NNNNNN " then 20-199 bytes of one
 * letter, so that the records' lengths vary and some wrap the ring. */
static size_t reader_line(unsigned i, char *buf)
{
	size_t n = 7 + 20 + (i * 37u) % 180;

	snprintf(buf, 8, "%06u ", i % 1000000);
	memset(buf + 7, 'a' + (int)(i % 26), n - 7);
	return n;
}

static int reader_check(void *ctx, void *data, size_t len)
{
	struct seen *s = ctx;
	const struct rt_data_event *ev = data;
	char want[256];
	size_t n;

	if (len < sizeof(*ev) || ev->hdr.type != RT_EV_LOG || ev->conn.tgid != s->self)
		return 0;
	n = reader_line(s->next, want);
	if (ev->cap_len != n || len < sizeof(*ev) + n || memcmp(ev->data, want, n))
		s->bad++;
	s->next++;
	return 0;
}

/* The daemon's own reader (user/intake/ringbuf.c) on real rings: a ring
 * no larger than its share of the window is mapped whole and never moved,
 * a larger one is read through a moving window; either way every record,
 * those that wrap past the ring's end included, is handed out whole and
 * in order, none skipped. Log lines of this process go round each ring
 * four times or more. */
static void test_reader_real_rings(void **state)
{
	static const uint32_t sizes[] = {64u << 10, 2u << 20};

	(void)state;
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		struct capture_bpf *skel = open_log_lines();
		uint32_t self = (uint32_t)getpid(), idx = self / 64;
		struct rt_select_word word = {.selected = 1ull << (self % 64)};
		struct seen seen = {.self = self};
		unsigned lines = 4 * sizes[k] / 150, i = 0;
		struct rb_reader *rd;
		int out[2], saved, fd;
		char line[256], sink[65536];

		assert_int_equal(load_rings_sized(skel, 1, sizes[k]), 0);
		assert_int_equal(capture_bpf__attach(skel), 0);
		fd = ring_fd(skel, 0);
		assert_true(fd >= 0);
		rd = rb_reader_new(&fd, 1, sizes[k], reader_check, &seen);
		assert_non_null(rd);
		assert_int_equal(
		    bpf_map_update_elem(bpf_map__fd(skel->maps.selected), &idx, &word, 0), 0);

		assert_int_equal(pipe(out), 0);
		fflush(stdout);
		saved = dup(1);
		assert_true(dup2(out[1], 1) == 1);
		while (i < lines) {
			/* 100 lines (under 24 KiB of records), then read them */
			for (unsigned b = 0; b < 100 && i < lines; b++, i++) {
				size_t n = reader_line(i, line);

				if (write(1, line, n) != (ssize_t)n)
					break;
			}
			while (read(out[0], sink, sizeof(sink)) == (ssize_t)sizeof(sink))
				;
			if (rb_reader_consume(rd) < 0)
				break;
		}
		assert_true(dup2(saved, 1) == 1);
		close(saved);
		assert_int_equal(i, lines);
		assert_int_equal(seen.next, lines);
		assert_int_equal(seen.bad, 0);
		assert_int_equal(rb_reader_skipped(rd), 0);
		if (k == 0)
			assert_int_equal(rb_reader_moves(rd), 0); /* mapped whole */
		else
			assert_true(rb_reader_moves(rd) >= 8); /* 1 MiB windows, 8 MiB read */
		rb_reader_free(rd);
		close(fd); /* open while the reader lives: a window maps it again */
		close(out[0]);
		close(out[1]);
		capture_bpf__destroy(skel);
	}
}

/* Counts this process's log records (RT_EV_LOG) handed out by the reader. */
static int count_logs(void *ctx, void *data, size_t len)
{
	const struct rt_data_event *ev = data;
	unsigned *n = ctx;

	if (len >= sizeof(*ev) && ev->hdr.type == RT_EV_LOG && ev->conn.tgid == (uint32_t)getpid())
		(*n)++;
	return 0;
}

/* Writes k lines of WAKE_LINE bytes to stdout (a pipe), emptying the pipe. */
#define WAKE_LINE 200
static void write_lines(int pipe_rd, unsigned k)
{
	char line[WAKE_LINE], sink[65536];

	memset(line, 'w', sizeof(line));
	line[sizeof(line) - 1] = '\n';
	for (unsigned i = 0; i < k; i++)
		assert_int_equal(write(1, line, sizeof(line)), (ssize_t)sizeof(line));
	while (read(pipe_rd, sink, sizeof(sink)) == (ssize_t)sizeof(sink))
		;
}

/* Whether the ring's reader was woken (edge-triggered epoll) since the
 * last call, waiting up to 100 ms for the kernel's deferred wake-up. */
static bool woken(int epfd)
{
	struct epoll_event ev;

	return epoll_wait(epfd, &ev, 1, 100) > 0;
}

/* A capture object whose log records of this process, on one CPU, go to a
 * 64 KiB ring watched by an edge-triggered epoll: the wake-up tests. */
struct wake_rig {
	struct capture_bpf *skel;
	struct rb_reader *rd;
	unsigned logs; /* log records the reader handed out */
	int fd, epfd, out[2], saved;
	cpu_set_t saved_set;
};

/* Loads with wakeup_bytes thr (and wakeup_bytes_slow slow past a fill
 * longer than slow_ns, when slow), stdout a pipe, this CPU only. */
static void wake_rig_start(struct wake_rig *g, unsigned thr, unsigned slow, uint64_t slow_ns)
{
	uint32_t self = (uint32_t)getpid(), idx = self / 64;
	struct rt_select_word word = {.selected = 1ull << (self % 64)};
	struct epoll_event ee = {.events = EPOLLIN | EPOLLET};
	cpu_set_t one;

	memset(g, 0, sizeof(*g));
	g->skel = open_log_lines();
	g->skel->rodata->wakeup_bytes = thr;
	g->skel->rodata->wakeup_bytes_slow = slow;
	g->skel->rodata->slow_fill_ns = slow_ns;
	assert_int_equal(load_rings_sized(g->skel, 1, 64u << 10), 0);
	assert_int_equal(capture_bpf__attach(g->skel), 0);
	g->fd = ring_fd(g->skel, 0);
	assert_true(g->fd >= 0);
	g->rd = rb_reader_new(&g->fd, 1, 64u << 10, count_logs, &g->logs);
	assert_non_null(g->rd);
	g->epfd = epoll_create1(EPOLL_CLOEXEC);
	assert_true(g->epfd >= 0);
	assert_int_equal(epoll_ctl(g->epfd, EPOLL_CTL_ADD, g->fd, &ee), 0);
	assert_int_equal(sched_getaffinity(0, sizeof(g->saved_set), &g->saved_set), 0);
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	assert_int_equal(sched_setaffinity(0, sizeof(one), &one), 0);
	assert_int_equal(pipe(g->out), 0);
	assert_int_equal(fcntl(g->out[0], F_SETFL, O_NONBLOCK), 0);
	fflush(stdout);
	g->saved = dup(1);
	assert_true(dup2(g->out[1], 1) == 1);
	assert_int_equal(
	    bpf_map_update_elem(bpf_map__fd(g->skel->maps.selected), &idx, &word, 0), 0);
}

/* Gives stdout and the CPUs back (before any assertion on the results). */
static void wake_rig_restore(struct wake_rig *g)
{
	assert_true(dup2(g->saved, 1) == 1);
	close(g->saved);
	sched_setaffinity(0, sizeof(g->saved_set), &g->saved_set);
}

static void wake_rig_free(struct wake_rig *g)
{
	rb_reader_free(g->rd);
	close(g->epfd);
	close(g->fd);
	close(g->out[0]);
	close(g->out[1]);
	capture_bpf__destroy(g->skel);
}

/* A record's length as counted, and its room in the ring. */
#define WAKE_REC  ((unsigned)sizeof(struct rt_data_event) + WAKE_LINE)
#define WAKE_ROOM ((WAKE_REC + BPF_RINGBUF_HDR_SZ + 7) & ~7u)

/* The wake-up threshold is of the ring's backlog: the reader is woken once
 * the ring holds wakeup_bytes it has not read, and a ring the reader
 * drained meanwhile (on a timeout, or woken by another ring) counts again
 * from what is left, so that it does not wake the reader again a few
 * records later. A reader woken that has not read since is not woken
 * again; once it has read, the next threshold wakes it. On one CPU, so
 * that one per-CPU count is in play. */
static void test_wakeup_follows_backlog(void **state)
{
	const unsigned threshold = 8192;
	unsigned k1 = 6000 / WAKE_REC, k3 = 4000 / WAKE_ROOM, k4, k5 = threshold / WAKE_REC + 2;
	struct wake_rig g;

	(void)state;
	wake_rig_start(&g, threshold, 0, 0);
	write_lines(g.out[0], k1); /* under the threshold */
	bool early = woken(g.epfd);
	rb_reader_consume(g.rd); /* read on a timeout: the ring is empty again */
	unsigned after_drain = g.logs;
	write_lines(g.out[0], k3); /* past the threshold since the last wake-up, not in the ring */
	bool drained_woke = woken(g.epfd);
	/* then past it in the ring too */
	k4 = (threshold - k3 * WAKE_ROOM) / WAKE_ROOM + 2;
	write_lines(g.out[0], k4);
	bool backlog_woke = woken(g.epfd);
	/* another threshold's worth before the reader ran: no second wake-up */
	write_lines(g.out[0], k5);
	bool woke_twice = woken(g.epfd);
	rb_reader_consume(g.rd);
	unsigned after_second = g.logs;
	/* the reader ran: the next threshold wakes it again */
	write_lines(g.out[0], k5);
	bool woke_after_read = woken(g.epfd);
	rb_reader_consume(g.rd);
	wake_rig_restore(&g);

	assert_false(early);
	assert_int_equal(after_drain, k1);
	assert_false(drained_woke);
	assert_true(backlog_woke);
	assert_false(woke_twice);
	assert_int_equal(after_second, k1 + k3 + k4 + k5);
	assert_true(woke_after_read);
	assert_int_equal(g.logs, k1 + k3 + k4 + 2 * k5);
	wake_rig_free(&g);
}

/* A slow stream is read in larger bites: when wakeup_bytes took longer
 * than slow_fill_ns to gather since the fill began (the last wake-up; for
 * the first one, the load), the reader is woken at wakeup_bytes_slow
 * instead; a fast fill after a wake-up wakes it at wakeup_bytes. */
static void test_wakeup_slow_fill(void **state)
{
	const unsigned thr = 8192, slow = 24576;
	const unsigned k_thr = thr / WAKE_REC + 2, k_slow = slow / WAKE_REC + 2 - k_thr;
	struct wake_rig g;

	(void)state;
	wake_rig_start(&g, thr, slow, 200000000); /* 200 ms: far above a loaded CI's delays */
	write_lines(g.out[0], k_thr); /* past thr, the first fill: slow */
	bool first_at_thr = woken(g.epfd);
	write_lines(g.out[0], k_slow); /* past the slow threshold */
	bool first_at_slow = woken(g.epfd);
	rb_reader_consume(g.rd);
	unsigned after_first = g.logs;
	write_lines(g.out[0], k_thr); /* past thr right after the wake-up: fast */
	bool fast_at_thr = woken(g.epfd);
	rb_reader_consume(g.rd);
	usleep(250000);
	write_lines(g.out[0], k_thr); /* past thr 250 ms after the wake-up: slow again */
	bool slow_at_thr = woken(g.epfd);
	write_lines(g.out[0], k_slow);
	bool slow_at_slow = woken(g.epfd);
	rb_reader_consume(g.rd);
	wake_rig_restore(&g);

	assert_false(first_at_thr);
	assert_true(first_at_slow);
	assert_int_equal(after_first, k_thr + k_slow);
	assert_true(fast_at_thr);
	assert_false(slow_at_thr);
	assert_true(slow_at_slow);
	assert_int_equal(g.logs, 3 * k_thr + 2 * k_slow);
	wake_rig_free(&g);
}

/* Log files (logs.files): an open for writing by a selected process is
 * reported once with its path and identity, an open for reading is not;
 * once the daemon marks the identity, writes to the file are RT_EV_LOG
 * records carrying the mark in conn.gen, and writes to an unmarked file are
 * not; a file marked 0 is not reported again. */
static void test_log_files(void **state)
{
	struct capture_bpf *skel = capture_bpf__open();
	char dir[] = "/tmp/rt-bpf-logfiles-XXXXXX", path[128], other[128];
	uint32_t self = (uint32_t)getpid(), id = 7, zero = 0;
	const struct rt_file_event *open_ev = NULL;
	struct rt_file_key key = {0};
	struct recs recs = {0};
	struct ring_buffer *rb;
	int fd, ofd, rfd, opens = 0, marked = 0, unmarked = 0;
	struct stat st;

	(void)state;
	assert_non_null(skel);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/app.log", dir);
	snprintf(other, sizeof(other), "%s/data.bin", dir);
	skel->rodata->log_bytes = 64;
	skel->rodata->log_files_on = 1;
	rb = load_selecting_self(skel, &recs);

	fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
	ofd = open(other, O_RDWR | O_CREAT, 0600);
	rfd = open(path, O_RDONLY); /* reading: never reported */
	assert_true(fd >= 0 && ofd >= 0 && rfd >= 0);
	ring_buffer__consume(rb);
	for (size_t i = 0; i < recs.n; i++) {
		const struct rt_file_event *ev = (const void *)recs.rec[i];

		if (ev->hdr.type != RT_EV_FILE_OPEN || (uint32_t)(ev->hdr.pid_tgid >> 32) != self)
			continue;
		assert_int_equal(recs.len[i] >= sizeof(*ev), 1);
		assert_int_equal(ev->path[ev->path_len - 1], 0);
		assert_true(ev->fd == (uint32_t)fd || ev->fd == (uint32_t)ofd);
		if (ev->fd == (uint32_t)fd)
			open_ev = ev;
		opens++;
	}
	assert_int_equal(opens, 2);
	assert_non_null(open_ev);
	assert_string_equal(open_ev->path, path);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(open_ev->ino, st.st_ino);
	assert_int_equal(open_ev->dev, (uint32_t)(major(st.st_dev) << 20 | minor(st.st_dev)));

	/* the daemon marks app.log as a log file and data.bin as not one */
	key.ino = open_ev->ino;
	key.dev = open_ev->dev;
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(skel->maps.log_files), &key, &id, 0), 0);
	assert_int_equal(fstat(ofd, &st), 0);
	key.ino = st.st_ino;
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(skel->maps.log_files), &key, &zero, 0), 0);
	recs_clear(&recs);
	assert_int_equal(write(fd, "ERROR in the file\n", 18), 18);
	assert_int_equal(write(ofd, "not a log\n", 10), 10);
	close(ofd);
	ofd = open(other, O_WRONLY); /* marked 0: not reported again */
	assert_true(ofd >= 0);
	ring_buffer__consume(rb);
	for (size_t i = 0; i < recs.n; i++) {
		const struct rt_data_event *ev = (const void *)recs.rec[i];

		if ((uint32_t)(ev->hdr.pid_tgid >> 32) != self)
			continue;
		assert_int_not_equal(ev->hdr.type, RT_EV_FILE_OPEN);
		if (ev->hdr.type != RT_EV_LOG)
			continue;
		if (ev->conn.gen == id && ev->conn.fd == (uint32_t)fd && ev->cap_len == 18 &&
		    !memcmp(ev->data, "ERROR in the file\n", 18))
			marked++;
		else
			unmarked++;
	}
	assert_int_equal(marked, 1);
	assert_int_equal(unmarked, 0);
	close(fd);
	close(ofd);
	close(rfd);
	unlink(path);
	unlink(other);
	rmdir(dir);
	ring_buffer__free(rb);
	recs_clear(&recs);
	capture_bpf__destroy(skel);
}

/* The floor (bench/) has a program on every attach point of the agent. */
static void test_floor_matches_agent(void **state)
{
	struct capture_bpf *cap = capture_bpf__open();
	struct floor_bpf *floor = floor_bpf__open();
	struct bpf_program *p, *q;
	int n = 0;

	(void)state;
	assert_non_null(cap);
	assert_non_null(floor);
	bpf_object__for_each_program(p, cap->obj)
	{
		bool found = false;

		bpf_object__for_each_program(q, floor->obj)
		{
			if (!strcmp(bpf_program__section_name(p), bpf_program__section_name(q)))
				found = true;
		}
		if (!found)
			fail_msg("the floor misses %s", bpf_program__section_name(p));
		n++;
	}
	bpf_object__for_each_program(q, floor->obj) n--;
	assert_int_equal(n, 0);
	floor_bpf__destroy(floor);
	capture_bpf__destroy(cap);
}

static int count_rec(void *ctx, void *data, size_t len)
{
	const __u64 *ts = data;

	(void)len;
	if (*ts) /* bound_rec.ts: the clock read of the syscall's exit */
		(*(long *)ctx)++;
	return 0;
}

/* The benchmarks' lower bound (bench/bound.bpf.c) loads at each level
 * and, at "record", sends one record per data syscall that moved bytes
 * once its fd is known: 200 write + read pairs on a socketpair give at
 * least 398 (the first write and the first read only enter the fd). */
static void test_bound_levels(void **state)
{
	(void)state;
	for (__u32 level = 1; level <= 3; level++) {
		struct bound_bpf *b = bound_bpf__open();
		struct ring_buffer *rb;
		int sv[2], err;
		long n = 0;
		char c = 'x';

		assert_non_null(b);
		b->rodata->level = level;
		err = bound_bpf__load(b);
		if (err)
			fail_msg("bound level %u does not load: %s", level, strerror(-err));
		assert_int_equal(bound_bpf__attach(b), 0);
		rb = ring_buffer__new(bpf_map__fd(b->maps.ring0), count_rec, &n, NULL);
		assert_non_null(rb);
		for (int i = 1; i < 4; i++) {
			char name[8];

			snprintf(name, sizeof(name), "ring%d", i);
			assert_int_equal(
			    ring_buffer__add(
				rb, bpf_map__fd(bpf_object__find_map_by_name(b->obj, name)),
				count_rec, &n),
			    0);
		}
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
		for (int i = 0; i < 200; i++) {
			assert_int_equal(write(sv[0], &c, 1), 1);
			assert_int_equal(read(sv[1], &c, 1), 1);
		}
		close(sv[0]);
		close(sv[1]);
		ring_buffer__consume(rb);
		if (level == 3)
			assert_true(n >= 398);
		else
			assert_int_equal(n, 0);
		ring_buffer__free(rb);
		bound_bpf__destroy(b);
	}
}

/* ---- selection across fork and exit ---- */

/* A child that forks a grandchild when told (one byte on cmd), writes its
 * pid to back, and waits for the grandchild; both exit when cmd closes. */
struct family {
	pid_t child;
	int cmd, back;
};

static struct family spawn_family(void)
{
	int cmd[2], back[2];
	struct family fam;

	assert_int_equal(pipe(cmd), 0);
	assert_int_equal(pipe(back), 0);
	fam.child = fork();
	assert_true(fam.child >= 0);
	if (fam.child == 0) {
		char c;

		close(cmd[1]);
		close(back[0]);
		while (read(cmd[0], &c, 1) == 1) {
			pid_t g = fork();

			if (g == 0) {
				/* the grandchild lives until its parent's cmd closes */
				while (read(cmd[0], &c, 1) == 1)
					;
				_exit(0);
			}
			if (write(back[1], &g, sizeof(g)) != sizeof(g))
				_exit(1);
		}
		while (wait(NULL) > 0)
			;
		_exit(0);
	}
	close(cmd[0]);
	close(back[1]);
	fam.cmd = cmd[1];
	fam.back = back[0];
	return fam;
}

static pid_t fork_grandchild(struct family *fam)
{
	pid_t g = 0;

	assert_int_equal(write(fam->cmd, "f", 1), 1);
	assert_int_equal(read(fam->back, &g, sizeof(g)), sizeof(g));
	return g;
}

static void end_family(struct family *fam)
{
	close(fam->cmd);
	close(fam->back);
	waitpid(fam->child, NULL, 0);
}

static void test_fork_selected_exit_clears(void **state)
{
	struct fx *f = *state;
	struct family fam = spawn_family();
	const struct rt_proc_event *ev;
	pid_t g;

	set_selected(f, (uint32_t)fam.child, true);
	set_go(f, (uint32_t)fam.child, true);
	set_go_tls(f, (uint32_t)fam.child, true);
	g = fork_grandchild(&fam);
	assert_true(selected(f, (uint32_t)g));
	assert_true(selected(f, (uint32_t)fam.child));
	assert_false(go_bit(f, (uint32_t)g)); /* a fork has no go_procs entry */
	end_family(&fam);
	for (int i = 0; i < 100 && (selected(f, (uint32_t)g) || selected(f, (uint32_t)fam.child) ||
				    go_bit(f, (uint32_t)fam.child) ||
				    go_tls_bit(f, (uint32_t)fam.child));
	     i++)
		usleep(10000);
	assert_false(selected(f, (uint32_t)g));
	assert_false(selected(f, (uint32_t)fam.child));
	assert_false(go_bit(f, (uint32_t)fam.child));
	assert_false(go_tls_bit(f, (uint32_t)fam.child));
	ev = find_rec(f, RT_EV_PROC_EXIT, (uint32_t)fam.child);
	assert_non_null(ev);
	assert_int_equal(ev->hdr.len, sizeof(*ev));
	assert_true(ev->start_ns > 0);
	assert_non_null(find_rec(f, RT_EV_PROC_EXIT, (uint32_t)g));
	/* selected by the kernel at once, and reported for the daemon's books */
	ev = find_rec(f, RT_EV_PROC_FORK, (uint32_t)g);
	assert_non_null(ev);
	assert_int_equal(ev->ppid, (uint32_t)fam.child);
	recs_clear(&f->recs);
}

static void test_fork_unselected_not_selected(void **state)
{
	struct fx *f = *state;
	struct family fam = spawn_family();
	pid_t g = fork_grandchild(&fam);

	assert_false(selected(f, (uint32_t)g));
	assert_null(find_rec(f, RT_EV_PROC_FORK, (uint32_t)g));
	end_family(&fam);
	/* every process's exit is reported, selected or not */
	for (int i = 0; i < 100 && !find_rec(f, RT_EV_PROC_EXIT, (uint32_t)fam.child); i++)
		usleep(10000);
	assert_non_null(find_rec(f, RT_EV_PROC_EXIT, (uint32_t)fam.child));
	recs_clear(&f->recs);
}

/* A process pending (its exec seen, the daemon not done yet): its forks
 * are reported, and the children are pending too. */
static void test_fork_of_pending_reported(void **state)
{
	struct fx *f = *state;
	struct family fam = spawn_family();
	int pfd = bpf_map__fd(f->skel->maps.pending);
	const struct rt_proc_event *ev;
	uint32_t tgid = (uint32_t)fam.child;
	uint8_t one = 1, v;
	pid_t g;

	assert_int_equal(bpf_map_update_elem(pfd, &tgid, &one, BPF_ANY), 0);
	g = fork_grandchild(&fam);
	ev = find_rec(f, RT_EV_PROC_FORK, (uint32_t)g);
	assert_non_null(ev);
	assert_int_equal(ev->ppid, tgid);
	assert_true(ev->start_ns > 0);
	assert_false(selected(f, (uint32_t)g));
	tgid = (uint32_t)g;
	assert_int_equal(bpf_map_lookup_elem(pfd, &tgid, &v), 0);
	end_family(&fam);
	/* exit takes the pending entries away */
	for (int i = 0; i < 100 && !bpf_map_lookup_elem(pfd, &tgid, &v); i++)
		usleep(10000);
	assert_int_not_equal(bpf_map_lookup_elem(pfd, &tgid, &v), 0);
	recs_clear(&f->recs);
}

/* A TCP socket bound on 127.0.0.1:PORT; listening when asked. */
static int tcp_bound(bool do_listen)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(PORT)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	if (do_listen)
		assert_int_equal(listen(fd, 8), 0);
	return fd;
}

static void test_listen_reported(void **state)
{
	struct fx *f = *state;
	const struct rt_listen_event *ev;
	int fd = tcp_bound(true);

	ev = find_rec(f, RT_EV_LISTEN, (uint32_t)getpid());
	assert_non_null(ev);
	assert_int_equal(ev->port, PORT);
	assert_int_equal(ev->family, AF_INET);
	close(fd);
	recs_clear(&f->recs);
}

/* ---- the connection table ---- */

static size_t entries_of(const struct bpf_map *map, uint32_t tgid)
{
	int fd = bpf_map__fd(map);
	struct rt_conn_key key, next, *prev = NULL;
	size_t n = 0;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		if (next.tgid == tgid)
			n++;
		key = next;
		prev = &key;
	}
	return n;
}

static size_t conns_of(struct fx *f, uint32_t tgid)
{
	return entries_of(f->skel->maps.conns, tgid);
}

static size_t not_socks_of(struct fx *f, uint32_t tgid)
{
	return entries_of(f->skel->maps.not_socks, tgid);
}

static void test_pipes_stay_out_of_conns(void **state)
{
	struct fx *f = *state;
	uint32_t self = (uint32_t)getpid();
	int p[200][2], l, c, s;
	struct rt_conn_key key;
	struct rt_conn_info ci;
	const struct rt_conn_event *open_ev;
	struct stat st;
	char b;

	set_selected(f, self, true);
	for (int i = 0; i < 200; i++) {
		assert_int_equal(pipe(p[i]), 0);
		assert_int_equal(write(p[i][1], "x", 1), 1);
		assert_int_equal(read(p[i][0], &b, 1), 1);
	}
	assert_int_equal(conns_of(f, self), 0);
	assert_int_equal(not_socks_of(f, self), 400); /* the negative cache has them */

	/* a loopback TCP connection: both ends enter, keyed by their inode */
	l = tcp_bound(true);
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	{
		struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(PORT)};

		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		assert_int_equal(connect(c, (struct sockaddr *)&sa, sizeof(sa)), 0);
	}
	s = accept(l, NULL, NULL);
	assert_true(s >= 0);
	assert_int_equal(write(c, "ping", 4), 4);
	assert_int_equal(read(s, (char[4]){0}, 4), 4);
	assert_int_equal(conns_of(f, self), 2);
	key = (struct rt_conn_key){.tgid = self, .fd = (uint32_t)s};
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(f->skel->maps.conns), &key, &ci), 0);
	assert_int_equal(fstat(s, &st), 0);
	assert_int_equal(ci.sock_ino, st.st_ino);
	assert_int_equal(ci.role, RT_ROLE_SERVER);
	open_ev = find_rec(f, RT_EV_CONN_OPEN, self);
	assert_non_null(open_ev);
	assert_int_equal(open_ev->hdr.len, sizeof(*open_ev));
	assert_true(open_ev->sock_ino != 0);

	/* with the untrusted loads, that socket taught the programs the
	 * sockets' f_op: a pipe now stops there, before any look-up, and
	 * enters no negative cache; without, nothing is learnt */
	{
		bool fast = kfeatures_untrusted_loads();
		int q[2];

		assert_int_equal(f->skel->bss->sock_fops != 0, fast);
		assert_int_equal(pipe(q), 0);
		assert_int_equal(write(q[1], "x", 1), 1);
		assert_int_equal(read(q[0], &b, 1), 1);
		assert_int_equal(not_socks_of(f, self), fast ? 400 : 402);
		close(q[0]);
		close(q[1]);
	}
	assert_int_equal(conns_of(f, self), 2);

	/* an entry the LRU lost: close is reported all the same */
	assert_int_equal(bpf_map_delete_elem(bpf_map__fd(f->skel->maps.conns), &key), 0);
	recs_clear(&f->recs);
	close(s);
	assert_non_null(find_rec(f, RT_EV_CONN_CLOSE, self));
	close(c);
	close(l);
	for (int i = 0; i < 200; i++) {
		close(p[i][0]);
		close(p[i][1]);
	}
	assert_int_equal(conns_of(f, self), 0);
	assert_int_equal(not_socks_of(f, self), 0); /* close forgets them */
	set_selected(f, self, false);
	recs_clear(&f->recs);
}

/* The data record of fd in direction dir for this process, or NULL. */
static const struct rt_data_event *find_data(struct fx *f, uint32_t fd, uint8_t dir)
{
	ring_buffer__consume(f->rb);
	for (size_t i = 0; i < f->recs.n; i++) {
		const struct rt_data_event *ev = (const void *)f->recs.rec[i];

		if (ev->hdr.type == RT_EV_DATA && ev->conn.tgid == (uint32_t)getpid() &&
		    ev->conn.fd == fd && ev->dir == dir)
			return ev;
	}
	return NULL;
}

static uint16_t cap_bytes_of(struct fx *f, int fd)
{
	struct rt_conn_key key = {.tgid = (uint32_t)getpid(), .fd = (uint32_t)fd};
	struct rt_conn_info ci;

	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(f->skel->maps.conns), &key, &ci), 0);
	return ci.cap_bytes;
}

/* One loopback connection: the client writes first[] (1024 bytes), the
 * server reads them and answers 1000 bytes; before the answer, a set_cap
 * other than 0 goes into the server end's cap_bytes as the daemon sets it
 * (capture_set_wide()). Returns what each record of it copied: client
 * write, server read, server write; and the cap_bytes of the client and
 * server ends. */
static void exchange(struct fx *f, const char *first, uint16_t set_cap, uint32_t cap[3],
		     uint16_t conn_cap[2])
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(PORT)};
	int l = tcp_bound(true), c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), s;
	char buf[1024] = {0}, got[1024];
	const struct rt_data_event *ev;
	size_t at = 0;

	memcpy(buf, first, strlen(first));
	memset(buf + strlen(first), 'x', sizeof(buf) - strlen(first));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(c, (struct sockaddr *)&sa, sizeof(sa)), 0);
	s = accept(l, NULL, NULL);
	assert_true(s >= 0);
	assert_int_equal(write(c, buf, sizeof(buf)), sizeof(buf));
	while (at < sizeof(got)) {
		ssize_t n = read(s, got + at, sizeof(got) - at);

		assert_true(n > 0);
		at += (size_t)n;
	}
	if (set_cap) {
		struct rt_conn_key key = {.tgid = (uint32_t)getpid(), .fd = (uint32_t)s};
		int mfd = bpf_map__fd(f->skel->maps.conns);
		struct rt_conn_info ci;

		assert_int_equal(bpf_map_lookup_elem(mfd, &key, &ci), 0);
		ci.cap_bytes = set_cap;
		assert_int_equal(bpf_map_update_elem(mfd, &key, &ci, BPF_EXIST), 0);
	}
	assert_int_equal(write(s, buf + 24, 1000), 1000);
	ev = find_data(f, (uint32_t)c, RT_DIR_EGRESS);
	assert_non_null(ev);
	cap[0] = ev->cap_len;
	ev = find_data(f, (uint32_t)s, RT_DIR_INGRESS);
	assert_non_null(ev);
	cap[1] = ev->cap_len;
	ev = find_data(f, (uint32_t)s, RT_DIR_EGRESS);
	assert_non_null(ev);
	cap[2] = ev->cap_len;
	conn_cap[0] = cap_bytes_of(f, c);
	conn_cap[1] = cap_bytes_of(f, s);
	close(s);
	close(c);
	close(l);
	recs_clear(&f->recs);
}

/* Issue 15: HTTP/2 with the default capture size. A connection that starts
 * with the client preface is copied up to h2_capture_bytes from its first
 * record (so its first request is whole) on both ends; any other is cut at
 * capture_bytes, its first record included. */
static void test_h2_preface_widens_capture(void **state)
{
	struct fx *f = *state;
	uint32_t self = (uint32_t)getpid(), cap[3];
	uint16_t conn_cap[2];

	set_selected(f, self, true);
	recs_clear(&f->recs);
	exchange(f, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 0, cap, conn_cap);
	assert_int_equal(cap[0], 1024);
	assert_int_equal(cap[1], 1024);
	assert_int_equal(cap[2], 1000);
	assert_int_equal(conn_cap[0], RT_H2_CAPTURE_DEFAULT);
	assert_int_equal(conn_cap[1], RT_H2_CAPTURE_DEFAULT);

	exchange(f, "POST /x HTTP/1.1\r\n\r\n", 0, cap, conn_cap);
	assert_int_equal(cap[0], RT_CAPTURE_DEFAULT);
	assert_int_equal(cap[1], RT_CAPTURE_DEFAULT);
	assert_int_equal(cap[2], RT_CAPTURE_DEFAULT);
	assert_int_equal(conn_cap[0], RT_CAPTURE_DEFAULT);
	assert_int_equal(conn_cap[1], RT_CAPTURE_DEFAULT);

	/* a preface cut short (or a look-alike) is not one */
	exchange(f, "PRI * HTTP/2.0\r\n\r\nSM\r\n\rX", 0, cap, conn_cap);
	assert_int_equal(cap[0], RT_CAPTURE_DEFAULT);
	assert_int_equal(conn_cap[1], RT_CAPTURE_DEFAULT);

	/* the daemon raises a connection it classified later: from then on */
	exchange(f, "xxxx", 4096, cap, conn_cap);
	assert_int_equal(cap[1], RT_CAPTURE_DEFAULT);
	assert_int_equal(cap[2], 1000);
	assert_int_equal(conn_cap[1], 4096);
	set_selected(f, self, false);
}

/* ---- the daemon's writes to an entry (user/intake/connctl.c) ---- */

/* A loopback connection on an ephemeral port (not PORT: the stale case
 * needs a second one while the first is open): *c the client, *s the
 * server end. */
static void loopback_pair(int *c, int *s)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(l >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(l, 2), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&sa, &len), 0);
	*c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(*c >= 0);
	assert_int_equal(connect(*c, (struct sockaddr *)&sa, sizeof(sa)), 0);
	*s = accept(l, NULL, NULL);
	assert_true(*s >= 0);
	close(l);
}

/* One request of n bytes (not the HTTP/2 preface) from c to s: both ends
 * get their entries and, from h2_decide(), their cap_bytes. */
static void send_request(int c, int s, size_t n)
{
	char buf[1024];
	size_t at = 0;

	assert_true(n <= sizeof(buf));
	memset(buf, 'x', n);
	assert_int_equal(write(c, buf, n), (ssize_t)n);
	while (at < n) {
		ssize_t r = read(s, buf + at, n - at);

		assert_true(r > 0);
		at += (size_t)r;
	}
}

/* The record of the first write or send of c after the records so far:
 * its bytes must be want[0..wlen) and its length len. */
static void expect_copy(struct fx *f, int c, int s, size_t len, const uint8_t *want, size_t wlen)
{
	const struct rt_data_event *ev;
	char sink[4096];
	size_t at = 0;

	while (at < len) {
		ssize_t r = read(s, sink, sizeof(sink));

		assert_true(r > 0);
		at += (size_t)r;
	}
	ev = find_data(f, (uint32_t)c, RT_DIR_EGRESS);
	assert_non_null(ev);
	assert_int_equal(ev->len, len);
	assert_int_equal(ev->cap_len, wlen);
	assert_memory_equal(ev->data, want, wlen);
}

/* writev and sendmsg: the bytes of the first RT_IOV_MAX iovecs, in order
 * (an empty one among them), up to the capture size, which may end inside
 * an iovec. */
static void test_iovec_copy(void **state)
{
	struct fx *f = *state;
	uint32_t self = (uint32_t)getpid();
	static uint8_t parts[10][200], want[RT_CAPTURE_DEFAULT];
	struct iovec iov[10];
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 3};
	size_t total = 0, wlen = 0;
	int c, s;

	_Static_assert(RT_IOV_MAX < 10 && RT_CAPTURE_DEFAULT == 256, "the cases below");
	set_selected(f, self, true);
	loopback_pair(&c, &s);
	send_request(c, s, 32); /* the connection's first bytes: not HTTP/2 */
	for (size_t i = 0; i < 10; i++) {
		size_t n = i == 2 ? 0 : 1 + i * 3; /* 1, 4, 0, 10, ... 28 */

		memset(parts[i], 'a' + (int)i, sizeof(parts[i]));
		iov[i] = (struct iovec){.iov_base = parts[i], .iov_len = n};
		total += n;
		if (i < RT_IOV_MAX) {
			memcpy(want + wlen, parts[i], n);
			wlen += n;
		}
	}
	recs_drop_pending(f);
	assert_int_equal(writev(c, iov, 10), (ssize_t)total);
	expect_copy(f, c, s, total, want, wlen);

	/* three of 200 bytes: the capture ends 56 bytes into the second */
	for (size_t i = 0; i < 3; i++)
		iov[i].iov_len = 200;
	memcpy(want, parts[0], 200);
	memcpy(want + 200, parts[1], 56);
	recs_drop_pending(f);
	assert_int_equal(writev(c, iov, 3), 600);
	expect_copy(f, c, s, 600, want, RT_CAPTURE_DEFAULT);
	recs_drop_pending(f);
	assert_int_equal(sendmsg(c, &mh, 0), 600);
	expect_copy(f, c, s, 600, want, RT_CAPTURE_DEFAULT);
	close(c);
	close(s);
	set_selected(f, self, false);
}

static struct rt_conn_info entry_of(struct fx *f, int fd)
{
	struct rt_conn_key key = {.tgid = (uint32_t)getpid(), .fd = (uint32_t)fd};
	struct rt_conn_info ci;

	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(f->skel->maps.conns), &key, &ci), 0);
	return ci;
}

/* Sets tls in fd's entry, as tls_emit() does at a connection's first
 * plaintext (the test stands in for the probe: no libssl here). */
static void set_tls(struct fx *f, int fd)
{
	struct rt_conn_key key = {.tgid = (uint32_t)getpid(), .fd = (uint32_t)fd};
	struct rt_conn_info ci = entry_of(f, fd);

	ci.tls = 1;
	assert_int_equal(
	    bpf_map_update_elem(bpf_map__fd(f->skel->maps.conns), &key, &ci, BPF_EXIST), 0);
}

static int conn_op(struct connctl *ctl, int fd, uint64_t gen, uint32_t op, uint32_t value)
{
	struct rt_connctl req = {
	    .gen = gen, .tgid = (uint32_t)getpid(), .fd = (uint32_t)fd, .op = op, .value = value};

	return connctl_apply(ctl, &req);
}

/* The daemon's opaque and wide change their own field only: the kernel's
 * tls and cap_bytes (h2_decide()'s, on the first client bytes), the
 * generation and the identity are kept. */
static void test_connctl_keeps_kernel_fields(void **state)
{
	struct fx *f = *state;
	struct connctl *ctl = connctl_new(bpf_map__fd(f->skel->maps.conns));
	struct rt_conn_info before, after;
	int c, s;

	assert_non_null(ctl);
	set_selected(f, (uint32_t)getpid(), true);
	loopback_pair(&c, &s);
	send_request(c, s, 512);
	set_tls(f, c);
	set_tls(f, s);

	before = entry_of(f, c);
	assert_int_equal(before.cap_bytes, RT_CAPTURE_DEFAULT); /* h2_decide()'s */
	assert_int_equal(conn_op(ctl, c, before.gen, RT_CONNCTL_OPAQUE, 0), 0);
	after = entry_of(f, c);
	assert_int_equal(after.opaque, 1);
	after.opaque = 0;
	assert_memory_equal(&after, &before, sizeof(before)); /* tls, cap_bytes, gen kept */

	before = entry_of(f, s);
	assert_int_equal(before.cap_bytes, RT_CAPTURE_DEFAULT);
	assert_int_equal(conn_op(ctl, s, before.gen, RT_CONNCTL_WIDE, RT_CAPTURE_MAX), 0);
	after = entry_of(f, s);
	assert_int_equal(after.cap_bytes, RT_CAPTURE_MAX);
	after.cap_bytes = before.cap_bytes;
	assert_memory_equal(&after, &before, sizeof(before));
	/* never lowered; again is a no-op */
	assert_int_equal(conn_op(ctl, s, before.gen, RT_CONNCTL_WIDE, 1024), 0);
	assert_int_equal(conn_op(ctl, s, before.gen, RT_CONNCTL_WIDE, RT_CAPTURE_MAX), 0);
	assert_int_equal(entry_of(f, s).cap_bytes, RT_CAPTURE_MAX);

	/* refused: unknown op, a size past the copy's bound, no entry */
	assert_int_equal(conn_op(ctl, s, before.gen, 0, 0), -EINVAL);
	assert_int_equal(conn_op(ctl, s, before.gen, RT_CONNCTL_WIDE, RT_CAPTURE_MAX + 1), -EINVAL);
	assert_int_equal(conn_op(ctl, 1 << 20, 1, RT_CONNCTL_OPAQUE, 0), -ENOENT);

	close(c);
	close(s);
	set_selected(f, (uint32_t)getpid(), false);
	recs_clear(&f->recs);
	connctl_free(ctl);
}

/* A write meant for a connection whose fd now holds another (a new
 * generation from the kernel) is refused and changes nothing. */
static void test_connctl_refuses_stale_gen(void **state)
{
	struct fx *f = *state;
	struct connctl *ctl = connctl_new(bpf_map__fd(f->skel->maps.conns));
	struct rt_conn_info old, now;
	int c, s, c2, s2;

	assert_non_null(ctl);
	set_selected(f, (uint32_t)getpid(), true);
	loopback_pair(&c, &s);
	send_request(c, s, 64);
	old = entry_of(f, c);
	/* the fd number of c now holds another connection's client end */
	loopback_pair(&c2, &s2);
	assert_int_equal(dup2(c2, c), c);
	send_request(c, s2, 64);
	now = entry_of(f, c);
	assert_int_not_equal(now.gen, old.gen);

	assert_int_equal(conn_op(ctl, c, old.gen, RT_CONNCTL_OPAQUE, 0), -ESTALE);
	assert_int_equal(conn_op(ctl, c, old.gen, RT_CONNCTL_WIDE, RT_CAPTURE_MAX), -ESTALE);
	old = entry_of(f, c);
	assert_memory_equal(&old, &now, sizeof(now));
	assert_int_equal(conn_op(ctl, c, now.gen, RT_CONNCTL_OPAQUE, 0), 0);
	assert_int_equal(entry_of(f, c).opaque, 1);
	close(c);
	close(s);
	close(c2);
	close(s2);
	set_selected(f, (uint32_t)getpid(), false);
	recs_clear(&f->recs);
	connctl_free(ctl);
}

/* The daemon's side of test_connctl_races_new_connections: opaque, again
 * and again, on whatever generation fd's entry has when it looks. */
struct racer {
	struct fx *f;
	struct connctl *ctl;
	int fd;
	int started, done;
	unsigned applied;
};

static void *race_daemon(void *arg)
{
	struct racer *r = arg;
	struct rt_conn_key key = {.tgid = (uint32_t)getpid(), .fd = (uint32_t)r->fd};
	int mfd = bpf_map__fd(r->f->skel->maps.conns);

	__atomic_store_n(&r->started, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&r->done, __ATOMIC_ACQUIRE)) {
		struct rt_conn_info ci;

		if (bpf_map_lookup_elem(mfd, &key, &ci))
			continue;
		if (!conn_op(r->ctl, r->fd, ci.gen, RT_CONNCTL_OPAQUE, 0))
			__atomic_fetch_add(&r->applied, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

#define RACE_SWAPS   2000
#define RACE_APPLIED 100   /* and until the daemon's side has applied this many */
#define RACE_MAX     50000 /* (bounded: on a busy machine it may run late) */

/* The kernel gives fd a new connection (a new generation) RACE_SWAPS times
 * or more while the daemon marks it opaque from another thread: the daemon never
 * writes an older connection over a newer one. Had it done so (a whole
 * entry read and written back did, hundreds of times a run), the kernel
 * would take the fd's next connection for that old one, or see one reuse
 * too many, and the generations would not count the swaps. */
static void test_connctl_races_new_connections(void **state)
{
	struct fx *f = *state;
	struct racer r = {.f = f, .ctl = connctl_new(bpf_map__fd(f->skel->maps.conns))};
	int a, as, b, bs;
	uint64_t gen0, swaps = 0;
	pthread_t t;

	assert_non_null(r.ctl);
	set_selected(f, (uint32_t)getpid(), true);
	loopback_pair(&a, &as);
	loopback_pair(&b, &bs);
	r.fd = dup(a);
	assert_true(r.fd >= 0);
	assert_int_equal(write(r.fd, "x", 1), 1);
	gen0 = entry_of(f, r.fd).gen;
	assert_int_equal(pthread_create(&t, NULL, race_daemon, &r), 0);
	while (!__atomic_load_n(&r.started, __ATOMIC_ACQUIRE))
		usleep(1000);
	while (swaps < RACE_MAX && (swaps < RACE_SWAPS ||
				    __atomic_load_n(&r.applied, __ATOMIC_RELAXED) < RACE_APPLIED)) {
		swaps++;
		assert_int_equal(dup2(swaps % 2 ? b : a, r.fd), r.fd);
		assert_int_equal(write(r.fd, "x", 1), 1);
	}
	__atomic_store_n(&r.done, 1, __ATOMIC_RELEASE);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_true(r.applied > 0);
	assert_int_equal(entry_of(f, r.fd).gen - gen0, swaps);
	close(r.fd);
	close(a);
	close(as);
	close(b);
	close(bs);
	set_selected(f, (uint32_t)getpid(), false);
	recs_drop_pending(f);
	connctl_free(r.ctl);
}

/* ---- goroutines (bpf/goroutine.bpf.h) ---- */

/* A stand-in for a Go thread's g: the thread-local slot that Go keeps at a
 * fixed offset from the thread pointer holds a pointer to it, and its
 * goid is at GOID_OFF. */
#define GOID_OFF  16
#define FAKE_GOID 4242
static uint64_t fake_g[4] = {[GOID_OFF / 8] = FAKE_GOID};
static __thread uint64_t fake_g_slot;

/* A go_procs entry whose offsets lead from this thread's TLS to fake_g:
 * the running goroutine of the test's own process is FAKE_GOID. */
static struct rt_go_proc fake_go_proc(void)
{
	struct rt_go_proc gp = {.goid_off = GOID_OFF};
	unsigned long fs = 0;

	assert_int_equal(syscall(SYS_arch_prctl, ARCH_GET_FS, &fs), 0);
	fake_g_slot = (uint64_t)(uintptr_t)fake_g;
	gp.g_tls_off = (int32_t)((intptr_t)&fake_g_slot - (intptr_t)fs);
	return gp;
}

/* bpf/tls.bpf.h's go_tls_calls entries, as the tests write them. */
struct go_tls_key {
	uint32_t tgid, pad0;
	uint64_t v; /* the goroutine */
};

struct go_tls_call {
	uint64_t conn, buf;
	uint32_t fd;
	uint8_t dir, pad0[3];
};

_Static_assert(sizeof(struct go_tls_call) == 24, "struct go_tls_call");

/* A crypto/tls write in progress whose socket is not known yet: the fd the
 * data programs find for it replaces 0xffffffff. */
static struct go_tls_call fake_tls_call(void)
{
	return (struct go_tls_call){
	    .conn = 0x1000, .buf = 0x2000, .fd = 0xffffffffu, .dir = RT_DIR_EGRESS};
}

/* The data records of this process that reader rb drained into recs so
 * far: how many, and how many carry a goroutine tail (*goid: the last
 * one's). */
static size_t data_goids_of(struct ring_buffer *rb, struct recs *recs, size_t *with_tail,
			    uint64_t *goid)
{
	uint32_t self = (uint32_t)getpid();
	size_t n = 0;

	*with_tail = 0;
	ring_buffer__consume(rb);
	for (size_t i = 0; i < recs->n; i++) {
		const struct rt_data_event *ev = (const void *)recs->rec[i];

		if (ev->hdr.type != RT_EV_DATA || (uint32_t)(ev->hdr.pid_tgid >> 32) != self)
			continue;
		n++;
		if (ev->hdr.len >= sizeof(*ev) + ev->cap_len + sizeof(struct rt_data_tail)) {
			memcpy(goid, ev->data + ev->cap_len, sizeof(*goid));
			(*with_tail)++;
		}
	}
	return n;
}

/* data_goids_of() of the fixture's ring. */
static size_t data_goids(struct fx *f, size_t *with_tail, uint64_t *goid)
{
	return data_goids_of(f->rb, &f->recs, with_tail, goid);
}

/* The data programs read a goroutine only for a process whose go bit is
 * set: with a go_procs entry and the bit clear, no tail; with both, the
 * goroutine the entry's offsets lead to. */
static void test_goroutine_needs_go_bit(void **state)
{
	struct fx *f = *state;
	uint32_t self = (uint32_t)getpid();
	int procs = bpf_map__fd(f->skel->maps.go_procs), c, s;
	struct rt_go_proc gp = fake_go_proc();
	size_t with_tail;
	uint64_t goid = 0;

	set_selected(f, self, true);
	assert_int_equal(bpf_map_update_elem(procs, &self, &gp, BPF_ANY), 0);
	loopback_pair(&c, &s);

	recs_clear(&f->recs);
	send_request(c, s, 100);
	assert_int_equal(data_goids(f, &with_tail, &goid), 2);
	assert_int_equal(with_tail, 0);

	set_go(f, self, true);
	recs_clear(&f->recs);
	send_request(c, s, 100);
	assert_int_equal(data_goids(f, &with_tail, &goid), 2);
	assert_int_equal(with_tail, 2);
	assert_int_equal(goid, FAKE_GOID);

	close(c);
	close(s);
	set_go(f, self, false);
	bpf_map_delete_elem(procs, &self);
	set_selected(f, self, false);
	recs_clear(&f->recs);
}

/*
 * A Go process's socket syscalls made inside a crypto/tls call (a
 * go_tls_calls entry of the running goroutine) carry ciphertext: no
 * record, and the call learns their fd. That entry is looked up only once
 * the process's go_tls bit is set (go_tls_enter() sets it before it writes
 * one): with the bit clear, the same syscalls are records.
 */
static void test_go_tls_call_needs_bit(void **state)
{
	struct fx *f = *state;
	uint32_t self = (uint32_t)getpid();
	int procs = bpf_map__fd(f->skel->maps.go_procs), c, s;
	int calls = bpf_map__fd(f->skel->maps.go_tls_calls);
	struct go_tls_key k = {.tgid = self, .v = FAKE_GOID};
	struct go_tls_call call = fake_tls_call();
	struct rt_go_proc gp = fake_go_proc();
	size_t with_tail;
	uint64_t goid = 0;

	set_selected(f, self, true);
	assert_int_equal(bpf_map_update_elem(procs, &self, &gp, BPF_ANY), 0);
	set_go(f, self, true);
	loopback_pair(&c, &s);
	assert_int_equal(bpf_map_update_elem(calls, &k, &call, BPF_ANY), 0);

	recs_clear(&f->recs);
	send_request(c, s, 100);
	assert_int_equal(data_goids(f, &with_tail, &goid), 2);
	assert_int_equal(bpf_map_lookup_elem(calls, &k, &call), 0);
	assert_int_equal(call.fd, 0xffffffffu); /* not looked up */

	set_go_tls(f, self, true);
	recs_clear(&f->recs);
	send_request(c, s, 100);
	assert_int_equal(data_goids(f, &with_tail, &goid), 0);
	assert_int_equal(bpf_map_lookup_elem(calls, &k, &call), 0);
	assert_int_equal(call.fd, (uint32_t)s); /* the call's last syscall */

	close(c);
	close(s);
	bpf_map_delete_elem(calls, &k);
	set_go_tls(f, self, false);
	set_go(f, self, false);
	bpf_map_delete_elem(procs, &self);
	set_selected(f, self, false);
	recs_clear(&f->recs);
}

/*
 * Without spans (record_goroutines 0, the agent with traces off) no record
 * carries a goroutine, even of a Go process with a go_procs entry and its
 * go bit. Its goroutine is read only once its go_tls bit is set, for the
 * ciphertext check: a syscall inside its goroutine's crypto/tls call is
 * still no record. Its own skeleton: record_goroutines is load-time.
 */
static void test_no_goroutines_without_spans(void **state)
{
	struct capture_bpf *skel = capture_bpf__open();
	uint32_t self = (uint32_t)getpid(), idx = self / 64;
	struct rt_select_word word;
	struct rt_go_proc gp = fake_go_proc();
	struct recs recs = {0};
	struct ring_buffer *rb;
	struct go_tls_key k = {.tgid = self, .v = FAKE_GOID};
	struct go_tls_call call = fake_tls_call();
	int sel, calls, c, s;
	size_t with_tail;
	uint64_t goid = 0;

	(void)state;
	assert_non_null(skel);
	skel->rodata->record_goroutines = false;
	rb = load_selecting_self(skel, &recs);
	sel = bpf_map__fd(skel->maps.selected);
	calls = bpf_map__fd(skel->maps.go_tls_calls);
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(skel->maps.go_procs), &self, &gp, BPF_ANY),
			 0);
	assert_int_equal(bpf_map_lookup_elem(sel, &idx, &word), 0);
	word.go |= 1ull << (self % 64);
	assert_int_equal(bpf_map_update_elem(sel, &idx, &word, BPF_ANY), 0);
	loopback_pair(&c, &s);

	send_request(c, s, 100);
	assert_int_equal(data_goids_of(rb, &recs, &with_tail, &goid), 2);
	assert_int_equal(with_tail, 0);

	/* inside a crypto/tls call: read for the check, so no record */
	assert_int_equal(bpf_map_update_elem(calls, &k, &call, BPF_ANY), 0);
	word.go_tls |= 1ull << (self % 64);
	assert_int_equal(bpf_map_update_elem(sel, &idx, &word, BPF_ANY), 0);
	recs_clear(&recs);
	send_request(c, s, 100);
	assert_int_equal(data_goids_of(rb, &recs, &with_tail, &goid), 0);
	assert_int_equal(bpf_map_lookup_elem(calls, &k, &call), 0);
	assert_int_equal(call.fd, (uint32_t)s);

	/* outside one: records again, still without a goroutine */
	assert_int_equal(bpf_map_delete_elem(calls, &k), 0);
	recs_clear(&recs);
	send_request(c, s, 100);
	assert_int_equal(data_goids_of(rb, &recs, &with_tail, &goid), 2);
	assert_int_equal(with_tail, 0);

	close(c);
	close(s);
	ring_buffer__free(rb);
	capture_bpf__destroy(skel);
	recs_clear(&recs);
}

/* The goroutine tail of this process's data record on fd in direction dir
 * drained so far (the last one), or 0. */
static uint64_t rec_goid(struct fx *f, int fd, uint8_t dir)
{
	uint64_t goid = 0;

	ring_buffer__consume(f->rb);
	for (size_t i = 0; i < f->recs.n; i++) {
		const struct rt_data_event *ev = (const void *)f->recs.rec[i];

		if (ev->hdr.type == RT_EV_DATA && ev->conn.tgid == (uint32_t)getpid() &&
		    ev->conn.fd == (uint32_t)fd && ev->dir == dir &&
		    ev->hdr.len >= sizeof(*ev) + ev->cap_len + sizeof(struct rt_data_tail))
			memcpy(&goid, ev->data + ev->cap_len, sizeof(goid));
	}
	return goid;
}

/* Sets go_owned in fd's entry, as go_pconn_roundtrip_fd does when it
 * writes the socket's owner. */
static void set_go_owned(struct fx *f, int fd)
{
	struct rt_conn_key key = {.tgid = (uint32_t)getpid(), .fd = (uint32_t)fd};
	struct rt_conn_info ci = entry_of(f, fd);

	ci.go_owned = 1;
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(f->skel->maps.conns), &key, &ci, BPF_EXIST),
			 0);
}

/* A Go process's egress records look up the owner maps its go_procs
 * entry names (rt_go_proc.owners), and no other: with a writer owner and a
 * socket owner (of c) both in the maps, no bit leaves the running
 * goroutine, RT_GO_OWNER_FD gives c's writes the socket's owner once c's
 * entry is go_owned (before, c is no probed client connection and its
 * writes keep the running goroutine), RT_GO_OWNER_WRITER every write the
 * writer goroutine's owner (which comes first). Reads are never
 * redirected. */
static void test_goroutine_owners_by_bits(void **state)
{
	struct fx *f = *state;
	struct {
		uint32_t tgid, pad0;
		uint64_t v;
	} wk = {.tgid = (uint32_t)getpid(), .v = FAKE_GOID}, fk = wk;
	struct {
		uint64_t goid, gen;
	} fo = {.goid = 888};
	uint32_t self = (uint32_t)getpid();
	uint64_t writer_owner = 777;
	int procs = bpf_map__fd(f->skel->maps.go_procs), c, s;
	static const struct {
		uint32_t owners;
		bool go_owned; /* set from here on */
		uint64_t want;
	} cases[] = {
	    {0, false, FAKE_GOID},
	    {RT_GO_OWNER_FD, false, FAKE_GOID},
	    {RT_GO_OWNER_WRITER, false, 777},
	    {RT_GO_OWNER_FD, true, 888},
	    {0, true, FAKE_GOID},
	    {RT_GO_OWNER_WRITER, true, 777},
	    {RT_GO_OWNER_WRITER | RT_GO_OWNER_FD, true, 777},
	};
	struct rt_go_proc gp = fake_go_proc();

	set_selected(f, self, true);
	set_go(f, self, true);
	loopback_pair(&c, &s);
	send_request(c, s, 100); /* the entries, and c's generation */
	fk.v = (uint64_t)c;
	fo.gen = entry_of(f, c).gen;
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(f->skel->maps.go_writer_owner), &wk,
					     &writer_owner, BPF_ANY),
			 0);
	assert_int_equal(
	    bpf_map_update_elem(bpf_map__fd(f->skel->maps.go_fd_owner), &fk, &fo, BPF_ANY), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		gp.owners = cases[i].owners;
		assert_int_equal(bpf_map_update_elem(procs, &self, &gp, BPF_ANY), 0);
		if (cases[i].go_owned && !entry_of(f, c).go_owned)
			set_go_owned(f, c);
		recs_clear(&f->recs);
		send_request(c, s, 100);
		send_request(s, c, 100); /* s's socket has no owner */
		if (rec_goid(f, c, RT_DIR_EGRESS) != cases[i].want)
			fail_msg("owners %u, go_owned %d: goroutine %llu, not %llu", cases[i].owners,
				 cases[i].go_owned,
				 (unsigned long long)rec_goid(f, c, RT_DIR_EGRESS),
				 (unsigned long long)cases[i].want);
		assert_int_equal(rec_goid(f, s, RT_DIR_EGRESS),
				 cases[i].owners & RT_GO_OWNER_WRITER ? 777 : FAKE_GOID);
		assert_int_equal(rec_goid(f, s, RT_DIR_INGRESS), FAKE_GOID);
		assert_int_equal(rec_goid(f, c, RT_DIR_INGRESS), FAKE_GOID);
	}
	close(c);
	close(s);
	bpf_map_delete_elem(bpf_map__fd(f->skel->maps.go_writer_owner), &wk);
	bpf_map_delete_elem(bpf_map__fd(f->skel->maps.go_fd_owner), &fk);
	set_go(f, self, false);
	bpf_map_delete_elem(procs, &self);
	set_selected(f, self, false);
	recs_clear(&f->recs);
}

/* ---- instruction counts (bench/kernel.sh) ---- */

/* One table row per loaded program of obj. */
static void insns_rows(FILE *out, struct bpf_object *obj, uint32_t size)
{
	struct bpf_program *p;

	bpf_object__for_each_program(p, obj)
	{
		struct bpf_prog_info info = {0};
		__u32 len = sizeof(info);

		if (bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len))
			continue;
		fprintf(out, "| %s | %u | %u | %u | %u |\n", bpf_program__name(p), size,
			info.verified_insns, info.xlated_prog_len / 8, info.jited_prog_len);
	}
}

static int write_insns(const char *path)
{
	static const uint32_t sizes[] = {RT_CAPTURE_DEFAULT, RT_CAPTURE_MAX};
	FILE *out = fopen(path, "we");
	int err = 0;

	if (!out)
		return -errno;
	fprintf(out, "| program | capture bytes | verified insns | xlated insns | jited bytes |\n");
	fprintf(out, "|---|---:|---:|---:|---:|\n");
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]) && !err; i++) {
		struct capture_bpf *skel = load(sizes[i], true);
		struct goprobes_bpf *g;

		if (!skel) {
			err = -EINVAL;
			break;
		}
		insns_rows(out, skel->obj, sizes[i]);
		if (i == 0) { /* goprobes do not copy: one size tells */
			g = goprobes_load(skel->obj);
			if (g)
				insns_rows(out, g->obj, sizes[i]);
			else
				err = -EINVAL;
			goprobes_bpf__destroy(g);
		}
		capture_bpf__destroy(skel);
	}
	fclose(out);
	return err;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest load_tests[] = {
	    cmocka_unit_test(test_verifier_accepts_every_config),
	    cmocka_unit_test(test_floor_matches_agent),
	    cmocka_unit_test(test_log_capture),
	    cmocka_unit_test(test_ring_per_cpu),
	    cmocka_unit_test(test_reader_real_rings),
	    cmocka_unit_test(test_wakeup_follows_backlog),
	    cmocka_unit_test(test_wakeup_slow_fill),
	    cmocka_unit_test(test_log_files),
	};
	const struct CMUnitTest run_tests[] = {
	    cmocka_unit_test(test_fork_selected_exit_clears),
	    cmocka_unit_test(test_fork_unselected_not_selected),
	    cmocka_unit_test(test_fork_of_pending_reported),
	    cmocka_unit_test(test_listen_reported),
	    cmocka_unit_test(test_pipes_stay_out_of_conns),
	    cmocka_unit_test(test_h2_preface_widens_capture),
	    cmocka_unit_test(test_iovec_copy),
	    cmocka_unit_test(test_connctl_keeps_kernel_fields),
	    cmocka_unit_test(test_connctl_refuses_stale_gen),
	    cmocka_unit_test(test_connctl_races_new_connections),
	    cmocka_unit_test(test_goroutine_needs_go_bit),
	    cmocka_unit_test(test_goroutine_owners_by_bits),
	    cmocka_unit_test(test_go_tls_call_needs_bit),
	    cmocka_unit_test(test_no_goroutines_without_spans),
	    cmocka_unit_test(test_bound_levels),
	};
	char err[256];
	int failed;

	libbpf_set_print(silent);
	if (geteuid() != 0) {
		fprintf(stderr, "test_progs: loading eBPF programs needs root\n");
		return 1;
	}
	if (argc == 3 && !strcmp(argv[1], "--insns"))
		return write_insns(argv[2]) ? 1 : 0;
	/* attaching reads tracepoint ids from tracefs: mount it as the agent would */
	if (tracefs_ensure(err, sizeof(err)) < 0) {
		fprintf(stderr, "test_progs: %s\n", err);
		return 1;
	}
	failed = cmocka_run_group_tests_name("bpf_load", load_tests, NULL, NULL);
	failed += cmocka_run_group_tests_name("bpf_run", run_tests, setup, teardown);
	return failed ? 1 : 0;
}
