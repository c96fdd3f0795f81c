#!/bin/bash
# tests/e2e/test_podmeta.sh - container and pod identity without Kubernetes:
# the test builds what a kubelet leaves behind for a pod's process (a cgroup
# v1 path kubepods/burstable/pod<uid>/<container id>, a mount namespace with
# the service-account namespace file, HOSTNAME set to a Deployment pod's
# name), starts a real Python server inside, and checks the Kubernetes labels
# on /metrics (namespace, workload, pod with --k8s-labels), the resource
# attributes of its spans over OTLP (decoded by the independent receiver),
# service.name from the workload, a host process's series without any
# Kubernetes label, a pod whose namespace "file" is a FIFO (read without
# blocking: the agent stays up, the namespace is absent), and a host process
# that joins a pod's cgroup and execs a server there: its series have no pod
# labels before the exec and the pod's after (the agent's cache of "in no
# pod" is dropped with the exec).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/apps/receiver.sh"
. "$(dirname "$0")/apps/pod.sh"
AGENT=31100
POD_APP=31101
HOST_APP=31102
FIFO_APP=31103
JOIN_APP=31104
SPANS="python3 $E2E_ROOT/tests/e2e/apps/spans.py"
APP="$E2E_ROOT/tests/e2e/apps/http_app.py"
pod_init
UID1=$(new_uid)
ID1=$(new_id)
UID2=$(new_uid)
ID2=$(new_id)
UID3=$(new_uid)
ID3=$(new_id)
trap 'e2e_cleanup; pod_cleanup' EXIT INT TERM
POD1=$(pod_dir burstable "$UID1" "$ID1")
POD2=$(pod_dir besteffort "$UID2" "$ID2")
POD3=$(pod_dir burstable "$UID3" "$ID3")

start_pod "$POD1" file:shop HOSTNAME=web-7d4b9c8f6d-x2kqp python3 "$APP" $POD_APP
POD_PID=$!
start_pod "$POD2" fifo HOSTNAME=db-0 python3 "$APP" $FIFO_APP
FIFO_PID=$!
python3 "$APP" $HOST_APP 2>>"$E2E_TMP/app.log" &
HOST_PID=$!
bg_track $HOST_PID
# A host server until GET /join; then it moves into POD3's cgroup and execs
# the pod's server (same pid, a Deployment pod's HOSTNAME) on the same port.
python3 -c '
import http.server, os, sys
port, cg, app = int(sys.argv[1]), sys.argv[2], sys.argv[3]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "3")
        self.end_headers()
        self.wfile.write(b"ok\n")
        self.server.join = self.path == "/join"
    def log_message(self, *a):
        pass
srv = http.server.HTTPServer(("127.0.0.1", port), H)
srv.join = False
while not srv.join:
    srv.handle_request()
srv.server_close()
with open(cg + "/cgroup.procs", "w") as f:
    f.write(str(os.getpid()))
os.execve(sys.executable, [sys.executable, app, str(port)],
          {"PATH": "/usr/bin:/bin", "HOSTNAME": "api-5f6d7c8b9-x7kqz"})
' $JOIN_APP "$POD3" "$APP" 2>>"$E2E_TMP/app.log" &
JOIN_PID=$!
bg_track $JOIN_PID
wait_port $POD_APP && wait_port $FIFO_APP && wait_port $HOST_APP && wait_port $JOIN_APP
check "the pod's server runs in the pod's cgroup" grep -q "pod$UID1/$ID1" /proc/$POD_PID/cgroup
check "... and sees its namespace file" \
	test "$(cat /proc/$POD_PID/root/run/secrets/kubernetes.io/serviceaccount/namespace)" = shop
# The naive path escapes: /var/run is an absolute link ("/run"), which a
# reader resolves against its own root, not the pod's (why the agent opens it
# with RESOLVE_IN_ROOT, SECURITY.md).
check "... which the naive path through /var/run misses" \
	test ! -e /proc/$POD_PID/root/var/run/secrets/kubernetes.io/serviceaccount/namespace
HOST_SVC=$(basename "$(readlink /proc/$HOST_PID/exe)")

