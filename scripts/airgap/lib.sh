# shellcheck shell=bash
# Shared settings and helpers for scripts/airgap/*.sh. Source it; do not run it.
#
# Every artifact is built into a cache outside git (GATEWAY_SMOKE_CACHE, default
# ~/.cache/gateway-smoke) under airgap/. Pinned versions live here and nowhere else.

set -euo pipefail

AIRGAP_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$AIRGAP_DIR/../.." && pwd)"

# ---- pinned versions -------------------------------------------------------------
K8S_VERSION="${K8S_VERSION:-v1.34.4}"          # 1.35+ refuses cgroup v1
KIND_VERSION="${KIND_VERSION:-v0.30.0}"        # kind CLI (its module zip also gives the base files)
HELM_VERSION="${HELM_VERSION:-v3.19.0}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.5}"         # k8s 1.34 build/dependencies.yaml: etcd 3.6.5
COREDNS_VERSION="${COREDNS_VERSION:-v1.12.1}"  # what kubeadm 1.34 expects
# kube-router: upstream tags are not served by the Go proxy here; k3s's fork (the
# engine every k3s cluster runs, upstream kube-router plus k3s patches) is.
KUBE_ROUTER_MODULE="${KUBE_ROUTER_MODULE:-github.com/k3s-io/kube-router/v2}"
KUBE_ROUTER_VERSION="${KUBE_ROUTER_VERSION:-v2.6.3-k3s1}"
LOCAL_PATH_VERSION="${LOCAL_PATH_VERSION:-v0.0.30}"
DEBIAN_SUITE="${DEBIAN_SUITE:-bookworm}"

# ---- local image names -----------------------------------------------------------
IMAGE_PREFIX="${IMAGE_PREFIX:-gateway-smoke}"
NODE_IMAGE="${NODE_IMAGE:-$IMAGE_PREFIX/kind-node:$K8S_VERSION}"
BUSYBOX_IMAGE="$IMAGE_PREFIX/busybox:1"
KUBE_ROUTER_IMAGE="$IMAGE_PREFIX/kube-router:$KUBE_ROUTER_VERSION"
LOCAL_PATH_IMAGE="$IMAGE_PREFIX/local-path-provisioner:$LOCAL_PATH_VERSION"
DEBIAN_BASE_IMAGE="$IMAGE_PREFIX/debian-base:$DEBIAN_SUITE"
CLUSTER_NAME_DEFAULT="gateway-smoke"
# on every image build.sh makes; build.sh prunes superseded (untagged) ones by it. Builds
# with another IMAGE_PREFIX label theirs differently, so they never prune this prefix's.
IMAGE_LABEL="io.gateway-smoke.airgap=1"
[[ $IMAGE_PREFIX == gateway-smoke ]] || IMAGE_LABEL="io.gateway-smoke.airgap=$IMAGE_PREFIX"

# ---- paths -------------------------------------------------------------------------
CACHE_ROOT="${GATEWAY_SMOKE_CACHE:-$HOME/.cache/gateway-smoke}"
CACHE="$CACHE_ROOT/airgap"
BIN="$CACHE/bin"                 # kind, helm, kubectl for the host (the harness uses these)
OUT="$CACHE/out"                 # built binaries / root file systems / image tars
SRC="$CACHE/src"                 # throwaway wrapper Go modules
STAMPS="$CACHE/stamps"
LOGS="$CACHE/logs"
TIMINGS="$CACHE/timings.json"
RUNTIME_DIR="/usr/local/lib/gateway-smoke"   # host runtime wrapper lives here (outside git)
mkdir -p "$BIN" "$OUT" "$SRC" "$STAMPS" "$LOGS"

export PATH="$BIN:$PATH"
export GOTOOLCHAIN=local
export GOFLAGS="${GATEWAY_SMOKE_GOFLAGS:--p=2} -buildvcs=false"   # 2 cores, shared
export GOPATH="${GOPATH:-$HOME/go}"

# ---- helpers -----------------------------------------------------------------------
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
now() { date +%s; }

