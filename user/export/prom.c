// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * prom.c - Prometheus text 0.0.4 and OpenMetrics 1.0 exposition of a metric
 * registry, Accept-header negotiation, and number and label formatting. See
 * prom.h.
 *
 * The two formats differ in a few places only: a counter's metadata names
 * the family name_total in the text format but name in OpenMetrics (whose
 * samples still end in _total); OpenMetrics adds UNIT lines, escapes double
 * quotes in HELP, writes "le" values in canonical form ("1.0"), carries
 * exemplars on bucket and counter _total lines, omits _sum where it would
 * not be a counter, and ends with "# EOF". Label values and HELP are written
 * as valid UTF-8 whatever bytes they hold: invalid sequences become U+FFFD.
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "prom.h"
#include "semconv.h"
#include "utf8.h"

/* ---- numbers ---- */

/* Writes v with p significant digits ("%.{p-1}e"); whether that reads back as v. */
static bool try_digits(char buf[PROM_NUM_MAX], double v, int p)
{
	snprintf(buf, PROM_NUM_MAX, "%.*e", p - 1, v);
	return strtod(buf, NULL) == v;
}

/* Drops the trailing zeros (and a bare point) of the mantissa in buf; returns its digit count. */
static int strip_zeros(char *buf)
{
	char *e = strchr(buf, 'e'), *end = e;
	int digits = 0;

	while (end[-1] == '0')
		end--;
	if (end[-1] == '.')
		end--;
	memmove(end, e, strlen(e) + 1);
	for (const char *c = buf; c < end; c++)
		digits += *c >= '0' && *c <= '9';
	return digits;
}

/*
 * Writes v as "%.{p-1}e" with the fewest significant digits p that read back
 * as exactly v, and returns p. Every decimal of up to 15 digits survives a trip
 * through a normal double (DBL_DIG), so when the 15-digit form reads back, it
 * is the shortest form padded with zeros; otherwise 16 or 17 digits are
 * needed. Subnormals, with less precision, get a binary search over p.
 */
static int shortest_e(char buf[PROM_NUM_MAX], double v)
{
	int lo = 1, hi = 17;

	if (fabs(v) >= DBL_MIN) {
		if (try_digits(buf, v, DBL_DIG))
			return strip_zeros(buf);
		lo = DBL_DIG + 1;
	}
	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (try_digits(buf, v, mid))
			hi = mid;
		else
			lo = mid + 1;
	}
	try_digits(buf, v, lo);
	return lo;
}

/* Decimal exponent of the "%e" text in buf. */
static int e_exponent(const char *buf)
{
	const char *e = strchr(buf, 'e');

	return e ? atoi(e + 1) : 0;
}

