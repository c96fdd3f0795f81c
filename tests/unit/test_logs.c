// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_logs.c - zero-code log capture in the daemon: the line parser
 * (logline.c) on the output of real loggers, the reassembler (logasm.c),
 * redaction (logredact.c) and the whole path (logs.c) with correlation to
 * the request a thread serves, the log_records counter and its exemplars,
 * and the OTLP logs encoding.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "httptrack.h"
#include "logasm.h"
#include "logline.h"
#include "logredact.h"
#include "logfiles.h"
#include "logs.h"
#include "metrics.h"
#include "otlp_encode.h"
#include "procs.h"
#include "prom.h"
#include "proto/otlp_logs.pb-c.h"
#include "tracer.h"

static void parse(const char *s, struct logline *o)
{
	logline_parse(s, strlen(s), o);
}

static const char *attr(const struct logline *o, const char *key)
{
	for (size_t i = 0; i < o->nattrs; i++)
		if (!strcmp(o->attrs[i].key, key))
			return o->attrs[i].val;
	return NULL;
}

/* --- logline --- */

static void test_json_loggers(void **ts)
{
	static const struct {
		const char *line;
		uint8_t sev;
		const char *text;
	} cases[] = {
	    /* zerolog */
	    {"{\"level\":\"error\",\"user\":42,\"time\":\"2026-01-02T10:00:00Z\",\"message\":\"db "
	     "down\"}",
	     LOG_SEV_ERROR, "ERROR"},
	    /* zap production */
	    {"{\"level\":\"warn\",\"ts\":1767348000.1,\"caller\":\"main.go:12\",\"msg\":\"slow\"}",
	     LOG_SEV_WARN, "WARN"},
	    /* logrus */
	    {"{\"level\":\"info\",\"msg\":\"started\",\"time\":\"2026-01-02T10:00:00Z\"}",
	     LOG_SEV_INFO, "INFO"},
	    /* slog */
	    {"{\"time\":\"2026-01-02T10:00:00Z\",\"level\":\"DEBUG\",\"msg\":\"x\"}", LOG_SEV_DEBUG,
	     "DEBUG"},
	    /* python-json-logger */
	    {"{\"asctime\": \"2026-01-02 10:00:00\", \"levelname\": \"CRITICAL\", \"message\": "
	     "\"boom\"}",
	     LOG_SEV_FATAL, "FATAL"},
	    /* bunyan / pino: numbers */
	    {"{\"name\":\"app\",\"level\":50,\"msg\":\"failed\",\"v\":0}", LOG_SEV_ERROR, "ERROR"},
	    {"{\"level\":30,\"time\":1,\"pid\":7,\"msg\":\"ok\"}", LOG_SEV_INFO, "INFO"},
	    {"{\"severity\":\"WARNING\",\"message\":\"gcp\"}", LOG_SEV_WARN, "WARN"},
	};
	struct logline o;

	(void)ts;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		parse(cases[i].line, &o);
		assert_int_equal(o.format, LOGLINE_JSON);
		assert_int_equal(o.severity, cases[i].sev);
		assert_string_equal(o.severity_text, cases[i].text);
	}
	parse("{\"level\":\"error\",\"error\":\"conn refused\",\"user\":42,\"nested\":{\"a\":[1,{"
	      "\"b\":2}]},\"ok\":true,\"msg\":\"x\"}",
	      &o);
	assert_string_equal(attr(&o, "exception.message"), "conn refused");
	assert_string_equal(attr(&o, "user"), "42");
	assert_string_equal(attr(&o, "ok"), "true");
	assert_null(attr(&o, "nested")); /* containers are not lifted */
	assert_null(attr(&o, "msg"));	 /* the message is in the body */
	assert_null(attr(&o, "level"));
}

