// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_pgwire.c - fuzz target for the PostgreSQL v3 wire parser
 * (user/proto/pgwire.c) and its detector, fed both directions of one
 * connection as the kernel side would deliver them.
 *
 * Input: records of [u8 flags][u16 cap_len][u16 unseen][data]; flags bit 0
 * is the side (0 frontend, 1 backend), bit 1 closes the connection after the
 * record (the next record opens a fresh one). Each record is an exact-size
 * heap buffer and is also run through pgwire_detect(). Checks every reported
 * operation: times in order and not in the future, strings terminated, status
 * and error reasons in range, nothing reported once the connection is opaque.
 */
#include <stdbool.h>

#include "fuzz.h"
#include "pgwire.h"

struct tally {
	uint64_t now;
	bool opaque;
};

static void on_op(void *ctx, const struct pgwire_op *op)
{
	struct tally *t = ctx;

	fuzz_check(op->start_ns <= op->end_ns);
	fuzz_check(op->end_ns <= t->now);
	fuzz_check((unsigned)op->status < PGWIRE_STATUS_MAX);
	fuzz_check(fuzz_has_nul(op->sqlstate, sizeof(op->sqlstate)));
	fuzz_check(fuzz_has_nul(op->operation, sizeof(op->operation)));
	fuzz_check(fuzz_has_nul(op->summary, sizeof(op->summary)));
	fuzz_check(op->namespace_ && strlen(op->namespace_) < 64);
	fuzz_check(op->status == PGWIRE_FAILED || !op->sqlstate[0]);
	fuzz_check(!t->opaque || op->status == PGWIRE_CLOSED);
}

static void on_error(void *ctx, enum pgwire_error e)
{
	(void)ctx;
	fuzz_check((unsigned)e < PGWIRE_E_MAX);
	fuzz_check(pgwire_error_name(e)[0] != '\0');
}

static void on_opaque(void *ctx)
{
	struct tally *t = ctx;

	fuzz_check(!t->opaque);
	t->opaque = true;
}

static const struct pgwire_callbacks cbs = {on_op, on_error, on_opaque};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	struct tally t = {0, false};
	struct pgwire_conn *c = pgwire_new(&cbs, &t);

	if (!c)
		return 0;
	while (in.left >= 5) {
		unsigned flags = fuzz_take_u(&in, 1);
		size_t cap = fuzz_take_u(&in, 2);
		uint64_t unseen = fuzz_take_u(&in, 2);
		uint8_t *copy = fuzz_take_copy(&in, &cap);
		enum pgwire_detect d;

		d = pgwire_detect(copy, cap);
		fuzz_check(d <= PGWIRE_DETECT_MORE);
		t.now += 1 + (flags >> 4);
		pgwire_feed(c, flags & 1 ? PGWIRE_BACKEND : PGWIRE_FRONTEND, copy, cap,
			    cap + unseen, t.now);
		free(copy);
		fuzz_check(t.opaque == pgwire_opaque(c));
		if (flags & 2) {
			pgwire_close(c, t.now);
			pgwire_free(c);
			t.opaque = false;
			c = pgwire_new(&cbs, &t);
			if (!c)
				return 0;
		}
	}
	pgwire_close(c, t.now);
	pgwire_free(c);
	return 0;
}
