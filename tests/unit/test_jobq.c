// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_jobq.c - the paced job queue (user/core/jobq.c) the intake's reader
 * threads run on: jobs run and taken in the order queued, the bound
 * (queued, running and done jobs together) and its -ENOSPC, a take with
 * nothing done, a stop with jobs queued (the running one finishes, the
 * others are released, not run), the duplicate hook seeing queued, running
 * and done jobs, and the pacer's share of each second on the real clock.
 * Run under ThreadSanitizer too (scripts/run-tests.sh, unit-tsan).
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "jobq.h"
#include "pacer.h"

struct tjob {
	unsigned key;
	bool strict;  /* dup: refused when the key is anywhere in the queue */
	unsigned seq; /* the order the worker ran it in, from 1 */
	uint64_t start_ns;
	char *owned; /* released by job_release() unless taken */
};

/* The gate: gated_run() waits until it opens. */
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static bool gate_open;
static unsigned entered, runs, releases;

static void reset(void)
{
	pthread_mutex_lock(&gate_mu);
	gate_open = false;
	entered = runs = releases = 0;
	pthread_mutex_unlock(&gate_mu);
}

static void gate_set(bool open)
{
	pthread_mutex_lock(&gate_mu);
	gate_open = open;
	pthread_cond_broadcast(&gate_cv);
	pthread_mutex_unlock(&gate_mu);
}

/* Waits until n jobs have entered gated_run(). */
static void wait_entered(unsigned n)
{
	pthread_mutex_lock(&gate_mu);
	while (entered < n)
		pthread_cond_wait(&gate_cv, &gate_mu);
	pthread_mutex_unlock(&gate_mu);
}

static unsigned count(const unsigned *c)
{
	unsigned v;

	pthread_mutex_lock(&gate_mu);
	v = *c;
	pthread_mutex_unlock(&gate_mu);
	return v;
}

static void gated_run(void *job)
{
	struct tjob *j = job;

	pthread_mutex_lock(&gate_mu);
	entered++;
	pthread_cond_broadcast(&gate_cv);
	while (!gate_open)
		pthread_cond_wait(&gate_cv, &gate_mu);
	j->seq = ++runs;
	pthread_mutex_unlock(&gate_mu);
}

static void job_release(void *job)
{
	struct tjob *j = job;

	free(j->owned);
	pthread_mutex_lock(&gate_mu);
	releases++;
	pthread_mutex_unlock(&gate_mu);
}

static bool job_dup(const void *old, const void *job, enum jobq_where where)
{
	const struct tjob *o = old, *j = job;

	return o->key == j->key && (j->strict || where == JOBQ_QUEUED);
}

static const struct jobq_ops gated_ops = {
    .size = sizeof(struct tjob),
    .cap = 4,
    .ms_per_s = 1000,
    .run = gated_run,
    .dup = job_dup,
    .release = job_release,
};

static int queue_key(struct jobq *q, unsigned key, bool strict)
{
	struct tjob j = {.key = key, .strict = strict};

	return jobq_queue(q, &j);
}

/* Each gated test gets a new queue (*state) and a closed gate. */
static int setup(void **state)
{
	static struct jobq gq;

	reset();
	jobq_init(&gq, &gated_ops);
	*state = &gq;
	return 0;
}

static int teardown(void **state)
{
	gate_set(true); /* a test that failed may have left it closed */
	jobq_stop(*state);
	return 0;
}

/* Jobs run one at a time in the order queued and come back in it. */
static void test_order(void **state)
{
	static const struct jobq_ops ops = {
	    .size = sizeof(struct tjob), .cap = 64, .ms_per_s = 1000, .run = gated_run};
	struct jobq q;
	struct tjob *got;
	unsigned n, total = 0;

	(void)state;
	reset();
	jobq_init(&q, &ops);
	for (unsigned i = 0; i < 40; i++)
		assert_int_equal(queue_key(&q, i, false), 0);
	assert_true(q.started);
	gate_set(true);
	/* taken while the worker runs: whatever is back, in order */
	while (total < 40) {
		got = jobq_take(&q, &n);
		for (unsigned i = 0; i < n; i++, total++) {
			assert_int_equal(got[i].key, total);
			assert_int_equal(got[i].seq, total + 1);
		}
		if (!n)
			usleep(1000);
	}
	assert_int_equal(count(&runs), 40);
	jobq_stop(&q);
	assert_false(q.started);
}

/* Queued, running and done jobs count against the bound until taken. */
static void test_full(void **state)
{
	struct jobq *q = *state;
	unsigned n;

	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(queue_key(q, i, false), 0);
	wait_entered(1); /* one running, three queued */
	assert_int_equal(queue_key(q, 9, false), -ENOSPC);
	gate_set(true);
	jobq_drain(q);
	assert_int_equal(count(&runs), 4);
	/* all four done but not taken: still full */
	assert_int_equal(queue_key(q, 9, false), -ENOSPC);
	assert_non_null(jobq_take(q, &n));
	assert_int_equal(n, 4);
	assert_int_equal(queue_key(q, 9, false), 0);
	jobq_drain(q);
	jobq_take(q, &n);
	assert_int_equal(n, 1);
	jobq_stop(q);
	assert_int_equal(count(&releases), 0); /* everything was taken */
}

