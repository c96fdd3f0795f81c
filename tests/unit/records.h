/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * records.h - a pipeline (user/core/pipeline.h) with its own registry and
 * process table, and ring-buffer records (include/redtap/event.h) built and
 * fed to it, for the unit tests that drive the daemon's pipeline from raw
 * records (test_pipeline.c, test_tracer.c, test_selfmetrics.c).
 * Header-only: each test program includes it once.
 */
#ifndef REDTAP_TEST_RECORDS_H
#define REDTAP_TEST_RECORDS_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "pipeline.h"
#include "procs.h"
#include "redtap/event.h"

/* A pipeline and what it borrows, wired as the agent does (no selection). */
struct rec_world {
	struct metric_registry *reg;
	struct procs *procs;
	struct pipeline *pipe;
};

/* o gives the bounds, hooks and tracer; its registry and process table are
 * made here. 0 or -ENOMEM (what was made stays for rec_world_close). */
static inline int rec_world_open(struct rec_world *w, struct pipeline_opts o)
{
	struct procs_selectors none = {0};

	w->reg = metric_registry_new();
	w->procs = procs_new(&none, 0);
	if (!w->reg || !w->procs)
		return -ENOMEM;
	o.reg = w->reg;
	o.procs = w->procs;
	w->pipe = pipeline_new(&o);
	return w->pipe ? 0 : -ENOMEM;
}

/* The pipeline first: closing its connections reports into the rest. */
static inline void rec_world_close(struct rec_world *w)
{
	pipeline_free(w->pipe);
	procs_free(w->procs);
	metric_registry_free(w->reg);
	*w = (struct rec_world){0};
}

static inline void rec_hdr(struct rt_event_hdr *h, uint16_t type, uint32_t len, uint64_t ts,
			   uint32_t tgid, uint32_t tid)
{
	h->ts = ts;
	h->pid_tgid = (uint64_t)tgid << 32 | tid;
	h->len = len;
	h->type = type;
	h->version = RT_EVENT_VERSION;
}

/* An IPv4-mapped endpoint, a.b.c.d:port. */
static inline struct rt_endpoint rec_ep(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port)
{
	struct rt_endpoint e = {.port = port};

	e.addr[10] = e.addr[11] = 0xff;
	e.addr[12] = a;
	e.addr[13] = b;
	e.addr[14] = c;
	e.addr[15] = d;
	return e;
}

static inline int rec_open(struct pipeline *p, const struct rt_conn_id *id, uint64_t ts,
			   struct rt_endpoint local, struct rt_endpoint remote, uint8_t role)
{
	struct rt_conn_event ev;

	memset(&ev, 0, sizeof(ev));
	rec_hdr(&ev.hdr, RT_EV_CONN_OPEN, sizeof(ev), ts, id->tgid, id->tgid);
	ev.conn = *id;
	ev.family = 2; /* AF_INET */
	ev.role = role;
	ev.local = local;
	ev.remote = remote;
	return pipeline_record(p, &ev, sizeof(ev));
}

static inline int rec_close(struct pipeline *p, const struct rt_conn_id *id, uint64_t ts)
{
	struct {
		struct rt_event_hdr hdr;
		struct rt_conn_id conn;
	} ev;

	memset(&ev, 0, sizeof(ev));
	rec_hdr(&ev.hdr, RT_EV_CONN_CLOSE, sizeof(ev), ts, id->tgid, id->tgid);
	ev.conn = *id;
	return pipeline_record(p, &ev, sizeof(ev));
}

/* len bytes of s as one data record (all of them captured). */
/* A data record with rt_data_event.flags (RT_DATA_F_TLS: TLS plaintext). */
static inline int rec_data_flags(struct pipeline *p, const struct rt_conn_id *id, uint8_t dir,
				 uint64_t ts, uint32_t tid, const void *s, size_t len,
				 uint8_t flags)
{
	struct rt_data_event *ev = calloc(1, sizeof(*ev) + len);
	int rc;

	if (!ev)
		return -1;
	rec_hdr(&ev->hdr, RT_EV_DATA, (uint32_t)(sizeof(*ev) + len), ts, id->tgid, tid);
	ev->conn = *id;
	ev->len = len;
	ev->cap_len = (uint32_t)len;
	ev->dir = dir;
	ev->flags = flags;
	memcpy(ev->data, s, len);
	rc = pipeline_record(p, ev, sizeof(*ev) + len);
	free(ev);
	return rc;
}

static inline int rec_data_n(struct pipeline *p, const struct rt_conn_id *id, uint8_t dir,
			     uint64_t ts, uint32_t tid, const void *s, size_t len)
{
	return rec_data_flags(p, id, dir, ts, tid, s, len, 0);
}

static inline int rec_data(struct pipeline *p, const struct rt_conn_id *id, uint8_t dir,
			   uint64_t ts, uint32_t tid, const char *s)
{
	return rec_data_n(p, id, dir, ts, tid, s, strlen(s));
}

#endif /* REDTAP_TEST_RECORDS_H */