static void test_json_own_ids_and_bounds(void **ts)
{
	struct logline o;
	char big[8192];
	size_t n = 0;

	(void)ts;
	parse("{\"level\":\"info\",\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\",\"span_id\":"
	      "\"00f067aa0ba902b7\"}",
	      &o);
	assert_true(o.has_trace_id);
	assert_true(o.has_span_id);
	assert_int_equal(o.trace_id[0], 0x4b);
	assert_int_equal(o.span_id[7], 0xb7);
	/* invalid ids (all zero, wrong length) are not taken */
	parse("{\"trace_id\":\"00000000000000000000000000000000\",\"spanId\":\"abc\"}", &o);
	assert_false(o.has_trace_id);
	assert_false(o.has_span_id);

	/* at most LOGLINE_ATTRS_MAX attributes, values cut */
	n += (size_t)snprintf(big + n, sizeof(big) - n, "{");
	for (int i = 0; i < 20; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "\"k%d\":\"%0200d\",", i, i);
	n += (size_t)snprintf(big + n, sizeof(big) - n, "\"level\":\"warn\"}");
	parse(big, &o);
	assert_int_equal(o.format, LOGLINE_JSON);
	assert_int_equal(o.severity, LOG_SEV_WARN);
	assert_int_equal(o.nattrs, LOGLINE_ATTRS_MAX);
	assert_int_equal(strlen(o.attrs[0].val), LOGLINE_VAL_MAX - 1);

	/* broken JSON is text */
	parse("{\"level\":\"error\",\"msg\":\"unterminated", &o);
	assert_int_equal(o.format, LOGLINE_TEXT);
	parse(
	    "{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
	    &o);
	assert_int_equal(o.format, LOGLINE_TEXT); /* deeper than JSON_DEPTH_MAX */
}

static void test_logfmt_and_text(void **ts)
{
	struct logline o;

	(void)ts;
	parse("time=2026-01-02T10:00:00Z level=warn msg=\"disk almost full\" free=\"3 GB\" "
	      "trace_id=4bf92f3577b34da6a3ce929d0e0e4736",
	      &o);
	assert_int_equal(o.format, LOGLINE_LOGFMT);
	assert_int_equal(o.severity, LOG_SEV_WARN);
	assert_string_equal(attr(&o, "free"), "3 GB");
	assert_true(o.has_trace_id);

	parse("ERROR something broke", &o);
	assert_int_equal(o.severity, LOG_SEV_ERROR);
	parse("[WARN] careful", &o);
	assert_int_equal(o.severity, LOG_SEV_WARN);
	parse("2026-01-02 10:00:00,123 INFO werkzeug: started", &o);
	assert_int_equal(o.severity, LOG_SEV_INFO);
	parse("2026/01/02 10:00:00 [error] 12#12: *1 open() failed", &o); /* nginx error log */
	assert_int_equal(o.severity, LOG_SEV_ERROR);
	parse("just a line", &o);
	assert_int_equal(o.severity, 0);
	assert_string_equal(o.severity_text, "");
	assert_int_equal(logline_severity("30", 2), LOG_SEV_INFO);
	assert_int_equal(logline_severity("60", 2), LOG_SEV_FATAL);
	assert_int_equal(logline_severity("35", 2), 0);
}

/* --- logasm --- */

struct got {
	char lines[16][256];
	unsigned flags[16];
	uint32_t tids[16];
	int n;
};

static void on_line(void *ctx, uint32_t tgid, uint32_t fd, const struct logasm_tag *tag,
		    const char *line, size_t len, unsigned flags)
{
	struct got *g = ctx;

	(void)tgid;
	(void)fd;
	assert_true(g->n < 16);
	assert_true(len < 256);
	memcpy(g->lines[g->n], line, len);
	g->lines[g->n][len] = '\0';
	g->flags[g->n] = flags;
	g->tids[g->n++] = tag->tid;
}

static void feed(struct logasm *a, uint32_t fd, uint32_t tid, uint64_t ts, const char *s)
{
	struct logasm_tag tag = {.ts = ts, .tid = tid};

	logasm_feed(a, 7, fd, &tag, s, strlen(s), strlen(s));
}

