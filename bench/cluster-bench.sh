#!/usr/bin/env bash
# Benchmark of the air-gapped kind kit (scripts/airgap/): prints
#   cold build   : time of a build from an empty cache (read from the cache's timings.json,
#                  recorded by the first full build.sh run; or measured now with --cold)
#   warm rebuild : build.sh with everything cached (measured now)
#   create       : kind create + all nodes Ready + system workloads up (measured now, on a
#                  throwaway cluster "gs-bench" that is deleted afterwards; "<prefix>-bench"
#                  when IMAGE_PREFIX is set)
# Targets on 2 cores: cold < 35 min, warm < 5 min, create < 2 min.
#
#   bench/cluster-bench.sh            # cold from record, warm + create measured
#   bench/cluster-bench.sh --cold     # also measure a cold build now, in a temporary empty
#                                     # cache with empty Go build and module caches (~30 min);
#                                     # warm and create then use that fresh cache
#   bench/cluster-bench.sh --no-create
#   IMAGE_PREFIX=x bench/cluster-bench.sh --cold   # images named x/... (see lib.sh), so a
#                                     # cold run leaves the gateway-smoke/* images alone
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
AIR="$ROOT/scripts/airgap"
CACHE="${GATEWAY_SMOKE_CACHE:-$HOME/.cache/gateway-smoke}/airgap"
BENCH_CLUSTER="${IMAGE_PREFIX:-gs}-bench"   # gs-bench, or e.g. gs-h5-bench for IMAGE_PREFIX=gs-h5
TIMINGS="$CACHE/timings.json"
cold_now=0; create=1
for a in "$@"; do
  case "$a" in
    --cold) cold_now=1 ;;
    --no-create) create=0 ;;
    -h|--help) sed -n 2,16p "$0"; exit 0 ;;
    *) echo "unknown option $a" >&2; exit 2 ;;
  esac
done
fmt() { printf '%dm%02ds' $(( $1 / 60 )) $(( $1 % 60 )); }
verdict() { if (( $1 <= $2 )); then echo "ok (target < $(fmt "$2"))"; else echo "OVER target $(fmt "$2")"; fi; }

bash "$AIR/host-prep.sh" >/dev/null 2>&1 || bash "$AIR/host-prep.sh"

# ---------------------------------------------------------------- cold
cold=""; cold_src=""
if (( cold_now )); then
  tmp="$(mktemp -d /var/tmp/gs-cold.XXXXXX)"
  echo "cold build in $tmp (empty cache, GOCACHE and GOMODCACHE) ..."
  t=$(date +%s)
  # CPU seconds and load average of the build too: wall time on a busy shared machine says
  # little alone
  ( while sleep 20; do cut -d' ' -f1 /proc/loadavg; done ) >"$tmp/load" &
  loadpid=$!
  trap 'kill "$loadpid" 2>/dev/null || true' EXIT   # a failed build leaves $tmp to inspect
  TIMEFORMAT='%U %S'
  { time { GATEWAY_SMOKE_CACHE="$tmp/cache" GOCACHE="$tmp/gocache" GOMODCACHE="$tmp/gomod" \
    bash "$AIR/build.sh" >"$tmp/build.out" 2>&1 || { tail -20 "$tmp/build.out"; echo "failed; see $tmp" >&2; exit 1; }; } ; } 2>"$tmp/cpu"
  cold=$(( $(date +%s) - t )); cold_src="measured now (empty cache, GOCACHE, GOMODCACHE)"
  kill "$loadpid" 2>/dev/null || true
  cpu="$(awk '{printf "%d", $1+$2}' "$tmp/cpu")"
  load="$(sort -n "$tmp/load" | awk '{a[NR]=$1; s+=$1} END {if (NR) printf "%s-%s (mean %.1f)", a[1], a[NR], s/NR; else print "n/a"}')"
  cold_src+="; ${cpu} CPU-s = $(fmt $(( cpu / 2 ))) of both cores; load average $load"
  # keep the result (and the per-step times of that run) in the real cache's timings.json
  mkdir -p "$CACHE"; [[ -s "$TIMINGS" ]] || echo '{}' >"$TIMINGS"
  jq --argjson c "$cold" --arg when "$(date -u +%FT%TZ)" --slurpfile run "$tmp/cache/airgap/timings.json" \
    --argjson cpu "$cpu" --arg load "$load" '.cold_build_seconds=$c | .cold_build_cpu_seconds=$cpu | .cold_build_load_average=$load | .cold_build_measured=("bench --cold " + $when) | .cold_build_steps=$run[0]' \
    "$TIMINGS" >"$TIMINGS.tmp" && mv "$TIMINGS.tmp" "$TIMINGS"
  cp "$tmp/build.out" "$CACHE/logs/cold-build.out" 2>/dev/null || true
  # warm and create below use what this cold build made (not a cache it may not match);
  # the fresh cache is removed at the end
  export GATEWAY_SMOKE_CACHE="$tmp/cache"
  trap 'chmod -R u+w "$tmp" 2>/dev/null || true; rm -rf "$tmp"' EXIT
elif [[ -s "$TIMINGS" ]] && jq -e '.cold_build_seconds' "$TIMINGS" >/dev/null 2>&1; then
  cold="$(jq -r '.cold_build_seconds' "$TIMINGS")"
  cold_src="$(jq -r '.cold_build_measured // "recorded by the first full build"' "$TIMINGS"); from $TIMINGS"
elif [[ -s "$TIMINGS" ]]; then
  cold="$(jq '[to_entries[] | select(.key|startswith("step_")) | .value] | add // 0' "$TIMINGS")"
  cold_src="sum of recorded step times (steps ran in separate runs; no single cold run recorded)"
fi

# ---------------------------------------------------------------- warm
t=$(date +%s)
bash "$AIR/build.sh" >/tmp/gs-bench-warm.log 2>&1 || { tail -20 /tmp/gs-bench-warm.log; exit 1; }
warm=$(( $(date +%s) - t ))

# ---------------------------------------------------------------- create
created=""
if (( create )); then
  bash "$AIR/cluster-down.sh" "$BENCH_CLUSTER" >/dev/null 2>&1 || true
  t=$(date +%s)
  if SKIP_HOST_PREP=1 bash "$AIR/cluster-up.sh" "$BENCH_CLUSTER" >/tmp/gs-bench-create.log 2>&1; then
    created=$(( $(date +%s) - t ))
  else
    tail -20 /tmp/gs-bench-create.log; created="failed"
  fi
  bash "$AIR/cluster-down.sh" "$BENCH_CLUSTER" >/dev/null 2>&1 || true
fi

echo
echo "gateway-smoke air-gapped kind kit: benchmark (2 cores)"
if [[ -n "$cold" ]]; then
  printf '  cold build     %-8s %s  [%s]\n' "$(fmt "$cold")" "$(verdict "$cold" 2100)" "$cold_src"
else
  printf '  cold build     unknown (no recorded cold build; run with --cold)\n'
fi
printf '  warm rebuild   %-8s %s\n' "$(fmt "$warm")" "$(verdict "$warm" 300)"
if [[ "$created" =~ ^[0-9]+$ ]]; then
  printf '  cluster create %-8s %s  [cluster-up incl. nodes Ready, CoreDNS, CNI, kube-router, storage]\n' "$(fmt "$created")" "$(verdict "$created" 120)"
elif (( create )); then
  printf '  cluster create FAILED (log /tmp/gs-bench-create.log)\n'
fi
