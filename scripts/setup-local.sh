#!/usr/bin/env bash
# Installs the real gateway software that `--target local` runs on loopback:
#   - llm-proxy  (Go module github.com/sofatutor/llm-proxy, CGO + SQLite)  -> $CACHE/bin/llm-proxy
#   - LiteLLM    (PyPI litellm[proxy] 1.81.x + prisma client) in a venv   -> $CACHE/litellm-venv
#                its Prisma client generated with GATEWAY_SMOKE_PRISMA_ENGINES when that is set
#   - PostgreSQL and Redis servers                                         (Debian packages)
#
# Everything lives in a cache outside git: ${GATEWAY_SMOKE_CACHE:-$HOME/.cache/gateway-smoke}.
# Idempotent: each component writes a stamp (its pinned version) once installed, and a re-run
# skips it while the stamp matches and the artifact is still there. FORCE=1 reinstalls all.
# Only package registries are used (Go module proxy, PyPI, Debian apt).
#
# Usage: bash scripts/setup-local.sh [component...]   components: apt llm-proxy litellm prisma (default: all)
set -euo pipefail

# ---- pinned versions (the only place they are set) -------------------------------------
LLM_PROXY_MODULE="github.com/sofatutor/llm-proxy/cmd/proxy"
LLM_PROXY_VERSION="${LLM_PROXY_VERSION:-v0.1.3}"
LITELLM_VERSION="${LITELLM_VERSION:-1.81.16}"   # newest 1.81.x on PyPI (the line the charts ship)
PRISMA_PY_VERSION="${PRISMA_PY_VERSION:-0.11.0}" # what LiteLLM's own requirements.txt pins
# Not pulled in by litellm[proxy] but in LiteLLM's Docker image (its requirements.txt pins):
# without prometheus_client, `callbacks: ["prometheus"]` aborts startup (ModuleNotFoundError).
PROMETHEUS_CLIENT_VERSION="${PROMETHEUS_CLIENT_VERSION:-0.20.0}"
REDIS_PY_VERSION="${REDIS_PY_VERSION:-5.2.1}"
APT_PACKAGES=(gcc libc6-dev postgresql redis-server)

# ---- paths --------------------------------------------------------------------------------
CACHE="${GATEWAY_SMOKE_CACHE:-$HOME/.cache/gateway-smoke}"
BIN="$CACHE/bin"
VENV="$CACHE/litellm-venv"
STAMPS="$CACHE/local/stamps"
LOGS="$CACHE/local/logs"
mkdir -p "$BIN" "$STAMPS" "$LOGS"

export GOTOOLCHAIN=local
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"
export PIP_DISABLE_PIP_VERSION_CHECK=1

T_START=$(date +%s)
log() { printf '[setup-local %s +%ss] %s\n' "$(date +%H:%M:%S)" "$(( $(date +%s) - T_START ))" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# step NAME KEY CHECK_FN INSTALL_FN
#   skips when $STAMPS/NAME holds KEY and CHECK_FN succeeds; else runs INSTALL_FN with its
#   output in $LOGS/NAME.log (tail shown on failure), then CHECK_FN, then writes the stamp.
step() {
  local name="$1" key="$2" check="$3" install="$4" stamp="$STAMPS/$1" logf="$LOGS/$1.log" t0 rc
  if [[ -z "${FORCE:-}" && -f "$stamp" && "$(cat "$stamp")" == "$key" ]] && "$check" >/dev/null 2>&1; then
    log "skip  $name (installed: $key)"
    return 0
  fi
  log "start $name ($key), log: $logf"
  t0=$(date +%s)
  set +e
  ( set -euo pipefail; "$install" ) >"$logf" 2>&1
  rc=$?
  set -e
  if [[ $rc -ne 0 ]]; then
    log "FAILED $name after $(( $(date +%s) - t0 ))s (exit $rc); last lines of $logf:"
    tail -n 30 "$logf" >&2 || true
    exit "$rc"
  fi
  if ! "$check" >>"$logf" 2>&1; then
    log "FAILED $name: installed, but the check after it failed; see $logf"
    tail -n 30 "$logf" >&2 || true
    exit 1
  fi
  printf '%s' "$key" >"$stamp"
  log "done  $name in $(( $(date +%s) - t0 ))s"
}

as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else "$@"; fi; }

