// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * jobq.c - a paced job queue with one worker thread (see jobq.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "jobq.h"
#include "pacer.h"

void jobq_init(struct jobq *q, const struct jobq_ops *ops)
{
	*q = (struct jobq){.ops = ops};
}

static void *slot(const struct jobq *q, uint8_t *base, unsigned i)
{
	return base + (size_t)i * q->ops->size;
}

static void *todo_at(const struct jobq *q, unsigned i)
{
	return slot(q, q->todo, (q->head + i) % q->ops->cap);
}

static void *worker_main(void *arg)
{
	struct jobq *q = arg;
	size_t size = q->ops->size;
	struct pacer pace;

	pacer_init(&pace, q->ops->ms_per_s);
	pthread_mutex_lock(&q->mu);
	for (;;) {
		while (!q->stop && !q->ntodo)
			pthread_cond_wait(&q->cv, &q->mu);
		if (q->stop)
			break;
		memcpy(q->work, todo_at(q, 0), size);
		memcpy(q->running, q->work, size);
		q->head = (q->head + 1) % q->ops->cap;
		q->ntodo--;
		q->nrunning = 1;
		pthread_mutex_unlock(&q->mu);

		pacer_begin(&pace); /* at most ms_per_s of each second */
		q->ops->run(q->work);
		pacer_end(&pace);

		pthread_mutex_lock(&q->mu);
		q->nrunning = 0;
		/* room: ntodo + nrunning + ndone <= cap */
		memcpy(slot(q, q->done, q->ndone++), q->work, size);
		if (!q->ntodo)
			pthread_cond_broadcast(&q->idle);
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

int jobq_start(struct jobq *q)
{
	const struct jobq_ops *ops = q->ops;
	uint8_t *mem;
	int err;

	if (q->started)
		return 0;
	/* todo, done and got (cap each), running and work */
	mem = calloc(3 * (size_t)ops->cap + 2, ops->size);
	if (!mem)
		return -ENOMEM;
	q->todo = mem;
	q->done = q->todo + (size_t)ops->cap * ops->size;
	q->got = q->done + (size_t)ops->cap * ops->size;
	q->running = q->got + (size_t)ops->cap * ops->size;
	q->work = q->running + ops->size;
	err = pthread_mutex_init(&q->mu, NULL);
	if (err)
		goto out_free;
	err = pthread_cond_init(&q->cv, NULL);
	if (err)
		goto out_mu;
	err = pthread_cond_init(&q->idle, NULL);
	if (err)
		goto out_cv;
	err = pthread_create(&q->th, NULL, worker_main, q);
	if (err)
		goto out_idle;
	q->started = true;
	return 0;
out_idle:
	pthread_cond_destroy(&q->idle);
out_cv:
	pthread_cond_destroy(&q->cv);
out_mu:
	pthread_mutex_destroy(&q->mu);
out_free:
	free(mem);
	jobq_init(q, ops);
	return -err;
}

/* Whether ops->dup() refuses job given the jobs in the queue (locked). */
static bool is_dup(const struct jobq *q, const void *job)
{
	bool (*dup)(const void *, const void *, enum jobq_where) = q->ops->dup;

	if (!dup)
		return false;
	for (unsigned i = 0; i < q->ntodo; i++)
		if (dup(todo_at(q, i), job, JOBQ_QUEUED))
			return true;
	if (q->nrunning && dup(q->running, job, JOBQ_RUNNING))
		return true;
	for (unsigned i = 0; i < q->ndone; i++)
		if (dup(slot(q, q->done, i), job, JOBQ_DONE))
			return true;
	return false;
}

int jobq_queue(struct jobq *q, const void *job)
{
	int rc = jobq_start(q);

	if (rc)
		return rc;
	pthread_mutex_lock(&q->mu);
	if (is_dup(q, job)) {
		rc = -EEXIST;
	} else if (q->ntodo + q->nrunning + q->ndone >= q->ops->cap) {
		rc = -ENOSPC;
	} else {
		memcpy(todo_at(q, q->ntodo++), job, q->ops->size);
		pthread_cond_signal(&q->cv);
	}
	pthread_mutex_unlock(&q->mu);
	return rc;
}

void *jobq_take(struct jobq *q, unsigned *n)
{
	*n = 0;
	if (!q->started)
		return NULL;
	pthread_mutex_lock(&q->mu);
	*n = q->ndone;
	memcpy(q->got, q->done, (size_t)q->ndone * q->ops->size);
	q->ndone = 0;
	pthread_mutex_unlock(&q->mu);
	return *n ? q->got : NULL;
}

void jobq_drain(struct jobq *q)
{
	if (!q->started)
		return;
	pthread_mutex_lock(&q->mu);
	while (q->ntodo || q->nrunning)
		pthread_cond_wait(&q->idle, &q->mu);
	pthread_mutex_unlock(&q->mu);
}

void jobq_stop(struct jobq *q)
{
	const struct jobq_ops *ops = q->ops;

	if (!q->started)
		return;
	pthread_mutex_lock(&q->mu);
	q->stop = true;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
	pthread_join(q->th, NULL);
	pthread_cond_destroy(&q->idle);
	pthread_cond_destroy(&q->cv);
	pthread_mutex_destroy(&q->mu);
	for (unsigned i = 0; ops->release && i < q->ntodo; i++)
		ops->release(todo_at(q, i));
	for (unsigned i = 0; ops->release && i < q->ndone; i++)
		ops->release(slot(q, q->done, i));
	free(q->todo);
	jobq_init(q, ops);
}
