"""Retention over the real database (docs/retention.md): rows past their keep time are deleted
in bounded batches, newer ones and those still in use are kept. Intake's rules: idempotency
keys (every service has this rule), alerts of incidents no longer open, closed dedup keys."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from fastapi import FastAPI
from sqlalchemy import func, insert, select

from backbone.app import Runtime
from backbone.retention import RetentionLoop
from backbone.tables import IDEMPOTENCY
from backbone.testing import Stack
from intake.adapters.orm import alerts, dedup_keys
from intake.config import Settings
from intake.main import create

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC)
OLD = NOW - timedelta(days=400)


@pytest.fixture
async def app(stack: Stack) -> AsyncIterator[FastAPI]:
    """The service as built, not started: its retention loop is run by hand here."""
    app = create(stack.settings(Settings, log_level="WARNING", retention_batch_size=2))
    try:
        yield app
    finally:
        await app.state.runtime.db.dispose()


async def count(runtime: Runtime, table: object, *where: object) -> int:
    async with runtime.db.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(table).where(*where)) or 0)  # type: ignore[arg-type]


async def test_idempotency_keys_go_in_bounded_batches_and_newer_stay(app: FastAPI) -> None:
    runtime: Runtime = app.state.runtime
    loop: RetentionLoop = app.state.retention
    scope = f"retention-{uuid4()}"
    rows = [
        {
            "tenant_key": scope,
            "key": f"old-{n}",
            "request_hash": "h",
            "status_code": 201,
            "body": "{}",
            "created_at": OLD,
        }
        for n in range(5)
    ] + [
        {
            "tenant_key": scope,
            "key": "new",
            "request_hash": "h",
            "status_code": 201,
            "body": "{}",
            "created_at": NOW,
        }
    ]
    async with runtime.db.sessions() as s, s.begin():
        await s.execute(insert(IDEMPOTENCY), rows)
    rule = next(r for r in loop.rules if r.name == "idempotency_keys")
    assert rule.keep == timedelta(hours=24)

    # One batch deletes at most retention_batch_size rows.
    assert await loop.delete_batch(runtime, rule, NOW) == 2
    assert await count(runtime, IDEMPOTENCY, IDEMPOTENCY.c.tenant_key == scope) == 4
    deleted = await loop.run_once(runtime)
    assert deleted["idempotency_keys"] >= 3
    async with runtime.db.sessions() as s:
        left = set(await s.scalars(select(IDEMPOTENCY.c.key).where(IDEMPOTENCY.c.tenant_key == scope)))
    assert left == {"new"}


async def test_alerts_of_closed_keys_and_old_closed_keys_go_open_ones_stay(app: FastAPI) -> None:
    runtime: Runtime = app.state.runtime
    tenant = uuid4()

    def key(status: str, closed_at: datetime | None) -> dict[str, object]:
        return {
            "id": uuid4(), "tenant_id": tenant, "dedup_key": f"k-{uuid4()}", "incident_id": uuid4(),
            "status": status, "closed_at": closed_at, "first_seen_at": OLD, "last_seen_at": OLD,
        }  # fmt: skip

    open_key, old_closed, new_closed = key("open", None), key("closed", OLD), key("resolved", NOW)

    def alert(k: dict[str, object], changed_at: datetime) -> dict[str, object]:
        return {
            "id": uuid4(), "tenant_id": tenant, "incident_id": k["incident_id"], "source": "alertmanager",
            "fingerprint": uuid4().hex, "status": "firing", "labels": {}, "dedup_id": k["id"],
            "changed_at": changed_at, "received_at": changed_at,
        }  # fmt: skip

    async with runtime.db.sessions() as s, s.begin():
        await s.execute(insert(dedup_keys), [open_key, old_closed, new_closed])
        await s.execute(
            insert(alerts),
            [alert(open_key, OLD), alert(old_closed, OLD), alert(old_closed, OLD), alert(old_closed, OLD),
             alert(new_closed, OLD), alert(new_closed, NOW)],
        )  # fmt: skip

    await app.state.retention.run_once(runtime)

    async with runtime.db.sessions() as s:
        keys = set(await s.scalars(select(dedup_keys.c.id).where(dedup_keys.c.tenant_id == tenant)))
        kept = list(
            await s.execute(
                select(alerts.c.dedup_id, alerts.c.changed_at).where(alerts.c.tenant_id == tenant)
            )
        )
    assert keys == {open_key["id"], new_closed["id"]}  # the old closed key went; open and recent stay
    # The open key's alert stays however old; the closed keys' old alerts go, the recent one stays.
    assert sorted((r.dedup_id == open_key["id"], r.changed_at == NOW) for r in kept) == [
        (False, True),
        (True, False),
    ]
