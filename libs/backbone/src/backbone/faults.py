"""Fault injection over a private copy of the real stack (tests/faults, bench/faults.py).

``PrivateInfra`` starts a PostgreSQL cluster and a Kafka broker of its own, in a temporary
directory on free ports, with the same scripts as the shared ones (deploy/local/postgres.sh
and kafka.sh), so restarting them disturbs nobody else. ``Fleet`` runs the services as real
OS processes (``incidentctl serve``), so ``kill -9`` is a real crash. The injectors below
(restarts, ``statement_timeout``, connection exhaustion, the outbox relay's lock holder) act
on those. What the suite does with them: tests/faults/README.md.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

from backbone.db import advisory_key
from backbone.testing import REPO_ROOT, free_port

SCRIPTS = REPO_ROOT / "deploy" / "local"
# Settings that point a script or service at the shared infrastructure; never inherited here.
SHARED_ADDRESSES = ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "KAFKA_TOPIC_PREFIX")


def console_script(name: str) -> str:
    """A console script of this virtual environment (``incidentctl``)."""
    here = Path(sys.executable).parent / name
    return str(here) if here.exists() else shutil.which(name) or name


async def run(args: Sequence[str], env: dict[str, str], *, within_s: float) -> str:
    proc = await asyncio.create_subprocess_exec(
        *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), within_s)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise RuntimeError(f"{' '.join(args)} took longer than {within_s}s") from None
    text = out.decode(errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}):\n{text[-3000:]}")
    return text


@dataclass
class PrivateInfra:
    """PostgreSQL and Kafka of this run only: restart them at will, remove them afterwards."""

    root: Path
    pg_port: int = field(default_factory=free_port)
    kafka_port: int = field(default_factory=free_port)
    controller_port: int = field(default_factory=free_port)
    max_connections: int = 150

    @property
    def database_url(self) -> str:
        return f"postgresql+asyncpg://incident:incident@127.0.0.1:{self.pg_port}/incident"

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def log_dir(self) -> Path:
        return self.root / "log"

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in SHARED_ADDRESSES}
        env.update(
            PG_PORT=str(self.pg_port),
            PG_BASE_DIR=str(self.root / "pg"),
            PG_LOG_DIR=str(self.log_dir),
            PG_MAX_CONNECTIONS=str(self.max_connections),
            KAFKA_PORT=str(self.kafka_port),
            KAFKA_CONTROLLER_PORT=str(self.controller_port),
            KAFKA_STATE_DIR=str(self.root / "kafka"),
            KAFKA_LOG_DIR=str(self.log_dir),
        )
        return env

    async def _script(self, script: str, command: str) -> None:
        await run(["bash", str(SCRIPTS / script), command], self._env(), within_s=150)

    async def start(self) -> None:
        # As root the cluster belongs to the postgres user, which must reach its directory.
        self.root.chmod(0o755)
        await asyncio.gather(self._script("postgres.sh", "up"), self._script("kafka.sh", "up"))

    async def restart_postgres(self) -> None:
        """``pg_ctl stop -m fast`` (open sessions rolled back, clients cut off), then start."""
        await self._script("postgres.sh", "stop")
        await self._script("postgres.sh", "up")

    async def restart_kafka(self) -> None:
        """A controlled broker shutdown (SIGTERM), then start on the same data."""
        await self._script("kafka.sh", "stop")
        await self._script("kafka.sh", "up")

    async def stop(self) -> None:
        for script in ("kafka.sh", "postgres.sh"):
            with contextlib.suppress(Exception):
                await self._script(script, "stop")

    async def superuser(self) -> asyncpg.Connection:
        """The cluster's superuser over its socket (outside max_connections' ordinary slots)."""
        conn: asyncpg.Connection = await asyncpg.connect(
            host=str(self.root / "pg"), port=self.pg_port, user="postgres", database="incident", timeout=10
        )
        return conn

    def postgres_log_count(self, needle: str) -> int:
        """How often the server logged ``needle`` (evidence that an injected fault bit)."""
        path = self.log_dir / "postgres.log"
        return path.read_text(errors="replace").count(needle) if path.exists() else 0


@dataclass
class ServiceProcess:
    name: str  # e.g. "intake-2"
    service: str
    port: int
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    kills: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None and self.proc.poll() is None else None


def platform_env(infra: PrivateInfra, keys_dir: Path) -> dict[str, str]:
    """What deploy/local/platform.sh gives every service, pointed at the private infrastructure."""
    return service_env(infra.database_url, infra.bootstrap_servers, keys_dir)


def service_env(
    database_url: str, bootstrap_servers: str, keys_dir: Path, topic_prefix: str = ""
) -> dict[str, str]:
    """What deploy/local/platform.sh gives every service, pointed at this database and broker
    (``keys_dir``: directory's signing key pair, as `incidentctl keys generate` writes it)."""
    env = {k: v for k, v in os.environ.items() if k not in SHARED_ADDRESSES}
    env.update(
        DATABASE_URL=database_url,
        KAFKA_BOOTSTRAP_SERVERS=bootstrap_servers,
        KAFKA_TOPIC_PREFIX=topic_prefix,
        DIRECTORY_SIGNING_KEY=str(keys_dir / "signing-key.pem"),
        AUTH_PUBLIC_KEY=str(keys_dir / "public-key.pem"),
        NOTIFICATIONS_SECRET_KEY=base64.urlsafe_b64encode(os.urandom(32)).decode(),
        INTAKE_PUBLIC_FORM_SECRET=secrets.token_urlsafe(32),
        LOG_JSON="false",
        LOG_LEVEL="WARNING",
    )
    return env


class Fleet:
    """Service replicas as OS processes, each on its own port (``<SERVICE>_PORT``)."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env = env
        self.log_dir = log_dir
        self.processes: dict[str, ServiceProcess] = {}
        self._settings: dict[str, dict[str, str]] = {}

    def add(self, service: str, replica: int = 1, **settings: str) -> ServiceProcess:
        name = f"{service}-{replica}"
        p = ServiceProcess(name, service, free_port(), self.log_dir / f"{name}.log")
        self.processes[name] = p
        prefix = service.upper() + "_"
        self._settings[name] = {prefix + "PORT": str(p.port), **{prefix + k: v for k, v in settings.items()}}
        return p

    def replicas(self, service: str) -> list[ServiceProcess]:
        return [p for p in self.processes.values() if p.service == service]

    def start(self, p: ServiceProcess) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with p.log.open("ab") as out:
            out.write(f"\n=== start at {time.strftime('%H:%M:%S')} ===\n".encode())
            out.flush()
            p.proc = subprocess.Popen(
                [console_script("incidentctl"), "serve", p.service],
                env={**self.env, **self._settings[p.name]},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C of the test run is not delivered to it twice
            )

    def kill(self, p: ServiceProcess) -> None:
        """``kill -9``: no shutdown hook runs, open transactions and sockets are cut."""
        if p.proc is not None and p.proc.poll() is None:
            os.kill(p.proc.pid, signal.SIGKILL)
            p.proc.wait(timeout=10)
            p.kills += 1

    async def wait_ready(self, p: ServiceProcess, within_s: float = 90) -> None:
        deadline = time.monotonic() + within_s
        async with httpx.AsyncClient(timeout=3) as http:
            while time.monotonic() < deadline:
                if p.proc is not None and p.proc.poll() is not None:
                    raise RuntimeError(f"{p.name} exited ({p.proc.returncode}); see {p.log}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(f"{p.url}/readyz")).status_code == 200:
                        return
                await asyncio.sleep(0.3)
        raise RuntimeError(f"{p.name} not ready within {within_s}s; see {p.log}")

    async def restart(self, p: ServiceProcess, within_s: float = 90) -> None:
        """Crash and start again at once, as a supervisor would."""
        self.kill(p)
        self.start(p)
        await self.wait_ready(p, within_s)

    def stop_all(self) -> None:
        running = [p for p in self.processes.values() if p.pid is not None]
        for p in running:
            with contextlib.suppress(ProcessLookupError):
                os.kill(p.pid or 0, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for p in running:
            assert p.proc is not None
            try:
                p.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.proc.kill()
                p.proc.wait()

    def tail(self, p: ServiceProcess, chars: int = 3000) -> str:
        return p.log.read_text(errors="replace")[-chars:] if p.log.exists() else ""


# --------------------------------------------------------------------------- injectors


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    fd_dir = Path(f"/proc/{pid}/fd")
    with contextlib.suppress(OSError):
        for fd in fd_dir.iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
    return inodes


def owner_of_local_port(port: int, candidates: Sequence[ServiceProcess]) -> ServiceProcess | None:
    """Which process has a TCP socket bound to local ``port`` (/proc, no extra tools)."""
    wanted = f"{port:04X}"
    for p in candidates:
        if p.pid is None:
            continue
        inodes = _socket_inodes(p.pid)
        for table in ("tcp", "tcp6"):
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{p.pid}/net/{table}").read_text().splitlines()[1:]:
                    cols = line.split()
                    if cols[1].rsplit(":", 1)[1] == wanted and cols[9] in inodes:
                        return p
    return None


async def relay_lock_holder(
    su: asyncpg.Connection, schema: str, replicas: Sequence[ServiceProcess], within_s: float = 10
) -> ServiceProcess | None:
    """The replica holding ``schema``'s outbox relay lock (backbone.outbox: a transaction-scoped
    advisory lock held while a batch is published), caught in the act by polling pg_locks."""
    key = advisory_key(f"outbox:{schema}") & 0xFFFFFFFFFFFFFFFF
    classid, objid = key >> 32, key & 0xFFFFFFFF
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        port = await su.fetchval(
            "SELECT a.client_port FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.classid::bigint = $1 "
            "AND l.objid::bigint = $2 AND l.objsubid = 1",
            classid,
            objid,
        )
        if port is not None:
            owner = owner_of_local_port(port, replicas)
            if owner is not None:
                return owner
        await asyncio.sleep(0.005)
    return None


@contextlib.asynccontextmanager
async def statement_timeout(su: asyncpg.Connection, value: str) -> AsyncIterator[None]:
    """Every session's statements cancelled past ``value`` (ALTER SYSTEM + reload reaches open
    sessions too), as a misconfigured or overloaded server would."""
    await su.execute(f"ALTER SYSTEM SET statement_timeout = '{value}'")
    await su.execute("SELECT pg_reload_conf()")
    try:
        yield
    finally:
        await su.execute("SET statement_timeout = 0")
        await su.execute("ALTER SYSTEM RESET statement_timeout")
        await su.execute("SELECT pg_reload_conf()")


@contextlib.asynccontextmanager
async def connections_exhausted(
    infra: PrivateInfra, su: asyncpg.Connection, schemas: Sequence[str]
) -> AsyncIterator[int]:
    """Every ordinary connection slot taken by this test, and the services' own connections
    cut, so they must reconnect into a full server; yields how many slots were taken."""
    held: list[asyncpg.Connection] = []

    async def fill() -> None:
        while True:
            try:
                held.append(
                    await asyncpg.connect(
                        host="127.0.0.1",
                        port=infra.pg_port,
                        user="incident",
                        password="incident",
                        database="incident",
                        timeout=5,
                    )
                )
            except (asyncpg.TooManyConnectionsError, asyncpg.CannotConnectNowError, OSError):
                return

    try:
        await fill()
        await su.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ANY($1)",
            list(schemas),
        )
        await fill()
        yield len(held)
    finally:
        await asyncio.gather(*(c.close(timeout=5) for c in held), return_exceptions=True)


@contextlib.asynccontextmanager
async def private_root(prefix: str = "faults-", *, keep: bool = False) -> AsyncIterator[Path]:
    """A temporary directory for the private stack; removed afterwards unless ``keep``."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield root
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
