// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_conntab.c - unit tests for the connection table (user/proto/conntab.c):
 * insert and lookup, generation checks on fd reuse (the old connection is
 * closed through the hook, late records of it are refused), the size bound
 * and its miss counter, closing by id, by process and by predicate, the
 * iterator, the hook releasing protocol state on free, a re-created kernel
 * entry of the same socket (no false close), and closing one process's
 * connections by the per-process index without touching a newer process
 * with the same pid, and the walks seeing exactly the live connections
 * after removals by every path, and the bucket arrays growing with the
 * connections without losing one from either index.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "conntab.h"

#define MAX_CLOSED 64

/* What the on_close hook saw, in order. */
struct closed {
	uint32_t tgid, fd;
	uint64_t gen, ts;
	uint64_t last_ts; /* a field the owner set, to prove the hook gets the real conn */
};

struct hook_log {
	struct closed v[MAX_CLOSED];
	size_t n;
	size_t total; /* also counts past MAX_CLOSED */
	size_t freed; /* proto_state buffers released by the hook */
};

static void on_close(void *ctx, struct conn *c, uint64_t ts)
{
	struct hook_log *log = ctx;

	if (log->n < MAX_CLOSED)
		log->v[log->n++] = (struct closed){c->tgid, c->fd, c->gen, ts, c->last_ts};
	log->total++;
	if (c->proto_state) {
		free(c->proto_state);
		c->proto_state = NULL;
		log->freed++;
	}
}

static struct rt_conn_id id_of(uint32_t tgid, uint32_t fd, uint64_t gen)
{
	return (struct rt_conn_id){.gen = gen, .tgid = tgid, .fd = fd};
}

static struct conn *get(struct conntab *t, uint32_t tgid, uint32_t fd, uint64_t gen, bool create)
{
	struct rt_conn_id id = id_of(tgid, fd, gen);

	return conntab_get(t, &id, create);
}

static void test_insert_and_get(void **state)
{
	struct hook_log log = {0};
	struct conntab *t = conntab_new(16, on_close, &log);
	struct conn *a, *b, *again;

	(void)state;
	assert_non_null(t);
	assert_int_equal(conntab_count(t), 0);
	assert_null(get(t, 10, 3, 1, false)); /* absent, no create */
	assert_int_equal(conntab_count(t), 0);

	a = get(t, 10, 3, 1, true);
	assert_non_null(a);
	assert_int_equal(a->tgid, 10);
	assert_int_equal(a->fd, 3);
	assert_int_equal(a->gen, 1);
	assert_int_equal(a->proto, CONN_PROTO_UNKNOWN);
	assert_null(a->proto_state);
	assert_int_equal(a->sniff_tries, 0);
	assert_int_equal(conntab_count(t), 1);

	again = get(t, 10, 3, 1, false);
	assert_ptr_equal(again, a);
	again = get(t, 10, 3, 1, true); /* same generation: no new connection */
	assert_ptr_equal(again, a);
	assert_int_equal(conntab_count(t), 1);

	/* Same fd in another process, and another fd in the same process. */
	b = get(t, 11, 3, 1, true);
	assert_non_null(b);
	assert_ptr_not_equal(b, a);
	assert_non_null(get(t, 10, 4, 1, true));
	assert_int_equal(conntab_count(t), 3);
	assert_ptr_equal(get(t, 10, 3, 1, false), a);
	assert_ptr_equal(get(t, 11, 3, 1, false), b);
	assert_int_equal(log.total, 0);
	assert_int_equal(conntab_full_misses(t), 0);

	conntab_free(t);
	assert_int_equal(log.total, 3); /* free closes every connection */
	conntab_free(NULL);
}

static void test_generation_reuse_closes_old(void **state)
{
	struct hook_log log = {0};
	struct conntab *t = conntab_new(16, on_close, &log);
	struct conn *old, *c;

	(void)state;
	old = get(t, 7, 5, 100, true);
	assert_non_null(old);
	old->last_ts = 4242;
	old->proto_state = malloc(32);

	c = get(t, 7, 5, 101, true); /* fd 5 now holds another socket */
	assert_non_null(c);
	assert_int_equal(log.total, 1);
	assert_int_equal(log.v[0].tgid, 7);
	assert_int_equal(log.v[0].fd, 5);
	assert_int_equal(log.v[0].gen, 100);
	assert_int_equal(log.v[0].last_ts, 4242);
	assert_int_equal(log.freed, 1); /* the owner released its state in the hook */
	assert_int_equal(c->gen, 101);
	assert_int_equal(c->last_ts, 0); /* a fresh connection, not the old one reused */
	assert_null(c->proto_state);
	assert_int_equal(conntab_count(t), 1);
	assert_ptr_equal(get(t, 7, 5, 101, false), c);

	/* A newer generation without create does not replace anything. */
	assert_null(get(t, 7, 5, 102, false));
	assert_int_equal(log.total, 1);
	assert_ptr_equal(get(t, 7, 5, 101, false), c);

	conntab_free(t);
	assert_int_equal(log.total, 2);
}

