#!/usr/bin/env bash
# Bring up the gateway-smoke kind cluster on a machine without registry access.
#
#   scripts/airgap/cluster-up.sh [name]      (default name: gateway-smoke)
#
# 1. host-prep.sh (docker, runtime wrapper, cgroups), 2. build.sh (only what is missing),
# 3. kind create cluster with our node image and kind-config.yaml (1 control plane, 2 workers),
# 4. wait until every node is Ready and CoreDNS, gs-net, kube-router and the storage
#    provisioner are available. Re-running with an existing cluster only re-checks it.
#
# Environment:
#   GATEWAY_SMOKE_NODE_IMAGE  node image to use instead of ours (e.g. kindest/node:v1.34.0 on
#                             a machine that can pull; then nothing is built but kind/kubectl)
#   GATEWAY_SMOKE_CACHE       cache root (default ~/.cache/gateway-smoke)
#   SKIP_HOST_PREP=1          skip host-prep.sh (e.g. docker already set up, not root)
# Prints the kubeconfig path and context at the end; timings go to the cache's timings.json.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NAME="${1:-$CLUSTER_NAME_DEFAULT}"
IMAGE="${GATEWAY_SMOKE_NODE_IMAGE:-$NODE_IMAGE}"
KUBECONFIG_OUT="$CACHE/kubeconfig-$NAME"
CONTEXT="kind-$NAME"
T0=$(now)

[[ -n "${SKIP_HOST_PREP:-}" ]] || bash "$AIRGAP_DIR/host-prep.sh"
if [[ -z "${GATEWAY_SMOKE_NODE_IMAGE:-}" ]]; then
  bash "$AIRGAP_DIR/build.sh"
else
  bash "$AIRGAP_DIR/build.sh" kind k8s
fi
KUBECTL=("$BIN/kubectl" --kubeconfig "$KUBECONFIG_OUT" --context "$CONTEXT")

if "$BIN/kind" get clusters 2>/dev/null | grep -qx "$NAME"; then
  log "cluster $NAME exists; checking it"
  ensure_kind_network
  "$BIN/kind" get kubeconfig --name "$NAME" >"$KUBECONFIG_OUT"
else
  ensure_kind_network
  log "creating cluster $NAME with image $IMAGE"
  t=$(now)
  "$BIN/kind" create cluster --name "$NAME" --image "$IMAGE" \
    --config "$REPO_ROOT/kind-config.yaml" --kubeconfig "$KUBECONFIG_OUT" --retain=false
  log "kind create cluster: $(( $(now) - t ))s"
  # also merge into the default kubeconfig (~/.kube/config or $KUBECONFIG) as kind does
  "$BIN/kind" export kubeconfig --name "$NAME" >/dev/null 2>&1 || true
fi

log "waiting for nodes Ready"
"${KUBECTL[@]}" wait --for=condition=Ready node --all --timeout=180s
log "waiting for system workloads"
"${KUBECTL[@]}" -n kube-system rollout status deployment/coredns --timeout=180s
if [[ -z "${GATEWAY_SMOKE_NODE_IMAGE:-}" ]]; then
  "${KUBECTL[@]}" -n kube-system rollout status daemonset/gs-net --timeout=120s
  "${KUBECTL[@]}" -n kube-system rollout status daemonset/kube-router --timeout=120s
  "${KUBECTL[@]}" -n local-path-storage rollout status deployment/local-path-provisioner --timeout=120s
fi
total=$(( $(now) - T0 ))
record_timing cluster_up_seconds "$total"
"${KUBECTL[@]}" get nodes -o wide
log "cluster $NAME ready in ${total}s"
cat <<MSG
kubeconfig: $KUBECONFIG_OUT   (also merged into ${KUBECONFIG:-$HOME/.kube/config})
context:    $CONTEXT
kubectl:    $BIN/kubectl --kubeconfig $KUBECONFIG_OUT --context $CONTEXT get pods -A
MSG
