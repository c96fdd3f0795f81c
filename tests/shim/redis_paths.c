// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * redis_paths.c - drives every hiredis path the shim wraps (blocking,
 * pipelined append + getReply, async with callbacks, connect, reconnect,
 * free) against a real redis-server, and prints what the host sees so that
 * runs with and without the shim can be compared byte for byte. Builds
 * against hiredis 0.14 (Debian) and 1.x alike.
 *
 * Usage: redis_paths PORT UNIX_SOCKET_PATH
 * The expected shim records, in order, are in tests/shim/expected/redis_paths.txt.
 */
#include <errno.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

static void show(const char *what, redisContext *c, redisReply *r)
{
	printf("%s: ", what);
	if (!r) {
		printf("NULL err=%d\n", c->err);
		return;
	}
	switch (r->type) {
	case REDIS_REPLY_STRING:
	case REDIS_REPLY_STATUS:
	case REDIS_REPLY_ERROR:
		printf("type=%d %.40s\n", r->type, r->str);
		break;
	case REDIS_REPLY_INTEGER:
		printf("int %lld\n", r->integer);
		break;
	default:
		printf("type=%d elements=%zu\n", r->type, r->elements);
	}
	freeReplyObject(r);
}

static void blocking(redisContext *c)
{
	const char *argv[] = {"RPUSH", "list", "a", "b"};
	const char *sel[] = {"SELECT", "0"};

	show("del", c, redisCommand(c, "DEL k h list a"));
	show("set", c, redisCommand(c, "SET k %s", "v1"));
	show("get", c, redisCommand(c, "%s %s", "GET", "k"));
	show("hset", c, redisCommand(c, "HSET h f %b", "v", (size_t)1));
	show("wrongtype", c, redisCommand(c, "GET h"));
	show("unknown", c, redisCommand(c, "NOSUCHCMD x"));
	show("argv", c, redisCommandArgv(c, 4, argv, NULL));
	show("select2", c, redisCommand(c, "SELECT %d", 2));
	show("indb2", c, redisCommand(c, "SET k2 v"));
	show("select0", c, redisCommandArgv(c, 2, sel, NULL));
	show("indb0", c, redisCommand(c, "EXISTS k2"));
}

static void pipelined(redisContext *c)
{
	const char *argv[] = {"LLEN", "list"};
	char *cmd = NULL;
	void *r;
	int len, i;

	printf("append: %d\n", redisAppendCommand(c, "SET a %d", 1));
	printf("append: %d\n", redisAppendCommand(c, "INCR a"));
	printf("append: %d\n", redisAppendCommand(c, "HGET a x"));
	printf("append: %d\n", redisAppendCommandArgv(c, 2, argv, NULL));
	len = redisFormatCommand(&cmd, "ECHO %s", "formatted");
	printf("append: %d\n", redisAppendFormattedCommand(c, cmd, (size_t)len));
	free(cmd);
	for (i = 0; i < 5; i++) {
		printf("getreply: %d ", redisGetReply(c, &r));
		show("reply", c, r);
	}
	/* A blocking command behind a pending one gets the pending one's reply. */
	printf("append: %d\n", redisAppendCommand(c, "PING"));
	show("echo-gets-ping", c, redisCommand(c, "ECHO hi"));
	printf("getreply: %d ", redisGetReply(c, &r));
	show("reply", c, r);
}

static void failures(int port, const char *sock)
{
	struct timeval tv = {0, 100000};
	redisContext *c, *killer;

	c = redisConnectUnix(sock);
	show("unix-ping", c, redisCommand(c, "PING"));
	redisFree(c);

	c = redisConnectWithTimeout("127.0.0.1", port, tv);
	redisSetTimeout(c, tv);
	show("timeout", c, redisCommand(c, "BLPOP nolist 1"));
	printf("timeout-errno-is-eagain: %d\n", errno == EAGAIN);
	redisFree(c);

	c = redisConnect("127.0.0.1", port);
	killer = redisConnect("127.0.0.1", port);
	show("setname", c, redisCommand(c, "CLIENT SETNAME victim"));
	show("kill", killer, redisCommand(killer, "CLIENT KILL TYPE normal SKIPME yes"));
	show("dead", c, redisCommand(c, "PING"));
	printf("reconnect: %d\n", redisReconnect(c));
	show("alive", c, redisCommand(c, "PING"));
	/* Freed with a command appended and never read. */
	printf("append: %d\n", redisAppendCommand(c, "PING"));
	redisFree(c);
	redisFree(killer);
}

/* ---- a minimal poll() event loop for the async API ---- */

