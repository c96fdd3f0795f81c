// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * transport.c - delivers shim records: the ioctl channel while an agent acks,
 * otherwise the shared-memory ring while its daemon's heartbeat is fresh,
 * otherwise nothing (and a probe at most every TRANSPORT_PROBE_NS).
 *
 * Probation: for TRANSPORT_PROBATION_NS after start-up, before any ack can
 * have arrived, records go by ioctl anyway (when no ring is live), so the
 * first operations of short-lived programs (psql, pgbench) reach an agent.
 * Without an agent that costs one failing syscall per operation, and only
 * during that window.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "batch.h"
#include "ring_path.h"
#include "ring_write.h"
#include "transport.h"

#define TP_MAX_MAPS	       8
#define TRANSPORT_PROBATION_NS 2000000000ull
#define TP_MAX_RING	       (1ull << 30)

enum tp_mode { TP_AUTO, TP_IOCTL, TP_RING, TP_OFF };

/*
 * A mapped ring. Writers take a reference (users) before they touch h and
 * re-check that the map is still the ring in use; the prober unmaps a map
 * that is no longer in use once nobody holds a reference (see ring_get and
 * ring_reclaim), so daemon restarts neither exhaust the slots nor keep old
 * rings' memory pinned.
 */
struct tp_map {
	struct rt_shim_ring_hdr *h; /* NULL: free slot */
	uint64_t map_size;
	uint64_t data_size; /* validated once at map time */
	uint64_t dev, ino;
	int users;
};

struct hello_wire {
	uint32_t msg[4]; /* struct rt_shim_msg */
	struct rt_shim_hello hello;
};

static int tp_mode;
static char tp_path[256];
/* Written by the daemon, which first checks that it is the start of this
 * library's section RT_SHIM_ACK_SECTION and holds the nonce our hello
 * carries: keep it alone in that section. */
static struct rt_shim_ack tp_ack __attribute__((aligned(16), section(RT_SHIM_ACK_SECTION)));
static int tp_probing;
static uint64_t tp_next_probe;
static uint64_t tp_next_hello;
static struct tp_map tp_maps[TP_MAX_MAPS];
static struct tp_map *tp_ring;
static uint64_t tp_sent, tp_dropped;
static uint64_t tp_probation_until; /* CLOCK_MONOTONIC */

_Static_assert(sizeof(struct rt_shim_msg) == 16, "the wire header mirrors rt_shim_msg");
_Static_assert(offsetof(struct shim_wire, u) == sizeof(struct rt_shim_msg), "wire layout");
_Static_assert(offsetof(struct hello_wire, hello) == sizeof(struct rt_shim_msg), "wire layout");

/* A random, non-zero nonce for the ack (getrandom; never blocks). */
static uint64_t draw_nonce(void)
{
	uint64_t n = 0;
	struct timespec ts;

	if (syscall(SYS_getrandom, &n, sizeof(n), 1 /* GRND_NONBLOCK */) != (long)sizeof(n)) {
		/* early boot, old kernel: weaker, but still unknown to other users */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		n = ((uint64_t)ts.tv_nsec << 32) ^ (uint64_t)ts.tv_sec ^ (uint64_t)(uintptr_t)&n ^
		    ((uint64_t)getpid() << 48);
	}
	return n ? n : 1;
}

void transport_init(const char *ring_path, const char *mode)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == 0)
		tp_probation_until = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec +
				     TRANSPORT_PROBATION_NS;
	if (!mode || !*mode || !strcmp(mode, "auto"))
		tp_mode = TP_AUTO;
	else if (!strcmp(mode, "ioctl"))
		tp_mode = TP_IOCTL;
	else if (!strcmp(mode, "ring"))
		tp_mode = TP_RING;
	else
		tp_mode = TP_OFF;
	if (!ring_path_default(tp_path, sizeof(tp_path), ring_path, geteuid(), NULL, 0))
		tp_path[0] = 0;
	if (!__atomic_load_n(&tp_ack.nonce, __ATOMIC_RELAXED))
		__atomic_store_n(&tp_ack.nonce, draw_nonce(), __ATOMIC_RELAXED);
}

void transport_after_fork(void)
{
	__atomic_store_n(&tp_probing, 0, __ATOMIC_RELAXED);
	/* the threads that held references do not exist in the child */
	for (int i = 0; i < TP_MAX_MAPS; i++)
		__atomic_store_n(&tp_maps[i].users, 0, __ATOMIC_RELAXED);
}

uint64_t transport_ack_addr(void)
{
	return (uint64_t)(uintptr_t)&tp_ack;
}

uint64_t transport_ack_nonce(void)
{
	return __atomic_load_n(&tp_ack.nonce, __ATOMIC_RELAXED);
}

/* The agent acknowledged a hello and its acknowledgement has not expired. */
static bool ioctl_acked(uint64_t now)
{
	return tp_mode != TP_RING && tp_mode != TP_OFF &&
	       __atomic_load_n(&tp_ack.magic, __ATOMIC_ACQUIRE) == RT_SHIM_ACK &&
	       now < __atomic_load_n(&tp_ack.expires_ns, __ATOMIC_ACQUIRE);
}

