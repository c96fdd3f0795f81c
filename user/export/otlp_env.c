// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * otlp_env.c - the syntax and resolution of the OTLP exporter's settings,
 * named as the standard OpenTelemetry environment variables name them ("OTLP
 * Exporter Configuration" and "Environment Variable Specification"). The
 * settings themselves are rows of the settings table (config.c), so they
 * can also come from the config file; this file holds what those rows need:
 * URL checks and the per-signal URL rule, header lists, exporter lists, and
 * the final resolution into a struct otlp_config. See otlp.h and otlp_env.h.
 *
 * Rules followed: an empty variable is unset; a per-signal variable wins
 * over the generic one; enum values are case-insensitive; from the
 * environment, a value that does not parse is reported with rt_warn and
 * ignored. Only an unsupported protocol or a malformed endpoint is an
 * error, because going on would silently send nothing.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "log.h"
#include "otlp.h"
#include "otlp_env.h"

/* ---- URLs ---- */

bool otlp_url_valid(const char *url)
{
	const char *host;

	if (!strncasecmp(url, "http://", 7))
		host = url + 7;
	else if (!strncasecmp(url, "https://", 8))
		host = url + 8;
	else
		return false;
	if (!*host || *host == '/' || *host == ':' || *host == '?' || *host == '#')
		return false;
	for (const unsigned char *p = (const unsigned char *)url; *p; p++)
		if (*p <= ' ' || *p == 0x7f)
			return false;
	return true;
}

int otlp_url_join(char *out, size_t outlen, const char *base, const char *signal_path)
{
	const char *scheme_end, *rest;
	size_t pathlen;
	int n;

	if (!otlp_url_valid(base))
		return -EINVAL;
	scheme_end = strstr(base, "://") + 3;
	/* the path ends where a query or fragment starts */
	rest = scheme_end + strcspn(scheme_end, "?#");
	pathlen = (size_t)(rest - base);
	while (pathlen > (size_t)(scheme_end - base) && base[pathlen - 1] == '/')
		pathlen--;
	while (*signal_path == '/')
		signal_path++;
	n = snprintf(out, outlen, "%.*s/%s%s", (int)pathlen, base, signal_path, rest);
	if (n < 0 || (size_t)n >= outlen)
		return -ENAMETOOLONG;
	return 0;
}

/* ---- key=value lists ---- */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int otlp_percent_decode(char *out, size_t outlen, const char *in, size_t inlen)
{
	size_t o = 0;

	for (size_t i = 0; i < inlen; i++) {
		int c = (unsigned char)in[i];

		if (c == '%' && i + 2 < inlen && hexval(in[i + 1]) >= 0 && hexval(in[i + 2]) >= 0) {
			c = hexval(in[i + 1]) * 16 + hexval(in[i + 2]);
			i += 2;
		}
		if (!c) /* a NUL byte, sent raw or encoded, would cut the value short */
			return -EINVAL;
		if (o + 1 >= outlen)
			return -ENAMETOOLONG;
		out[o++] = (char)c;
	}
	if (!outlen)
		return -ENAMETOOLONG;
	out[o] = '\0';
	return (int)o;
}

static void trim(const char **b, const char **e)
{
	while (*b < *e && isspace((unsigned char)**b))
		(*b)++;
	while (*e > *b && isspace((unsigned char)(*e)[-1]))
		(*e)--;
}

int otlp_kv_parse(const char *list, bool decode,
		  int (*fn)(void *ctx, const char *key, const char *val), void *ctx)
{
	char key[4096], val[4096];
	int skipped = 0;

	while (*list) {
		const char *end = list + strcspn(list, ",");
		const char *eq = memchr(list, '=', (size_t)(end - list));
		const char *kb = list, *ke = eq, *vb, *ve = end;
		int rc;

		list = *end ? end + 1 : end;
		if (!eq) {
			/* a trailing or doubled comma is not an error */
			const char *b = kb, *e = end;

			trim(&b, &e);
			skipped += b != e;
			continue;
		}
		vb = eq + 1;
		trim(&kb, &ke);
		trim(&vb, &ve);
		if (kb == ke || (size_t)(ke - kb) >= sizeof(key)) {
			skipped++;
			continue;
		}
		memcpy(key, kb, (size_t)(ke - kb));
		key[ke - kb] = '\0';
		if (decode) {
			if (otlp_percent_decode(val, sizeof(val), vb, (size_t)(ve - vb)) < 0) {
				skipped++;
				continue;
			}
		} else {
			if ((size_t)(ve - vb) >= sizeof(val)) {
				skipped++;
				continue;
			}
			memcpy(val, vb, (size_t)(ve - vb));
			val[ve - vb] = '\0';
		}
		rc = fn(ctx, key, val);
		if (rc)
			return rc;
	}
	return skipped;
}

/* ---- the configuration ---- */

void otlp_config_init(struct otlp_config *c)
{
	memset(c, 0, sizeof(*c));
	c->timeout_ms = 10000;
	c->metric_interval_ms = 60000;
	c->queue_max_spans = 2048;
	c->batch_max_spans = 512;
	c->batch_delay_ms = 5000;
	c->batch_export_timeout_ms = 30000;
	c->metric_export_timeout_ms = 30000;
	c->queue_max_logs = 2048;
	c->batch_max_logs = 512;
	c->logs_delay_ms = 1000;
	c->logs_export_timeout_ms = 30000;
}

struct header_buf {
	char *out;
	size_t len, cap;
	const char *var;
};

static bool is_token(const char *s)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("!#$%&'*+-.^_`|~", *s))
			return false;
	return true;
}

