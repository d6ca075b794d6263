# Runs as root inside a throwaway container from gateway-smoke/base (see build-images.sh):
# Debian's postgresql-15 with a fixed postgres uid/gid (999) so charts can runAsUser it.
ctx=/mnt/gs-build/ctx
groupadd -r -g 999 postgres
useradd -r -u 999 -g 999 -d /var/lib/postgresql -s /bin/bash postgres
install -d -o 999 -g 999 -m 0755 /var/lib/postgresql
# no cluster from the package: the entrypoint makes one in $PGDATA on first start
mkdir -p /etc/postgresql-common/createcluster.d
echo 'create_main_cluster = false' >/etc/postgresql-common/createcluster.d/gateway-smoke.conf
apt-get update -qq
apt-get install -y -qq postgresql-15 >/dev/null
/usr/lib/postgresql/15/bin/postgres --version
test ! -d /var/lib/postgresql/15/main
install -d -o 999 -g 999 -m 0700 /var/lib/postgresql/data
install -d -o 999 -g 999 -m 2775 /var/run/postgresql
install -m 0755 "$ctx/postgres-entrypoint.sh" /usr/local/bin/postgres-entrypoint
rm -rf /var/log/postgresql/* /var/cache/apt/*.bin
