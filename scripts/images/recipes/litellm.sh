# Runs as root inside a throwaway container from gateway-smoke/base (see build-images.sh):
# Debian's python3 + venv, then litellm[proxy] (and what setup-local.sh installs next to it) from PyPI.
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
LITELLM_LOCAL_MODEL_COST_MAP=True /opt/litellm/bin/python -c 'import litellm, litellm.proxy.proxy_server; print("litellm", litellm.__version__ if hasattr(litellm, "__version__") else "?")'
/opt/litellm/bin/litellm --version || true
install -d -o 1000 -g 1000 /app /app/data /app/config /app/models
rm -rf /root/.cache /tmp/*
