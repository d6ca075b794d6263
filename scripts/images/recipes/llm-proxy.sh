# Runs as root inside a throwaway container from gateway-smoke/base (see build-images.sh);
# /mnt/gs-build/ctx is the upstream image's /app layout: bin/llm-proxy (built on the host with CGO
# and -tags postgres), scripts/schema.sql, internal/database/migrations, web/templates.
ctx=/mnt/gs-build/ctx
cp -a "$ctx/." /app/
ln -sfn bin/llm-proxy /app/llm-proxy
mkdir -p /app/data /app/logs /app/config /app/certs
chown -R 0:0 /app
chmod -R a+rX,go-w /app
chmod 0555 /app/bin/llm-proxy
# Writable for the image user (1000) and for whatever non-root uid a chart picks (upstream's
# chart runs uid 100/gid 101): in Kubernetes these are emptyDir volumes anyway.
chown 1000:1000 /app/data /app/logs /app/config /app/certs
chmod 1777 /app/data /app/logs /app/config /app/certs
ldd /app/bin/llm-proxy
# every shared library it links is in the base (glibc only; SQLite is compiled in)
if ldd /app/bin/llm-proxy | grep 'not found'; then exit 1; fi
