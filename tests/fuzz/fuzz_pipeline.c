// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_pipeline.c - fuzz target for the whole daemon pipeline
 * (user/core/pipeline.c) as the event loop drives it: ring-buffer records
 * of several connections interleaved, each connection's protocol found by
 * the classifier (HTTP/1, HTTP/2, PostgreSQL, Redis, or none), spans made
 * by a tracer that samples everything and encoded as OTLP, sweeps and
 * drains in between. The per-parser targets try each parser alone; this
 * one tries what lies between them: classification, hand-overs, closes in
 * the middle of an exchange, capture gaps, raw records of any type and
 * length, and shared-memory shim records.
 *
 * Input: operations, each [u8 op][u8 dt] (the clock moves dt * 50 us) and
 * then, by op % 7:
 *   0 open   [u8 conn][u8 role][u16 local port][u16 remote port]
 *   1,2 data [u8 conn][u8 flags: bit 0 egress, bit 1 TLS][u8 gap][u16 n][n bytes]
 *            (gap >= 240: the syscall moved (gap - 239) * 1000 bytes more
 *            than were captured)
 *   3 close  [u8 conn]
 *   4 sweep  [u16 ms] then a sweep and a drain's flush
 *   5 raw    [u16 n][n bytes] as one ring-buffer record, its thread forced
 *            to the fuzzed processes (no real process is touched)
 *   6 ring   [u16 n][n bytes] as one shared-memory shim record
 * Eight connections of two processes whose ids no real process has. Each
 * span must encode into an OTLP body that decodes, with UTF-8 strings only
 * (otlp_utf8_valid(): no overlongs, surrogates or code points past
 * U+10FFFF).
 * At the end the registry is rendered, and every line of the exposition
 * must be a comment or start with a metric name: fuzzed bytes in a label
 * value must never start a line of their own.
 */
#include <ctype.h>

#include "../unit/records.h"
#include "fuzz.h"
#include "otlp_build.h"
#include "otlp_encode.h"
#include "otlp_resource.h"
#include "prom.h"
#include "proto/otlp_trace.pb-c.h"
#include "tracer.h"

#define NCONN 8
#define TGID  0x7ffffff0u /* above any pid_max: no /proc entry to read */
#define US    1000ull

static void check_attrs(Otlpb__KeyValue **kv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		fuzz_check(otlp_utf8_valid(kv[i]->key));
		if (kv[i]->value && kv[i]->value->value_case == OTLPB__ANY_VALUE__VALUE_STRING_VALUE)
			fuzz_check(otlp_utf8_valid(kv[i]->value->string_value));
	}
}

/* Each span the tracer exports is encoded as the OTLP exporter would send
 * it; the body must decode, and every string in it must be UTF-8 however
 * the fuzzed bytes that filled it looked. */
static void on_span(void *ctx, const struct span *s)
{
	struct otlp_resource_ctx *r = ctx;
	Otlpb__ExportTraceServiceRequest *req;
	uint8_t *body = NULL;
	size_t len = 0;

	fuzz_check(otlp_encode_traces(r, &s, 1, &body, &len) == 0);
	req = otlpb__export_trace_service_request__unpack(NULL, len, body);
	fuzz_check(req && req->n_resource_spans == 1);
	for (size_t i = 0; i < req->n_resource_spans; i++) {
		Otlpb__ResourceSpans *rs = req->resource_spans[i];

		if (rs->resource)
			check_attrs(rs->resource->attributes, rs->resource->n_attributes);
		for (size_t j = 0; j < rs->n_scope_spans; j++)
			for (size_t k = 0; k < rs->scope_spans[j]->n_spans; k++) {
				Otlpb__Span *sp = rs->scope_spans[j]->spans[k];

				fuzz_check(otlp_utf8_valid(sp->name));
				check_attrs(sp->attributes, sp->n_attributes);
			}
	}
	otlpb__export_trace_service_request__free_unpacked(req, NULL);
	free(body);
}

static struct rt_conn_id conn_of(unsigned c, const uint64_t *gen)
{
	return (struct rt_conn_id){.gen = gen[c], .tgid = TGID + (c & 1), .fd = 3 + c};
}

/* A new connection (the next generation) in slot c. */
static void open_record(struct pipeline *p, struct fuzz_in *in, uint64_t *gen, uint64_t now)
{
	unsigned c = fuzz_take_u(in, 1) % NCONN;
	uint8_t role = fuzz_take_u(in, 1) % 3;
	uint16_t lport = fuzz_take_u(in, 2), rport = fuzz_take_u(in, 2);
	struct rt_conn_id id;

	gen[c]++;
	id = conn_of(c, gen);
	rec_open(p, &id, now, rec_ep(127, 0, 0, 1, lport), rec_ep(127, 0, 0, 1, rport), role);
}

