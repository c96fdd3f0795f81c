// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pq.c - the shim's libpq wrappers. Every query path is timed once:
 *   - synchronous: PQexec, PQexecParams, PQprepare, PQexecPrepared,
 *     PQdescribePrepared, PQdescribePortal, PQfn (one record each, unless
 *     the result starts a COPY: then the operation stays pending);
 *   - asynchronous and pipeline mode: PQsendQuery, PQsendQueryParams,
 *     PQsendPrepare, PQsendQueryPrepared, PQsendDescribe* queue an entry in
 *     the connection's FIFO; PQgetResult feeds results to the oldest entry
 *     and ends it when it returns NULL (at the time its final result came
 *     back). PGRES_PIPELINE_SYNC results are not followed by NULL and
 *     belong to no entry; PGRES_PIPELINE_ABORTED marks the entry as an
 *     error;
 *   - COPY: the operation that returned PGRES_COPY_* ends with its final
 *     result from PQgetResult (PQputCopyEnd / PQgetCopyData returning -1 or
 *     -2 mark the latest possible end when the caller never asks for it);
 *   - PQfinish, PQreset*: pending operations end (as errors when no result
 *     came); connect functions forget stale state for a recycled address.
 * Host, port and database come from PQhost/PQport/PQdb on first use.
 *
 * No libpq header is included: the few types and constants are declared
 * here, and the real functions are found at run time (resolve.h).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "conns.h"
#include "core.h"
#include "resolve.h"

typedef struct pg_conn PGconn;
typedef struct pg_result PGresult;
typedef unsigned int Oid;
typedef struct {
	int len;
	int isint;
	union {
		int *ptr;
		int integer;
	} u;
} PQArgBlock;

/* ExecStatusType, ConnStatusType, PGpipelineStatus values (stable ABI). */
enum {
	PGRES_EMPTY_QUERY = 0,
	PGRES_COMMAND_OK = 1,
	PGRES_TUPLES_OK = 2,
	PGRES_COPY_OUT = 3,
	PGRES_COPY_IN = 4,
	PGRES_BAD_RESPONSE = 5,
	PGRES_NONFATAL_ERROR = 6,
	PGRES_FATAL_ERROR = 7,
	PGRES_COPY_BOTH = 8,
	PGRES_SINGLE_TUPLE = 9,
	PGRES_PIPELINE_SYNC = 10,
	PGRES_PIPELINE_ABORTED = 11,
};
#define PQ_CONNECTION_BAD 1
#define PQ_PIPELINE_OFF	  0
#define PQ_DIAG_SQLSTATE  'C'

/* The exported wrappers, declared so that -Wmissing-prototypes holds. */
#define PQ_DECL SHIM_EXPORT
PQ_DECL PGresult *PQexec(PGconn *conn, const char *query);
PQ_DECL PGresult *PQexecParams(PGconn *conn, const char *command, int nParams,
			       const Oid *paramTypes, const char *const *paramValues,
			       const int *paramLengths, const int *paramFormats, int resultFormat);
PQ_DECL PGresult *PQprepare(PGconn *conn, const char *stmtName, const char *query, int nParams,
			    const Oid *paramTypes);
PQ_DECL PGresult *PQexecPrepared(PGconn *conn, const char *stmtName, int nParams,
				 const char *const *paramValues, const int *paramLengths,
				 const int *paramFormats, int resultFormat);
PQ_DECL PGresult *PQdescribePrepared(PGconn *conn, const char *stmt);
PQ_DECL PGresult *PQdescribePortal(PGconn *conn, const char *portal);
PQ_DECL PGresult *PQfn(PGconn *conn, int fnid, int *result_buf, int *result_len, int result_is_int,
		       const PQArgBlock *args, int nargs);
PQ_DECL int PQsendQuery(PGconn *conn, const char *query);
PQ_DECL int PQsendQueryParams(PGconn *conn, const char *command, int nParams, const Oid *paramTypes,
			      const char *const *paramValues, const int *paramLengths,
			      const int *paramFormats, int resultFormat);
PQ_DECL int PQsendPrepare(PGconn *conn, const char *stmtName, const char *query, int nParams,
			  const Oid *paramTypes);
PQ_DECL int PQsendQueryPrepared(PGconn *conn, const char *stmtName, int nParams,
				const char *const *paramValues, const int *paramLengths,
				const int *paramFormats, int resultFormat);
