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
#   GATEWAY_SMOKE_KIT=online  the online kit (kind's published node images, set up by the harness,
#                             scripts/cluster/kit-setup.ts): no package installs, no build.sh, no Go;
#                             the nodes sit on their own network (gateway-smoke-online) with no egress
#                             rule. Needs GATEWAY_SMOKE_NODE_IMAGE, GATEWAY_SMOKE_KIND, GATEWAY_SMOKE_KUBECTL.
#                             Default (airgap): today's kit, built from the package registries.
#   GATEWAY_SMOKE_NODE_IMAGE  node image to use instead of ours
#   GATEWAY_SMOKE_KIND_CONFIG kind config (default: kind-config.yaml; the harness writes one with
#                             registry mirrors when GATEWAY_SMOKE_REGISTRY_MIRRORS is set)
#   K8S_VERSION               Kubernetes release the air-gapped kit builds (default in lib.sh)
#   GATEWAY_SMOKE_CACHE       cache root (default ~/.cache/gateway-smoke)
#   SKIP_HOST_PREP=1          skip host-prep.sh (e.g. docker already set up, not root)
# Prints the kubeconfig path and context at the end; timings go to the cache's timings.json.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NAME="${1:-$CLUSTER_NAME_DEFAULT}"
KIT="${GATEWAY_SMOKE_KIT:-airgap}"
IMAGE="${GATEWAY_SMOKE_NODE_IMAGE:-$NODE_IMAGE}"
CONFIG="${GATEWAY_SMOKE_KIND_CONFIG:-$REPO_ROOT/kind-config.yaml}"
KUBECONFIG_OUT="$CACHE/kubeconfig-$NAME"
CONTEXT="kind-$NAME"
T0=$(now)

case "$KIT" in
  online)
    [[ -n "${GATEWAY_SMOKE_NODE_IMAGE:-}" && -x "${GATEWAY_SMOKE_KIND:-}" && -x "${GATEWAY_SMOKE_KUBECTL:-}" ]] ||
      die "GATEWAY_SMOKE_KIT=online needs GATEWAY_SMOKE_NODE_IMAGE, GATEWAY_SMOKE_KIND and GATEWAY_SMOKE_KUBECTL (the harness sets them)"
    export KIND_EXPERIMENTAL_DOCKER_NETWORK="${KIND_EXPERIMENTAL_DOCKER_NETWORK:-$ONLINE_KIND_NET}"
    KIND_NET="$KIND_EXPERIMENTAL_DOCKER_NETWORK"
    [[ -n "${SKIP_HOST_PREP:-}" ]] || bash "$AIRGAP_DIR/host-prep.sh" online
    KIND_BIN="$GATEWAY_SMOKE_KIND"
    KUBECTL_BIN="$GATEWAY_SMOKE_KUBECTL"
    log "online kit: node image $IMAGE, kind $KIND_BIN, kubectl $KUBECTL_BIN; nothing is built"
    ;;
  airgap)
    [[ -n "${SKIP_HOST_PREP:-}" ]] || bash "$AIRGAP_DIR/host-prep.sh"
    if [[ -z "${GATEWAY_SMOKE_NODE_IMAGE:-}" ]]; then
      bash "$AIRGAP_DIR/build.sh"
    else
      bash "$AIRGAP_DIR/build.sh" kind k8s
    fi
    KIND_BIN="$BIN/kind"
    KUBECTL_BIN="$BIN/kubectl"
    ;;
  *) die "GATEWAY_SMOKE_KIT=$KIT: expected online or airgap" ;;
esac
KUBECTL=("$KUBECTL_BIN" --kubeconfig "$KUBECONFIG_OUT" --context "$CONTEXT")

if "$KIND_BIN" get clusters 2>/dev/null | grep -qx "$NAME"; then
  log "cluster $NAME exists; checking it"
  ensure_kind_network
  "$KIND_BIN" get kubeconfig --name "$NAME" >"$KUBECONFIG_OUT"
else
  ensure_kind_network
  log "creating cluster $NAME with image $IMAGE"
  t=$(now)
  "$KIND_BIN" create cluster --name "$NAME" --image "$IMAGE" \
    --config "$CONFIG" --kubeconfig "$KUBECONFIG_OUT" --retain=false
  log "kind create cluster: $(( $(now) - t ))s"
  # also merge into the default kubeconfig (~/.kube/config or $KUBECONFIG) as kind does
  "$KIND_BIN" export kubeconfig --name "$NAME" >/dev/null 2>&1 || true
fi

log "waiting for nodes Ready"
"${KUBECTL[@]}" wait --for=condition=Ready node --all --timeout=180s
log "waiting for system workloads"
"${KUBECTL[@]}" -n kube-system rollout status deployment/coredns --timeout=180s
# what the node image ships as its default CNI and storage (ours: gs-net, kube-router, local-path;
# kindest/node: kindnet and its own local-path)
for w in kube-system/daemonset/gs-net kube-system/daemonset/kube-router kube-system/daemonset/kindnet \
         local-path-storage/deployment/local-path-provisioner; do
  ns="${w%%/*}"; obj="${w#*/}"
  if "${KUBECTL[@]}" -n "$ns" get "$obj" >/dev/null 2>&1; then
    "${KUBECTL[@]}" -n "$ns" rollout status "$obj" --timeout=120s
  fi
done
total=$(( $(now) - T0 ))
record_timing cluster_up_seconds "$total"
"${KUBECTL[@]}" get nodes -o wide
log "cluster $NAME ready in ${total}s"
cat <<MSG
kubeconfig: $KUBECONFIG_OUT   (also merged into ${KUBECONFIG:-$HOME/.kube/config})
context:    $CONTEXT
kubectl:    $KUBECTL_BIN --kubeconfig $KUBECONFIG_OUT --context $CONTEXT get pods -A
MSG