static void test_older_generation_refused(void **state)
{
	struct hook_log log = {0};
	struct conntab *t = conntab_new(16, on_close, &log);
	struct conn *c;
	struct rt_conn_id old = id_of(7, 5, 99);

	(void)state;
	c = get(t, 7, 5, 100, true);
	assert_non_null(c);
	/* A late record of the connection that fd 5 held before. */
	assert_null(get(t, 7, 5, 99, true));
	assert_null(get(t, 7, 5, 99, false));
	assert_null(get(t, 7, 5, 0, true));
	assert_int_equal(log.total, 0);
	assert_int_equal(conntab_count(t), 1);
	assert_ptr_equal(get(t, 7, 5, 100, false), c);
	assert_int_equal(c->gen, 100);

	/* Closing the older generation must not close the newer one. */
	conntab_close(t, &old, 5);
	assert_int_equal(log.total, 0);
	assert_ptr_equal(get(t, 7, 5, 100, false), c);
	assert_int_equal(conntab_full_misses(t), 0); /* a refusal is not a miss */
	conntab_free(t);
}

static void test_max_bound_and_misses(void **state)
{
	struct hook_log log = {0};
	struct conntab *t = conntab_new(3, on_close, &log);
	struct rt_conn_id id2 = id_of(1, 2, 1);

	(void)state;
	for (uint32_t fd = 1; fd <= 3; fd++)
		assert_non_null(get(t, 1, fd, 1, true));
	assert_int_equal(conntab_count(t), 3);
	assert_null(get(t, 1, 4, 1, true));
	assert_null(get(t, 2, 1, 1, true));
	assert_int_equal(conntab_full_misses(t), 2);
	assert_int_equal(conntab_count(t), 3);
	/* Existing connections are still found; lookups without create are not misses. */
	assert_non_null(get(t, 1, 1, 1, false));
	assert_null(get(t, 1, 9, 1, false));
	assert_int_equal(conntab_full_misses(t), 2);

	/* fd reuse while full: the old connection makes room for the new one. */
	assert_non_null(get(t, 1, 3, 2, true));
	assert_int_equal(log.total, 1);
	assert_int_equal(conntab_count(t), 3);
	assert_int_equal(conntab_full_misses(t), 2);

	/* A close frees a slot. */
	conntab_close(t, &id2, 77);
	assert_int_equal(log.total, 2);
	assert_int_equal(log.v[1].fd, 2);
	assert_int_equal(log.v[1].ts, 77);
	assert_int_equal(conntab_count(t), 2);
	assert_non_null(get(t, 1, 4, 1, true));
	assert_int_equal(conntab_full_misses(t), 2);
	conntab_free(t);

	/* A table of size 0 holds nothing. */
	t = conntab_new(0, NULL, NULL);
	assert_non_null(t);
	assert_null(get(t, 1, 1, 1, true));
	assert_int_equal(conntab_full_misses(t), 1);
	conntab_free(t);
}

static void test_close_by_id(void **state)
{
	struct hook_log log = {0};
	struct conntab *t = conntab_new(16, on_close, &log);
	struct rt_conn_id absent = id_of(3, 3, 1), newer = id_of(3, 4, 9), same = id_of(3, 5, 1);

	(void)state;
	assert_non_null(get(t, 3, 4, 1, true));
	assert_non_null(get(t, 3, 5, 1, true));
	conntab_close(t, &absent, 1); /* no-op */
	assert_int_equal(log.total, 0);
	assert_int_equal(conntab_count(t), 2);

	conntab_close(t, &newer, 123); /* closes the older generation too */
	assert_int_equal(log.total, 1);
	assert_int_equal(log.v[0].fd, 4);
	assert_int_equal(log.v[0].gen, 1);
	assert_int_equal(log.v[0].ts, 123);
	assert_null(get(t, 3, 4, 1, false));

	conntab_close(t, &same, 124);
	assert_int_equal(log.total, 2);
	assert_int_equal(log.v[1].fd, 5);
	assert_int_equal(log.v[1].ts, 124);
	assert_int_equal(conntab_count(t), 0);
	conntab_close(t, &same, 125); /* already gone */
	assert_int_equal(log.total, 2);
	conntab_free(t);
	assert_int_equal(log.total, 2);
}

