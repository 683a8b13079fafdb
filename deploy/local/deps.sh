#!/usr/bin/env bash
# Python dependencies: uv (from PyPI if missing) and the locked workspace in .venv.
set -euo pipefail
cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.."

if ! command -v uv >/dev/null 2>&1; then
    echo "==> deps: installing uv from PyPI"
    python3 -m pip install --quiet --disable-pip-version-check uv
fi
echo "==> deps: uv sync (locked)"
uv sync --frozen --quiet