# record_timing KEY SECONDS : merge into timings.json (a flat object).
record_timing() {
  local key="$1" secs="$2" tmp
  exec 9>"$TIMINGS.lock"; flock 9
  tmp="$(mktemp)"
  if [[ -s "$TIMINGS" ]]; then
    jq --arg k "$key" --argjson v "$secs" '.[$k]=$v' "$TIMINGS" >"$tmp" || echo "{}" >"$tmp"
  else
    jq -n --arg k "$key" --argjson v "$secs" '{($k):$v}' >"$tmp"
  fi
  mv "$tmp" "$TIMINGS"
  flock -u 9
}

# step NAME STAMPKEY FUNCTION : run FUNCTION once; its output goes to logs/NAME.log;
# a stamp file (content = STAMPKEY, e.g. the pinned version) makes re-runs skip it.
step() {
  local name="$1" key="$2" fn="$3" stamp="$STAMPS/$1" logf="$LOGS/$1.log" t0 rc
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$key" && -z "${FORCE:-}" ]]; then
    log "skip  $name (cached: ${key:0:40})"
    return 0
  fi
  log "start $name (${key:0:40}) -> log $logf"
  t0=$(now)
  set +e
  ( set -euo pipefail; "$fn" ) >"$logf" 2>&1
  rc=$?
  set -e
  if [[ $rc -ne 0 ]]; then
    log "FAILED step '$name' after $(( $(now) - t0 ))s (exit $rc). Log: $logf"
    tail -n 25 "$logf" >&2 || true
    exit $rc
  fi
  printf '%s' "$key" >"$stamp"
  echo "$name" >>"$CACHE/.ran-steps"
  if declare -F invalidate_downstream >/dev/null; then invalidate_downstream "$name"; fi
  log "done  $name in $(( $(now) - t0 ))s"
  record_timing "step_$name" "$(( $(now) - t0 ))"
}

docker_image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

# ---- keep kind's nodes on this machine -----------------------------------------------
# Until kube-proxy has programmed a node, in-cluster clients' packets to the Service IP
# 10.96.0.1 (and any pod traffic to a non-cluster address) follow the node's default route
# to the docker host, which would forward and masquerade them out of the machine. A
# DOCKER-USER rule rejects everything the kind network's bridge would forward elsewhere.
# cluster-up creates the "kind" network itself (kind reuses it) so the rule is in place
# before the first node starts. The online kit (GATEWAY_SMOKE_KIT=online) puts its nodes on a
# network of its own (KIND_EXPERIMENTAL_DOCKER_NETWORK, kind's setting) that gets no such rule:
# its nodes pull their images, and an air-gapped cluster's rule on "kind" must not stop them.
ONLINE_KIND_NET="gateway-smoke-online"
KIND_NET="${KIND_EXPERIMENTAL_DOCKER_NETWORK:-kind}"
kind_bridge() {
  local id name
  name="$(docker network inspect -f '{{index .Options "com.docker.network.bridge.name"}}' "$KIND_NET" 2>/dev/null || true)"
  if [[ -n "$name" ]]; then echo "$name"; return; fi
  id="$(docker network inspect -f '{{.Id}}' "$KIND_NET" 2>/dev/null)" || return 1
  echo "br-${id:0:12}"
}
egress_rule() { # BRIDGE
  echo "-i $1 ! -o $1 -m comment --comment gateway-smoke-airgap:kind-stays-local -j REJECT --reject-with icmp-net-prohibited"
}
ensure_kind_network() {
  if ! docker network inspect "$KIND_NET" >/dev/null 2>&1; then
    docker network create -d bridge \
      -o com.docker.network.bridge.enable_ip_masquerade=true \
      -o com.docker.network.driver.mtu=1500 "$KIND_NET" >/dev/null
    log "created docker network $KIND_NET"
  fi
  local br; br="$(kind_bridge)"
  if [[ ${GATEWAY_SMOKE_KIT:-airgap} == online ]]; then
    log "online kit: no egress rule on $br (network $KIND_NET); the nodes pull their images"
    return 0
  fi
  # shellcheck disable=SC2046
  if ! iptables -C DOCKER-USER $(egress_rule "$br") 2>/dev/null; then
    iptables -I DOCKER-USER $(egress_rule "$br")
    log "DOCKER-USER: traffic from $br to anywhere but $br is rejected"
  fi
}
remove_kind_egress_rule() { # BRIDGE
  # shellcheck disable=SC2046
  while iptables -C DOCKER-USER $(egress_rule "$1") 2>/dev/null; do
    iptables -D DOCKER-USER $(egress_rule "$1")
  done
}