static void test_reassembly(void **ts)
{
	struct got g = {0};
	struct logasm *a = logasm_new(4, 32, on_line, &g);

	(void)ts;
	assert_non_null(a);
	feed(a, 1, 11, 1, "one\ntwo\r\n\nthr");
	assert_int_equal(g.n, 2);
	assert_string_equal(g.lines[0], "one");
	assert_string_equal(g.lines[1], "two");
	feed(a, 2, 12, 2, "other stream\n"); /* another fd: its own line */
	feed(a, 1, 13, 3, "ee\n");
	assert_int_equal(g.n, 4);
	assert_string_equal(g.lines[2], "other stream");
	assert_string_equal(g.lines[3], "three");
	assert_int_equal(g.tids[3], 11); /* the tag of the write that began it */

	/* longer than line_max: cut, the rest up to '\n' dropped */
	feed(a, 1, 14, 4, "0123456789012345678901234567890123456789");
	assert_int_equal(g.n, 5);
	assert_int_equal(strlen(g.lines[4]), 32);
	assert_int_equal(g.flags[4], LOGASM_CUT);
	feed(a, 1, 14, 5, "more of it\nnext\n");
	assert_int_equal(g.n, 6);
	assert_string_equal(g.lines[5], "next");

	/* a write the kernel copied in part ends its line */
	{
		struct logasm_tag tag = {.ts = 6, .tid = 15};

		logasm_feed(a, 7, 1, &tag, "half a li", 9, 5000);
	}
	assert_int_equal(g.n, 7);
	assert_string_equal(g.lines[6], "half a li");
	assert_int_equal(g.flags[6], LOGASM_CUT);

	/* a partial line is flushed when old enough, or when its process goes */
	feed(a, 1, 16, 100, "no newline");
	logasm_flush(a, 50);
	assert_int_equal(g.n, 7);
	logasm_flush(a, 101);
	assert_int_equal(g.n, 8);
	assert_int_equal(g.flags[7], LOGASM_PARTIAL);
	feed(a, 2, 17, 200, "bye");
	logasm_forget(a, 7);
	assert_int_equal(g.n, 9);
	assert_string_equal(g.lines[8], "bye");
	logasm_free(a);
}

static void test_reassembly_eviction(void **ts)
{
	struct got g = {0};
	struct logasm *a = logasm_new(2, 64, on_line, &g);
	struct logasm_stats st;
	struct logasm_tag tag = {.ts = 1};

	(void)ts;
	/* more streams than slots: the oldest is flushed, nothing is lost */
	for (uint32_t fd = 1; fd <= 5; fd++) {
		tag.ts = fd;
		logasm_feed(a, 9, fd, &tag, "p", 1, 1);
	}
	logasm_stats(a, &st);
	assert_int_equal(st.evictions, 3);
	assert_int_equal(g.n, 3);
	logasm_free(a);
	assert_int_equal(g.n, 5);
}

/* --- logredact --- */

