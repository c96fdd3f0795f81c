// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * config.c - the settings table, its setters, and the environment and
 * command-line layers. See config.h; the YAML file is read by config_yaml.c
 * and the help is rendered by config_help.c, both from this table.
 *
 * One table (settings[]) describes every setting once: its option, its
 * environment variable, its YAML key, its default, its setter and its help.
 * The three sources, --help and the checks of redtap(8) and
 * deploy/redtap.yaml are all driven from it, so they cannot drift.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "config_table.h"
#include "log.h"
#include "logfiles.h"
#include "otlp_env.h"
#include "podmeta.h"
#include "redtap/event.h"
#include "sampler.h"
#include "shim_decode.h"
#include "reqlabels.h"
#include "tracer.h"

#define STR(x)	#x
#define XSTR(x) STR(x)

#define CAPTURE_MIN    16
#define RINGBUF_MIN    (64u << 10)
#define RINGBUF_MAX    (1u << 30)
#define MAX_SERIES_MAX 1000000
#define SERIES_TTL_MAX 31536000 /* a year */
#define PID_MAX	       4194303	/* PID_MAX_LIMIT - 1 on 64-bit kernels */
#define LOOP_SLICE_MIN 100	/* us: the kernel clamps a custom slice to 0.1..100 ms */
#define LOOP_SLICE_MAX 100000

/* Long-only options. */
enum {
	OPT_PORT = 256,
	OPT_MAX_SERIES,
	OPT_CAPTURE,
	OPT_RINGBUF,
	OPT_SHIM,
	OPT_NO_BPF,
	OPT_LOG_LEVEL,
	OPT_LOG_FORMAT,
	OPT_SERIES_TTL,
	OPT_K8S_LABELS,
	OPT_METRICS_TLS_CERT,
	OPT_METRICS_TLS_KEY,
	OPT_METRICS_TOKEN,
	OPT_METRICS_CONNS_PER_IP
};

