// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_goret.c - fuzz target for the return-instruction finder
 * (user/intake/goret.c): its input is the body of a function in an
 * executable any local user can craft. The first byte picks the
 * architecture, the rest is the body. Checks that every offset found is
 * inside the body, increasing, and (x86-64) an instruction that decodes
 * to a RET within the body.
 */
#include <errno.h>

#include "fuzz.h"
#include "goret.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum goret_arch arch;
	uint32_t offs[8];
	int n;

	if (size < 1)
		return 0;
	arch = (enum goret_arch)(data[0] & 1);
	data++;
	size--;
	n = goret_find(arch, data, size, offs, 8);
	fuzz_check(n == -ENOTSUP || n == -EINVAL || n == -E2BIG || n == -ENOENT ||
		   (n > 0 && n <= 8));
	for (int i = 0; i < n; i++) {
		fuzz_check(offs[i] < size);
		fuzz_check(i == 0 || offs[i] > offs[i - 1]);
		if (arch == GORET_X86_64) {
			int l = goret_x86_len(data + offs[i], size - offs[i]);

			fuzz_check(l > 0 && offs[i] + (size_t)l <= size);
		}
	}
	for (size_t i = 0; i < size && i < 64; i++) {
		int l = goret_x86_len(data + i, size - i);

		fuzz_check(l == -ENOTSUP || l == -EINVAL ||
			   (l > 0 && l <= 15 && (size_t)l <= size - i));
	}
	return 0;
}