static void test_redaction_defaults(void **ts)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"GET / Authorization: Bearer abc.def-ghi", "GET / Authorization: [REDACTED]"},
	    {"{\"password\": \"hunter2\", \"user\": \"bob\"}",
	     "{\"password\": \"[REDACTED]\", \"user\": \"bob\"}"},
	    {"login user=bob password=hunter2 ok", "login user=bob password=[REDACTED] ok"},
	    {"curl -H 'authorization: token xyz'", "curl -H 'authorization: [REDACTED]'"},
	    {"sent bearer eyJhbGciOi.payload.sig", "sent bearer [REDACTED]"},
	    {"/cb?code=1&api_key=SECRET123&x=2", "/cb?code=1&api_key=[REDACTED]&x=2"},
	    {"nothing to see", "nothing to see"},
	};
	char err[256], out[256];
	struct logredact *r = logredact_new(NULL, false, err, sizeof(err));

	(void)ts;
	assert_non_null(r);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = logredact_apply(r, cases[i].in, strlen(cases[i].in), out, sizeof(out));

		assert_string_equal(out, cases[i].out);
		assert_int_equal(n, strlen(cases[i].out));
	}
	assert_int_equal(logredact_count(r), 6);
	/* NUL bytes and a short output buffer */
	assert_int_equal(logredact_apply(r, "a\0b", 3, out, sizeof(out)), 3);
	assert_string_equal(out, "a?b");
	assert_int_equal(logredact_apply(r, "password=abcdef", 15, out, 8), 7);
	assert_string_equal(out, "passwor");
	logredact_free(r);

	/* extra patterns; a bad one is refused with its text */
	r = logredact_new("card=[0-9]+;;(ssn )[0-9-]+", true, err, sizeof(err));
	assert_non_null(r);
	logredact_apply(r, "card=4111 ssn 123-45 password=x", 31, out, sizeof(out));
	assert_string_equal(out, "[REDACTED] ssn [REDACTED] password=x");
	logredact_free(r);
	assert_null(logredact_new("([", false, err, sizeof(err)));
	assert_non_null(strstr(err, "(["));
}

/* --- logs: the whole path --- */

struct sink {
	int n;
	struct log_record last;
	char body[512];
};

static void on_record(void *ctx, const struct log_record *r)
{
	struct sink *s = ctx;

	s->n++;
	s->last = *r;
	memcpy(s->body, r->body, r->body_len < 511 ? r->body_len : 511);
	s->body[r->body_len < 511 ? r->body_len : 511] = '\0';
}

static size_t rec(uint8_t *buf, uint32_t tgid, uint32_t tid, uint32_t fd, const char *s)
{
	struct rt_data_event *ev = (struct rt_data_event *)buf;
	size_t n = strlen(s);

	memset(ev, 0, sizeof(*ev));
	ev->hdr.type = RT_EV_LOG;
	ev->hdr.version = RT_EVENT_VERSION;
	ev->hdr.len = (uint32_t)(sizeof(*ev) + n);
	ev->hdr.pid_tgid = (uint64_t)tgid << 32 | tid;
	ev->hdr.ts = 1000;
	ev->conn.tgid = tgid;
	ev->conn.fd = fd;
	ev->len = n;
	ev->cap_len = (uint32_t)n;
	ev->dir = RT_DIR_EGRESS;
	memcpy(ev->data, s, n);
	return sizeof(*ev) + n;
}