PQ_DECL int PQsendDescribePrepared(PGconn *conn, const char *stmt);
PQ_DECL int PQsendDescribePortal(PGconn *conn, const char *portal);
PQ_DECL PGresult *PQgetResult(PGconn *conn);
PQ_DECL int PQputCopyEnd(PGconn *conn, const char *errormsg);
PQ_DECL int PQgetCopyData(PGconn *conn, char **buffer, int async);
PQ_DECL PGconn *PQconnectdb(const char *conninfo);
PQ_DECL PGconn *PQconnectdbParams(const char *const *keywords, const char *const *values,
				  int expand_dbname);
PQ_DECL PGconn *PQsetdbLogin(const char *pghost, const char *pgport, const char *pgoptions,
			     const char *pgtty, const char *dbName, const char *login,
			     const char *pwd);
PQ_DECL PGconn *PQconnectStart(const char *conninfo);
PQ_DECL PGconn *PQconnectStartParams(const char *const *keywords, const char *const *values,
				     int expand_dbname);
PQ_DECL void PQreset(PGconn *conn);
PQ_DECL int PQresetStart(PGconn *conn);
PQ_DECL void PQfinish(PGconn *conn);

/* libpq accessors the shim calls but does not wrap. */
typedef int (*pq_status_fn)(const PGresult *res);
typedef char *(*pq_field_fn)(const PGresult *res, int fieldcode);
typedef int (*pq_conn_int_fn)(const PGconn *conn);
typedef char *(*pq_conn_str_fn)(const PGconn *conn);

#define PQ_HELPER(type, name)                                                                      \
	({                                                                                         \
		static void *cache_;                                                               \
		(type) shim_resolve(&cache_, SHIM_LIB_PQ, name, NULL);                             \
	})

static int pq_result_status(const PGresult *res)
{
	pq_status_fn fn = PQ_HELPER(pq_status_fn, "PQresultStatus");

	return fn ? fn(res) : PGRES_FATAL_ERROR;
}

static bool pq_conn_bad(const PGconn *conn)
{
	pq_conn_int_fn fn = PQ_HELPER(pq_conn_int_fn, "PQstatus");

	return !conn || (fn && fn(conn) == PQ_CONNECTION_BAD);
}

static bool pq_pipeline_on(const PGconn *conn)
{
	pq_conn_int_fn fn = PQ_HELPER(pq_conn_int_fn, "PQpipelineStatus"); /* libpq >= 14 */

	return conn && fn && fn(conn) != PQ_PIPELINE_OFF;
}

static void pq_learn_endpoint(struct endpoint *ep, const PGconn *conn)
{
	pq_conn_str_fn host = PQ_HELPER(pq_conn_str_fn, "PQhost");
	pq_conn_str_fn port = PQ_HELPER(pq_conn_str_fn, "PQport");
	pq_conn_str_fn db = PQ_HELPER(pq_conn_str_fn, "PQdb");
	const char *h = host ? host(conn) : NULL;
	const char *p = port ? port(conn) : NULL;
	unsigned v = 0;

	shim_strlcpy((uint8_t *)ep->host, sizeof(ep->host), h);
	shim_strlcpy((uint8_t *)ep->db, sizeof(ep->db), db ? db(conn) : NULL);
	ep->unix_sock = h && (h[0] == '/' || h[0] == '@');
	for (; p && *p >= '0' && *p <= '9' && v <= 65535; p++)
		v = v * 10 + (unsigned)(*p - '0');
	ep->port = (uint16_t)(v && v <= 65535 ? v : 5432);
	ep->known = 1;
}

/* The connection's entry (NULL when the table is full) and its endpoint,
 * which lands in *scratch when there is no entry. */
static struct conn *pq_conn(const PGconn *conn, struct endpoint *scratch,
			    const struct endpoint **ep)
{
	struct conn *c = conn ? conn_get(conn, RT_SHIM_SYS_POSTGRESQL) : NULL;
	struct endpoint *e = c ? &c->ep : scratch;

	if (!c)
		memset(scratch, 0, sizeof(*scratch));
	if (!e->known && conn)
		pq_learn_endpoint(e, conn);
	*ep = e;
	return c;
}

