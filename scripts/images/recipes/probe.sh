# Runs as root inside a throwaway container from gateway-smoke/base (see build-images.sh):
# the client tools for in-cluster probes.
apt-get update -qq
apt-get install -y -qq curl netcat-openbsd dnsutils iproute2 >/dev/null
curl --version | head -1
nc -h 2>&1 | head -1 || true
dig -v 2>&1 | head -1
command -v nslookup
rm -f /var/cache/apt/*.bin  # (apt lists and archives are cache mounts, not part of the image)
