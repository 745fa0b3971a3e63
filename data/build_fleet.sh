#!/bin/bash
# Build imgviz's demo fleet from Debian packages on the engine named by DOCKER_HOST.
#
#   sudo DOCKER_HOST=unix:///tmp/fleet/sock data/build_fleet.sh
#
# Nothing comes from Docker Hub: the base is a debootstrap rootfs brought in with
# `docker import`, the runtimes are Debian's .debs fetched inside that rootfs, and
# every build and container runs with --network none. The script starts no engine;
# it refuses to run without DOCKER_HOST so the fleet never lands on an engine by
# accident. Run it again and it reuses the debootstrap cache, the imported base
# and the build cache, so a second run takes seconds.
#
# Settings (environment):
#   DOCKER_HOST    engine to build on (required)
#   FLEET_CACHE    where the rootfs and .debs are kept   (/var/cache/imgviz-fleet)
#   FLEET_MIRROR   Debian mirror        (first URIs line of the host's apt sources)
#   FLEET_REIMPORT set to 1 to import the base again even if the tag exists
#   FLEET_DOCKER   the docker client (/usr/bin/docker, 20.10); a newer engine's own client
#                  for its fleet (tests/demo/record.py passes Docker 28.5's, with buildx)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$here/fleet
docker=${FLEET_DOCKER:-/usr/bin/docker}   # Debian's client: it has BuildKit built in
cache=${FLEET_CACHE:-/var/cache/imgviz-fleet}
rootfs=$cache/rootfs
suite=bookworm
# Staged build contexts get this fixed mtime so COPY layers come out byte for
# byte the same on every run and every checkout (2026-01-01T00:00:00Z).
epoch=1767225600

