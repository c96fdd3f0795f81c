// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * dbmetrics.c - db.client.operation.duration (semconv.c) from shim and wire
 * operations; label values in the order of the entry's attribute list.
 *
 * An operation's series is found again through a small table of memos
 * (seriesmemo.h) keyed by the server port and fingerprinted by the query
 * summary and the process: a recall compares the label values (every one
 * but the port, which the key determines) instead of hashing all of them,
 * about a third of the instructions of a look-up (BENCHMARKS.md).
 */
#include <errno.h>
#include <math.h>
#include <time.h>
#include <stdlib.h>

#include "dbmetrics.h"
#include "semconv.h"
#include "seriesmemo.h"
#include "strfmt.h"

#define MEMO_SLOTS 64 /* a power of two, SERIESMEMO_WAYS or more */
#define PORT_LABEL 5  /* values[] position of server_port */
#define NVALUES	   9

struct dbmetrics {
	struct metric_family *fam;
	struct seriesmemo_slot memo[MEMO_SLOTS];
	unsigned memo_victim;
};

struct dbmetrics *dbmetrics_new(struct metric_registry *r, size_t max_series)
{
	struct dbmetrics *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->fam = semconv_family_new(r, &semconv_db_client_operation_duration, max_series);
	if (!m->fam) {
		int err = errno;

		free(m);
		errno = err;
		return NULL;
	}
	return m;
}

void dbmetrics_record(struct dbmetrics *m, const struct db_op *op, const char *service_name)
{
	dbmetrics_record_ex(m, op, service_name, NULL, NULL);
}

void dbmetrics_record_ex(struct dbmetrics *m, const struct db_op *op, const char *service_name,
			 const uint8_t trace_id[16], const uint8_t span_id[8])
{
	double secs, v;
	const char *values[NVALUES];
	char port[8] = "";
	struct metric_series *s;
	bool exemplar = trace_id && span_id;

	if (!m || !op || op->is_hello)
		return;
	if (op->server_port)
		str_int8(port, op->server_port);
	values[0] = service_name ? service_name : "";
	values[1] = op->system ? op->system : "";
	values[2] = op->operation;
	values[3] = op->namespace_;
	values[4] = op->server_address;
	values[PORT_LABEL] = port;
	values[6] = op->error_type;
	values[7] = op->status_code;
	/* low cardinality by construction: operation + main table */
	values[8] = op->query_summary;
	secs = op->end_ns > op->start_ns ? (double)(op->end_ns - op->start_ns) / 1e9 : 0.0;
	v = secs;
	/* the key determines the port label: 1 << 63 keeps it non-zero */
	s = seriesmemo_get(m->memo, MEMO_SLOTS, &m->memo_victim, m->fam, values, NVALUES, op->pid,
			   (uint64_t)op->server_port | 1ull << 63, values[8], 1ull << PORT_LABEL,
			   exemplar ? NULL : &v);
	if (!s || isnan(v))
		return; /* none, or observed with the recall */
	if (exemplar) {
		struct timespec now;

		clock_gettime(CLOCK_REALTIME, &now);
		metric_histogram_observe_exemplar(s, secs, trace_id, span_id,
						  (double)now.tv_sec + (double)now.tv_nsec / 1e9);
	} else {
		metric_histogram_observe(s, secs);
	}
}

void dbmetrics_free(struct dbmetrics *m)
{
	free(m);
}

struct metric_family *dbmetrics_family(const struct dbmetrics *m)
{
	return m->fam;
}
