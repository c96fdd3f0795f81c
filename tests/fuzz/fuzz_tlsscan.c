// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_tlsscan.c - fuzz target for the TLS stack detection of executables
 * (user/intake/tlsscan.c): the daemon reads the executable of every
 * selected non-Go process, which any local user can craft. The input is
 * the whole ELF image. Checks that the answer is a stack or -ENOEXEC, and
 * that an image which is no 64-bit little-endian ELF file is refused.
 */
#include <elf.h>
#include <errno.h>

#include "fuzz.h"
#include "tlsscan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int rc = tlsscan_image(data, size);

	fuzz_check(rc == -ENOEXEC || (rc >= TLSSCAN_NONE && rc < TLSSCAN_MAX));
	if (size < sizeof(Elf64_Ehdr) || memcmp(data, ELFMAG, SELFMAG) ||
	    data[EI_CLASS] != ELFCLASS64 || data[EI_DATA] != ELFDATA2LSB)
		fuzz_check(rc == -ENOEXEC);
	else
		fuzz_check(rc >= 0);
	fuzz_check(tlsscan_name((unsigned)(rc < 0 ? 0 : rc))[0] != '\0');
	return 0;
}
