// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_logline.c - fuzz target for the log line path of zero-code log
 * capture: redaction (user/signals/logredact.c, default patterns) and then
 * the parser (user/signals/logline.c), as logs.c runs them on every line a
 * selected process writes to stdout or stderr.
 *
 * Input: the line. Checks: the redacted line fits its buffer and is
 * NUL-terminated; the parse stays inside struct logline's bounds (attribute
 * count, NUL-terminated keys and values, a known severity and text).
 */
#include <stdbool.h>

#include "fuzz.h"
#include "logline.h"
#include "logredact.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct logredact *r;
	char err[256], out[1024];
	struct logline o;
	size_t n;
	char *line;

	if (!r) {
		r = logredact_new(NULL, false, err, sizeof(err));
		if (!r)
			abort();
	}
	line = fuzz_strdup(data, size);
	n = logredact_apply(r, line, size, out, sizeof(out));
	fuzz_check(n < sizeof(out) && out[n] == '\0' && strlen(out) == n);

	logline_parse(line, size, &o); /* the raw bytes, NULs included */
	fuzz_check(o.nattrs <= LOGLINE_ATTRS_MAX);
	for (size_t i = 0; i < o.nattrs; i++)
		fuzz_check(memchr(o.attrs[i].key, '\0', LOGLINE_KEY_MAX) &&
			   memchr(o.attrs[i].val, '\0', LOGLINE_VAL_MAX));
	fuzz_check(o.severity <= 24);
	fuzz_check(!strcmp(o.severity_text, logline_severity_name(o.severity)) || o.severity == 0);
	logline_parse(out, n, &o);
	fuzz_check(o.nattrs <= LOGLINE_ATTRS_MAX);
	free(line);
	return 0;
}