/* Early after start-up an agent may listen without having acked yet. */
static bool ioctl_probation(uint64_t now)
{
	return tp_mode != TP_RING && tp_mode != TP_OFF && now < tp_probation_until;
}

void transport_stats(struct transport_stats *st)
{
	st->sent = __atomic_load_n(&tp_sent, __ATOMIC_RELAXED);
	st->dropped = __atomic_load_n(&tp_dropped, __ATOMIC_RELAXED);
}

/* wire: a struct rt_shim_msg header followed by len bytes of record. The
 * syscall fails with EBADF; the agent's eBPF program has read it by then. */
static void ioctl_send(void *wire, uint32_t len)
{
	uint32_t *msg = wire;

	msg[0] = RT_SHIM_MAGIC;
	msg[1] = len;
	msg[2] = 0;
	msg[3] = 0;
	ioctl(RT_SHIM_IOCTL_FD, RT_SHIM_IOCTL_CMD, wire);
}

static bool ring_fresh(const struct tp_map *m, uint64_t now)
{
	uint64_t hb = __atomic_load_n(&m->h->heartbeat_ns, __ATOMIC_ACQUIRE);

	return hb && (int64_t)(now - hb) < (int64_t)RT_SHIM_RING_STALE_NS &&
	       (int64_t)(hb - now) < (int64_t)RT_SHIM_RING_STALE_NS;
}

/* A regular file of ours or root's that others cannot write, of a sane
 * size, with every byte allocated: writing into a sparse file on a full
 * tmpfs would kill the host program with SIGBUS. */
static bool ring_file_ok(const struct stat *st)
{
	if (!S_ISREG(st->st_mode) || (st->st_mode & S_IWOTH))
		return false;
	if (st->st_uid != geteuid() && st->st_uid != 0)
		return false;
	if ((uint64_t)st->st_blocks * 512 < (uint64_t)st->st_size)
		return false;
	return st->st_size >= RT_SHIM_RING_HDR_SIZE + 4096 &&
	       (uint64_t)st->st_size <= RT_SHIM_RING_HDR_SIZE + TP_MAX_RING;
}

static bool ring_hdr_ok(const struct rt_shim_ring_hdr *h, uint64_t file_size)
{
	uint64_t size = h->data_size;

	return h->magic == RT_SHIM_RING_MAGIC && h->version == RT_SHIM_RING_VERSION &&
	       size >= 4096 && !(size & (size - 1)) && RT_SHIM_RING_HDR_SIZE + size <= file_size;
}

/*
 * Unmaps every ring that is not the one in use and that no writer holds.
 * Writers take their reference before re-checking tp_ring, and tp_ring no
 * longer points here before users is read (both sequentially consistent):
 * a writer that comes too late sees tp_ring changed and lets go without
 * touching the mapping. Only the prober runs this.
 */
static void ring_reclaim(void)
{
	struct tp_map *cur = __atomic_load_n(&tp_ring, __ATOMIC_SEQ_CST);

	for (int i = 0; i < TP_MAX_MAPS; i++) {
		struct tp_map *m = &tp_maps[i];

		if (!m->h || m == cur || __atomic_load_n(&m->users, __ATOMIC_SEQ_CST))
			continue;
		munmap(m->h, (size_t)m->map_size);
		m->h = NULL;
		m->dev = m->ino = 0;
	}
}

/* Maps the ring at tp_path (or finds it mapped already). Only the prober runs this. */
static struct tp_map *ring_attach(void)
{
	struct tp_map *m = NULL;
	struct stat st;
	void *p;
	int fd, i;

	if (!tp_path[0])
		return NULL;
	fd = open(tp_path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) || !ring_file_ok(&st))
		goto out_close;
	for (i = 0; i < TP_MAX_MAPS; i++)
		if (tp_maps[i].h && tp_maps[i].dev == (uint64_t)st.st_dev &&
		    tp_maps[i].ino == (uint64_t)st.st_ino) {
			m = &tp_maps[i];
			goto out_close;
		}
	for (i = 0; i < TP_MAX_MAPS && tp_maps[i].h; i++)
		;
	if (i == TP_MAX_MAPS)
		goto out_close; /* every slot held by a writer right now: next probe */
	p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		goto out_close;
	if (!ring_hdr_ok(p, (uint64_t)st.st_size)) {
		munmap(p, (size_t)st.st_size);
		goto out_close;
	}
	m = &tp_maps[i];
	m->map_size = (uint64_t)st.st_size;
	m->data_size = ((struct rt_shim_ring_hdr *)p)->data_size;
	m->dev = (uint64_t)st.st_dev;
	m->ino = (uint64_t)st.st_ino;
	__atomic_store_n(&m->h, p, __ATOMIC_RELEASE);
out_close:
	close(fd);
	return m;
}

static bool ring_send(struct tp_map *m, const void *rec, uint32_t len)
{
	if (shim_ring_write(m->h, m->data_size, rec, len) == 0) {
		__atomic_add_fetch(&tp_sent, 1, __ATOMIC_RELAXED);
		return true;
	}
	__atomic_add_fetch(&tp_dropped, 1, __ATOMIC_RELAXED);
	return false;
}