/* A take never waits: nothing before the start, nothing while running. */
static void test_take_empty(void **state)
{
	struct jobq *q = *state;
	unsigned n = 99;

	assert_null(jobq_take(q, &n));
	assert_int_equal(n, 0);
	assert_int_equal(jobq_start(q), 0);
	assert_int_equal(jobq_start(q), 0); /* started once */
	n = 99;
	assert_null(jobq_take(q, &n));
	assert_int_equal(n, 0);
	assert_int_equal(queue_key(q, 1, false), 0);
	wait_entered(1);
	assert_null(jobq_take(q, &n));
	assert_int_equal(n, 0);
	gate_set(true);
	jobq_drain(q);
	assert_non_null(jobq_take(q, &n));
	assert_int_equal(n, 1);
	assert_null(jobq_take(q, &n));
	assert_int_equal(n, 0);
	jobq_stop(q);
	jobq_stop(q); /* stopped: nothing to do */
}

/* Opens the gate once jobq_stop() has told the worker to stop. */
static void *open_after_stop(void *arg)
{
	struct jobq *q = arg;
	bool stop = false;

	while (!stop) {
		pthread_mutex_lock(&q->mu);
		stop = q->stop;
		pthread_mutex_unlock(&q->mu);
		if (!stop)
			usleep(1000);
	}
	gate_set(true);
	return NULL;
}

/* A stop with jobs queued joins the worker once its running job is over:
 * the queued ones are never run, they and the done ones are released
 * (their memory freed: LeakSanitizer checks). */
static void test_stop_queued(void **state)
{
	struct jobq *q = *state;
	pthread_t th;

	for (unsigned i = 0; i < 4; i++) {
		struct tjob j = {.key = i, .owned = strdup("owned")};

		assert_non_null(j.owned);
		assert_int_equal(jobq_queue(q, &j), 0);
	}
	wait_entered(1);
	assert_int_equal(pthread_create(&th, NULL, open_after_stop, q), 0);
	jobq_stop(q);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(count(&runs), 1);
	assert_int_equal(count(&releases), 4); /* three queued, one done */
	assert_false(q->started);
	/* stopped is as new: it starts again */
	gate_set(true);
	assert_int_equal(queue_key(q, 7, false), 0);
	jobq_drain(q);
	jobq_stop(q);
	assert_int_equal(count(&runs), 2);
	assert_int_equal(count(&releases), 5);
}

/* The duplicate hook sees every job in the queue, with where it is, and
 * is asked before the bound. */
static void test_dup(void **state)
{
	struct jobq *q = *state;
	unsigned n;

	assert_int_equal(queue_key(q, 1, false), 0);
	wait_entered(1);
	/* key 1 runs: only a strict job is refused for it */
	assert_int_equal(queue_key(q, 1, true), -EEXIST);
	assert_int_equal(queue_key(q, 1, false), 0);
	assert_int_equal(queue_key(q, 1, false), -EEXIST); /* queued */
	assert_int_equal(queue_key(q, 2, false), 0);
	assert_int_equal(queue_key(q, 3, false), 0);
	/* full, yet a duplicate says so */
	assert_int_equal(queue_key(q, 3, false), -EEXIST);
	assert_int_equal(queue_key(q, 4, false), -ENOSPC);
	gate_set(true);
	jobq_drain(q);
	/* done, not taken: a strict job is refused */
	assert_int_equal(queue_key(q, 2, true), -EEXIST);
	jobq_take(q, &n);
	assert_int_equal(n, 4);
	assert_int_equal(queue_key(q, 2, true), 0); /* taken: gone */
	jobq_drain(q);
	jobq_stop(q);
	assert_int_equal(count(&releases), 1);
}

static void slow_run(void *job)
{
	struct tjob *j = job;
	struct timespec ts = {0, 15 * 1000000L};

	j->start_ns = pacer_now_ns();
	nanosleep(&ts, NULL);
}

/* The seconds the n jobs started in, strictly one after another. */
static bool one_a_second(unsigned ms_per_s, unsigned n)
{
	const struct jobq_ops ops = {
	    .size = sizeof(struct tjob), .cap = 8, .ms_per_s = ms_per_s, .run = slow_run};
	struct jobq q;
	struct tjob *got;
	unsigned k;
	bool apart = true;

	jobq_init(&q, &ops);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(queue_key(&q, i, false), 0);
	jobq_drain(&q);
	got = jobq_take(&q, &k);
	assert_int_equal(k, n);
	for (unsigned i = 1; i < n; i++)
		if (got[i].start_ns / 1000000000u <= got[i - 1].start_ns / 1000000000u)
			apart = false;
	jobq_stop(&q);
	return apart;
}

/* 15 ms jobs with 10 ms of each second: once a job has spent the second's
 * share, the next waits for the next second. With the whole second, four
 * such jobs (60 ms) cannot all start in different seconds. */
static void test_pacing(void **state)
{
	(void)state;
	assert_true(one_a_second(10, 3));
	assert_false(one_a_second(1000, 4));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_order),
	    cmocka_unit_test_setup_teardown(test_full, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_take_empty, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stop_queued, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dup, setup, teardown),
	    cmocka_unit_test(test_pacing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