# ---- apt: compiler for CGO, PostgreSQL, Redis ------------------------------------------------
pg_bindir() { local d; for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do [[ -x "$d/initdb" ]] && { echo "$d"; return 0; }; done; return 1; }
check_apt() {
  command -v gcc && command -v redis-server && pg_bindir && test -f /usr/include/stdio.h && id -u postgres
}
install_apt() {
  export DEBIAN_FRONTEND=noninteractive
  if ! as_root apt-get install -y --no-install-recommends "${APT_PACKAGES[@]}"; then
    echo "apt-get install failed; running apt-get update once and retrying"
    as_root apt-get update
    as_root apt-get install -y --no-install-recommends "${APT_PACKAGES[@]}"
  fi
  # Debian may start its packaged services (5432, 6379) on install; they are left alone: the
  # harness runs its own throwaway servers on free loopback ports, and others may use these.
}

# ---- llm-proxy --------------------------------------------------------------------------------
# Laid out like the image's /app: bin/llm-proxy, scripts/schema.sql (SQLite schema, found next to
# the executable's parent dir at run time), internal/database/migrations (Postgres/MySQL),
# web/templates. $BIN/llm-proxy is a symlink (os.Executable resolves it, so lookups still work).
LLM_PROXY_HOME="$CACHE/llm-proxy"
check_llm_proxy() {
  test -x "$LLM_PROXY_HOME/bin/llm-proxy" && test -f "$LLM_PROXY_HOME/scripts/schema.sql" && test -x "$BIN/llm-proxy"
}
install_llm_proxy() {
  command -v go >/dev/null || die "go is not on PATH"
  command -v gcc >/dev/null || die "gcc is missing (CGO for SQLite): run this script with the apt component first"
  go version
  # Not `go install $LLM_PROXY_MODULE@$LLM_PROXY_VERSION`: that also looks up the module's
  # deprecation through its version list (@v/list), which the Go module proxy here answers with
  # "403 This module version is not available". A throwaway wrapper module that requires exactly
  # that version builds the same package with the same dependency versions (MVS over llm-proxy's
  # own go.mod, which has no replace directives).
  local wrap="$CACHE/local/llm-proxy-wrapper" src
  rm -rf "$wrap"; mkdir -p "$wrap"
  cd "$wrap"
  go mod init gateway-smoke/llm-proxy-wrapper
  go get "$LLM_PROXY_MODULE@$LLM_PROXY_VERSION"
  mkdir -p "$LLM_PROXY_HOME/bin"
  CGO_ENABLED=1 go build -trimpath -o "$LLM_PROXY_HOME/bin/llm-proxy.tmp" "$LLM_PROXY_MODULE"
  mv -f "$LLM_PROXY_HOME/bin/llm-proxy.tmp" "$LLM_PROXY_HOME/bin/llm-proxy"
  # Runtime files the binary reads from disk, copied from the same module version.
  src="$(go list -m -f '{{.Dir}}' "${LLM_PROXY_MODULE%/cmd/proxy}")"
  rm -rf "$LLM_PROXY_HOME/scripts" "$LLM_PROXY_HOME/internal" "$LLM_PROXY_HOME/web"
  mkdir -p "$LLM_PROXY_HOME/scripts" "$LLM_PROXY_HOME/internal/database" "$LLM_PROXY_HOME/web"
  cp "$src/scripts/schema.sql" "$LLM_PROXY_HOME/scripts/schema.sql"
  cp -r "$src/internal/database/migrations" "$LLM_PROXY_HOME/internal/database/migrations"
  cp -r "$src/web/templates" "$LLM_PROXY_HOME/web/templates"
  chmod -R u+w "$LLM_PROXY_HOME"
  ln -sfn "$LLM_PROXY_HOME/bin/llm-proxy" "$BIN/llm-proxy"
  ls -l "$LLM_PROXY_HOME/bin/llm-proxy" "$BIN/llm-proxy"
}

