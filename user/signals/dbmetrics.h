/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * dbmetrics.h - records database and cache operations (struct db_op from
 * shim_decode.h) into the histogram db.client.operation.duration of
 * semconv.h (unit s, the conventions' advised buckets 0.001 ... 10 s;
 * db_client_operation_duration_seconds on /metrics), labelled
 * service_name, db_system_name, db_operation_name, db_namespace,
 * server_address, server_port, error_type, db_response_status_code,
 * db_query_summary.
 *
 * API: dbmetrics_new() declares the family in a registry (user/signals/metrics.h)
 * with a cap of max_series label sets (past it the registry folds new ones
 * into its overflow series); dbmetrics_record() observes one operation
 * (hello records are ignored); dbmetrics_free() frees only this handle: the
 * family belongs to the registry.
 *
 * Thread-safety: one thread at a time records (the pipeline's: a table of
 * memos of recent series, see dbmetrics.c); the registry may be read
 * meanwhile.
 */
#ifndef REDTAP_DBMETRICS_H
#define REDTAP_DBMETRICS_H

#include <stddef.h>
#include <stdint.h>

#include "metrics.h"
#include "shim_decode.h"

struct dbmetrics;

/* NULL and errno on failure (EINVAL if the name is taken, ENOMEM). */
struct dbmetrics *dbmetrics_new(struct metric_registry *r, size_t max_series);
void dbmetrics_record(struct dbmetrics *m, const struct db_op *op, const char *service_name);
/* The same, with the exported span's ids (binary, 16 and 8 bytes) attached
 * to the bucket as an exemplar; NULL ids record none. */
void dbmetrics_record_ex(struct dbmetrics *m, const struct db_op *op, const char *service_name,
			 const uint8_t trace_id[16], const uint8_t span_id[8]);
/* NULL is ok. */
void dbmetrics_free(struct dbmetrics *m);

/* The family, for tests and exporters. */
struct metric_family *dbmetrics_family(const struct dbmetrics *m);

#endif /* REDTAP_DBMETRICS_H */