static size_t format_special(char buf[PROM_NUM_MAX], double v)
{
	const char *s = isnan(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf";

	return (size_t)snprintf(buf, PROM_NUM_MAX, "%s", s);
}

/* An integral v below 2^53 in plain digits; "-0" for negative zero. */
static size_t format_integer(char buf[PROM_NUM_MAX], double v)
{
	uint64_t u = (uint64_t)fabs(v);
	char tmp[24];
	size_t i = sizeof(tmp), n = 0;

	do {
		tmp[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (signbit(v))
		buf[n++] = '-';
	memcpy(buf + n, tmp + i, sizeof(tmp) - i);
	n += sizeof(tmp) - i;
	buf[n] = '\0';
	return n;
}

size_t prom_format_value(char buf[PROM_NUM_MAX], double v)
{
	int p, exp;

	if (!isfinite(v))
		return format_special(buf, v);
	if (v == floor(v) && fabs(v) < 9007199254740992.0) /* 2^53: every integer is exact */
		return format_integer(buf, v);
	p = shortest_e(buf, v);
	exp = e_exponent(buf);
	if (exp < -5 || exp >= 15)
		return strlen(buf);
	return (size_t)snprintf(buf, PROM_NUM_MAX, "%.*f", p - 1 - exp > 0 ? p - 1 - exp : 0, v);
}

size_t prom_format_le(char buf[PROM_NUM_MAX], double v, enum prom_format f)
{
	size_t len;
	int p, exp;

	if (!isfinite(v))
		return format_special(buf, v);
	p = shortest_e(buf, v);
	exp = e_exponent(buf);
	/* Go's shortest %g: exponent form below 1e-4 and from 1e+06 up. */
	if (exp < -4 || exp >= 6)
		len = strlen(buf);
	else
		len = (size_t)snprintf(buf, PROM_NUM_MAX, "%.*f", p - 1 - exp > 0 ? p - 1 - exp : 0,
				       v);
	if (f == PROM_FMT_OPENMETRICS && !strpbrk(buf, ".e")) {
		memcpy(buf + len, ".0", 3);
		len += 2;
	}
	return len;
}

/* ---- output buffer ---- */

struct sbuf {
	char *buf;
	size_t len;
	size_t cap;
	bool oom;
};

static bool sb_reserve(struct sbuf *b, size_t n)
{
	size_t cap;
	char *p;

	if (b->oom)
		return false;
	if (b->len + n + 1 <= b->cap)
		return true;
	cap = b->cap ? b->cap : 4096;
	while (cap < b->len + n + 1)
		cap *= 2;
	p = realloc(b->buf, cap);
	if (!p) {
		b->oom = true;
		return false;
	}
	b->buf = p;
	b->cap = cap;
	return true;
}

static void sb_put(struct sbuf *b, const char *s, size_t n)
{
	if (!sb_reserve(b, n))
		return;
	memcpy(b->buf + b->len, s, n);
	b->len += n;
	b->buf[b->len] = '\0';
}

static void sb_puts(struct sbuf *b, const char *s)
{
	sb_put(b, s, strlen(s));
}

static void sb_putc(struct sbuf *b, char c)
{
	sb_put(b, &c, 1);
}

static void sb_u64(struct sbuf *b, uint64_t v)
{
	char tmp[20];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	sb_put(b, tmp + i, sizeof(tmp) - i);
}

static void sb_value(struct sbuf *b, double v)
{
	char tmp[PROM_NUM_MAX];

	sb_put(b, tmp, prom_format_value(tmp, v));
}

/*
 * Appends s escaped for a label value (quote = true) or a HELP text: backslash
 * and line feed always, double quote when quote is set. Bytes that are not
 * valid UTF-8 are replaced by U+FFFD.
 */
static void sb_escaped(struct sbuf *b, const char *s, bool quote)
{
	const unsigned char *p = (const unsigned char *)s, *run = p;

	while (*p) {
		size_t n;

		if (*p >= 0x20 && *p < 0x80 && *p != '\\' && *p != '"') {
			p++;
			continue;
		}
		n = utf8_seq(p);
		if (n > 1 || (n == 1 && *p != '\\' && *p != '\n' && (*p != '"' || !quote))) {
			p += n;
			continue;
		}
		sb_put(b, (const char *)run, (size_t)(p - run));
		if (*p == '\\')
			sb_put(b, "\\\\", 2);
		else if (*p == '\n')
			sb_put(b, "\\n", 2);
		else if (*p == '"')
			sb_put(b, "\\\"", 2);
		else
			sb_put(b, "\xef\xbf\xbd", 3);
		run = ++p;
	}
	sb_put(b, (const char *)run, (size_t)(p - run));
}

/* ---- rendering ---- */

struct render {
	enum prom_format fmt;
	struct sbuf out;
	struct sbuf labels;	  /* the current series' label pairs, escaped, comma-separated */
	char (*le)[PROM_NUM_MAX]; /* the current family's "le" values */
	size_t le_cap;
	bool sum_ok; /* OpenMetrics: _sum allowed (no negative bound) */
};

static const char *type_name(enum metric_type t)
{
	switch (t) {
	case METRIC_COUNTER:
		return "counter";
	case METRIC_GAUGE:
		return "gauge";
	default:
		return "histogram";
	}
}

static void meta_line(struct sbuf *b, const char *kind, const char *name, const char *suffix)
{
	sb_puts(b, "# ");
	sb_puts(b, kind);
	sb_putc(b, ' ');
	sb_puts(b, name);
	sb_puts(b, suffix);
	sb_putc(b, ' ');
}

static int render_family(void *ctx, const struct metric_family *f)
{
	struct render *rd = ctx;
	const char *name = metric_family_name(f), *help = metric_family_help(f);
	const char *unit = metric_family_unit(f);
	enum metric_type type = metric_family_type(f);
	bool om = rd->fmt == PROM_FMT_OPENMETRICS;
	const char *suffix = !om && type == METRIC_COUNTER ? "_total" : "";
	const double *bounds;
	size_t nbounds;

	if (om) {
		meta_line(&rd->out, "TYPE", name, suffix);
		sb_puts(&rd->out, type_name(type));
		sb_putc(&rd->out, '\n');
		if (unit) {
			meta_line(&rd->out, "UNIT", name, suffix);
			sb_puts(&rd->out, unit);
			sb_putc(&rd->out, '\n');
		}
	}
	if (*help) {
		meta_line(&rd->out, "HELP", name, suffix);
		sb_escaped(&rd->out, help, om);
		sb_putc(&rd->out, '\n');
	}
	if (!om) {
		meta_line(&rd->out, "TYPE", name, suffix);
		sb_puts(&rd->out, type_name(type));
		sb_putc(&rd->out, '\n');
	}

	bounds = metric_family_bounds(f, &nbounds);
	if (nbounds > rd->le_cap) {
		void *p = realloc(rd->le, nbounds * sizeof(*rd->le));

		if (!p)
			return -ENOMEM;
		rd->le = p;
		rd->le_cap = nbounds;
	}
	for (size_t i = 0; i < nbounds; i++)
		prom_format_le(rd->le[i], bounds[i], rd->fmt);
	rd->sum_ok = nbounds == 0 || bounds[0] >= 0;
	return rd->out.oom ? -ENOMEM : 0;
}

/* name+suffix{labels[,le="x"]} - the start of a sample line. */
static void sample_start(struct render *rd, const char *name, const char *suffix, const char *le)
{
	struct sbuf *b = &rd->out;

	sb_puts(b, name);
	sb_puts(b, suffix);
	if (rd->labels.len || le) {
		sb_putc(b, '{');
		if (rd->labels.len)
			sb_put(b, rd->labels.buf, rd->labels.len);
		if (le) {
			if (rd->labels.len)
				sb_putc(b, ',');
			sb_puts(b, "le=\"");
			sb_puts(b, le);
			sb_putc(b, '"');
		}
		sb_putc(b, '}');
	}
	sb_putc(b, ' ');
}

static void put_hex(struct sbuf *b, const uint8_t *id, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	char tmp[32];

	for (size_t i = 0; i < n; i++) {
		tmp[2 * i] = digits[id[i] >> 4];
		tmp[2 * i + 1] = digits[id[i] & 15];
	}
	sb_put(b, tmp, 2 * n);
}

/* The exemplar after a sample's value: OpenMetrics only, and only when one is kept. */
static void exemplar(struct render *rd, const struct metric_exemplar *e)
{
	struct sbuf *b = &rd->out;

	if (rd->fmt != PROM_FMT_OPENMETRICS || !e || !metric_exemplar_present(e))
		return;
	sb_puts(b, " # {trace_id=\"");
	put_hex(b, e->trace_id, sizeof(e->trace_id));
	sb_puts(b, "\",span_id=\"");
	put_hex(b, e->span_id, sizeof(e->span_id));
	sb_puts(b, "\"} ");
	sb_value(b, e->value);
	if (isfinite(e->timestamp)) {
		sb_putc(b, ' ');
		sb_value(b, e->timestamp);
	}
}

static void render_histogram(struct render *rd, const char *name, const struct metric_point *p)
{
	bool om = rd->fmt == PROM_FMT_OPENMETRICS;
	uint64_t cum = 0;

	for (size_t i = 0; i <= p->nbounds; i++) {
		cum += p->bucket_counts[i];
		sample_start(rd, name, "_bucket", i < p->nbounds ? rd->le[i] : "+Inf");
		sb_u64(&rd->out, cum);
		exemplar(rd, i < p->nexemplars ? &p->exemplars[i] : NULL);
		sb_putc(&rd->out, '\n');
	}
	if (!om || (rd->sum_ok && p->sum >= 0)) {
		sample_start(rd, name, "_sum", NULL);
		sb_value(&rd->out, p->sum);
		sb_putc(&rd->out, '\n');
	}
	sample_start(rd, name, "_count", NULL);
	sb_u64(&rd->out, p->count);
	sb_putc(&rd->out, '\n');
}

/* Label i of p is one semconv_omit_empty() leaves out when empty. */
static bool omitted_when_empty(const struct metric_point *p, size_t i)
{
	const struct semconv_metric *sc = metric_family_semconv(p->family);

	return !p->overflow && sc && i < sc->nattrs && semconv_omit_empty(sc->attrs[i]);
}

static int render_series(void *ctx, const struct metric_point *p)
{
	struct render *rd = ctx;
	const char *name = metric_family_name(p->family);

	rd->labels.len = 0;
	for (size_t i = 0; i < p->nlabels; i++) {
		if (!p->label_values[i][0] && omitted_when_empty(p, i))
			continue;
		if (rd->labels.len)
			sb_putc(&rd->labels, ',');
		sb_puts(&rd->labels, p->label_names[i]);
		sb_puts(&rd->labels, "=\"");
		sb_escaped(&rd->labels, p->label_values[i], true);
		sb_putc(&rd->labels, '"');
	}
	if (rd->labels.oom)
		return -ENOMEM;

	switch (metric_family_type(p->family)) {
	case METRIC_COUNTER:
		sample_start(rd, name, "_total", NULL);
		sb_value(&rd->out, p->value);
		exemplar(rd, p->nexemplars ? &p->exemplars[0] : NULL);
		sb_putc(&rd->out, '\n');
		break;
	case METRIC_GAUGE:
		sample_start(rd, name, "", NULL);
		sb_value(&rd->out, p->value);
		sb_putc(&rd->out, '\n');
		break;
	case METRIC_HISTOGRAM:
		render_histogram(rd, name, p);
		break;
	}
	return rd->out.oom ? -ENOMEM : 0;
}

int prom_render(struct metric_registry *r, enum prom_format f, char **out, size_t *out_len)
{
	struct render rd = {.fmt = f};
	struct metric_snapshot *snap;
	int err;

	if (!r || !out || (f != PROM_FMT_TEXT && f != PROM_FMT_OPENMETRICS))
		return -EINVAL;
	snap = metric_registry_snapshot(r);
	if (!snap)
		return -errno;
	sb_reserve(&rd.out, 64 * 1024);
	err = metric_snapshot_walk(snap, render_family, render_series, &rd);
	metric_snapshot_free(snap);
	if (!err && f == PROM_FMT_OPENMETRICS)
		sb_puts(&rd.out, "# EOF\n");
	if (!err && !sb_reserve(&rd.out, 0))
		err = -ENOMEM;
	if (!err)
		rd.out.buf[rd.out.len] = '\0';
	free(rd.labels.buf);
	free(rd.le);
	if (err) {
		free(rd.out.buf);
		return err;
	}
	*out = rd.out.buf;
	if (out_len)
		*out_len = rd.out.len;
	return 0;
}

/* ---- negotiation ---- */

const char *prom_content_type(enum prom_format f)
{
	if (f == PROM_FMT_OPENMETRICS)
		return "application/openmetrics-text; version=1.0.0; charset=utf-8";
	return "text/plain; version=0.0.4; charset=utf-8";
}

/* Trims spaces and tabs around [*s, *e). */
static void trim(const char **s, const char **e)
{
	while (*s < *e && (**s == ' ' || **s == '\t'))
		(*s)++;
	while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
		(*e)--;
}

static bool token_is(const char *s, const char *e, const char *word)
{
	size_t n = strlen(word);

	return (size_t)(e - s) == n && strncasecmp(s, word, n) == 0;
}

/* One media range of an Accept header, [s, e): its type, q-value and version. */
struct media_range {
	const char *type, *type_end;
	const char *version, *version_end; /* NULL when absent */
	double q;
};

/* Applies one "key=value" parameter [s, e) of a media range to m. */
static void parse_param(const char *s, const char *e, struct media_range *m)
{
	const char *eq = memchr(s, '=', (size_t)(e - s)), *ke = eq, *vs, *ve = e;
	char tmp[16], *end;
	size_t n;

	if (!eq)
		return;
	vs = eq + 1;
	trim(&s, &ke);
	trim(&vs, &ve);
	if (ve - vs >= 2 && *vs == '"' && ve[-1] == '"') {
		vs++;
		ve--;
	}
	if (token_is(s, ke, "version")) {
		m->version = vs;
		m->version_end = ve;
		return;
	}
	if (!token_is(s, ke, "q"))
		return;
	n = (size_t)(ve - vs);
	if (n == 0 || n >= sizeof(tmp)) {
		m->q = 0;
		return;
	}
	memcpy(tmp, vs, n);
	tmp[n] = '\0';
	m->q = strtod(tmp, &end);
	if (*end || !(m->q >= 0)) /* malformed: ignore the range */
		m->q = 0;
	if (m->q > 1)
		m->q = 1;
}

static void parse_range(const char *s, const char *e, struct media_range *m)
{
	const char *semi = memchr(s, ';', (size_t)(e - s));

	m->type = s;
	m->type_end = semi ? semi : e;
	trim(&m->type, &m->type_end);
	m->version = m->version_end = NULL;
	m->q = 1.0;
	while (semi) {
		const char *ps = semi + 1;

		semi = memchr(ps, ';', (size_t)(e - ps));
		parse_param(ps, semi ? semi : e, m);
	}
}

static bool version_in(const struct media_range *m, const char *const *ok)
{
	if (!m->version)
		return true;
	for (; *ok; ok++)
		if (token_is(m->version, m->version_end, *ok))
			return true;
	return false;
}

static void q_max(double *q, double v)
{
	if (v > *q)
		*q = v;
}

enum prom_format prom_negotiate(const char *accept)
{
	static const char *const om_versions[] = {"1.0.0", "0.0.1", NULL};
	static const char *const text_versions[] = {"0.0.4", NULL};
	double q_om = -1, q_plain = -1, q_text_any = -1, q_any = -1, q_text;
	const char *s = accept;

	while (s && *s) {
		const char *comma = strchr(s, ','), *e = comma ? comma : s + strlen(s);
		struct media_range m;

		parse_range(s, e, &m);
		if (token_is(m.type, m.type_end, "application/openmetrics-text")) {
			if (version_in(&m, om_versions))
				q_max(&q_om, m.q);
		} else if (token_is(m.type, m.type_end, "text/plain")) {
			if (version_in(&m, text_versions))
				q_max(&q_plain, m.q);
		} else if (token_is(m.type, m.type_end, "text/*")) {
			q_max(&q_text_any, m.q);
		} else if (token_is(m.type, m.type_end, "*/*")) {
			q_max(&q_any, m.q);
		}
		s = comma ? comma + 1 : NULL;
	}
	q_text = q_plain >= 0 ? q_plain : q_text_any >= 0 ? q_text_any : q_any;
	return q_om > 0 && q_om >= q_text ? PROM_FMT_OPENMETRICS : PROM_FMT_TEXT;
}