/* The clock for an operation that started at start_ns, read only when it
 * is timed (0: nobody listened when it started, and 0 it stays). */
static uint64_t pq_now(uint64_t start_ns)
{
	return start_ns ? shim_now() : 0;
}

/* One operation being timed by a wrapper. */
struct pq_call {
	PGconn *conn;
	uint64_t start_ns;
	const char *text;
	size_t text_len;       /* SIZE_MAX: NUL-terminated */
	const char *prep_name; /* PQprepare / PQsendPrepare: remember name -> text */
	uint8_t kind;
	uint8_t flags;
	bool truncated;
	int saved_errno;
};

static void pq_emit(const struct endpoint *ep, const PGconn *conn, const struct pend *p,
		    const char *text, size_t text_len, bool truncated, uint64_t end_ns)
{
	struct shim_wire w;

	/* Not timed: nobody listened when it started (see pq_call_begin). */
	if (!p->start_ns || !end_ns)
		return;
	shim_op_init(&w, RT_SHIM_SYS_POSTGRESQL, p->kind, conn);
	w.u.op.start_ns = p->start_ns;
	w.u.op.end_ns = end_ns;
	w.u.op.error = p->error;
	w.u.op.flags = p->flags | (ep->unix_sock ? RT_SHIM_F_UNIX_SOCKET : 0);
	w.u.op.server_port = ep->port;
	shim_strlcpy(w.u.op.status, sizeof(w.u.op.status), p->status);
	shim_strlcpy(w.u.op.namespace_, sizeof(w.u.op.namespace_), ep->db);
	shim_strlcpy(w.u.op.server_address, sizeof(w.u.op.server_address), ep->host);
	shim_op_text(&w, text, text_len, truncated);
	shim_emit(&w);
}

/* Ends a pending entry. unfinished_error applies when no final result came. */
static void pq_close(struct conn *c, const PGconn *conn, struct pend *p, uint64_t end_ns,
		     uint8_t unfinished_error)
{
	if (!p->final && !p->error)
		p->error = unfinished_error;
	if (!shim_listening())
		return;
	if (!c->ep.known && conn)
		pq_learn_endpoint(&c->ep, conn);
	pq_emit(&c->ep, conn, p, p->text, p->text_len, p->flags & RT_SHIM_F_TRUNCATED, end_ns);
}

/* Ends every pending operation of a connection. */
static void pq_close_all(struct conn *c, const PGconn *conn, uint64_t now, uint8_t unfinished)
{
	struct pend *p;

	while ((p = pend_head(c))) {
		if (p->type == PEND_OP)
			pq_close(c, conn, p, p->final && p->last_ns ? p->last_ns : now, unfinished);
		pend_pop(c);
	}
}

/* Folds one result into an operation: errors, COPY state, end time. */
static void pq_absorb(struct pend *p, const PGconn *conn, const PGresult *res, uint64_t now)
{
	pq_field_fn field = PQ_HELPER(pq_field_fn, "PQresultErrorField");
	const char *code;
	int st;

	p->last_ns = now;
	if (!res) {
		p->final = 1;
		if (!p->error)
			p->error = pq_conn_bad(conn) ? RT_SHIM_ERR_EOF : RT_SHIM_ERR_CLIENT;
		return;
	}
	st = pq_result_status(res);
	if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH) {
		p->final = 0;
		return;
	}
	p->final = 1;
	if (p->error)
		return;
	if (st == PGRES_FATAL_ERROR || st == PGRES_BAD_RESPONSE) {
		code = field ? field(res, PQ_DIAG_SQLSTATE) : NULL;
		if (code && *code) {
			p->error = RT_SHIM_ERR_SERVER;
			shim_strlcpy((uint8_t *)p->status, sizeof(p->status), code);
		} else {
			p->error = pq_conn_bad(conn) ? RT_SHIM_ERR_EOF : RT_SHIM_ERR_CLIENT;
		}
	} else if (st == PGRES_PIPELINE_ABORTED) {
		p->error = RT_SHIM_ERR_ABORTED;
	}
}