static void test_logs_correlate_and_redact(void **ts)
{
	struct procs_selectors none = {0};
	struct procs *p = procs_new(&none, (uint32_t)getpid());
	struct tracer_opts to = {.sampler = {.root = SAMPLER_ALWAYS_OFF, .parent_based = true}};
	struct tracer *t = tracer_new(&to, NULL, NULL);
	struct sink s = {0};
	struct logs_opts o = {.procs = p, .tracer = t, .emit = on_record, .ctx = &s};
	struct http_exchange x;
	char err[256];
	struct logs *l;
	uint8_t buf[1024];
	size_t n;

	(void)ts;
	assert_non_null(p);
	assert_non_null(t);
	l = logs_new(&o, err, sizeof(err));
	assert_non_null(l);

	/* thread 101 serves a request (not sampled: the ids are kept anyway) */
	memset(&x, 0, sizeof(x));
	x.server = true;
	x.tid = 101;
	tracer_http_start(t, &x);
	assert_true(x.trace.valid);
	assert_false(x.trace.sampled);

	n = rec(buf, 4242, 101, 1,
		"{\"level\":\"error\",\"msg\":\"pay\",\"password\":\"s3cr3t\"}\n");
	logs_record(l, (const void *)buf, n, 0);
	assert_int_equal(s.n, 1);
	assert_true(s.last.has_trace);
	assert_false(s.last.sampled);
	assert_memory_equal(s.last.trace_id, x.trace.trace_id, 16);
	assert_memory_equal(s.last.span_id, x.trace.span_id, 8);
	assert_int_equal(s.last.severity, LOG_SEV_ERROR);
	assert_null(strstr(s.body, "s3cr3t"));
	assert_non_null(strstr(s.body, "[REDACTED]"));

	/* another thread serves nothing: no ids */
	n = rec(buf, 4242, 102, 2, "WARN idle\n");
	logs_record(l, (const void *)buf, n, 0);
	assert_int_equal(s.n, 2);
	assert_false(s.last.has_trace);
	assert_int_equal(s.last.fd, 2);

	/* a line naming its own trace keeps it */
	n = rec(buf, 4242, 101, 1,
		"level=info trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7\n");
	logs_record(l, (const void *)buf, n, 0);
	assert_int_equal(s.last.trace_id[0], 0x4b);
	assert_int_equal(s.last.span_id[0], 0x00);
	assert_int_equal(s.last.span_id[1], 0xf0);

	/* malformed records are counted, not parsed */
	((struct rt_data_event *)buf)->cap_len = 4000;
	logs_record(l, (const void *)buf, n, 0);
	{
		struct logs_stats st;

		logs_stats(l, &st);
		assert_int_equal(st.bad, 1);
		assert_int_equal(st.lines, 3);
		assert_int_equal(st.redacted, 1);
		assert_int_equal(st.correlated, 2);
	}
	logs_free(l);
	tracer_free(t);
	procs_free(p);
}

/* What follows the labels on the OpenMetrics line of the series of severity sev. */
static const char *om_line(const char *om, const char *sev, char *line, size_t cap)
{
	char key[64];
	const char *at, *end;

	snprintf(key, sizeof(key), "severity=\"%s\"} ", sev);
	at = strstr(om, key);
	if (!at)
		return NULL;
	at += strlen(key);
	end = strchr(at, '\n');
	snprintf(line, cap, "%.*s", (int)(end - at), at);
	return line;
}

static void hex(char *out, const uint8_t *id, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", id[i]);
}

/* log_records_total keeps the latest correlated WARN-or-worse line as its series' exemplar. */
static void test_logs_counter_exemplar(void **ts)
{
	struct procs_selectors none = {0};
	struct procs *p = procs_new(&none, (uint32_t)getpid());
	struct tracer_opts to = {.sampler = {.root = SAMPLER_ALWAYS_ON}};
	struct tracer *t = tracer_new(&to, NULL, NULL);
	struct metric_registry *reg = metric_registry_new();
	struct logs_opts o = {.procs = p, .tracer = t, .reg = reg, .max_series = 100};
	char err[256], tid[33], sid[17], want[160], line[256];
	struct http_exchange x;
	struct logs *l;
	uint8_t buf[1024];
	char *om, *text;
	size_t n;

	(void)ts;
	assert_non_null(p);
	assert_non_null(t);
	assert_non_null(reg);
	l = logs_new(&o, err, sizeof(err));
	assert_non_null(l);
	memset(&x, 0, sizeof(x));
	x.server = true;
	x.tid = 101;
	tracer_http_start(t, &x);
	assert_true(x.trace.valid);

	/* an error outside any request, then one inside: the correlated one is kept */
	n = rec(buf, 4242, 102, 2, "{\"level\":\"error\",\"msg\":\"idle\"}\n");
	logs_record(l, (const void *)buf, n, 0);
	n = rec(buf, 4242, 101, 2, "{\"level\":\"error\",\"msg\":\"pay\"}\n");
	logs_record(l, (const void *)buf, n, 0);
	n = rec(buf, 4242, 102, 2, "{\"level\":\"error\",\"msg\":\"idle again\"}\n");
	logs_record(l, (const void *)buf, n, 0);
	/* INFO inside the request: counted, never an exemplar; WARN: one */
	n = rec(buf, 4242, 101, 1, "INFO paid\n");
	logs_record(l, (const void *)buf, n, 0);
	n = rec(buf, 4242, 101, 1, "WARN slow\n");
	logs_record(l, (const void *)buf, n, 0);

	assert_int_equal(prom_render(reg, PROM_FMT_OPENMETRICS, &om, NULL), 0);
	hex(tid, x.trace.trace_id, 16);
	hex(sid, x.trace.span_id, 8);
	/* ts 1000 ns monotonic + the offset to unix time: only the prefix is fixed */
	snprintf(want, sizeof(want), "3 # {trace_id=\"%s\",span_id=\"%s\"} 1 ", tid, sid);
	assert_non_null(om_line(om, "ERROR", line, sizeof(line)));
	assert_memory_equal(line, want, strlen(want));
	assert_non_null(om_line(om, "WARN", line, sizeof(line)));
	assert_non_null(strstr(line, tid));
	assert_non_null(om_line(om, "INFO", line, sizeof(line)));
	assert_string_equal(line, "1");
	/* the 0.0.4 text format has none */
	assert_int_equal(prom_render(reg, PROM_FMT_TEXT, &text, NULL), 0);
	assert_non_null(strstr(text, "severity=\"ERROR\"} 3\n"));
	assert_null(strstr(text, "trace_id"));
	free(text);
	free(om);

	logs_free(l);
	metric_registry_free(reg);
	tracer_free(t);
	procs_free(p);
}

