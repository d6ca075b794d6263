#!/usr/bin/env bash
# Build everything the air-gapped kind cluster needs, from package registries only
# (Go module proxy + Debian apt), into a cache outside git. Re-runs skip finished steps.
#
#   scripts/airgap/build.sh            # build all missing artifacts
#   scripts/airgap/build.sh go images  # run only these steps (still skipping cached ones)
#   FORCE=1 scripts/airgap/build.sh X  # rebuild step X
#
# Steps: go (every Go program: Kubernetes, etcd, CoreDNS, kube-router, local-path-provisioner,
# helm, kind; the names k8s, etcd, coredns, kube-router, local-path, helm, kind mean it too),
# pause, node-rootfs, base-rootfs, images, node-base, node-image.
#
# Cache: ${GATEWAY_SMOKE_CACHE:-~/.cache/gateway-smoke}/airgap  (logs/, stamps/, out/, bin/)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# ------------------------------------------------------------------------ Go programs
# Kubernetes, etcd, CoreDNS, kube-router, local-path-provisioner, helm and kind are built
# from ONE throwaway wrapper module (src/go). MVS then picks a single version of every
# shared dependency (k8s.io/*, grpc, protobuf, otel, prometheus, ...), so each package is
# compiled once instead of once per program, and one `go build` of all main packages keeps
# both cores busy. Per-program quirks, handled in the wrapper's go.mod:
#  - k8s.io/kubernetes replaces its k8s.io/* staging modules with ./staging/..., which the
#    module zip lacks: each is replaced by its published v0.X.Y (which every other program
#    then uses too).
#  - go.etcd.io/etcd/server/v3 replaces its sibling modules with ../api etc.: the wrapper
#    pins the published siblings instead.
#  - the k3s kube-router fork declares itself as github.com/cloudnativelabs/kube-router/v2
#    (k3s uses it through a replace), so it is built the same way; the fork is not in the
#    checksum DB.
#  - CoreDNS: a generated main importing the in-tree plugins a cluster uses (upstream's
#    documented way of choosing plugins at compile time), without the cloud-provider,
#    dnstap, etcd, grpc and tracing plugins (their SDKs dominate the build time).
K8S_CMDS=(kubeadm kubelet kubectl kube-apiserver kube-controller-manager kube-scheduler kube-proxy)
COREDNS_PLUGINS=(root metadata cancel tls timeouts reload nsid bufsize bind debug ready health
  pprof metrics errors log local dns64 acl any chaos loadbalance cache rewrite header dnssec
  autopath minimal template transfer hosts k8s_external kubernetes file auto secondary loop
  forward erratic whoami view)
KUBE_ROUTER_UPSTREAM="github.com/cloudnativelabs/kube-router/v2"
# main packages from modules (go build names each binary after the last path element;
# etcd's, ending in /v3, becomes "server")
GO_MAINS=()
for c in "${K8S_CMDS[@]}"; do GO_MAINS+=("k8s.io/kubernetes/cmd/$c"); done
GO_MAINS+=(go.etcd.io/etcd/server/v3 "$KUBE_ROUTER_UPSTREAM/cmd/kube-router" helm.sh/helm/v3/cmd/helm sigs.k8s.io/kind)
LOCAL_PATH_MAIN=github.com/rancher/local-path-provisioner
# the stamp: every pinned version the Go programs are built from
GO_KEY="k8s=$K8S_VERSION etcd=$ETCD_VERSION coredns=$COREDNS_VERSION+$(printf '%s\n' "${COREDNS_PLUGINS[@]}" | sha256sum | cut -c1-8) kube-router=$KUBE_ROUTER_MODULE@$KUBE_ROUTER_VERSION local-path=$LOCAL_PATH_VERSION helm=$HELM_VERSION kind=$KIND_VERSION"

