// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * promserver.c - /metrics over HTTP with libmicrohttpd: content
 * negotiation between Prometheus text and OpenMetrics, gzip with zlib,
 * connection limits per peer address, bearer-token auth, TLS, and the
 * event-loop liveness check behind /healthz. See promserver.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <zlib.h>

#include "log.h"
#include "prom.h"
#include "promserver.h"

#define GZIP_MIN_BYTES 1024
#define SECRET_MAX     (64u << 10) /* token, certificate and key files */

/* Open connections from one non-loopback address. */
struct peer {
	uint8_t addr[16]; /* IPv4 as ::ffff:a.b.c.d */
	unsigned int n;	  /* 0: the slot is free */
};

struct promserver {
	struct MHD_Daemon *mhd;
	struct metric_registry *reg;
	int fd;
	uint64_t beat_ns; /* last promserver_beat(), atomic */
	uint64_t stall_ns;
	char *token; /* NULL: no auth */
	size_t token_len;
	char *cert, *key;
	unsigned int per_ip;
	pthread_mutex_t peers_mu;
	struct peer *peers; /* max_conns slots */
	size_t npeers;
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

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void promserver_beat(struct promserver *s, uint64_t now_ns)
{
	if (s)
		__atomic_store_n(&s->beat_ns, now_ns, __ATOMIC_RELAXED);
}

/* 200 "ok", or 503 naming how long the event loop has not made progress. */
static enum MHD_Result serve_health(struct promserver *s, struct MHD_Connection *conn)
{
	uint64_t beat = __atomic_load_n(&s->beat_ns, __ATOMIC_RELAXED), now = mono_ns();
	char *body;
	int n;

	if (now <= beat || now - beat <= s->stall_ns)
		return reply(conn, MHD_HTTP_OK, "text/plain", (void *)"ok\n", 3,
			     MHD_RESPMEM_PERSISTENT, NULL);
	n = asprintf(&body, "stalled: the event loop made no progress for %.1f s\n",
		     (double)(now - beat) / 1e9);
	if (n < 0)
		return reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain", (void *)"stalled\n",
			     8, MHD_RESPMEM_PERSISTENT, NULL);
	return reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain", body, (size_t)n,
		     MHD_RESPMEM_MUST_FREE, NULL);
}

/* Compares without leaking where the first difference is. */
static bool secret_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	unsigned char d = alen != blen;

	for (size_t i = 0; i < alen && i < blen; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

static bool authorized(const struct promserver *s, struct MHD_Connection *conn)
{
	const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");

	if (!s->token)
		return true;
	if (!h || strncasecmp(h, "Bearer ", 7) != 0)
		return false;
	h += 7;
	while (*h == ' ')
		h++;
	return secret_equal(h, strlen(h), s->token, s->token_len);
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
	if (strcmp(url, "/metrics") == 0) {
		if (!authorized(s, conn))
			return reply(conn, MHD_HTTP_UNAUTHORIZED, "text/plain",
				     (void *)"unauthorized\n", 13, MHD_RESPMEM_PERSISTENT, NULL);
		return serve_metrics(s, conn);
	}
	if (strcmp(url, "/healthz") == 0)
		return serve_health(s, conn);
	if (strcmp(url, "/") == 0)
		return reply(conn, MHD_HTTP_OK, "text/plain; charset=utf-8", (void *)index_page,
			     sizeof(index_page) - 1, MHD_RESPMEM_PERSISTENT, NULL);
	return reply(conn, MHD_HTTP_NOT_FOUND, "text/plain", (void *)"not found\n", 10,
		     MHD_RESPMEM_PERSISTENT, NULL);
}

/* ---- connection limits ---- */

/* The peer address as 16 bytes, IPv4 mapped into IPv6. false for other families. */
static bool peer_key(const struct sockaddr *sa, uint8_t out[16])
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (sa->sa_family == AF_INET) {
		memcpy(out, mapped, sizeof(mapped));
		memcpy(out + 12, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		memcpy(out, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
		return true;
	}
	return false;
}

bool promserver_is_loopback(const void *addr)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const uint8_t one[16] = {[15] = 1};
	uint8_t k[16];

	if (!addr || !peer_key(addr, k))
		return false;
	return !memcmp(k, one, 16) || (!memcmp(k, mapped, 12) && k[12] == 127);
}

/* The slot of this address; with create, a free slot is claimed. Under peers_mu. */
static struct peer *peer_find(struct promserver *s, const uint8_t key[16], bool create)
{
	struct peer *free_slot = NULL;

	for (size_t i = 0; i < s->npeers; i++) {
		if (!s->peers[i].n) {
			if (!free_slot)
				free_slot = &s->peers[i];
		} else if (!memcmp(s->peers[i].addr, key, 16)) {
			return &s->peers[i];
		}
	}
	if (!create || !free_slot)
		return NULL;
	memcpy(free_slot->addr, key, 16);
	return free_slot;
}

/* Refuses a new connection from an address that already holds per_ip of them. */
static enum MHD_Result accept_policy(void *cls, const struct sockaddr *addr, socklen_t len)
{
	struct promserver *s = cls;
	struct peer *p;
	uint8_t key[16];
	bool ok;

	(void)len;
	if (promserver_is_loopback(addr) || !peer_key(addr, key))
		return MHD_YES;
	pthread_mutex_lock(&s->peers_mu);
	p = peer_find(s, key, false);
	ok = !p || p->n < s->per_ip;
	pthread_mutex_unlock(&s->peers_mu);
	return ok ? MHD_YES : MHD_NO;
}

/* Counts connections per peer; the slot rides in the socket context. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **ctx,
			  enum MHD_ConnectionNotificationCode what)
{
	struct promserver *s = cls;
	const union MHD_ConnectionInfo *ci;
	struct peer *p;
	uint8_t key[16];

	if (what == MHD_CONNECTION_NOTIFY_CLOSED) {
		p = *ctx;
		if (p) {
			pthread_mutex_lock(&s->peers_mu);
			p->n--;
			pthread_mutex_unlock(&s->peers_mu);
		}
		*ctx = NULL;
		return;
	}
	*ctx = NULL;
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (!ci || !ci->client_addr || promserver_is_loopback(ci->client_addr) ||
	    !peer_key(ci->client_addr, key))
		return;
	pthread_mutex_lock(&s->peers_mu);
	p = peer_find(s, key, true);
	if (p) {
		p->n++;
		*ctx = p;
	}
	pthread_mutex_unlock(&s->peers_mu);
}

/* Makes sure the process may open the sockets max_conns asks for. */
static void nofile_reserve(unsigned int conns)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)conns + 256;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
}

