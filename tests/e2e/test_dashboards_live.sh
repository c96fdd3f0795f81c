#!/bin/bash
# tests/e2e/test_dashboards_live.sh - the shipped dashboards against the
# real agent: a real Prometheus (with exemplar storage) scrapes redtap
# while real traffic flows (nginx proxying to a Python service that uses
# PostgreSQL and Redis through the shim, with some 5xx and SQL errors);
# every panel query of every dashboard, with its variables substituted,
# must return data (tests/dashboards/panel-queries.sh), and latency and
# error-log panels must return exemplars (log capture is on: shop logs an
# ERROR line on /broken). The recording rules must produce series. gRPC
# calls (apps/go/grpcdemo, unary, streaming and UNAVAILABLE) run as
# service shop too, for the gRPC panels; the grpcdemo server is also the Go
# process (with symbols) behind the Go Runtime Overview's go_* panels.
# Requests carry tenant and channel headers (traces.attribute_labels): acme
# on the web channel, and globex on mobile, whose /broken calls burn its
# error budget; the shipped SLO rules of shop (rules/slo-shop.yml) feed the
# SLO health dashboard. The kernel keeps BPF statistics for the run, for
# the agent-cost panels of its BPF programs (tests/lib/bpfstats.sh).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/apps/receiver.sh"
. "$(dirname "$0")/apps/nginx.sh"
. "$E2E_ROOT/tests/lib/servers.sh"
. "$E2E_ROOT/tests/lib/bpfstats.sh"
APP=30080
NGX=30081
INV=30082
PG=30432
RD=30379
AGENT=30464
PROM=30090
GRPC=31620 # from the gRPC tests' range
trap 'srv_stop; e2e_cleanup' EXIT

make -s -C "$E2E_ROOT" build/tests/librediswrap.so >/dev/null || { echo "  FAIL build"; exit 1; }
srv_pg_start "$E2E_TMP/pg" $PG || exit 1
srv_redis_start "$E2E_TMP" $RD || exit 1
srv_shop_db $PG || exit 1

start_receiver live
bpf_stats_hold "$E2E_TMP/bpfstats.out" || { echo "  FAIL BPF statistics: $(cat "$E2E_TMP/bpfstats.out")"; exit 1; }
bg_track "$BPF_STATS_PID"
export OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$RX_PORT OTEL_METRICS_EXPORTER=none \
	REDTAP_LOGS=true REDTAP_TRACES_HEADER_ATTRIBUTES=X-Tenant-ID=tenant,X-Channel=channel \
	REDTAP_TRACES_ATTRIBUTE_LABELS='tenant=allow:acme|globex,channel=allow:web|mobile'
start_agent $AGENT
unset OTEL_EXPORTER_OTLP_ENDPOINT OTEL_METRICS_EXPORTER REDTAP_LOGS REDTAP_TRACES_HEADER_ATTRIBUTES \
	REDTAP_TRACES_ATTRIBUTE_LABELS
OTEL_SERVICE_NAME=inventory python3 "$E2E_ROOT/tests/e2e/apps/http_app.py" $INV 2>>"$E2E_TMP/app.log" &
bg_track $!
OTEL_SERVICE_NAME=shop "$REDTAP" run -- /usr/bin/python3 "$E2E_ROOT/tests/e2e/apps/shop_app.py" $APP $PG $RD \
	"$E2E_ROOT/build/tests/librediswrap.so" $INV 2>>"$E2E_TMP/app.log" &
bg_track $!
wait_port $APP
start_nginx $NGX
sed -i "s|location /api/ {|location /shop/ { proxy_pass http://127.0.0.1:$APP/; }\n\t\tlocation /api/ {|" "$NGX_DIR/nginx.conf"
kill -HUP $NGX_PID; sleep 1
(cd "$E2E_ROOT/tests/e2e/apps/go/grpcdemo" && GO111MODULE=off GOPATH=/usr/share/gocode \
	GOPROXY=off GOFLAGS= GOCACHE=/tmp/redtap-gocache go build -o "$E2E_TMP/grpcdemo" .) ||
	{ echo "  FAIL go build grpcdemo"; exit 1; }