say() { printf '\n==> [%3ds] %s\n' "$SECONDS" "$*"; }
die() { printf 'build_fleet: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (debootstrap and chroot need it)"
[ -n "${DOCKER_HOST:-}" ] || die "set DOCKER_HOST to the engine that should hold the fleet, e.g. unix:///tmp/fleet/sock"
[ -x "$docker" ] || die "$docker not found (apt-get install docker.io)"
command -v debootstrap >/dev/null || die "debootstrap not found (apt-get install debootstrap)"
"$docker" version --format '{{.Server.Version}}' >/dev/null 2>&1 \
    || die "no engine answers at DOCKER_HOST=$DOCKER_HOST"

mirror=${FLEET_MIRROR:-$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)}
mirror=${mirror:-http://deb.debian.org/debian}

stage=$(mktemp -d /tmp/fleet-stage.XXXXXX)
trap 'rm -rf "$stage"' EXIT
started=$SECONDS

say "engine $DOCKER_HOST ($("$docker" version --format '{{.Server.Version}}')), cache $cache, mirror $mirror"

# ---------------------------------------------------------------- helpers

# stage NAME FILE... : copy files (SRC or SRC=DEST) into a fresh context folder.
stage() {
    local name=$1; shift
    local dir=$stage/$name item from to
    rm -rf "$dir"; mkdir -p "$dir"
    for item in "$@"; do
        from=${item%%=*}; to=${item#*=}
        [ "$item" = "$from" ] && to=$(basename "$from")
        mkdir -p "$(dirname "$dir/$to")"
        cp -r "$src/$from" "$dir/$to"
    done
    find "$dir" -exec touch -h -d "@$epoch" {} +
    echo "$dir"
}

# build kit|classic TAG DOCKERFILE CONTEXT [WHAT]   (WHAT: the sources, for the log)
build() {
    local kind=$1 tag=$2 dockerfile=$3 context=$4 what=${5:-${3#"$here"/}}
    say "build $tag ($kind builder) from $what"
    if [ "$kind" = kit ]; then
        DOCKER_BUILDKIT=1 "$docker" build --network none --progress plain \
            -t "$tag" -f "$dockerfile" "$context"
    else
        DOCKER_BUILDKIT=0 "$docker" build --network none \
            -t "$tag" -f "$dockerfile" "$context"
    fi
}

have_image() { "$docker" image inspect "$1" >/dev/null 2>&1; }
have_container() { "$docker" container inspect "$1" >/dev/null 2>&1; }

# ---------------------------------------------------------------- 1. rootfs

if [ -f "$rootfs/.fleet-debootstrap-done" ]; then
    say "debootstrap: reusing $rootfs"
else
    say "debootstrap --variant=minbase $suite into $rootfs"
    rm -rf "$rootfs"; mkdir -p "$cache"
    debootstrap --variant=minbase "$suite" "$rootfs" "$mirror"
    touch "$rootfs/.fleet-debootstrap-done"
fi

# ---------------------------------------------------------------- 2. .debs

# fetch_debs NAME PACKAGE... : download into $cache/debs/NAME exactly the .debs
# that the minbase rootfs lacks for PACKAGE (resolved by the chroot's own apt).
fetch_debs() {
    local name=$1; shift
    local out=$cache/debs/$name
    if [ -f "$out/.done" ]; then
        say "debs for $name: reusing $(ls "$out"/*.deb | wc -l) files in $out"
        return
    fi
    say "debs for $name: apt-get install --download-only $* (inside the chroot)"
    chroot "$rootfs" apt-get update
    rm -rf "$rootfs/tmp/fleet-debs"; mkdir -p "$rootfs/tmp/fleet-debs/partial"
    chroot "$rootfs" apt-get install -y --no-install-recommends --download-only \
        -o Dir::Cache::archives=/tmp/fleet-debs "$@"
    rm -rf "$out"; mkdir -p "$out"
    mv "$rootfs"/tmp/fleet-debs/*.deb "$out"/
    rm -rf "$rootfs/tmp/fleet-debs"
    touch "$out/.done"
    echo "$(ls "$out"/*.deb | wc -l) .debs, $(du -sh "$out" | cut -f1)"
}
fetch_debs nodejs nodejs
fetch_debs python python3

# ---------------------------------------------------------------- 3. base

if have_image workshop/debian:bookworm && [ "${FLEET_REIMPORT:-0}" != 1 ]; then
    say "base: workshop/debian:bookworm exists, not imported again (FLEET_REIMPORT=1 forces it)"
else
    say "base: tar the rootfs (without apt lists, caches, docs, man pages, locales) | docker import"
    chroot "$rootfs" apt-get clean
    # --sort=name and --numeric-owner make the tar, and so the diff_id, repeatable.
    tar -C "$rootfs" -c --numeric-owner --sort=name \
        --exclude=./.fleet-debootstrap-done \
        --exclude=./etc/resolv.conf --exclude=./etc/hostname \
        --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' --exclude='./tmp/*' \
        --exclude='./var/lib/apt/lists/*' --exclude='./var/cache/apt/*' \
        --exclude='./var/cache/debconf/*-old' --exclude='./var/log/*' \
        --exclude='./usr/share/doc/*' --exclude='./usr/share/man/*' \
        --exclude='./usr/share/info/*' --exclude='./usr/share/locale/*' \
        . \
    | "$docker" import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["bash"]' \
        --message "debootstrap --variant=minbase $suite, trimmed" \
        - workshop/debian:bookworm
fi
# A second name for the same image.
"$docker" tag workshop/debian:bookworm workshop/debian:12

# ---------------------------------------------------------------- 4. runtimes

build kit workshop/node:18 "$src/node/Dockerfile" "$cache/debs/nodejs"
build kit workshop/python:3.11 "$src/python/Dockerfile" "$cache/debs/python"

# ---------------------------------------------------------------- 5. web-ping

# The chapter's flow: build v1, edit app.js, build v2 with the same Dockerfile,
# then the reordered Dockerfile (with the edited app.js).
ctx=$(stage web-ping-v1 web-ping/Dockerfile web-ping/v1/app.js=app.js)
build kit workshop/web-ping:v1 "$ctx/Dockerfile" "$ctx" "web-ping/Dockerfile + v1/app.js"
ctx=$(stage web-ping-v2 web-ping/Dockerfile web-ping/v2/app.js=app.js)
build kit workshop/web-ping:v2 "$ctx/Dockerfile" "$ctx" "web-ping/Dockerfile + v2/app.js"
ctx=$(stage web-ping-opt web-ping/Dockerfile.optimized=Dockerfile web-ping/v2/app.js=app.js)
build kit workshop/web-ping:optimized "$ctx/Dockerfile" "$ctx" "web-ping/Dockerfile.optimized + v2/app.js"
"$docker" tag workshop/web-ping:optimized workshop/web-ping:latest

# Settings only (ENV + LABEL): 0 B of its own.
ctx=$(stage web-ping-staging web-ping-staging/Dockerfile)
build kit workshop/web-ping:staging "$ctx/Dockerfile" "$ctx" "web-ping-staging/Dockerfile"

# ---------------------------------------------------------------- 6. more apps

# The same fleet-targets.list lands in both: one diff_id under two parents.
ctx=$(stage httpcheck httpcheck/Dockerfile httpcheck/httpcheck.py shared/fleet-targets.list)
build kit workshop/httpcheck:1.0 "$ctx/Dockerfile" "$ctx" "httpcheck/"
ctx=$(stage pingall pingall/Dockerfile pingall/pingall.js shared/fleet-targets.list)
build kit workshop/pingall:1.0 "$ctx/Dockerfile" "$ctx" "pingall/"

# Classic builder; first revision, then the current one under the same tag, so
# the first image is left dangling (<none>:<none>).
ctx=$(stage static-rev1 static-site/Dockerfile static-site/site-rev1=site)
build classic workshop/static-site:latest "$ctx/Dockerfile" "$ctx" "static-site/ with site-rev1/"
ctx=$(stage static-rev2 static-site/Dockerfile static-site/site)
build classic workshop/static-site:latest "$ctx/Dockerfile" "$ctx" "static-site/ with site/"

# ---------------------------------------------------------------- 7. containers

# run_stopped NAME ARGS... : run once (detached), let it work a moment, stop it.
run_stopped() {
    local name=$1; shift
    if have_container "$name"; then say "container $name exists, kept"; return; fi
    say "container $name: docker run --network none $*"
    "$docker" run -d --network none --name "$name" "$@" >/dev/null
    sleep 7   # long enough for at least one request at INTERVAL=5000
    "$docker" stop -t 2 "$name" >/dev/null
    "$docker" logs --tail 3 "$name" 2>&1 | sed 's/^/    /'
}

run_stopped web-ping-google -e TARGET=google.com workshop/web-ping:v1
run_stopped web-ping-docker -e TARGET=docker.com -e INTERVAL=5000 workshop/web-ping:optimized

if have_container web-ping-created; then
    say "container web-ping-created exists, kept"
else
    say "container web-ping-created: docker create (never started)"
    "$docker" create --network none --name web-ping-created \
        -e TARGET=example.org -e METHOD=GET -e INTERVAL=10000 workshop/web-ping:v2 >/dev/null
fi

# Containers that wrote something: their writable layers have a size.
if have_container httpcheck-report; then
    say "container httpcheck-report exists, kept"
else
    say "container httpcheck-report: httpcheck once, JSON report in the container"
    "$docker" run --network none --name httpcheck-report \
        -e CHECK_REPORT=/var/lib/httpcheck/report.json -e CHECK_TIMEOUT=1 \
        workshop/httpcheck:1.0 || true   # exit 1: no host answers without a network
fi
if have_container scratch-writer; then
    say "container scratch-writer exists, kept"
else
    say "container scratch-writer: writes 5 MiB into its writable layer, then exits"
    "$docker" run --network none --name scratch-writer workshop/debian:bookworm \
        bash -c 'head -c 5242880 /dev/urandom > /var/tmp/scratch.bin && ls -l /var/tmp/scratch.bin'
fi

# ---------------------------------------------------------------- summary

say "fleet built in $((SECONDS - started)) s"
"$docker" image ls --filter reference='workshop/*' \
    --format 'table {{.Repository}}:{{.Tag}}\t{{.ID}}\t{{.Size}}'
"$docker" image ls --filter dangling=true --format 'dangling {{.ID}} {{.Size}}'
"$docker" ps -a --size --format 'table {{.Names}}\t{{.Image}}\t{{.Status}}\t{{.Size}}'
"$docker" system df
