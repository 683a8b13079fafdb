"""The independent verifier both the interop and the integration tests run: a Go program on the
Go checksum database's packages (tlogcheck/, golang.org/x/mod/sumdb/note and sumdb/tlog),
fetched from the Go module proxy and built once per test session."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

SOURCE = Path(__file__).parent / "tlogcheck"


class GoVerifier:
    def __init__(self, binary: Path) -> None:
        self.binary = binary

    def __call__(self, request: dict[str, Any]) -> dict[str, Any]:
        """The verifier's verdicts on one request (see tlogcheck/main.go for the shapes)."""
        done = subprocess.run(
            [self.binary], input=json.dumps(request), capture_output=True, text=True, timeout=60, check=True
        )
        result: dict[str, Any] = json.loads(done.stdout)
        return result


@pytest.fixture(scope="session")
def go_verifier(tmp_path_factory: pytest.TempPathFactory) -> GoVerifier:
    go = shutil.which("go")
    assert go, "Go is needed (deploy/local/tools.sh installs it)"
    out = tmp_path_factory.mktemp("tlogcheck") / "tlogcheck"
    env = {**os.environ, "GOFLAGS": "-mod=mod", "CGO_ENABLED": "0"}
    subprocess.run([go, "build", "-o", str(out), "."], cwd=SOURCE, env=env, check=True, timeout=600)
    return GoVerifier(out)
