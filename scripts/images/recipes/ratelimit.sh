# Runs as root inside a throwaway container from gateway-smoke/base (see build-images.sh):
# /mnt/gs-build/ctx/ratelimit is the static Go binary built on the host; Envoy Gateway's rate-limit
# Deployment runs /bin/ratelimit.
install -m 0755 /mnt/gs-build/ctx/ratelimit /bin/ratelimit
test -z "$(ldd /bin/ratelimit 2>&1 | grep -v 'not a dynamic executable')"