write_go_module() { # DIR
  local d="$1" k8smod corednsdir p
  k8smod="$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | jq -r .GoMod)"
  # CoreDNS v1.12.1 sets cache.Config.RetryOnError, a field client-go v0.34 removed (it was
  # false = the default there, too): build a copy without that line.
  corednsdir="$(go mod download -json "github.com/coredns/coredns@$COREDNS_VERSION" | jq -r .Dir)"
  cp -r "$corednsdir" "$d/coredns-src"; chmod -R u+w "$d/coredns-src"
  sed -i '/RetryOnError:/d' "$d/coredns-src/plugin/kubernetes/object/informer.go"
  {
    echo "module gateway-smoke.local/airgapbuild"
    echo; echo "go 1.24.0"; echo; echo "godebug default=go1.24"; echo   # as k8s.io/kubernetes
    echo "require ("
    echo "	k8s.io/kubernetes $K8S_VERSION"
    echo "	go.etcd.io/etcd/server/v3 $ETCD_VERSION"
    echo "	github.com/coredns/coredns $COREDNS_VERSION"
    echo "	$KUBE_ROUTER_UPSTREAM ${KUBE_ROUTER_VERSION%%-*}"
    echo "	github.com/rancher/local-path-provisioner $LOCAL_PATH_VERSION"
    echo "	helm.sh/helm/v3 $HELM_VERSION"
    echo "	sigs.k8s.io/kind $KIND_VERSION"
    echo ")"; echo
    echo "replace ("
    grep -E '=> \./staging/src/' "$k8smod" | awk -v v="v0.${K8S_VERSION#v1.}" '{print "\t" $1 " => " $1 " " v}'
    for p in api/v3 client/pkg/v3 client/v3 pkg/v3; do echo "	go.etcd.io/etcd/$p => go.etcd.io/etcd/$p $ETCD_VERSION"; done
    echo "	$KUBE_ROUTER_UPSTREAM => $KUBE_ROUTER_MODULE $KUBE_ROUTER_VERSION"
    echo "	github.com/coredns/coredns => ./coredns-src"
    echo ")"
  } >"$d/go.mod"
  {
    echo "//go:build tools"; echo; echo "package tools"; echo; echo "import ("
    for p in "${GO_MAINS[@]}" "$LOCAL_PATH_MAIN"; do echo "	_ \"$p\""; done
    echo ")"
  } >"$d/tools.go"
  mkdir -p "$d/coredns"
  {
    echo "// Generated by gateway-smoke scripts/airgap/build.sh: CoreDNS with a chosen plugin set."
    echo "package main"; echo; echo "import ("
    echo '	"github.com/coredns/coredns/coremain"'
    echo '	_ "github.com/coredns/caddy/onevent"'
    for p in "${COREDNS_PLUGINS[@]}"; do echo "	_ \"github.com/coredns/coredns/plugin/$p\""; done
    echo ")"; echo; echo "func main() { coremain.Run() }"
  } >"$d/coredns/main.go"
}

# check_version WANT CMD... : print CMD's version output; fail unless it names WANT
check_version() {
  local want="$1" out; shift
  out="$("$@" 2>&1)" || true
  echo "$(basename "$1"): $out" | head -n 3
  grep -qF -- "$want" <<<"$out" || die "$1 does not report version $want"
}

