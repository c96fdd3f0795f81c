# tests/e2e/apps/nginx.sh - sourced: start_nginx PORT starts nginx (as
# $NGX_DIR/nginx-e2e, service_name "nginx-e2e") in the
# foreground on 127.0.0.1:PORT with a config of its own under $E2E_TMP:
#   /static/big.bin  100 KiB file sent with sendfile(2)
#   /api/...         200 "ok" (keep-alive)
#   /fail            500
#   /upload          201 after reading the request body (Expect: 100-continue)
start_nginx() {
	NGX_PORT=$1
	NGX_DIR="$E2E_TMP/nginx"
	mkdir -p "$NGX_DIR/html/static" "$NGX_DIR/logs" "$NGX_DIR/tmp"
	# workers run as nobody: they must read the files and write bodies
	chmod 755 "$E2E_TMP" "$NGX_DIR" "$NGX_DIR/html" "$NGX_DIR/html/static"
	chmod 1777 "$NGX_DIR/tmp"
	head -c 102400 /dev/urandom >"$NGX_DIR/html/static/big.bin"
	chmod 644 "$NGX_DIR/html/static/big.bin"
	cat >"$NGX_DIR/nginx.conf" <<NGX
worker_processes 2;
pid $NGX_DIR/nginx.pid;
error_log $NGX_DIR/logs/error.log warn;
events { worker_connections 1024; }
http {
	access_log off;
	sendfile on;
	keepalive_requests 100000;
	client_body_temp_path $NGX_DIR/tmp;
	server {
		listen 127.0.0.1:$NGX_PORT;
		root $NGX_DIR/html;
		location /api/ { default_type text/plain; return 200 "ok\n"; }
		location = /fail { return 500; }
		location = /upload {
			client_max_body_size 10m;
			client_body_in_single_buffer on;
			proxy_pass http://127.0.0.1:$NGX_PORT/api/uploaded;
		}
	}
}
NGX
	# A copy with a name of its own, so that selecting it by executable
	# never picks up another nginx on the machine.
	NGX_BIN="$NGX_DIR/nginx-e2e"
	cp "$(command -v nginx || echo /usr/sbin/nginx)" "$NGX_BIN"
	"$NGX_BIN" -c "$NGX_DIR/nginx.conf" -p "$NGX_DIR" -g 'daemon off;' &
	NGX_PID=$!
	bg_track $NGX_PID
	wait_port "$NGX_PORT"
}
