// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_pipeline.c - unit tests for the daemon's pipeline
 * (user/core/pipeline.c), driven with raw ring-buffer records as the agent
 * gets them: an HTTP exchange becomes a series, malformed records and
 * records for a full connection table are counted, a connection of an
 * unknown protocol is handed back to the kernel once, an HTTP/2 one gets
 * the wide capture asked for once (HTTP/1 never), a process exit
 * closes its connections at once (record order), a malformed shim record is
 * counted, and parse errors are counted by protocol and reason.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "metrics.h"
#include "pipeline.h"
#include "prom.h"
#include "promtext.h"
#include "records.h"
#include "selfmetrics.h"

#define MS   1000000ull
#define TGID 4242

struct fx {
	struct rec_world w;
	unsigned opaque_calls;
	struct rt_conn_id opaque_id;
	unsigned wide_calls;
	struct rt_conn_id wide_id;
	char *text; /* last render */
};

static int set_opaque(void *ctx, uint32_t tgid, uint32_t fd, uint64_t gen)
{
	struct fx *f = ctx;

	f->opaque_calls++;
	f->opaque_id = (struct rt_conn_id){.gen = gen, .tgid = tgid, .fd = fd};
	return 0;
}

static int set_wide(void *ctx, uint32_t tgid, uint32_t fd, uint64_t gen)
{
	struct fx *f = ctx;

	f->wide_calls++;
	f->wide_id = (struct rt_conn_id){.gen = gen, .tgid = tgid, .fd = fd};
	return 0;
}

static void fx_open(struct fx *f, size_t max_conns)
{
	struct pipeline_opts o = {
	    .max_series = 100,
	    .max_conns = max_conns,
	    .hooks = {.set_opaque = set_opaque, .set_wide = set_wide, .ctx = f},
	};

	assert_int_equal(rec_world_open(&f->w, o), 0);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	fx_open(f, 16);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	rec_world_close(&f->w);
	free(f->text);
	free(f);
	return 0;
}

static const char *render(struct fx *f)
{
	return promtext_into(&f->text, f->w.reg, PROM_FMT_TEXT);
}

static struct rt_conn_id conn_id(uint32_t fd)
{
	return (struct rt_conn_id){.gen = 1, .tgid = TGID, .fd = fd};
}

static void open_server(struct fx *f, uint32_t fd, uint64_t ts)
{
	struct rt_conn_id id = conn_id(fd);

	assert_int_equal(rec_open(f->w.pipe, &id, ts, rec_ep(127, 0, 0, 1, 8080),
				  rec_ep(127, 0, 0, 1, (uint16_t)(40000 + fd)), RT_ROLE_SERVER),
			 0);
}

static void in(struct fx *f, uint32_t fd, uint64_t ts, const char *s)
{
	struct rt_conn_id id = conn_id(fd);

	assert_int_equal(rec_data(f->w.pipe, &id, RT_DIR_INGRESS, ts, TGID, s), 0);
}

static void out(struct fx *f, uint32_t fd, uint64_t ts, const char *s)
{
	struct rt_conn_id id = conn_id(fd);

	assert_int_equal(rec_data(f->w.pipe, &id, RT_DIR_EGRESS, ts, TGID, s), 0);
}