start_receiver pods
export OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$RX_PORT OTEL_BSP_SCHEDULE_DELAY=200
start_agent $AGENT -p $POD_PID -p $FIFO_PID -p $HOST_PID -p $JOIN_PID \
	--k8s-labels namespace,workload,pod
unset OTEL_EXPORTER_OTLP_ENDPOINT OTEL_BSP_SCHEDULE_DELAY

for i in 1 2 3; do
	curl -s -o /dev/null http://127.0.0.1:$POD_APP/items/$i
	curl -s -o /dev/null http://127.0.0.1:$HOST_APP/items/$i
	curl -s -o /dev/null http://127.0.0.1:$FIFO_APP/items/$i
	curl -s -o /dev/null http://127.0.0.1:$JOIN_APP/before/$i
done
sleep 3
M=http_server_request_duration_seconds_count
text=$(scrape)
expect_eq "pod series: service from the workload, namespace, deployment, pod" \
	"$(metric_sum $M service_name=web k8s_namespace_name=shop k8s_deployment_name=web \
		k8s_pod_name=web-7d4b9c8f6d-x2kqp)" 3
expect_eq "StatefulSet pod: workload from its ordinal name, no namespace (a FIFO)" \
	"$(metric_sum $M service_name=db k8s_statefulset_name=db k8s_pod_name=db-0)" 3
# series_of SERVICE: the request-count lines of SERVICE in the scrape
series_of() { printf '%s\n' "$text" | grep "^$M{service_name=\"$1\""; }
no_label() { series_of "$1" >/dev/null && ! series_of "$1" | grep -q "$2"; }
check "... and no namespace label on it" no_label db k8s_namespace_name
expect_eq "host process: its executable's name" \
	"$(metric_sum $M service_name=$HOST_SVC http_route=/items/{id})" 3
check "host process: no Kubernetes label at all" no_label "$HOST_SVC" k8s_
check "the agent is up after reading a FIFO" curl -sf -o /dev/null http://127.0.0.1:$AGENT/healthz
expect_eq "joining process, before: its executable's name, no pod label" \
	"$(metric_sum $M service_name=$HOST_SVC http_route=/before/{id})" 3
check "... no Kubernetes label on it" no_label "$HOST_SVC" k8s_
curl -s -o /dev/null http://127.0.0.1:$JOIN_APP/join
for _ in $(seq 50); do # the exec'd server on the same port
	curl -sf -o /dev/null http://127.0.0.1:$JOIN_APP/items/0 && break
	sleep 0.1
done
for i in 1 2; do
	curl -s -o /dev/null http://127.0.0.1:$JOIN_APP/items/$i
done
sleep 3
text=$(scrape)
check "joining process: now in the pod's cgroup" grep -q "pod$UID3/$ID3" /proc/$JOIN_PID/cgroup
expect_eq "joining process, after its exec: the pod's workload and pod labels" \
	"$(metric_sum $M service_name=api k8s_deployment_name=api k8s_pod_name=api-5f6d7c8b9-x7kqz)" 3

F="$RX_OUT"
res() { $SPANS "$F" get "res.$1" service=web kind=SERVER; }
expect_eq "span resource: k8s.pod.uid" "$(res k8s.pod.uid)" "$UID1"
expect_eq "span resource: container.id" "$(res container.id)" "$ID1"
expect_eq "span resource: k8s.namespace.name" "$(res k8s.namespace.name)" shop
expect_eq "span resource: k8s.pod.name" "$(res k8s.pod.name)" web-7d4b9c8f6d-x2kqp
expect_eq "span resource: k8s.deployment.name" "$(res k8s.deployment.name)" web
expect_eq "span resource: QoS class" "$(res k8s.pod.qos_class)" burstable
expect_eq "span resource: os.type" "$(res os.type)" linux
check "span resource: host.arch" test -n "$(res host.arch)"
expect_eq "besteffort pod's QoS class" \
	"$($SPANS "$F" get res.k8s.pod.qos_class service=db kind=SERVER)" besteffort
expect_eq "host process's spans: no pod attributes" \
	"$($SPANS "$F" get res.k8s.pod.uid service=$HOST_SVC kind=SERVER)" ""
check "host process's spans: os.type all the same" \
	test "$($SPANS "$F" get res.os.type service=$HOST_SVC kind=SERVER)" = linux
e2e_finish
