// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * otlp_env.c - the OTLP exporter's configuration from the standard
 * OpenTelemetry environment variables ("OTLP Exporter Configuration" and
 * "Environment Variable Specification"): endpoints and the per-signal URL
 * rule, headers, timeouts, compression, protocol, exporter selection,
 * metric interval and batch span processor settings. See otlp.h and
 * otlp_env.h.
 *
 * Rules followed: an empty variable is unset; a per-signal variable wins
 * over the generic one; enum values are case-insensitive; a value that does
 * not parse is reported with rt_warn and ignored. Only an unsupported
 * protocol or a malformed endpoint is an error, because going on would
 * silently send nothing.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "otlp.h"
#include "otlp_env.h"

static const char *env_get(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

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
			if (!c)
				return -EINVAL;
		}
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
}

/* Reads a decimal number in [min, max] into *out; warns and keeps *out otherwise. */
static void env_ulong(const char *name, unsigned long *out, unsigned long min, unsigned long max)
{
	const char *v = env_get(name);
	unsigned long n;
	char *end;

	if (!v)
		return;
	while (isspace((unsigned char)*v))
		v++;
	errno = 0;
	n = strtoul(v, &end, 10);
	while (isspace((unsigned char)*end))
		end++;
	if (!isdigit((unsigned char)*v) || *end || errno || n < min || n > max) {
		rt_warn("%s=\"%s\" ignored: expected a whole number from %lu to %lu", name,
			getenv(name), min, max);
		return;
	}
	*out = n;
}

static void env_uint(const char *name, unsigned *out, unsigned min)
{
	unsigned long v = *out;

	env_ulong(name, &v, min, UINT_MAX);
	*out = (unsigned)v;
}