/* --- OTLP encoding --- */

static void test_otlp_encode_logs(void **ts)
{
	struct otlp_resource_ctx r;
	struct log_record *a = calloc(1, sizeof(*a) + 16), *b = calloc(1, sizeof(*b) + 16);
	const struct log_record *batch[2] = {a, b};
	Otlpb__ExportLogsServiceRequest *req;
	Otlpb__LogRecord *lr;
	uint8_t *body;
	size_t len;

	(void)ts;
	assert_int_equal(otlp_resource_ctx_init(&r, NULL), 0);
	a->pid = b->pid = 1;
	strcpy(a->service, "svc");
	strcpy(b->service, "svc");
	a->severity = LOG_SEV_ERROR;
	strcpy(a->severity_text, "ERROR");
	a->has_trace = true;
	a->sampled = true;
	memset(a->trace_id, 0xab, 16);
	memset(a->span_id, 0xcd, 8);
	a->fd = 2;
	a->nattrs = 1;
	strcpy(a->attrs[0].key, "user");
	strcpy(a->attrs[0].val, "42");
	a->body_len = 5;
	memcpy(a->body, "hello", 5);
	b->body_len = 2;
	memcpy(b->body, "\xff!", 2); /* not UTF-8: repaired */
	assert_int_equal(otlp_encode_logs(&r, batch, 2, &body, &len), 0);
	req = otlpb__export_logs_service_request__unpack(NULL, len, body);
	assert_non_null(req);
	assert_int_equal(req->n_resource_logs, 1);
	assert_int_equal(req->resource_logs[0]->scope_logs[0]->n_log_records, 2);
	lr = req->resource_logs[0]->scope_logs[0]->log_records[0];
	assert_string_equal(lr->body->string_value, "hello");
	assert_int_equal(lr->severity_number, 17);
	assert_string_equal(lr->severity_text, "ERROR");
	assert_int_equal(lr->trace_id.len, 16);
	assert_int_equal(lr->trace_id.data[0], 0xab);
	assert_int_equal(lr->flags, 1);
	assert_int_equal(lr->n_attributes, 2);
	assert_string_equal(lr->attributes[0]->value->string_value, "stderr");
	assert_string_equal(lr->attributes[1]->key, "user");
	lr = req->resource_logs[0]->scope_logs[0]->log_records[1];
	assert_false(lr->has_trace_id);
	assert_false(lr->has_severity_number);
	otlpb__export_logs_service_request__free_unpacked(req, NULL);
	free(body);
	free(a);
	free(b);
	otlp_resource_ctx_release(&r);
}

