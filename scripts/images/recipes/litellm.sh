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

# Prisma's engines. LiteLLM's DB features (keys, teams, spend) need its Prisma client generated, and
# that needs Prisma's query/schema engines, which Prisma publishes only on its own CDN. They come
# from the build context when given (GATEWAY_SMOKE_PRISMA_ENGINES, see build-images.sh), never from
# a download; without them the image records "absent" (label io.gateway-smoke.prisma-engines,
# /opt/litellm/prisma-status.json) and the harness gives such an image no DATABASE_URL (LiteLLM
# would exit: "Unable to find Prisma binaries").
export PRISMA_HOME_DIR=/opt/litellm/prisma-home
schema_dir="$(/opt/litellm/bin/python -c 'import litellm, os; print(os.path.join(os.path.dirname(litellm.__file__), "proxy"))')"
engines=absent out="" rc=0
if [[ -d "$ctx/prisma-engines" ]]; then
  (cd "$ctx/prisma-engines" && sha256sum -c --ignore-missing SHA256SUMS)
  install -d /opt/prisma-engines
  install -m 0755 "$ctx/prisma-engines/query-engine" "$ctx/prisma-engines/schema-engine" /opt/prisma-engines/
  install -m 0644 "$ctx/prisma-engines/SHA256SUMS" "$ctx/prisma-engines/HASH" /opt/prisma-engines/
  # what the folder's runtime-env.sh sets (the image's ENV sets the same for run time)
  export PRISMA_QUERY_ENGINE_BINARY=/opt/prisma-engines/query-engine PRISMA_SCHEMA_ENGINE_BINARY=/opt/prisma-engines/schema-engine \
    PRISMA_ENGINES_CHECKSUM_IGNORE_MISSING=1 PRISMA_CLI_QUERY_ENGINE_TYPE=binary PRISMA_HIDE_UPDATE_MESSAGE=1 CHECKPOINT_DISABLE=1
  /opt/prisma-engines/query-engine --version
  /opt/prisma-engines/schema-engine --version
  mkdir -p "$PRISMA_HOME_DIR"
  # The Prisma CLI is an npm package run by Node; nodejs-bin (PyPI) gives it one without nodejs.org.
  # Its first call installs prisma@<pinned> from the npm registry into PRISMA_HOME_DIR (kept in the
  # image: LiteLLM runs `prisma migrate deploy` and `prisma migrate diff` at start-up).
  /opt/litellm/bin/pip install --no-input 'nodejs-bin==18.4.0a4'
  set +e
  out="$(cd "$schema_dir" && PATH=/opt/litellm/bin:$PATH timeout 600 prisma generate --schema "$schema_dir/schema.prisma" 2>&1)"
  rc=$?
  set -e
  printf '%s\n' "$out" | tail -n 20
  [[ $rc -eq 0 ]] || { echo "prisma generate failed (exit $rc) with the given engines"; exit 1; }
  # the generated client imports and finds the engine
  /opt/litellm/bin/python -c 'import prisma; from prisma import Prisma; Prisma()'
  engines=present
fi
PRISMA_OUT="$out" PRISMA_RC="$rc" ENGINES="$engines" SCHEMA_DIR="$schema_dir" /opt/litellm/bin/python - <<'PY'
import json, os, time
engines = os.environ["ENGINES"]
json.dump({
    "engines": engines,
    "exitCode": int(os.environ["PRISMA_RC"]),
    "command": "cd %s && prisma generate" % os.environ["SCHEMA_DIR"],
    "error": None if engines == "present" else "built without Prisma engines (GATEWAY_SMOKE_PRISMA_ENGINES was not given)",
    "output": os.environ["PRISMA_OUT"][-4000:],
    "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
}, open("/opt/litellm/prisma-status.json", "w"), indent=2)
PY
chmod -R a+rX /opt/litellm
mkdir -p /etc/gateway-smoke
echo "io.gateway-smoke.prisma-engines=$engines" >/etc/gateway-smoke/labels

# Laid out like LiteLLM's own image, whose /app is its source tree: charts run its scripts from
# there (litellm-proxy's migration Job: `cd /app && python litellm/proxy/prisma_migration.py`).
# No /app/schema.prisma on purpose: that script ends with a `prisma generate` in /app, which cannot
# write this image's (root-owned) client anyway, and with a schema there it peaks at ~600 MiB
# (measured), over the chart Job's 512Mi limit (OOMKilled); without one it stops at once.
ln -sfn "$(dirname "$schema_dir")" /app/litellm
install -d -o 1000 -g 1000 /app /app/data /app/config /app/models
rm -rf /root/.cache /root/.npm /tmp/* /var/cache/apt/*.bin