void config_errf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!buf || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* Writes "WHAT: message" and returns -EINVAL. */
static int fail(const struct src *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(const struct src *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!s->errbuf || !s->errlen)
		return -EINVAL;
	n = snprintf(s->errbuf, s->errlen, "%s: ", s->what);
	if (n >= 0 && (size_t)n < s->errlen) {
		va_start(ap, fmt);
		vsnprintf(s->errbuf + n, s->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int fail_nomem(const struct src *s)
{
	config_errf(s->errbuf, s->errlen, "%s: out of memory", s->what);
	return -ENOMEM;
}

/* ---- value syntax ------------------------------------------------------------------------ */

/* Reads the decimal digits at s into *v; returns the first non-digit. */
static const char *scan_digits(const char *s, uint64_t *v, bool *overflow)
{
	*v = 0;
	*overflow = false;
	for (; *s >= '0' && *s <= '9'; s++) {
		unsigned int d = (unsigned int)(*s - '0');

		if (*v > (UINT64_MAX - d) / 10)
			*overflow = true;
		else
			*v = *v * 10 + d;
	}
	return s;
}

/* Strict decimal: digits only, no sign or space. Returns 0, -EINVAL or -ERANGE. */
static int parse_u64(const char *s, uint64_t *out)
{
	bool overflow;
	const char *end = scan_digits(s, out, &overflow);

	if (end == s || *end)
		return -EINVAL;
	return overflow ? -ERANGE : 0;
}

int config_parse_size(const char *s, uint64_t *out)
{
	unsigned int shift = 0;
	bool overflow;
	uint64_t v;
	const char *suffix = scan_digits(s, &v, &overflow);

	if (suffix == s)
		return -EINVAL;
	switch (tolower((unsigned char)*suffix)) {
	case '\0':
		break;
	case 'k':
		shift = 10;
		break;
	case 'm':
		shift = 20;
		break;
	case 'g':
		shift = 30;
		break;
	default:
		return -EINVAL;
	}
	if (*suffix && suffix[1] && strcasecmp(suffix + 1, "b") && strcasecmp(suffix + 1, "ib"))
		return -EINVAL;
	if (overflow || v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = v << shift;
	return 0;
}

/* An IPv4 or IPv6 address (no brackets) or a plausible DNS name. */
static bool host_ok(const char *h)
{
	unsigned char addr[16];
	size_t len = strlen(h);

	if (inet_pton(AF_INET, h, addr) == 1 || inet_pton(AF_INET6, h, addr) == 1)
		return true;
	if (len == 0 || len > 253 || h[0] == '-' || h[0] == '.')
		return false;
	if (!h[strspn(h, "0123456789.")]) /* looks numeric but is no IPv4 address */
		return false;
	for (; *h; h++) {
		if (!isalnum((unsigned char)*h) && !strchr("-._", *h))
			return false;
	}
	return true;
}

static int parse_port(const char *s, uint16_t *port)
{
	uint64_t v;

	if (parse_u64(s, &v) || v < 1 || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

/* config_parse_listen() with the reason of a failure, NULL on success. */
static const char *listen_split(const char *s, char *host, size_t hostlen, uint16_t *port)
{
	const char *h = s, *colon;
	bool bracketed = s[0] == '[';
	size_t hlen;

	if (bracketed) {
		const char *end = strchr(s, ']');

		if (!end)
			return "has an unclosed '['";
		if (end[1] != ':')
			return "needs a port after the ']', as [::1]:9464";
		h = s + 1;
		hlen = (size_t)(end - h);
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return "needs a port, as HOST:PORT, :PORT or [IPv6]:PORT";
		if (memchr(s, ':', (size_t)(colon - s)))
			return "needs brackets around an IPv6 address, as [::1]:9464";
		hlen = (size_t)(colon - s);
	}
	if (hlen >= hostlen)
		return "has a host name that is too long";
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	if ((bracketed || hlen) && !host_ok(host))
		return "has an invalid host";
	if (bracketed && !strchr(host, ':'))
		return "has brackets around something that is no IPv6 address";
	if (parse_port(colon + 1, port))
		return "has an invalid port (1..65535)";
	return NULL;
}

int config_parse_listen(const char *s, char *host, size_t hostlen, uint16_t *port)
{
	char tmp[256];
	uint16_t p;

	if (listen_split(s, tmp, sizeof(tmp), &p) || strlen(tmp) >= hostlen)
		return -EINVAL;
	strcpy(host, tmp);
	*port = p;
	return 0;
}

static int parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};

	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (!strcasecmp(v, yes[i]) || !strcasecmp(v, no[i])) {
			*out = !strcasecmp(v, yes[i]);
			return 0;
		}
	}
	return -EINVAL;
}

/* ---- lists ------------------------------------------------------------------------------- */

static void free_strings(char ***list, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		free((*list)[i]);
	free(*list);
	*list = NULL;
	*n = 0;
}

static void list_clear(struct redtap_config *c, enum list l)
{
	switch (l) {
	case LIST_PIDS:
		free(c->pids);
		c->pids = NULL;
		c->npids = 0;
		break;
	case LIST_EXES:
		free_strings(&c->exe_globs, &c->nexe_globs);
		break;
	case LIST_PORTS:
		free(c->ports);
		c->ports = NULL;
		c->nports = 0;
		break;
	case LIST_ROUTES:
		free_strings(&c->routes, &c->nroutes);
		break;
	case LIST_CRITICAL:
		free_strings(&c->critical_routes, &c->ncritical);
		break;
	case LIST_LOGFILES:
		free_strings(&c->logs_files, &c->nlogs_files);
		break;
	case LIST_NONE:
		break;
	}
}

/* The first value a layer gives for a list replaces the lower layers' list. */
void config_list_begin(struct redtap_config *c, enum list l, const struct src *s)
{
	if (l == LIST_NONE || (*s->replaced & (1u << l)))
		return;
	*s->replaced |= 1u << l;
	list_clear(c, l);
}

static int add_string(char ***list, size_t *n, const char *v, const struct src *s)
{
	char **grown, *copy;

	for (size_t i = 0; i < *n; i++) {
		if (!strcmp((*list)[i], v))
			return 0;
	}
	copy = strdup(v);
	grown = copy ? reallocarray(*list, *n + 1, sizeof(**list)) : NULL;
	if (!grown) {
		free(copy);
		return fail_nomem(s);
	}
	grown[(*n)++] = copy;
	*list = grown;
	return 0;
}

/* Calls add() on each item of the comma list v, spaces around items ignored. */
static int each_item(struct redtap_config *c, const char *v, const struct src *s, setter_fn add)
{
	char item[1024];
	int err;

	do {
		size_t len = strcspn(v, ",");
		const char *start = v, *end = v + len;

		while (start < end && isspace((unsigned char)*start))
			start++;
		while (end > start && isspace((unsigned char)end[-1]))
			end--;
		if (start == end)
			return fail(s, "empty item in the list");
		if ((size_t)(end - start) >= sizeof(item))
			return fail(s, "'%.32s...' is too long", start);
		memcpy(item, start, (size_t)(end - start));
		item[end - start] = '\0';
		err = add(c, item, s);
		if (err)
			return err;
		v += len;
	} while (*v++ == ',');
	return 0;
}

/* ---- setters ----------------------------------------------------------------------------- */

static int get_number(const char *v, uint64_t lo, uint64_t hi, uint64_t *out, const struct src *s)
{
	uint64_t n = 0;
	int err = parse_u64(v, &n);

	if (err == -EINVAL)
		return fail(s, "'%s' is not a number", v);
	if (err || n < lo || n > hi)
		return fail(s, "%s is out of range %" PRIu64 "..%" PRIu64, v, lo, hi);
	*out = n;
	return 0;
}

static int set_listen(struct redtap_config *c, const char *v, const struct src *s)
{
	char host[sizeof(c->listen_host)];
	const char *why = listen_split(v, host, sizeof(host), &c->listen_port);

	if (why)
		return fail(s, "'%s' %s", v, why);
	if (host[0])
		strcpy(c->listen_host, host);
	return 0;
}

static int set_host(struct redtap_config *c, const char *v, const struct src *s)
{
	size_t len = strlen(v);

	if (len >= 2 && v[0] == '[' && v[len - 1] == ']') {
		v++;
		len -= 2;
	}
	if (len >= sizeof(c->listen_host))
		return fail(s, "the host name is too long");
	memcpy(c->listen_host, v, len);
	c->listen_host[len] = '\0';
	if (!host_ok(c->listen_host))
		return fail(s, "'%s' is not a valid host", c->listen_host);
	return 0;
}

static int set_port(struct redtap_config *c, const char *v, const struct src *s)
{
	uint64_t n = 0;
	int err = get_number(v, 1, 65535, &n, s);

	if (!err)
		c->listen_port = (uint16_t)n;
	return err;
}

static int add_pid(struct redtap_config *c, const char *v, const struct src *s)
{
	uint64_t n = 0;
	pid_t *grown;
	int err = get_number(v, 1, PID_MAX, &n, s);

	if (err)
		return err;
	for (size_t i = 0; i < c->npids; i++) {
		if (c->pids[i] == (pid_t)n)
			return 0;
	}
	grown = reallocarray(c->pids, c->npids + 1, sizeof(*grown));
	if (!grown)
		return fail_nomem(s);
	grown[c->npids++] = (pid_t)n;
	c->pids = grown;
	return 0;
}

static int add_pids(struct redtap_config *c, const char *v, const struct src *s)
{
	return each_item(c, v, s, add_pid);
}

static int add_port(struct redtap_config *c, const char *v, const struct src *s)
{
	uint64_t n = 0;
	uint16_t *grown;
	int err = get_number(v, 1, 65535, &n, s);

	if (err)
		return err;
	for (size_t i = 0; i < c->nports; i++) {
		if (c->ports[i] == n)
			return 0;
	}
	grown = reallocarray(c->ports, c->nports + 1, sizeof(*grown));
	if (!grown)
		return fail_nomem(s);
	grown[c->nports++] = (uint16_t)n;
	c->ports = grown;
	return 0;
}

static int add_ports(struct redtap_config *c, const char *v, const struct src *s)
{
	return each_item(c, v, s, add_port);
}

static int add_exe(struct redtap_config *c, const char *v, const struct src *s)
{
	if (!*v)
		return fail(s, "the pattern is empty");
	/* A pattern that starts with a plain name can never match an absolute path. */
	if (!strchr("/*?[", v[0]))
		return fail(s,
			    "'%s' never matches: patterns match the whole executable path, "
			    "as '*/%s'",
			    v, v);
	return add_string(&c->exe_globs, &c->nexe_globs, v, s);
}

static int add_route(struct redtap_config *c, const char *v, const struct src *s)
{
	const char *p;

	if (v[0] != '/')
		return fail(s, "'%s' must start with '/'", v);
	for (p = v; *p; p++) {
		if (isspace((unsigned char)*p) || iscntrl((unsigned char)*p))
			return fail(s, "'%s' contains a space or control character", v);
		if (*p == '}')
			return fail(s, "'%s' has a '}' without '{'", v);
		if (*p == '{') {
			size_t n = strspn(p + 1, "abcdefghijklmnopqrstuvwxyz"
						 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.");
			if (p[1 + n] != '}')
				return fail(s, "'%s' has an unclosed or invalid '{name}'", v);
			if (n == 0)
				return fail(s, "'%s' has an empty '{}'", v);
			p += n + 1;
		}
	}
	return add_string(&c->routes, &c->nroutes, v, s);
}

static int set_max_series(struct redtap_config *c, const char *v, const struct src *s)
{
	uint64_t n = 0;
	int err = get_number(v, 1, MAX_SERIES_MAX, &n, s);

	if (!err)
		c->max_series = (uint32_t)n;
	return err;
}

static int set_series_ttl(struct redtap_config *c, const char *v, const struct src *s)
{
	uint64_t n = 0;
	int err = get_number(v, 0, SERIES_TTL_MAX, &n, s);

	if (!err)
		c->series_ttl_s = (uint32_t)n;
	return err;
}

static int set_conns_per_ip(struct redtap_config *c, const char *v, const struct src *s)
{
	uint64_t n = 0;
	int err = get_number(v, 1, 65535, &n, s);

	if (!err)
		c->metrics_max_conns_per_ip = (uint32_t)n;
	return err;
}

/* A file name the agent reads at start-up ("" = none). */
static int set_file(char *dst, size_t size, const char *v, const struct src *s)
{
	if (strlen(v) >= size)
		return fail(s, "the path is too long");
	strcpy(dst, v);
	return 0;
}

static int set_tls_cert(struct redtap_config *c, const char *v, const struct src *s)
{
	return set_file(c->metrics_tls_cert, sizeof(c->metrics_tls_cert), v, s);
}

static int set_tls_key(struct redtap_config *c, const char *v, const struct src *s)
{
	return set_file(c->metrics_tls_key, sizeof(c->metrics_tls_key), v, s);
}

static int set_token_file(struct redtap_config *c, const char *v, const struct src *s)
{
	return set_file(c->metrics_token_file, sizeof(c->metrics_token_file), v, s);
}

static int set_capture(struct redtap_config *c, const char *v, const struct src *s)
{
	uint64_t n = 0;
	int err = get_number(v, CAPTURE_MIN, RT_CAPTURE_MAX, &n, s);

	if (!err)
		c->capture_bytes = (uint32_t)n;
	return err;
}

/* 0 (the kernel's slice) or LOOP_SLICE_MIN..LOOP_SLICE_MAX microseconds: the range the
 * kernel keeps, so that what is asked is what runs (it would round 1..99 up). */
static int set_loop_slice(struct redtap_config *c, const char *v, const struct src *s)
{
	uint64_t n = 0;
	int err = get_number(v, 0, UINT32_MAX, &n, s);

	if (err)
		return err;
	if (n && (n < LOOP_SLICE_MIN || n > LOOP_SLICE_MAX))
		return fail(s, "%s is neither 0 nor in range %u..%u (microseconds)", v,
			    LOOP_SLICE_MIN, LOOP_SLICE_MAX);
	c->loop_slice_us = (uint32_t)n;
	return 0;
}

static int set_ringbuf(struct redtap_config *c, const char *v, const struct src *s)
{
	uint64_t n = 0;
	int err;

	if (!strcmp(v, "auto")) {
		c->ringbuf_bytes = 0;
		return 0;
	}
	err = config_parse_size(v, &n);
	if (err == -EINVAL)
		return fail(s, "'%s' is not a size (a number with an optional K, M or G) nor auto",
			    v);
	if (err || n < RINGBUF_MIN || n > RINGBUF_MAX)
		return fail(s, "%s is out of range 64K..1G", v);
	if (n & (n - 1))
		return fail(s, "%s is not a power of two", v);
	c->ringbuf_bytes = (uint32_t)n;
	return 0;
}

static int set_shim(struct redtap_config *c, const char *v, const struct src *s)
{
	if (!*v)
		return fail(s, "the path is empty");
	if (strlen(v) >= sizeof(c->shim_path))
		return fail(s, "the path is too long");
	if (v[strcspn(v, ": \t\n")])
		return fail(s, "'%s' contains ':' or a space, which LD_PRELOAD cannot carry", v);
	strcpy(c->shim_path, v);
	return 0;
}

static int set_no_bpf(struct redtap_config *c, const char *v, const struct src *s)
{
	if (parse_bool(v, &c->no_bpf))
		return fail(s, "'%s' is not true or false", v);
	return 0;
}

static int set_log_level(struct redtap_config *c, const char *v, const struct src *s)
{
	enum log_level lvl;

	if (v[0] >= '0' && v[0] <= '3' && !v[1]) {
		c->log_level = v[0] - '0';
		return 0;
	}
	if (log_level_parse(v, &lvl))
		return fail(s, "'%s' is not one of error, warn, info, debug", v);
	c->log_level = (int)lvl;
	return 0;
}

static int set_log_format(struct redtap_config *c, const char *v, const struct src *s)
{
	if (strcmp(v, "text") && strcmp(v, "json"))
		return fail(s, "'%s' is not one of text, json", v);
	c->log_json = !strcmp(v, "json");
	return 0;
}

static int set_verbose(struct redtap_config *c, const char *v, const struct src *s)
{
	(void)v;
	(void)s;
	c->log_level = LOG_LVL_DEBUG;
	return 0;
}

/* ---- generic setters: the row's CONFIG_FIELD says where the value goes ------------------- */

static void *field(struct redtap_config *c, const struct src *s)
{
	return (char *)c + s->st->off;
}

/* A string that fits the field. */
static int set_text(struct redtap_config *c, const char *v, const struct src *s)
{
	if (strlen(v) >= s->st->size)
		return fail(s, "longer than %zu bytes", s->st->size - 1);
	memcpy(field(c, s), v, strlen(v) + 1);
	return 0;
}

/* set_text, "none" being "". */
static int set_text_or_none(struct redtap_config *c, const char *v, const struct src *s)
{
	return set_text(c, strcmp(v, "none") ? v : "", s);
}

/* Seconds, 1..86400, into a uint32_t field. */
static int set_seconds(struct redtap_config *c, const char *v, const struct src *s)
{
	uint64_t n = 0;
	int err = get_number(v, 1, 86400, &n, s);

	if (!err)
		*(uint32_t *)field(c, s) = (uint32_t)n;
	return err;
}

static int set_bool(struct redtap_config *c, const char *v, const struct src *s)
{
	if (parse_bool(v, field(c, s)))
		return fail(s, "'%s' is not true or false", v);
	return 0;
}

/* A whole number with optional spaces around it (as OpenTelemetry SDKs accept). */
static int get_spaced_number(const char *v, uint64_t lo, uint64_t hi, uint64_t *n,
			     const struct src *s)
{
	char buf[32];
	const char *b = v, *e = v + strlen(v);

	while (isspace((unsigned char)*b))
		b++;
	while (e > b && isspace((unsigned char)e[-1]))
		e--;
	if ((size_t)(e - b) >= sizeof(buf))
		return fail(s, "'%s' is out of range %" PRIu64 "..%" PRIu64, v, lo, hi);
	memcpy(buf, b, (size_t)(e - b));
	buf[e - b] = '\0';
	return get_number(buf, lo, hi, n, s);
}

/* Milliseconds, 1..UINT_MAX, into an unsigned field. */
static int set_ms(struct redtap_config *c, const char *v, const struct src *s)
{
	uint64_t n = 0;
	int err = get_spaced_number(v, 1, UINT_MAX, &n, s);

	if (!err)
		*(unsigned *)field(c, s) = (unsigned)n;
	return err;
}

/* A span count, 1..2^24, into a size_t field. */
static int set_count(struct redtap_config *c, const char *v, const struct src *s)
{
	uint64_t n = 0;
	int err = get_spaced_number(v, 1, 1u << 24, &n, s);

	if (!err)
		*(size_t *)field(c, s) = (size_t)n;
	return err;
}

/* gzip or none (any case) into *out; -EINVAL otherwise. */
static int parse_compression(const char *v, enum otlp_compression *out)
{
	if (!strcasecmp(v, "gzip"))
		*out = OTLP_COMPRESSION_GZIP;
	else if (!strcasecmp(v, "none"))
		*out = OTLP_COMPRESSION_NONE;
	else
		return -EINVAL;
	return 0;
}

/* A per-signal compression, into an enum otlp_compression field. */
static int set_compression(struct redtap_config *c, const char *v, const struct src *s)
{
	if (parse_compression(v, field(c, s)))
		return fail(s, "'%s' is not one of gzip, none", v);
	return 0;
}

/* Checks that v is an http:// or https:// URL of at most max characters. */
static int check_url(const char *v, size_t max, const struct src *s)
{
	if (!otlp_url_valid(v) || strlen(v) > max)
		return fail(s,
			    "\"%s\" is not a valid endpoint: use an http:// or https:// URL of at "
			    "most %zu characters",
			    v, max);
	return 0;
}

/* A URL that fits the field, used as is. */
static int set_url(struct redtap_config *c, const char *v, const struct src *s)
{
	int err = check_url(v, s->st->size - 1, s);

	return err ? err : set_text(c, v, s);
}

/* A header list, stored decoded; dropped members are warned about. */
static int set_headers(struct redtap_config *c, const char *v, const struct src *s)
{
	otlp_headers_decode(v, field(c, s), s->st->size, s->what);
	return 0;
}

static int set_exporter(struct redtap_config *c, const char *v, const struct src *s)
{
	*(enum otlp_exporter_choice *)field(c, s) = otlp_exporter_parse(v, s->what);
	return 0;
}

/* ---- setters of one setting each --------------------------------------------------------- */

/* The base endpoint: /v1/metrics is appended to it, so it must leave room. */
static int set_otlp_endpoint(struct redtap_config *c, const char *v, const struct src *s)
{
	int err = check_url(v, OTLP_BASE_URL_MAX, s);

	if (!err)
		strcpy(c->otlp_endpoints.endpoint, v);
	return err;
}

/* The generic compression: the exporter's gzip flag. */
static int set_gzip(struct redtap_config *c, const char *v, const struct src *s)
{
	enum otlp_compression comp;

	if (parse_compression(v, &comp))
		return fail(s, "'%s' is not one of gzip, none", v);
	c->otlp.gzip = comp == OTLP_COMPRESSION_GZIP;
	return 0;
}

static int set_sampler(struct redtap_config *c, const char *v, const struct src *s)
{
	struct sampler tmp;

	if (sampler_parse(&tmp, v, NULL, NULL, 0))
		return fail(s,
			    "unknown sampler '%s' (use always_on, always_off, traceidratio or "
			    "their parentbased_ forms)",
			    v);
	c->sampler.root = tmp.root;
	c->sampler.parent_based = tmp.parent_based;
	return 0;
}

static int set_sampler_arg(struct redtap_config *c, const char *v, const struct src *s)
{
	struct sampler tmp;

	if (sampler_parse(&tmp, "traceidratio", v, NULL, 0))
		return fail(s, "'%s' is not a ratio between 0 and 1", v);
	c->sampler.ratio = tmp.ratio;
	return 0;
}

static int set_traces_slow(struct redtap_config *c, const char *v, const struct src *s)
{
	uint64_t ns = 0;
	const char *routes;

	if (tracer_parse_slow(v, &ns, &routes))
		return fail(s, "'%s' is not MS[,/route=MS...] (e.g. 1000,/checkout=250)", v);
	return set_text(c, v, s);
}

/* A ratio 0..1 (0 excluded when above_zero) into a double field. */
static int put_ratio(struct redtap_config *c, const char *v, bool above_zero, const struct src *s)
{
	char *end;
	double d = strtod(v, &end);

	if (end == v || *end || !(d >= 0 && d <= 1) || (above_zero && d == 0))
		return fail(s, "'%s' is not a ratio %s 0 and 1", v,
			    above_zero ? "above" : "between");
	*(double *)field(c, s) = d;
	return 0;
}

static int set_ratio(struct redtap_config *c, const char *v, const struct src *s)
{
	return put_ratio(c, v, false, s);
}

static int set_floor(struct redtap_config *c, const char *v, const struct src *s)
{
	return put_ratio(c, v, true, s);
}

/* The adaptive rates' window: 1..3600 seconds into a uint32_t field. */
static int set_window(struct redtap_config *c, const char *v, const struct src *s)
{
	uint64_t n = 0;
	int err = get_spaced_number(v, 1, 3600, &n, s);

	if (!err)
		*(uint32_t *)field(c, s) = (uint32_t)n;
	return err;
}

/* Spans per second per node: 0 (no cap)..10000000 into a uint32_t field. */
static int set_budget(struct redtap_config *c, const char *v, const struct src *s)
{
	uint64_t n = 0;
	int err = get_spaced_number(v, 0, 10000000, &n, s);

	if (!err)
		*(uint32_t *)field(c, s) = (uint32_t)n;
	return err;
}

static int set_header_attrs(struct redtap_config *c, const char *v, const struct src *s)
{
	size_t n;

	if (!strcmp(v, "none"))
		v = "";
	if (tracer_parse_header_attrs(v, NULL, NULL, &n))
		return fail(s,
			    "'%s' is not Header=key[,Header=key...] (at most %d, e.g. "
			    "X-Tenant-ID=tenant)",
			    v, HTTP1_CAPTURE_MAX);
	return set_text(c, v, s);
}

static int set_baggage_attrs(struct redtap_config *c, const char *v, const struct src *s)
{
	size_t n;

	if (!strcmp(v, "none"))
		v = "";
	if (tracer_parse_header_attrs(v, NULL, NULL, &n))
		return fail(s,
			    "'%s' is not entry=key[,entry=key...] (at most %d, e.g. "
			    "tenant_id=tenant)",
			    v, HTTP1_CAPTURE_MAX);
	return set_text(c, v, s);
}

static int set_attr_labels(struct redtap_config *c, const char *v, const struct src *s)
{
	size_t n;

	if (!strcmp(v, "none"))
		v = "";
	if (reqlabels_parse(v, NULL, &n))
		return fail(s,
			    "'%s' is not key=allow:v1|v2 or key=buckets:N[,...] (at most %d, "
			    "N at most %d, e.g. tenant=buckets:64,channel=allow:web|mobile)",
			    v, REQLABELS_MAX, REQLABELS_BUCKETS_MAX);
	return set_text(c, v, s);
}

static int set_critical_header(struct redtap_config *c, const char *v, const struct src *s)
{
	if (!strcmp(v, "none"))
		v = "";
	if (tracer_parse_critical_header(v, NULL, NULL))
		return fail(s,
			    "'%s' is not Header=value (e.g. X-Priority=high; a value of 1..%d "
			    "visible characters)",
			    v, HTTP1_CAPTURE_VALUE - 1);
	return set_text(c, v, s);
}

static int add_critical(struct redtap_config *c, const char *v, const struct src *s)
{
	if (v[0] != '/')
		return fail(s, "'%s' must start with '/'", v);
	return add_string(&c->critical_routes, &c->ncritical, v, s);
}

static int add_criticals(struct redtap_config *c, const char *v, const struct src *s)
{
	return each_item(c, v, s, add_critical);
}

/* A log file glob (logfiles.h): absolute, bounded, at most LOGFILES_GLOBS. */
static int add_logfile(struct redtap_config *c, const char *v, const struct src *s)
{
	if (v[0] != '/')
		return fail(s, "'%s' is not an absolute path glob like /var/log/app/*.log", v);
	if (strlen(v) >= LOGFILES_PATH_MAX)
		return fail(s, "'%.32s...' is longer than %d bytes", v, LOGFILES_PATH_MAX - 1);
	if (c->nlogs_files >= LOGFILES_GLOBS)
		return fail(s, "more than %d globs", LOGFILES_GLOBS);
	return add_string(&c->logs_files, &c->nlogs_files, v, s);
}

static int add_logfiles(struct redtap_config *c, const char *v, const struct src *s)
{
	return strcmp(v, "none") ? each_item(c, v, s, add_logfile) : 0;
}

static int set_shim_ring(struct redtap_config *c, const char *v, const struct src *s)
{
	if (v[0] != '/')
		return fail(s, "'%s' is not an absolute path", v);
	return set_text(c, v, s);
}

/* Shim records per second (or burst) per process: 0..1000000 into a uint32_t field. */
static int set_shim_rate(struct redtap_config *c, const char *v, const struct src *s)
{
	uint64_t n = 0;
	int err = get_spaced_number(v, 0, 1000000, &n, s);

	if (!err)
		*(uint32_t *)field(c, s) = (uint32_t)n;
	return err;
}

/* Bytes copied per log write or per HTTP/2 record: 16..RT_CAPTURE_MAX
 * into a uint32_t field. */
static int set_copy_bytes(struct redtap_config *c, const char *v, const struct src *s)
{
	uint64_t n = 0;
	int err = get_number(v, CAPTURE_MIN, RT_CAPTURE_MAX, &n, s);

	if (!err)
		*(uint32_t *)field(c, s) = (uint32_t)n;
	return err;
}

/* The Kubernetes labels of metrics: a list podmeta_parse_labels() takes. */
static int set_k8s_labels(struct redtap_config *c, const char *v, const struct src *s)
{
	unsigned mask;

	if (podmeta_parse_labels(v, &mask))
		return fail(s, "'%s' is not a list of namespace, workload, pod or none", v);
	return set_text(c, v, s);
}

static int set_shim_uids(struct redtap_config *c, const char *v, const struct src *s)
{
	if (shim_reporters_check(v, false))
		return fail(s, "'%s' is not a list of at most %d uids like 0,1000", v,
			    SHIM_REPORTERS_MAX);
	return set_text(c, v, s);
}

static int set_shim_cgroups(struct redtap_config *c, const char *v, const struct src *s)
{
	if (shim_reporters_check(v, true))
		return fail(s,
			    "'%s' is not a list of at most %d cgroup paths like "
			    "/system.slice/app.service",
			    v, SHIM_REPORTERS_MAX);
	return set_text(c, v, s);
}

/* Headings of the settings that have no option, in --help's ENVIRONMENT. */
#define K8S_SA_DIR   "/var/run/secrets/kubernetes.io/serviceaccount"
#define GROUP_OTLP   "Traces and metrics over OTLP/HTTP (the OpenTelemetry variables)"
#define GROUP_TRACES "Which traces are kept"
#define GROUP_SHIM   "The shim"
#define GROUP_LOGS   "Application logs (zero-code log capture)"

/* ---- the table --------------------------------------------------------------------------- */

/* clang-format off */
const struct setting settings[] = {
	{ .name = "config", .val = 'c', .kind = K_CONFIG, .arg = "FILE", .env = "REDTAP_CONFIG",
	  .def = "none", .run = true,
	  .help = "Read settings from the YAML file FILE." },
	{ .name = "listen", .val = 'l', .arg = "HOST:PORT", .key = "prometheus.listen",
	  .def = REDTAP_DEFAULT_LISTEN_HOST ":" XSTR(REDTAP_DEFAULT_LISTEN_PORT), .run = true,
	  .set = set_listen,
	  .help = "Serve Prometheus metrics at http://HOST:PORT/metrics. :PORT\n"
		  "changes only the port. Write IPv6 in brackets, as [::1]:9464;\n"
		  "0.0.0.0:PORT or [::]:PORT listens on all interfaces." },
	{ .val = 'l', .env = "OTEL_EXPORTER_PROMETHEUS_HOST", .set = set_host,
	  .help = "the HOST of --listen; IPv6 as ::1 or [::1]" },
	{ .val = 'l', .env = "OTEL_EXPORTER_PROMETHEUS_PORT", .set = set_port,
	  .help = "the PORT of --listen" },
	{ .name = "metrics-token-file", .val = OPT_METRICS_TOKEN, .arg = "FILE",
	  .env = "REDTAP_METRICS_TOKEN_FILE", .key = "prometheus.token_file", .def = "none",
	  .set = set_token_file,
	  .help = "/metrics answers 401 unless the request carries\n"
		  "'Authorization: Bearer TOKEN', TOKEN being the first line of FILE\n"
		  "(keep it mode 0600). /healthz stays open." },
	{ .name = "metrics-tls-cert", .val = OPT_METRICS_TLS_CERT, .arg = "FILE",
	  .env = "REDTAP_METRICS_TLS_CERT", .key = "prometheus.tls_cert", .def = "none",
	  .set = set_tls_cert,
	  .help = "Serve /metrics over HTTPS with this PEM certificate (chain)." },
	{ .name = "metrics-tls-key", .val = OPT_METRICS_TLS_KEY, .arg = "FILE",
	  .env = "REDTAP_METRICS_TLS_KEY", .key = "prometheus.tls_key", .def = "none",
	  .set = set_tls_key,
	  .help = "The PEM private key of --metrics-tls-cert." },
	{ .name = "metrics-conns-per-ip", .val = OPT_METRICS_CONNS_PER_IP, .arg = "N",
	  .env = "REDTAP_METRICS_CONNS_PER_IP", .key = "prometheus.max_connections_per_ip",
	  .def = XSTR(REDTAP_DEFAULT_CONNS_PER_IP), .set = set_conns_per_ip,
	  .help = "Most open /metrics connections from one non-loopback address;\n"
		  "further ones are closed at once. 1..65535." },
	{ .name = "pid", .val = 'p', .arg = "PID[,PID...]", .key = "select.pids",
	  .def = "none", .list = LIST_PIDS, .set = add_pids,
	  .help = "Measure process PID. Repeatable." },
	{ .name = "exe", .val = 'e', .arg = "GLOB", .key = "select.executables", .def = "none",
	  .list = LIST_EXES, .set = add_exe,
	  .help = "Measure the processes whose executable path matches the\n"
		  "fnmatch(3) pattern GLOB, as '/usr/sbin/nginx' or '*/python3*'.\n"
		  "Repeatable." },
	{ .name = "port", .val = OPT_PORT, .arg = "PORT[,PORT...]", .key = "select.ports",
	  .def = "none", .list = LIST_PORTS, .set = add_ports,
	  .help = "Measure the processes that listen on TCP port PORT. Repeatable." },
	{ .name = "route", .val = 'r', .arg = "PATTERN", .key = "routes", .def = "none",
	  .list = LIST_ROUTES, .set = add_route,
	  .help = "Report paths that match PATTERN, as '/users/{id}', with PATTERN\n"
		  "as their http.route; {name} stands for one path segment.\n"
		  "Repeatable. Other paths get an automatically normalised route." },
	{ .name = "max-series", .val = OPT_MAX_SERIES, .arg = "N", .env = "REDTAP_MAX_SERIES",
	  .key = "limits.max_series", .def = XSTR(REDTAP_DEFAULT_MAX_SERIES),
	  .set = set_max_series,
	  .help = "Most label sets kept per metric; further ones are counted in\n"
		  "one overflow series. 1.." XSTR(MAX_SERIES_MAX) "." },
	{ .name = "series-ttl", .val = OPT_SERIES_TTL, .arg = "SECONDS", .env = "REDTAP_SERIES_TTL",
	  .key = "limits.series_ttl", .def = XSTR(REDTAP_DEFAULT_SERIES_TTL_S),
	  .set = set_series_ttl,
	  .help = "Drop a label set not observed for SECONDS (as Prometheus marks\n"
		  "it stale after 5 minutes); it starts again from zero when seen\n"
		  "again. 0 keeps every series until restart. 0.." XSTR(SERIES_TTL_MAX) "." },
	{ .name = "k8s-labels", .val = OPT_K8S_LABELS, .arg = "LIST", .env = "REDTAP_K8S_LABELS",
	  .key = "limits.k8s_labels", .def = PODMETA_DEFAULT_LABELS, .set = set_k8s_labels,
	  CONFIG_FIELD(k8s_labels),
	  .help = "Kubernetes labels on the HTTP and database metrics of processes\n"
		  "in pods: a comma-separated list of namespace (k8s_namespace_name),\n"
		  "workload (k8s_deployment_name or k8s_statefulset_name) and pod\n"
		  "(k8s_pod_name: pod names churn and multiply series), or none.\n"
		  "A label is left out when unknown." },
	{ .env = "REDTAP_K8S_PODS_URL", .key = "k8s.pods_url", .def = "none",
	  .set = set_text_or_none, CONFIG_FIELD(k8s_pods_url),
	  .help = "Optional pod list for the app label and\n"
		  "the owner workload: the kubelet\n"
		  "(https://NODE:10250/pods) or the API\n"
		  "server (.../api/v1/pods?fieldSelector=\n"
		  "spec.nodeName=NODE). Off by default; the\n"
		  "agent works unchanged when it is down." },
	{ .env = "REDTAP_K8S_TOKEN_FILE", .key = "k8s.token_file", .def = "SA/token",
	  .set = set_text_or_none, CONFIG_FIELD(k8s_token_file),
	  .help = "Bearer token for k8s.pods_url, re-read\n"
		  "on each fetch, sent over https only.\n"
		  "SA is /var/run/secrets/kubernetes.io/\n"
		  "serviceaccount." },
	{ .env = "REDTAP_K8S_CA_FILE", .key = "k8s.ca_file", .def = "SA/ca.crt",
	  .set = set_text_or_none, CONFIG_FIELD(k8s_ca_file),
	  .help = "CA certificates that k8s.pods_url's\n"
		  "server certificate must chain to (the\n"
		  "system's when the file is missing)." },
	{ .env = "REDTAP_K8S_REFRESH", .key = "k8s.refresh", .def = "30",
	  .set = set_seconds, CONFIG_FIELD(k8s_refresh_s),
	  .help = "Seconds between two fetches of the pod\n"
		  "list. 1..86400." },
	{ .name = "capture-bytes", .val = OPT_CAPTURE, .arg = "N", .env = "REDTAP_CAPTURE_BYTES",
	  .key = "capture.bytes", .def = XSTR(RT_CAPTURE_DEFAULT), .set = set_capture,
	  .help = "Bytes of each read or written buffer that the kernel copies for\n"
		  "parsing (request line, headers, queries). " XSTR(CAPTURE_MIN) ".." XSTR(
			  RT_CAPTURE_MAX) "." },
	{ .env = "REDTAP_CAPTURE_HTTP2_BYTES", .key = "capture.http2_bytes",
	  .def = XSTR(RT_H2_CAPTURE_DEFAULT), .set = set_copy_bytes,
	  CONFIG_FIELD(http2_capture_bytes),
	  .help = "Bytes of each buffer copied on HTTP/2\n"
		  "and gRPC connections, whose writes carry\n"
		  "many frames (capture.bytes when that is\n"
		  "more): from the preface on, or from when\n"
		  "the agent classifies an older connection.\n"
		  XSTR(CAPTURE_MIN) ".." XSTR(RT_CAPTURE_MAX) "." },
	{ .env = "REDTAP_OWN_TRAFFIC", .key = "capture.own_traffic", .def = "false",
	  .set = set_bool, CONFIG_FIELD(own_traffic),
	  .help = "true: also trace the other end of the\n"
		  "agent's own connections (a selected OTLP\n"
		  "collector on this node receiving its\n"
		  "export); by default they are left out." },
	{ .env = "REDTAP_SCHED_BATCH", .key = "capture.sched_batch", .def = "true",
	  .set = set_bool, CONFIG_FIELD(sched_batch),
	  .help = "true: the event loop (the ring buffer's\n"
		  "reader) runs as SCHED_BATCH, so that its\n"
		  "wake-ups never preempt the observed\n"
		  "processes; the ring buffer absorbs the\n"
		  "wait. false: the default policy." },
	{ .env = "REDTAP_LOOP_SLICE_US", .key = "capture.loop_slice_us", .def = "0",
	  .set = set_loop_slice,
	  .help = "The event loop's time slice in\n"
		  "microseconds (Linux 6.12 or later:\n"
		  "sched_setattr's sched_runtime for a fair\n"
		  "task): a process that wakes on the loop's\n"
		  "CPU may preempt it after that long. 0: the\n"
		  "kernel's slice; else " XSTR(LOOP_SLICE_MIN) ".." XSTR(LOOP_SLICE_MAX) ". Older\n"
		  "kernels ignore it." },
	{ .name = "ringbuf-size", .val = OPT_RINGBUF, .arg = "SIZE", .key = "capture.ringbuf_size",
	  .def = "auto", .set = set_ringbuf,
	  .help = "Size of the eBPF ring buffers, all together: a power of\n"
		  "two from 64K to 1G, with an optional suffix K, M or G (powers\n"
		  "of 1024). There is one ring per CPU (at most 16), each its\n"
		  "share rounded down to a power of two, and at least 64K.\n"
		  "auto: 1M a ring on one or two CPUs, 512K from three; the\n"
		  "daemon maps rings of up to 2M/CPUs (1M at most) whole,\n"
		  "larger ones through a moving window, which costs CPU." },
	{ .name = "shim", .val = OPT_SHIM, .arg = "PATH", .env = "REDTAP_SHIM", .key = "shim.path",
	  .def = REDTAP_SHIM_DEFAULT_PATH, .run = true, .set = set_shim,
	  .help = "The LD_PRELOAD library that 'redtap run' injects." },
	{ .name = "no-bpf", .val = OPT_NO_BPF, .kind = K_FLAG, .key = "shim.no_bpf", .def = "off",
	  .run = true, .set = set_no_bpf,
	  .help = "Shim-only mode: load no eBPF programs and need no root. Only\n"
		  "programs started by 'redtap run' (or with LD_PRELOAD) are seen." },
	{ .name = "log-level", .val = OPT_LOG_LEVEL, .arg = "LEVEL", .env = "REDTAP_LOG_LEVEL",
	  .key = "log.level", .def = "info", .run = true, .set = set_log_level,
	  .help = "Log threshold: error, warn, info or debug (or 0..3)." },
	{ .name = "log-format", .val = OPT_LOG_FORMAT, .arg = "FORMAT", .key = "log.format",
	  .def = "text", .run = true, .set = set_log_format,
	  .help = "Log lines as text, or as json: one JSON object per line." },
	{ .name = "verbose", .val = 'v', .kind = K_FLAG, .run = true, .set = set_verbose,
	  .help = "Log at debug level; the same as --log-level debug." },
	{ .name = "help", .val = 'h', .kind = K_HELP, .run = true,
	  .help = "Print this help and exit." },
	{ .name = "version", .val = 'V', .kind = K_VERSION, .run = true,
	  .help = "Print the version and exit." },

	/* Settings without an option: OTLP export (the OpenTelemetry variables). */
#define OTLP_SIGNAL_ROWS(SIG, sig, idx, field_headers, field_timeout, field_comp)                \
	{ .env = "OTEL_" SIG "_EXPORTER", .key = "otlp." sig ".exporter", .def = "otlp",        \
	  .group = GROUP_OTLP, .set = set_exporter,                                                   \
	  CONFIG_FIELD(otlp_endpoints.signal[idx].exporter),                                      \
	  .help = "otlp, or none to send no " sig "." },                                          \
	{ .env = "OTEL_EXPORTER_OTLP_" SIG "_ENDPOINT", .key = "otlp." sig ".endpoint",           \
	  .def = "none", .group = GROUP_OTLP, .set = set_url,                                        \
	  CONFIG_FIELD(otlp_endpoints.signal[idx].endpoint),                                      \
	  .help = "The URL for " sig ", used as is (nothing appended)." },                        \
	{ .env = "OTEL_EXPORTER_OTLP_" SIG "_PROTOCOL", .key = "otlp." sig ".protocol",           \
	  .def = "as otlp.protocol", .group = GROUP_OTLP, .set = set_text,                              \
	  CONFIG_FIELD(otlp_endpoints.signal[idx].protocol),                                      \
	  .help = "The protocol for " sig "; only http/protobuf." },                              \
	{ .env = "OTEL_EXPORTER_OTLP_" SIG "_HEADERS", .key = "otlp." sig ".headers",             \
	  .def = "as otlp.headers", .group = GROUP_OTLP, .set = set_headers, CONFIG_FIELD(field_headers),\
	  .help = "The headers of " sig " requests, instead of otlp.headers." },                  \
	{ .env = "OTEL_EXPORTER_OTLP_" SIG "_TIMEOUT", .key = "otlp." sig ".timeout_ms",          \
	  .def = "as otlp.timeout_ms", .group = GROUP_OTLP, .set = set_ms, .lenient = true,             \
	  CONFIG_FIELD(field_timeout),                                                            \
	  .help = "Milliseconds one " sig " request may take." },                                 \
	{ .env = "OTEL_EXPORTER_OTLP_" SIG "_COMPRESSION", .key = "otlp." sig ".compression",     \
	  .def = "as otlp.compression", .group = GROUP_OTLP, .set = set_compression, .lenient = true,   \
	  CONFIG_FIELD(field_comp),                                                               \
	  .help = "gzip or none for " sig " requests." }
	{ .env = "OTEL_SDK_DISABLED", .key = "otlp.disabled", .def = "false", .group = GROUP_OTLP,
	  .set = set_bool, .lenient = true, CONFIG_FIELD(otlp_endpoints.disabled),
	  .help = "true turns all OTLP export off." },
	{ .env = "OTEL_EXPORTER_OTLP_ENDPOINT", .key = "otlp.endpoint", .def = "none",
	  .group = GROUP_OTLP, .set = set_otlp_endpoint,
	  .help = "Base URL of the OTLP/HTTP receiver; /v1/traces and /v1/metrics\n"
		  "are appended. With no endpoint at all nothing is exported." },
	{ .env = "OTEL_EXPORTER_OTLP_PROTOCOL", .key = "otlp.protocol", .def = "http/protobuf",
	  .group = GROUP_OTLP, .set = set_text, CONFIG_FIELD(otlp_endpoints.protocol),
	  .help = "Only http/protobuf is supported." },
	{ .env = "OTEL_EXPORTER_OTLP_HEADERS", .key = "otlp.headers", .def = "none",
	  .group = GROUP_OTLP, .set = set_headers, CONFIG_FIELD(otlp.headers),
	  .help = "HTTP headers of every request: key=value,key2=value2, values\n"
		  "percent-encoded." },
	{ .env = "OTEL_EXPORTER_OTLP_TIMEOUT", .key = "otlp.timeout_ms", .def = "10000",
	  .group = GROUP_OTLP, .set = set_ms, .lenient = true, CONFIG_FIELD(otlp.timeout_ms),
	  .help = "Milliseconds one request may take." },
	{ .env = "OTEL_EXPORTER_OTLP_COMPRESSION", .key = "otlp.compression", .def = "none",
	  .group = GROUP_OTLP, .set = set_gzip, .lenient = true,
	  .help = "gzip or none." },
	{ .env = "OTEL_RESOURCE_ATTRIBUTES", .key = "otlp.resource_attributes", .def = "none",
	  .group = GROUP_OTLP, .set = set_text, .lenient = true, CONFIG_FIELD(otlp.resource_attrs),
	  .help = "key=value,... added to every exported resource." },
	OTLP_SIGNAL_ROWS("TRACES", "traces", OTLP_TRACES, otlp.traces_headers,
			 otlp.traces_timeout_ms, otlp.traces_compression),
	{ .env = "OTEL_BSP_SCHEDULE_DELAY", .key = "otlp.traces.batch_delay_ms", .def = "5000",
	  .group = GROUP_OTLP, .set = set_ms, .lenient = true, CONFIG_FIELD(otlp.batch_delay_ms),
	  .help = "Most milliseconds a span waits for its batch." },
	{ .env = "OTEL_BSP_EXPORT_TIMEOUT", .key = "otlp.traces.export_timeout_ms",
	  .def = "30000", .group = GROUP_OTLP, .set = set_ms, .lenient = true,
	  CONFIG_FIELD(otlp.batch_export_timeout_ms),
	  .help = "Milliseconds one batch may take, retries included." },
	{ .env = "OTEL_BSP_MAX_QUEUE_SIZE", .key = "otlp.traces.max_queue_size", .def = "2048",
	  .group = GROUP_OTLP, .set = set_count, .lenient = true, CONFIG_FIELD(otlp.queue_max_spans),
	  .help = "Spans queued for export; when full the oldest is dropped." },
	{ .env = "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", .key = "otlp.traces.max_batch_size",
	  .def = "512", .group = GROUP_OTLP, .set = set_count, .lenient = true,
	  CONFIG_FIELD(otlp.batch_max_spans),
	  .help = "Most spans per request; at most the queue size." },
	OTLP_SIGNAL_ROWS("METRICS", "metrics", OTLP_METRICS, otlp.metrics_headers,
			 otlp.metrics_timeout_ms, otlp.metrics_compression),
	OTLP_SIGNAL_ROWS("LOGS", "logs", OTLP_LOGS, otlp.logs_headers,
			 otlp.logs_timeout_ms, otlp.logs_compression),
	{ .env = "OTEL_BLRP_SCHEDULE_DELAY", .key = "otlp.logs.batch_delay_ms", .def = "1000",
	  .group = GROUP_OTLP, .set = set_ms, .lenient = true, CONFIG_FIELD(otlp.logs_delay_ms),
	  .help = "Most milliseconds a log record waits for its batch." },
	{ .env = "OTEL_BLRP_EXPORT_TIMEOUT", .key = "otlp.logs.export_timeout_ms",
	  .def = "30000", .group = GROUP_OTLP, .set = set_ms, .lenient = true,
	  CONFIG_FIELD(otlp.logs_export_timeout_ms),
	  .help = "Milliseconds one batch of log records may take, retries\n"
		  "included." },
	{ .env = "OTEL_BLRP_MAX_QUEUE_SIZE", .key = "otlp.logs.max_queue_size", .def = "2048",
	  .group = GROUP_OTLP, .set = set_count, .lenient = true, CONFIG_FIELD(otlp.queue_max_logs),
	  .help = "Log records queued for export; when full the oldest is\n"
		  "dropped and counted." },
	{ .env = "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", .key = "otlp.logs.max_batch_size",
	  .def = "512", .group = GROUP_OTLP, .set = set_count, .lenient = true,
	  CONFIG_FIELD(otlp.batch_max_logs),
	  .help = "Most log records per request; at most the queue size." },
	{ .env = "OTEL_METRIC_EXPORT_INTERVAL", .key = "otlp.metrics.interval_ms",
	  .def = "60000", .group = GROUP_OTLP, .set = set_ms, .lenient = true,
	  CONFIG_FIELD(otlp.metric_interval_ms),
	  .help = "Milliseconds between two pushes of every metric." },
	{ .env = "OTEL_METRIC_EXPORT_TIMEOUT", .key = "otlp.metrics.export_timeout_ms",
	  .def = "30000", .group = GROUP_OTLP, .set = set_ms, .lenient = true,
	  CONFIG_FIELD(otlp.metric_export_timeout_ms),
	  .help = "Milliseconds one push may take, retries included." },
#undef OTLP_SIGNAL_ROWS

	/* Traces: which ones are kept. */
	{ .env = "OTEL_TRACES_SAMPLER", .key = "traces.sampler", .def = "parentbased_always_on",
	  .group = GROUP_TRACES, .set = set_sampler,
	  .help = "Head sampling: always_on, always_off, traceidratio, or\n"
		  "parentbased_ with one of them (follow the caller's decision)." },
	{ .env = "OTEL_TRACES_SAMPLER_ARG", .key = "traces.sampler_arg", .def = "1.0",
	  .group = GROUP_TRACES, .set = set_sampler_arg, .lenient = true,
	  .help = "The ratio of traceidratio, 0..1." },
	{ .env = "REDTAP_TRACES_SLOW_MS", .key = "traces.slow_ms",
	  .def = REDTAP_DEFAULT_TRACES_SLOW_MS, .group = GROUP_TRACES, .set = set_traces_slow,
	  CONFIG_FIELD(traces_slow),
	  .help = "Keep traces slower than MS even when not sampled; per route\n"
		  "too: 1000,/checkout=250." },
	{ .env = "REDTAP_TRACES_CRITICAL_ROUTES", .key = "traces.critical_routes", .def = "none",
	  .group = GROUP_TRACES, .list = LIST_CRITICAL, .set = add_criticals,
	  .help = "Keep the traces of these routes, at least the share\n"
		  "traces.critical_floor of them: /checkout,/pay." },
	{ .env = "REDTAP_TRACES_BAGGAGE_ATTRIBUTES", .key = "traces.baggage_attributes",
	  .def = "none", .group = GROUP_TRACES, .set = set_baggage_attrs,
	  CONFIG_FIELD(baggage_attrs),
	  .help = "Entries of the W3C baggage header that become attributes\n"
		  "like traces.header_attributes (the header's first 63\n"
		  "bytes; at most 4 attributes in all): tenant_id=tenant." },
	{ .env = "REDTAP_TRACES_ATTRIBUTE_LABELS", .key = "traces.attribute_labels",
	  .def = "none", .group = GROUP_TRACES, .set = set_attr_labels,
	  CONFIG_FIELD(attr_labels),
	  .help = "Request attributes that also label the HTTP duration\n"
		  "metrics, bounded: an allow-list (others: _other) or N\n"
		  "hashed buckets (label <key>_bucket, b0..bN-1); the rest\n"
		  "stay on spans: tenant=buckets:64,channel=allow:web|app." },
	{ .env = "REDTAP_TRACES_CRITICAL_HEADER", .key = "traces.critical_header",
	  .def = "none", .group = GROUP_TRACES, .set = set_critical_header,
	  CONFIG_FIELD(critical_header),
	  .help = "Requests whose header has this exact value are critical\n"
		  "too (HTTP/1.x): X-Priority=high." },
	{ .env = "REDTAP_TRACES_CRITICAL_FLOOR", .key = "traces.critical_floor", .def = "0.2",
	  .group = GROUP_TRACES, .set = set_floor, CONFIG_FIELD(critical_floor),
	  .help = "The share of a critical route's traces kept at least,\n"
		  "above 0 and at most 1 (1: all of them)." },
	{ .env = "REDTAP_TRACES_ERROR_RATIO", .key = "traces.error_ratio", .def = "0.005",
	  .group = GROUP_TRACES, .set = set_ratio, CONFIG_FIELD(error_ratio),
	  .help = "Keep more of a route's traces, rising to all of them,\n"
		  "while its error ratio over the window is above this;\n"
		  "0: off. The same for a p99 above the route's slow_ms." },
	{ .env = "REDTAP_TRACES_WINDOW_S", .key = "traces.window_s", .def = "60",
	  .group = GROUP_TRACES, .set = set_window, CONFIG_FIELD(sampling_window_s),
	  .help = "The sliding window (60 slots) of the adaptive rates,\n"
		  "1..3600 seconds." },
	{ .env = "REDTAP_TRACES_BUDGET", .key = "traces.budget", .def = "0",
	  .group = GROUP_TRACES, .set = set_budget, CONFIG_FIELD(span_budget),
	  .help = "Spans per second this node keeps at most, an equal share\n"
		  "per service; 0: no cap." },
	{ .env = "REDTAP_TRACES_HEADER_ATTRIBUTES", .key = "traces.header_attributes",
	  .def = "none", .group = GROUP_TRACES, .set = set_header_attrs,
	  CONFIG_FIELD(header_attrs),
	  .help = "Request headers that become span attributes of the request\n"
		  "and of its client and DB spans (HTTP/1.x; values cut at 63\n"
		  "bytes; at most 4): X-Tenant-ID=tenant,X-Channel=channel." },

	/* Shim-only mode, and what the shim reads in wrapped programs. */
	{ .env = "REDTAP_SHIM_RING", .key = "shim.ring",
	  .def = "/run/redtap/shim-ring for root",
	  .group = GROUP_SHIM, .set = set_shim_ring, CONFIG_FIELD(shim_ring),
	  .help = "The ring file of shim-only mode (--no-bpf); wrapped programs\n"
		  "must see the same path in REDTAP_SHIM_RING." },
	{ .env = "REDTAP_SHIM_RATE", .key = "shim.rate", .def = XSTR(REDTAP_DEFAULT_SHIM_RATE),
	  .group = GROUP_SHIM, .set = set_shim_rate, CONFIG_FIELD(shim_rate),
	  .help = "Shim records per second one process may send through the\n"
		  "kernel; more are dropped and counted. 0 turns the limit off." },
	{ .env = "REDTAP_SHIM_BURST", .key = "shim.burst", .def = XSTR(REDTAP_DEFAULT_SHIM_BURST),
	  .group = GROUP_SHIM, .set = set_shim_rate, CONFIG_FIELD(shim_burst),
	  .help = "Shim records one process may send at once above the rate." },
	{ .env = "REDTAP_SHIM_UID_RATE", .key = "shim.uid_rate",
	  .def = XSTR(REDTAP_DEFAULT_SHIM_UID_RATE),
	  .group = GROUP_SHIM, .set = set_shim_rate, CONFIG_FIELD(shim_uid_rate),
	  .help = "Shim records per second all processes of one uid may send\n"
		  "together (burst: shim.burst), so that many short-lived\n"
		  "processes cannot add up to a flood. 0 turns the limit off." },
	{ .env = "REDTAP_SHIM_UIDS", .key = "shim.uids", .def = "any",
	  .group = GROUP_SHIM, .set = set_shim_uids, CONFIG_FIELD(shim_uids),
	  .help = "Only these uids may report database calls: 0,1000. Records\n"
		  "of others are dropped and counted." },
	{ .env = "REDTAP_SHIM_CGROUPS", .key = "shim.cgroups", .def = "any",
	  .group = GROUP_SHIM, .set = set_shim_cgroups, CONFIG_FIELD(shim_cgroups),
	  .help = "Only processes in these cgroups (v2 paths, not their\n"
		  "children) may report: /system.slice/app.service." },
	{ .env = "OTEL_SERVICE_NAME", .kind = K_SHIM_ENV, .group = GROUP_SHIM,
	  .help = "In a wrapped program: the service name of its spans." },
	{ .env = "REDTAP_DISABLE", .kind = K_SHIM_ENV, .group = GROUP_SHIM,
	  .help = "In a wrapped program: 1 turns the shim off." },
	{ .env = "REDTAP_SHIM_TRANSPORT", .kind = K_SHIM_ENV, .group = GROUP_SHIM,
	  .help = "In a wrapped program: auto, ioctl, ring or off." },

	/* Application logs. */
	{ .env = "REDTAP_LOGS", .key = "logs.enabled", .def = "false", .group = GROUP_LOGS,
	  .set = set_bool, CONFIG_FIELD(logs),
	  .help = "true: what selected processes write to stdout and stderr (and\n"
		  "dups of them) becomes OTLP log records carrying the trace of\n"
		  "the request being served, and the log_records counter." },
	{ .env = "REDTAP_LOGS_CAPTURE_BYTES", .key = "logs.capture_bytes",
	  .def = XSTR(RT_LOG_CAPTURE_DEFAULT), .group = GROUP_LOGS, .set = set_copy_bytes,
	  CONFIG_FIELD(logs_capture_bytes),
	  .help = "Bytes of each log write the kernel copies; the rest of a\n"
		  "longer write is cut and counted. " XSTR(CAPTURE_MIN) ".." XSTR(
			  RT_CAPTURE_MAX) "." },
	{ .env = "REDTAP_LOGS_RATE", .key = "logs.rate", .def = XSTR(REDTAP_DEFAULT_LOGS_RATE),
	  .group = GROUP_LOGS, .set = set_shim_rate, CONFIG_FIELD(logs_rate),
	  .help = "Log writes per second one process may make before the\n"
		  "kernel drops (and counts) them. 0 turns the limit off." },
	{ .env = "REDTAP_LOGS_BURST", .key = "logs.burst", .def = XSTR(REDTAP_DEFAULT_LOGS_BURST),
	  .group = GROUP_LOGS, .set = set_shim_rate, CONFIG_FIELD(logs_burst),
	  .help = "Log writes one process may make at once above the rate." },
	{ .env = "REDTAP_LOGS_REDACT", .key = "logs.redact", .def = "none",
	  .group = GROUP_LOGS, .set = set_text, CONFIG_FIELD(logs_redact),
	  .help = "More POSIX extended regular expressions (case-insensitive),\n"
		  "separated by ;; whose matches are replaced by [REDACTED]\n"
		  "before a line leaves the node; a group's text is kept." },
	{ .env = "REDTAP_LOGS_FILES", .key = "logs.files", .def = "none", .group = GROUP_LOGS,
	  .list = LIST_LOGFILES, .set = add_logfiles,
	  .help = "Also capture the writes of selected processes to files whose\n"
		  "path matches one of these globs (* and ? within a directory,\n"
		  "** across them): /var/log/nginx/*.log,/srv/app/**.log." },
	{ .env = "REDTAP_LOGS_REDACT_DEFAULTS", .key = "logs.redact_defaults", .def = "true",
	  .group = GROUP_LOGS, .set = set_bool, CONFIG_FIELD(logs_redact_defaults),
	  .help = "false: only logs.redact, without the built-in patterns for\n"
		  "Authorization headers, bearer tokens, passwords, secrets,\n"
		  "tokens and API keys." },
};
/* clang-format on */
const size_t nsettings = ARRAY_SIZE(settings);

/* The command-line entry for a getopt value (env-only entries share it). */
static const struct setting *setting_by_val(int val)
{
	for (size_t i = 0; i < ARRAY_SIZE(settings); i++) {
		if (settings[i].name && settings[i].val == val)
			return &settings[i];
	}
	return NULL;
}

const struct setting *config_setting_by_key(const char *key)
{
	for (size_t i = 0; i < ARRAY_SIZE(settings); i++) {
		if (settings[i].key && !strcmp(settings[i].key, key))
			return &settings[i];
	}
	return NULL;
}

bool config_is_section(const char *prefix)
{
	size_t len = strlen(prefix);

	for (size_t i = 0; i < ARRAY_SIZE(settings); i++) {
		const char *k = settings[i].key;

		if (k && !strncmp(k, prefix, len) && k[len] == '.')
			return true;
	}
	return false;
}

int config_apply(struct redtap_config *c, const struct setting *st, const char *v,
		 const struct src *s)
{
	struct src row = *s;
	int err;

	row.st = st;
	config_list_begin(c, st->list, &row);
	err = st->set(c, v ? v : "true", &row);
	if (err == -EINVAL && st->lenient && s->env) {
		rt_warn("%s; ignored", s->errbuf ? s->errbuf : st->env);
		config_errf(s->errbuf, s->errlen, "%s", "");
		return 0;
	}
	return err;
}

/* ---- command line ------------------------------------------------------------------------ */

void config_init(struct redtap_config *c)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->listen_host, REDTAP_DEFAULT_LISTEN_HOST);
	c->listen_port = REDTAP_DEFAULT_LISTEN_PORT;
	c->max_series = REDTAP_DEFAULT_MAX_SERIES;
	c->series_ttl_s = REDTAP_DEFAULT_SERIES_TTL_S;
	snprintf(c->k8s_labels, sizeof(c->k8s_labels), "%s", PODMETA_DEFAULT_LABELS);
	snprintf(c->k8s_token_file, sizeof(c->k8s_token_file), "%s", K8S_SA_DIR "/token");
	snprintf(c->k8s_ca_file, sizeof(c->k8s_ca_file), "%s", K8S_SA_DIR "/ca.crt");
	c->k8s_refresh_s = 30;
	c->metrics_max_conns_per_ip = REDTAP_DEFAULT_CONNS_PER_IP;
	c->capture_bytes = RT_CAPTURE_DEFAULT;
	c->http2_capture_bytes = RT_H2_CAPTURE_DEFAULT;
	c->ringbuf_bytes = REDTAP_DEFAULT_RINGBUF_BYTES;
	c->sched_batch = true;
	c->shim_rate = REDTAP_DEFAULT_SHIM_RATE;
	c->shim_burst = REDTAP_DEFAULT_SHIM_BURST;
	c->shim_uid_rate = REDTAP_DEFAULT_SHIM_UID_RATE;
	c->logs_capture_bytes = RT_LOG_CAPTURE_DEFAULT;
	c->logs_rate = REDTAP_DEFAULT_LOGS_RATE;
	c->logs_burst = REDTAP_DEFAULT_LOGS_BURST;
	c->logs_redact_defaults = true;
	snprintf(c->shim_path, sizeof(c->shim_path), "%s", REDTAP_SHIM_DEFAULT_PATH);
	c->log_level = LOG_LVL_INFO;
	c->help_cmd = CMD_AGENT;
	otlp_config_init(&c->otlp);
	sampler_parse(&c->sampler, NULL, NULL, NULL, 0);
	strcpy(c->traces_slow, REDTAP_DEFAULT_TRACES_SLOW_MS);
	c->critical_floor = 0.2;
	c->error_ratio = 0.005;
	c->sampling_window_s = 60;
}

int config_resolve(struct redtap_config *c, char *errbuf, size_t errlen)
{
	struct otlp_endpoints e = c->otlp_endpoints;

	if (!c->logs) /* no log capture: no logs to send, whatever the variables say */
		e.signal[OTLP_LOGS].exporter = OTLP_EXPORTER_OFF;
	return otlp_config_resolve(&c->otlp, &e, errbuf, errlen);
}

void config_release(struct redtap_config *c)
{
	list_clear(c, LIST_PIDS);
	list_clear(c, LIST_EXES);
	list_clear(c, LIST_PORTS);
	list_clear(c, LIST_ROUTES);
	list_clear(c, LIST_CRITICAL);
	list_clear(c, LIST_LOGFILES);
	c->run_argv = NULL;
}

struct cli_item {
	const struct setting *st;
	const char *val;
};

static void build_getopt(struct option *lopts, char *sopts)
{
	size_t nl = 0, ns = 0;

	sopts[ns++] = '+'; /* stop at the first non-option: it is PROGRAM for `run` */
	sopts[ns++] = ':'; /* report a missing value as ':' and print nothing */
	for (size_t i = 0; i < ARRAY_SIZE(settings); i++) {
		const struct setting *st = &settings[i];

		if (!st->name)
			continue;
		lopts[nl++] = (struct option){st->name, st->arg ? required_argument : no_argument,
					      NULL, st->val};
		if (st->val < 256) {
			sopts[ns++] = (char)st->val;
			if (st->arg)
				sopts[ns++] = ':';
		}
	}
	lopts[nl] = (struct option){0};
	sopts[ns] = '\0';
}

/* Explains getopt's '?' (unknown option, ambiguous prefix, value on a flag). */
static void bad_option(char **argv, int ind, int opt, char *errbuf, size_t errlen)
{
	const struct setting *st = opt ? setting_by_val(opt) : NULL;
	const char *arg = ind > 0 ? argv[ind - 1] : "";
	size_t len, matches = 0;

	if (st) {
		config_errf(errbuf, errlen, "--%s takes no value", st->name);
		return;
	}
	if (opt || strncmp(arg, "--", 2)) {
		config_errf(errbuf, errlen, "unknown option '-%c' (see 'redtap --help')",
			    opt ? opt : '?');
		return;
	}
	arg += 2;
	len = strcspn(arg, "=");
	for (size_t i = 0; i < ARRAY_SIZE(settings); i++)
		matches += settings[i].name && !strncmp(settings[i].name, arg, len);
	config_errf(errbuf, errlen, "%s option '--%.*s' (see 'redtap --help')",
		    matches > 1 ? "ambiguous" : "unknown", (int)len, arg);
}

static int command_by_name(const char *name, enum redtap_command *cmd)
{
	static const struct {
		const char *name;
		enum redtap_command cmd;
	} cmds[] = {
	    {"agent", CMD_AGENT}, {"run", CMD_RUN}, {"version", CMD_VERSION}, {"help", CMD_HELP}};

	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++) {
		if (!strcmp(name, cmds[i].name)) {
			*cmd = cmds[i].cmd;
			return 0;
		}
	}
	return -EINVAL;
}

/*
 * Picks the command from argv[1]. Returns 1 when it was consumed, 0 when
 * argv[1] is an option (or absent) and the command is `agent`, -EINVAL.
 */
static int parse_command(struct redtap_config *c, int argc, char **argv, enum redtap_command *cmd,
			 char *errbuf, size_t errlen)
{
	enum redtap_command topic;

	*cmd = CMD_AGENT;
	if (argc < 2 || argv[1][0] == '-')
		return 0;
	if (command_by_name(argv[1], cmd)) {
		config_errf(errbuf, errlen,
			    "unknown command '%s' (commands: agent, run, version, help)", argv[1]);
		return -EINVAL;
	}
	if (*cmd == CMD_VERSION && argc > 2) {
		config_errf(errbuf, errlen, "version takes no arguments");
		return -EINVAL;
	}
	if (*cmd == CMD_HELP) {
		if (argc > 3) {
			config_errf(errbuf, errlen, "help takes at most one command");
			return -EINVAL;
		}
		if (argc == 3) {
			if (command_by_name(argv[2], &topic)) {
				config_errf(errbuf, errlen, "help: unknown command '%s'", argv[2]);
				return -EINVAL;
			}
			c->help_cmd = topic == CMD_RUN ? CMD_RUN : CMD_AGENT;
		}
	}
	return 1;
}

/* Reads the options of sub_argv into items; handles --help/--version itself. */
static int scan_options(struct redtap_config *c, int sub_argc, char **sub_argv,
			enum redtap_command *cmd, struct cli_item *items, size_t *nitems,
			char *errbuf, size_t errlen)
{
	struct option lopts[ARRAY_SIZE(settings) + 1];
	char sopts[2 * ARRAY_SIZE(settings) + 3];
	int opt;

	build_getopt(lopts, sopts);
	optind = 0; /* glibc: full re-initialisation, so that config_parse can run again */
	opterr = 0;
	while ((opt = getopt_long(sub_argc, sub_argv, sopts, lopts, NULL)) != -1) {
		const struct setting *st;

		if (opt == '?') {
			bad_option(sub_argv, optind, optopt, errbuf, errlen);
			return -EINVAL;
		}
		st = setting_by_val(opt == ':' ? optopt : opt);
		if (opt == ':') {
			config_errf(errbuf, errlen, "--%s needs a value (%s)", st ? st->name : "?",
				    st ? st->arg : "");
			return -EINVAL;
		}
		if (st->kind == K_HELP || st->kind == K_VERSION) {
			c->help_cmd = *cmd == CMD_RUN ? CMD_RUN : CMD_AGENT;
			*cmd = st->kind == K_HELP ? CMD_HELP : CMD_VERSION;
			return 1;
		}
		items[(*nitems)++] = (struct cli_item){st, optarg};
	}
	return 0;
}

/* Checks what follows the options: PROGRAM for `run`, nothing otherwise. */
static int take_rest(struct redtap_config *c, char **rest, int nrest, enum redtap_command cmd,
		     bool explicit_cmd, char *errbuf, size_t errlen)
{
	enum redtap_command other;

	if (cmd == CMD_RUN) {
		if (nrest < 1) {
			config_errf(
			    errbuf, errlen,
			    "run: missing PROGRAM (usage: redtap run [OPTIONS] [--] PROGRAM "
			    "[ARGS...])");
			return -EINVAL;
		}
		c->run_argv = rest;
		return 0;
	}
	if (nrest < 1)
		return 0;
	if (!explicit_cmd && !command_by_name(rest[0], &other))
		config_errf(errbuf, errlen, "the command '%s' must come before the options",
			    rest[0]);
	else
		config_errf(errbuf, errlen, "unexpected argument '%s' (see 'redtap --help')",
			    rest[0]);
	return -EINVAL;
}

/*
 * The environment layer. skip_agent_only: skip the rows without an option (OTLP,
 * traces, shim ring), which only the agent uses: `redtap run` must not
 * refuse to start a program whose own OTEL_* variables redtap does not
 * support (an OTLP/gRPC exporter, a vendor sampler).
 */
static int apply_env(struct redtap_config *c, bool skip_agent_only, char *errbuf, size_t errlen)
{
	unsigned int replaced = 0;

	for (size_t i = 0; i < ARRAY_SIZE(settings); i++) {
		const struct setting *st = &settings[i];
		struct src s = {.what = st->env,
				.errbuf = errbuf,
				.errlen = errlen,
				.replaced = &replaced,
				.env = true};
		const char *v = st->env && st->set ? getenv(st->env) : NULL;
		int err;

		if (!v || !*v || (skip_agent_only && st->group)) /* empty means unset, as in OTel */
			continue;
		err = config_apply(c, st, v, &s);
		if (err)
			return err;
	}
	return 0;
}

int config_load_env(struct redtap_config *c, char *errbuf, size_t errlen)
{
	return apply_env(c, false, errbuf, errlen);
}

static int apply_cli(struct redtap_config *c, const struct cli_item *items, size_t n, char *errbuf,
		     size_t errlen)
{
	unsigned int replaced = 0;
	char what[64];

	for (size_t i = 0; i < n; i++) {
		struct src s = {
		    .what = what, .errbuf = errbuf, .errlen = errlen, .replaced = &replaced};
		int err;

		if (items[i].st->kind == K_CONFIG)
			continue;
		snprintf(what, sizeof(what), "--%s", items[i].st->name);
		err = config_apply(c, items[i].st, items[i].val, &s);
		if (err)
			return err;
	}
	return 0;
}

int config_parse(struct redtap_config *c, int argc, char **argv, enum redtap_command *cmd,
		 char *errbuf, size_t errlen)
{
	struct cli_item *items;
	const char *path = NULL;
	size_t nitems = 0;
	int skip, err;

	config_errf(errbuf, errlen, "%s", "");
	skip = parse_command(c, argc, argv, cmd, errbuf, errlen);
	if (skip < 0)
		return skip;
	if (*cmd == CMD_HELP || *cmd == CMD_VERSION)
		return 0;
	items = calloc((size_t)(argc > 0 ? argc : 1), sizeof(*items));
	if (!items) {
		config_errf(errbuf, errlen, "out of memory");
		return -ENOMEM;
	}
	/* With a command word, argv[1] plays getopt's argv[0]. */
	err = argc < 1
		  ? 0
		  : scan_options(c, argc - skip, argv + skip, cmd, items, &nitems, errbuf, errlen);
	if (err)
		goto out_free;
	err = argc < 1 ? 0
		       : take_rest(c, argv + skip + optind, argc - skip - optind, *cmd, skip,
				   errbuf, errlen);
	if (err)
		goto out_free;

	for (size_t i = 0; i < nitems; i++) {
		if (items[i].st->kind == K_CONFIG)
			path = items[i].val;
	}
	if (!path && getenv("REDTAP_CONFIG") && *getenv("REDTAP_CONFIG"))
		path = getenv("REDTAP_CONFIG");
	if (path && !*path) {
		config_errf(errbuf, errlen, "--config: the path is empty");
		err = -EINVAL;
		goto out_free;
	}
	err = path ? config_load_file(c, path, errbuf, errlen) : 0;
	if (!err)
		err = apply_env(c, *cmd == CMD_RUN, errbuf, errlen);
	if (!err)
		err = apply_cli(c, items, nitems, errbuf, errlen);
	if (!err && *cmd != CMD_RUN)
		err = config_resolve(c, errbuf, errlen);
out_free:
	free(items);
	return err < 0 ? err : 0;
}
