#!/bin/bash
# tests/k8s/run.sh - checks deploy/kubernetes without a cluster (`make
# k8s-test`): the kustomize base renders (`kubectl kustomize`), every object
# it renders and every file of the base passes the Kubernetes and Prometheus
# Operator schemas (validate.mjs; npm ci from the committed lock), a broken
# DaemonSet fails them, the base's config is deploy/redtap.yaml, the
# DaemonSet keeps its contract (host PID, no privileged, the capabilities,
# /healthz readiness, prometheus.io annotations, no API token), and the
# annotation-driven Prometheus configuration passes `promtool check config`.
set -u
cd "$(dirname "$0")"
ROOT=$(cd ../.. && pwd)
BASE="$ROOT/deploy/kubernetes/base"
TMP=$(mktemp -d /tmp/redtap-k8s.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
failed=0
checks=0
check() {
	desc=$1
	shift
	checks=$((checks + 1))
	if "$@"; then echo "  ok   $desc"; else echo "  FAIL $desc"; failed=1; fi
}

if [ ! -d node_modules/kubernetes-models ]; then
	npm ci --no-audit --no-fund --loglevel=error >/dev/null || { echo "  FAIL npm ci in tests/k8s"; exit 1; }
fi
# kustomize reads no file outside the base: the ConfigMap's file is a copy
check "the base's redtap.yaml is deploy/redtap.yaml (else: cp deploy/redtap.yaml $BASE/)" \
	cmp -s "$ROOT/deploy/redtap.yaml" "$BASE/redtap.yaml"
if command -v kubectl >/dev/null; then
	check "kubectl kustomize renders the base" \
		sh -c "kubectl kustomize '$BASE' >'$TMP/all.yaml' 2>'$TMP/kustomize.err'"
else
	# Debian 12 has no kubectl with kustomize v4+ (kubernetes-client is 1.20):
	# every file the kustomization names must exist; the objects are the files
	echo "  note no kubectl: checking that the kustomization's files resolve"
	for f in $(sed -n 's/^ *- \([a-z-]*\.yaml\)$/\1/p' "$BASE/kustomization.yaml"); do
		check "kustomization names $f, which exists" test -s "$BASE/$f"
	done
	for f in namespace serviceaccount daemonset podmonitor; do
		cat "$BASE/$f.yaml"
		echo ---
	done >"$TMP/all.yaml"
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: redtap-config\n' >>"$TMP/all.yaml"
fi
check "... five objects" test "$(grep -c '^kind:' "$TMP/all.yaml")" = 5
check "every rendered object passes its schema" node validate.mjs "$TMP/all.yaml"
for f in "$BASE"/*.yaml; do
	case $f in */kustomization.yaml | */redtap.yaml) continue ;; esac
	check "$(basename "$f") passes its schema" sh -c "node validate.mjs '$f' >/dev/null"
done
sed 's/hostPID: true/hostPID: maybe/' "$TMP/all.yaml" >"$TMP/bad.yaml"
check "a broken DaemonSet fails the schema" sh -c "! node validate.mjs '$TMP/bad.yaml' >/dev/null"

ds=$(awk '/^kind: DaemonSet/,/^---/' "$TMP/all.yaml")
has() { printf '%s\n' "$ds" | grep -q -- "$1"; }
check "DaemonSet: host PID" has "hostPID: true"
check "DaemonSet: not privileged" has "privileged: false"
for c in BPF PERFMON SYS_PTRACE SYS_RESOURCE DAC_READ_SEARCH; do
	check "DaemonSet: capability $c" has "- $c\$"
done
check "DaemonSet: no SYS_ADMIN" sh -c "! printf '%s' \"\$1\" | grep -q SYS_ADMIN" sh "$ds"
check "DaemonSet: readiness on /healthz" sh -c "printf '%s' \"\$1\" | grep -A6 readinessProbe | grep -q 'path: /healthz'" sh "$ds"
check "DaemonSet: prometheus.io annotations" sh -c "printf '%s' \"\$1\" | grep -q 'prometheus.io/scrape: \"true\"' && printf '%s' \"\$1\" | grep -q 'prometheus.io/port: \"9464\"' && printf '%s' \"\$1\" | grep -q 'prometheus.io/path: /metrics'" sh "$ds"
check "DaemonSet: no API token" has "automountServiceAccountToken: false"
check "DaemonSet: mounts tracefs and bpffs" sh -c "printf '%s' \"\$1\" | grep -q 'path: /sys/kernel/tracing' && printf '%s' \"\$1\" | grep -q 'path: /sys/fs/bpf'" sh "$ds"
check "no Role or RoleBinding (no API rights)" sh -c "! grep -q '^kind: .*Role' '$TMP/all.yaml'"

# promtool: the annotation-driven configuration. Debian's Prometheus is built
# without the Kubernetes service discovery ("field kubernetes_sd_configs not
# found"); there the same relabelling is checked on static targets that carry
# the __meta_kubernetes_* labels the discovery would set.
P="$ROOT/deploy/kubernetes/prometheus-annotations.yml"
sed "s|/usr/share/redtap/rules/|$ROOT/rules/|" "$P" >"$TMP/prom.yml"
if promtool check config "$TMP/prom.yml" >"$TMP/promtool.out" 2>&1; then
	check "promtool check config (with kubernetes_sd_configs)" true
elif grep -q "field kubernetes_sd_configs not found" "$TMP/promtool.out"; then
	echo "  note promtool was built without Kubernetes discovery (Debian); checking the relabelling on static targets"
	python3 - "$TMP/prom.yml" >"$TMP/prom-static.yml" <<'PY'
import sys
s = open(sys.argv[1]).read()
s = s.replace("""    kubernetes_sd_configs:
      - role: pod
""", """    static_configs:
      - targets: [10.0.0.7:8080]
        labels:
          __meta_kubernetes_pod_annotation_prometheus_io_scrape: "true"
          __meta_kubernetes_pod_annotation_prometheus_io_port: "9464"
          __meta_kubernetes_pod_annotation_prometheus_io_path: /metrics
""")
print(s, end="")
PY
	check "promtool check config (relabelling on static targets)" \
		sh -c "promtool check config '$TMP/prom-static.yml' >'$TMP/promtool.out' 2>&1"
else
	cat "$TMP/promtool.out"
	check "promtool check config" false
fi
echo "k8s: $checks checks, $([ $failed = 0 ] && echo passed || echo FAILED)"
exit $failed