OTEL_SERVICE_NAME=shop "$E2E_TMP/grpcdemo" server 127.0.0.1:$GRPC 2>>"$E2E_TMP/app.log" &
bg_track $!
wait_port $GRPC

cat >"$E2E_TMP/prometheus.yml" <<YML
global: { scrape_interval: 1s, evaluation_interval: 1s }
rule_files: [ "$E2E_ROOT/rules/redtap-red.yml", "$E2E_ROOT/rules/redtap-agent.yml",
	"$E2E_ROOT/rules/slo-shop.yml" ]
scrape_configs:
  - job_name: redtap
    static_configs: [ { targets: [ "127.0.0.1:$AGENT" ] } ]
YML
prometheus --config.file="$E2E_TMP/prometheus.yml" --storage.tsdb.path="$E2E_TMP/prom" \
	--web.listen-address=127.0.0.1:$PROM --enable-feature=exemplar-storage --log.level=warn \
	>"$E2E_TMP/prometheus.log" 2>&1 &
bg_track $!
wait_http http://127.0.0.1:$PROM/-/ready 30

# Bounded traffic: 40 s at most, in the background while we query.
(
	end=$((SECONDS + 40))
	while [ $SECONDS -lt $end ]; do
		for i in 1 2 3 4 5 6 7 8; do
			curl -s -o /dev/null http://127.0.0.1:$NGX/shop/order/$i
			curl -s -o /dev/null -H "X-Tenant-ID: acme" -H "X-Channel: web" \
				http://127.0.0.1:$APP/order/$i
		done
		curl -s -o /dev/null -H "X-Tenant-ID: globex" -H "X-Channel: mobile" \
			http://127.0.0.1:$APP/order/9
		curl -s -o /dev/null -H "X-Tenant-ID: globex" -H "X-Channel: mobile" \
			http://127.0.0.1:$NGX/shop/broken
		OTEL_SERVICE_NAME=shop "$E2E_TMP/grpcdemo" client 127.0.0.1:$GRPC 4 1 1 2 >/dev/null 2>&1
		sleep 0.2
	done
) &
bg_track $!
sleep 15 # a dozen scrapes, enough for rate() over the dashboards' windows

export PROM_URL=http://127.0.0.1:$PROM
"$E2E_ROOT/tests/dashboards/panel-queries.sh" --exemplars shop >"$E2E_TMP/panels.txt" 2>&1
rc=$?
grep -c '^PASS' "$E2E_TMP/panels.txt" | sed 's/^/  panels with data: /'
grep '^FAIL' "$E2E_TMP/panels.txt" | sed 's/^/  /'
expect_eq "every panel of every dashboard has data for service shop" "$rc" 0
"$E2E_ROOT/tests/dashboards/panel-queries.sh" -v job=redtap All >"$E2E_TMP/panels-all.txt" 2>&1
rc=$?
grep '^FAIL' "$E2E_TMP/panels-all.txt" | sed 's/^/  /'
expect_eq "every panel has data for All services" "$rc" 0
q() { curl -sf "$PROM_URL/api/v1/query" --data-urlencode "query=$1" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["data"]["result"]))'; }
expect_ge "recording rule: route latency p95" "$(q 'service_route:http_server_request_duration_seconds:p95_rate5m{service_name="shop"}')" 1
expect_ge "SLO rules: globex on mobile has burnt its error budget" \
	"$(q 'slo:error_budget_remaining:ratio{slo="shop-by-tenant-by-channel-availability",tenant="globex",channel="mobile"} < 0')" 1
expect_ge "SLO rules: acme on the web has all of it" \
	"$(q 'slo:error_budget_remaining:ratio{slo="shop-by-tenant-by-channel-availability",tenant="acme",channel="web"} == 1')" 1
expect_ge "recording rule: DB latency" "$(q 'service_db:db_client_operation_duration_seconds:p95_rate5m{db_system_name="postgresql"}')" 1
e2e_finish
