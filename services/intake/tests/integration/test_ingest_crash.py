"""Nothing answered 2xx is lost when intake dies before handling it
(docs/adr/0013-durable-fast-ingest.md): an intake process answers a storm while intake's
dedup table is locked (so the answers cannot have waited for deduplication), is killed
(SIGKILL) while its consumer's transaction waits on that lock, and a new intake then opens
exactly one incident per group from what the broker kept. Its own module: no other intake of
the session may be consuming intake.alerts meanwhile."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text

from backbone.db import Database
from backbone.testing import Stack, eventually, free_port, outbox_events, serving, stop_process
from contracts.events import IncidentReported
from intake.adapters.orm import dedup_keys
from intake.config import Settings
from intake.main import create

from .conftest import settled

pytestmark = pytest.mark.integration

URL = "/v1/alerts/alertmanager"

GROUPS, REPEATS, BATCH = 40, 5, 50


def storm() -> list[list[dict[str, Any]]]:
    alerts = [
        {"status": "firing", "fingerprint": f"fp{n}", "labels": {"alertname": "Crash", "instance": f"h{n}"}}
        for _ in range(REPEATS)
        for n in range(GROUPS)
    ]
    return [alerts[i : i + BATCH] for i in range(0, len(alerts), BATCH)]


def start_intake(stack: Stack, port: int, log: Path) -> subprocess.Popen[bytes]:
    """An intake process of its own (to be killed), as `incidentctl serve intake` runs one."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "intake.main:create", "--factory"]
            + ["--port", str(port), "--log-level", "warning"],
            env=stack.environ(LOG_JSON="false", INTAKE_ALERT_REPEAT_EVENT_INTERVAL_S="3600"),
            stdout=out,
            stderr=subprocess.STDOUT,
        )


async def test_alerts_answered_2xx_survive_intake_killed_before_handling_them(
    stack: Stack, tmp_path: Path, integration_token: Callable[[uuid.UUID], Awaitable[str]]
) -> None:
    settings = stack.settings(Settings, log_level="WARNING", alert_repeat_event_interval_s=3600)
    db = Database.connect(stack.database_url, "intake", pool_size=3)
    tenant = uuid.uuid4()
    token = await integration_token(tenant)
    try:
        port = free_port()
        async with db.sessions() as lock:
            # Writers of the dedup table wait; readers (the token lookup) do not.
            await lock.execute(text(f"LOCK TABLE {dedup_keys.fullname} IN EXCLUSIVE MODE"))
            proc = start_intake(stack, port, tmp_path / "intake.log")
            try:
                async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:

                    async def up() -> bool:
                        try:
                            return (await http.get("/healthz")).status_code == 200
                        except httpx.TransportError:
                            return False

                    await eventually(up, within=60, what="the intake process to serve")
                    headers = {"Authorization": f"Bearer {token}"}
                    answers = await asyncio.gather(
                        *(
                            http.post(
                                URL, json={"version": "4", "status": "firing", "alerts": b}, headers=headers
                            )
                            for b in storm()
                        )
                    )
                assert [r.status_code for r in answers] == [202] * len(answers), answers[0].text

                async def waiting() -> int:
                    # The consumer's transaction, mid-way: its dedup upsert waits on the lock.
                    async with db.sessions() as s:
                        return int(
                            await s.scalar(
                                text(
                                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                                    " AND wait_event_type = 'Lock' AND query ILIKE '%dedup_keys%'"
                                )
                            )
                            or 0
                        )

                await eventually(waiting, within=60, what="intake's consumer to wait on the locked table")
                proc.kill()  # no shutdown: nothing it had begun is committed, no offset either
                proc.wait(10)
            finally:
                stop_process(proc, 10)
            await lock.rollback()

        # The killed member leaves the group only when its session times out: then a rebalance.
        async with serving(create(settings)):
            await settled(stack, settings, within=90)
        async with db.sessions() as s:
            keys, total = (
                await s.execute(
                    select(func.count(), func.sum(dedup_keys.c.alert_count)).where(
                        dedup_keys.c.tenant_id == tenant
                    )
                )
            ).one()
        reported = await outbox_events(db, event_type=IncidentReported.event_type, tenant_id=tenant)
        assert (keys, total) == (GROUPS, GROUPS * REPEATS)  # every alert answered 202 counted, once
        assert len(reported) == GROUPS == len({e.data["dedup_key"] for e in reported})
    finally:
        await db.dispose()
