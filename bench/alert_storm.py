"""Alert storm to notification: the platform against Prometheus Alertmanager 0.25, in one run
(not a test: it prints figures).

    set -a && . .local/infra.env && set +a
    uv run python bench/alert_storm.py [--quick] [--replicas N] [--alerts 20000 --fingerprints 1000]
                                       [--profile DIR]

The same storm (``--alerts`` firing alerts over ``--fingerprints`` label sets, one group per
``instance``, posted in batches of ``--batch`` with ``--in-flight`` requests at once, shuffled)
goes to:

1. Alertmanager (the Debian package ``prometheus-alertmanager``, started here on loopback with
   clustering off), on ``POST /api/v2/alerts``, grouping by ``instance`` with ``group_wait``
   ``--am-group-wait``, notifying a webhook receiver in this script.
2. The platform as `make up` runs it: every service its own process (``incidentctl serve``),
   ``--replicas`` of each, with the settings it ships with (only the egress policy opened to
   loopback, as ``NOTIFICATIONS_EGRESS_ALLOW=127.0.0.1/32 make up`` does), over the real Kafka
   and PostgreSQL. Set up through the APIs: the first tenant (directory's bootstrap), an
   Alertmanager integration, a signed webhook channel to a receiver in this script and a rule
   routing ``incident.created.v1`` to it. Alerts go to ``POST /v1/alerts/alertmanager`` of the
   intake replicas in turn.

A group is notified when the receiver has its first notification. For each system it prints
alerts/s accepted (first request sent to last answered), the time from the storm's start until
50/99/100 % of the groups were notified, and the ratios; for the platform also the time until
99 % of the groups reached each stage (accepted: the client's first 2xx for one of its alerts;
incident committed: ``triage.incidents.created_at``; delivery row written:
``notifications.deliveries.created_at``; sent: ``sent_at``; the database's timestamps are the
writing transaction's start), and that there is exactly one incident and one delivery per group.

``--profile DIR``: py-spy records every service process during the storm (``DIR/<process>.folded``,
collapsed stacks: a flame graph for speedscope or inferno) and the script writes the hottest
frames of each to ``DIR/summary.txt``. Runs in a database and topic prefix of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from aiohttp import web

from backbone import storm
from backbone.faults import Fleet
from backbone.testing import Stack, bench_stack, eventually, free_port, stop_process
from contracts.topics import SERVICES

ALERTMANAGER = "prometheus-alertmanager"
MARKS = (0.5, 0.99, 1.0)
STAGES = ("accepted", "incident committed", "delivery row written", "sent", "notified")


@dataclass
class Result:
    name: str
    accepted_s: float
    alerts: int
    groups: int
    notified: list[float]  # seconds from the storm's start, one per group notified
    stages: dict[str, list[float]] = field(default_factory=dict)
    checks: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.alerts / self.accepted_s

    def until(self, share: float, times: Sequence[float] | None = None) -> float | None:
        """Seconds until ``share`` of the groups got there (None: not that many did)."""
        done = sorted(self.notified if times is None else times)
        need = max(1, math.ceil(share * self.groups))
        return done[need - 1] if len(done) >= need else None


# --------------------------------------------------------------------------- Alertmanager


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
            print(f"--- output of {args[0]} …\n{tail}", file=sys.stderr)
            raise
        finally:
            stop_process(proc, within_s=15)


async def bench_alertmanager(args: argparse.Namespace, bodies: list[list[storm.Alert]]) -> Result:
    binary = shutil.which(ALERTMANAGER) or f"/usr/bin/{ALERTMANAGER}"
    first: dict[str, float] = {}
    receiver_port, am_port = free_port(), free_port()

    async def hook(request: web.Request) -> web.Response:
        first.setdefault((await request.json())["groupKey"], time.time())
        return web.Response(text="ok")

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
    # Alertmanager's API takes postable alerts: no status field.
    am_bodies = [[{k: v for k, v in a.items() if k != "status"} for a in b] for b in bodies]
    app = web.Application()
    app.router.add_post("/hook", hook)
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
        async with storm.listening(app, receiver_port), httpx.AsyncClient(timeout=60) as http:
            with process(cmd):
                base = f"http://127.0.0.1:{am_port}"
                ready = f"{base}/-/ready"
                await eventually(lambda: storm.answers(http.get(ready), 503), within=90, what="Alertmanager")
                gate = asyncio.Semaphore(args.in_flight)

                async def one(body: list[storm.Alert]) -> None:
                    async with gate:
                        r = await http.post(f"{base}/api/v2/alerts", json=body)
                    assert r.status_code < 300, r.text

                started = time.time()
                await asyncio.gather(*(one(b) for b in am_bodies))
                accepted_s = time.time() - started
                await _wait(lambda: len(first) >= args.fingerprints, args.timeout)
    notified = [t - started for t in first.values()]
    return Result("Alertmanager 0.25", accepted_s, args.alerts, args.fingerprints, notified)


async def _wait(done: Any, within_s: float) -> None:
    deadline = time.monotonic() + within_s
    while not done() and time.monotonic() < deadline:  # noqa: ASYNC110 - the receiver sets no event
        await asyncio.sleep(0.02)


# --------------------------------------------------------------------------- the platform


@contextlib.asynccontextmanager
async def profiled(fleet: Fleet, out: Path | None) -> AsyncIterator[None]:
    """py-spy on every service process while the block runs (nothing when ``out`` is None)."""
    if out is None:
        yield
        return
    spies = spy_on(fleet, out)
    await asyncio.sleep(2)  # py-spy attaches
    try:
        yield
    finally:
        for s in spies:
            s.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
        for s in spies:
            try:
                s.wait(30)
            except subprocess.TimeoutExpired:
                s.kill()
        summarize(out)


def spy_on(fleet: Fleet, out: Path) -> list[subprocess.Popen[bytes]]:
    out.mkdir(parents=True, exist_ok=True)
    spy = [shutil.which("py-spy") or ""] if shutil.which("py-spy") else ["uvx", "py-spy"]
    spies = []
    for p in fleet.processes.values():
        args = [*spy, "record", "--pid", str(p.pid), "--format", "raw", "--rate", "100"]
        args += ["--output", str(out / f"{p.name}.folded")]
        spies.append(subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    return spies


OURS = ("backbone", "contracts", *SERVICES)
IDLE = ("Condition.wait (threading", "Event.wait (threading", "select (selectors")


def summarize(out: Path, top: int = 15) -> None:
    """Per process, to ``summary.txt``: the samples' leaf frames by package (where the CPU goes)
    and the platform's own functions by inclusive share (which code path spends it); samples
    are 1/100 s of a thread running (waits left out)."""
    lines = []
    for folded in sorted(out.glob("*.folded")):
        leaf: Counter[str] = Counter()
        ours: Counter[str] = Counter()
        total = 0
        for line in folded.read_text().splitlines():
            stack, _, n = line.rpartition(" ")
            if not stack or not n.isdigit():
                continue
            frames = [f.rpartition(":")[0] + ")" if f.endswith(")") else f for f in stack.split(";")]
            if frames[-1].startswith(IDLE):
                continue  # a thread waiting (py-spy counts some waits as active)
            total += int(n)
            leaf[_package(frames[-1])] += int(n)
            for f in {f for f in frames if _package(f) in OURS}:
                ours[f] += int(n)
        if not total:
            continue
        lines.append(f"== {folded.stem}: {total} samples")
        lines += [f"  leaf in {p:<22}{100 * n / total:5.1f}%" for p, n in leaf.most_common(top)]
        lines += [f"  incl {100 * n / total:5.1f}%  {f}" for f, n in ours.most_common(top)]
    (out / "summary.txt").write_text("\n".join(lines) + "\n")
    print(f"profiles in {out} (summary.txt)")


def _package(frame: str) -> str:
    """``func (package/module.py:12)`` -> ``package`` (the standard library: its module)."""
    where = frame.rpartition(" (")[2]
    return where.split("/")[0] if "/" in where else where.split(".")[0]


async def bench_platform(args: argparse.Namespace, stack: Stack, bodies: list[list[storm.Alert]]) -> Result:
    root = Path(tempfile.mkdtemp(prefix="alert-storm-"))
    replicas = {s: args.replicas for s in SERVICES}
    fleet = storm.fleet(
        stack,
        root,
        replicas,
        # What `make up` gives: INFO JSON logs, one INTAKE_PUBLIC_FORM_SECRET, the egress opened
        # to the receiver on loopback (NOTIFICATIONS_EGRESS_ALLOW=127.0.0.1/32 make up).
        settings={
            "notifications": {"EGRESS_ALLOW": "127.0.0.1/32"},
            "intake": {"REPLICAS": str(args.replicas)},
        },
        LOG_LEVEL="INFO",
        LOG_JSON="true",
    )
    shipped(fleet)
    receiver = storm.WebhookReceiver()
    try:
        await storm.started(fleet)
        async with receiver.running(), httpx.AsyncClient(timeout=60) as http:
            url = {name: p.url for name, p in fleet.processes.items()}
            bootstrap = {"slug": "bench", "name": "Bench"}
            boot = await http.post(f"{url['directory-1']}/v1/bootstrap", json=bootstrap)
            assert boot.status_code == 201, boot.text
            route = await storm.route_to(
                http,
                url["directory-1"],
                url["notifications-1"],
                url["intake-1"],
                boot.json()["api_key"],
                receiver.url,
            )
            await asyncio.sleep(args.settle)
            intakes = [p.url for p in fleet.replicas("intake")]
            sender = storm.Sender(intakes, route.alert_token, http, in_flight=args.in_flight)
            async with profiled(fleet, args.profile):
                await sender.send(bodies)
                await _wait(lambda: len(receiver.first_at) >= args.fingerprints, args.timeout)
                await asyncio.sleep(2)  # a late second copy would arrive now
            assert sender.first_sent is not None
            started = sender.first_sent
            result = Result(
                f"platform ({args.replicas}× each service)",
                sender.accepted_s,
                args.alerts,
                args.fingerprints,
                [t - started for t in receiver.first_at.values()],
            )
            result.stages = {"accepted": [t - started for t in sender.accepted_at.values()]}
            result.stages |= await stage_times(stack, route.tenant_id, started)
            result.stages["notified"] = result.notified
            result.checks = await storm.problems(
                stack.database_url, route.tenant_id, receiver, args.fingerprints
            )
            result.checks += [f"storm: {f}" for f in sender.failures]
    except BaseException:
        print(f"service logs kept in {root / 'log'}", file=sys.stderr)
        fleet.stop_all()
        raise
    fleet.stop_all()
    shutil.rmtree(root, ignore_errors=True)
    return result


# The secrets `make up` hands each service; any other setting of a service is its default here.
SECRETS = {"DIRECTORY_SIGNING_KEY", "NOTIFICATIONS_SECRET_KEY", "INTAKE_PUBLIC_FORM_SECRET"}


def shipped(fleet: Fleet) -> None:
    """Leave out of the services' environment any setting this shell would give them: the
    figures are those of the shipped defaults."""
    prefixes = (*(f"{s.upper()}_" for s in SERVICES), "OTEL_")
    dropped = sorted(k for k in fleet.env if k.startswith(prefixes) and k not in SECRETS)
    for k in dropped:
        del fleet.env[k]
    if dropped:
        print(f"left out of the services' environment (defaults instead): {', '.join(dropped)}")


def _dsn(stack: Stack) -> str:
    return stack.database_url.replace("+asyncpg", "")


async def stage_times(stack: Stack, tenant: str, started: float) -> dict[str, list[float]]:
    conn = await asyncpg.connect(_dsn(stack))
    try:
        incidents = await conn.fetch(
            "SELECT extract(epoch FROM created_at) AS t FROM triage.incidents WHERE tenant_id = $1", tenant
        )
        rows = await conn.fetch(
            "SELECT extract(epoch FROM created_at) AS w, extract(epoch FROM sent_at) AS s "
            "FROM notifications.deliveries WHERE tenant_id = $1",
            tenant,
        )
    finally:
        await conn.close()
    return {
        "incident committed": [float(r["t"]) - started for r in incidents],
        "delivery row written": [float(r["w"]) - started for r in rows],
        "sent": [float(r["s"]) - started for r in rows if r["s"] is not None],
    }


# --------------------------------------------------------------------------- the report


def _s(value: float | None) -> str:
    return f"{value:.2f}s" if value is not None else "—"


def report(am: Result | None, platform: Result) -> None:
    results = [r for r in (am, platform) if r is not None]
    head = f"{'system':<30}{'alerts/s':>10}" + "".join(f"{f'{int(m * 100)}% notified':>15}" for m in MARKS)
    print(head + "\n" + "-" * len(head))
    for r in results:
        print(f"{r.name:<30}{r.rate:>10,.0f}" + "".join(f"{_s(r.until(m)):>15}" for m in MARKS))
    if am is not None:
        ratio = platform.rate / am.rate
        print(f"\nratio platform / Alertmanager, alerts/s accepted: {ratio:.2f} (≥ 1 is the aim)")
        for m in MARKS:
            a, p = am.until(m), platform.until(m)
            if a is not None and p is not None:
                what = f"time to {int(m * 100):>3}% notified"
                print(f"ratio platform / Alertmanager, {what}: {p / a:.1f}× (≤ 1 is the aim)")
    print(f"\nplatform, time until 99 % of the {platform.groups:,} groups reached each stage:")
    for stage in STAGES:
        times = platform.stages.get(stage, [])
        print(f"  {stage:<22}{_s(platform.until(0.99, times)):>9}   ({len(times):,} reached it)")
    verdict = "; ".join(platform.checks) or (
        f"exactly one incident and one delivery per group ({platform.groups:,} each), each notified once"
    )
    print(f"\ncheck: {verdict}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--alerts", type=int, default=20_000)
    parser.add_argument("--fingerprints", type=int, default=1_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--in-flight", type=int, default=8)
    parser.add_argument("--replicas", type=int, default=1, help="processes of each service")
    parser.add_argument("--quick", action="store_true", help="2,000 alerts over 100 fingerprints")
    parser.add_argument("--profile", type=Path, help="py-spy every service process into this directory")
    parser.add_argument("--am-group-wait", default="0s", help="Alertmanager's group_wait (its default: 30s)")
    parser.add_argument("--no-alertmanager", action="store_true", help="the platform only")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds between setup and the storm")
    parser.add_argument("--timeout", type=float, default=300.0, help="give up waiting for groups after this")
    args = parser.parse_args()
    if args.quick:
        args.alerts, args.fingerprints = 2_000, 100
    bodies = storm.batches(args.alerts, args.fingerprints, args.batch)
    print(
        f"== alert storm: {args.alerts:,} alerts over {args.fingerprints:,} groups, batches of {args.batch}, "
        f"{args.in_flight} in flight; {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}"
    )
    am = None if args.no_alertmanager else await bench_alertmanager(args, bodies)
    async with bench_stack(*SERVICES) as stack:
        platform = await bench_platform(args, stack, bodies)
        print(f"(load average after: {os.getloadavg()[0]:.1f})\n")
        report(am, platform)  # before the scratch database is dropped, whatever that meets


if __name__ == "__main__":
    asyncio.run(main())
