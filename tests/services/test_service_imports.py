"""A service process loads none of the operator's tooling: typer, rich and httpx belong to
incidentctl (libs/cli), which no service imports (docs/architecture.md).

Each service's main module is imported, and its app built, in a fresh interpreter where those
packages cannot be imported at all: any import of them by platform code fails the run. (structlog
probes for rich and does without it, which is why rich is blocked rather than looked for.)"""

from __future__ import annotations

import subprocess
import sys

import pytest

from contracts.topics import SERVICES

OPERATOR_ONLY = ("typer", "rich", "httpx", "incidentctl")

PROBE = """
import asyncio, importlib, sys
from importlib.abc import MetaPathFinder

BLOCKED = set(sys.argv[2].split(","))

class Blocked(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ImportError(f"{name} is operator tooling, not for a service process")
        return None

sys.meta_path.insert(0, Blocked())
service = sys.argv[1]
main = importlib.import_module(f"{service}.main")
async def build():  # the app, not started: no broker or database is needed
    main.create()

asyncio.run(build())
loaded = sorted(m for m in sys.modules if m.partition(".")[0] in BLOCKED)
assert not loaded, loaded
print("ok")
"""


@pytest.mark.parametrize("service", SERVICES)
def test_service_runs_without_typer_rich_or_httpx(service: str) -> None:
    probe = subprocess.run(
        [sys.executable, "-c", PROBE, service, ",".join(OPERATOR_ONLY)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert probe.returncode == 0, probe.stderr[-3000:]
    assert "ok" in probe.stdout.splitlines()


def test_probe_catches_an_operator_import() -> None:
    """The probe fails a module that imports typer: incidentctl itself, not blocked by name here."""
    imports_typer = PROBE.replace("    main.create()", "    import incidentctl.cli")
    probe = subprocess.run(
        [sys.executable, "-c", imports_typer, "sla", "typer,rich,httpx"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert probe.returncode != 0
    assert "operator tooling" in probe.stderr
