// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_resp.c - fuzz target for the Redis RESP2/RESP3 parser
 * (user/proto/resp.c) and its detector, fed both directions of one
 * connection as the kernel side would deliver them.
 *
 * Input: records of [u8 flags][u16 cap_len][u16 unseen][data]; flags bit 0
 * is the side (0 client, 1 server), bit 1 closes the connection after the
 * record (the next record opens a fresh one), bit 2 says whether the next
 * connection was seen from its start. Each record is an exact-size heap
 * buffer and is also run through resp_detect(). Checks every reported
 * operation: times in order and not in the future, the name from the command
 * table (or empty: a command hidden by a capture gap, only after a gap was
 * counted), the error prefix only on failures, strings terminated.
 */
#include <stdbool.h>

#include "fuzz.h"
#include "resp.h"

struct tally {
	uint64_t now;
	uint64_t gaps; /* RESP_E_GAP reported so far */
};

static void on_op(void *ctx, const struct resp_op *op)
{
	struct tally *t = ctx;

	fuzz_check(op->start_ns <= op->end_ns);
	fuzz_check(op->end_ns <= t->now);
	fuzz_check((unsigned)op->status < RESP_STATUS_MAX);
	fuzz_check(op->operation);
	fuzz_check(
	    op->operation[0]
		? !strcmp(resp_command_name(op->operation, strlen(op->operation)), op->operation)
		: t->gaps > 0);
	fuzz_check(fuzz_has_nul(op->error, sizeof(op->error)));
	fuzz_check((op->status == RESP_FAILED) == (op->error[0] != '\0'));
	fuzz_check(op->namespace_ && strlen(op->namespace_) < 8);
}

static void on_error(void *ctx, enum resp_error e)
{
	struct tally *t = ctx;

	if (e == RESP_E_GAP)
		t->gaps++;
	fuzz_check((unsigned)e < RESP_E_MAX);
	fuzz_check(resp_error_name(e)[0] != '\0');
}

static const struct resp_callbacks cbs = {on_op, on_error};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	struct tally t = {0};
	struct resp_conn *c = resp_new(&cbs, &t, true);

	if (!c)
		return 0;
	while (in.left >= 5) {
		unsigned flags = fuzz_take_u(&in, 1);
		size_t cap = fuzz_take_u(&in, 2);
		uint64_t unseen = fuzz_take_u(&in, 2);
		uint8_t *copy = fuzz_take_copy(&in, &cap);
		enum resp_detect d;

		d = resp_detect(copy, cap);
		fuzz_check(d <= RESP_DETECT_MORE);
		t.now += 1 + (flags >> 4);
		resp_feed(c, flags & 1 ? RESP_SERVER : RESP_CLIENT, copy, cap, cap + unseen, t.now);
		free(copy);
		if (flags & 2) {
			resp_close(c, t.now);
			resp_free(c);
			c = resp_new(&cbs, &t, flags & 4);
			if (!c)
				return 0;
		}
	}
	resp_close(c, t.now);
	resp_free(c);
	return 0;
}
