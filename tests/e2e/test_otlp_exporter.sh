#!/bin/bash
# tests/e2e/test_otlp_exporter.sh - the OTLP/HTTP exporter against an
# independent receiver (tests/otlp/receiver.js decodes with code generated
# from the official opentelemetry-proto definitions), driven by
# build/tests/otlp_driver (tests/otlp/driver.c): synthetic spans and a
# registry, no eBPF and no span building.
#
# Cases: every span and metric arrives decoded as sent (headers, resource
# attributes); gzip; 503 + Retry-After then recovery loses nothing; a 400
# is not retried; a receiver down for a while keeps memory bounded and
# counts the drops, then delivery resumes; partial_success is logged;
# queued spans are flushed at shutdown; an unsupported protocol is refused.
# Everything listens on 127.0.0.1 only.
. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/apps/receiver.sh"
DRIVER="$E2E_ROOT/build/tests/otlp_driver"
CHECK="python3 $OTLP_DIR/check.py"
make -s -C "$E2E_ROOT" build/tests/otlp_driver >/dev/null || { echo "  FAIL cannot build the driver"; exit 1; }

# run_driver NAME ARGS...: runs the driver with the current OTEL_* settings;
# its JSON counters land in $E2E_TMP/NAME.json, its log in NAME.log.
run_driver() {
	name=$1
	shift
	timeout 60 "$DRIVER" "$@" >"$E2E_TMP/$name.json" 2>"$E2E_TMP/$name.log"
}

# stat NAME KEY: one counter the driver printed.
stat() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$E2E_TMP/$1.json" "$2"; }

show_log() { sed 's/^/  | /' "$E2E_TMP/$1.log" | tail -n 5; }

export OTEL_BSP_SCHEDULE_DELAY=200

echo "- spans, metrics, headers and resource attributes arrive as sent"
start_receiver basic
OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$RX_PORT" \
OTEL_EXPORTER_OTLP_HEADERS="x-api-key=secret%20one,x-tenant=t1" \
OTEL_RESOURCE_ATTRIBUTES="deployment.environment=e2e%20test" \
OTEL_BSP_MAX_EXPORT_BATCH_SIZE=256 OTEL_METRIC_EXPORT_INTERVAL=300 \
	run_driver basic --spans 1000 --processes 3 --metrics --min-metric-exports 2
expect_eq "exported" "$(stat basic spans_exported)" 1000
expect_eq "dropped" "$(stat basic spans_dropped)" 0
expect_eq "trace errors" "$(stat basic errors_traces)" 0
expect_ge "metrics exports" "$(stat basic metrics_exports)" 2
stop_receiver
check "every span decoded with every field" $CHECK spans "$RX_OUT" 1000 3
check "metrics: semconv names, cumulative histogram, exemplar, overflow, self resource" \
	$CHECK metrics "$RX_OUT"
check "custom header, percent-decoded" $CHECK header "$RX_OUT" x-api-key "secret one"
check "second custom header" $CHECK header "$RX_OUT" x-tenant t1
check "protobuf content type" $CHECK header "$RX_OUT" content-type application/x-protobuf
check "agent resource attribute on every resource" \
	grep -q '"key":"deployment.environment","value":{"stringValue":"e2e test"}' "$RX_OUT"
expect_ge "batches of at most 256 spans" "$($CHECK requests "$RX_OUT" /v1/traces 200)" 4

echo "- gzip"
start_receiver gzip
OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$RX_PORT" OTEL_EXPORTER_OTLP_COMPRESSION=gzip \
	run_driver gzip --spans 300 --processes 2
stop_receiver
expect_eq "exported with gzip" "$(stat gzip spans_exported)" 300
check "every request gzip-encoded" $CHECK encoding "$RX_OUT" gzip
check "gzip bodies decode to every span" $CHECK spans "$RX_OUT" 300 2

