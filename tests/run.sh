#!/usr/bin/env bash
# The whole test suite. Creates .venv with imgviz and its test extras when needed, then runs pytest.
# As root with Debian's docker.io installed, engine tests start a private dockerd of their own
# (or use IMGVIZ_TEST_DOCKER_HOST when it is set); without one they skip, except under CI.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
stamp=".venv/.imgviz-deps-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -e "$stamp" ]; then
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e '.[test]'
    touch "$stamp"
fi
exec .venv/bin/python -m pytest -q "$@"
