#!/bin/bash
# Record what a real engine rebuilds in each cascade case: build old/, then
# new/ right after it, with BuildKit and with the classic builder, and write
# what happened to every step of new/Dockerfile.
#
#   DOCKER_HOST=unix:///tmp/fcas/sock data/cascade/record_cascade.sh [CASE...]
#
# The engine must hold workshop/node:18 (e.g. `docker save workshop/node:18 |
# docker load` from the fleet engine). Before each case the script empties the
# build cache and removes the images of earlier cases, so new/ can only reuse
# what old/ left behind. Use a throwaway engine: the script runs
# `docker builder prune -af` on it.
#
# Per case and builder it writes
#   observed-buildkit.log / observed-classic.log   the client's output for new/
#   observed-buildkit.tsv / observed-classic.tsv   one row per Dockerfile step:
#       step, instruction, outcome
#   where outcome is "base" (the FROM line), "cached" (reused), "built"
#   (executed again) or, under
#   BuildKit only, "no-vertex" (ENV, LABEL, CMD, ... are folded into the image
#   config and never show up as a step of their own).
set -euo pipefail

# the cases ship inside the package (imgviz/data/cascade); this script and its README stay in data/
here=$(cd "$(dirname "$0")/../../imgviz/data/cascade" && pwd)
docker=/usr/bin/docker
die() { printf 'record_cascade: %s\n' "$*" >&2; exit 1; }

[ -n "${DOCKER_HOST:-}" ] || die "set DOCKER_HOST to a throwaway engine (its build cache is pruned)"
"$docker" image inspect workshop/node:18 >/dev/null 2>&1 \
    || die "workshop/node:18 is missing on $DOCKER_HOST; load it from the fleet engine first"

cases=("$@")
if [ ${#cases[@]} = 0 ]; then
    for dir in "$here"/*/; do [ -f "$dir/old/Dockerfile" ] && cases+=("$(basename "$dir")"); done
fi
version=$("$docker" version --format '{{.Server.Version}}')

# Dockerfile steps as "N<TAB>instruction", continuation lines joined, comments dropped.
steps() {
    awk '
        /^[[:space:]]*#/ { next }
        { line = line $0 }
        /\\[[:space:]]*$/ { sub(/\\[[:space:]]*$/, "", line); next }
        { gsub(/[[:space:]]+/, " ", line); sub(/^ /, "", line); sub(/ $/, "", line)
          if (line != "") { n++; print n "\t" line }
          line = "" }
    ' "$1"
}

forget() {   # leave only workshop/node:18 (and what it is made of)
    local tag
    for tag in $("$docker" image ls --format '{{.Repository}}:{{.Tag}}' 'cascade/*'); do
        "$docker" image rm "$tag" >/dev/null
    done
    "$docker" image prune -f >/dev/null
    "$docker" builder prune -af >/dev/null
}

# summary KIND DOCKERFILE LOG -> TSV on stdout
summary() {
    local kind=$1 dockerfile=$2 log=$3
    printf '# %s builder, dockerd %s: new/Dockerfile built right after old/Dockerfile\n' "$kind" "$version"
    printf 'step\tinstruction\toutcome\n'
    if [ "$kind" = buildkit ]; then
        # "#7 [2/3] WORKDIR /web-ping" ... "#7 CACHED" or "#7 DONE 0.1s"
        steps "$dockerfile" | awk -F '\t' -v logfile="$log" '
            BEGIN {
                while ((getline l < logfile) > 0) {
                    if (match(l, /^#[0-9]+ \[[0-9]+\/[0-9]+\] /)) {
                        id = substr(l, 2, index(l, " ") - 2)
                        text = substr(l, RLENGTH + 1)
                        sub(/^FROM docker\.io\/library\//, "FROM ", text)
                        sub(/^FROM docker\.io\//, "FROM ", text)
                        label[id] = text
                    } else if (l ~ /^#[0-9]+ CACHED/) {
                        id = substr(l, 2, index(l, " ") - 2); cached[label[id]] = 1
                    } else if (l ~ /^#[0-9]+ DONE/) {
                        id = substr(l, 2, index(l, " ") - 2); done[label[id]] = 1
                    }
                }
            }
            {
                key = $2
                if (key ~ /^FROM /) outcome = "base"
                else if (key in cached) outcome = "cached"
                else if (key in done) outcome = "built"
                else outcome = "no-vertex"
                print $1 "\t" $2 "\t" outcome
            }'
    else
        # "Step 3/7 : ENV METHOD=..." then " ---> Using cache" when reused
        awk -v OFS='\t' '
            /^Step [0-9]+\/[0-9]+ : / {
                if (n) print n, text, outcome
                split($2, part, "/"); n = part[1]
                text = $0; sub(/^Step [0-9]+\/[0-9]+ : /, "", text)
                outcome = (text ~ /^FROM /) ? "base" : "built"
                next
            }
            /^ ---> Using cache/ { outcome = "cached" }
            END { if (n) print n, text, outcome }
        ' "$log"
    fi
}

for case in "${cases[@]}"; do
    dir=$here/$case
    [ -f "$dir/old/Dockerfile" ] && [ -f "$dir/new/Dockerfile" ] || die "$case: no old/Dockerfile and new/Dockerfile"
    for kind in buildkit classic; do
        [ "$kind" = buildkit ] && flag=1 || flag=0
        printf '==> %s (%s)\n' "$case" "$kind"
        forget
        [ "$flag" = 1 ] && progress=(--progress plain) || progress=()
        DOCKER_BUILDKIT=$flag "$docker" build --network none "${progress[@]}" \
            -t "cascade/$case:old" "$dir/old" >/dev/null 2>&1 \
            || die "$case: old/ does not build with $kind"
        DOCKER_BUILDKIT=$flag "$docker" build --network none "${progress[@]}" \
            -t "cascade/$case:new" "$dir/new" > "$dir/observed-$kind.log" 2>&1 \
            || die "$case: new/ does not build with $kind (see $dir/observed-$kind.log)"
        summary "$kind" "$dir/new/Dockerfile" "$dir/observed-$kind.log" > "$dir/observed-$kind.tsv"
        grep -v '^#' "$dir/observed-$kind.tsv" | column -t -s "$(printf '\t')" | sed 's/^/    /'
    done
done
forget