/* ---- secrets ---- */

/*
 * Reads a whole file of at most SECRET_MAX bytes into a NUL-terminated
 * buffer. Warns when a token file is readable by others. 0 or -errno.
 */
static int read_secret(const char *path, bool private_file, char **out, size_t *len)
{
	struct stat st;
	char *buf;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    st.st_size > (off_t)SECRET_MAX) {
		close(fd);
		return -EINVAL;
	}
	if (private_file && (st.st_mode & S_IROTH))
		rt_warn("%s is readable by every user: make it 0600 or 0640", path);
	buf = calloc(1, (size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	n = read(fd, buf, (size_t)st.st_size);
	close(fd);
	if (n <= 0) {
		free(buf);
		return -EINVAL;
	}
	*out = buf;
	*len = (size_t)n;
	return 0;
}

/* The token: the file's first line, surrounding blanks dropped. */
static int load_token(struct promserver *s, const char *path, char *err, size_t errlen)
{
	size_t len = 0;
	char *t = NULL, *b;
	int rc = read_secret(path, true, &t, &len);

	if (!rc) {
		t[strcspn(t, "\r\n")] = 0;
		for (b = t; *b == ' ' || *b == '\t'; b++)
			;
		len = strlen(b);
		while (len && (b[len - 1] == ' ' || b[len - 1] == '\t'))
			len--;
		memmove(t, b, len);
		t[len] = 0;
		rc = len ? 0 : -EINVAL;
	}
	if (rc) {
		snprintf(err, errlen, "the /metrics token file %s: %s", path,
			 rc == -EINVAL ? "not a regular, non-empty file of at most 64 KiB"
				       : strerror(-rc));
		free(t);
		return rc;
	}
	s->token = t;
	s->token_len = len;
	return 0;
}

static bool set(const char *v)
{
	return v && v[0];
}

static int load_tls(struct promserver *s, const struct promserver_opts *o, char *err, size_t errlen)
{
	const char *bad = o->tls_cert_file;
	size_t len;
	int rc;

	if (!set(o->tls_cert_file) || !set(o->tls_key_file)) {
		snprintf(err, errlen, "HTTPS for /metrics needs both a certificate and a key file");
		return -EINVAL;
	}
	if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		snprintf(err, errlen, "this libmicrohttpd has no TLS support");
		return -ENOTSUP;
	}
	rc = read_secret(o->tls_cert_file, false, &s->cert, &len);
	if (!rc) {
		bad = o->tls_key_file;
		rc = read_secret(o->tls_key_file, true, &s->key, &len);
	}
	if (rc)
		snprintf(err, errlen, "cannot read %s for HTTPS: %s", bad,
			 rc == -EINVAL ? "not a regular, non-empty file of at most 64 KiB"
				       : strerror(-rc));
	return rc;
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

static void server_free(struct promserver *s)
{
	if (s->fd >= 0)
		close(s->fd);
	if (s->token)
		memset(s->token, 0, s->token_len);
	free(s->token);
	if (s->key)
		memset(s->key, 0, strlen(s->key));
	free(s->key);
	free(s->cert);
	free(s->peers);
	pthread_mutex_destroy(&s->peers_mu);
	free(s);
}

/* libmicrohttpd's own messages (bad requests, TLS handshakes of scanners): debug lines. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[256];
	size_t n;

	(void)cls;
	if (log_current_level < LOG_LVL_DEBUG)
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = 0;
	log_msg(LOG_LVL_DEBUG, "/metrics server: %s", buf);
}

static struct MHD_Daemon *mhd_start(struct promserver *s, unsigned int flags,
				    const struct promserver_opts *o, unsigned int max_conns)
{
	struct MHD_OptionItem ops[] = {
	    {MHD_OPTION_LISTEN_SOCKET, s->fd, NULL},
	    {MHD_OPTION_THREAD_POOL_SIZE, PROMSERVER_THREADS, NULL},
	    {MHD_OPTION_CONNECTION_LIMIT, max_conns, NULL},
	    {MHD_OPTION_CONNECTION_TIMEOUT, o->timeout_s ? o->timeout_s : PROMSERVER_TIMEOUT_S,
	     NULL},
	    {MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, s},
	    {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, NULL},
	    {MHD_OPTION_END, 0, NULL}, /* TLS options go here */
	    {MHD_OPTION_END, 0, NULL},
	    {MHD_OPTION_END, 0, NULL},
	};

	if (s->cert) {
		ops[6] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, s->cert};
		ops[7] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, s->key};
	}
	return MHD_start_daemon(flags, 0, accept_policy, s, handler, s, MHD_OPTION_ARRAY, ops,
				MHD_OPTION_END);
}

