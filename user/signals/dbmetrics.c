// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * dbmetrics.c - db.client.operation.duration (semconv.c) from shim operations;
 * label values in the order of the entry's attribute list.
 */
#include <errno.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>

#include "dbmetrics.h"
#include "k8slabels.h"
#include "semconv.h"
#include "strfmt.h"

struct dbmetrics {
	struct metric_family *fam;
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
	double secs;
	const char *values[9];
	char port[8] = "";
	struct metric_series *s;

	if (!m || !op || op->is_hello)
		return;
	if (op->server_port)
		str_int8(port, op->server_port);
	values[0] = service_name ? service_name : "";
	values[1] = op->system ? op->system : "";
	values[2] = op->operation;
	values[3] = op->namespace_;
	values[4] = op->server_address;
	values[5] = port;
	values[6] = op->error_type;
	values[7] = op->status_code;
	/* low cardinality by construction: operation + main table */
	values[8] = op->query_summary;
	s = k8slabels_series_get(m->fam, values, sizeof(values) / sizeof(values[0]), op->pid);
	if (!s)
		return;
	secs = op->end_ns > op->start_ns ? (double)(op->end_ns - op->start_ns) / 1e9 : 0.0;
	if (trace_id && span_id) {
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
