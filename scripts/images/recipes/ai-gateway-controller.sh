# Runs as root inside a throwaway container from gateway-smoke/base (see build-images.sh):
# /mnt/gs-build/ctx/ai-gateway-controller is the static Go binary built on the host (AI Gateway stack wrapper module).
install -m 0755 /mnt/gs-build/ctx/ai-gateway-controller /usr/local/bin/ai-gateway-controller
test -z "$(ldd /usr/local/bin/ai-gateway-controller 2>&1 | grep -v 'not a dynamic executable')"
