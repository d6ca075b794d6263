#!/usr/bin/env bash
# The "done when" checks of issue 5 against a running cluster, each printing PASS/FAIL:
#   1. all nodes Ready
#   2. a Service name resolves through CoreDNS (and answers through kube-proxy)
#   3. a pod on worker 1 reaches a pod on worker 2
#   4. a deny-all NetworkPolicy blocks a connection that worked a moment before, and an
#      allow rule reopens it within 10 s (both times measured and printed)
#   5. a pod whose image is not there fails with an image-pull error that names the
#      loopback endpoint 127.0.0.1:1 (for a listed registry and for an unlisted one)
#   6. the host rejects anything the kind network would forward off the machine
#
#   scripts/airgap/verify.sh [name]      (default name: gateway-smoke)
# Exits non-zero if any check fails. KEEP=1 keeps the test namespace for inspection.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NAME="${1:-$CLUSTER_NAME_DEFAULT}"
NS=gs-verify
KCFG="$CACHE/kubeconfig-$NAME"
[[ -s "$KCFG" ]] || "$BIN/kind" get kubeconfig --name "$NAME" >"$KCFG" 2>/dev/null || die "no cluster $NAME (run cluster-up.sh)"
k() { "$BIN/kubectl" --kubeconfig "$KCFG" --context "kind-$NAME" "$@"; }
IMG="${VERIFY_IMAGE:-$BUSYBOX_IMAGE}"
pass=0; fail=0
result() { # PASS|FAIL name detail
  if [[ $1 == PASS ]]; then pass=$((pass+1)); else fail=$((fail+1)); fi
  printf '%s  %-34s %s\n' "$1" "$2" "$3"
}
ms() { date +%s%3N; }
cleanup() { [[ -n "${KEEP:-}" ]] || k delete namespace "$NS" --wait=false >/dev/null 2>&1 || true; }
trap cleanup EXIT

k delete namespace "$NS" --ignore-not-found --wait=true >/dev/null 2>&1 || true
k create namespace "$NS" >/dev/null

# ------------------------------------------------------------------ 1. nodes Ready
nodes_total="$(k get nodes --no-headers | wc -l)"
nodes_ready="$(k get nodes -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c True || true)"
if [[ "$nodes_total" -ge 3 && "$nodes_ready" == "$nodes_total" ]]; then
  result PASS "nodes Ready" "$nodes_ready/$nodes_total"
else
  result FAIL "nodes Ready" "$nodes_ready/$nodes_total"; k get nodes >&2 || true
fi

