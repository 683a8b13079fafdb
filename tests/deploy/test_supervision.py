"""The local platform supervises its services (docs/adr/0003-process-manager.md).

`deploy/local/platform.sh start` runs the real service commands under the real supervisord
configuration it writes for `make up` (here two services, intake and triage, in a state
directory of the test's own, on a database and topic prefix of their own, each service under
its own database role). A service killed with SIGKILL comes back with a new pid while the other
keeps its pid and keeps answering; `restart` restarts one; `stop` leaves no process behind.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from backbone.roles import drop_service_roles
from backbone.testing import (
    REPO_ROOT,
    Infra,
    Stack,
    create_database,
    drop_database,
    eventually,
    free_port,
    migrate_all,
    unique,
)

pytestmark = pytest.mark.integration

PLATFORM = REPO_ROOT / "deploy/local/platform.sh"
SERVICES = ("intake", "triage")


class Platform:
    def __init__(self, env: dict[str, str], ports: dict[str, int]) -> None:
        self.env, self.ports = env, ports

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", str(PLATFORM), *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=check,
            timeout=240,
        )

    def pid(self, service: str) -> int:
        conf = Path(self.env["PLATFORM_STATE_DIR"]) / "supervisor/supervisord.conf"
        out = subprocess.run(
            [str(REPO_ROOT / ".venv/bin/supervisorctl"), "-c", str(conf), "pid", service],
            capture_output=True,
            text=True,
        ).stdout.strip()
        return int(out) if out.isdigit() else 0

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture(scope="module")
async def platform(infra: Infra) -> AsyncIterator[Platform]:
    name = unique("sup_")
    prefix = unique("t") + "_"
    url = await create_database(infra.database_url, name)
    stack = Stack(url, infra.kafka_bootstrap_servers, f"{name}.")
    # A short path: unix socket paths are limited to about 100 bytes.
    state = Path(tempfile.mkdtemp(prefix="sup-", dir="/tmp"))
    ports = {service: free_port() for service in SERVICES}
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap_servers,
        "KAFKA_TOPIC_PREFIX": stack.topic_prefix,
        "AUTH_PUBLIC_KEY": stack.keypair[1],
        "DATABASE_ROLE_PREFIX": prefix,
        "PLATFORM_STATE_DIR": str(state),
        "PLATFORM_SERVICES": " ".join(SERVICES),
        "LOG_JSON": "false",
        **{f"{service.upper()}_PORT": str(port) for service, port in ports.items()},
    }
    p = Platform(env, ports)
    try:
        await migrate_all(url, SERVICES)
        await stack.create_topics()
        started = p.run("start", check=False)
        assert started.returncode == 0, started.stdout + started.stderr
        yield p
    finally:
        p.run("stop", check=False)
        with contextlib.suppress(Exception):
            await stack.delete_topics()
        await drop_database(infra.database_url, name)
        for service in SERVICES:
            await drop_service_roles(infra.database_url, service, prefix)
        shutil.rmtree(state, ignore_errors=True)


@contextlib.contextmanager
def answering(url: str) -> Iterator[list[int]]:
    """Polls ``url``/healthz in a thread while the block runs; yields the status codes seen."""
    import threading

    codes: list[int] = []
    done = threading.Event()

    def poll() -> None:
        with httpx.Client(timeout=2) as client:
            while not done.is_set():
                try:
                    codes.append(client.get(f"{url}/healthz").status_code)
                except httpx.HTTPError:
                    codes.append(0)
                done.wait(0.1)

    thread = threading.Thread(target=poll)
    thread.start()
    try:
        yield codes
    finally:
        done.set()
        thread.join()


async def test_a_killed_service_comes_back_and_the_others_keep_serving(platform: Platform) -> None:
    intake_pid, triage_pid = platform.pid("intake"), platform.pid("triage")
    assert intake_pid and triage_pid

    with answering(platform.url("intake")) as intake_codes:
        os.kill(triage_pid, signal.SIGKILL)

        async def restarted() -> int | None:
            pid = platform.pid("triage")
            if not pid or pid == triage_pid:
                return None
            try:
                async with httpx.AsyncClient(timeout=2) as client:
                    ready = await client.get(f"{platform.url('triage')}/readyz")
            except httpx.HTTPError:
                return None
            return pid if ready.status_code == 200 else None

        new_pid = await eventually(restarted, within=90, interval=0.5, what="triage to come back")

    assert new_pid != triage_pid and not _alive(triage_pid)
    assert platform.pid("intake") == intake_pid, "intake was restarted along with triage"
    assert intake_codes and set(intake_codes) == {200}, intake_codes

    status = platform.run("status").stdout
    rows = {line.split()[0]: line.split() for line in status.splitlines() if line.split()}
    assert rows["triage"][1:3] == ["RUNNING", str(new_pid)], status
    assert rows["triage"][4] == "1" and rows["intake"][4] == "0", status
    assert re.search(r"triage .*SIGKILL", status), status


def test_restart_restarts_one_service(platform: Platform) -> None:
    intake_pid, triage_pid = platform.pid("intake"), platform.pid("triage")
    platform.run("restart", "intake")  # returns once intake answers /readyz again
    assert platform.pid("intake") not in (0, intake_pid)
    assert platform.pid("triage") == triage_pid
    assert httpx.get(f"{platform.url('intake')}/readyz", timeout=2).status_code == 200


def test_stop_leaves_nothing_behind(platform: Platform) -> None:
    pids = [platform.pid(service) for service in SERVICES]
    supervisord = int((Path(platform.env["PLATFORM_STATE_DIR"]) / "supervisor/supervisord.pid").read_text())
    assert all(pids)
    platform.run("stop")  # returns once supervisord has stopped every service and exited
    assert not any(_alive(pid) for pid in (*pids, supervisord))
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{platform.url('intake')}/healthz", timeout=2)