static int header_add(void *ctx, const char *key, const char *val)
{
	struct header_buf *h = ctx;
	int n;

	if (!is_token(key) || strpbrk(val, ",\r\n")) {
		rt_warn("%s: header \"%s\" ignored: the name must be an HTTP token and the value "
			"may not hold a comma or a line break once decoded",
			h->var, key);
		return 0;
	}
	n = snprintf(h->out + h->len, h->cap - h->len, "%s%s=%s", h->len ? "," : "", key, val);
	if (n < 0 || (size_t)n >= h->cap - h->len) {
		h->out[h->len] = '\0';
		rt_warn("%s: header \"%s\" ignored: the headers are longer than %zu bytes", h->var,
			key, h->cap - 1);
		return 0;
	}
	h->len += (size_t)n;
	return 0;
}

int otlp_headers_decode(const char *v, char *out, size_t cap, const char *what)
{
	struct header_buf h = {.out = out, .cap = cap, .var = what};
	int skipped;

	out[0] = '\0';
	skipped = otlp_kv_parse(v, true, header_add, &h);
	if (skipped > 0)
		rt_warn("%s: members that are not key=value (percent-encoded) were ignored", what);
	return skipped;
}

enum otlp_exporter_choice otlp_exporter_parse(const char *v, const char *what)
{
	bool otlp = false;

	while (*v) {
		const char *b = v, *e = v + strcspn(v, ",");

		v = *e ? e + 1 : e;
		trim(&b, &e);
		if (e - b == 4 && !strncasecmp(b, "otlp", 4))
			otlp = true;
		else if (e != b && !(e - b == 4 && !strncasecmp(b, "none", 4)) &&
			 !(e - b == 10 && !strncasecmp(b, "prometheus", 10)))
			/* prometheus is what redtap's /metrics endpoint serves anyway */
			rt_warn("%s: exporter \"%.*s\" is not supported by redtap and was ignored",
				what, (int)(e - b), b);
	}
	return otlp ? OTLP_EXPORTER_OTLP : OTLP_EXPORTER_OFF;
}

