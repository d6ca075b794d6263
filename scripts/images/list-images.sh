#!/usr/bin/env bash
# Prints the local image references the cluster needs, one per line, for `kind load docker-image`
# and for checking that every node has them. Computed from the sources (no docker needed), so it
# names exactly what scripts/images/build-images.sh builds from this checkout.
#
# Usage: scripts/images/list-images.sh [--all] [--only NAME[,NAME...]] [--format lines|json|tsv] [--check]
#   (default)        the images pods run: mock llm-proxy litellm postgres redis probe (not base)
#   --all            also gateway-smoke/base:bookworm
#   --only a,b       just these names
#   --format lines   "<ref>" per line (default)
#   --format json    {"mock":"gateway-smoke/mock:<hash>", ...}
#   --format tsv     "<name>\t<ref>\t<image id or ->\t<size bytes or ->" per line (reads docker)
#   --check          exit 1 (listing them on stderr) when any of the images is not in local docker
# Sourcing scripts/images/lib.sh gives the same as shell functions: gs_image_ref NAME.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

all=0 check=0 format=lines only=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --all) all=1; shift ;;
    --only) [[ $# -ge 2 ]] || { echo "list-images: --only needs a name" >&2; exit 2; }; IFS=', ' read -r -a more <<<"$2"; only+=("${more[@]}"); shift 2 ;;
    --only=*) IFS=', ' read -r -a more <<<"${1#--only=}"; only+=("${more[@]}"); shift ;;
    --format) [[ $# -ge 2 ]] || { echo "list-images: --format needs lines|json|tsv" >&2; exit 2; }; format="$2"; shift 2 ;;
    --format=*) format="${1#--format=}"; shift ;;
    --json) format=json; shift ;;
    --check) check=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "list-images: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
case "$format" in lines|json|tsv) ;; *) echo "list-images: --format must be lines, json or tsv" >&2; exit 2 ;; esac

if [[ ${#only[@]} -gt 0 ]]; then names=("${only[@]}")
elif [[ $all -eq 1 ]]; then read -r -a names <<<"$(gs_image_names)"
else read -r -a names <<<"$(gs_cluster_image_names)"
fi

refs=()
for n in "${names[@]}"; do refs+=("$(gs_image_ref "$n")"); done

case "$format" in
  lines) printf '%s\n' "${refs[@]}" ;;
  json)
    out="{"
    for i in "${!names[@]}"; do
      [[ $i -gt 0 ]] && out+=","
      out+="\"${names[$i]}\":\"${refs[$i]}\""
    done
    printf '%s}\n' "$out" ;;
  tsv)
    for i in "${!names[@]}"; do
      meta="$(docker image inspect -f '{{.Id}}	{{.Size}}' "${refs[$i]}" 2>/dev/null)" || meta="$(printf -- '-\t-')"
      printf '%s\t%s\t%s\n' "${names[$i]}" "${refs[$i]}" "$meta"
    done ;;
esac

if [[ $check -eq 1 ]]; then
  missing=()
  for r in "${refs[@]}"; do docker image inspect "$r" >/dev/null 2>&1 || missing+=("$r"); done
  if [[ ${#missing[@]} -gt 0 ]]; then
    printf 'list-images: not in local docker: %s\n' "${missing[@]}" >&2
    echo "list-images: build them with: bash scripts/images/build-images.sh" >&2
    exit 1
  fi
fi