struct loop {
	redisAsyncContext *ac;
	int rd, wr;
	int pending;
};

static void ev_add_read(void *d)
{
	((struct loop *)d)->rd = 1;
}
static void ev_del_read(void *d)
{
	((struct loop *)d)->rd = 0;
}
static void ev_add_write(void *d)
{
	((struct loop *)d)->wr = 1;
}
static void ev_del_write(void *d)
{
	((struct loop *)d)->wr = 0;
}
static void ev_cleanup(void *d)
{
	((struct loop *)d)->rd = ((struct loop *)d)->wr = 0;
}

static void loop_attach(struct loop *l, redisAsyncContext *ac)
{
	memset(l, 0, sizeof(*l));
	l->ac = ac;
	ac->ev.data = l;
	ac->ev.addRead = ev_add_read;
	ac->ev.delRead = ev_del_read;
	ac->ev.addWrite = ev_add_write;
	ac->ev.delWrite = ev_del_write;
	ac->ev.cleanup = ev_cleanup;
}

static void loop_run(struct loop *l)
{
	int rounds = 0;

	while (l->pending > 0 && (l->rd || l->wr) && rounds++ < 1000) {
		struct pollfd p = {l->ac->c.fd,
				   (short)((l->rd ? POLLIN : 0) | (l->wr ? POLLOUT : 0)), 0};

		if (poll(&p, 1, 1000) <= 0)
			break;
		if (p.revents & (POLLIN | POLLHUP | POLLERR))
			redisAsyncHandleRead(l->ac);
		if (l->pending > 0 && (p.revents & POLLOUT))
			redisAsyncHandleWrite(l->ac);
	}
}

static void on_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct loop *l = ac->ev.data;
	redisReply *r = reply;

	printf("async %s: ", (const char *)privdata);
	if (!r)
		printf("NULL\n");
	else if (r->type == REDIS_REPLY_INTEGER)
		printf("int %lld\n", r->integer);
	else if (r->str)
		printf("type=%d %.40s\n", r->type, r->str);
	else
		printf("type=%d\n", r->type);
	if (l)
		l->pending--;
}

static void async_paths(int port)
{
	const char *argv[] = {"HSET", "ah", "f", "v"};
	redisAsyncContext *ac;
	struct loop l;
	char *cmd = NULL;
	int len;

	ac = redisAsyncConnect("127.0.0.1", port);
	loop_attach(&l, ac);
	l.pending = 6;
	printf("a1: %d\n", redisAsyncCommand(ac, on_reply, "set", "SET ak %s", "v"));
	printf("a2: %d\n", redisAsyncCommand(ac, on_reply, "get", "GET ak"));
	printf("a3: %d\n", redisAsyncCommandArgv(ac, on_reply, "hset", 4, argv, NULL));
	printf("a4: %d\n", redisAsyncCommand(ac, on_reply, "wrongtype", "LPOP ah"));
	len = redisFormatCommand(&cmd, "SELECT %d", 3);
	printf("a5: %d\n", redisAsyncFormattedCommand(ac, on_reply, "select", cmd, (size_t)len));
	free(cmd);
	printf("a6: %d\n", redisAsyncCommand(ac, on_reply, "indb3", "DBSIZE"));
	printf("a7: %d\n", redisAsyncCommand(ac, NULL, NULL, "PING"));
	loop_run(&l);
	printf("async pending left: %d\n", l.pending);
	/* Freed with a command pending: its callback gets NULL. */
	l.pending = 1;
	printf("a8: %d\n", redisAsyncCommand(ac, on_reply, "freed", "PING"));
	redisAsyncFree(ac);

	/* SUBSCRIBE is passed through untimed; its first reply still arrives. */
	ac = redisAsyncConnect("127.0.0.1", port);
	loop_attach(&l, ac);
	l.pending = 1;
	printf("s1: %d\n", redisAsyncCommand(ac, on_reply, "subscribe", "SUBSCRIBE chan"));
	loop_run(&l);
	redisAsyncFree(ac);
}

int main(int argc, char **argv)
{
	redisContext *c;
	int port;

	if (argc < 3) {
		fprintf(stderr, "usage: %s PORT UNIX_SOCKET\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	port = atoi(argv[1]);
	c = redisConnect("127.0.0.1", port);
	if (!c || c->err) {
		fprintf(stderr, "connect failed\n");
		return 1;
	}
	blocking(c);
	pipelined(c);
	redisFree(c);
	failures(port, argv[2]);
	async_paths(port);
	printf("done\n");
	return 0;
}
