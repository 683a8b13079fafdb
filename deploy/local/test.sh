#!/usr/bin/env bash
# The test command (`make test`): dependencies, infrastructure, lint, types, then every test
# over the real Kafka and PostgreSQL. Extra arguments go to pytest.
set -euo pipefail
SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
cd "$SCRIPT_DIR/../.."

bash "$SCRIPT_DIR/deps.sh"
bash "$SCRIPT_DIR/tools.sh"
if [[ -z ${DATABASE_URL:-} || -z ${KAFKA_BOOTSTRAP_SERVERS:-} ]]; then
    bash "$SCRIPT_DIR/infra.sh" up
    # shellcheck source=/dev/null
    source .local/infra.env
fi
echo "==> test: ruff"
uv run --frozen ruff check .
uv run --frozen ruff format --check .
echo "==> test: mypy"
uv run --frozen mypy
echo "==> test: import contracts"
# Services independent, domain pure, layers one way ([tool.importlinter] in pyproject.toml).
uv run --frozen lint-imports
echo "==> test: pytest"
# pytest exits 5 when it collected nothing; that fails here like any other non-zero code.
exec uv run --frozen pytest "$@"