static void pq_call_begin(struct pq_call *call, PGconn *conn, uint8_t kind, const char *text)
{
	call->saved_errno = errno;
	call->conn = conn;
	call->kind = kind;
	call->flags = 0;
	call->text = text;
	call->text_len = SIZE_MAX;
	call->truncated = false;
	call->prep_name = NULL;
	/* The precise clock costs ~20 ns on some VMs: read it only when
	 * something listens; an untimed operation (start_ns 0) still keeps
	 * the per-connection FIFO in step but is never reported. */
	call->start_ns = shim_listening() ? shim_now() : 0;
	shim_feature(RT_SHIM_FEAT_LIBPQ);
}

/* Prepared statement by name: its SQL if we saw it prepared, else the name. */
static void pq_call_named(struct pq_call *call, PGconn *conn, uint8_t kind, const char *name)
{
	struct conn *c = conn_find(conn);
	const struct stmt *s = c ? stmt_get(c, name ? name : "") : NULL;

	pq_call_begin(call, conn, kind, name ? name : "");
	if (s) {
		call->text = s->text;
		call->text_len = s->len;
		call->truncated = s->truncated;
	} else {
		call->flags |= RT_SHIM_F_TEXT_IS_NAME;
	}
}

static void pq_call_prepare(struct pq_call *call, PGconn *conn, const char *name, const char *query)
{
	pq_call_begin(call, conn, RT_SHIM_KIND_PREPARE, query);
	call->prep_name = name ? name : "";
}

/* Before a synchronous call: libpq discards what earlier async queries left. */
static void pq_sync_start(struct pq_call *call)
{
	struct conn *c = conn_find(call->conn);

	if (c && c->fifo_len && !pq_pipeline_on(call->conn))
		pq_close_all(c, call->conn, call->start_ns, RT_SHIM_ERR_NONE);
	errno = call->saved_errno;
}

static void pq_pend_fill(struct pend *p, const struct pq_call *call)
{
	size_t len;

	p->start_ns = call->start_ns;
	p->kind = call->kind;
	p->flags = call->flags;
	/* Nobody listens: the entry only keeps the FIFO in step, so its text
	 * is not copied (an operation whose listener appears while it is
	 * pending is reported without statement text). */
	if (!shim_listening()) {
		p->text_len = 0;
		return;
	}
	len = call->text_len == SIZE_MAX ? shim_strnlen(call->text, PEND_TEXT + 1) : call->text_len;
	if (call->truncated || len > PEND_TEXT)
		p->flags |= RT_SHIM_F_TRUNCATED;
	if (len > PEND_TEXT)
		len = PEND_TEXT;
	if (len)
		memcpy(p->text, call->text, len);
	p->text_len = (uint16_t)len;
}

static void pq_sync_done(struct pq_call *call, PGresult *res)
{
	int e = errno;
	uint64_t now = pq_now(call->start_ns);
	const struct endpoint *ep;
	struct endpoint scratch;
	struct conn *c = pq_conn(call->conn, &scratch, &ep);
	struct pend op, *p;
	int st = res ? pq_result_status(res) : PGRES_FATAL_ERROR;

	if (call->prep_name && res && st == PGRES_COMMAND_OK && c)
		stmt_put(c, call->prep_name, call->text);
	if (res && (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH) && c) {
		p = pend_push(c); /* the COPY goes on: it ends with its final result */
		if (p)
			pq_pend_fill(p, call);
		errno = e;
		return;
	}
	memset(&op, 0, offsetof(struct pend, text));
	op.start_ns = call->start_ns;
	op.kind = call->kind;
	op.flags = call->flags;
	pq_absorb(&op, call->conn, res, now);
	if (shim_listening())
		pq_emit(ep, call->conn, &op, call->text, call->text_len, call->truncated, now);
	errno = e;
}

static void pq_send_done(struct pq_call *call, int ok)
{
	int e = errno;
	const struct endpoint *ep;
	struct endpoint scratch;
	struct conn *c = pq_conn(call->conn, &scratch, &ep);
	bool pipeline = pq_pipeline_on(call->conn);
	struct pend op, *p;

	call->flags |= RT_SHIM_F_ASYNC | (pipeline ? RT_SHIM_F_PIPELINE : 0);
	if (!ok) {
		memset(&op, 0, offsetof(struct pend, text));
		op.start_ns = call->start_ns;
		op.kind = call->kind;
		op.flags = call->flags;
		op.final = 1;
		op.error = pq_conn_bad(call->conn) ? RT_SHIM_ERR_EOF : RT_SHIM_ERR_CLIENT;
		if (shim_listening())
			pq_emit(ep, call->conn, &op, call->text, call->text_len, call->truncated,
				pq_now(call->start_ns));
		errno = e;
		return;
	}
	if (!c) {
		errno = e;
		return;
	}
	/* Outside pipeline mode a successful send means libpq was idle. */
	if (!pipeline)
		pq_close_all(c, call->conn, call->start_ns, RT_SHIM_ERR_NONE);
	if (call->prep_name)
		stmt_put(c, call->prep_name, call->text);
	p = pend_push(c);
	if (p)
		pq_pend_fill(p, call);
	errno = e;
}

