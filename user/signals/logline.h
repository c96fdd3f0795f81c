/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * logline.h - parses one application log line (what a process wrote to its
 * standard output or error) into the parts an OTLP log record needs: the
 * severity, ids of a trace the line names itself, and a bounded set of
 * attributes. The line itself stays the record's body; nothing here
 * rewrites it.
 *
 * Formats, tried in this order:
 *  - JSON: one object per line, with the field names of zerolog, zap,
 *    logrus, slog, python-json-logger, Bunyan and pino: the level in
 *    level / lvl / severity / levelname / log.level / loglevel (a word, or
 *    a Bunyan/pino number 10..60), the message in msg / message, the time
 *    in time / ts / timestamp / @timestamp (not parsed: the record's time
 *    is the time of the write), error / err, and trace ids in trace_id /
 *    traceId / traceid / otelTraceID (32 hex digits) and span_id / spanId /
 *    spanid / otelSpanID (16). Other scalar members become attributes
 *    (error and err as exception.message), at most LOGLINE_ATTRS_MAX.
 *  - logfmt: key=value pairs (values quoted or not) with a level, lvl or
 *    msg key; the same field names.
 *  - text: a level word among the first four words (brackets and colons
 *    stripped: "[ERROR]", "WARN:", "2026-01-02 10:00:00 INFO ...").
 * Anything else is text with no severity (SeverityNumber 0).
 *
 * API: logline_parse() never fails and never reads past len; the input
 * need not be NUL-terminated and may hold any bytes. Keys and values are
 * cut to their buffer (NUL-terminated). Pure: no state, any thread.
 */
#ifndef REDTAP_LOGLINE_H
#define REDTAP_LOGLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOGLINE_ATTRS_MAX 8
#define LOGLINE_KEY_MAX	  48
#define LOGLINE_VAL_MAX	  160

/* OpenTelemetry SeverityNumber: the first number of each range. */
enum log_severity {
	LOG_SEV_UNSPECIFIED = 0,
	LOG_SEV_TRACE = 1,
	LOG_SEV_DEBUG = 5,
	LOG_SEV_INFO = 9,
	LOG_SEV_WARN = 13,
	LOG_SEV_ERROR = 17,
	LOG_SEV_FATAL = 21,
};

enum logline_format { LOGLINE_TEXT = 0, LOGLINE_JSON = 1, LOGLINE_LOGFMT = 2 };

struct logline_attr {
	char key[LOGLINE_KEY_MAX];
	char val[LOGLINE_VAL_MAX];
};

struct logline {
	enum logline_format format;
	uint8_t severity;      /* enum log_severity, 0 when none was found */
	bool has_trace_id;     /* the line named its own trace */
	bool has_span_id;      /* ... and span */
	char severity_text[8]; /* "INFO", "ERROR"...: the OTel short name, "" for none */
	uint8_t trace_id[16];
	uint8_t span_id[8];
	size_t nattrs;
	struct logline_attr attrs[LOGLINE_ATTRS_MAX];
};

/* Parses line[0..len) into *out (reset first). */
void logline_parse(const char *line, size_t len, struct logline *out);

/* The severity of a level word ("warn", "ERROR", "Information", "crit"...)
 * or of a Bunyan/pino number ("30"), case-insensitive; 0 when unknown. */
uint8_t logline_severity(const char *word, size_t len);

/* The OTel short name of a severity number: "TRACE".."FATAL", "" for 0. */
const char *logline_severity_name(uint8_t sev);

#endif /* REDTAP_LOGLINE_H */