/* The predicate the agent's process-exit sweep uses: one process's conns. */
static bool tgid_is(void *ctx, const struct conn *c)
{
	return c->tgid == *(const uint32_t *)ctx;
}

static void test_close_tgid(void **state)
{
	struct hook_log log = {0};
	struct conntab *t = conntab_new(4096, on_close, &log);

	(void)state;
	/* Enough connections to share buckets; tgid 100 and 200 interleaved. */
	for (uint32_t fd = 0; fd < 1500; fd++) {
		assert_non_null(get(t, 100, fd, 1, true));
		assert_non_null(get(t, 200, fd, 1, true));
	}
	assert_int_equal(conntab_count(t), 3000);
	conntab_close_if(t, tgid_is, &(uint32_t){100}, 555);
	assert_int_equal(log.total, 1500);
	for (size_t i = 0; i < log.n; i++) {
		assert_int_equal(log.v[i].tgid, 100);
		assert_int_equal(log.v[i].ts, 555);
	}
	assert_int_equal(conntab_count(t), 1500);
	for (uint32_t fd = 0; fd < 1500; fd++) {
		assert_null(get(t, 100, fd, 1, false));
		assert_non_null(get(t, 200, fd, 1, false));
	}
	conntab_close_if(t, tgid_is, &(uint32_t){999}, 556); /* no such process */
	assert_int_equal(log.total, 1500);
	conntab_free(t);
	assert_int_equal(log.total, 3000);
}

static bool fd_is_even(void *ctx, const struct conn *c)
{
	size_t *calls = ctx;

	(*calls)++;
	return c->fd % 2 == 0;
}

static bool never(void *ctx, const struct conn *c)
{
	(void)ctx;
	(void)c;
	return false;
}

static void test_close_if(void **state)
{
	struct hook_log log = {0};
	struct conntab *t = conntab_new(64, on_close, &log);
	size_t calls = 0;

	(void)state;
	for (uint32_t fd = 0; fd < 40; fd++)
		assert_non_null(get(t, 1 + fd % 3, fd, 1, true));
	conntab_close_if(t, never, NULL, 1);
	assert_int_equal(log.total, 0);

	conntab_close_if(t, fd_is_even, &calls, 9);
	assert_int_equal(calls, 40); /* one pass: each connection asked once */
	assert_int_equal(log.total, 20);
	for (size_t i = 0; i < log.n; i++) {
		assert_int_equal(log.v[i].fd % 2, 0);
		assert_int_equal(log.v[i].ts, 9);
	}
	assert_int_equal(conntab_count(t), 20);
	for (uint32_t fd = 0; fd < 40; fd++) {
		struct conn *c = get(t, 1 + fd % 3, fd, 1, false);

		if (fd % 2)
			assert_non_null(c);
		else
			assert_null(c);
	}
	conntab_free(t);
}

struct visit {
	uint64_t fd_sum;
	size_t n;
};

static void visit_fn(void *ctx, struct conn *c)
{
	struct visit *v = ctx;

	v->fd_sum += c->fd;
	v->n++;
	c->last_ts = 1000 + c->fd; /* fn may modify the connection */
}

static void test_for_each(void **state)
{
	struct conntab *t = conntab_new(2048, NULL, NULL);
	struct visit v = {0};
	uint64_t want = 0;

	(void)state;
	conntab_for_each(t, visit_fn, &v);
	assert_int_equal(v.n, 0);
	for (uint32_t fd = 0; fd < 2000; fd++) {
		assert_non_null(get(t, 42 + fd % 5, fd, 3, true));
		want += fd;
	}
	conntab_for_each(t, visit_fn, &v);
	assert_int_equal(v.n, 2000);
	assert_int_equal(v.fd_sum, want);
	for (uint32_t fd = 0; fd < 2000; fd += 97)
		assert_int_equal(get(t, 42 + fd % 5, fd, 3, false)->last_ts, 1000 + fd);
	conntab_free(t); /* no hook: still frees everything (ASan checks) */
}

static void test_free_releases_state(void **state)
{
	struct hook_log log = {0};
	struct conntab *t = conntab_new(8, on_close, &log);

	(void)state;
	for (uint32_t fd = 0; fd < 5; fd++)
		get(t, 9, fd, 1, true)->proto_state = malloc(16);
	conntab_free(t);
	assert_int_equal(log.total, 5);
	assert_int_equal(log.freed, 5);
}