static void raw_record(struct pipeline *p, struct fuzz_in *in)
{
	size_t n = fuzz_take_u(in, 2) % 1024;
	uint8_t *buf = fuzz_take_copy(in, &n);

	if (n >= sizeof(struct rt_event_hdr)) {
		struct rt_event_hdr *h = (struct rt_event_hdr *)buf;

		h->pid_tgid = (uint64_t)(TGID + (h->pid_tgid & 1)) << 32 | (uint32_t)h->pid_tgid;
	}
	pipeline_record(p, buf, n);
	free(buf);
}

static void ring_record(struct pipeline *p, struct fuzz_in *in)
{
	size_t n = fuzz_take_u(in, 2) % 1024;
	uint8_t *buf = fuzz_take_copy(in, &n);

	pipeline_ring_record(p, buf, n);
	free(buf);
}

static void data_record(struct pipeline *p, struct fuzz_in *in, const uint64_t *gen, uint64_t now)
{
	unsigned c = fuzz_take_u(in, 1) % NCONN, flags = fuzz_take_u(in, 1),
		 gap = fuzz_take_u(in, 1);
	size_t n = fuzz_take_u(in, 2) % 4096, unseen = gap >= 240 ? (gap - 239) * 1000u : 0;
	struct rt_conn_id id = conn_of(c, gen);
	const uint8_t *bytes = fuzz_take(in, &n);
	struct rt_data_event *ev = calloc(1, sizeof(*ev) + n);

	if (!ev)
		abort();
	memcpy(ev->data, bytes, n);
	rec_hdr(&ev->hdr, RT_EV_DATA, (uint32_t)(sizeof(*ev) + n), now, id.tgid, id.tgid + c);
	ev->conn = id;
	ev->len = n + unseen;
	ev->cap_len = (uint32_t)n;
	ev->dir = flags & 1 ? RT_DIR_EGRESS : RT_DIR_INGRESS;
	ev->flags = flags & 2 ? RT_DATA_F_TLS : 0;
	pipeline_record(p, ev, sizeof(*ev) + n);
	free(ev);
}

/* Every line of text is a comment or starts with a metric name. */
static void check_exposition(struct metric_registry *reg)
{
	char *text = NULL;
	size_t len = 0;

	fuzz_check(prom_render(reg, PROM_FMT_TEXT, &text, &len) == 0);
	fuzz_check(strlen(text) == len);
	for (const char *line = text; *line; line = strchr(line, '\n') + 1) {
		fuzz_check(strchr(line, '\n'));
		fuzz_check(*line == '#' || isalpha((unsigned char)*line) || *line == '_');
	}
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	struct tracer_opts to = {.sampler = {.root = SAMPLER_ALWAYS_ON, .parent_based = true}};
	static struct otlp_resource_ctx res; /* its pid cache only: no state an input sees */
	struct tracer *t = tracer_new(&to, on_span, &res);
	struct pipeline_opts o = {.max_series = 64, .max_conns = NCONN / 2, .tracer = t};
	uint64_t gen[NCONN] = {0}, now = 1000 * 1000 * US;
	struct rec_world w;

	fuzz_check(t);
	if (!res.host[0])
		fuzz_check(otlp_resource_ctx_init(&res, "deployment.environment=fuzz") == 0);
	fuzz_check(rec_world_open(&w, o) == 0);
	while (in.left >= 2) {
		unsigned op = fuzz_take_u(&in, 1) % 7, c;
		struct rt_conn_id id;

		now += fuzz_take_u(&in, 1) * 50 * US;
		switch (op) {
		case 0:
			open_record(w.pipe, &in, gen, now);
			break;
		case 1:
		case 2:
			data_record(w.pipe, &in, gen, now);
			break;
		case 3:
			c = fuzz_take_u(&in, 1) % NCONN;
			id = conn_of(c, gen);
			rec_close(w.pipe, &id, now);
			break;
		case 4:
			now += fuzz_take_u(&in, 2) * 1000 * US;
			pipeline_sweep(w.pipe, now);
			pipeline_flush(w.pipe);
			break;
		case 5:
			raw_record(w.pipe, &in);
			break;
		default:
			ring_record(w.pipe, &in);
			break;
		}
	}
	pipeline_flush(w.pipe);
	check_exposition(w.reg);
	if (size & 1)
		pipeline_stopping(w.pipe);
	rec_world_close(&w);
	tracer_free(t);
	return 0;
}
