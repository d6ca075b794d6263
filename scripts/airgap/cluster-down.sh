#!/usr/bin/env bash
# Delete the gateway-smoke kind cluster and check nothing is left behind:
# no node containers, no anonymous volumes of those containers, no mounts of them, and no
# "kind" docker network once nothing else uses it.
#
#   scripts/airgap/cluster-down.sh [name]     (default name: gateway-smoke)
# Exit status 1 if something is left over.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NAME="${1:-$CLUSTER_NAME_DEFAULT}"
LABEL="io.x-k8s.kind.cluster=$NAME"
if ! docker info >/dev/null 2>&1; then log "docker is not running: nothing to delete"; exit 0; fi

ids="$(docker ps -aq --no-trunc --filter "label=$LABEL")"
vols=""
for id in $ids; do
  vols+=" $(docker inspect -f '{{range .Mounts}}{{if eq .Type "volume"}}{{.Name}} {{end}}{{end}}' "$id")"
done

t=$(now)
if [[ -x "$BIN/kind" ]]; then
  "$BIN/kind" delete cluster --name "$NAME" --kubeconfig "$CACHE/kubeconfig-$NAME"
  # drop the context kind merged into the default kubeconfig
  if [[ -x "$BIN/kubectl" ]]; then
    "$BIN/kubectl" config delete-context "kind-$NAME" >/dev/null 2>&1 || true
    "$BIN/kubectl" config delete-cluster "kind-$NAME" >/dev/null 2>&1 || true
    "$BIN/kubectl" config delete-user "kind-$NAME" >/dev/null 2>&1 || true
  fi
elif [[ -n "$ids" ]]; then
  docker rm -f -v $ids >/dev/null
fi
# with its lock: a `kind create` stopped while writing the kubeconfig leaves it, and the next create fails on it
rm -f "$CACHE/kubeconfig-$NAME" "$CACHE/kubeconfig-$NAME.lock"

left=0
# containers
rest="$(docker ps -aq --filter "label=$LABEL")"
if [[ -n "$rest" ]]; then log "LEFT: containers $rest"; docker rm -f -v $rest >/dev/null || true; left=1; fi
# anonymous volumes (/var of each node)
for v in $vols; do
  if docker volume inspect "$v" >/dev/null 2>&1; then
    docker volume rm -f "$v" >/dev/null 2>&1 || { log "LEFT: volume $v"; left=1; }
  fi
done
# mounts that name one of the node containers
for id in $ids; do
  if grep -q "$id" /proc/mounts; then
    log "LEFT: mounts of container ${id:0:12}:"; grep "$id" /proc/mounts | cut -d' ' -f2 >&2
    grep "$id" /proc/mounts | cut -d' ' -f2 | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
    left=1
  fi
done
# the kits' networks ("kind", and the online kit's), each if no other cluster uses it
for KIND_NET in kind "$ONLINE_KIND_NET"; do
  docker network inspect "$KIND_NET" >/dev/null 2>&1 || continue
  if [[ "$(docker network inspect -f '{{len .Containers}}' "$KIND_NET")" == "0" ]]; then
    br="$(kind_bridge)"
    docker network rm "$KIND_NET" >/dev/null && log "removed docker network $KIND_NET"
    remove_kind_egress_rule "$br"
  else
    log "docker network $KIND_NET still used by other containers: kept"
  fi
done
# the kind config and registry hosts files the harness wrote for this cluster
rm -rf "$CACHE_ROOT/kind/$NAME"
if iptables -S DOCKER-USER 2>/dev/null | grep -q gateway-smoke-airgap && ! docker network inspect kind >/dev/null 2>&1; then
  # rules for bridges that are gone
  iptables -S DOCKER-USER | grep gateway-smoke-airgap | sed 's/^-A /-D /' | while read -r r; do eval "iptables $r"; done
fi
record_timing cluster_down_seconds "$(( $(now) - t ))"
if [[ $left -ne 0 ]]; then log "cluster $NAME deleted, but leftovers were found (cleaned up now)"; exit 1; fi
log "cluster $NAME deleted in $(( $(now) - t ))s: no containers, volumes, mounts or networks left"
