// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * shim_decode.c - validates and decodes shim records (see shim_decode.h).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "redtap/shim.h"
#include "shim_decode.h"
#include "sqlsum.h"

static bool want_text;

void shim_decode_set_query_text(bool on)
{
	__atomic_store_n(&want_text, on, __ATOMIC_RELAXED);
}

const char *shim_error_type_name(unsigned err)
{
	static const char *const names[RT_SHIM_ERR_MAX] = {
	    [RT_SHIM_ERR_NONE] = "",
	    [RT_SHIM_ERR_SERVER] = "_OTHER", /* replaced by the status code when there is one */
	    [RT_SHIM_ERR_IO] = "io_error",
	    [RT_SHIM_ERR_EOF] = "connection_closed",
	    [RT_SHIM_ERR_TIMEOUT] = "timeout",
	    [RT_SHIM_ERR_PROTOCOL] = "protocol_error",
	    [RT_SHIM_ERR_CLIENT] = "client_error",
	    [RT_SHIM_ERR_ABORTED] = "pipeline_aborted",
	    [RT_SHIM_ERR_CLOSED] = "abandoned",
	};

	return err < RT_SHIM_ERR_MAX ? names[err] : "_OTHER";
}

/* Copies a fixed-size field that may lack its NUL, as valid UTF-8. */
static void field_copy(char *dst, size_t dsize, const uint8_t *src, size_t ssize)
{
	size_t n = strnlen((const char *)src, ssize);

	if (n > dsize - 1)
		n = dsize - 1;
	memcpy(dst, src, n);
	dst[n] = 0;
	sqlsum_utf8_fix(dst);
}

static void describe_sql(struct db_op *op, const struct rt_shim_op *r)
{
	struct sql_summary s;
	bool truncated = r->flags & RT_SHIM_F_TRUNCATED;
	bool named = r->flags & RT_SHIM_F_TEXT_IS_NAME;

	memset(&s, 0, sizeof(s));
	if (!named)
		sqlsum_describe((const char *)r->text, r->text_len, truncated, &s);
	switch (r->kind) {
	case RT_SHIM_KIND_PREPARE:
		snprintf(op->operation, sizeof(op->operation), "%s", "PREPARE");
		snprintf(op->query_summary, sizeof(op->query_summary), "PREPARE%s%.118s",
			 s.summary[0] ? " " : "", s.summary);
		break;
	case RT_SHIM_KIND_DESCRIBE:
		snprintf(op->operation, sizeof(op->operation), "%s", "DESCRIBE");
		snprintf(op->query_summary, sizeof(op->query_summary), "DESCRIBE%s%.118s",
			 s.summary[0] ? " " : "", s.summary);
		break;
	case RT_SHIM_KIND_FASTPATH:
		snprintf(op->operation, sizeof(op->operation), "%s", "FASTPATH");
		snprintf(op->query_summary, sizeof(op->query_summary), "%s", "FASTPATH");
		return;
	case RT_SHIM_KIND_EXECUTE:
		if (named) {
			/* a statement prepared where the shim did not see it */
			snprintf(op->operation, sizeof(op->operation), "%s", "EXECUTE");
			snprintf(op->query_summary, sizeof(op->query_summary), "%s", "EXECUTE");
			return;
		}
		/* fall through */
	default:
		snprintf(op->operation, sizeof(op->operation), "%s", s.operation);
		snprintf(op->query_summary, sizeof(op->query_summary), "%s", s.summary);
		break;
	}
	if (__atomic_load_n(&want_text, __ATOMIC_RELAXED) && !named)
		snprintf(op->query_text, sizeof(op->query_text), "%s", s.sanitized);
}