/* Boilerplate of the wrappers: forward untimed when nested or off. */
#define PQ_SYNC_WRAPPER(fn, args, begin)                                                           \
	do {                                                                                       \
		__typeof__(&fn) real = SHIM_REAL(SHIM_LIB_PQ, fn);                                 \
		struct pq_call call;                                                               \
		PGresult *res;                                                                     \
		if (!real)                                                                         \
			return NULL;                                                               \
		if (!shim_enter()) {                                                               \
			res = real args;                                                           \
			shim_leave();                                                              \
			return res;                                                                \
		}                                                                                  \
		begin;                                                                             \
		pq_sync_start(&call);                                                              \
		res = real args;                                                                   \
		pq_sync_done(&call, res);                                                          \
		shim_leave();                                                                      \
		return res;                                                                        \
	} while (0)

#define PQ_SEND_WRAPPER(fn, args, begin)                                                           \
	do {                                                                                       \
		__typeof__(&fn) real = SHIM_REAL(SHIM_LIB_PQ, fn);                                 \
		struct pq_call call;                                                               \
		int ok;                                                                            \
		if (!real)                                                                         \
			return 0;                                                                  \
		if (!shim_enter()) {                                                               \
			ok = real args;                                                            \
			shim_leave();                                                              \
			return ok;                                                                 \
		}                                                                                  \
		begin;                                                                             \
		errno = call.saved_errno;                                                          \
		ok = real args;                                                                    \
		pq_send_done(&call, ok);                                                           \
		shim_leave();                                                                      \
		return ok;                                                                         \
	} while (0)

PGresult *PQexec(PGconn *conn, const char *query)
{
	PQ_SYNC_WRAPPER(PQexec, (conn, query),
			pq_call_begin(&call, conn, RT_SHIM_KIND_QUERY, query));
}

PGresult *PQexecParams(PGconn *conn, const char *command, int nParams, const Oid *paramTypes,
		       const char *const *paramValues, const int *paramLengths,
		       const int *paramFormats, int resultFormat)
{
	PQ_SYNC_WRAPPER(PQexecParams,
			(conn, command, nParams, paramTypes, paramValues, paramLengths,
			 paramFormats, resultFormat),
			pq_call_begin(&call, conn, RT_SHIM_KIND_QUERY, command));
}

PGresult *PQprepare(PGconn *conn, const char *stmtName, const char *query, int nParams,
		    const Oid *paramTypes)
{
	PQ_SYNC_WRAPPER(PQprepare, (conn, stmtName, query, nParams, paramTypes),
			pq_call_prepare(&call, conn, stmtName, query));
}

PGresult *PQexecPrepared(PGconn *conn, const char *stmtName, int nParams,
			 const char *const *paramValues, const int *paramLengths,
			 const int *paramFormats, int resultFormat)
{
	PQ_SYNC_WRAPPER(
	    PQexecPrepared,
	    (conn, stmtName, nParams, paramValues, paramLengths, paramFormats, resultFormat),
	    pq_call_named(&call, conn, RT_SHIM_KIND_EXECUTE, stmtName));
}

PGresult *PQdescribePrepared(PGconn *conn, const char *stmt)
{
	PQ_SYNC_WRAPPER(PQdescribePrepared, (conn, stmt),
			pq_call_named(&call, conn, RT_SHIM_KIND_DESCRIBE, stmt));
}

PGresult *PQdescribePortal(PGconn *conn, const char *portal)
{
	PQ_SYNC_WRAPPER(PQdescribePortal, (conn, portal),
			pq_call_begin(&call, conn, RT_SHIM_KIND_DESCRIBE, portal);
			call.flags |= RT_SHIM_F_TEXT_IS_NAME);
}