echo "- 503 with Retry-After, then recovery: nothing lost"
start_receiver retry
control '{"status": 503, "retry_after": "1", "count": 3}'
OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="http://127.0.0.1:$RX_PORT/v1/traces" \
OTEL_BSP_MAX_EXPORT_BATCH_SIZE=256 \
	run_driver retry --spans 600 --processes 2
stop_receiver
expect_eq "exported after retries" "$(stat retry spans_exported)" 600
expect_eq "nothing dropped" "$(stat retry spans_dropped)" 0
expect_ge "retries" "$(stat retry retries)" 3
expect_eq "503 answers" "$($CHECK requests "$RX_OUT" /v1/traces 503)" 3
check "Retry-After: 1 honoured (next request >= 0.9 s later)" $CHECK gaps "$RX_OUT" 503 900
check "every span exactly once" $CHECK spans "$RX_OUT" 600 2

echo "- 400 is not retried"
start_receiver bad
control '{"status": 400, "count": 1}'
OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$RX_PORT" \
	run_driver bad --spans 50
sleep 0.5
stop_receiver
expect_eq "one request" "$($CHECK requests "$RX_OUT" /v1/traces)" 1
expect_eq "trace errors" "$(stat bad errors_traces)" 1
expect_eq "no retries" "$(stat bad retries)" 0
expect_eq "the batch counted as dropped" "$(stat bad spans_dropped)" 50
check "logged as not retried" grep -q "HTTP 400: .*(not retried)" "$E2E_TMP/bad.log"

echo "- receiver down for 4 s: bounded memory, drops counted, then delivery resumes"
start_receiver down
control '{"down_ms": 4000}'
OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$RX_PORT" \
OTEL_BSP_MAX_QUEUE_SIZE=512 OTEL_BSP_MAX_EXPORT_BATCH_SIZE=256 OTEL_BSP_EXPORT_TIMEOUT=15000 \
	run_driver down --spans 20000 --processes 4 --interval-us 100 --wait-ms 30000
sleep 0.5
stop_receiver
exported=$(stat down spans_exported)
dropped=$(stat down spans_dropped)
expect_eq "every span exported or counted as dropped" "$((exported + dropped))" 20000
expect_ge "drops counted" "$dropped" 1000
expect_ge "delivery resumed" "$exported" 256
expect_ge "retries while down" "$(stat down retries)" 1
maxrss=$(stat down maxrss_kb)
check "peak RSS ${maxrss} KiB stays bounded (< 64 MiB; unbounded would need ~170 MiB)" \
	test "$maxrss" -lt 65536
received=$($CHECK spans-subset "$RX_OUT" 20000 4 | tail -n 1)
expect_eq "the receiver got exactly the exported spans, each once" "$received" "$exported"

echo "- partial success is logged"
start_receiver partial
control '{"status": 200, "rejected": 5, "message": "too old", "count": 1}'
OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$RX_PORT" \
	run_driver partial --spans 20
stop_receiver
check "rt_warn with the count and message" grep -q "partial success: the collector rejected 5: too old" \
	"$E2E_TMP/partial.log"
expect_eq "rejected spans are not counted as exported" "$(stat partial spans_exported)" 15

echo "- queued spans are flushed at shutdown"
start_receiver flush
OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$RX_PORT" OTEL_BSP_SCHEDULE_DELAY=60000 \
	run_driver flush --spans 100 --wait-ms 0 --free-timeout-ms 5000
sleep 0.3
stop_receiver
expect_eq "nothing sent before shutdown" "$(stat flush spans_exported)" 0
check "all 100 spans delivered by the flush" $CHECK spans "$RX_OUT" 100 2

echo "- unsupported protocol"
OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:1" OTEL_EXPORTER_OTLP_PROTOCOL=grpc \
	run_driver proto --spans 1
check "refused with exit status 2" test $? -eq 2
check "with a clear sentence" grep -q 'OTEL_EXPORTER_OTLP_PROTOCOL="grpc" is not supported' \
	"$E2E_TMP/proto.log"

[ "$E2E_FAILED" -eq 0 ] || for n in basic retry down; do
	echo "  --- driver log $n"
	show_log "$n"
done
e2e_finish
