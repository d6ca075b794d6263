#!/usr/bin/env bash
# Starts every gateway-smoke image briefly and proves it works, then removes what it started.
# All containers share one `docker network create --internal` network: they reach each other by
# name but nothing outside, like pods on the air-gapped cluster (so a start-up that phones home fails here).
#
#   mock       GET /__mock/health from the probe container
#   probe      curl, nc, dig and nslookup present; resolves the mock by name
#   redis      redis-cli PING -> PONG; a raw PING over TCP from the probe (nc)
#   postgres   initdb from POSTGRES_* env; psql over TCP with the password; pg_isready from outside
#   llm-proxy  runs as uid 100/gid 101 on a read-only root (the upstream chart's securityContext):
#              /live, /ready, /health; a project + token via /manage, then a chat completion through it
#              to the mock; and once more with DB_DRIVER=postgres against the postgres container
#   litellm    read-only root, uid 1000, config pointing at the mock: /health/liveliness,
#              /health/readiness, a chat completion with the master key, /metrics
#
# Usage: scripts/images/verify-images.sh [--only NAME[,NAME...]] [--keep]
# Output: one line per check (ok/FAIL, seconds); on a failure the container's last log lines. Exit 1
# when anything failed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ONLY=() KEEP=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --only) IFS=', ' read -r -a more <<<"$2"; ONLY+=("${more[@]}"); shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "verify-images: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
want() { [[ ${#ONLY[@]} -eq 0 ]] && return 0; local n; for n in "${ONLY[@]}"; do [[ "$n" == "$1" ]] && return 0; done; return 1; }

ID="$$"
NET="gs-imgverify-$ID"
TMPD="$(mktemp -d)"
FAILED=0
T0=$(date +%s)
log() { printf '[verify %s +%ss] %s\n' "$(date +%H:%M:%S)" "$(( $(date +%s) - T0 ))" "$*" >&2; }

cleanup() {
  if [[ $KEEP -eq 1 ]]; then log "--keep: left containers gs-iv-*-$ID on network $NET"; return; fi
  local c
  # by name: checks run in subshells, so CONTAINERS does not know every container they started
  for c in $(docker ps -a --filter name=gs-iv- --format '{{.Names}}' | grep -E -- "-$ID\$" || true); do
    docker rm -f "$c" >/dev/null 2>&1 || true
  done
  docker network rm "$NET" >/dev/null 2>&1 || true
  rm -rf "$TMPD"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for n in mock probe; do
  docker image inspect "$(gs_image_ref "$n")" >/dev/null 2>&1 || { echo "verify-images: $(gs_image_ref "$n") is not built (scripts/images/build-images.sh)" >&2; exit 1; }
done

# start NAME IMAGE-NAME [docker run args...] -- [container args...]
start() {
  local alias="$1" img="$2"; shift 2
  local c="gs-iv-$alias-$ID" opts=() args=()
  while [[ $# -gt 0 && "$1" != -- ]]; do opts+=("$1"); shift; done
  [[ "${1:-}" == -- ]] && shift
  args=("$@")
  docker image inspect "$(gs_image_ref "$img")" >/dev/null 2>&1 || { echo "$(gs_image_ref "$img") is not built"; return 1; }
  docker run -d --name "$c" --network "$NET" --network-alias "$alias" "${opts[@]}" "$(gs_image_ref "$img")" "${args[@]}" >/dev/null
}
pexec() { docker exec "gs-iv-probe-$ID" "$@"; }
curl_in() { pexec curl -sS --max-time 10 "$@"; }
# wait_http URL SECONDS CONTAINER: until the URL answers 2xx from the probe, or fail naming CONTAINER
wait_http() {
  local url="$1" secs="$2" c="$3" i
  for ((i = 0; i < secs * 2; i++)); do
    pexec curl -fsS --max-time 3 -o /dev/null "$url" 2>/dev/null && return 0
    if [[ "$(docker inspect -f '{{.State.Running}}' "$c" 2>/dev/null)" != true ]]; then
      echo "container $c exited ($(docker inspect -f '{{.State.ExitCode}}' "$c" 2>/dev/null))"; return 1
    fi
    sleep 0.5
  done
  echo "no answer from $url within ${secs}s"; return 1
}

# check NAME CONTAINER-ALIAS FUNCTION
check() {
  local name="$1" alias="$2" fn="$3" t out rc
  t=$(date +%s)
  set +e
  out="$( set -euo pipefail; "$fn" 2>&1 )"
  rc=$?
  set -e
  if [[ $rc -eq 0 ]]; then
    printf '  ok    %-28s %4ss  %s\n' "$name" "$(( $(date +%s) - t ))" "$(tail -n1 <<<"$out")"
  else
    FAILED=1
    printf '  FAIL  %-28s %4ss\n' "$name" "$(( $(date +%s) - t ))"
    sed 's/^/        | /' <<<"$out" | tail -n 20
    if [[ -n "$alias" ]]; then
      echo "        last log lines of gs-iv-$alias-$ID:"
      docker logs --tail 25 "gs-iv-$alias-$ID" 2>&1 | sed 's/^/        | /'
    fi
  fi
}

# ------------------------------------------------------------------------------ checks
c_probe() {
  pexec sh -c 'command -v curl nc dig nslookup' >/dev/null
  pexec dig +short +time=2 +tries=1 mock @127.0.0.11 | grep -qE '^[0-9.]+$'
  pexec nslookup mock >/dev/null
  echo "curl, nc, dig, nslookup present; resolves mock as $(pexec dig +short mock @127.0.0.11 | head -1); uid $(pexec id -u)"
}
c_mock() {
  wait_http http://mock:8089/__mock/health 30 "gs-iv-mock-$ID"
  curl_in -f http://mock:8089/__mock/health
}
c_redis() {
  start redis redis
  local i
  for ((i = 0; i < 40; i++)); do docker exec "gs-iv-redis-$ID" redis-cli ping 2>/dev/null | grep -q PONG && break; sleep 0.25; done
  docker exec "gs-iv-redis-$ID" redis-cli ping | grep -q PONG
  pexec sh -c 'printf "PING\r\n" | nc -q 1 -w 3 redis 6379' | grep -q PONG
  echo "PONG (redis-cli and raw TCP from the probe); $(docker exec "gs-iv-redis-$ID" redis-server --version | cut -d' ' -f1-3)"
}
c_postgres() {
  start postgres postgres -e POSTGRES_USER=smoke -e POSTGRES_PASSWORD=verify-pw -e POSTGRES_DB=smoke
  local i
  for ((i = 0; i < 120; i++)); do
    docker exec "gs-iv-postgres-$ID" pg_isready -q -h 127.0.0.1 -U smoke -d smoke 2>/dev/null && break
    [[ "$(docker inspect -f '{{.State.Running}}' "gs-iv-postgres-$ID")" == true ]] || { echo "postgres exited"; return 1; }
    sleep 0.5
  done
  docker exec -e PGPASSWORD=verify-pw "gs-iv-postgres-$ID" psql -h 127.0.0.1 -U smoke -d smoke -tAc 'select 1' | grep -qx 1
  # the password is really checked over TCP
  if docker exec -e PGPASSWORD=wrong "gs-iv-postgres-$ID" psql -h 127.0.0.1 -U smoke -d smoke -tAc 'select 1' >/dev/null 2>&1; then
    echo "a wrong password was accepted"; return 1
  fi
  pexec nc -z -w 3 postgres 5432
  echo "psql over TCP as smoke (wrong password refused), nc from the probe; server $(docker exec -e PGPASSWORD=verify-pw "gs-iv-postgres-$ID" psql -h 127.0.0.1 -U smoke -d smoke -tAc 'show server_version')"
}
# the upstream chart's pod: uid 100 / gid 101, read-only root, emptyDirs for the writable paths
LLM_PROXY_RUN=(--user 100:101 --read-only --tmpfs /tmp:mode=1777 --tmpfs /app/data:mode=1777 --tmpfs /app/logs:mode=1777
               --tmpfs /app/config:mode=1777 --tmpfs /app/certs:mode=1777 --cap-drop ALL --security-opt no-new-privileges
               -e MANAGEMENT_TOKEN=verify-mgmt -e OPENAI_API_URL=http://mock:8089 -e LOG_LEVEL=info
               -e ENABLE_METRICS=true -e LLM_PROXY_EVENT_BUS=in-memory)
llm_proxy_roundtrip() { # ALIAS
  local base="http://$1:8080" pid tok body
  pid="$(curl_in -f -X POST "$base/manage/projects" -H 'Authorization: Bearer verify-mgmt' -H 'Content-Type: application/json' \
        -d '{"name":"verify","api_key":"sk-verify-project-key"}' | sed -n 's/.*"id" *: *"\([^"]*\)".*/\1/p')"
  [[ -n "$pid" ]] || { echo "POST /manage/projects gave no id"; return 1; }
  tok="$(curl_in -f -X POST "$base/manage/tokens" -H 'Authorization: Bearer verify-mgmt' -H 'Content-Type: application/json' \
        -d "{\"project_id\":\"$pid\",\"duration_minutes\":60,\"max_requests\":5}" | sed -n 's/.*"token" *: *"\([^"]*\)".*/\1/p')"
  [[ -n "$tok" ]] || { echo "POST /manage/tokens gave no token"; return 1; }
  body="$(curl_in -f -X POST "$base/v1/chat/completions" -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
        -d '{"model":"mock-gpt","messages":[{"role":"user","content":"hi"}]}')"
  grep -q '"choices"' <<<"$body" || { echo "chat completion: $body"; return 1; }
  # 401 without the management token
  [[ "$(curl_in -o /dev/null -w '%{http_code}' "$base/manage/projects")" == 401 ]] || { echo "/manage without token was not 401"; return 1; }
}
c_llm_proxy() {
  start llm-proxy llm-proxy "${LLM_PROXY_RUN[@]}"
  wait_http http://llm-proxy:8080/ready 60 "gs-iv-llm-proxy-$ID"
  curl_in -f http://llm-proxy:8080/live | grep -q alive
  curl_in -f http://llm-proxy:8080/ready | grep -q ready
  curl_in -f http://llm-proxy:8080/health | grep -q '"status"'
  llm_proxy_roundtrip llm-proxy
  curl_in -f http://llm-proxy:8080/metrics/prometheus | grep -q '^llm_proxy_requests_total'
  echo "/live /ready /health; project+token+chat via the mock; /metrics/prometheus (uid 100:101, read-only root)"
}
c_llm_proxy_pg() {
  docker inspect "gs-iv-postgres-$ID" >/dev/null 2>&1 || { echo "needs the postgres check first"; return 1; }
  start llm-proxy-pg llm-proxy "${LLM_PROXY_RUN[@]}" -e DB_DRIVER=postgres \
    -e 'DATABASE_URL=postgres://smoke:verify-pw@postgres:5432/smoke?sslmode=disable'
  wait_http http://llm-proxy-pg:8080/ready 60 "gs-iv-llm-proxy-pg-$ID"
  llm_proxy_roundtrip llm-proxy-pg
  local n
  n="$(docker exec -e PGPASSWORD=verify-pw "gs-iv-postgres-$ID" psql -h 127.0.0.1 -U smoke -d smoke -tAc 'select count(*) from projects')"
  [[ "$n" -ge 1 ]] || { echo "no project row in postgres"; return 1; }
  echo "DB_DRIVER=postgres (binary built with -tags postgres): migrations ran, $n project row(s) in postgres"
}
c_litellm() {
  mkdir -p "$TMPD/litellm"
  cat >"$TMPD/litellm/config.yaml" <<'EOF'
model_list:
  - model_name: mock-gpt
    litellm_params:
      model: openai/mock-gpt
      api_base: http://mock:8089/v1
      api_key: os.environ/OPENAI_API_KEY
litellm_settings:
  drop_params: true
  num_retries: 0
  callbacks: ["prometheus"]
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
  require_auth_for_metrics_endpoint: false
EOF
  chmod -R a+rX "$TMPD/litellm"
  start litellm litellm --user 1000:1000 --read-only --tmpfs /tmp:mode=1777 --tmpfs /app/data:mode=1777 \
    --cap-drop ALL --security-opt no-new-privileges \
    -v "$TMPD/litellm:/app/config:ro" -e LITELLM_MASTER_KEY=sk-verify-master -e OPENAI_API_KEY=sk-verify-provider \
    -- --config /app/config/config.yaml --port 4000
  wait_http http://litellm:4000/health/liveliness 240 "gs-iv-litellm-$ID"
  curl_in -f http://litellm:4000/health/liveliness | grep -qi alive
  curl_in -f http://litellm:4000/health/readiness | grep -q '"status"'
  local body
  body="$(curl_in -f -X POST http://litellm:4000/v1/chat/completions -H 'Authorization: Bearer sk-verify-master' \
        -H 'Content-Type: application/json' -d '{"model":"mock-gpt","messages":[{"role":"user","content":"hi"}]}')"
  grep -q '"choices"' <<<"$body" || { echo "chat completion: $body"; return 1; }
  [[ "$(curl_in -o /dev/null -w '%{http_code}' -X POST http://litellm:4000/v1/chat/completions -H 'Authorization: Bearer sk-wrong' \
        -H 'Content-Type: application/json' -d '{"model":"mock-gpt","messages":[{"role":"user","content":"hi"}]}')" =~ ^40[013]$ ]] \
    || { echo "a wrong key was not refused"; return 1; }
  curl_in -fL http://litellm:4000/metrics | grep -q '^litellm_proxy_total_requests_metric_total' \
    || { echo "/metrics has no litellm_proxy_total_requests_metric_total"; return 1; }
  echo "liveliness, readiness, chat via the mock with the master key (wrong key refused), /metrics (307 -> /metrics/) (uid 1000, read-only root, no network beyond the mock)"
}

# ------------------------------------------------------------------------------ run
docker network create --internal "$NET" >/dev/null
log "network $NET (internal: no route out); images: $(gs_cluster_image_names)"
start mock mock
start probe probe
check probe "" c_probe
check mock mock c_mock
want redis && check redis redis c_redis
want postgres && check postgres postgres c_postgres
want llm-proxy && check llm-proxy llm-proxy c_llm_proxy
want llm-proxy && want postgres && check "llm-proxy (DB_DRIVER=postgres)" llm-proxy-pg c_llm_proxy_pg
want litellm && check litellm litellm c_litellm
log "done: $([[ $FAILED -eq 0 ]] && echo 'all checks passed' || echo 'FAILURES above')"
exit "$FAILED"
