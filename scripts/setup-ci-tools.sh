#!/usr/bin/env bash
# Installs the tools the project's own tests need beyond `npm ci`:
#   - actionlint  (Go module github.com/rhysd/actionlint, pinned)  -> $CACHE/bin/actionlint
#     test/workflows.test.ts lints every file in .github/workflows/ with it.
#   - registry    (the CNCF distribution registry, Go module github.com/distribution/distribution/v3,
#     pinned)  -> $CACHE/bin/registry
#     The online-path tests run it on loopback in place of Docker Hub and ghcr.io.
#   - Chromium    (Debian package `chromium`)                      -> /usr/bin/chromium
#     test/html-report.test.ts renders the HTML report headless, screenshots it and reads its DOM.
#
# Cache outside git: ${GATEWAY_SMOKE_CACHE:-$HOME/.cache/gateway-smoke}. Idempotent and fast when
# everything is already there (no network at all then). Only package registries are used
# (the Go module proxy, Debian apt). Installing Chromium needs root; as another user the script
# prints the command to run and exits 1 (so CI cannot silently go on without it).
#
# Env: ACTIONLINT_VERSION (pin below), GATEWAY_SMOKE_CHROMIUM (a Chromium/Chrome binary to use
# instead of /usr/bin/chromium, e.g. the one preinstalled on a GitHub runner), FORCE=1 reinstalls.
#
# Usage: bash scripts/setup-ci-tools.sh [actionlint] [registry] [chromium]    (default: all three)
set -euo pipefail

# ---- pinned versions (the only place they are set) -------------------------------------
ACTIONLINT_VERSION="${ACTIONLINT_VERSION:-v1.7.12}"   # newest v1.7.x the Go module proxy serves
REGISTRY_VERSION="${REGISTRY_VERSION:-v3.0.0}"       # github.com/distribution/distribution/v3
CHROMIUM_PACKAGE="chromium"                           # Debian's; the version is the distribution's

CACHE="${GATEWAY_SMOKE_CACHE:-$HOME/.cache/gateway-smoke}"
BIN="$CACHE/bin"
LOGS="$CACHE/ci-tools/logs"
CHROMIUM="${GATEWAY_SMOKE_CHROMIUM:-/usr/bin/chromium}"

T_START=$(date +%s)
log() { printf '[setup-ci-tools %s +%ss] %s\n' "$(date +%H:%M:%S)" "$(( $(date +%s) - T_START ))" "$*" >&2; }
missing=()

# ---- actionlint ---------------------------------------------------------------------------
# `actionlint -version` prints e.g. "v1.7.12" (first line); compared without the leading v.
actionlint_version() { "$BIN/actionlint" -version 2>/dev/null | head -n 1 | sed 's/^v//'; }
setup_actionlint() {
  local want="${ACTIONLINT_VERSION#v}" have="" t0
  [[ -x "$BIN/actionlint" ]] && have="$(actionlint_version || true)"
  if [[ -z "${FORCE:-}" && "$have" == "$want" ]]; then
    log "skip  actionlint $have (installed: $BIN/actionlint)"
    return 0
  fi
  if ! command -v go >/dev/null; then
    log "MISSING actionlint: Go is not on PATH. Install Go 1.24+ and re-run, or put actionlint $ACTIONLINT_VERSION on PATH."
    missing+=(actionlint)
    return 0
  fi
  log "start actionlint $ACTIONLINT_VERSION (go install from the Go module proxy, $(go env GOVERSION)) -> $BIN"
  t0=$(date +%s)
  mkdir -p "$BIN"
  # GOTOOLCHAIN=local: build with the Go that is here, never download a toolchain.
  GOBIN="$BIN" GOTOOLCHAIN="${GOTOOLCHAIN:-local}" GOFLAGS="${GOFLAGS:-} -buildvcs=false" CGO_ENABLED=0 \
    go install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
  have="$(actionlint_version || true)"
  if [[ "$have" != "$want" ]]; then
    log "FAILED actionlint: installed, but \`$BIN/actionlint -version\` says '$have', not '$want'"
    exit 1
  fi
  log "done  actionlint $have in $(( $(date +%s) - t0 ))s"
}