/*
 * The kernel evicted a live socket's entry and re-created it with a new
 * generation: same inode, so the connection goes on (no close, the hook
 * is not called) and records of both generations reach it. A new socket
 * on the fd (another inode) is a reuse, as before.
 */
static void test_recreated_entry_same_socket(void **state)
{
	struct hook_log log = {0};
	struct conntab *t = conntab_new(16, on_close, &log);
	struct rt_conn_id g1 = id_of(10, 3, 5), g2 = id_of(10, 3, 9), g3 = id_of(10, 3, 12);
	struct conn *c, *again;

	(void)state;
	c = conntab_open(t, &g1, 777);
	assert_non_null(c);
	assert_int_equal(c->sock_ino, 777);
	c->last_ts = 42;
	c->opaque_told = 1;
	again = conntab_open(t, &g2, 777);
	assert_ptr_equal(again, c);
	assert_int_equal(log.total, 0);
	assert_int_equal(conntab_recreated(t), 1);
	assert_int_equal(c->gen, 9);
	assert_int_equal(c->first_gen, 5);
	assert_int_equal(c->opaque_told, 0);	     /* the kernel's new entry is not opaque yet */
	assert_ptr_equal(get(t, 10, 3, 5, true), c); /* a late record of gen 5 */
	assert_ptr_equal(get(t, 10, 3, 9, true), c);
	assert_int_equal(log.total, 0);
	assert_null(get(t, 10, 3, 4, true)); /* older than the socket: refused */
	/* another socket on the same fd */
	again = conntab_open(t, &g3, 778);
	assert_non_null(again);
	assert_int_equal(log.total, 1);
	assert_int_equal(log.v[0].gen, 9);
	assert_int_equal(log.v[0].last_ts, 42);
	assert_int_equal(again->first_gen, 12);
	assert_int_equal(conntab_recreated(t), 1);
	/* without an inode (older kernel side): a newer gen is a reuse */
	assert_non_null(conntab_open(t, &(struct rt_conn_id){.gen = 13, .tgid = 10, .fd = 3}, 0));
	assert_int_equal(log.total, 2);
	/* a close of any generation of the current socket closes it */
	conntab_close(t, &(struct rt_conn_id){.gen = 13, .tgid = 10, .fd = 3}, 50);
	assert_int_equal(log.total, 3);
	assert_int_equal(conntab_count(t), 0);
	conntab_free(t);
}

static void test_close_tgid_index(void **state)
{
	struct hook_log log = {0};
	struct conntab *t = conntab_new(4096, on_close, &log);
	struct conn *c;

	(void)state;
	for (uint32_t fd = 0; fd < 1500; fd++) {
		c = get(t, 100, fd, 1, true);
		c->opened_ts = 10;
		c = get(t, 200, fd, 1, true);
		c->opened_ts = 10;
	}
	/* a newer process with pid 100 opened fd 2000 after the exit at ts 20 */
	c = get(t, 100, 2000, 2, true);
	c->opened_ts = 30;
	conntab_close_tgid(t, 100, 20, 25);
	assert_int_equal(log.total, 1500);
	for (size_t i = 0; i < log.n; i++) {
		assert_int_equal(log.v[i].tgid, 100);
		assert_int_equal(log.v[i].ts, 25);
	}
	assert_int_equal(conntab_count(t), 1501);
	assert_non_null(get(t, 100, 2000, 2, false));
	/* removal through the other paths keeps the index right */
	conntab_close(t, &(struct rt_conn_id){.gen = 1, .tgid = 200, .fd = 7}, 26);
	conntab_close_if(t, tgid_is, &(uint32_t){100}, 27);
	conntab_close_tgid(t, 200, 40, 41);
	assert_int_equal(conntab_count(t), 0);
	assert_int_equal(log.total, 3001);
	conntab_close_tgid(t, 999, 40, 42); /* no such process */
	conntab_free(t);
	assert_int_equal(log.total, 3001);
}

static bool always(void *ctx, const struct conn *c)
{
	(void)ctx;
	(void)c;
	return true;
}

/* The walks go over a list of the connections, not the buckets: every way
 * out of the table (close, reuse, a process's exit, a predicate, a full
 * table's refusal) must leave that list holding exactly the live ones. */
