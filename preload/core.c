// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * core.c - start-up, kill switch, clock, thread ids and record building for
 * the LD_PRELOAD shim. Nothing here allocates, locks, prints or leaves errno
 * changed; start-up reads the environment once and registers a fork handler.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "batch.h"
#include "core.h"
#include "transport.h"

int shim_state = SHIM_UNINIT;
__thread int shim_depth __attribute__((tls_model("initial-exec")));

static __thread uint32_t tls_tid __attribute__((tls_model("initial-exec")));
static uint32_t g_pid;
static uint32_t g_features;
static uint64_t g_untracked;
static uint64_t g_start_ns;
static char g_service[64];

uint64_t shim_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

size_t shim_strnlen(const char *s, size_t max)
{
	size_t n = 0;

	if (!s)
		return 0;
	while (n < max && s[n])
		n++;
	return n;
}

void shim_append_uint(char *dst, size_t size, unsigned v)
{
	char digits[12];
	size_t n = 0, len = shim_strnlen(dst, size - 1);

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n && len + 1 < size)
		dst[len++] = digits[--n];
	dst[len] = 0;
}

static uint32_t shim_tid(void)
{
	if (shim_unlikely(!tls_tid))
		tls_tid = (uint32_t)syscall(SYS_gettid);
	return tls_tid;
}

static uint32_t shim_pid(void)
{
	uint32_t pid = __atomic_load_n(&g_pid, __ATOMIC_RELAXED);

	if (shim_unlikely(!pid)) {
		pid = (uint32_t)getpid();
		__atomic_store_n(&g_pid, pid, __ATOMIC_RELAXED);
	}
	return pid;
}

/* Batched records go out before fork: the child forgets its copies. */
static void shim_atfork_prepare(void)
{
	batch_flush_all(shim_tid());
}

/* In the child only the forking thread lives on: forget its old ids. */
static void shim_atfork_child(void)
{
	tls_tid = 0;
	__atomic_store_n(&g_pid, 0, __ATOMIC_RELAXED);
	batch_after_fork();
	transport_after_fork();
}

void shim_count_untracked(void)
{
	__atomic_add_fetch(&g_untracked, 1, __ATOMIC_RELAXED);
}

void shim_feature(uint32_t bits)
{
	if ((__atomic_load_n(&g_features, __ATOMIC_RELAXED) & bits) != bits)
		__atomic_or_fetch(&g_features, bits, __ATOMIC_RELAXED);
}

static bool env_true(const char *name)
{
	const char *v = getenv(name);

	return v && (!strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes"));
}

void shim_init(void)
{
	int expected = SHIM_UNINIT;
	int saved = errno;

	if (!__atomic_compare_exchange_n(&shim_state, &expected, SHIM_BUSY, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		return; /* done already, or another thread is at it: this call is not timed */
	if (env_true("REDTAP_DISABLE")) {
		__atomic_store_n(&shim_state, SHIM_OFF, __ATOMIC_RELEASE);
		errno = saved;
		return;
	}
	g_start_ns = shim_now();
	shim_strlcpy((uint8_t *)g_service, sizeof(g_service), getenv("OTEL_SERVICE_NAME"));
	pthread_atfork(shim_atfork_prepare, NULL, shim_atfork_child);
	batch_init(getenv("REDTAP_SHIM_BATCH"));
	transport_init(getenv("REDTAP_SHIM_RING"), getenv("REDTAP_SHIM_TRANSPORT"));
	__atomic_store_n(&shim_state, SHIM_ON, __ATOMIC_RELEASE);
	transport_probe(shim_now());
	errno = saved;
}

__attribute__((constructor)) static void shim_ctor(void)
{
	shim_init();
}

void shim_strlcpy(uint8_t *dst, size_t size, const char *src)
{
	size_t n = src ? shim_strnlen(src, size - 1) : 0;

	if (n)
		memcpy(dst, src, n);
	memset(dst + n, 0, size - n);
}

void shim_op_init(struct shim_wire *w, uint8_t system, uint8_t kind, const void *conn)
{
	memset(&w->u.op, 0, sizeof(w->u.op));
	w->u.op.system = system;
	w->u.op.kind = kind;
	w->u.op.conn_id = (uint64_t)(uintptr_t)conn;
}

void shim_op_text(struct shim_wire *w, const char *text, size_t len, bool truncated)
{
	size_t n;

	if (len == SIZE_MAX)
		len = shim_strnlen(text, RT_SHIM_TEXT_MAX + 1);
	n = len > RT_SHIM_TEXT_MAX ? RT_SHIM_TEXT_MAX : len;
	if (n)
		memcpy(w->u.op.text, text, n);
	w->u.op.text_len = (uint16_t)n;
	if (truncated || n < len)
		w->u.op.flags |= RT_SHIM_F_TRUNCATED;
}

static void shim_hdr_fill(struct rt_shim_hdr *h, uint16_t type, size_t len)
{
	h->magic = RT_SHIM_REC_MAGIC;
	h->len = (uint32_t)len;
	h->pid = shim_pid();
	h->tid = shim_tid();
	h->type = type;
	h->version = RT_SHIM_REC_VERSION;
	h->pad0 = 0;
	h->pad1 = 0;
}

void shim_hello_fill(struct rt_shim_hello *h, uint32_t channel_feature)
{
	struct transport_stats st;
	char comm[17] = "";

	memset(h, 0, sizeof(*h));
	shim_hdr_fill(&h->hdr, RT_SHIM_REC_HELLO, sizeof(*h));
	transport_stats(&st);
	h->start_ns = g_start_ns;
	h->ack_addr = transport_ack_addr();
	h->ack_nonce = transport_ack_nonce();
	h->sent = st.sent;
	h->dropped_full = st.dropped;
	h->dropped_untracked = __atomic_load_n(&g_untracked, __ATOMIC_RELAXED);
	h->features = __atomic_load_n(&g_features, __ATOMIC_RELAXED) | channel_feature;
	memcpy(h->service_name, g_service, sizeof(h->service_name));
	prctl(PR_GET_NAME, comm, 0, 0, 0);
	shim_strlcpy(h->comm, sizeof(h->comm), comm);
}

/* The readiness checks (ack expiry, probe deadlines, ring heartbeat) work
 * in seconds: a coarse clock (a few ns instead of ~20 on some VMs) serves. */
static uint64_t shim_now_coarse(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC_COARSE, &ts))
		return shim_now();
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

bool shim_listening(void)
{
	return transport_ready(shim_now_coarse());
}

void shim_emit(struct shim_wire *w)
{
	int saved = errno;

	shim_hdr_fill(&w->u.hdr, RT_SHIM_REC_OP, sizeof(w->u.op) + w->u.op.text_len);
	transport_send(w, shim_now_coarse());
	errno = saved;
}
