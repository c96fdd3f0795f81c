// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_gotrack.c - unit tests for Go processes in the intake
 * (user/intake/gotrack.c): executor ids per (process, goroutine), records
 * handed on with them, the 1-byte read that net/http's background reader
 * takes from a keep-alive request (held, then given to the connection's next
 * reader, or released as it was after a poll or by its connection's close),
 * and executables that are not Go, whose runtime layout (gotrack_runtime())
 * the reader thread reads, never the caller; and where a net/http client's
 * socket fd is for the single roundTrip probe (a Go build, when go is
 * installed), with the two-probe fall-back for stripped and PIE builds.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "gobuild.h"
#include "gotrack.h"
#include "redtap/event.h"

#define TGID 4242u

/* What the callback saw, in order: tid is the thread the pipeline takes
 * (the executor beside the record, else the record's own), over the
 * executor id as passed (0: none). */
static struct seen {
	uint32_t tid;
	uint32_t over;
	uint8_t first;
	uint32_t len;
	uint16_t type;
	const void *ptr;
} seen[16];
static unsigned nseen;

static int collect(void *ctx, const void *data, size_t len, uint32_t tid)
{
	const struct rt_data_event *ev = data;

	(void)ctx;
	assert_true(nseen < 16);
	assert_true(!tid || tid >= GOTRACK_EXEC_BASE);
	seen[nseen].tid = tid ? tid : (uint32_t)ev->hdr.pid_tgid;
	seen[nseen].over = tid;
	seen[nseen].type = ev->hdr.type;
	seen[nseen].len = (uint32_t)len;
	seen[nseen].first = ev->hdr.type == RT_EV_DATA && ev->cap_len ? ev->data[0] : 0;
	seen[nseen].ptr = data;
	nseen++;
	return 0;
}

/* A data record of TGID/tid on fd with text, and a goroutine tail when goid. */
static size_t data_rec(uint8_t *buf, uint32_t tid, uint32_t fd, uint8_t dir, const char *text,
		       uint64_t goid)
{
	struct rt_data_event *ev = (struct rt_data_event *)buf;
	size_t n = strlen(text), len = sizeof(*ev) + n + (goid ? 8 : 0);

	memset(buf, 0, len);
	ev->hdr.type = RT_EV_DATA;
	ev->hdr.version = RT_EVENT_VERSION;
	ev->hdr.len = (uint32_t)len;
	ev->hdr.pid_tgid = (uint64_t)TGID << 32 | tid;
	ev->conn.tgid = TGID;
	ev->conn.fd = fd;
	ev->conn.gen = 1;
	ev->len = n;
	ev->cap_len = (uint32_t)n;
	ev->dir = dir;
	memcpy(ev->data, text, n);
	if (goid)
		memcpy(ev->data + n, &goid, 8);
	return len;
}

static void test_executor_ids(void **state)
{
	struct gotrack *t = gotrack_new();
	uint32_t a, b, c;

	(void)state;
	assert_non_null(t);
	a = gotrack_executor(t, TGID, 7);
	assert_true(a >= GOTRACK_EXEC_BASE);
	assert_int_equal(gotrack_executor(t, TGID, 7), a);
	b = gotrack_executor(t, TGID, 8);
	c = gotrack_executor(t, TGID + 1, 7);
	assert_int_not_equal(a, b);
	assert_int_not_equal(a, c);
	assert_int_not_equal(b, c);
	/* far more goroutines than slots: room is made, ids stay unique */
	for (uint64_t g = 100; g < 40000; g++)
		assert_true(gotrack_executor(t, TGID, g) > c);
	assert_true(gotrack_stats(t)->exec_evicted > 0);
	gotrack_free(t);
	gotrack_free(NULL);
}

static void test_records(void **state)
{
	struct gotrack *t = gotrack_new();
	uint8_t buf[256];
	size_t len;

	(void)state;
	nseen = 0;
	/* no goroutine: the record itself, untouched */
	len = data_rec(buf, 11, 5, RT_DIR_EGRESS, "GET / HTTP/1.1\r\n", 0);
	assert_int_equal(gotrack_deliver(t, buf, len, collect, NULL), 0);
	assert_int_equal(nseen, 1);
	assert_ptr_equal(seen[0].ptr, buf);
	assert_int_equal(seen[0].tid, 11);
	assert_int_equal(seen[0].over, 0);
	/* a goroutine: its executor, whatever thread ran it, beside the
	 * record itself (not a copy, its own thread id untouched) */
	len = data_rec(buf, 11, 5, RT_DIR_EGRESS, "GET / HTTP/1.1\r\n", 99);
	gotrack_deliver(t, buf, len, collect, NULL);
	assert_ptr_equal(seen[1].ptr, buf);
	assert_int_equal((uint32_t)((struct rt_data_event *)buf)->hdr.pid_tgid, 11);
	len = data_rec(buf, 12, 5, RT_DIR_EGRESS, "more", 99);
	gotrack_deliver(t, buf, len, collect, NULL);
	assert_int_equal(nseen, 3);
	assert_int_equal(seen[1].tid, gotrack_executor(t, TGID, 99));
	assert_int_equal(seen[1].over, seen[1].tid);
	assert_int_equal(seen[2].tid, seen[1].tid);
	assert_int_equal(seen[1].len, len - 4 + strlen("GET / HTTP/1.1\r\n"));
	/* a tail the record's length does not cover is not read */
	len = data_rec(buf, 13, 5, RT_DIR_EGRESS, "x", 99);
	((struct rt_data_event *)buf)->hdr.len -= 8;
	gotrack_deliver(t, buf, len, collect, NULL);
	assert_int_equal(seen[3].tid, 13);
	assert_int_equal(seen[3].over, 0);
	/* a log record with a goroutine goes as the same executor */
	len = data_rec(buf, 14, 1, RT_DIR_EGRESS, "line\n", 99);
	((struct rt_data_event *)buf)->hdr.type = RT_EV_LOG;
	gotrack_deliver(t, buf, len, collect, NULL);
	assert_int_equal(seen[4].type, RT_EV_LOG);
	assert_int_equal(seen[4].tid, seen[1].tid);
	gotrack_free(t);
}

static void test_first_byte(void **state)
{
	struct gotrack *t = gotrack_new();
	uint8_t buf[256];
	size_t len;

	(void)state;
	nseen = 0;
	/* the background reader (goroutine 50) takes "G", conn.serve (60) the rest */
	len = data_rec(buf, 21, 7, RT_DIR_INGRESS, "G", 50);
	gotrack_deliver(t, buf, len, collect, NULL);
	assert_int_equal(nseen, 0);
	/* another connection's records pass it */
	len = data_rec(buf, 22, 8, RT_DIR_INGRESS, "PING", 70);
	gotrack_deliver(t, buf, len, collect, NULL);
	assert_int_equal(nseen, 1);
	len = data_rec(buf, 23, 7, RT_DIR_INGRESS, "ET /work HTTP/1.1\r\n\r\n", 60);
	gotrack_deliver(t, buf, len, collect, NULL);
	assert_int_equal(nseen, 3);
	assert_int_equal(seen[1].first, 'G');
	assert_int_equal(seen[2].first, 'E');
	assert_int_equal(seen[1].tid, gotrack_executor(t, TGID, 60));
	assert_int_equal(seen[2].tid, seen[1].tid);
	assert_int_equal(gotrack_stats(t)->first_byte_moved, 1);

	/* next: a write follows the byte: it goes on as its own goroutine's */
	nseen = 0;
	len = data_rec(buf, 21, 7, RT_DIR_INGRESS, "G", 50);
	gotrack_deliver(t, buf, len, collect, NULL);
	len = data_rec(buf, 23, 7, RT_DIR_EGRESS, "HTTP/1.1 200 OK\r\n", 60);
	gotrack_deliver(t, buf, len, collect, NULL);
	assert_int_equal(nseen, 2);
	assert_int_equal(seen[0].tid, gotrack_executor(t, TGID, 50));
	assert_int_equal(gotrack_stats(t)->first_byte_moved, 1);

	/* a close of the connection releases it first */
	nseen = 0;
	len = data_rec(buf, 21, 7, RT_DIR_INGRESS, "G", 50);
	gotrack_deliver(t, buf, len, collect, NULL);
	{
		struct {
			struct rt_event_hdr hdr;
			struct rt_conn_id conn;
		} cl = {.hdr = {.type = RT_EV_CONN_CLOSE, .len = sizeof(cl)},
			.conn = {.gen = 1, .tgid = TGID, .fd = 7}};

		gotrack_deliver(t, &cl, sizeof(cl), collect, NULL);
	}
	assert_int_equal(nseen, 2);
	assert_int_equal(seen[0].first, 'G');
	assert_int_equal(seen[1].type, RT_EV_CONN_CLOSE);

	/* nothing follows: out after the poll that held it and the next one */
	nseen = 0;
	len = data_rec(buf, 21, 9, RT_DIR_INGRESS, "G", 50);
	gotrack_deliver(t, buf, len, collect, NULL);
	gotrack_flush(t, false, collect, NULL);
	assert_int_equal(nseen, 0);
	gotrack_flush(t, false, collect, NULL);
	assert_int_equal(nseen, 1);
	assert_int_equal(seen[0].tid, gotrack_executor(t, TGID, 50));
	/* and at the end, everything */
	len = data_rec(buf, 21, 9, RT_DIR_INGRESS, "G", 50);
	gotrack_deliver(t, buf, len, collect, NULL);
	gotrack_flush(t, true, collect, NULL);
	assert_int_equal(nseen, 2);
	gotrack_free(t);
}

/* Held bytes of three connections, the front one released first: the
 * others are still found behind the freed slot, and a connection with
 * none passes them. */
static void test_held_gap(void **state)
{
	struct gotrack *t = gotrack_new();
	uint8_t buf[256];
	size_t len;

	(void)state;
	nseen = 0;
	for (uint32_t fd = 30; fd < 33; fd++) {
		len = data_rec(buf, 21, fd, RT_DIR_INGRESS, "G", 50 + fd);
		gotrack_deliver(t, buf, len, collect, NULL);
	}
	assert_int_equal(nseen, 0);
	/* fd 94 shares fd 30's bucket (fd % 64) but not its held byte */
	len = data_rec(buf, 24, 94, RT_DIR_INGRESS, "+PONG\r\n", 94);
	gotrack_deliver(t, buf, len, collect, NULL);
	assert_int_equal(nseen, 1);
	assert_int_equal(seen[0].first, '+');
	nseen = 0;
	len = data_rec(buf, 23, 30, RT_DIR_INGRESS, "ET / HTTP/1.1\r\n\r\n", 90);
	gotrack_deliver(t, buf, len, collect, NULL);
	assert_int_equal(nseen, 2);
	/* the front slot is free again; fd 32's byte sits two slots on */
	len = data_rec(buf, 23, 32, RT_DIR_INGRESS, "ET / HTTP/1.1\r\n\r\n", 92);
	gotrack_deliver(t, buf, len, collect, NULL);
	assert_int_equal(nseen, 4);
	assert_int_equal(seen[2].first, 'G');
	assert_int_equal(seen[2].tid, gotrack_executor(t, TGID, 92));
	assert_int_equal(seen[3].tid, seen[2].tid);
	len = data_rec(buf, 23, 31, RT_DIR_INGRESS, "ET / HTTP/1.1\r\n\r\n", 91);
	gotrack_deliver(t, buf, len, collect, NULL);
	assert_int_equal(nseen, 6);
	assert_int_equal(seen[4].tid, gotrack_executor(t, TGID, 91));
	assert_int_equal(gotrack_stats(t)->first_byte_moved, 3);
	gotrack_free(t);
}

/* A goroutine kept in use keeps its executor while thousands of others
 * come and go, and one evicted gets a new id the next time. */
static void test_executor_lru(void **state)
{
	struct gotrack *t = gotrack_new();
	uint32_t hot, first;

	(void)state;
	hot = gotrack_executor(t, TGID, 1);
	first = gotrack_executor(t, TGID, 2);
	for (uint64_t g = 3; g < 200000; g++) {
		gotrack_executor(t, TGID, g);
		assert_int_equal(gotrack_executor(t, TGID, 1), hot);
	}
	assert_true(gotrack_stats(t)->exec_evicted > 0);
	assert_int_not_equal(gotrack_executor(t, TGID, 2), first);
	assert_int_equal(gotrack_executor(t, TGID, 1), hot);
	gotrack_free(t);
}

static void test_not_go(void **state)
{
	struct gotrack *t = gotrack_new();
	struct gotrack_proc gp;

	(void)state;
	assert_int_equal(gotrack_inspect_path(t, "/proc/self/exe", &gp), 0);
	assert_false(gp.is_go);
	assert_false(gp.tracked);
	assert_int_equal(gotrack_inspect_path(t, "/proc/self/exe", &gp), 0); /* cached */
	assert_int_equal(gotrack_stats(t)->processes, 0);
	assert_true(gotrack_inspect_path(t, "/nonexistent", &gp) < 0);
	assert_string_equal(gotrack_fallback_name(GOTRACK_NO_OFFSETS), "no_offsets");
	assert_string_equal(gotrack_unknown_name(RT_GO_READ_FAULT), "read_fault");
	gotrack_free(t);
}

/* The runtime layout of a process's executable comes from the reader
 * thread, never from the caller: first -EAGAIN (queued once), then the
 * answer a flush collected. */
static void test_runtime(void **state)
{
	struct gotrack *t = gotrack_new();
	struct goruntime_layout l;
	bool pie;
	int rc;

	(void)state;
	assert_int_equal(gotrack_runtime(t, getpid(), &l, &pie), -EAGAIN);
	for (int i = 0; i < 500; i++) {
		gotrack_flush(t, true, collect, NULL);
		rc = gotrack_runtime(t, getpid(), &l, &pie);
		if (rc != -EAGAIN)
			break;
		usleep(10000);
	}
	assert_int_equal(rc, -ENOEXEC); /* this test is no Go program */
	assert_int_equal(gotrack_stats(t)->processes, 0);
	assert_int_equal(gotrack_runtime(t, 0x3fffffff, &l, &pie), -ESRCH);
	gotrack_free(t);
}

static const char http_src[] = "package main\n"
			       "\n"
			       "import \"net/http\"\n"
			       "\n"
			       "func main() { http.Get(\"http://127.0.0.1:1/\") }\n";

/* A net/http client: with DWARF and symbols one probe (roundTrip) and the
 * socket fd's path; stripped or PIE, the two probes and no path. */
static void test_http_fd(void **state)
{
	struct gotrack *t = gotrack_new();
	struct gotrack_proc gp;
	char dir[] = "/tmp/redtap-gotrack.XXXXXX", path[64];

	(void)state;
	assert_non_null(mkdtemp(dir));
	if (system("command -v go >/dev/null 2>&1") != 0 ||
	    gobuild_source(dir, "client", http_src) ||
	    gobuild(dir, "static", "client/main.go", "", 0) ||
	    gobuild(dir, "stripped", "client/main.go", "-ldflags '-s -w'", 0) ||
	    gobuild(dir, "pie", "client/main.go", "-buildmode=pie", 0)) {
		gobuild_rmdir(dir);
		gotrack_free(t);
		skip();
	}
	snprintf(path, sizeof(path), "%s/static", dir);
	assert_int_equal(gotrack_inspect_path(t, path, &gp), 0);
	assert_true(gp.tracked);
	assert_true(gp.http_fd);
	assert_true(gp.probe_off[GOTRACK_PCONN_ROUNDTRIP] != 0);
	assert_true(gp.http.tcp_itab != 0 && gp.http.tls_itab != 0);
	assert_true(gp.http.tcp_itab != gp.http.tls_itab);
	assert_true(gp.http.pconn_conn > 0 && gp.http.pconn_conn < 4096);
	assert_int_equal(gp.http.netfd_sysfd, 16); /* after poll.FD's fdMutex */
	snprintf(path, sizeof(path), "%s/stripped", dir);
	assert_int_equal(gotrack_inspect_path(t, path, &gp), 0);
	assert_false(gp.http_fd);
	assert_true(gp.probe_off[GOTRACK_PCONN_ROUNDTRIP] != 0);
	assert_true(gp.probe_off[GOTRACK_REQUEST_WRITE] != 0);
	snprintf(path, sizeof(path), "%s/pie", dir);
	assert_int_equal(gotrack_inspect_path(t, path, &gp), 0);
	assert_false(gp.http_fd);
	gobuild_rmdir(dir);
	gotrack_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_executor_ids), cmocka_unit_test(test_records),
	    cmocka_unit_test(test_first_byte),	 cmocka_unit_test(test_held_gap),
	    cmocka_unit_test(test_executor_lru), cmocka_unit_test(test_not_go),
	    cmocka_unit_test(test_runtime),	 cmocka_unit_test(test_http_fd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
