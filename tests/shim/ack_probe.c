// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ack_probe.c - a real hiredis client for tests/e2e/test_hostile_shim*.sh:
 * connects to redis-server on 127.0.0.1:PORT, waits WAIT seconds (past the
 * shim's 2 s probation, so that its records reach the agent only if the
 * agent acknowledged it), then runs N INCR commands, each followed by a
 * pause of PAUSE_MS milliseconds. Exits 0 when every command succeeded.
 *
 *   ack_probe PORT WAIT N [PAUSE_MS]
 */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	redisContext *c;
	int n, pause_ms, bad = 0;

	if (argc < 4) {
		fprintf(stderr, "usage: ack_probe PORT WAIT N [PAUSE_MS]\n");
		return 2;
	}
	n = atoi(argv[3]);
	pause_ms = argc > 4 ? atoi(argv[4]) : 0;
	c = redisConnect("127.0.0.1", atoi(argv[1]));
	if (!c || c->err) {
		fprintf(stderr, "ack_probe: cannot connect\n");
		return 1;
	}
	sleep((unsigned)atoi(argv[2]));
	for (int i = 0; i < n; i++) {
		redisReply *r = redisCommand(c, "INCR ack_probe");

		if (!r || r->type != REDIS_REPLY_INTEGER)
			bad++;
		if (r)
			freeReplyObject(r);
		if (pause_ms)
			usleep((useconds_t)pause_ms * 1000);
	}
	redisFree(c);
	return bad ? 1 : 0;
}