PGresult *PQfn(PGconn *conn, int fnid, int *result_buf, int *result_len, int result_is_int,
	       const PQArgBlock *args, int nargs)
{
	PQ_SYNC_WRAPPER(PQfn, (conn, fnid, result_buf, result_len, result_is_int, args, nargs),
			pq_call_begin(&call, conn, RT_SHIM_KIND_FASTPATH, ""));
}

int PQsendQuery(PGconn *conn, const char *query)
{
	PQ_SEND_WRAPPER(PQsendQuery, (conn, query),
			pq_call_begin(&call, conn, RT_SHIM_KIND_QUERY, query));
}

int PQsendQueryParams(PGconn *conn, const char *command, int nParams, const Oid *paramTypes,
		      const char *const *paramValues, const int *paramLengths,
		      const int *paramFormats, int resultFormat)
{
	PQ_SEND_WRAPPER(PQsendQueryParams,
			(conn, command, nParams, paramTypes, paramValues, paramLengths,
			 paramFormats, resultFormat),
			pq_call_begin(&call, conn, RT_SHIM_KIND_QUERY, command));
}

int PQsendPrepare(PGconn *conn, const char *stmtName, const char *query, int nParams,
		  const Oid *paramTypes)
{
	PQ_SEND_WRAPPER(PQsendPrepare, (conn, stmtName, query, nParams, paramTypes),
			pq_call_prepare(&call, conn, stmtName, query));
}

int PQsendQueryPrepared(PGconn *conn, const char *stmtName, int nParams,
			const char *const *paramValues, const int *paramLengths,
			const int *paramFormats, int resultFormat)
{
	PQ_SEND_WRAPPER(
	    PQsendQueryPrepared,
	    (conn, stmtName, nParams, paramValues, paramLengths, paramFormats, resultFormat),
	    pq_call_named(&call, conn, RT_SHIM_KIND_EXECUTE, stmtName));
}

int PQsendDescribePrepared(PGconn *conn, const char *stmt)
{
	PQ_SEND_WRAPPER(PQsendDescribePrepared, (conn, stmt),
			pq_call_named(&call, conn, RT_SHIM_KIND_DESCRIBE, stmt));
}

int PQsendDescribePortal(PGconn *conn, const char *portal)
{
	PQ_SEND_WRAPPER(PQsendDescribePortal, (conn, portal),
			pq_call_begin(&call, conn, RT_SHIM_KIND_DESCRIBE, portal);
			call.flags |= RT_SHIM_F_TEXT_IS_NAME);
}

/* Feeds one PQgetResult() outcome to the oldest pending operation. */
static void pq_result(PGconn *conn, PGresult *res)
{
	struct conn *c = conn_find(conn);
	struct pend *p = c ? pend_head(c) : NULL;

	if (!p)
		return;
	if (res && pq_result_status(res) == PGRES_PIPELINE_SYNC)
		return; /* a sync point: no operation of its own, no NULL after it */
	if (p->type == PEND_SKIP) {
		if (!res && (p->skip_ops <= 1 || !--p->skip_ops))
			pend_pop(c);
		return;
	}
	if (res) {
		pq_absorb(p, conn, res, pq_now(p->start_ns));
		return;
	}
	/* The NULL only says that the final result was the last: the operation
	 * ended when that result came back (what the caller did with it in
	 * between is not the server's time, and no clock is read again). */
	pq_close(c, conn, p, p->final && p->last_ns ? p->last_ns : pq_now(p->start_ns),
		 RT_SHIM_ERR_NONE);
	pend_pop(c);
}

PGresult *PQgetResult(PGconn *conn)
{
	__typeof__(&PQgetResult) real = SHIM_REAL(SHIM_LIB_PQ, PQgetResult);
	PGresult *res;
	int e;

	if (!real)
		return NULL;
	if (!shim_enter()) {
		res = real(conn);
		shim_leave();
		return res;
	}
	res = real(conn);
	e = errno;
	pq_result(conn, res);
	errno = e;
	shim_leave();
	return res;
}

/* The end of a COPY's data: the latest time the operation can be said to end
 * if the caller never fetches the final result. */
static void pq_copy_mark(PGconn *conn)
{
	struct conn *c = conn_find(conn);
	struct pend *p = c ? pend_head(c) : NULL;

	if (p && p->type == PEND_OP && p->start_ns)
		p->last_ns = shim_now();
}