static const char OK[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

static void test_exchange_becomes_series(void **state)
{
	struct fx *f = *state;
	struct pipeline_stats st;
	const char *text;

	open_server(f, 5, 1 * MS);
	in(f, 5, 2 * MS, "GET /api/users/17 HTTP/1.1\r\nHost: shop\r\n\r\n");
	out(f, 5, 5 * MS, OK);
	pipeline_stats(f->w.pipe, &st);
	assert_int_equal(st.exchanges, 1);
	assert_int_equal(st.events[RT_EV_CONN_OPEN], 1);
	assert_int_equal(st.events[RT_EV_DATA], 2);
	assert_int_equal(st.bad_records, 0);
	assert_true(st.nfamilies >= 2);
	text = render(f);
	assert_non_null(strstr(text, "http_server_request_duration_seconds_count{"));
	assert_non_null(strstr(text, "http_route=\"/api/users/{id}\""));
	assert_int_equal(f->opaque_calls, 0);
}

/* Plaintext from the TLS probes (RT_DATA_F_TLS) is parsed like syscall
 * bytes and its exchanges say url.scheme="https"; the others "http". */
static void test_tls_records_are_https(void **state)
{
	struct fx *f = *state;
	const char req[] = "GET /api/users/17 HTTP/1.1\r\nHost: shop\r\n\r\n";
	struct rt_conn_id id = conn_id(6);
	const char *text;

	open_server(f, 6, 1 * MS);
	assert_int_equal(rec_data_flags(f->w.pipe, &id, RT_DIR_INGRESS, 2 * MS, TGID, req,
					strlen(req), RT_DATA_F_TLS),
			 0);
	assert_int_equal(rec_data_flags(f->w.pipe, &id, RT_DIR_EGRESS, 3 * MS, TGID, OK, strlen(OK),
					RT_DATA_F_TLS),
			 0);
	open_server(f, 7, 4 * MS);
	in(f, 7, 5 * MS, req);
	out(f, 7, 6 * MS, OK);
	text = render(f);
	assert_non_null(strstr(text, "url_scheme=\"https\"} 1\n"));
	assert_non_null(strstr(text, "url_scheme=\"http\"} 1\n"));
	assert_int_equal(f->opaque_calls, 0);
}

static void test_bad_records_counted(void **state)
{
	struct fx *f = *state;
	struct rt_conn_id id = conn_id(5);
	struct rt_data_event ev;
	struct pipeline_stats st;

	memset(&ev, 0, sizeof(ev));
	rec_hdr(&ev.hdr, RT_EV_DATA, sizeof(ev), 1, TGID, TGID);
	ev.conn = id;
	ev.len = 10;
	ev.cap_len = 20; /* more captured than sent */
	pipeline_record(f->w.pipe, &ev, sizeof(ev));
	ev.hdr.version = RT_EVENT_VERSION + 1; /* unknown layout */
	pipeline_record(f->w.pipe, &ev, sizeof(ev));
	ev.hdr.version = RT_EVENT_VERSION;
	ev.hdr.type = RT_EV_TYPE_MAX; /* unknown type */
	pipeline_record(f->w.pipe, &ev, sizeof(ev));
	pipeline_record(f->w.pipe, &ev, sizeof(ev.hdr) - 1); /* truncated */
	pipeline_stats(f->w.pipe, &st);
	assert_int_equal(st.bad_records, 4);
	assert_int_equal(st.events[RT_EV_DATA], 1);
	assert_int_equal(st.exchanges, 0);
}

static void test_unknown_protocol_goes_opaque_once(void **state)
{
	struct fx *f = *state;

	open_server(f, 6, 1 * MS);
	for (int i = 0; i < 8; i++)
		in(f, 6, (uint64_t)(2 + i) * MS, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03");
	assert_int_equal(f->opaque_calls, 1);
	assert_int_equal(f->opaque_id.fd, 6);
	assert_int_equal(f->opaque_id.tgid, TGID);
	assert_int_equal(f->opaque_id.gen, 1);
}

/* A connection classified as HTTP/2 asks the kernel for the wide capture,
 * once; HTTP/1 and opaque connections never do. */
static void test_http2_asks_for_wide_capture_once(void **state)
{
	static const char settings[9] = {0, 0, 0, 4, 0, 0, 0, 0, 0};
	struct rt_conn_id id = conn_id(7);
	struct fx *f = *state;

	open_server(f, 5, 1 * MS);
	in(f, 5, 2 * MS, "GET / HTTP/1.1\r\nHost: shop\r\n\r\n");
	out(f, 5, 3 * MS, OK);
	open_server(f, 6, 1 * MS);
	for (int i = 0; i < 8; i++)
		in(f, 6, (uint64_t)(2 + i) * MS, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03");
	assert_int_equal(f->wide_calls, 0);

	open_server(f, 7, 4 * MS);
	in(f, 7, 5 * MS, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
	assert_int_equal(f->wide_calls, 1);
	assert_int_equal(f->wide_id.fd, 7);
	assert_int_equal(f->wide_id.tgid, TGID);
	assert_int_equal(f->wide_id.gen, 1);
	assert_int_equal(
	    rec_data_n(f->w.pipe, &id, RT_DIR_INGRESS, 6 * MS, TGID, settings, sizeof(settings)),
	    0);
	assert_int_equal(
	    rec_data_n(f->w.pipe, &id, RT_DIR_EGRESS, 7 * MS, TGID, settings, sizeof(settings)), 0);
	assert_int_equal(f->wide_calls, 1);
}

static void test_exit_closes_in_record_order(void **state)
{
	struct fx *f = *state;
	struct rt_event_hdr ex;
	struct pipeline_stats st;

	open_server(f, 7, 1 * MS);
	in(f, 7, 2 * MS, "GET /slow HTTP/1.1\r\n\r\n");
	rec_hdr(&ex, RT_EV_PROC_EXIT, sizeof(ex), 3 * MS, TGID, TGID);
	pipeline_record(f->w.pipe, &ex, sizeof(ex));
	pipeline_stats(f->w.pipe, &st);
	assert_int_equal(st.exchanges, 1); /* at the exit record: connection_closed */
	assert_non_null(strstr(render(f), "error_type=\"connection_closed\""));
	/* the connection is gone: a response now starts nothing */
	out(f, 7, 5 * MS, OK);
	pipeline_stats(f->w.pipe, &st);
	assert_int_equal(st.exchanges, 1);
}

/* More than 4 096 processes exit at once (a second's worth used to be
 * the cap): every one's connection closes, in record order. */
static void test_many_exits_all_handled(void **state)
{
	struct fx *f = *state;
	struct pipeline_stats st;
	struct rt_event_hdr ex;
	const uint32_t n = 5000;

	rec_world_close(&f->w);
	fx_open(f, 8192);
	for (uint32_t i = 0; i < n; i++) {
		struct rt_conn_id id = {.gen = i + 1, .tgid = 100000 + i, .fd = 5};

		rec_open(f->w.pipe, &id, 1 * MS, rec_ep(127, 0, 0, 1, 8080),
			 rec_ep(127, 0, 0, 1, 40000), RT_ROLE_SERVER);
		rec_data(f->w.pipe, &id, RT_DIR_INGRESS, 2 * MS, id.tgid,
			 "GET /x HTTP/1.1\r\n\r\n");
	}
	for (uint32_t i = 0; i < n; i++) {
		rec_hdr(&ex, RT_EV_PROC_EXIT, sizeof(ex), 3 * MS, 100000 + i, 100000 + i);
		pipeline_record(f->w.pipe, &ex, sizeof(ex));
	}
	pipeline_stats(f->w.pipe, &st);
	assert_int_equal(st.exchanges, n);
	assert_int_equal(st.conn_full, 0);
}

static void test_table_full_counted(void **state)
{
	struct fx *f = *state;
	struct pipeline_stats st;

	rec_world_close(&f->w);
	fx_open(f, 1);
	open_server(f, 8, 1 * MS);
	open_server(f, 9, 1 * MS);
	in(f, 9, 2 * MS, "GET / HTTP/1.1\r\n\r\n");
	pipeline_stats(f->w.pipe, &st);
	assert_int_equal(st.conn_full, 2);
}

static void test_bad_shim_record_counted(void **state)
{
	struct fx *f = *state;
	struct {
		struct rt_shim_event se;
		uint8_t junk[8];
	} ev;
	struct pipeline_stats st;

	memset(&ev, 0, sizeof(ev));
	rec_hdr(&ev.se.hdr, RT_EV_SHIM, sizeof(ev), 1, TGID, TGID);
	ev.se.len = sizeof(ev.junk);
	memset(ev.junk, 0xee, sizeof(ev.junk));
	pipeline_record(f->w.pipe, &ev, sizeof(ev));
	ev.se.len = 4096; /* longer than the record */
	pipeline_record(f->w.pipe, &ev, sizeof(ev));
	pipeline_ring_record(f->w.pipe, ev.junk, sizeof(ev.junk));
	pipeline_stats(f->w.pipe, &st);
	assert_int_equal(st.shim_bad, 3);
	assert_int_equal(st.events[RT_EV_SHIM], 2);
}

static uint64_t parse_errors(const struct pipeline_stats *st, const char *proto, const char *reason)
{
	for (size_t i = 0; i < st->nparse_errors; i++)
		if (!strcmp(st->parse_errors[i].protocol, proto) &&
		    !strcmp(st->parse_errors[i].reason, reason))
			return st->parse_errors[i].total;
	fail_msg("no parse error series %s/%s", proto, reason);
	return 0;
}

/* Garbage after a valid request on a keep-alive connection: counted by
 * protocol and reason, the connection goes opaque, and the self-metrics
 * show it under redtap_parse_errors_total{protocol,reason}. */
static void test_parse_errors_by_reason(void **state)
{
	struct fx *f = *state;
	struct selfmetrics *self = selfmetrics_new(f->w.reg);
	struct self_snapshot snap;
	struct pipeline_stats st;
	const char *text;

	assert_non_null(self);
	open_server(f, 5, 1 * MS);
	in(f, 5, 2 * MS, "GET /ok HTTP/1.1\r\nHost: shop\r\n\r\n");
	out(f, 5, 3 * MS, OK);
	in(f, 5, 4 * MS, "\x01\x02\xff garbage\r\n\r\n");
	pipeline_stats(f->w.pipe, &st);
	assert_int_equal(st.exchanges, 1);
	assert_int_equal(parse_errors(&st, "http", "bad_request_line"), 1);
	assert_int_equal(parse_errors(&st, "http", "bad_header"), 0);
	assert_int_equal(parse_errors(&st, "shim", "malformed_record"), 0);
	assert_int_equal(parse_errors(&st, "ringbuf", "malformed_record"), 0);
	assert_int_equal(f->opaque_calls, 1);
	assert_int_equal(f->opaque_id.fd, 5);

	pipeline_self_snapshot(f->w.pipe, &snap);
	selfmetrics_update(self, &snap);
	selfmetrics_update(self, &snap); /* running totals: no double count */
	text = render(f);
	assert_non_null(strstr(
	    text, "redtap_parse_errors_total{protocol=\"http\",reason=\"bad_request_line\"} 1\n"));
	assert_non_null(
	    strstr(text, "redtap_parse_errors_total{protocol=\"http\",reason=\"bad_header\"} 0\n"));
	selfmetrics_free(self);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_exchange_becomes_series),	 T(test_tls_records_are_https),
	    T(test_bad_records_counted),	 T(test_unknown_protocol_goes_opaque_once),
	    T(test_exit_closes_in_record_order), T(test_many_exits_all_handled),
	    T(test_table_full_counted),		 T(test_bad_shim_record_counted),
	    T(test_parse_errors_by_reason),	 T(test_http2_asks_for_wide_capture_once),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
