# tests/lib/servers.sh - sourced: throwaway PostgreSQL 15 and Redis servers
# for the tests, on 127.0.0.1 and ports of the caller's choosing.
#
#   srv_pg_start DIR PORT      initdb in DIR/data (as postgres, trust auth),
#                              start on PORT with its unix socket in DIR
#   srv_redis_start DIR PORT   redis-server on PORT, socket DIR/redis.sock
#   srv_shop_db PORT           database "redtap" with an "orders" table of 100
#                              rows, for tests/e2e/apps/shop_app.py
#   srv_stop                   stops whatever was started (safe to repeat)
# They set SRV_PG_DIR and SRV_REDIS_PID. Callers run srv_stop from their
# EXIT trap.

SRV_PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
SRV_PG_DIR=
SRV_REDIS_PID=

srv_pg_start() {
	SRV_PG_DIR=$1
	mkdir -p "$SRV_PG_DIR"
	chown postgres "$SRV_PG_DIR"
	runuser -u postgres -- "$SRV_PG_BIN/initdb" -D "$SRV_PG_DIR/data" -U postgres -A trust \
		-E UTF8 --locale=C >"$SRV_PG_DIR/initdb.log" 2>&1 || { cat "$SRV_PG_DIR/initdb.log"; return 1; }
	runuser -u postgres -- "$SRV_PG_BIN/pg_ctl" -D "$SRV_PG_DIR/data" -l "$SRV_PG_DIR/log" -w \
		-o "-p $2 -k $SRV_PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off" start \
		>/dev/null || { cat "$SRV_PG_DIR/log"; return 1; }
}

srv_redis_start() {
	redis-server --port "$2" --bind 127.0.0.1 --save '' --appendonly no \
		--unixsocket "$1/redis.sock" --unixsocketperm 777 --daemonize no \
		>"$1/redis.log" 2>&1 &
	SRV_REDIS_PID=$!
	for _ in $(seq 50); do
		redis-cli -p "$2" ping >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	cat "$1/redis.log"
	return 1
}

srv_shop_db() {
	psql -q -h 127.0.0.1 -p "$1" -U postgres -c "CREATE DATABASE redtap" >/dev/null &&
		psql -q -h 127.0.0.1 -p "$1" -U postgres -d redtap -c "CREATE TABLE orders \
			(id int primary key, item text); INSERT INTO orders SELECT g, 'item' || g \
			FROM generate_series(1, 100) g" >/dev/null
}

srv_stop() {
	if [ -n "$SRV_PG_DIR" ] && [ -f "$SRV_PG_DIR/data/postmaster.pid" ]; then
		runuser -u postgres -- "$SRV_PG_BIN/pg_ctl" -D "$SRV_PG_DIR/data" -m immediate stop \
			>/dev/null 2>&1
	fi
	if [ -n "$SRV_REDIS_PID" ]; then
		kill "$SRV_REDIS_PID" 2>/dev/null && wait "$SRV_REDIS_PID" 2>/dev/null
	fi
	SRV_REDIS_PID=
	return 0
}