# ---- registry -----------------------------------------------------------------------------
# Built through a throwaway wrapper module: the Go module proxy here refuses version lists for some
# modules, and `go get MODULE@VERSION` in a module of our own needs none. The version is recorded
# beside the binary (the registry prints only what its build flags set).
setup_registry() {
  local stamp="$BIN/registry.version" t0 tmp
  if [[ -z "${FORCE:-}" && -x "$BIN/registry" && "$(cat "$stamp" 2>/dev/null)" == "$REGISTRY_VERSION" ]]; then
    log "skip  registry $REGISTRY_VERSION (installed: $BIN/registry)"
    return 0
  fi
  if ! command -v go >/dev/null; then
    log "MISSING registry: Go is not on PATH. Install Go 1.24+ and re-run."
    missing+=(registry)
    return 0
  fi
  log "start registry $REGISTRY_VERSION (go build from the Go module proxy, $(go env GOVERSION)) -> $BIN"
  t0=$(date +%s)
  mkdir -p "$BIN" "$LOGS"
  tmp=$(mktemp -d)
  (
    cd "$tmp"
    export GOTOOLCHAIN="${GOTOOLCHAIN:-local}" GOFLAGS="${GOFLAGS:-} -mod=mod -buildvcs=false" CGO_ENABLED=0
    go mod init gateway-smoke/registry-build >/dev/null 2>&1
    go get "github.com/distribution/distribution/v3@$REGISTRY_VERSION"
    go build -o "$BIN/registry" github.com/distribution/distribution/v3/cmd/registry
  ) >"$LOGS/registry.log" 2>&1 || { rm -rf "$tmp"; tail -n 20 "$LOGS/registry.log" >&2; log "FAILED registry: see $LOGS/registry.log"; exit 1; }
  rm -rf "$tmp"
  echo "$REGISTRY_VERSION" >"$stamp"
  log "done  registry $REGISTRY_VERSION in $(( $(date +%s) - t0 ))s"
}

# ---- chromium -----------------------------------------------------------------------------
chromium_version() { "$CHROMIUM" --version 2>/dev/null | head -n 1; }
apt_has_lists() { compgen -G '/var/lib/apt/lists/*_Packages' >/dev/null; }
setup_chromium() {
  local t0
  if [[ -z "${FORCE:-}" && -x "$CHROMIUM" ]]; then
    log "skip  chromium ($CHROMIUM: $(chromium_version || echo 'version unknown'))"
    return 0
  fi
  if [[ "$CHROMIUM" != /usr/bin/chromium ]]; then
    log "MISSING chromium: GATEWAY_SMOKE_CHROMIUM=$CHROMIUM is not an executable file"
    missing+=(chromium)
    return 0
  fi
  if [[ $(id -u) -ne 0 ]]; then
    log "MISSING chromium: /usr/bin/chromium is absent and installing it needs root. Run:"
    log "    sudo apt-get update && sudo apt-get install -y --no-install-recommends $CHROMIUM_PACKAGE fonts-dejavu-core"
    log "  or point GATEWAY_SMOKE_CHROMIUM at an installed Chromium/Chrome binary."
    missing+=(chromium)
    return 0
  fi
  if ! command -v apt-get >/dev/null; then
    log "MISSING chromium: no apt-get here; install Chromium and set GATEWAY_SMOKE_CHROMIUM to its binary."
    missing+=(chromium)
    return 0
  fi
  t0=$(date +%s)
  mkdir -p "$LOGS"
  local logf="$LOGS/chromium.log"
  export DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1
  if ! apt_has_lists || ! apt-cache show "$CHROMIUM_PACKAGE" >/dev/null 2>&1; then
    log "start apt-get update (no package list for $CHROMIUM_PACKAGE yet), log: $logf"
    apt-get update -q >"$logf" 2>&1 || { tail -n 20 "$logf" >&2; log "FAILED apt-get update"; exit 1; }
  fi
  log "start chromium (apt-get install $CHROMIUM_PACKAGE $(apt-cache policy "$CHROMIUM_PACKAGE" 2>/dev/null | awk '/Candidate:/ {print $2}')), log: $logf"
  # fonts-dejavu-core: readable text in screenshots even on a minimal image.
  if ! apt-get install -y -q --no-install-recommends "$CHROMIUM_PACKAGE" fonts-dejavu-core >>"$logf" 2>&1; then
    log "apt-get install failed; running apt-get update once and retrying"
    apt-get update -q >>"$logf" 2>&1 || true
    apt-get install -y -q --no-install-recommends "$CHROMIUM_PACKAGE" fonts-dejavu-core >>"$logf" 2>&1 \
      || { tail -n 30 "$logf" >&2; log "FAILED chromium: apt-get install failed; see $logf"; exit 1; }
  fi
  [[ -x "$CHROMIUM" ]] || { log "FAILED chromium: apt-get finished but $CHROMIUM is not there"; exit 1; }
  log "done  chromium ($(chromium_version || echo 'version unknown')) in $(( $(date +%s) - t0 ))s"
}

# ---- main ---------------------------------------------------------------------------------------
want=("$@"); [[ ${#want[@]} -gt 0 ]] || want=(actionlint registry chromium)
log "cache: $CACHE"
for c in "${want[@]}"; do
  case "$c" in
    actionlint) setup_actionlint ;;
    registry)   setup_registry ;;
    chromium)   setup_chromium ;;
    *) log "ERROR: unknown component '$c' (actionlint, registry, chromium)"; exit 2 ;;
  esac
done
if [[ ${#missing[@]} -gt 0 ]]; then
  log "not ready after $(( $(date +%s) - T_START ))s: missing ${missing[*]} (see above)"
  exit 1
fi
log "all done in $(( $(date +%s) - T_START ))s: actionlint=$BIN/actionlint registry=$BIN/registry chromium=$CHROMIUM"