static void env_compression(const char *name, enum otlp_compression *out)
{
	const char *v = env_get(name);

	if (!v)
		return;
	if (!strcasecmp(v, "gzip"))
		*out = OTLP_COMPRESSION_GZIP;
	else if (!strcasecmp(v, "none"))
		*out = OTLP_COMPRESSION_NONE;
	else
		rt_warn("%s=\"%s\" ignored: supported values are gzip and none", name, v);
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

/* Decodes the header list of variable name into out ("k=v,k2=v2"); false when unset. */
static bool env_headers(const char *name, char *out, size_t cap)
{
	struct header_buf h = {.out = out, .cap = cap, .var = name};
	const char *v = env_get(name);

	if (!v)
		return false;
	out[0] = '\0';
	if (otlp_kv_parse(v, true, header_add, &h) > 0)
		rt_warn("%s: members that are not key=value (percent-encoded) were ignored", name);
	return true;
}

struct signal_env {
	const char *name, *path;
	const char *exporter, *endpoint, *headers, *timeout, *compression, *protocol;
};

static const struct signal_env signal_env[2] = {
    [OTLP_TRACES] = {"traces", "v1/traces", "OTEL_TRACES_EXPORTER",
		     "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
		     "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
		     "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"},
    [OTLP_METRICS] = {"metrics", "v1/metrics", "OTEL_METRICS_EXPORTER",
		      "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
		      "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT",
		      "OTEL_EXPORTER_OTLP_METRICS_COMPRESSION",
		      "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL"},
};

/*
 * OTEL_<SIGNAL>_EXPORTER: a comma-separated list, default "otlp". Returns
 * whether otlp is in it; *explicit tells whether the variable named it.
 */
static bool exporter_wants_otlp(const char *var, bool *explicit)
{
	const char *v = env_get(var), *p;
	bool otlp = false;

	*explicit = false;
	if (!v)
		return true;
	for (p = v; *p;) {
		const char *b = p, *e = p + strcspn(p, ",");

		p = *e ? e + 1 : e;
		trim(&b, &e);
		if (e - b == 4 && !strncasecmp(b, "otlp", 4))
			otlp = true;
		else if (e != b && !(e - b == 4 && !strncasecmp(b, "none", 4)) &&
			 !(e - b == 10 && !strncasecmp(b, "prometheus", 10)))
			/* prometheus is what redtap's /metrics endpoint serves anyway */
			rt_warn("%s: exporter \"%.*s\" is not supported by redtap and was ignored",
				var, (int)(e - b), b);
	}
	*explicit = otlp;
	return otlp;
}

static int signal_from_env(struct otlp_config *c, enum otlp_signal sig, char *err, size_t errlen)
{
	const struct signal_env *s = &signal_env[sig];
	char *url = sig == OTLP_TRACES ? c->traces_url : c->metrics_url;
	size_t urlsz = sizeof(c->traces_url);
	const char *endpoint = env_get(s->endpoint), *base = env_get("OTEL_EXPORTER_OTLP_ENDPOINT");
	const char *proto_var = s->protocol, *proto = env_get(s->protocol);
	bool explicit;
	int rc;

	url[0] = '\0';
	if (!exporter_wants_otlp(s->exporter, &explicit))
		return 0;
	if (endpoint) {
		if (!otlp_url_valid(endpoint) || strlen(endpoint) >= urlsz) {
			snprintf(
			    err, errlen,
			    "%s=\"%s\" is not a valid endpoint: use an http:// or https:// URL "
			    "of at most %zu characters",
			    s->endpoint, endpoint, urlsz - 1);
			return -EINVAL;
		}
		snprintf(url, urlsz, "%s", endpoint);
	} else if (base || explicit) {
		rc = otlp_url_join(url, urlsz, base ? base : OTLP_DEFAULT_ENDPOINT, s->path);
		if (rc) {
			url[0] = '\0';
			snprintf(
			    err, errlen,
			    "OTEL_EXPORTER_OTLP_ENDPOINT=\"%s\" is not a valid endpoint: use an "
			    "http:// or https:// URL of at most %zu characters",
			    base, urlsz - 1 - strlen(s->path));
			return -EINVAL;
		}
	} else {
		return 0; /* no endpoint at all: this signal is off */
	}
	if (!proto) {
		proto_var = "OTEL_EXPORTER_OTLP_PROTOCOL";
		proto = env_get(proto_var);
	}
	if (proto && strcasecmp(proto, "http/protobuf")) {
		url[0] = '\0';
		snprintf(err, errlen,
			 "%s=\"%s\" is not supported: redtap sends OTLP over HTTP with protobuf "
			 "encoding only (set it to http/protobuf, or unset it)",
			 proto_var, proto);
		return -EINVAL;
	}
	return 0;
}

int otlp_config_from_env(struct otlp_config *c, char *err, size_t errlen)
{
	const char *disabled = env_get("OTEL_SDK_DISABLED"), *ra;
	enum otlp_compression comp = OTLP_COMPRESSION_NONE;
	unsigned long n;
	int rc;

	otlp_config_init(c);
	if (errlen)
		err[0] = '\0';
	if (disabled && !strcasecmp(disabled, "true"))
		return 0;
	for (int sig = OTLP_TRACES; sig <= OTLP_METRICS; sig++) {
		rc = signal_from_env(c, sig, err, errlen);
		if (rc) {
			c->traces_url[0] = c->metrics_url[0] = '\0';
			return rc;
		}
	}

	env_headers("OTEL_EXPORTER_OTLP_HEADERS", c->headers, sizeof(c->headers));
	env_uint("OTEL_EXPORTER_OTLP_TIMEOUT", &c->timeout_ms, 1);
	env_compression("OTEL_EXPORTER_OTLP_COMPRESSION", &comp);
	c->gzip = comp == OTLP_COMPRESSION_GZIP;

	env_headers(signal_env[OTLP_TRACES].headers, c->traces_headers, sizeof(c->traces_headers));
	env_headers(signal_env[OTLP_METRICS].headers, c->metrics_headers,
		    sizeof(c->metrics_headers));
	env_uint(signal_env[OTLP_TRACES].timeout, &c->traces_timeout_ms, 1);
	env_uint(signal_env[OTLP_METRICS].timeout, &c->metrics_timeout_ms, 1);
	env_compression(signal_env[OTLP_TRACES].compression, &c->traces_compression);
	env_compression(signal_env[OTLP_METRICS].compression, &c->metrics_compression);

	env_uint("OTEL_METRIC_EXPORT_INTERVAL", &c->metric_interval_ms, 1);
	env_uint("OTEL_METRIC_EXPORT_TIMEOUT", &c->metric_export_timeout_ms, 1);
	env_uint("OTEL_BSP_SCHEDULE_DELAY", &c->batch_delay_ms, 1);
	env_uint("OTEL_BSP_EXPORT_TIMEOUT", &c->batch_export_timeout_ms, 1);
	n = c->queue_max_spans;
	env_ulong("OTEL_BSP_MAX_QUEUE_SIZE", &n, 1, 1UL << 24);
	c->queue_max_spans = n;
	n = c->batch_max_spans;
	env_ulong("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", &n, 1, 1UL << 24);
	c->batch_max_spans = n;
	if (c->batch_max_spans > c->queue_max_spans) {
		rt_warn("OTEL_BSP_MAX_EXPORT_BATCH_SIZE (%zu) is larger than "
			"OTEL_BSP_MAX_QUEUE_SIZE (%zu); using %zu",
			c->batch_max_spans, c->queue_max_spans, c->queue_max_spans);
		c->batch_max_spans = c->queue_max_spans;
	}

	ra = env_get("OTEL_RESOURCE_ATTRIBUTES");
	if (ra) {
		if (strlen(ra) >= sizeof(c->resource_attrs))
			rt_warn("OTEL_RESOURCE_ATTRIBUTES ignored: longer than %zu bytes",
				sizeof(c->resource_attrs) - 1);
		else
			snprintf(c->resource_attrs, sizeof(c->resource_attrs), "%s", ra);
	}
	return 0;
}
