# Runs as root inside a throwaway container from gateway-smoke/base (see build-images.sh);
# /mnt/gs-build/ctx holds node (the npm package's binary, debug info stripped) and mock/*.ts.
ctx=/mnt/gs-build/ctx
install -m 0755 "$ctx/node" /usr/local/bin/node
install -d -o 0 -g 0 -m 0755 /app/mock
install -m 0644 "$ctx"/mock/*.ts /app/mock/
node --version
# the mock has no npm dependencies: node:* imports and ./ files only
if grep -hE "^import .* from '[^.n]" /app/mock/*.ts; then echo "mock/ imports a package: it must stay self-contained"; exit 1; fi
grep -hE "^import .* from 'node:" /app/mock/*.ts | sort -u
