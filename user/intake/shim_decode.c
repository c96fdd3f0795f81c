// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * shim_decode.c - validates and decodes shim records (see shim_decode.h).
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "redtap/shim.h"
#include "shim_decode.h"
#include "sqlsum.h"

static bool want_text;

/* Who may report through the ioctl channel (set at start-up). */
static struct {
	uint32_t uids[SHIM_REPORTERS_MAX];
	uint64_t cgroups[SHIM_REPORTERS_MAX];
	size_t nuids, ncgroups;
	uint64_t rejected;
} reporters;

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

static bool list_empty(const char *list)
{
	return !list || !*list || !strcmp(list, "any");
}

/*
 * Calls fn for each comma-separated item of list (spaces around items
 * ignored, empty items refused): 0, -EINVAL, or fn's error.
 */
static int list_each(const char *list, int (*fn)(const char *item, void *ctx), void *ctx)
{
	char item[PATH_MAX];
	size_t n = 0;
	int err;

	if (list_empty(list))
		return 0;
	for (const char *p = list;; p++) {
		if (*p == ',' || !*p) {
			while (n && item[n - 1] == ' ')
				n--;
			item[n] = 0;
			if (!n)
				return -EINVAL;
			err = fn(item, ctx);
			if (err)
				return err;
			n = 0;
			if (!*p)
				return 0;
			continue;
		}
		if (*p == ' ' && !n)
			continue;
		if (n + 1 >= sizeof(item))
			return -EINVAL;
		item[n++] = *p;
	}
}

static int parse_uid(const char *item, uint32_t *uid)
{
	char *end;
	unsigned long v;

	if (item[0] < '0' || item[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(item, &end, 10);
	if (errno || *end || v > UINT32_MAX - 1)
		return -EINVAL;
	*uid = (uint32_t)v;
	return 0;
}

struct list_ctx {
	bool cgroups;
	bool store;
	const char *root;
	size_t count;
};

static int reporter_item(const char *item, void *arg)
{
	struct list_ctx *c = arg;
	char path[PATH_MAX + 64];
	struct stat st;
	uint32_t uid;

	if (c->count == SHIM_REPORTERS_MAX)
		return -EINVAL;
	if (!c->cgroups) {
		if (parse_uid(item, &uid))
			return -EINVAL;
		if (c->store)
			reporters.uids[c->count] = uid;
	} else {
		size_t len = strlen(item);

		if (item[0] != '/' || strstr(item, "/../") ||
		    (len >= 3 && !strcmp(item + len - 3, "/..")))
			return -EINVAL;
		if (c->store) {
			/* cgroup v2: a cgroup's id is the inode number of its directory */
			snprintf(path, sizeof(path), "%s%s", c->root, item);
			if (stat(path, &st))
				return -errno;
			if (!S_ISDIR(st.st_mode))
				return -ENOTDIR;
			reporters.cgroups[c->count] = (uint64_t)st.st_ino;
		}
	}
	c->count++;
	return 0;
}

int shim_reporters_check(const char *list, bool cgroups)
{
	struct list_ctx c = {.cgroups = cgroups};

	return list_each(list, reporter_item, &c);
}

int shim_reporters_set(const char *uids, const char *cgroups, const char *cgroup_root)
{
	struct list_ctx u = {.store = true}, g = {.cgroups = true, .store = true};
	int err;

	g.root = cgroup_root ? cgroup_root : "/sys/fs/cgroup";
	reporters.nuids = reporters.ncgroups = 0;
	err = list_each(uids, reporter_item, &u);
	if (!err)
		err = list_each(cgroups, reporter_item, &g);
	if (err)
		return err;
	reporters.nuids = u.count;
	reporters.ncgroups = g.count;
	return 0;
}

bool shim_reporter_ok(uint32_t uid, uint64_t cgroup_id)
{
	bool ok = !reporters.nuids;

	for (size_t i = 0; i < reporters.nuids && !ok; i++)
		ok = reporters.uids[i] == uid;
	if (ok && reporters.ncgroups) {
		ok = false;
		for (size_t i = 0; i < reporters.ncgroups && !ok; i++)
			ok = reporters.cgroups[i] == cgroup_id;
	}
	if (!ok)
		__atomic_add_fetch(&reporters.rejected, 1, __ATOMIC_RELAXED);
	return ok;
}

uint64_t shim_reporters_rejected(void)
{
	return __atomic_load_n(&reporters.rejected, __ATOMIC_RELAXED);
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

int shim_batch_next(const void *buf, size_t len, size_t *off, const void **rec)
{
	struct rt_shim_hdr hdr;
	size_t left;

	if (!buf || !off || !rec || *off > len)
		return -EINVAL;
	if (*off == len)
		return 0;
	left = len - *off;
	if (left < sizeof(hdr))
		return -EINVAL;
	memcpy(&hdr, (const uint8_t *)buf + *off, sizeof(hdr));
	if (hdr.len < sizeof(hdr) || hdr.len > left || hdr.len > RT_SHIM_REC_MAX)
		return -EINVAL;
	*rec = (const uint8_t *)buf + *off;
	/* the next record starts 8-byte aligned; the last one ends the message */
	*off += hdr.len;
	*off = (*off + 7) & ~(size_t)7;
	if (*off > len)
		*off = len;
	return (int)hdr.len;
}
