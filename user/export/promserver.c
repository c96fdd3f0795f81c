// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * promserver.c - /metrics over HTTP with libmicrohttpd: content
 * negotiation between Prometheus text and OpenMetrics, gzip with zlib.
 * See promserver.h.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>
#include <zlib.h>

#include "log.h"
#include "prom.h"
#include "promserver.h"

#define GZIP_MIN_BYTES 1024

struct promserver {
	struct MHD_Daemon *mhd;
	struct metric_registry *reg;
	int fd;
};

static const char index_page[] = "redtap: zero-code RED metrics for HTTP, PostgreSQL and Redis.\n"
				 "Metrics: /metrics   Health: /healthz\n";

/* gzip-compresses in[0..len) into a malloc'd buffer. 0 or -errno. */
static int gzip_buf(const char *in, size_t len, char **out, size_t *out_len)
{
	z_stream zs = {0};
	uLong cap = compressBound((uLong)len) + 32;
	char *buf = malloc(cap);
	int rc;

	if (!buf)
		return -ENOMEM;
	if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		free(buf);
		return -EINVAL;
	}
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)len;
	zs.next_out = (Bytef *)buf;
	zs.avail_out = (uInt)cap;
	rc = deflate(&zs, Z_FINISH);
	deflateEnd(&zs);
	if (rc != Z_STREAM_END) {
		free(buf);
		return -EIO;
	}
	*out = buf;
	*out_len = zs.total_out;
	return 0;
}

static bool accepts_gzip(const char *ae)
{
	const char *p = ae ? strstr(ae, "gzip") : NULL;

	if (!p)
		return false;
	/* "gzip;q=0" refuses it; "gzip;q=0.5" does not */
	return !(strncmp(p + 4, ";q=0", 4) == 0 && p[8] != '.');
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned code, const char *type,
			     void *body, size_t len, enum MHD_ResponseMemoryMode mode,
			     const char *encoding)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result ret;

	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (encoding)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, encoding);
	if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, code, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result serve_metrics(struct promserver *s, struct MHD_Connection *conn)
{
	const char *accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept");
	const char *ae = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept-Encoding");
	enum prom_format fmt = prom_negotiate(accept);
	char *body = NULL, *gz;
	size_t len = 0, gzlen;
	int rc;

	rc = prom_render(s->reg, fmt, &body, &len);
	if (rc) {
		rt_warn("rendering /metrics failed: %s", strerror(-rc));
		return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain",
			     (void *)"render failed\n", 14, MHD_RESPMEM_PERSISTENT, NULL);
	}
	if (len >= GZIP_MIN_BYTES && accepts_gzip(ae) && gzip_buf(body, len, &gz, &gzlen) == 0) {
		free(body);
		return reply(conn, MHD_HTTP_OK, prom_content_type(fmt), gz, gzlen,
			     MHD_RESPMEM_MUST_FREE, "gzip");
	}
	return reply(conn, MHD_HTTP_OK, prom_content_type(fmt), body, len, MHD_RESPMEM_MUST_FREE,
		     NULL);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
			       const char *method, const char *version, const char *upload_data,
			       size_t *upload_size, void **con_cls)
{
	struct promserver *s = cls;

	(void)version;
	(void)upload_data;
	(void)con_cls;
	if (*upload_size) {
		*upload_size = 0; /* ignore any request body */
		return MHD_YES;
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
			     (void *)"method not allowed\n", 19, MHD_RESPMEM_PERSISTENT, NULL);
	if (strcmp(url, "/metrics") == 0)
		return serve_metrics(s, conn);
	if (strcmp(url, "/healthz") == 0)
		return reply(conn, MHD_HTTP_OK, "text/plain", (void *)"ok\n", 3,
			     MHD_RESPMEM_PERSISTENT, NULL);
	if (strcmp(url, "/") == 0)
		return reply(conn, MHD_HTTP_OK, "text/plain; charset=utf-8", (void *)index_page,
			     sizeof(index_page) - 1, MHD_RESPMEM_PERSISTENT, NULL);
	return reply(conn, MHD_HTTP_NOT_FOUND, "text/plain", (void *)"not found\n", 10,
		     MHD_RESPMEM_PERSISTENT, NULL);
}

static int listen_socket(const char *host, uint16_t port, char *err, size_t errlen)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
	struct addrinfo *res = NULL;
	char portstr[8];
	int fd, one = 1, rc, e;

	snprintf(portstr, sizeof(portstr), "%u", port);
	rc = getaddrinfo(host[0] ? host : NULL, portstr, &hints, &res);
	if (rc) {
		snprintf(err, errlen, "cannot resolve the listen address %s: %s", host,
			 gai_strerror(rc));
		return -EINVAL;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		e = errno;
		goto fail;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, 64)) {
		e = errno;
		close(fd);
		goto fail;
	}
	freeaddrinfo(res);
	return fd;
fail:
	snprintf(err, errlen, "cannot listen on %s:%u for /metrics: %s%s", host, port, strerror(e),
		 e == EADDRINUSE ? " (another agent running? choose another with --listen)" : "");
	freeaddrinfo(res);
	return -e;
}

struct promserver *promserver_start(const char *host, uint16_t port, struct metric_registry *r,
				    char *err, size_t errlen)
{
	struct promserver *s = calloc(1, sizeof(*s));

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->reg = r;
	s->fd = listen_socket(host, port, err, errlen);
	if (s->fd < 0) {
		errno = -s->fd;
		free(s);
		return NULL;
	}
	s->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL,
				  NULL, handler, s, MHD_OPTION_LISTEN_SOCKET, s->fd,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_END);
	if (!s->mhd) {
		snprintf(err, errlen, "cannot start the /metrics HTTP server on %s:%u", host, port);
		close(s->fd);
		free(s);
		errno = EIO;
		return NULL;
	}
	return s;
}

void promserver_stop(struct promserver *s)
{
	if (!s)
		return;
	MHD_stop_daemon(s->mhd);
	close(s->fd);
	free(s);
}