int PQputCopyEnd(PGconn *conn, const char *errormsg)
{
	__typeof__(&PQputCopyEnd) real = SHIM_REAL(SHIM_LIB_PQ, PQputCopyEnd);
	int rc, e;

	if (!real)
		return -1;
	if (!shim_enter()) {
		rc = real(conn, errormsg);
		shim_leave();
		return rc;
	}
	rc = real(conn, errormsg);
	e = errno;
	pq_copy_mark(conn);
	errno = e;
	shim_leave();
	return rc;
}

int PQgetCopyData(PGconn *conn, char **buffer, int async)
{
	__typeof__(&PQgetCopyData) real = SHIM_REAL(SHIM_LIB_PQ, PQgetCopyData);
	int rc, e;

	if (!real)
		return -2;
	if (!shim_enter()) {
		rc = real(conn, buffer, async);
		shim_leave();
		return rc;
	}
	rc = real(conn, buffer, async);
	if (rc < 0) {
		e = errno;
		pq_copy_mark(conn);
		errno = e;
	}
	shim_leave();
	return rc;
}

/* A new connection object may reuse a freed address: forget what we knew. */
static PGconn *pq_fresh(PGconn *conn)
{
	if (conn)
		conn_drop(conn);
	return conn;
}

PGconn *PQconnectdb(const char *conninfo)
{
	__typeof__(&PQconnectdb) real = SHIM_REAL(SHIM_LIB_PQ, PQconnectdb);

	return real ? pq_fresh(real(conninfo)) : NULL;
}

PGconn *PQconnectdbParams(const char *const *keywords, const char *const *values, int expand_dbname)
{
	__typeof__(&PQconnectdbParams) real = SHIM_REAL(SHIM_LIB_PQ, PQconnectdbParams);

	return real ? pq_fresh(real(keywords, values, expand_dbname)) : NULL;
}

PGconn *PQsetdbLogin(const char *pghost, const char *pgport, const char *pgoptions,
		     const char *pgtty, const char *dbName, const char *login, const char *pwd)
{
	__typeof__(&PQsetdbLogin) real = SHIM_REAL(SHIM_LIB_PQ, PQsetdbLogin);

	return real ? pq_fresh(real(pghost, pgport, pgoptions, pgtty, dbName, login, pwd)) : NULL;
}

PGconn *PQconnectStart(const char *conninfo)
{
	__typeof__(&PQconnectStart) real = SHIM_REAL(SHIM_LIB_PQ, PQconnectStart);

	return real ? pq_fresh(real(conninfo)) : NULL;
}

PGconn *PQconnectStartParams(const char *const *keywords, const char *const *values,
			     int expand_dbname)
{
	__typeof__(&PQconnectStartParams) real = SHIM_REAL(SHIM_LIB_PQ, PQconnectStartParams);

	return real ? pq_fresh(real(keywords, values, expand_dbname)) : NULL;
}

/* PQreset*, PQfinish: what is still pending will get no result. */
static void pq_abandon(PGconn *conn, bool forget)
{
	int e = errno;
	struct conn *c;

	if (__atomic_load_n(&shim_state, __ATOMIC_ACQUIRE) != SHIM_ON || !conn)
		return;
	c = conn_find(conn);
	if (c) {
		pq_close_all(c, conn, shim_now(), RT_SHIM_ERR_CLOSED);
		c->ep.known = 0; /* a reset may land on another host */
		if (forget)
			conn_drop(conn);
	}
	errno = e;
}

void PQreset(PGconn *conn)
{
	__typeof__(&PQreset) real = SHIM_REAL(SHIM_LIB_PQ, PQreset);

	pq_abandon(conn, false);
	if (real)
		real(conn);
}

int PQresetStart(PGconn *conn)
{
	__typeof__(&PQresetStart) real = SHIM_REAL(SHIM_LIB_PQ, PQresetStart);

	pq_abandon(conn, false);
	return real ? real(conn) : 0;
}

void PQfinish(PGconn *conn)
{
	__typeof__(&PQfinish) real = SHIM_REAL(SHIM_LIB_PQ, PQfinish);

	pq_abandon(conn, true);
	if (real)
		real(conn);
}
