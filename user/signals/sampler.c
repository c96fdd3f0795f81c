// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * sampler.c - OTEL_TRACES_SAMPLER head sampling. The ratio sampler keeps a
 * trace when the trace id's last 8 bytes, read as a big-endian integer,
 * fall below ratio * 2^64, so every node that sees the same trace id with
 * the same ratio decides the same way. See sampler.h.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sampler.h"

int sampler_parse(struct sampler *s, const char *name, const char *arg, char *err, size_t errlen)
{
	static const struct {
		const char *name;
		enum sampler_kind root;
		bool parent_based;
	} table[] = {
	    {"always_on", SAMPLER_ALWAYS_ON, false},
	    {"always_off", SAMPLER_ALWAYS_OFF, false},
	    {"traceidratio", SAMPLER_RATIO, false},
	    {"parentbased_always_on", SAMPLER_ALWAYS_ON, true},
	    {"parentbased_always_off", SAMPLER_ALWAYS_OFF, true},
	    {"parentbased_traceidratio", SAMPLER_RATIO, true},
	};
	char *end;

	s->root = SAMPLER_ALWAYS_ON;
	s->parent_based = true;
	s->ratio = 1.0;
	if (!name || !name[0])
		return 0;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		if (strcmp(name, table[i].name) != 0)
			continue;
		s->root = table[i].root;
		s->parent_based = table[i].parent_based;
		if (s->root != SAMPLER_RATIO || !arg || !arg[0])
			return 0;
		s->ratio = strtod(arg, &end);
		if (*end || !(s->ratio >= 0 && s->ratio <= 1)) {
			snprintf(err, errlen,
				 "OTEL_TRACES_SAMPLER_ARG: \"%s\" is not a ratio between 0 and 1",
				 arg);
			return -EINVAL;
		}
		return 0;
	}
	snprintf(err, errlen,
		 "OTEL_TRACES_SAMPLER: unknown sampler \"%s\" (use always_on, always_off, "
		 "traceidratio or parentbased_*)",
		 name);
	return -EINVAL;
}

bool sampler_decide(const struct sampler *s, const uint8_t trace_id[16], bool has_parent,
		    bool parent_sampled)
{
	uint64_t v = 0;

	if (has_parent && s->parent_based)
		return parent_sampled;
	switch (s->root) {
	case SAMPLER_ALWAYS_ON:
		return true;
	case SAMPLER_ALWAYS_OFF:
		return false;
	case SAMPLER_RATIO:
		if (s->ratio >= 1.0)
			return true;
		for (int i = 8; i < 16; i++)
			v = v << 8 | trace_id[i];
		/* v < ratio * 2^64, exactly: the bound is an integer below 2^64 */
		return v < (uint64_t)ceil(s->ratio * 18446744073709551616.0);
	}
	return true;
}
