#!/usr/bin/env bash
# Idempotent host preparation for kind on this kind of VM (root, no systemd, cgroup v1,
# no CAP_SYS_RESOURCE in the bounding set). Each part checks first and skips what is done:
#   1. Debian packages: docker.io, debootstrap, ipset, libseccomp-dev, busybox-static, jq ...
#   2. dockerd running in the background (log: /var/log/gateway-smoke-dockerd.log)
#   3. runtime wrapper runc-nosysres (drops CAP_SYS_RESOURCE from OCI specs, then execs runc)
#      registered as docker's default runtime in /etc/docker/daemon.json (SIGHUP, no restart)
#   4. the cgroup v1 hierarchies kubelet wants and the host lacks (hugetlb, perf_event, net_cls,net_prio)
# Needs root.
#
#   host-prep.sh online : for the online kit (kind's published node images): no packages, no
#     debootstrap; only what this host's facts require (cgroup v1 hierarchies on a cgroup v1 host, the
#     runtime wrapper when the capability bounding set lacks CAP_SYS_RESOURCE), and root only then.
#     On a usual host (a GitHub runner: cgroup v2, full capabilities, Docker running) it changes nothing.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MODE="${1:-airgap}"
if [[ $MODE == online ]]; then
  docker info >/dev/null 2>&1 || die "the online kit needs a running Docker daemon (docker info fails)"
  needs=()
  if [[ "$(stat -fc %T /sys/fs/cgroup 2>/dev/null)" != cgroup2fs ]]; then
    for h in hugetlb perf_event net_cls,net_prio; do
      grep -qE " /sys/fs/cgroup/$h cgroup " /proc/mounts || needs+=("cgroup v1 hierarchy $h")
    done
  fi
  # CAP_SYS_RESOURCE is bit 24 of the bounding set
  if (( (0x$(awk '/^CapBnd/ {print $2}' /proc/self/status) >> 24 & 1) == 0 )) &&
     [[ "$(docker info --format '{{.DefaultRuntime}}')" != runc-nosysres ]]; then
    needs+=("the runtime wrapper (no CAP_SYS_RESOURCE in the capability bounding set)")
  fi
  if [[ ${#needs[@]} -eq 0 ]]; then log "host ready for the online kit: nothing to change"; exit 0; fi
  [[ $(id -u) -eq 0 ]] || die "this host needs ${needs[*]}; run \`sudo bash scripts/airgap/host-prep.sh online\` once"
  log "online kit: this host needs ${needs[*]}"
fi

[[ $(id -u) -eq 0 ]] || die "host-prep needs root"

# ------------------------------------------------------------------ 1. packages
# (containerd/runc come with docker.io; containerd's `ctr oci spec` makes the nodes' base spec)
# The online kit installs none: Docker is its only prerequisite.
PKGS=(docker.io containerd runc debootstrap ipset iptables libseccomp-dev busybox-static jq
      gcc libc6-dev binutils procps)
missing=()
[[ $MODE == online ]] && PKGS=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  log "installing Debian packages: ${missing[*]}"
  # apt-get update only when the lists are missing or older than a day
  if [[ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -1)" ]]; then
    apt-get update -qq
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  log "packages: all present"
fi
# The Debian docker.io package ships containerd/runc for dockerd itself; the stray
# containerd.service it enables is irrelevant (no systemd on this host).

# Prefer Debian's docker client when another, newer client shadows it on PATH? Both work
# with dockerd 20.10 through API negotiation, so leave PATH alone.

# ------------------------------------------------------------------ 2. cgroups
# (before dockerd: containers inherit what is mounted when they start)
for h in hugetlb perf_event net_cls,net_prio; do
  if ! grep -qE " /sys/fs/cgroup/$h cgroup " /proc/mounts; then
    mkdir -p "/sys/fs/cgroup/$h"
    mount -t cgroup -o "$h" cgroup "/sys/fs/cgroup/$h"
    log "mounted cgroup v1 hierarchy $h"
  fi
done
# symlinks systemd-based systems usually have for the co-mounted hierarchy
[[ -e /sys/fs/cgroup/net_cls ]] || ln -s net_cls,net_prio /sys/fs/cgroup/net_cls 2>/dev/null || true
[[ -e /sys/fs/cgroup/net_prio ]] || ln -s net_cls,net_prio /sys/fs/cgroup/net_prio 2>/dev/null || true

# ------------------------------------------------------------------ 3. runtime wrapper
WRAPPER="$RUNTIME_DIR/runc-nosysres"
mkdir -p "$RUNTIME_DIR"
wrapper_src="$(cat <<'WRAP'
#!/bin/sh
# runc-nosysres (installed by gateway-smoke scripts/airgap/host-prep.sh).
# This VM's capability bounding set lacks CAP_SYS_RESOURCE, so runc fails to apply a
# spec that asks for it ("unable to apply caps: operation not permitted"). Remove it from
# the bundle's config.json (--bundle/-b) and from an exec --process/-p spec, then exec runc.
strip() {
  [ -f "$1" ] || return 0
  grep -q CAP_SYS_RESOURCE "$1" || return 0
  t="$1.nosysres.$$"
  if [ "$2" = bundle ]; then
    jq -c '(.process.capabilities // {}) |= with_entries(.value |= map(select(. != "CAP_SYS_RESOURCE")))' "$1" >"$t" && mv "$t" "$1"
  else
    jq -c '(.capabilities // {}) |= with_entries(.value |= map(select(. != "CAP_SYS_RESOURCE")))' "$1" >"$t" && mv "$t" "$1"
  fi
  rm -f "$t"
}
prev=""
for a in "$@"; do
  case "$prev" in
    --bundle|-b) strip "$a/config.json" bundle ;;
    --process|-p) strip "$a" process ;;
  esac
  case "$a" in
    --bundle=*) strip "${a#--bundle=}/config.json" bundle ;;
    --process=*) strip "${a#--process=}" process ;;
  esac
  prev="$a"
