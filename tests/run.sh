#!/usr/bin/env bash
# The whole test suite: sets up what the tests need, then runs pytest.
#   1. tests/provision.sh: Debian packages of .ci/apt-packages and Docker 28.5 (unpacked from sid into
#      /var/cache/imgviz-tests, never installed into the system); as root only, a no-op when all is there;
#   2. .venv with imgviz and its test extras, when missing or when pyproject.toml changed;
#   3. pytest. Engine-facing tests run on every engine kind (docker20, docker28, docker28-containerd,
#      podman), each a private engine the tests start and stop; IMGVIZ_TEST_ENGINES=docker20,... narrows
#      that. Without root or an engine they skip with the reason, except under CI (CI set): there a
#      missing engine fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/provision.sh
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
stamp=".venv/.imgviz-deps-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -e "$stamp" ]; then
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e '.[test]'
    touch "$stamp"
fi
# -rfEsxX: failures, errors, and every skip and expected failure with its reason (an engine that
# cannot, a known gap), and what passed unexpectedly
exec .venv/bin/python -m pytest -q -rfEsxX "$@"
