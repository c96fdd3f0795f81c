// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_promserver.c - CMocka tests of user/export/promserver.c against a real
 * server on 127.0.0.1 (ports 30201..30209): /healthz turns 503 when the
 * event loop (this test's thread) stops beating while the server threads run
 * on; the bearer token; 200 idle connections do not stop a scrape; the
 * per-address limit for non-loopback peers; the loopback test.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "metrics.h"
#include "promserver.h"

#define PORT_BASE 30201

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A TCP connection from src (NULL: any) to ip:port with 2 s timeouts; -1 on failure. */
static int dial(const char *src, const char *ip, uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	struct timeval tv = {.tv_sec = 2};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (src) {
		struct sockaddr_in b = {.sin_family = AF_INET};

		inet_pton(AF_INET, src, &b.sin_addr);
		if (bind(fd, (struct sockaddr *)&b, sizeof(b))) {
			close(fd);
			return -1;
		}
	}
	inet_pton(AF_INET, ip, &a.sin_addr);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Sends GET path on fd and reads the answer; its status, or -1 (closed, timeout). */
static int get_on(int fd, const char *path, const char *auth, char *body, size_t bodysz)
{
	char req[512], buf[65536];
	size_t n = 0;
	ssize_t r;
	int status = -1;

	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\n%s%s%sConnection: close\r\n\r\n",
		 path, auth ? "Authorization: " : "", auth ? auth : "", auth ? "\r\n" : "");
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req))
		return -1;
	while (n + 1 < sizeof(buf) && (r = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = 0;
	if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
		return -1;
	if (body) {
		const char *b = strstr(buf, "\r\n\r\n");

		snprintf(body, bodysz, "%s", b ? b + 4 : "");
	}
	return status;
}

static int get(uint16_t port, const char *path, const char *auth, char *body, size_t bodysz)
{
	int fd = dial(NULL, "127.0.0.1", port), status;

	if (fd < 0)
		return -1;
	status = get_on(fd, path, auth, body, bodysz);
	close(fd);
	return status;
}

static struct metric_registry *registry(void)
{
	struct metric_registry *r = metric_registry_new();
	struct metric_family *f;

	assert_non_null(r);
	f = metric_family_new(r, METRIC_COUNTER, "unit_things", "Things.", NULL, NULL, 0, NULL, 0,
			      0);
	assert_non_null(f);
	metric_counter_add(metric_series_get(f, NULL), 3);
	return r;
}

static struct promserver *start(const struct promserver_opts *o, struct metric_registry *r)
{
	char err[256] = "";
	struct promserver *s = promserver_start(o, r, err, sizeof(err));

	if (!s)
		fail_msg("promserver_start: %s", err);
	return s;
}

static void test_healthz_stall(void **state)
{
	struct promserver_opts o = {.host = "127.0.0.1", .port = PORT_BASE, .stall_ms = 1000};
	struct metric_registry *r = registry();
	struct promserver *s = start(&o, r);
	char body[256];

	(void)state;
	promserver_beat(s, mono_ns());
	assert_int_equal(get(o.port, "/healthz", NULL, body, sizeof(body)), 200);
	assert_string_equal(body, "ok\n");
	/* the "event loop" (this thread) stops beating; the server threads do not stop */
	usleep(1500 * 1000);
	assert_int_equal(get(o.port, "/healthz", NULL, body, sizeof(body)), 503);
	assert_non_null(strstr(body, "event loop made no progress"));
	assert_int_equal(get(o.port, "/metrics", NULL, body, sizeof(body)), 200);
	promserver_beat(s, mono_ns());
	assert_int_equal(get(o.port, "/healthz", NULL, body, sizeof(body)), 200);
	promserver_stop(s);
	metric_registry_free(r);
}

static void test_token(void **state)
{
	char path[] = "/tmp/redtap-token.XXXXXX", body[4096];
	struct promserver_opts o = {.host = "127.0.0.1", .port = PORT_BASE + 1, .token_file = path};
	struct metric_registry *r = registry();
	struct promserver *s;
	char err[256];
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "  s3cret-tok \n", 14), 14);
	close(fd);
	s = start(&o, r);
	assert_int_equal(get(o.port, "/metrics", NULL, NULL, 0), 401);
	assert_int_equal(get(o.port, "/metrics", "Bearer wrong", NULL, 0), 401);
	assert_int_equal(get(o.port, "/metrics", "Bearer s3cret-to", NULL, 0), 401);
	assert_int_equal(get(o.port, "/metrics", "Basic czNjcmV0LXRvaw==", NULL, 0), 401);
	assert_int_equal(get(o.port, "/metrics", "Bearer s3cret-tok", body, sizeof(body)), 200);
	assert_non_null(strstr(body, "unit_things_total 3"));
	assert_int_equal(get(o.port, "/healthz", NULL, NULL, 0), 200);
	promserver_stop(s);

	/* an empty token file is refused, not taken as "no auth" */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "\n", 1), 1);
	close(fd);
	assert_null(promserver_start(&o, r, err, sizeof(err)));
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(err, path));
	unlink(path);
	o.token_file = "/nonexistent/redtap-token";
	assert_null(promserver_start(&o, r, err, sizeof(err)));
	assert_int_equal(errno, ENOENT);
	o.token_file = NULL;
	o.tls_cert_file = path; /* a certificate without a key */
	assert_null(promserver_start(&o, r, err, sizeof(err)));
	assert_int_equal(errno, EINVAL);
	metric_registry_free(r);
}