void transport_probe(uint64_t now)
{
	struct hello_wire hw;
	struct tp_map *m;
	int expected = 0;
	int saved = errno;

	if (tp_mode == TP_OFF)
		return;
	if (!__atomic_compare_exchange_n(&tp_probing, &expected, 1, false, __ATOMIC_ACQUIRE,
					 __ATOMIC_RELAXED))
		return;
	__atomic_store_n(&tp_next_probe, now + TRANSPORT_PROBE_NS, __ATOMIC_RELAXED);
	__atomic_store_n(&tp_next_hello, now + TRANSPORT_HELLO_NS, __ATOMIC_RELAXED);
	if (tp_mode != TP_RING && !ioctl_acked(now)) {
		/* an agent answers asynchronously, by writing tp_ack */
		shim_hello_fill(&hw.hello, RT_SHIM_FEAT_IOCTL);
		ioctl_send(&hw, sizeof(hw.hello));
	}
	if (tp_mode != TP_IOCTL && !__atomic_load_n(&tp_ring, __ATOMIC_SEQ_CST)) {
		/* the prober alone unmaps: m stays mapped while it works here */
		ring_reclaim();
		m = ring_attach();
		if (m && ring_fresh(m, now)) {
			__atomic_store_n(&tp_ring, m, __ATOMIC_SEQ_CST);
			shim_hello_fill(&hw.hello, RT_SHIM_FEAT_RING);
			ring_send(m, &hw.hello, sizeof(hw.hello));
		}
	}
	__atomic_store_n(&tp_probing, 0, __ATOMIC_RELEASE);
	errno = saved;
}

static void ring_put(struct tp_map *m)
{
	__atomic_sub_fetch(&m->users, 1, __ATOMIC_SEQ_CST);
}

/* The ring in use, referenced (ring_put() it), if its daemon is alive;
 * forgets a dead one. See ring_reclaim() for the ordering. */
static struct tp_map *ring_get(uint64_t now)
{
	struct tp_map *m = __atomic_load_n(&tp_ring, __ATOMIC_SEQ_CST), *expect;

	if (!m)
		return NULL;
	__atomic_add_fetch(&m->users, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&tp_ring, __ATOMIC_SEQ_CST) != m) {
		ring_put(m);
		return NULL;
	}
	if (ring_fresh(m, now))
		return m;
	expect = m;
	__atomic_compare_exchange_n(&tp_ring, &expect, NULL, false, __ATOMIC_SEQ_CST,
				    __ATOMIC_RELAXED);
	ring_put(m);
	return NULL;
}

static bool ring_live(uint64_t now)
{
	struct tp_map *m = ring_get(now);

	if (m)
		ring_put(m);
	return m != NULL;
}

bool transport_ready(uint64_t now)
{
	uint64_t next;

	if (ioctl_acked(now) || ring_live(now))
		return true;
	next = __atomic_load_n(&tp_next_probe, __ATOMIC_RELAXED);
	if (now >= next &&
	    __atomic_compare_exchange_n(&tp_next_probe, &next, now + TRANSPORT_PROBE_NS, false,
					__ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		transport_probe(now);
	return ioctl_acked(now) || ring_live(now) || ioctl_probation(now);
}

/* Sends a keepalive hello on the channel in use, at most every TRANSPORT_HELLO_NS. */
static void maybe_hello(uint64_t now, struct tp_map *m)
{
	uint64_t next = __atomic_load_n(&tp_next_hello, __ATOMIC_RELAXED);
	struct hello_wire hw;

	if (now < next ||
	    !__atomic_compare_exchange_n(&tp_next_hello, &next, now + TRANSPORT_HELLO_NS, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		return;
	shim_hello_fill(&hw.hello, m ? RT_SHIM_FEAT_RING : RT_SHIM_FEAT_IOCTL);
	if (m) {
		ring_send(m, &hw.hello, sizeof(hw.hello));
	} else {
		ioctl_send(&hw, sizeof(hw.hello));
		__atomic_add_fetch(&tp_sent, 1, __ATOMIC_RELAXED);
	}
}

void transport_send(struct shim_wire *w, uint64_t now)
{
	uint32_t len = w->u.hdr.len;
	struct tp_map *m;

	if (ioctl_acked(now)) {
		/* batched only when asked for and the agent reads batches */
		if (!batch_on() ||
		    !(__atomic_load_n(&tp_ack.flags, __ATOMIC_RELAXED) & RT_SHIM_ACK_F_BATCH) ||
		    !batch_add(&w->u, len, w->u.hdr.tid, now))
			ioctl_send(w, len);
		__atomic_add_fetch(&tp_sent, 1, __ATOMIC_RELAXED);
		maybe_hello(now, NULL);
		return;
	}
	m = ring_get(now);
	if (m) {
		ring_send(m, &w->u, len);
		maybe_hello(now, m);
		ring_put(m);
		return;
	}
	if (ioctl_probation(now)) {
		ioctl_send(w, len);
		__atomic_add_fetch(&tp_sent, 1, __ATOMIC_RELAXED);
	}
}