done
exec /usr/bin/runc "$@"
WRAP
)"
if [[ ! -x "$WRAPPER" || "$(cat "$WRAPPER")" != "$wrapper_src" ]]; then
  printf '%s\n' "$wrapper_src" >"$WRAPPER"; chmod 755 "$WRAPPER"
  log "installed runtime wrapper $WRAPPER"
fi

mkdir -p /etc/docker
want_cfg="$(jq -n --arg p "$WRAPPER" '{runtimes:{"runc-nosysres":{path:$p}},"default-runtime":"runc-nosysres"}')"
cfg_changed=0
if [[ -s /etc/docker/daemon.json ]]; then
  merged="$(jq --argjson w "$want_cfg" '. * $w' /etc/docker/daemon.json)"
  if [[ "$(jq -S . /etc/docker/daemon.json)" != "$(jq -S . <<<"$merged")" ]]; then
    printf '%s\n' "$merged" >/etc/docker/daemon.json; cfg_changed=1
  fi
else
  printf '%s\n' "$want_cfg" >/etc/docker/daemon.json; cfg_changed=1
fi

# ------------------------------------------------------------------ 4. dockerd
dockerd_pid() { pgrep -x dockerd | head -1; }
if ! docker info >/dev/null 2>&1; then
  if [[ -z "$(dockerd_pid)" ]]; then
    log "starting dockerd (log /var/log/gateway-smoke-dockerd.log)"
    # its own session: dockerd must outlive the run (or CI job step) that happened to start it
    setsid nohup /usr/sbin/dockerd >/var/log/gateway-smoke-dockerd.log 2>&1 < /dev/null &
  fi
  for _ in $(seq 1 60); do
    [[ -S /var/run/docker.sock ]] && docker info >/dev/null 2>&1 && break
    sleep 1
  done
  docker info >/dev/null 2>&1 || die "dockerd did not come up; see /var/log/gateway-smoke-dockerd.log"
  cfg_changed=0   # a fresh dockerd read daemon.json already
fi
if [[ $cfg_changed -eq 1 ]]; then
  log "daemon.json changed: SIGHUP dockerd"
  kill -HUP "$(dockerd_pid)"; sleep 2
fi
rt="$(docker info --format '{{.DefaultRuntime}}')"
[[ "$rt" == "runc-nosysres" ]] || die "docker default runtime is '$rt', expected runc-nosysres"

# Prove it once: a privileged container from a locally imported image starts.
PRIV_OK="$RUNTIME_DIR/.privileged-ok"
if [[ ! -f "$PRIV_OK" || "$PRIV_OK" -ot "$WRAPPER" || "$PRIV_OK" -ot /etc/docker/daemon.json ]]; then
  tmpd="$(mktemp -d)"; mkdir -p "$tmpd/bin"; cp /bin/busybox "$tmpd/bin/busybox"; ln -s busybox "$tmpd/bin/sh"
  tar -C "$tmpd" -c . | docker import --change "LABEL $IMAGE_LABEL" - gateway-smoke/hostcheck:1 >/dev/null
  rm -rf "$tmpd"
  if docker run --rm --privileged gateway-smoke/hostcheck:1 /bin/sh -c 'exit 0' >/dev/null 2>"$RUNTIME_DIR/privileged-check.err"; then
    touch "$PRIV_OK"; log "privileged container check: ok"
  else
    cat "$RUNTIME_DIR/privileged-check.err" >&2
    die "docker run --privileged fails (see above)"
  fi
  docker rmi gateway-smoke/hostcheck:1 >/dev/null 2>&1 || true
fi

# kind creates many inotify watchers per node
sysctl -qw fs.inotify.max_user_watches=524288 fs.inotify.max_user_instances=512 2>/dev/null || true

log "host ready: docker $(docker version --format '{{.Server.Version}}'), runtime $rt, cgroups ok"
