/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * dbwire.h - PostgreSQL (pgwire.h) and Redis (resp.h) as protocols of the
 * pipeline (protocol.h): database and cache operations from the socket
 * bytes of clients that do not load libpq or hiredis.
 *
 * API: pgwire_protocol and resp_protocol, for proto_set_add(). Each reports
 * a struct db_op per operation through the sink's db_op, the same record the
 * shim produces, so both land in db_client_operation_duration_seconds and
 * in spans alike:
 * - client side only: a connection on which the selected process is the
 *   database server (it sends the backend's messages) goes opaque at once;
 *   server-side metrics are not produced (docs/protocols.md);
 * - no double count with the shim: when the sink's db_covered() says the
 *   LD_PRELOAD shim reports this process's operations, the connection goes
 *   opaque and nothing it still had pending is reported;
 * - not the protocol after all: a framing error (bad type, length, start-up
 *   packet, nesting, line) before the first operation makes the connection
 *   opaque, e.g. a line protocol whose lines start like "PING";
 * - outcomes: failed -> error.type and db.response.status_code = SQLSTATE or
 *   Redis error prefix; not executed after an earlier error (pipelines,
 *   multi-statement queries, MULTI) -> error.type "pipeline_aborted", as the
 *   shim; pending at close -> "abandoned"; outcome hidden by a capture gap ->
 *   no error.
 * dbwire_cover_* is the set of covered processes the pipeline keeps for
 * db_covered(): bounded (DBWIRE_COVER_MAX; when full, new processes are not
 * covered, so the wire parsers keep counting them).
 *
 * Not thread-safe: the pipeline's thread makes every call.
 */
#ifndef REDTAP_DBWIRE_H
#define REDTAP_DBWIRE_H

#include <stdbool.h>
#include <stdint.h>

#include "protocol.h"

extern const struct protocol pgwire_protocol;
extern const struct protocol resp_protocol;

#define DBWIRE_COVER_MAX 4096

struct dbwire_cover;

/* NULL and errno on failure. */
struct dbwire_cover *dbwire_cover_new(void);
void dbwire_cover_free(struct dbwire_cover *s); /* NULL ok */
/* 0, or -ENOSPC when adding to a full set. */
int dbwire_cover_set(struct dbwire_cover *s, uint32_t tgid, bool on);
bool dbwire_cover_has(const struct dbwire_cover *s, uint32_t tgid);

#endif /* REDTAP_DBWIRE_H */
