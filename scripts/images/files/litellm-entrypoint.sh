#!/bin/sh
# gateway-smoke/litellm entrypoint: `litellm` with the arguments given.
# Without arguments it starts the way the RouteIQ image does from the routeiq chart's environment:
# config from LITELLM_CONFIG_PATH (when set), port from PORT (default 4000), all interfaces.
set -e
if [ "$#" -eq 0 ]; then
  set -- --host 0.0.0.0 --port "${PORT:-4000}"
  if [ -n "${LITELLM_CONFIG_PATH:-}" ]; then
    set -- --config "$LITELLM_CONFIG_PATH" "$@"
  fi
fi
exec litellm "$@"
