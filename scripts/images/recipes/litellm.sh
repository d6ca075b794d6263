# Runs as root inside a throwaway container from gateway-smoke/base (see build-images.sh):
# Debian's python3 + venv, then from PyPI what scripts/setup-local.sh installs for --target local:
# litellm[proxy], prisma (its DB client), prometheus_client (the /metrics callback), redis.
ctx=/mnt/gs-build/ctx
apt-get update -qq
apt-get install -y -qq python3 python3-venv >/dev/null
python3 --version
python3 -m venv /opt/litellm
/opt/litellm/bin/pip install --no-input --upgrade pip
/opt/litellm/bin/pip install --no-input -r "$ctx/requirements.in"
/opt/litellm/bin/pip freeze >/opt/litellm/requirements.lock.txt
cat /opt/litellm/requirements.lock.txt
/opt/litellm/bin/pip check || true
install -m 0755 "$ctx/litellm-entrypoint.sh" /usr/local/bin/litellm-entrypoint
# import once as root so the byte code is compiled into the image (a read-only root cannot cache it)
LITELLM_LOCAL_MODEL_COST_MAP=True /opt/litellm/bin/python -c 'import litellm.proxy.proxy_server, prometheus_client, prisma, redis'
LITELLM_LOCAL_MODEL_COST_MAP=True /opt/litellm/bin/litellm --version || true

# Prisma engines, best effort. LiteLLM's DB features (keys, teams, spend) need its Prisma client
# generated, and that needs Prisma's query/schema engine binaries, which Prisma publishes only on
# its own CDN (binaries.prisma.sh). Where that is unreachable this fails; the image records the
# outcome (label io.gateway-smoke.prisma-engines=present|absent, /opt/litellm/prisma-status.json)
# so the harness can say "environment: Prisma engines unavailable" instead of starting LiteLLM
# with a DATABASE_URL (it then exits: "Unable to find Prisma binaries").
export PRISMA_HOME_DIR=/opt/litellm/prisma-home
mkdir -p "$PRISMA_HOME_DIR"
# The Prisma CLI is an npm package run by Node; nodejs-bin (PyPI) gives it one without nodejs.org.
/opt/litellm/bin/pip install --no-input 'nodejs-bin==18.4.0a4' || echo "nodejs-bin unavailable: prisma will try nodeenv"
schema_dir="$(/opt/litellm/bin/python -c 'import litellm, os; print(os.path.join(os.path.dirname(litellm.__file__), "proxy"))')"
set +e
out="$(cd "$schema_dir" && PATH=/opt/litellm/bin:$PATH timeout 180 prisma generate --schema "$schema_dir/schema.prisma" 2>&1)"
rc=$?
set -e
printf '%s\n' "$out" | tail -n 15
engines=absent
if [[ $rc -eq 0 ]] && find "$PRISMA_HOME_DIR" -name 'prisma-query-engine-*' -type f | grep -q .; then engines=present; fi
PRISMA_OUT="$out" PRISMA_RC="$rc" ENGINES="$engines" SCHEMA_DIR="$schema_dir" /opt/litellm/bin/python - <<'PY'
import json, os, time
out, rc = os.environ["PRISMA_OUT"], int(os.environ["PRISMA_RC"])
lines = out.splitlines()
errs = [l for l in lines if l.startswith("Error")] or [l for l in lines if "error" in l.lower()]
json.dump({
    "engines": os.environ["ENGINES"],
    "exitCode": rc,
    "command": "cd %s && PRISMA_HOME_DIR=/opt/litellm/prisma-home prisma generate" % os.environ["SCHEMA_DIR"],
    "error": None if rc == 0 else (errs[0] if errs else (out.strip().splitlines() or ["exit %d" % rc])[-1]),
    "output": out[-4000:],
    "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
}, open("/opt/litellm/prisma-status.json", "w"), indent=2)
PY
if [[ $engines == absent ]]; then
  # nothing usable came of it: leave neither Node nor the half-installed CLI in the image
  /opt/litellm/bin/pip uninstall -y nodejs-bin || true
  rm -rf "$PRISMA_HOME_DIR/.cache"
fi
chmod -R a+rX /opt/litellm
mkdir -p /etc/gateway-smoke
echo "io.gateway-smoke.prisma-engines=$engines" >/etc/gateway-smoke/labels

install -d -o 1000 -g 1000 /app /app/data /app/config /app/models
rm -rf /root/.cache /root/.npm /tmp/* /var/cache/apt/*.bin
