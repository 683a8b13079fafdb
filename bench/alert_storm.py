"""Alert storm: the platform against Prometheus Alertmanager 0.25, in one run (not a test: it
prints figures).

    source .local/infra.env && uv run python bench/alert_storm.py [--quick] [--alerts 20000 ...]

The same storm (``--alerts`` firing alerts over ``--fingerprints`` distinct label sets, posted
in batches of ``--batch`` with ``--in-flight`` requests at once, in a shuffled order) goes to:

1. Alertmanager (the Debian package ``prometheus-alertmanager``, started here on loopback with
   clustering off), on ``POST /api/v2/alerts``, grouping by ``instance`` (one group per
   fingerprint) with ``group_wait`` ``--am-group-wait`` (the alerts started in the past, so
   Alertmanager flushes new groups at once anyway), notifying a webhook receiver in this
   script. A group has "produced" when the receiver has its first notification.
2. The platform: intake and triage, each its own process (uvicorn, as ``incidentctl serve``
   runs them), over the real Kafka and PostgreSQL, on ``POST /v1/alerts/alertmanager`` (the
   webhook body). A group has "produced" when triage has committed its incident.

For each it prints alerts/s accepted (first request sent to last answered) and the time from
the storm's start until 50 %, 99 % and 100 % of the groups produced, then the ratios. It runs
in a database and topic prefix of its own, removed afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import insert
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from backbone.db import Database
from backbone.testing import Stack, bench_stack, count_rows, free_port, stop_process, unique
from contracts.events import token_sha256
from intake.adapters.orm import integrations
from triage.adapters.orm import incidents

ALERTMANAGER = "prometheus-alertmanager"
MARKS = (0.5, 0.99, 1.0)


@dataclass
class Result:
    name: str
    accepted_s: float  # first request sent to last answered
    alerts: int
    groups: int
    reached: dict[float, float] = field(default_factory=dict)  # share of groups -> seconds

    @property
    def rate(self) -> float:
        return self.alerts / self.accepted_s


def storm(alerts: int, fingerprints: int, batch: int, seed: int = 4) -> list[list[dict[str, Any]]]:
    """The alerts in batches; the same for both systems. Labels only: each system computes its
    own fingerprint (Alertmanager's label hash, intake's when none is sent)."""
    order = [i % fingerprints for i in range(alerts)]
    random.Random(seed).shuffle(order)
    return [
        [
            {
                "labels": {"alertname": "Storm", "instance": f"host-{n:05d}", "severity": "warning"},
                "annotations": {"summary": f"storm on host-{n:05d}"},
                "startsAt": "2025-01-01T00:00:00Z",
            }
            for n in order[start : start + batch]
        ]
        for start in range(0, alerts, batch)
    ]


async def send_all(
    http: httpx.AsyncClient, url: str, bodies: list[Any], in_flight: int, headers: dict[str, str]
) -> float:
    gate = asyncio.Semaphore(in_flight)

    async def one(body: Any) -> None:
        async with gate:
            r = await http.post(url, json=body, headers=headers)
        if r.status_code >= 300:
            raise RuntimeError(f"{url} answered {r.status_code}: {r.text[:300]}")

    started = time.perf_counter()
    await asyncio.gather(*(one(b) for b in bodies))
    return time.perf_counter() - started


async def watch(
    started: float, total: int, count: Callable[[], Any], reached: dict[float, float], give_up_s: float
) -> None:
    """Record when the produced count crosses each mark."""
    deadline = time.perf_counter() + give_up_s
    while len(reached) < len(MARKS) and time.perf_counter() < deadline:
        n = await count()
        now = time.perf_counter() - started
        for mark in MARKS:
            if mark not in reached and n >= mark * total:
                reached[mark] = now
        await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def in_process(app: Any, port: int) -> AsyncIterator[None]:
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
        await asyncio.sleep(0.02)
    try:
        yield
    finally:
        server.should_exit = True
        await task


@contextlib.contextmanager
def process(args: list[str], env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """A child process; its output goes to a temporary file, shown if the benchmark fails."""
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            yield proc
        except BaseException:
            log.seek(0)
            tail = log.read().decode(errors="replace")[-3000:]
            print(f"--- output of {' '.join(args[:4])} …\n{tail}", file=sys.stderr)
            raise
        finally:
            stop_process(proc, within_s=15)


async def until_up(http: httpx.AsyncClient, url: str, what: str, within_s: float = 90) -> None:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.TransportError):
            if (await http.get(url)).status_code == 200:
                return
        await asyncio.sleep(0.2)
    raise RuntimeError(f"{what} did not come up at {url}")


async def bench_alertmanager(args: argparse.Namespace, bodies: list[Any], groups: int) -> Result:
    binary = shutil.which(ALERTMANAGER) or f"/usr/bin/{ALERTMANAGER}"
    first: dict[str, float] = {}
    receiver_port, am_port = free_port(), free_port()

    async def webhook(request: Request) -> Response:
        body = await request.json()
        first.setdefault(body["groupKey"], time.perf_counter())
        return Response(status_code=200)

    config = {
        "route": {
            "receiver": "bench",
            "group_by": ["instance"],
            "group_wait": args.am_group_wait,
            "group_interval": "5m",
            "repeat_interval": "4h",
        },
        "receivers": [
            {"name": "bench", "webhook_configs": [{"url": f"http://127.0.0.1:{receiver_port}/hook"}]}
        ],
    }
    receiver = Starlette(routes=[Route("/hook", webhook, methods=["POST"])])
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "am.yml").write_text(json.dumps(config))
        cmd = [
            binary,
            f"--config.file={tmp}/am.yml",
            f"--storage.path={tmp}/data",
            f"--web.listen-address=127.0.0.1:{am_port}",
            "--cluster.listen-address=",
            "--log.level=warn",
        ]
        async with in_process(receiver, receiver_port), httpx.AsyncClient(timeout=60) as http:
            with process(cmd):
                base = f"http://127.0.0.1:{am_port}"
                await until_up(http, f"{base}/-/ready", "Alertmanager")
                started = time.perf_counter()
                reached: dict[float, float] = {}

                async def count() -> int:
                    return len(first)

                watcher = asyncio.create_task(watch(started, groups, count, reached, args.timeout))
                try:
                    accepted_s = await send_all(http, f"{base}/api/v2/alerts", bodies, args.in_flight, {})
                except BaseException:
                    watcher.cancel()
                    raise
                await watcher
    return Result("Alertmanager 0.25", accepted_s, args.alerts, groups, reached)


async def bench_platform(
    args: argparse.Namespace, stack: Stack, bodies: list[list[dict[str, Any]]], groups: int
) -> Result:
    tenant, token = uuid.uuid4(), unique("bench-") + uuid.uuid4().hex
    db_intake = Database.connect(stack.database_url, "intake", pool_size=1)
    async with db_intake.sessions() as s, s.begin():
        await s.execute(
            insert(integrations).values(
                id=uuid.uuid4(),
                tenant_id=tenant,
                kind="alertmanager",
                name="bench",
                token_sha256=token_sha256(token),
            )
        )
    await db_intake.dispose()
    db = Database.connect(stack.database_url, "triage", pool_size=1)
    env = stack.environ(LOG_LEVEL="WARNING")
    intake_port, triage_port = free_port(), free_port()

    def serve(service: str, port: int, workers: int = 1) -> list[str]:
        return [
            sys.executable,
            "-m",
            "uvicorn",
            f"{service}.main:create",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
            "--workers",
            str(workers),
        ]

    webhooks = [
        {
            "version": "4",
            "status": "firing",
            "receiver": "bench",
            "alerts": [{**a, "status": "firing"} for a in b],
        }
        for b in bodies
    ]

    async def count() -> int:
        return await count_rows(db, incidents, tenant)

    try:
        with (
            process(serve("intake", intake_port, args.intake_workers), env),
            process(serve("triage", triage_port), env),
        ):
            async with httpx.AsyncClient(timeout=60) as http:
                for port, name in ((intake_port, "intake"), (triage_port, "triage")):
                    await until_up(http, f"http://127.0.0.1:{port}/healthz", name)
                await asyncio.sleep(args.settle)  # consumers join their group before the storm
                started = time.perf_counter()
                reached: dict[float, float] = {}
                watcher = asyncio.create_task(watch(started, groups, count, reached, args.timeout))
                try:
                    accepted_s = await send_all(
                        http,
                        f"http://127.0.0.1:{intake_port}/v1/alerts/alertmanager",
                        webhooks,
                        args.in_flight,
                        {"Authorization": f"Bearer {token}"},
                    )
                except BaseException:
                    watcher.cancel()
                    raise
                await watcher
    finally:
        await db.dispose()
    return Result(
        f"Platform ({args.intake_workers}× intake, triage)", accepted_s, args.alerts, groups, reached
    )


def report(results: list[Result]) -> None:
    head = f"{'system':<28}{'alerts/s':>12}" + "".join(f"{f'{int(m * 100)}% groups':>14}" for m in MARKS)
    print(head)
    print("-" * len(head))
    for r in results:
        cells = "".join(f"{(f'{r.reached[m]:.2f}s' if m in r.reached else 'timeout'):>14}" for m in MARKS)
        print(f"{r.name:<28}{r.rate:>12,.0f}{cells}")
    am, platform = results
    print()
    print(
        f"ratio platform / Alertmanager, alerts/s accepted : {platform.rate / am.rate:.2f} (higher is better)"
    )
    for m in MARKS:
        if m in am.reached and m in platform.reached:
            print(
                f"ratio Alertmanager / platform, time to {int(m * 100):>3}% groups : "
                f"{am.reached[m] / platform.reached[m]:.2f} (above 1: the platform is faster)"
            )


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--alerts", type=int, default=20_000)
    parser.add_argument("--fingerprints", type=int, default=1_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--in-flight", type=int, default=8)
    parser.add_argument(
        "--am-group-wait", default="0s", help="Alertmanager's group_wait (its default is 30s)"
    )
    parser.add_argument(
        "--settle", type=float, default=3.0, help="seconds for consumers to join before the storm"
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="give up waiting for groups after this")
    parser.add_argument(
        "--intake-workers",
        type=int,
        default=2,
        help="intake processes (replicas) behind the port (uvicorn --workers)",
    )
    parser.add_argument("--quick", action="store_true", help="2,000 alerts over 100 fingerprints")
    args = parser.parse_args()
    if args.quick:
        args.alerts, args.fingerprints = 2_000, 100
    bodies = storm(args.alerts, args.fingerprints, args.batch)

    async with bench_stack("intake", "triage") as stack:
        print(
            f"== alert storm: {args.alerts:,} alerts over {args.fingerprints:,} fingerprints, batches of "
            f"{args.batch}, {args.in_flight} in flight; {os.cpu_count()} cores"
        )
        am = await bench_alertmanager(args, bodies, args.fingerprints)
        platform = await bench_platform(args, stack, bodies, args.fingerprints)
        print()
        report([am, platform])


if __name__ == "__main__":
    asyncio.run(main())
