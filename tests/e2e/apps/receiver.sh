# tests/e2e/apps/receiver.sh - sourced: the independent OTLP test receiver
# (tests/otlp/receiver.js): installs its npm packages when missing, clears
# OTEL_* and proxy variables inherited from the caller, and defines
# start_receiver, stop_receiver and control.

OTLP_DIR="$E2E_ROOT/tests/otlp"

# Nothing from the caller's environment may change the exporter or the transport.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
for v in $(env | sed -n 's/^\(OTEL_[A-Za-z0-9_]*\)=.*/\1/p'); do unset "$v"; done

if [ ! -d "$OTLP_DIR/node_modules/@opentelemetry/otlp-transformer" ]; then
	(cd "$OTLP_DIR" && npm ci --no-audit --no-fund --loglevel=error) >/dev/null ||
		{ echo "  FAIL npm ci in tests/otlp"; exit 1; }
fi

# start_receiver NAME: a fresh receiver writing $E2E_TMP/NAME.jsonl; sets RX, RX_PORT, RX_OUT.
start_receiver() {
	RX_OUT="$E2E_TMP/$1.jsonl"
	rm -f "$E2E_TMP/$1.port"
	node "$OTLP_DIR/receiver.js" --port 0 --out "$RX_OUT" --portfile "$E2E_TMP/$1.port" \
		>"$E2E_TMP/$1.rx.log" 2>&1 &
	RX=$!
	bg_track $RX
	for _ in $(seq 100); do [ -s "$E2E_TMP/$1.port" ] && break; sleep 0.1; done
	RX_PORT=$(cat "$E2E_TMP/$1.port" 2>/dev/null)
	[ -n "$RX_PORT" ] && wait_port "$RX_PORT" 5
}

stop_receiver() { kill -TERM "$RX" 2>/dev/null; wait "$RX" 2>/dev/null; }

control() { curl -sf -o /dev/null -X POST -d "$1" "http://127.0.0.1:$RX_PORT/control"; }