mapfile -t workers < <(k get nodes -l '!node-role.kubernetes.io/control-plane' -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}' | sort)
[[ ${#workers[@]} -ge 2 ]] || die "need 2 workers, found ${#workers[@]}"
W1="${workers[0]}"; W2="${workers[1]}"

k apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: srv, namespace: $NS, labels: {app: srv}}
spec:
  nodeName: $W1
  terminationGracePeriodSeconds: 1
  containers:
  - name: srv
    image: $IMG
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'mkdir -p /www && echo gateway-smoke-ok >/www/index.html && exec httpd -f -p 8080 -h /www']
    ports: [{containerPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: cli, namespace: $NS, labels: {app: cli}}
spec:
  nodeName: $W2
  terminationGracePeriodSeconds: 1
  containers:
  - name: cli
    image: $IMG
    imagePullPolicy: IfNotPresent
    command: [sleep, "3600"]
---
apiVersion: v1
kind: Service
metadata: {name: srv, namespace: $NS}
spec:
  selector: {app: srv}
  ports: [{port: 8080, targetPort: 8080}]
YAML
k -n "$NS" wait --for=condition=Ready pod/srv pod/cli --timeout=90s >/dev/null || { k -n "$NS" get pods -o wide >&2; }
SRV_IP="$(k -n "$NS" get pod srv -o jsonpath='{.status.podIP}')"
SVC_IP="$(k -n "$NS" get svc srv -o jsonpath='{.spec.clusterIP}')"
get() { k -n "$NS" exec cli -- timeout "${2:-2}" wget -q -O- "$1" 2>/dev/null; }  # (busybox 1.35 wget -T segfaults)

# ------------------------------------------------------------------ 2. DNS
resolved="$(k -n "$NS" exec cli -- nslookup "srv.$NS.svc.cluster.local." 2>/dev/null | awk '/^Address/ {a=$NF} END {print a}')"
via_name="$(get "http://srv.$NS:8080/" 3 || true)"
if [[ -n "$SVC_IP" && "$resolved" == "$SVC_IP" && "$via_name" == "gateway-smoke-ok" ]]; then
  result PASS "Service name resolves (CoreDNS)" "srv.$NS.svc.cluster.local -> $resolved, http via name ok"
else
  result FAIL "Service name resolves (CoreDNS)" "resolved='$resolved' clusterIP='$SVC_IP' http='$via_name'"
fi

# ------------------------------------------------------------------ 3. cross-node
body="$(get "http://$SRV_IP:8080/" 3 || true)"
if [[ "$body" == "gateway-smoke-ok" ]]; then
  result PASS "pod-to-pod across workers" "cli@$W2 -> srv@$W1 ($SRV_IP:8080)"
else
  result FAIL "pod-to-pod across workers" "cli@$W2 -> srv@$W1 ($SRV_IP:8080): '$body'"
fi

# ------------------------------------------------------------------ 4. NetworkPolicy
poll() { # until-state(open|closed) timeout-s : prints elapsed ms, returns 1 on timeout
  local want="$1" limit=$(( $2 * 1000 )) t0 now_ b
  t0=$(ms)
  while :; do
    b="$(get "http://$SRV_IP:8080/" 1 || true)"
    if [[ $want == open && "$b" == "gateway-smoke-ok" ]]; then
      echo $(( $(ms) - t0 )); return 0
    fi
    if [[ $want == closed && "$b" != "gateway-smoke-ok" ]]; then
      local e=$(( $(ms) - t0 ))
      # a real block, not a blip: two more attempts must fail too
      if [[ "$(get "http://$SRV_IP:8080/" 1 || true)" != "gateway-smoke-ok" && \
            "$(get "http://$SRV_IP:8080/" 1 || true)" != "gateway-smoke-ok" ]]; then
        echo "$e"; return 0
      fi
    fi
    now_=$(ms); (( now_ - t0 < limit )) || { echo $(( now_ - t0 )); return 1; }
    sleep 0.2
  done
}
if [[ "$(get "http://$SRV_IP:8080/" 2)" == "gateway-smoke-ok" ]]; then
  k apply -f - >/dev/null <<YAML
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: $NS}
spec:
  podSelector: {}
  policyTypes: [Ingress]
YAML
  if t_block="$(poll closed 30)"; then
    result PASS "deny-all blocks" "blocked $(awk "BEGIN{printf \"%.1f\", $t_block/1000}") s after apply"
    k apply -f - >/dev/null <<YAML
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-cli, namespace: $NS}
spec:
  podSelector: {matchLabels: {app: srv}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {matchLabels: {app: cli}}}]
    ports: [{protocol: TCP, port: 8080}]
YAML
    if t_open="$(poll open 20)" && (( t_open <= 10000 )); then
      result PASS "allow rule reopens within 10 s" "reopened $(awk "BEGIN{printf \"%.1f\", $t_open/1000}") s after apply"
    else
      result FAIL "allow rule reopens within 10 s" "not open after $(awk "BEGIN{printf \"%.1f\", ${t_open:-0}/1000}") s"
    fi
  else
    result FAIL "deny-all blocks" "still open $(( t_block / 1000 )) s after apply (no NetworkPolicy enforcement)"
    result FAIL "allow rule reopens within 10 s" "not tested (deny did not block)"
  fi
else
  result FAIL "deny-all blocks" "baseline connection did not work"
  result FAIL "allow rule reopens within 10 s" "not tested"
fi

# ------------------------------------------------------------------ 5. missing image
k apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: missing-listed, namespace: $NS}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: c, image: "registry.k8s.io/gateway-smoke/not-there:v0", imagePullPolicy: IfNotPresent}
---
apiVersion: v1
kind: Pod
metadata: {name: missing-unlisted, namespace: $NS}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: c, image: "registry.example.org/gateway-smoke/not-there:v0", imagePullPolicy: IfNotPresent}
YAML
for p in missing-listed missing-unlisted; do
  reason=""; msg=""
  for _ in $(seq 1 60); do
    reason="$(k -n "$NS" get pod "$p" -o jsonpath='{.status.containerStatuses[0].state.waiting.reason}' 2>/dev/null || true)"
    [[ "$reason" == ErrImagePull || "$reason" == ImagePullBackOff ]] && break
    sleep 1
  done
  msg="$(k -n "$NS" get events --field-selector "involvedObject.name=$p,reason=Failed" -o jsonpath='{range .items[*]}{.message}{"\n"}{end}' 2>/dev/null | grep -m1 -i "pull" || true)"
  [[ -n "$msg" ]] || msg="$(k -n "$NS" get pod "$p" -o jsonpath='{.status.containerStatuses[0].state.waiting.message}' 2>/dev/null || true)"
  img="$(k -n "$NS" get pod "$p" -o jsonpath='{.spec.containers[0].image}')"
  if [[ ( "$reason" == ErrImagePull || "$reason" == ImagePullBackOff ) && "$msg" == *"127.0.0.1:1"* ]]; then
    result PASS "missing image fails locally" "$img: $reason: ...$(grep -o '[a-z ]*tcp 127.0.0.1:1[^"]*' <<<"$msg" | head -1)"
  else
    result FAIL "missing image fails locally" "$img: reason='$reason' message='${msg:0:300}'"
  fi
done

# ------------------------------------------------------------------ 6. egress guard
# (checked on the host, without sending anything outside)
br="$(kind_bridge 2>/dev/null || true)"
# shellcheck disable=SC2046
if [[ -n "$br" ]] && iptables -C DOCKER-USER $(egress_rule "$br") 2>/dev/null; then
  n="$(iptables -L DOCKER-USER -v -n -x | awk '/gateway-smoke-airgap/ {print $1; exit}')"
  result PASS "node egress stays on this machine" "DOCKER-USER rejects $br -> elsewhere (${n:-0} packets stopped so far)"
else
  result FAIL "node egress stays on this machine" "no DOCKER-USER reject rule for the kind bridge '${br}' (run cluster-up.sh)"
fi

echo "verify: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
