// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_shimack.c - fuzz target for the shim acknowledgement's ELF reader,
 * shimack_find_section() (user/intake/shimack.c): before it writes into a
 * shimmed process, the daemon reads the section headers of the shim's file
 * mapped in that process, on its event loop, and any local user can map a
 * crafted file named like the shim. The input is the whole file (put in a
 * memfd, read with pread as the daemon reads the real one). Checks that the
 * result is one of the documented codes and that a section found is one of
 * the file's own headers, named RT_SHIM_ACK_SECTION, writable PROGBITS.
 */
#include <elf.h>
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "redtap/shim.h"
#include "shimack.h"

/* True when the header at index i of data names the ack section with off and size. */
static int header_matches(const uint8_t *data, size_t size, const Elf64_Ehdr *eh, unsigned i,
			  uint64_t off, uint64_t sz)
{
	static const char want[] = RT_SHIM_ACK_SECTION;
	const size_t len = sizeof(want) - 1;
	Elf64_Shdr sh, strs;
	const char *name;
	uint64_t avail;
	uint64_t at = eh->e_shoff + (uint64_t)i * sizeof(sh);
	uint64_t st = eh->e_shoff + (uint64_t)eh->e_shstrndx * sizeof(sh);

	if (at > size || size - at < sizeof(sh) || st > size || size - st < sizeof(strs))
		return 0;
	memcpy(&sh, data + at, sizeof(sh));
	memcpy(&strs, data + st, sizeof(strs));
	if (sh.sh_offset != off || sh.sh_size != sz || sh.sh_type != SHT_PROGBITS ||
	    !(sh.sh_flags & SHF_WRITE) || sh.sh_name >= strs.sh_size)
		return 0;
	if (strs.sh_offset > size || size - strs.sh_offset < strs.sh_size)
		return 0;
	/* the name may end at the table's end: the reader adds a NUL there */
	name = (const char *)data + strs.sh_offset + sh.sh_name;
	avail = strs.sh_size - sh.sh_name;
	return avail >= len && !memcmp(name, want, len) && (avail == len || !name[len]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	uint64_t off = 0, sz = 0;
	Elf64_Ehdr eh;
	int rc, found = 0;

	if (fd < 0)
		fd = memfd_create("fuzz_shimack", MFD_CLOEXEC);
	fuzz_check(fd >= 0);
	fuzz_check(ftruncate(fd, 0) == 0);
	fuzz_check(pwrite(fd, data, size, 0) == (ssize_t)size);
	rc = shimack_find_section(fd, &off, &sz);
	fuzz_check(rc == 0 || rc == -ENOENT || rc == -EIO || rc == -ENOMEM);
	if (rc)
		return 0;
	fuzz_check(size >= sizeof(eh));
	memcpy(&eh, data, sizeof(eh));
	for (unsigned i = 0; i < eh.e_shnum && !found; i++)
		found = header_matches(data, size, &eh, i, off, sz);
	fuzz_check(found);
	return 0;
}