/* Log files (logs.files): a record whose conn.gen is a file's id is named
 * by that file (log.file.path, log.file.name) instead of log.iostream. */
static void test_logs_file_records(void **ts)
{
	const char *globs[] = {"/var/log/app/*.log"};
	struct procs_selectors none = {0};
	struct procs *p = procs_new(&none, (uint32_t)getpid());
	struct logfiles *lf = logfiles_new(globs, 1);
	struct sink s = {0};
	struct logs_opts o = {.procs = p, .files = lf, .emit = on_record, .ctx = &s};
	const struct log_record *batch[1];
	struct otlp_resource_ctx r;
	Otlpb__ExportLogsServiceRequest *req;
	Otlpb__LogRecord *lr;
	uint8_t buf[1024], *body;
	struct logs *l;
	char err[256];
	uint32_t id;
	size_t n, len;

	(void)ts;
	assert_non_null(p);
	assert_non_null(lf);
	id = logfiles_decide(lf, 8, 99, "/var/log/app/error.log");
	assert_int_not_equal(id, 0);
	l = logs_new(&o, err, sizeof(err));
	assert_non_null(l);
	n = rec(buf, 4242, 101, 7, "2026/12/04 10:00:00 [error] 12#12: open() failed\n");
	((struct rt_data_event *)buf)->conn.gen = id;
	logs_record(l, (const void *)buf, n, 0);
	assert_int_equal(s.n, 1);
	assert_true(s.last.flags & LOG_RECORD_FILE);
	assert_string_equal(s.last.file_path, "/var/log/app/error.log");
	assert_int_equal(s.last.severity, LOG_SEV_ERROR);

	assert_int_equal(otlp_resource_ctx_init(&r, NULL), 0);
	batch[0] = &s.last; /* body_len 0 would do; use the body kept in the sink */
	s.last.body_len = 0;
	assert_int_equal(otlp_encode_logs(&r, batch, 1, &body, &len), 0);
	req = otlpb__export_logs_service_request__unpack(NULL, len, body);
	assert_non_null(req);
	lr = req->resource_logs[0]->scope_logs[0]->log_records[0];
	assert_int_equal(lr->n_attributes, 2);
	assert_string_equal(lr->attributes[0]->key, "log.file.path");
	assert_string_equal(lr->attributes[0]->value->string_value, "/var/log/app/error.log");
	assert_string_equal(lr->attributes[1]->key, "log.file.name");
	assert_string_equal(lr->attributes[1]->value->string_value, "error.log");
	otlpb__export_logs_service_request__free_unpacked(req, NULL);
	free(body);
	otlp_resource_ctx_release(&r);

	/* an id the table no longer knows: a file's record, without a path */
	n = rec(buf, 4242, 101, 7, "INFO x\n");
	((struct rt_data_event *)buf)->conn.gen = id + 5;
	logs_record(l, (const void *)buf, n, 0);
	assert_int_equal(s.n, 2);
	assert_true(s.last.flags & LOG_RECORD_FILE);
	assert_string_equal(s.last.file_path, "");
	logs_free(l);
	logfiles_free(lf);
	procs_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_json_loggers),
	    cmocka_unit_test(test_json_own_ids_and_bounds),
	    cmocka_unit_test(test_logfmt_and_text),
	    cmocka_unit_test(test_reassembly),
	    cmocka_unit_test(test_reassembly_eviction),
	    cmocka_unit_test(test_redaction_defaults),
	    cmocka_unit_test(test_logs_correlate_and_redact),
	    cmocka_unit_test(test_logs_counter_exemplar),
	    cmocka_unit_test(test_otlp_encode_logs),
	    cmocka_unit_test(test_logs_file_records),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
