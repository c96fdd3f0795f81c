/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * batch.h - batches of shim records on the ioctl channel: several records
 * per ioctl (include/redtap/event.h, "Batches"), so that the syscall and the
 * kernel program are paid once per batch instead of once per operation.
 *
 * API: batch_init() once with $REDTAP_SHIM_BATCH (unset or anything else:
 * auto, batches while the calling thread's slot is busy, BATCH_BUSY_MIN
 * records or more per BATCH_WAIT_NS; "1", "true", "yes": always; "0",
 * "false", "no", "off": never); batch_on() says whether transport.c may hand
 * records to batch_add() (it also needs an ack carrying
 * RT_SHIM_ACK_F_BATCH). batch_add() copies the record into the batch of the
 * calling thread's slot and returns false when it could not (slot locked,
 * e.g. a signal handler interrupted its own thread, or auto mode and the
 * slot is quiet: then what the slot held is sent first): the caller then
 * sends the record alone. A batch is sent when the next record would not fit or
 * it holds RT_SHIM_BATCH_RECS_MAX records (RT_SHIM_BATCH_MAX bytes at most), when a record of
 * another thread lands in its slot, on the first call (of any thread) after it is BATCH_WAIT_NS
 * old, at exit (destructor) and before fork (batch_flush_all); batch_after_fork() empties the
 * child's copies, which the parent sends.
 *
 * Parenting: a record carries its thread and its own start and end, and
 * the daemon parents it under the request that thread served when the
 * operation started (user/signals/reqhist.h), so a late batch, or one sent
 * by another thread (RT_SHIM_MSG_F_FOREIGN), lands under the right request.
 * What batching costs is delay: a record waits up to BATCH_WAIT_NS while
 * calls go on; after a busy spell, the last records of a slot wait for the
 * process's next call (or exit).
 *
 * Thread-safety: any thread, any time; never blocks (a slot is taken with a
 * try-lock), never allocates, keeps errno.
 */
#ifndef REDTAP_PRELOAD_BATCH_H
#define REDTAP_PRELOAD_BATCH_H

#include <stdbool.h>
#include <stdint.h>

#define BATCH_SLOTS    16
#define BATCH_WAIT_NS  10000000ull /* a record waits at most this long while calls go on */
#define BATCH_BUSY_MIN 16	   /* auto: records per window for a slot to batch */

enum { BATCH_OFF, BATCH_AUTO, BATCH_ALWAYS };

void batch_init(const char *env);
bool batch_on(void);
bool batch_add(const void *rec, uint32_t len, uint32_t tid, uint64_t now);
void batch_flush_all(uint32_t tid);
void batch_after_fork(void);

#endif /* REDTAP_PRELOAD_BATCH_H */