build_go() {
  local d="$SRC/go" b="$SRC/go/bin" date ld p c
  rm -rf "$d"; mkdir -p "$d"
  export GONOSUMDB="${KUBE_ROUTER_MODULE%%/v2}"
  write_go_module "$d"
  cd "$d" || exit
  go mod tidy
  # One -ldflags for all programs: -X of a package a binary does not link is ignored.
  date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  ld="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$(echo "$K8S_VERSION" | cut -d. -f2)"
    ld+=" -X $p.gitTreeState=clean -X $p.buildDate=$date -X $p.gitCommit=0000000000000000000000000000000000000000"
  done
  ld+=" -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
  ld+=" -X $KUBE_ROUTER_UPSTREAM/pkg/version.Version=$KUBE_ROUTER_VERSION -X $KUBE_ROUTER_UPSTREAM/pkg/version.BuildDate=$date"
  ld+=" -X main.VERSION=$LOCAL_PATH_VERSION"   # local-path-provisioner's (no other main has one)
  # providerless: Kubernetes without the in-tree cloud providers. -dwarf=false: -w drops the
  # debug info at link time anyway; not generating it saves ~8% compile time. -pgo=off: a
  # main package's default.pgo would compile all its dependencies once more.
  local flags=(-tags providerless -trimpath -pgo=off -gcflags=all=-dwarf=false -ldflags="$ld")
  mkdir -p "$b"
  CGO_ENABLED=0 go build "${flags[@]}" -o "$b/" "${GO_MAINS[@]}" ./coredns
  # local-path-provisioner imports github.com/Sirupsen/logrus, the others
  # github.com/sirupsen/logrus; one go build refuses that case-insensitive import collision,
  # so it gets its own (its dependencies are compiled and cached by now).
  CGO_ENABLED=0 go build "${flags[@]}" -o "$b/" "$LOCAL_PATH_MAIN"
  # where the image steps and the harness expect them
  mkdir -p "$OUT/k8s" "$OUT/etcd" "$OUT/coredns" "$OUT/kube-router" "$OUT/local-path"
  for c in "${K8S_CMDS[@]}"; do mv "$b/$c" "$OUT/k8s/$c"; done
  mv "$b/server" "$OUT/etcd/etcd"
  mv "$b/coredns" "$OUT/coredns/coredns"
  mv "$b/kube-router" "$OUT/kube-router/kube-router"
  mv "$b/local-path-provisioner" "$OUT/local-path/local-path-provisioner"
  mv "$b/helm" "$b/kind" "$BIN/"
  cp "$OUT/k8s/kubectl" "$BIN/kubectl"
  rmdir "$b"
  for c in kube-apiserver kube-controller-manager kube-scheduler kube-proxy kubelet; do
    check_version "Kubernetes $K8S_VERSION" "$OUT/k8s/$c" --version
  done
  check_version "$K8S_VERSION" "$OUT/k8s/kubeadm" version -o short
  check_version "Client Version: $K8S_VERSION" "$OUT/k8s/kubectl" version --client
  check_version "etcd Version: ${ETCD_VERSION#v}" "$OUT/etcd/etcd" --version
  check_version "CoreDNS-${COREDNS_VERSION#v}" "$OUT/coredns/coredns" -version
  "$OUT/coredns/coredns" -plugins | tr '\n' ' '; echo
  check_version "$KUBE_ROUTER_VERSION" "$OUT/kube-router/kube-router" --version
  check_version "$LOCAL_PATH_VERSION" "$OUT/local-path/local-path-provisioner" --version
  check_version "Version:\"$HELM_VERSION\"" "$BIN/helm" version
  check_version "kind $KIND_VERSION" "$BIN/kind" version
}

# ------------------------------------------------------------------------- pause
build_pause() {
  mkdir -p "$OUT/pause"
  gcc -Os -static -Wall -o "$OUT/pause/pause" "$AIRGAP_DIR/node/pause.c"
  strip "$OUT/pause/pause"
  "$OUT/pause/pause" -v
}