static int decode_op(const uint8_t *buf, uint32_t len, struct db_op *op)
{
	const struct rt_shim_op *r = (const void *)buf;

	if (len < sizeof(*r) || r->text_len > RT_SHIM_TEXT_MAX || sizeof(*r) + r->text_len > len)
		return -EINVAL;
	if (r->kind == 0 || r->kind >= RT_SHIM_KIND_MAX || r->error >= RT_SHIM_ERR_MAX)
		return -EINVAL;
	if (r->end_ns < r->start_ns)
		return -EINVAL;
	if (r->system == RT_SHIM_SYS_POSTGRESQL)
		op->system = "postgresql";
	else if (r->system == RT_SHIM_SYS_REDIS)
		op->system = "redis";
	else
		return -EINVAL;
	op->start_ns = r->start_ns;
	op->end_ns = r->end_ns;
	op->conn_id = r->conn_id;
	op->kind = r->kind;
	op->flags = r->flags;
	op->server_port = r->server_port;
	field_copy(op->namespace_, sizeof(op->namespace_), r->namespace_, sizeof(r->namespace_));
	field_copy(op->server_address, sizeof(op->server_address), r->server_address,
		   sizeof(r->server_address));
	field_copy(op->status_code, sizeof(op->status_code), r->status, sizeof(r->status));
	if (r->error == RT_SHIM_ERR_SERVER && op->status_code[0])
		snprintf(op->error_type, sizeof(op->error_type), "%s", op->status_code);
	else
		snprintf(op->error_type, sizeof(op->error_type), "%s",
			 shim_error_type_name(r->error));
	if (r->system == RT_SHIM_SYS_REDIS) {
		field_copy(op->operation, sizeof(op->operation), r->operation,
			   sizeof(r->operation));
		snprintf(op->query_summary, sizeof(op->query_summary), "%s", op->operation);
		if (__atomic_load_n(&want_text, __ATOMIC_RELAXED))
			snprintf(op->query_text, sizeof(op->query_text), "%s", op->operation);
	} else {
		describe_sql(op, r);
	}
	return 0;
}

static int decode_hello(const uint8_t *buf, uint32_t len, struct db_op *op)
{
	const struct rt_shim_hello *h = (const void *)buf;

	if (len < RT_SHIM_HELLO_MIN)
		return -EINVAL;
	op->is_hello = true;
	op->shim_sent = h->sent;
	op->shim_dropped = h->dropped_full;
	op->shim_untracked = h->dropped_untracked;
	op->shim_features = h->features;
	op->shim_ack_addr = h->ack_addr;
	if (len >= offsetof(struct rt_shim_hello, ack_nonce) + sizeof(h->ack_nonce))
		op->shim_ack_nonce = h->ack_nonce;
	op->start_ns = op->end_ns = h->start_ns;
	field_copy(op->service_name, sizeof(op->service_name), h->service_name,
		   sizeof(h->service_name));
	field_copy(op->comm, sizeof(op->comm), h->comm, sizeof(h->comm));
	return 0;
}

int shim_decode(const void *buf, size_t len, struct db_op *op)
{
	struct rt_shim_hdr hdr;
	int err;

	if (!buf || !op)
		return -EINVAL;
	memset(op, 0, sizeof(*op));
	op->system = "";
	if (len < sizeof(hdr))
		return -EINVAL;
	memcpy(&hdr, buf, sizeof(hdr));
	if (hdr.magic != RT_SHIM_REC_MAGIC || hdr.version != RT_SHIM_REC_VERSION ||
	    hdr.len < sizeof(hdr) || hdr.len > len || hdr.len > RT_SHIM_REC_MAX)
		return -EINVAL;
	op->pid = hdr.pid;
	op->tid = hdr.tid;
	if (hdr.type == RT_SHIM_REC_OP)
		err = decode_op(buf, hdr.len, op);
	else if (hdr.type == RT_SHIM_REC_HELLO)
		err = decode_hello(buf, hdr.len, op);
	else
		err = -EINVAL;
	if (err) {
		memset(op, 0, sizeof(*op));
		op->system = "";
	}
	return err;
}
