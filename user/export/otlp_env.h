/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * otlp_env.h - the pieces of OTLP environment configuration that other
 * otlp_* files and the unit tests use: URL checks and joining, and the
 * "key=value,key2=value2" lists of OTEL_EXPORTER_OTLP_HEADERS and
 * OTEL_RESOURCE_ATTRIBUTES (W3C baggage style, values percent-encoded).
 * otlp_config_from_env() itself is declared in otlp.h.
 *
 * API: pure functions on caller buffers; no allocation, thread-safe.
 */
#ifndef REDTAP_OTLP_ENV_H
#define REDTAP_OTLP_ENV_H

#include <stdbool.h>
#include <stddef.h>

#define OTLP_DEFAULT_ENDPOINT "http://localhost:4318"

/* An http:// or https:// URL (scheme in any case) with a host, and no
 * space or control character. */
bool otlp_url_valid(const char *url);

/*
 * The per-signal URL from a base endpoint: signal_path ("v1/traces") is
 * appended to the base's path with exactly one '/' between them, before any
 * query. Returns 0, -EINVAL for an invalid base, -ENAMETOOLONG when out is
 * too small.
 */
int otlp_url_join(char *out, size_t outlen, const char *base, const char *signal_path);

/*
 * Percent-decodes in[0..inlen) into out (NUL-terminated). A '%' not followed
 * by two hex digits is kept as is; '+' stays '+' (W3C baggage). Returns the
 * decoded length, or -ENAMETOOLONG when out is too small, -EINVAL when the
 * result would hold a NUL byte.
 */
int otlp_percent_decode(char *out, size_t outlen, const char *in, size_t inlen);

/*
 * Walks a "k=v,k2=v2" list: members are split on ',', key and value on the
 * first '=', and optional whitespace around each is trimmed; with decode,
 * values are percent-decoded. fn gets NUL-terminated key and value (valid
 * during the call only); a non-zero return stops the walk and is returned.
 * Members without '=', with an empty key, longer than 4095 bytes or that do
 * not decode are skipped. Returns the number of members skipped, or fn's
 * non-zero result.
 */
int otlp_kv_parse(const char *list, bool decode,
		  int (*fn)(void *ctx, const char *key, const char *val), void *ctx);

#endif /* REDTAP_OTLP_ENV_H */
