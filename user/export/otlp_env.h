/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * otlp_env.h - the syntax and the resolution of the OTLP settings (the
 * OTEL_* variables, or the otlp.* keys of the config file, which are rows
 * of the settings table in config.c): URL checks and joining, the
 * "key=value,key2=value2" lists of OTEL_EXPORTER_OTLP_HEADERS and
 * OTEL_RESOURCE_ATTRIBUTES (W3C baggage style, values percent-encoded),
 * exporter lists, and otlp_config_resolve(), which turns the layered
 * endpoint, protocol and exporter choices into the URL of each signal.
 * otlp_config_from_env() itself is declared in otlp.h.
 *
 * API: pure functions on caller buffers; no allocation, thread-safe (the
 * parsers warn through rt_warn about members they drop).
 */
#ifndef REDTAP_OTLP_ENV_H
#define REDTAP_OTLP_ENV_H

#include <stdbool.h>
#include <stddef.h>

#include "otlp.h"

#define OTLP_DEFAULT_ENDPOINT "http://localhost:4318"
/* The longest base endpoint: "/v1/metrics" must still fit a URL of otlp_config. */
#define OTLP_BASE_URL_MAX (sizeof(((struct otlp_config *)0)->traces_url) - sizeof("/v1/metrics"))

/* OTEL_<SIGNAL>_EXPORTER: unset (otlp when an endpoint is set), a list with
 * otlp, or a list without it (the signal is off). */
enum otlp_exporter_choice { OTLP_EXPORTER_UNSET = 0, OTLP_EXPORTER_OTLP, OTLP_EXPORTER_OFF };

/*
 * What decides each signal's URL, as the layers left it; strings "" are
 * unset. Each URL was checked with otlp_url_valid() when it was set.
 */
struct otlp_endpoints {
	bool disabled;	     /* OTEL_SDK_DISABLED */
	char endpoint[1024]; /* OTEL_EXPORTER_OTLP_ENDPOINT: base URL */
	char protocol[32];   /* OTEL_EXPORTER_OTLP_PROTOCOL */
	struct {
		enum otlp_exporter_choice exporter; /* OTEL_TRACES_EXPORTER, ... */
		char endpoint[1024];		    /* ..._TRACES_ENDPOINT: used as is */
		char protocol[32];		    /* ..._TRACES_PROTOCOL */
	} signal[OTLP_SIGNALS];			    /* by enum otlp_signal */
};

/*
 * Fills c->traces_url and c->metrics_url from e: a per-signal endpoint is
 * used as is, else the base endpoint (or, for an exporter list that names
 * otlp, http://localhost:4318) gets /v1/traces or /v1/metrics; OTEL_SDK_
 * DISABLED or an exporter list without otlp turns a signal off. Clamps the
 * batch size to the queue size. Returns 0; -EINVAL with one sentence in
 * err when an enabled signal asks for a protocol other than http/protobuf
 * (both URLs are then ""), -ENAMETOOLONG when a joined URL does not fit.
 */
int otlp_config_resolve(struct otlp_config *c, const struct otlp_endpoints *e, char *err,
			size_t errlen);

/*
 * Decodes the header list v (OTEL_EXPORTER_OTLP_HEADERS syntax) into out as
 * "k=v,k2=v2". Members that are not key=value, whose name is no HTTP token,
 * whose value holds a comma or line break once decoded, or that do not fit
 * are dropped with a warning naming what. Returns the number dropped.
 */
int otlp_headers_decode(const char *v, char *out, size_t cap, const char *what);

/*
 * Parses an exporter list ("otlp", "none", "otlp,prometheus", any case);
 * names redtap does not support are dropped with a warning naming what.
 */
enum otlp_exporter_choice otlp_exporter_parse(const char *v, const char *what);

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