/* The names of each signal's settings, for messages and the default path. */
static const struct {
	const char *path, *protocol_var, *protocol_key;
} signal_names[OTLP_SIGNALS] = {
    [OTLP_TRACES] = {"v1/traces", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "otlp.traces.protocol"},
    [OTLP_METRICS] = {"v1/metrics", "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "otlp.metrics.protocol"},
    [OTLP_LOGS] = {"v1/logs", "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "otlp.logs.protocol"},
};

static int signal_resolve(struct otlp_config *c, const struct otlp_endpoints *e,
			  enum otlp_signal sig, char *err, size_t errlen)
{
	char *url = sig == OTLP_TRACES	  ? c->traces_url
		    : sig == OTLP_METRICS ? c->metrics_url
					  : c->logs_url;
	size_t urlsz = sizeof(c->traces_url);
	const char *proto = e->signal[sig].protocol, *proto_var = signal_names[sig].protocol_var;
	const char *proto_key = signal_names[sig].protocol_key;

	url[0] = '\0';
	if (e->signal[sig].exporter == OTLP_EXPORTER_OFF)
		return 0;
	if (e->signal[sig].endpoint[0]) {
		snprintf(url, urlsz, "%s", e->signal[sig].endpoint);
	} else if (e->endpoint[0] || e->signal[sig].exporter == OTLP_EXPORTER_OTLP) {
		if (otlp_url_join(url, urlsz, e->endpoint[0] ? e->endpoint : OTLP_DEFAULT_ENDPOINT,
				  signal_names[sig].path)) {
			url[0] = '\0';
			snprintf(err, errlen, "OTEL_EXPORTER_OTLP_ENDPOINT: \"%s\" is too long",
				 e->endpoint);
			return -ENAMETOOLONG;
		}
	} else {
		return 0; /* no endpoint at all: this signal is off */
	}
	if (!proto[0]) {
		proto = e->protocol;
		proto_var = "OTEL_EXPORTER_OTLP_PROTOCOL";
		proto_key = "otlp.protocol";
	}
	if (proto[0] && strcasecmp(proto, "http/protobuf")) {
		url[0] = '\0';
		snprintf(err, errlen,
			 "%s=\"%s\" is not supported: redtap sends OTLP over HTTP with protobuf "
			 "encoding only (set it, or the key %s, to http/protobuf, or unset it)",
			 proto_var, proto, proto_key);
		return -EINVAL;
	}
	return 0;
}

int otlp_config_resolve(struct otlp_config *c, const struct otlp_endpoints *e, char *err,
			size_t errlen)
{
	int rc;

	if (errlen)
		err[0] = '\0';
	c->traces_url[0] = c->metrics_url[0] = c->logs_url[0] = '\0';
	if (c->batch_max_logs > c->queue_max_logs)
		c->batch_max_logs = c->queue_max_logs;
	if (c->batch_max_spans > c->queue_max_spans) {
		rt_warn("OTEL_BSP_MAX_EXPORT_BATCH_SIZE (%zu) is larger than "
			"OTEL_BSP_MAX_QUEUE_SIZE (%zu); using %zu",
			c->batch_max_spans, c->queue_max_spans, c->queue_max_spans);
		c->batch_max_spans = c->queue_max_spans;
	}
	if (e->disabled)
		return 0;
	for (int sig = OTLP_TRACES; sig < OTLP_SIGNALS; sig++) {
		rc = signal_resolve(c, e, sig, err, errlen);
		if (rc) {
			c->traces_url[0] = c->metrics_url[0] = c->logs_url[0] = '\0';
			return rc;
		}
	}
	return 0;
}

int otlp_config_from_env(struct otlp_config *c, char *err, size_t errlen)
{
	struct redtap_config *rc = malloc(sizeof(*rc));
	int ret;

	otlp_config_init(c);
	if (errlen)
		err[0] = '\0';
	if (!rc)
		return -ENOMEM;
	config_init(rc);
	ret = config_load_env(rc, err, errlen);
	if (!ret)
		ret = config_resolve(rc, err, errlen);
	if (!ret)
		*c = rc->otlp;
	config_release(rc);
	free(rc);
	return ret;
}