# ------------------------------------------------------------- Debian root file systems
APT_CACHE_DIR="$CACHE/apt-archives"
NODE_PKGS="systemd,systemd-sysv,dbus,iptables,nftables,iproute2,ebtables,ipset,jq,ethtool,socat,conntrack,containerd,runc,containernetworking-plugins,ca-certificates,util-linux,mount,kmod,libseccomp2,procps,pigz,iputils-ping,netcat-openbsd"
BASE_PKGS="iptables,ipset,conntrack,iproute2,ca-certificates,procps"
debootstrap_into() { # DIR PACKAGES
  local dir="$1" pkgs="$2"
  rm -rf "$dir"; mkdir -p "$dir" "$APT_CACHE_DIR"
  debootstrap --variant=minbase --cache-dir="$APT_CACHE_DIR" --include="$pkgs" \
    "$DEBIAN_SUITE" "$dir" http://deb.debian.org/debian
  rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/archives/*.deb \
         "$dir"/usr/share/doc/* "$dir"/usr/share/man/* "$dir"/usr/share/locale/*
}
build_node_rootfs() { debootstrap_into "$OUT/node-rootfs" "$NODE_PKGS"; du -sh "$OUT/node-rootfs"; }
build_base_rootfs() { debootstrap_into "$OUT/base-rootfs" "$BASE_PKGS"; du -sh "$OUT/base-rootfs"; }

# ----------------------------------------------------------------- component images
# import_image NAME DIR ENTRYPOINT-JSON : docker import a directory as an image.
import_image() {
  local name="$1" dir="$2" ep="$3"
  tar -C "$dir" --numeric-owner -c . | docker import --change "LABEL $IMAGE_LABEL" \
    --change "ENTRYPOINT $ep" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    - "$name" >/dev/null
  echo "imported $name"
}
busybox_root() { # DIR : a busybox-static root with every applet linked
  local dir="$1" a
  rm -rf "$dir"; mkdir -p "$dir"/{bin,usr/bin,usr/local/bin,etc,tmp,var/run,root}
  chmod 1777 "$dir/tmp"
  cp /bin/busybox "$dir/bin/busybox"
  for a in $("$dir/bin/busybox" --list); do [[ -e "$dir/bin/$a" ]] || ln -s busybox "$dir/bin/$a"; done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$dir/etc/passwd"
  echo 'root:x:0:' >"$dir/etc/group"
  echo 'hosts: files dns' >"$dir/etc/nsswitch.conf"
}
# the image names kubeadm expects for the pinned version (kubeadm config images list)
k8s_image() { "$OUT/k8s/kubeadm" config images list --kubernetes-version "$K8S_VERSION" 2>/dev/null | grep "/$1:"; }
component_images() { # all images preloaded into the node image
  "$OUT/k8s/kubeadm" config images list --kubernetes-version "$K8S_VERSION" 2>/dev/null
  echo "$BUSYBOX_IMAGE"; echo "$DEBIAN_BASE_IMAGE"; echo "$KUBE_ROUTER_IMAGE"; echo "$LOCAL_PATH_IMAGE"
}
build_images() {
  local w="$OUT/img" c
  rm -rf "$w"; mkdir -p "$w"
  # test / helper image
  busybox_root "$w/busybox"; import_image "$BUSYBOX_IMAGE" "$w/busybox" '["/bin/sh"]'
  # control plane on busybox roots
  for c in kube-apiserver kube-controller-manager kube-scheduler; do
    busybox_root "$w/$c"; cp "$OUT/k8s/$c" "$w/$c/usr/local/bin/"
    import_image "$(k8s_image "$c")" "$w/$c" "[\"/usr/local/bin/$c\"]"
  done
  busybox_root "$w/etcd"; cp "$OUT/etcd/etcd" "$w/etcd/usr/local/bin/"
  import_image "$(k8s_image etcd)" "$w/etcd" '["/usr/local/bin/etcd"]'
  busybox_root "$w/coredns"; cp "$OUT/coredns/coredns" "$w/coredns/coredns"
  import_image "$(k8s_image coredns)" "$w/coredns" '["/coredns"]'
  mkdir -p "$w/pause"; cp "$OUT/pause/pause" "$w/pause/pause"
  import_image "$(k8s_image pause)" "$w/pause" '["/pause"]'
  busybox_root "$w/local-path"; cp "$OUT/local-path/local-path-provisioner" "$w/local-path/usr/local/bin/"
  import_image "$LOCAL_PATH_IMAGE" "$w/local-path" '["/usr/local/bin/local-path-provisioner"]'
  # Debian-based: iptables/ipset/conntrack users
  import_image "$DEBIAN_BASE_IMAGE" "$OUT/base-rootfs" '["/bin/bash"]'
  for c in kube-proxy kube-router; do
    rm -rf "${w:?}/$c"; mkdir -p "$w/$c/usr/local/bin"
  done
  cp "$OUT/k8s/kube-proxy" "$w/kube-proxy/usr/local/bin/kube-proxy.real"
  cp "$OUT/kube-router/kube-router" "$w/kube-router/usr/local/bin/kube-router.real"
  # Use the iptables backend (legacy or nft) the node already uses, decided as kind's
  # entrypoint decides it: whichever has more rules. Then exec the real binary.
  for c in kube-proxy kube-router; do
    cat >"$w/$c/usr/local/bin/$c" <<WRAP
#!/bin/sh
legacy=\$( (iptables-legacy-save; ip6tables-legacy-save) 2>/dev/null | grep -c '^-' )
nft=\$( (timeout 5 sh -c 'iptables-nft-save; ip6tables-nft-save') 2>/dev/null | grep -c '^-' )
if [ "\${legacy:-0}" -gt "\${nft:-0}" ]; then mode=legacy; else mode=nft; fi
for t in iptables ip6tables; do update-alternatives --set \$t /usr/sbin/\$t-\$mode >/dev/null 2>&1 || true; done
exec /usr/local/bin/$c.real "\$@"
WRAP
    chmod 755 "$w/$c/usr/local/bin/$c"
  done
  # Debian root + one binary, as a layer on top of debian-base (shared in the node image)
  for c in kube-proxy kube-router; do
    local name cid; [[ $c == kube-proxy ]] && name="$(k8s_image kube-proxy)" || name="$KUBE_ROUTER_IMAGE"
    cid="$(docker create "$DEBIAN_BASE_IMAGE")"
    docker cp "$w/$c/usr/local/bin/." "$cid:/usr/local/bin/"
    docker commit --change "LABEL $IMAGE_LABEL" --change "ENTRYPOINT [\"/usr/local/bin/$c\"]" --change 'CMD []' "$cid" "$name" >/dev/null
    docker rm "$cid" >/dev/null
    echo "committed $name"
  done
  # one tar with all of them, for preloading
  mapfile -t imgs < <(component_images)
  docker save -o "$OUT/images.tar" "${imgs[@]}"
  ls -lh "$OUT/images.tar"
  rm -rf "$w"
}

# ---------------------------------------------------------------- node base image
KIND_BASE_FILES() { echo "$(go env GOMODCACHE)/sigs.k8s.io/kind@$KIND_VERSION/images/base/files"; }
build_node_base() {
  local r="$CACHE/node-root" files
  go mod download "sigs.k8s.io/kind@$KIND_VERSION"
  files="$(KIND_BASE_FILES)"; [[ -d "$files" ]] || die "kind base files missing: $files"
  rm -rf "$r"; cp -a "$OUT/node-rootfs" "$r"
  # kind's base files (entrypoint, /kind/bin, systemd units, sysctl.d, crictl.yaml)
  mkdir -p "$r/kind/bin" "$r/kind/manifests" "$r/usr/local/bin" "$r/etc/systemd/system/kubelet.service.d" \
           "$r/etc/containerd" "$r/etc/default" "$r/etc/sysctl.d" "$r/LICENSES"
  install -m 0755 "$files"/usr/local/bin/* "$r/usr/local/bin/"
  install -m 0755 "$files"/kind/bin/* "$r/kind/bin/"
  install -m 0644 "$files"/kind/README.txt "$r/kind/"
  install -m 0644 "$files"/LICENSES/* "$r/LICENSES/"
  install -m 0644 "$files"/etc/crictl.yaml "$r/etc/"
  install -m 0644 "$files"/etc/default/* "$r/etc/default/"
  install -m 0644 "$files"/etc/sysctl.d/* "$r/etc/sysctl.d/"
  install -m 0644 "$files"/etc/systemd/system/*.service "$files"/etc/systemd/system/*.slice "$r/etc/systemd/system/"
  install -m 0644 "$files"/etc/systemd/system/kubelet.service.d/* "$r/etc/systemd/system/kubelet.service.d/"
  rm -f "$r/etc/systemd/system/containerd-fuse-overlayfs.service"
  # systemd as kind's base image sets it up
  find "$r/lib/systemd/system/sysinit.target.wants/" -name "systemd-tmpfiles-setup.service" -delete
  rm -f "$r"/lib/systemd/system/multi-user.target.wants/* "$r"/etc/systemd/system/*.wants/* \
        "$r"/lib/systemd/system/local-fs.target.wants/* "$r"/lib/systemd/system/sockets.target.wants/*udev* \
        "$r"/lib/systemd/system/sockets.target.wants/*initctl* "$r"/lib/systemd/system/basic.target.wants/*
  echo "ReadKMsg=no" >>"$r/etc/systemd/journald.conf"
  ln -sf /lib/systemd/systemd "$r/sbin/init"
  ln -sf /dev/null "$r/etc/systemd/system/systemd-binfmt.service"
  mkdir -p "$r/etc/systemd/system/multi-user.target.wants"
  for u in kubelet containerd undo-mount-hacks; do
    ln -sf "/etc/systemd/system/$u.service" "$r/etc/systemd/system/multi-user.target.wants/$u.service"
  done
  # containerd/runc/CNI from Debian, at the paths kind's units and config use
  ln -sf /usr/bin/containerd "$r/usr/local/bin/containerd"
  mkdir -p "$r/opt/cni/bin" "$r/etc/cni/net.d"
  cp -a "$r"/usr/lib/cni/* "$r/opt/cni/bin/"
  # Kubernetes node binaries
  install -m 0755 "$OUT/k8s/kubeadm" "$OUT/k8s/kubelet" "$OUT/k8s/kubectl" "$r/usr/bin/"
  echo "$K8S_VERSION" >"$r/kind/version"
  mkdir -p "$r/etc/kubernetes/manifests" "$r/var/lib/kubelet"
  # pod network + NetworkPolicy engine + default storage, applied by kind at create time;
  # the manifests name the pinned local images literally, as gateway-smoke/...: check they
  # match lib.sh, and let the node's copy name this build's images (IMAGE_PREFIX)
  local img m
  for img in "$KUBE_ROUTER_IMAGE" "$DEBIAN_BASE_IMAGE"; do
    img="gateway-smoke/${img#"$IMAGE_PREFIX"/}"
    grep -q "image: $img\$" "$AIRGAP_DIR/manifests/default-cni.yaml" || die "manifests/default-cni.yaml does not use $img"
  done
  for img in "$LOCAL_PATH_IMAGE" "$BUSYBOX_IMAGE"; do
    img="gateway-smoke/${img#"$IMAGE_PREFIX"/}"
    grep -q "$img" "$AIRGAP_DIR/manifests/default-storage.yaml" || die "manifests/default-storage.yaml does not use $img"
  done
  for m in default-cni default-storage; do
    sed -E "s#gateway-smoke/(busybox|debian-base|kube-router|local-path-provisioner):#$IMAGE_PREFIX/\1:#g" \
      "$AIRGAP_DIR/manifests/$m.yaml" >"$r/kind/manifests/$m.yaml"
    chmod 0644 "$r/kind/manifests/$m.yaml"
  done
  # containerd: base runtime spec (ctr oci spec, kind's product_uuid hook, no rlimits)
  ctr oci spec | jq '.hooks.createContainer = [{"path":"/kind/bin/mount-product-files.sh"}] | del(.process.rlimits)' \
    >"$r/etc/containerd/cri-base.json"
  write_containerd_config "$r"
  # iptables: Debian's default (nft) backend, like kube-proxy's and kube-router's images here
  tar -C "$r" --numeric-owner -c . | docker import --change "LABEL $IMAGE_LABEL" \
    --change 'ENV container=docker' \
    --change 'ENTRYPOINT ["/usr/local/bin/entrypoint","/sbin/init"]' \
    - "$NODE_IMAGE-base" >/dev/null
  rm -rf "$r"
  docker image inspect --format '{{.Size}}' "$NODE_IMAGE-base"
}

# containerd config (version 2 schema, containerd 1.6): kind's settings plus
# restrict_oom_score_adj (negative OOM scores are refused on this VM), the local pause
# image, and registry hosts that send every pull to an unused loopback port, so a missing
# image fails fast and no request leaves the machine.
REGISTRY_BLACKHOLE="http://127.0.0.1:1"
write_containerd_config() {
  local r="$1" pause h
  pause="$(k8s_image pause)"
  cat >"$r/etc/containerd/config.toml" <<TOML
# gateway-smoke air-gapped kind node (containerd 1.6, config version 2)
version = 2

[plugins."io.containerd.grpc.v1.cri".containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"
  discard_unpacked_layers = true
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
  base_runtime_spec = "/etc/containerd/cri-base.json"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
    SystemdCgroup = true
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.test-handler]
  runtime_type = "io.containerd.runc.v2"
  base_runtime_spec = "/etc/containerd/cri-base.json"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.test-handler.options]
    SystemdCgroup = true

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$pause"
  tolerate_missing_hugepages_controller = true
  restrict_oom_score_adj = true

# No registry is reachable: every registry resolves to a closed loopback port.
[plugins."io.containerd.grpc.v1.cri".registry]
  config_path = "/etc/containerd/certs.d"
TOML
  # Second net, should a pull ever bypass the hosts config (containerd builds without
  # "_default" support would contact unlisted registries directly): a proxy on the same
  # closed port. Go's proxy logic never proxies loopback, so the hosts entries still go
  # straight to 127.0.0.1:1, and a proxied request needs no DNS lookup.
  mkdir -p "$r/etc/systemd/system/containerd.service.d"
  cat >"$r/etc/systemd/system/containerd.service.d/10-gateway-smoke-airgap.conf" <<UNIT
# gateway-smoke: air-gapped node, no request may leave the machine
[Service]
Environment="HTTP_PROXY=$REGISTRY_BLACKHOLE" "HTTPS_PROXY=$REGISTRY_BLACKHOLE" "http_proxy=$REGISTRY_BLACKHOLE" "https_proxy=$REGISTRY_BLACKHOLE" "NO_PROXY=localhost,127.0.0.1" "no_proxy=localhost,127.0.0.1"
UNIT
  for h in _default docker.io registry.k8s.io k8s.gcr.io gcr.io ghcr.io quay.io public.ecr.aws mcr.microsoft.com registry-1.docker.io; do
    mkdir -p "$r/etc/containerd/certs.d/$h"
    cat >"$r/etc/containerd/certs.d/$h/hosts.toml" <<TOML
# gateway-smoke: air-gapped node; pulls go to a closed loopback port and fail at once.
server = "$REGISTRY_BLACKHOLE"

[host."$REGISTRY_BLACKHOLE"]
  capabilities = ["pull", "resolve"]
TOML
  done
}

# ---------------------------------------------------------------- node image (preload)
build_node_image() {
  local c="gateway-smoke-preload-$$"
  docker rm -f "$c" >/dev/null 2>&1 || true
  docker run -d --name "$c" --privileged --tmpfs /run --tmpfs /tmp \
    -v "$OUT/images.tar:/images.tar:ro" --entrypoint /usr/bin/containerd "$NODE_IMAGE-base" >/dev/null
  trap 'docker rm -f '"$c"' >/dev/null 2>&1 || true' RETURN
  for _ in $(seq 1 60); do docker exec "$c" ctr version >/dev/null 2>&1 && break; sleep 0.5; done
  docker exec "$c" ctr -n k8s.io images import --label=io.cri-containerd.pinned=pinned \
    --all-platforms --no-unpack --digests /images.tar
  docker exec "$c" ctr -n k8s.io images ls -q
  docker stop -t 10 "$c" >/dev/null
  docker commit --change "LABEL $IMAGE_LABEL" \
    --change 'ENV container=docker' \
    --change 'ENTRYPOINT ["/usr/local/bin/entrypoint","/sbin/init"]' \
    --change 'CMD []' \
    "$c" "$NODE_IMAGE" >/dev/null
  docker image inspect --format '{{.Id}} {{.Size}}' "$NODE_IMAGE"
  # drop superseded (now untagged) images of earlier builds; only ours carry the label
  docker image prune -f --filter "label=$IMAGE_LABEL" >/dev/null || true
}

# ------------------------------------------------------------------------ driver
# A rebuilt input invalidates what is assembled from it.
invalidate_downstream() {
  case "$1" in
    go|pause|node-rootfs|base-rootfs)
      rm -f "$STAMPS/images" "$STAMPS/node-base" "$STAMPS/node-image" ;;
    images|node-base) rm -f "$STAMPS/node-image" ;;
  esac
}
# Caches from before the single Go build hold the same pinned programs under one stamp per
# program: take them over rather than recompiling everything (~20 min).
adopt_per_program_stamps() {
  local old=(k8s "$K8S_VERSION" etcd "$ETCD_VERSION" coredns "$COREDNS_VERSION"
    kube-router "$KUBE_ROUTER_MODULE@$KUBE_ROUTER_VERSION" local-path "$LOCAL_PATH_VERSION"
    helm "$HELM_VERSION" kind "$KIND_VERSION") i
  [[ ! -f "$STAMPS/go" && -f "$STAMPS/k8s" ]] || return 0
  for (( i = 0; i < ${#old[@]}; i += 2 )); do
    [[ "$(cat "$STAMPS/${old[i]}" 2>/dev/null)" == "${old[i+1]}" ]] || return 0
  done
  printf '%s' "$GO_KEY" >"$STAMPS/go"
  for (( i = 0; i < ${#old[@]}; i += 2 )); do rm -f "$STAMPS/${old[i]}"; done
  rm -rf "$SRC/k8s" "$SRC/etcd" "$SRC/coredns" "$SRC/kube-router"
  log "took over the Go programs of per-program steps (same versions) as step go"
}
hash_of() { cat "$@" 2>/dev/null | sha256sum | cut -c1-12; }
# run_step NAME : one step with its cache key (scripts_hash and manifests_hash come from main)
run_step() {
  case "$1" in
    go) step go "$GO_KEY" build_go ;;
    pause) step pause "$(hash_of "$AIRGAP_DIR/node/pause.c")" build_pause ;;
    node-rootfs) step node-rootfs "$DEBIAN_SUITE $NODE_PKGS" build_node_rootfs ;;
    base-rootfs) step base-rootfs "$DEBIAN_SUITE $BASE_PKGS" build_base_rootfs ;;
    images) step images "$K8S_VERSION $scripts_hash" build_images ;;
    node-base) step node-base "$K8S_VERSION $scripts_hash $manifests_hash" build_node_base ;;
    node-image) step node-image "$K8S_VERSION $scripts_hash $manifests_hash" build_node_image ;;
    *) die "unknown step $1" ;;
  esac
}
main() {
  local t0; t0=$(now)
  command -v docker >/dev/null && docker info >/dev/null 2>&1 || die "docker is not running: run scripts/airgap/host-prep.sh"
  local scripts_hash manifests_hash
  scripts_hash="$(hash_of "$AIRGAP_DIR/build.sh" "$AIRGAP_DIR/lib.sh")"
  manifests_hash="$(hash_of "$AIRGAP_DIR"/manifests/*.yaml)"
  # drop stamps whose docker images have gone
  docker_image_exists "$NODE_IMAGE-base" || rm -f "$STAMPS/node-base"
  docker_image_exists "$NODE_IMAGE" || rm -f "$STAMPS/node-image"
  docker_image_exists "$BUSYBOX_IMAGE" && docker_image_exists "$KUBE_ROUTER_IMAGE" && [[ -f "$OUT/images.tar" ]] \
    || rm -f "$STAMPS/images"

  adopt_per_program_stamps
  local want=("$@")
  if [[ ${#want[@]} -eq 0 ]]; then
    local before; before="$(ls "$STAMPS" | wc -l)"
    : >"$CACHE/.ran-steps"
    # Debian root file systems download while the Go builds compile
    ( run_step node-rootfs; run_step base-rootfs ) &
    local bg=$!
    run_step go
    run_step pause
    wait "$bg" || die "a Debian root file system step failed (see $LOGS)"
    run_step images
    run_step node-base
    run_step node-image
    local total=$(( $(now) - t0 ))
    if [[ "$before" -eq 0 ]]; then record_timing cold_build_seconds "$total"; fi
    if [[ ! -s "$CACHE/.ran-steps" ]]; then
      record_timing warm_build_seconds "$total"
    fi
    record_timing last_build_seconds "$total"
  else
    local s seen=" "
    for s in "${want[@]}"; do
      # one step builds all Go programs; their former per-program step names still name it
      case "$s" in kind|helm|k8s|etcd|coredns|kube-router|local-path) s=go ;; esac
      [[ "$seen" == *" $s "* ]] && continue
      seen+="$s "
      run_step "$s"
    done
  fi
  log "build finished in $(( $(now) - t0 ))s; node image: $NODE_IMAGE"
}
main "$@"; exit $?