static bool bound_to_loopback(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	return !getsockname(fd, (struct sockaddr *)&ss, &len) && promserver_is_loopback(&ss);
}

struct promserver *promserver_start(const struct promserver_opts *o, struct metric_registry *r,
				    char *err, size_t errlen)
{
	struct promserver *s = calloc(1, sizeof(*s));
	unsigned int max_conns = o->max_conns ? o->max_conns : PROMSERVER_MAX_CONNS;
	unsigned int flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
	int rc = -ENOMEM;

	if (!s || pthread_mutex_init(&s->peers_mu, NULL)) {
		free(s);
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	s->fd = -1;
	s->reg = r;
	s->per_ip = o->max_conns_per_ip ? o->max_conns_per_ip : PROMSERVER_MAX_CONNS_PER_IP;
	s->stall_ns = (uint64_t)(o->stall_ms ? o->stall_ms : PROMSERVER_STALL_MS) * 1000000ull;
	s->beat_ns = mono_ns();
	s->npeers = max_conns;
	s->peers = calloc(max_conns, sizeof(*s->peers));
	if (!s->peers) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (set(o->token_file) && (rc = load_token(s, o->token_file, err, errlen)))
		goto fail;
	if ((set(o->tls_cert_file) || set(o->tls_key_file)) && (rc = load_tls(s, o, err, errlen)))
		goto fail;
	if (s->cert)
		flags |= MHD_USE_TLS;
	s->fd = listen_socket(o->host ? o->host : "", o->port, err, errlen);
	if (s->fd < 0) {
		rc = s->fd;
		goto fail;
	}
	nofile_reserve(max_conns);
	s->mhd = mhd_start(s, flags, o, max_conns);
	if (!s->mhd) {
		snprintf(err, errlen, "cannot start the /metrics HTTP%s server on %s:%u",
			 s->cert ? "S" : "", o->host ? o->host : "", o->port);
		rc = -EIO;
		goto fail;
	}
	if (!s->token && !bound_to_loopback(s->fd))
		rt_warn("/metrics listens beyond loopback without a token: anyone who can reach "
			"port %u reads every metric",
			o->port);
	return s;
fail:
	server_free(s);
	errno = -rc;
	return NULL;
}

void promserver_stop(struct promserver *s)
{
	if (!s)
		return;
	MHD_stop_daemon(s->mhd);
	server_free(s);
}
