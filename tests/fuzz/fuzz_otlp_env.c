// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_otlp_env.c - fuzz target for the OTLP exporter's configuration
 * parsing (user/export/otlp_env.c): OTEL_* variables are set by whoever
 * writes the unit's environment, and their values reach URL joining,
 * percent-decoding and the key=value list parser.
 *
 * Input: byte 0 picks the function (and, for otlp_config_from_env(), the
 * variable), byte 1 an output buffer size, the rest is the value.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "fuzz.h"
#include "log.h"
#include "otlp.h"
#include "otlp_env.h"

static const char *const vars[] = {
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
    "OTEL_EXPORTER_OTLP_HEADERS",
    "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
    "OTEL_EXPORTER_OTLP_TIMEOUT",
    "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT",
    "OTEL_EXPORTER_OTLP_COMPRESSION",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    "OTEL_TRACES_EXPORTER",
    "OTEL_METRICS_EXPORTER",
    "OTEL_SDK_DISABLED",
    "OTEL_METRIC_EXPORT_INTERVAL",
    "OTEL_METRIC_EXPORT_TIMEOUT",
    "OTEL_BSP_SCHEDULE_DELAY",
    "OTEL_BSP_EXPORT_TIMEOUT",
    "OTEL_BSP_MAX_QUEUE_SIZE",
    "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
    "OTEL_RESOURCE_ATTRIBUTES",
};

#define NVARS (sizeof(vars) / sizeof(vars[0]))

static int on_kv(void *ctx, const char *key, const char *val)
{
	(void)ctx;
	fuzz_check(key && *key && val);
	fuzz_check(strlen(key) < 4096 && strlen(val) < 4096);
	return 0;
}

static void check_config(const struct otlp_config *c)
{
	fuzz_check(fuzz_has_nul(c->traces_url, sizeof(c->traces_url)));
	fuzz_check(fuzz_has_nul(c->metrics_url, sizeof(c->metrics_url)));
	fuzz_check(fuzz_has_nul(c->headers, sizeof(c->headers)));
	fuzz_check(fuzz_has_nul(c->resource_attrs, sizeof(c->resource_attrs)));
	fuzz_check(!c->traces_url[0] || otlp_url_valid(c->traces_url));
	fuzz_check(!c->metrics_url[0] || otlp_url_valid(c->metrics_url));
	fuzz_check(!c->batch_max_spans || !c->queue_max_spans ||
		   c->batch_max_spans <= c->queue_max_spans);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	unsigned sel, outsz;
	char *val, *out, err[256];
	struct otlp_config c;
	int ret;

	if (!init) {
		log_init(LOG_LVL_ERROR, false);
		init = true;
	}
	if (size < 2)
		return 0;
	sel = data[0];
	outsz = data[1] + 1u;
	val = fuzz_strdup(data + 2, size - 2);
	out = malloc(outsz);
	if (!out)
		abort();
	switch (sel % 4) {
	case 0:
		if (otlp_url_valid(val)) {
			ret = otlp_url_join(out, outsz, val, "v1/traces");
			fuzz_check(ret == 0 || ret == -ENAMETOOLONG);
			fuzz_check(ret || (fuzz_has_nul(out, outsz) && otlp_url_valid(out)));
		}
		break;
	case 1:
		ret = otlp_percent_decode(out, outsz, val, size - 2);
		fuzz_check(ret == -ENAMETOOLONG || ret == -EINVAL ||
			   (ret >= 0 && (unsigned)ret < outsz && strlen(out) == (size_t)ret));
		break;
	case 2:
		ret = otlp_kv_parse(val, sel & 4, on_kv, NULL);
		fuzz_check(ret >= 0);
		break;
	default:
		/* One variable set, with a base endpoint so both signals are on. */
		setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318", 1);
		setenv(vars[(sel >> 2) % NVARS], val, 1);
		memset(&c, 0, sizeof(c));
		ret = otlp_config_from_env(&c, err, sizeof(err));
		fuzz_check(ret == 0 || ret == -EINVAL);
		if (ret == 0)
			check_config(&c);
		else
			fuzz_check(fuzz_has_nul(err, sizeof(err)) && err[0]);
		unsetenv(vars[(sel >> 2) % NVARS]);
		unsetenv("OTEL_EXPORTER_OTLP_ENDPOINT");
		break;
	}
	free(out);
	free(val);
	return 0;
}
