// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_shim_batch.c - fuzz target for batches on the shim's ioctl channel:
 * shim_batch_next() (user/intake/shim_decode.c) walking an ioctl message's
 * data[] the way user/core/pipeline.c does, every record then decoded by
 * shim_decode(). Any local selected process writes these bytes.
 *
 * Input: 2 bytes, little-endian, the record count the kernel charged
 * (rt_shim_event.count), then data[] in an exact-size heap buffer. Checks
 * that every record handed out lies inside data[], starts after the previous
 * one, and that the walk ends (at most count + 1 steps are taken, as in the
 * pipeline).
 */
#include <errno.h>
#include <stdbool.h>

#include "fuzz.h"
#include "redtap/event.h"
#include "shim_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	const uint8_t *prev = NULL;
	unsigned max, n = 0;
	struct db_op op;
	const void *rec;
	size_t off = 0, len;
	uint8_t *buf;
	int rlen;

	if (!init) {
		shim_decode_set_query_text(true);
		init = true;
	}
	if (size < 2)
		return 0;
	max = (unsigned)(data[0] | data[1] << 8) & RT_SHIM_MSG_COUNT_MASK;
	if (max > RT_SHIM_BATCH_RECS_MAX)
		max = RT_SHIM_BATCH_RECS_MAX;
	len = size - 2;
	if (len > RT_SHIM_BATCH_MAX)
		len = RT_SHIM_BATCH_MAX; /* the kernel copies no more */
	buf = malloc(len ? len : 1);
	if (!buf)
		abort();
	if (len)
		memcpy(buf, data + 2, len);
	while ((rlen = shim_batch_next(buf, len, &off, &rec)) > 0) {
		const uint8_t *r = rec;

		fuzz_check(r >= buf && r + rlen <= buf + len);
		fuzz_check(!prev || r > prev);
		fuzz_check(off <= len);
		prev = r;
		if (n++ == max)
			break;
		if (shim_decode(rec, (size_t)rlen, &op) == 0) {
			fuzz_check(fuzz_has_nul(op.operation, sizeof(op.operation)));
			fuzz_check(fuzz_has_nul(op.query_text, sizeof(op.query_text)));
			fuzz_check(op.is_hello || op.system != NULL);
		}
	}
	fuzz_check(rlen >= -EINVAL);
	free(buf);
	return 0;
}
