#!/bin/bash
# tests/e2e/test_k8s_api.sh - the optional pod list (k8s.pods_url) against a
# fake kubelet: an HTTPS server (a self-signed certificate made here with
# openssl, given as k8s.ca_file) that answers only with the bearer token of
# k8s.token_file. Two pods built as test_podmeta.sh does (apps/pod.sh):
#  - a DaemonSet pod whose name tells nothing, labelled
#    app.kubernetes.io/name=logship: service.name from the label;
#  - a Deployment pod with a hostname of its own (no name rule applies),
#    owned by ReplicaSet payments-api-<pod-template-hash>: the workload
#    payments-api from the ownerReference, on /metrics and OTLP, and as
#    service.name (it has no app label).
# Then a second agent whose URL is down: it runs and measures unchanged.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/apps/receiver.sh"
. "$(dirname "$0")/apps/pod.sh"
AGENT=32050
DS_APP=32051
DEP_APP=32052
KUBELET=32053
DOWN=32054 # nothing listens here
AGENT2=32055
SPANS="python3 $E2E_ROOT/tests/e2e/apps/spans.py"
APP="$E2E_ROOT/tests/e2e/apps/http_app.py"

pod_init
trap 'e2e_cleanup; pod_cleanup' EXIT INT TERM
UID1=$(new_uid)
UID2=$(new_uid)
DS_CG=$(pod_dir burstable "$UID1" "$(new_id)")
DEP_CG=$(pod_dir besteffort "$UID2" "$(new_id)")

# the fake kubelet: certificate, token, pod list
K="$E2E_TMP/kubelet"
mkdir -p "$K"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1 -keyout "$K/key.pem" -out "$K/cert.pem" 2>/dev/null
check "openssl made the kubelet's certificate" test -s "$K/cert.pem"
TOKEN=$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')
printf '%s\n' "$TOKEN" >"$K/token"
chmod 600 "$K/token"
cat >"$K/pods.json" <<JSON
{"kind":"PodList","apiVersion":"v1","metadata":{},"items":[
 {"metadata":{"name":"logship-q7x2z","namespace":"infra","uid":"$UID1",
   "labels":{"app.kubernetes.io/name":"logship","app":"other","controller-revision-hash":"5c9"},
   "ownerReferences":[{"apiVersion":"apps/v1","kind":"DaemonSet","name":"node-logs","uid":"d1",
     "controller":true,"blockOwnerDeletion":true}]},
  "spec":{"containers":[{"name":"c","image":"x"}],"nodeName":"n1"},"status":{"phase":"Running"}},
 {"metadata":{"name":"api","namespace":"shop","uid":"$UID2",
   "labels":{"pod-template-hash":"6b7c9d8f5"},
   "ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"payments-api-6b7c9d8f5",
     "uid":"r1","controller":true}]},
  "spec":{"containers":[{"name":"c","image":"x"}]},"status":{"phase":"Running"}}
]}
JSON
python3 "$E2E_ROOT/tests/e2e/apps/fake_kubelet.py" $KUBELET "$K/cert.pem" "$K/key.pem" \
	"$TOKEN" "$K/pods.json" "$K/requests.log" 2>>"$E2E_TMP/app.log" &
bg_track $!
wait_port $KUBELET
check "the fake kubelet refuses a request without the token" \
	test "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$K/cert.pem" \
		https://127.0.0.1:$KUBELET/pods)" = 401
: >"$K/requests.log" # from here on, only the agent's requests

start_pod "$DS_CG" file:infra HOSTNAME=logship-q7x2z python3 "$APP" $DS_APP
DS_PID=$!
start_pod "$DEP_CG" file:shop HOSTNAME=api python3 "$APP" $DEP_APP
DEP_PID=$!
wait_port $DS_APP && wait_port $DEP_APP

start_receiver k8sapi
export OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$RX_PORT OTEL_BSP_SCHEDULE_DELAY=200
export REDTAP_K8S_PODS_URL=https://127.0.0.1:$KUBELET/pods REDTAP_K8S_TOKEN_FILE="$K/token"
export REDTAP_K8S_CA_FILE="$K/cert.pem" REDTAP_K8S_REFRESH=2
start_agent $AGENT -p $DS_PID -p $DEP_PID
unset OTEL_EXPORTER_OTLP_ENDPOINT OTEL_BSP_SCHEDULE_DELAY
check "the agent fetched the pod list with its token" grep -q "^200 /pods" "$K/requests.log"
check "... and never without it" sh -c "! grep -q '^401' '$K/requests.log'"

for i in 1 2 3; do
	curl -s -o /dev/null http://127.0.0.1:$DS_APP/items/$i
	curl -s -o /dev/null http://127.0.0.1:$DEP_APP/items/$i
done
sleep 3
M=http_server_request_duration_seconds_count
expect_eq "DaemonSet pod: service.name from app.kubernetes.io/name" \
	"$(metric_sum $M service_name=logship k8s_namespace_name=infra)" 3
expect_eq "Deployment pod: the workload from ownerReferences (ReplicaSet - hash)" \
	"$(metric_sum $M service_name=payments-api k8s_namespace_name=shop \
		k8s_deployment_name=payments-api)" 3

F="$RX_OUT"
expect_eq "span resource: service.name from the label" \
	"$($SPANS "$F" get res.k8s.pod.uid service=logship kind=SERVER)" "$UID1"
expect_eq "span resource: k8s.deployment.name from ownerReferences" \
	"$($SPANS "$F" get res.k8s.deployment.name service=payments-api kind=SERVER)" payments-api
expect_eq "span resource: k8s.daemonset.name from ownerReferences" \
	"$($SPANS "$F" get res.k8s.daemonset.name service=logship kind=SERVER)" node-logs
stop_agent

# The URL is down: the agent starts, measures and names as without it.
export REDTAP_K8S_PODS_URL=https://127.0.0.1:$DOWN/pods
start_agent $AGENT2 -p $DEP_PID
unset REDTAP_K8S_PODS_URL REDTAP_K8S_TOKEN_FILE REDTAP_K8S_CA_FILE REDTAP_K8S_REFRESH
for i in 1 2 3; do curl -s -o /dev/null http://127.0.0.1:$DEP_APP/items/$i; done
sleep 3
SVC=$(basename "$(readlink /proc/$DEP_PID/exe)")
expect_eq "URL down: the pod's series, named by its executable, namespace from the file" \
	"$(metric_sum $M service_name=$SVC k8s_namespace_name=shop)" 3
check "URL down: the agent says so in its log" grep -q "k8s pod list:" "$E2E_TMP/agent.log"
check "URL down: the agent is up" curl -sf -o /dev/null http://127.0.0.1:$AGENT2/healthz
stop_agent
e2e_finish