/* 200 idle connections from loopback (a local user): scrapes still answer at once. */
static void test_idle_connections(void **state)
{
	struct promserver_opts o = {.host = "127.0.0.1", .port = PORT_BASE + 2};
	struct metric_registry *r = registry();
	struct promserver *s = start(&o, r);
	int fds[200], n = 0;
	uint64_t t0;

	(void)state;
	for (n = 0; n < 200; n++) {
		fds[n] = dial(NULL, "127.0.0.1", o.port);
		assert_true(fds[n] >= 0);
	}
	usleep(100 * 1000);
	for (int i = 0; i < 5; i++) {
		t0 = mono_ns();
		assert_int_equal(get(o.port, "/metrics", NULL, NULL, 0), 200);
		assert_true(mono_ns() - t0 < 1000000000ull); /* each within a second */
	}
	while (n--)
		close(fds[n]);
	promserver_stop(s);
	metric_registry_free(r);
}

/* A non-loopback address of this host, or NULL. */
static const char *outside_ip(char *buf, size_t len)
{
	struct ifaddrs *ifs, *i;
	const char *found = NULL;

	if (getifaddrs(&ifs))
		return NULL;
	for (i = ifs; i && !found; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET ||
		    promserver_is_loopback(i->ifa_addr))
			continue;
		inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, buf,
			  (socklen_t)len);
		found = buf;
	}
	freeifaddrs(ifs);
	return found;
}

static void test_per_ip_limit(void **state)
{
	struct promserver_opts o = {
	    .host = "0.0.0.0", .port = PORT_BASE + 3, .max_conns_per_ip = 4};
	struct metric_registry *r;
	struct promserver *s;
	char ipbuf[64];
	const char *ip = outside_ip(ipbuf, sizeof(ipbuf));
	int fds[4], extra;

	(void)state;
	if (!ip)
		skip();
	r = registry();
	s = start(&o, r);
	for (int i = 0; i < 4; i++) {
		fds[i] = dial(ip, ip, o.port);
		assert_true(fds[i] >= 0);
	}
	usleep(100 * 1000);
	/* the fifth from that address is closed without an answer */
	extra = dial(ip, ip, o.port);
	assert_true(extra >= 0);
	assert_int_equal(get_on(extra, "/healthz", NULL, NULL, 0), -1);
	close(extra);
	/* loopback is not that address: it still gets through */
	assert_int_equal(get(o.port, "/metrics", NULL, NULL, 0), 200);
	/* one slot freed: that address gets an answer again */
	close(fds[0]);
	usleep(100 * 1000);
	fds[0] = dial(ip, ip, o.port);
	assert_true(fds[0] >= 0);
	assert_int_equal(get_on(fds[0], "/healthz", NULL, NULL, 0), 200);
	for (int i = 0; i < 4; i++)
		close(fds[i]);
	promserver_stop(s);
	metric_registry_free(r);
}

static void test_is_loopback(void **state)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	struct sockaddr_in6 b = {.sin6_family = AF_INET6};

	(void)state;
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	assert_true(promserver_is_loopback(&a));
	inet_pton(AF_INET, "127.3.2.1", &a.sin_addr);
	assert_true(promserver_is_loopback(&a));
	inet_pton(AF_INET, "192.0.2.1", &a.sin_addr);
	assert_false(promserver_is_loopback(&a));
	inet_pton(AF_INET6, "::1", &b.sin6_addr);
	assert_true(promserver_is_loopback(&b));
	inet_pton(AF_INET6, "::ffff:127.0.0.9", &b.sin6_addr);
	assert_true(promserver_is_loopback(&b));
	inet_pton(AF_INET6, "::ffff:10.0.0.1", &b.sin6_addr);
	assert_false(promserver_is_loopback(&b));
	inet_pton(AF_INET6, "2001:db8::1", &b.sin6_addr);
	assert_false(promserver_is_loopback(&b));
	assert_false(promserver_is_loopback(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_healthz_stall),    cmocka_unit_test(test_token),
	    cmocka_unit_test(test_idle_connections), cmocka_unit_test(test_per_ip_limit),
	    cmocka_unit_test(test_is_loopback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
