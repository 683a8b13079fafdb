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
# A venv made before the CLI moved out of backbone loses the script when the old package is
# uninstalled after the new one is in; reinstalling the CLI package brings it back.
[[ -x .venv/bin/incidentctl ]] || uv sync --frozen --quiet --reinstall-package incidentctl
