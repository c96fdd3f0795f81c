// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_probesite.c - fuzz target for the cheapest-entry-probe finder
 * (user/intake/probesite.c) and the OpenSSL internal functions
 * (user/intake/sslsites.c): their inputs are the code of functions and
 * whole libssl.so* images any local user can craft. An image starting
 * with the ELF magic goes to sslsites_image() (on a copy: libelf may
 * convert in place), anything else is a function body. Checks that an
 * entry probe lands on a whole, emulated instruction inside the body, that
 * a call's target is what its rel32 says, and that a resolved site lies
 * inside the image.
 */
#include <errno.h>

#include "fuzz.h"
#include "goret.h"
#include "probesite.h"
#include "sslsites.h"

static void body(const uint8_t *data, size_t size)
{
	enum probesite_kind k;
	uint32_t off = probesite_entry(data, size, &k);
	int64_t t;
	int rc;

	fuzz_check(off == 0 || (off < size && k != PROBESITE_STEP));
	if (off) {
		int l = goret_x86_len(data + off, size - off);

		fuzz_check(l > 0 && off + (size_t)l <= size);
		fuzz_check(probesite_kind(data + off, size - off) == k);
	}
	fuzz_check(probesite_name(k)[0] != 'u');
	rc = probesite_call(data, size, &t);
	fuzz_check(rc == 0 || rc == -ENOENT || rc == -ENOTSUP || rc == -EINVAL);
	if (!rc)
		fuzz_check(t >= 5 - (int64_t)0x80000000 &&
			   t <= PROBESITE_CALL_SCAN + 4 + (int64_t)0x7fffffff);
}

static const char *const names[] = {"SSL_read",	    "SSL_read_ex",	"SSL_write",
				    "SSL_write_ex", "SSL_do_handshake", "SSL_shutdown"};

static const uint8_t elf_magic[] = {0x7f, 'E', 'L', 'F'};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sslsites s;
	uint8_t *copy;

	if (size < sizeof(elf_magic) || memcmp(data, elf_magic, sizeof(elf_magic))) {
		body(data, size);
		return 0;
	}
	copy = malloc(size);
	if (!copy)
		abort();
	memcpy(copy, data, size);
	if (!sslsites_image(copy, size, names, sizeof(names) / sizeof(names[0]), &s)) {
		for (unsigned p = 0; p < SSLSITES_PAIRS; p++) {
			fuzz_check(s.pair[p].err <= 0);
			fuzz_check(s.pair[p].err ||
				   (s.pair[p].file_off < size && s.pair[p].kind != PROBESITE_STEP));
		}
		/* past an endbr64 or a Go stack check, never further */
		for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
			fuzz_check(s.skip[k] == 0 || s.skip[k] == 4 || s.skip[k] == 9 ||
				   s.skip[k] == 12);
	}
	free(copy);
	return 0;
}
