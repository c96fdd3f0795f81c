/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * jobq.h - a paced job queue: one worker thread that runs queued jobs in
 * order, at most a given share of each second (pacer.h), and hands their
 * results back to the event loop, which takes them without blocking. The
 * reader threads of the intake use it: Go executables (gotrack.c) and
 * shared library files (tlslibs.c).
 *
 * A job is a fixed-size value (jobq_ops.size bytes) copied in by
 * jobq_queue(): the worker copies it out of the queue, runs ops->run() on
 * its own copy, outside the mutex, and appends the result to the done jobs,
 * which jobq_take() hands over all at once, in the order they were queued.
 * Queued, running and done jobs count together against ops->cap: a queue
 * that is full refuses more (-ENOSPC) until the event loop takes the done
 * ones.
 *
 * Threads. jobq_init(), jobq_start(), jobq_queue(), jobq_take(),
 * jobq_drain() and jobq_stop() are for one thread, the owner's (the event
 * loop). ops->dup() runs on that thread too, under the queue's mutex.
 * ops->run() is the only thing the worker calls: it must touch nothing but
 * the job it is given. ops->release() runs in jobq_stop(), on the owner's
 * thread, after the worker is joined. One mutex guards the queue.
 *
 * Ownership. struct jobq and ops belong to the owner (ops must outlive the
 * queue); the job slots are allocated by jobq_start() and freed by
 * jobq_stop(). What a job points to (a path, say) goes with the job: to
 * the caller of jobq_take() for the jobs it takes, to ops->release() for
 * the jobs still queued or done, never taken, at jobq_stop().
 */
#ifndef REDTAP_JOBQ_H
#define REDTAP_JOBQ_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where a job already in the queue is, for ops->dup(). */
enum jobq_where {
	JOBQ_QUEUED,  /* waiting for the worker */
	JOBQ_RUNNING, /* the worker runs it (dup sees it as it was queued) */
	JOBQ_DONE,    /* run, not taken yet */
};

struct jobq_ops {
	size_t size;	   /* bytes of one job */
	unsigned cap;	   /* jobs queued, running and done, at most (> 0) */
	unsigned ms_per_s; /* ms of each second ops->run() may take, in all */
	/* The work, on the worker thread: reads and writes *job only. */
	void (*run)(void *job);
	/* Optional: whether job, about to be queued, is one too many given
	 * old, a job already in the queue (where says where): jobq_queue()
	 * then refuses it (-EEXIST). Called for every job in the queue. */
	bool (*dup)(const void *old, const void *job, enum jobq_where where);
	/* Optional: frees what a job never taken owns (jobq_stop()). */
	void (*release)(void *job);
};

struct jobq {
	const struct jobq_ops *ops;
	pthread_t th;
	bool started, stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;   /* the worker waits for a job or stop */
	pthread_cond_t idle; /* jobq_drain() waits for no job left to run */
	uint8_t *todo;	     /* a ring of cap jobs from head */
	uint8_t *done;	     /* ndone jobs run, in order */
	uint8_t *running;    /* a copy of the job being run, for ops->dup() */
	uint8_t *work;	     /* the worker's own copy of that job */
	uint8_t *got;	     /* what the last jobq_take() handed over */
	unsigned head, ntodo, nrunning, ndone;
};

/* Sets q up for ops; allocates nothing and starts no thread. */
void jobq_init(struct jobq *q, const struct jobq_ops *ops);

/* Allocates the job slots and starts the worker unless started: 0, or
 * -errno (-ENOMEM, or pthread's error); q is then as after jobq_init(). */
int jobq_start(struct jobq *q);

/* Queues a copy of job, starting the worker the first time: 0; -EEXIST
 * when ops->dup() refuses it; -ENOSPC when the queue is full (cap jobs
 * queued, running or done); or jobq_start()'s -errno. Never blocks on
 * the worker for longer than the mutex is held. */
int jobq_queue(struct jobq *q, const void *job);

/* Takes the jobs run since the last call, without waiting for any: an
 * array of *n jobs in the order they were queued (NULL and *n = 0 when
 * there are none). The array is the queue's and stays valid until the
 * next jobq_take() or jobq_stop(); what the jobs point to is the caller's. */
void *jobq_take(struct jobq *q, unsigned *n);

/* Waits until no job is queued or running (tests). */
void jobq_drain(struct jobq *q);

/* Stops the worker: it finishes the job it runs, if any, and runs no other;
 * joins it, hands every job not taken to ops->release(), frees the slots.
 * q is then as after jobq_init(). Safe on a queue never started. */
void jobq_stop(struct jobq *q);

#endif /* REDTAP_JOBQ_H */