static void test_walks_after_removals(void **state)
{
	struct hook_log log = {0};
	struct conntab *t = conntab_new(300, on_close, &log);
	struct visit v = {0};
	uint64_t want = 0;

	(void)state;
	for (uint32_t fd = 0; fd < 300; fd++)
		assert_non_null(get(t, 1 + fd % 3, fd, 1, true));
	assert_null(get(t, 9, 999, 1, true));	  /* full: refused, not listed */
	for (uint32_t fd = 0; fd < 300; fd += 10) /* closed by id */
		conntab_close(t, &(struct rt_conn_id){.gen = 1, .tgid = 1 + fd % 3, .fd = fd}, 2);
	for (uint32_t fd = 5; fd < 300; fd += 10) /* reused: replaced by a new one */
		assert_non_null(get(t, 1 + fd % 3, fd, 2, true));
	conntab_close_tgid(t, 2, 100, 3); /* every fd % 3 == 1 */
	conntab_close_if(t, fd_is_even, &(size_t){0}, 4);
	for (uint32_t fd = 0; fd < 300; fd++)
		if (fd % 10 && fd % 3 != 1 && fd % 2)
			want += fd;
	conntab_for_each(t, visit_fn, &v);
	assert_int_equal(v.fd_sum, want);
	assert_int_equal(v.n, conntab_count(t));
	log.total = 0;
	conntab_close_if(t, always, NULL, 5);
	assert_int_equal(log.total, v.n);
	assert_int_equal(conntab_count(t), 0);
	v = (struct visit){0};
	conntab_for_each(t, visit_fn, &v);
	assert_int_equal(v.n, 0);
	assert_non_null(get(t, 7, 7, 1, true)); /* the emptied list takes new ones */
	conntab_for_each(t, visit_fn, &v);
	assert_int_equal(v.n, 1);
	conntab_free(t);
}

/* The buckets start small and double as connections come: across every
 * doubling each connection is found again (the same one, its state kept),
 * a process's connections are all closed by the per-process index, and
 * the rest are still found. */
static void test_grows_keeps_every_connection(void **state)
{
	enum { N = 5000 };
	struct hook_log log = {0};
	struct conntab *t = conntab_new(8192, on_close, &log);
	struct conn **all = calloc(N, sizeof(*all));

	(void)state;
	assert_non_null(all);
	for (uint32_t i = 0; i < N; i++) {
		all[i] = get(t, 1000 + i % 7, i, 1 + i, true);
		assert_non_null(all[i]);
		/* its hot fields in one cache line (conntab.h) */
		assert_int_equal((uintptr_t)all[i] % 64, 0);
		assert_null(all[i]->proto_state);
		all[i]->last_ts = i;
		if ((i & (i - 1)) == 0 || i % 1000 == 999) /* after each doubling, and more */
			for (uint32_t j = 0; j <= i; j++)
				assert_ptr_equal(get(t, 1000 + j % 7, j, 1 + j, false), all[j]);
	}
	assert_int_equal(conntab_count(t), N);
	for (uint32_t i = 0; i < N; i++)
		assert_int_equal(get(t, 1000 + i % 7, i, 1 + i, false)->last_ts, i);
	conntab_close_tgid(t, 1003, UINT64_MAX, 9);
	assert_int_equal(log.total, (N - 3 + 6) / 7); /* i % 7 == 3 */
	for (uint32_t i = 0; i < N; i++)
		assert_true((get(t, 1000 + i % 7, i, 1 + i, false) == NULL) == (i % 7 == 3));
	assert_int_equal(conntab_count(t), N - log.total);
	for (uint32_t k = 0; k < 7; k++) { /* every process by its own index */
		size_t before = log.total, want = k == 3 ? 0 : (N - k + 6) / 7;

		conntab_close_tgid(t, 1000 + k, UINT64_MAX, 10);
		assert_int_equal(log.total - before, want);
	}
	assert_int_equal(conntab_count(t), 0);
	conntab_free(t);
	free(all);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_insert_and_get),
	    cmocka_unit_test(test_generation_reuse_closes_old),
	    cmocka_unit_test(test_older_generation_refused),
	    cmocka_unit_test(test_max_bound_and_misses),
	    cmocka_unit_test(test_close_by_id),
	    cmocka_unit_test(test_close_tgid),
	    cmocka_unit_test(test_close_if),
	    cmocka_unit_test(test_for_each),
	    cmocka_unit_test(test_free_releases_state),
	    cmocka_unit_test(test_recreated_entry_same_socket),
	    cmocka_unit_test(test_close_tgid_index),
	    cmocka_unit_test(test_walks_after_removals),
	    cmocka_unit_test(test_grows_keeps_every_connection),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
