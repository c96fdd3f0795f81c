/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * fuzz.h - what every fuzz target (tests/fuzz/fuzz_<target>.c) shares: the
 * libFuzzer entry point, built either with clang -fsanitize=fuzzer for real
 * fuzzing (`make fuzz`) or with the plain replay driver (replay.c) that runs
 * the checked-in corpus and crash inputs in the normal unit suites.
 *
 * A target must never crash, hang or leak on any input; fuzz_check() turns a
 * broken invariant of the code under test into an abort the fuzzer reports.
 */
#ifndef REDTAP_FUZZ_H
#define REDTAP_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define fuzz_check(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__,       \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* A NUL-terminated heap copy of data (NULs inside stay), so that reading
 * past the end is caught by ASan; the caller frees it. */
static inline char *fuzz_strdup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* True when s[0..n) holds a NUL. */
static inline int fuzz_has_nul(const char *s, size_t n)
{
	return memchr(s, '\0', n) != NULL;
}

/* Takes the next n bytes of a fuzz input (fewer at its end). */
struct fuzz_in {
	const uint8_t *p;
	size_t left;
};

static inline uint32_t fuzz_take_u(struct fuzz_in *in, unsigned nbytes)
{
	uint32_t v = 0;

	while (nbytes-- && in->left) {
		v = v << 8 | *in->p++;
		in->left--;
	}
	return v;
}

static inline const uint8_t *fuzz_take(struct fuzz_in *in, size_t *n)
{
	const uint8_t *p = in->p;

	if (*n > in->left)
		*n = in->left;
	in->p += *n;
	in->left -= *n;
	return p;
}

/* fuzz_take() into a heap block of exactly *n bytes (one for n == 0), so
 * that AddressSanitizer catches a parser reading past what it was given.
 * The caller frees it. */
static inline uint8_t *fuzz_take_copy(struct fuzz_in *in, size_t *n)
{
	const uint8_t *p = fuzz_take(in, n);
	uint8_t *copy = malloc(*n ? *n : 1);

	if (!copy)
		abort();
	memcpy(copy, p, *n);
	return copy;
}

#endif /* REDTAP_FUZZ_H */
