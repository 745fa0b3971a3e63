#!/usr/bin/env bash
# Set up what the test suite needs on a Debian machine (run by tests/run.sh and .ci/run):
#   1. Debian packages listed in .ci/apt-packages, installed with apt-get when missing;
#   2. Docker Engine 28.5 from Debian sid, downloaded with a private apt configuration (own sources
#      list, lists and cache folders) and unpacked with dpkg-deb -x into one folder of a cache
#      outside the checkout ($IMGVIZ_TEST_CACHE, default /var/cache/imgviz-tests/docker28).
#      Nothing is installed into the system; the system's apt state is never changed by step 2.
# Idempotent: when everything is there, a second run only checks (well under a second).
# Without root it changes nothing and says what it skips; engine tests then skip (fail under CI).
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE=${IMGVIZ_TEST_CACHE:-/var/cache/imgviz-tests}
D28="$CACHE/docker28"
# The versions tried on these machines (../shared/NOTES.md). When sid has moved on, what sid has
# is downloaded instead and the script says so; $D28/VERSIONS records what was unpacked.
PINS=(docker.io=28.5.2+dfsg4-5 containerd=2.1.9+ds1-5 docker-cli=28.5.2+dfsg4-5 docker-buildx=0.29.1+ds1-4)
export DEBIAN_FRONTEND=noninteractive

say() { echo "provision: $*"; }

if [ "$(id -u)" != 0 ]; then
    say "not root: skipping the Debian packages of .ci/apt-packages and Docker 28.5 (engine tests will skip)"
    exit 0
fi

# -- 1. Debian packages -------------------------------------------------------------------------
missing=()
while read -r pkg _; do
    case "$pkg" in ''|\#*) continue ;; esac
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done < .ci/apt-packages
if [ ${#missing[@]} -gt 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# -- 2. Docker 28.5 from sid, unpacked into the cache ------------------------------------------
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9  # two test runs at once share one download
want="pins: ${PINS[*]}"
if [ -x "$D28/usr/sbin/dockerd" ] && [ -f "$D28/VERSIONS" ] && [ "$(head -n1 "$D28/VERSIONS")" = "$want" ]; then
    exit 0
fi

sources=/etc/apt/sources.list.d/debian.sources
[ -r "$sources" ] || { say "no $sources: cannot make a sid sources list for Docker 28.5"; exit 1; }
apt_dir="$CACHE/apt-sid"
mkdir -p "$apt_dir/parts" "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
# The machine's own Debian mirror and keyring, suite sid; the security stanza has no sid.
awk 'BEGIN { RS = ""; ORS = "\n\n" } /debian-security/ { next } { print }' "$sources" |
    sed -e 's/^Suites:.*/Suites: sid/' >"$apt_dir/parts/sid.sources"
apt_opts=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$apt_dir/parts"
          -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
          -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null
          -o APT::Sandbox::User=root)
say "fetching the package lists of Debian sid (private apt folders in $apt_dir)"
apt-get -qq "${apt_opts[@]}" update

dl=$(mktemp -d "$CACHE/dl.XXXXXX")
trap 'rm -rf "$dl" "$D28.new"' EXIT
got=()
for pin in "${PINS[@]}"; do
    name=${pin%%=*}
    if (cd "$dl" && apt-get -qq "${apt_opts[@]}" download "$pin" >/dev/null 2>&1); then
        got+=("$pin")
    else
        have=$(apt-cache "${apt_opts[@]}" policy "$name" | awk '/Candidate:/ { print $2 }')
        [ -n "$have" ] && [ "$have" != "(none)" ] || { say "sid has no $name"; exit 1; }
        say "sid no longer has $pin; using $name=$have"
        (cd "$dl" && apt-get -qq "${apt_opts[@]}" download "$name=$have" >/dev/null)
        got+=("$name=$have")
    fi
done
rm -rf "$D28.new"
mkdir -p "$D28.new"
for deb in "$dl"/*.deb; do
    dpkg-deb -x "$deb" "$D28.new"
done
# dockerd looks for containerd, its shims and runc on PATH: bookworm's runc 1.1 is used
# (sid's containerd accepts it); docker-init comes from tini-static only if --init is asked for.
mkdir -p "$D28.new/cli-plugins"
cp "$D28.new/usr/libexec/docker/cli-plugins/docker-buildx" "$D28.new/cli-plugins/"
{ echo "$want"; echo "unpacked: ${got[*]}"; } >"$D28.new/VERSIONS"
"$D28.new/usr/sbin/dockerd" --version >/dev/null
rm -rf "$D28"
mv "$D28.new" "$D28"
say "Docker 28.5 unpacked into $D28 (${got[*]})"
