/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * batch.h - batches of shim records on the ioctl channel: several records
 * per ioctl (include/redtap/event.h, "Batches"), so that the syscall and the
 * kernel program are paid once per batch instead of once per operation.
 *
 * API: batch_init() once with $REDTAP_SHIM_BATCH ("1", "true", "yes": on;
 * default off, see below); batch_on() says whether transport.c may hand
 * records to batch_add() (it also needs an ack carrying
 * RT_SHIM_ACK_F_BATCH). batch_add() copies the record into the batch of the
 * calling thread's slot and returns false when it could not (slot busy,
 * e.g. a signal handler interrupted its own thread): the caller then sends
 * the record alone. A batch is sent when the next record would not fit or
 * it holds RT_SHIM_BATCH_RECS_MAX records (RT_SHIM_BATCH_MAX bytes at most), when a record of
 * another thread lands in its slot, on the first call (of any thread) after it is BATCH_WAIT_NS
 * old, at exit (destructor) and before fork (batch_flush_all); batch_after_fork() empties the
 * child's copies, which the parent sends.
 *
 * Why off by default: the daemon parents a database span under the HTTP
 * request its thread is serving when the record arrives. A record that
 * waits in a batch arrives after its thread may have moved on to another
 * request, so batched operations get a parent only when their batch is sent
 * by their own thread (RT_SHIM_MSG_F_FOREIGN otherwise) and may be parented
 * under a later request of that thread. Batching suits workers and batch
 * jobs with many operations and no request to parent them under.
 *
 * Thread-safety: any thread, any time; never blocks (a slot is taken with a
 * try-lock), never allocates, keeps errno.
 */
#ifndef REDTAP_PRELOAD_BATCH_H
#define REDTAP_PRELOAD_BATCH_H

#include <stdbool.h>
#include <stdint.h>

#define BATCH_SLOTS   16
#define BATCH_WAIT_NS 10000000ull /* a record waits at most this long while calls go on */

void batch_init(const char *env);
bool batch_on(void);
bool batch_add(const void *rec, uint32_t len, uint32_t tid, uint64_t now);
void batch_flush_all(uint32_t tid);
void batch_after_fork(void);

#endif /* REDTAP_PRELOAD_BATCH_H */