# ---- LiteLLM ------------------------------------------------------------------------------------
pick_python() {
  local c
  for c in "${PYTHON:-}" python3.11 python3.12 python3.13 python3; do
    [[ -n "$c" ]] || continue
    if command -v "$c" >/dev/null && "$c" -c 'import sys, venv, ensurepip; sys.exit(0 if (3,9) <= sys.version_info[:2] < (3,14) else 1)' 2>/dev/null; then
      command -v "$c"; return 0
    fi
  done
  return 1
}
check_litellm() {
  # quick (the full import of the proxy, ~15 s, runs once at the end of install_litellm)
  "$VENV/bin/python" -c "import importlib.metadata as m; assert m.version('litellm') == '$LITELLM_VERSION'; assert m.version('prometheus_client') == '$PROMETHEUS_CLIENT_VERSION'; import prisma, prometheus_client, redis" \
    && test -x "$VENV/bin/litellm" && test -x "$VENV/bin/prisma"
}
install_litellm() {
  local py; py="$(pick_python)" || die "no python3 (3.9-3.13) with venv + ensurepip found (Debian: apt-get install python3-venv)"
  "$py" --version
  # Reuse a working venv (pip then only adds/changes what the pins changed); recreate a broken one.
  if ! { [[ -x "$VENV/bin/python" ]] && "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; }; then
    rm -rf "$VENV"
    "$py" -m venv "$VENV"
  fi
  "$VENV/bin/python" -m pip install --upgrade pip
  # litellm[proxy]: the proxy server; prisma: its DB client (keys, teams, spend); prometheus_client:
  # the /metrics callback; redis: shared limits and caching.
  "$VENV/bin/python" -m pip install "litellm[proxy]==$LITELLM_VERSION" "prisma==$PRISMA_PY_VERSION" \
    "prometheus_client==$PROMETHEUS_CLIENT_VERSION" "redis==$REDIS_PY_VERSION"
  "$VENV/bin/python" -m pip freeze > "$VENV/requirements.lock.txt"
  LITELLM_LOCAL_MODEL_COST_MAP=True "$VENV/bin/python" -c "import litellm.proxy.proxy_server" # the proxy imports cleanly
  LITELLM_LOCAL_MODEL_COST_MAP=True "$VENV/bin/litellm" --version || true
}

# ---- Prisma client for LiteLLM, with engines given (never downloaded) -------------------------
# LiteLLM's key/team API needs its Prisma client generated, and that needs Prisma's query and schema
# engines, which Prisma publishes only on its own CDN. They come from GATEWAY_SMOKE_PRISMA_ENGINES (a
# folder laid out like ../shared/prisma-engines, checked against its SHA256SUMS); `prisma generate`
# then runs with the variables its runtime-env.sh sets. The result goes to $PRISMA_STATUS with the
# engines' hash, so the harness knows which engines the venv's client was generated with. Without the
# variable nothing is tried and the status says so. Not fatal either way.
PRISMA_HOME="$CACHE/prisma-home"          # PRISMA_HOME_DIR: the npm prisma CLI cache
PRISMA_STATUS="$CACHE/local/prisma-status.json"
source "$(dirname "${BASH_SOURCE[0]}")/images/lib.sh"   # gs_prisma_engines_hash (one checksum rule for images and local)
prisma_engines_key() { if [[ -n "${GATEWAY_SMOKE_PRISMA_ENGINES:-}" ]]; then gs_prisma_engines_hash || echo invalid; else echo none; fi; }
check_prisma() { test -f "$PRISMA_STATUS"; }
write_prisma_status() { # RC OUTPUT COMMAND HASH ERROR
  PRISMA_RC="$1" PRISMA_OUT="$2" PRISMA_CMD="$3" PRISMA_HASH="$4" PRISMA_ERR="$5" "$VENV/bin/python" - "$PRISMA_STATUS" <<'PY'
import json, os, sys, time
rc = int(os.environ["PRISMA_RC"])
out = os.environ["PRISMA_OUT"]
err = [l for l in out.splitlines() if "error" in l.lower()]
json.dump({
    "ok": rc == 0,
    "exitCode": rc,
    "command": os.environ["PRISMA_CMD"],
    "enginesHash": os.environ["PRISMA_HASH"] or None,
    "error": None if rc == 0 else (os.environ["PRISMA_ERR"] or (err[-1] if err else out.strip().splitlines()[-1] if out.strip() else "exit %d" % rc)),
    "output": out[-4000:],
    "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
}, open(sys.argv[1], "w"), indent=2)
PY
}
install_prisma() {
  local schema out rc hash d="${GATEWAY_SMOKE_PRISMA_ENGINES:-}"
  schema="$("$VENV/bin/python" -c 'import litellm, os; print(os.path.join(os.path.dirname(litellm.__file__), "proxy", "schema.prisma"))')"
  if [[ -z "$d" ]]; then
    write_prisma_status 1 "" "prisma generate" "" "no Prisma engines given (set GATEWAY_SMOKE_PRISMA_ENGINES to a folder like ../shared/prisma-engines)"
    echo "no GATEWAY_SMOKE_PRISMA_ENGINES: LiteLLM will run without a database (no /key/* API)."
    return 0
  fi
  if ! hash="$(gs_prisma_engines_hash 2>&1)"; then
    write_prisma_status 1 "$hash" "prisma generate" "" "$hash"
    echo "unusable Prisma engines: $hash"
    return 0
  fi
  # prisma-client-py runs the Prisma CLI (npm) with Node: nodejs-bin (PyPI) gives it one without nodejs.org
  "$VENV/bin/python" -m pip install 'nodejs-bin==18.4.0a4'
  mkdir -p "$PRISMA_HOME"
  set +e
  out="$(cd "$(dirname "$schema")" && env PATH="$VENV/bin:$PATH" PRISMA_HOME_DIR="$PRISMA_HOME" \
    PRISMA_QUERY_ENGINE_BINARY="$d/query-engine" PRISMA_SCHEMA_ENGINE_BINARY="$d/schema-engine" \
    PRISMA_ENGINES_CHECKSUM_IGNORE_MISSING=1 PRISMA_CLI_QUERY_ENGINE_TYPE=binary PRISMA_HIDE_UPDATE_MESSAGE=1 CHECKPOINT_DISABLE=1 \
    timeout 600 "$VENV/bin/prisma" generate --schema "$schema" 2>&1)"
  rc=$?
  set -e
  printf '%s\n' "$out"
  write_prisma_status "$rc" "$out" "prisma generate --schema litellm/proxy/schema.prisma (engines from $d)" "$hash" ""
  [[ $rc -eq 0 ]] || echo "prisma generate failed (exit $rc): LiteLLM will run without a database (no /key/* API)."
}

# ---- main ----------------------------------------------------------------------------------------
want=("$@"); [[ ${#want[@]} -gt 0 ]] || want=(apt llm-proxy litellm prisma)
log "cache: $CACHE"
for c in "${want[@]}"; do
  case "$c" in
    apt)       step apt "${APT_PACKAGES[*]}" check_apt install_apt ;;
    llm-proxy) step llm-proxy "$LLM_PROXY_VERSION" check_llm_proxy install_llm_proxy ;;
    litellm)   step litellm "litellm[proxy]==$LITELLM_VERSION prisma==$PRISMA_PY_VERSION prometheus_client==$PROMETHEUS_CLIENT_VERSION redis==$REDIS_PY_VERSION" check_litellm install_litellm ;;
    prisma)
      [[ -n "${PRISMA_RETRY:-}" ]] && rm -f "$PRISMA_STATUS"
      step prisma "prisma==$PRISMA_PY_VERSION litellm==$LITELLM_VERSION engines=$(prisma_engines_key)" check_prisma install_prisma
      if [[ -f "$PRISMA_STATUS" ]] && ! grep -q '"ok": true' "$PRISMA_STATUS"; then
        log "note  prisma engines unavailable (LiteLLM key API will be reported as blocked): $("$VENV/bin/python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["error"])' "$PRISMA_STATUS")"
      fi ;;
    *) die "unknown component '$c' (apt, llm-proxy, litellm, prisma)" ;;
  esac
done
log "all done in $(( $(date +%s) - T_START ))s: llm-proxy=$BIN/llm-proxy litellm=$VENV/bin/litellm postgres=$(pg_bindir || echo none) redis=$(command -v redis-server || echo none)"
