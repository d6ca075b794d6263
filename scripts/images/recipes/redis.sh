# Runs as root inside a throwaway container from gateway-smoke/base (see build-images.sh):
# Debian's redis-server with a fixed redis uid/gid (999).
groupadd -r -g 999 redis
useradd -r -u 999 -g 999 -d /var/lib/redis -s /usr/sbin/nologin redis
apt-get update -qq
apt-get install -y -qq redis-server >/dev/null
redis-server --version
install -d -o 999 -g 999 -m 0750 /data
rm -rf /var/log/redis/* /var/cache/apt/*.bin
