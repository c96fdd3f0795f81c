/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * sampler.h - head sampling as OpenTelemetry's SDKs configure it with
 * OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG: always_on, always_off,
 * traceidratio and their parentbased_* forms (the default is
 * parentbased_always_on).
 *
 * API: sampler_parse() fills a struct sampler (a value, no resources);
 * sampler_decide() gives the decision for a new span from its trace id and
 * its parent's sampled flag when the parent is remote.
 */
#ifndef REDTAP_SAMPLER_H
#define REDTAP_SAMPLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sampler_kind {
	SAMPLER_ALWAYS_ON,
	SAMPLER_ALWAYS_OFF,
	SAMPLER_RATIO,
};

struct sampler {
	enum sampler_kind root; /* for spans without a parent */
	bool parent_based;	/* follow a parent's sampled flag */
	double ratio;		/* SAMPLER_RATIO: 0..1 */
};

/* name/arg as in the environment (NULL = unset). -EINVAL with a sentence
 * in err for an unknown sampler or a bad ratio. */
int sampler_parse(struct sampler *s, const char *name, const char *arg, char *err, size_t errlen);

/* has_parent: the span continues a trace from elsewhere; parent_sampled:
 * that parent's W3C sampled flag. */
bool sampler_decide(const struct sampler *s, const uint8_t trace_id[16], bool has_parent,
		    bool parent_sampled);

#endif /* REDTAP_SAMPLER_H */
