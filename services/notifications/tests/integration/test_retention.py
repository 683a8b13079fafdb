"""Retention of deliveries over the real database (docs/retention.md): a delivery holds the
rendered message and the recipient's address; finished ones go after
NOTIFICATIONS_DELIVERY_RETENTION_DAYS, pending ones and recent ones stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from sqlalchemy import insert, select

from backbone.app import Runtime
from backbone.testing import Stack
from notifications.adapters.orm import deliveries
from notifications.config import Settings
from notifications.main import create

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC)
OLD = NOW - timedelta(days=60)


async def test_finished_deliveries_go_after_their_keep_time(stack: Stack) -> None:
    app = create(stack.settings(Settings, log_level="WARNING"))
    runtime: Runtime = app.state.runtime
    try:
        tenant = uuid4()
        rows = {
            (status, when): {
                "id": uuid4(), "tenant_id": tenant, "event_id": uuid4(), "event_type": "incident.created.v1",
                "recipient_key": "r", "channel_id": uuid4(), "channel_kind": "email", "address": "a@x.org",
                "message": {"subject": "s"}, "status": status, "updated_at": when, "created_at": when,
            }
            for status in ("sent", "failed", "pending", "sending")
            for when in (OLD, NOW)
        }  # fmt: skip
        async with runtime.db.sessions() as s, s.begin():
            await s.execute(insert(deliveries), list(rows.values()))

        await app.state.retention.run_once(runtime)

        async with runtime.db.sessions() as s:
            left = set(await s.scalars(select(deliveries.c.id).where(deliveries.c.tenant_id == tenant)))
        gone = {rows[("sent", OLD)]["id"], rows[("failed", OLD)]["id"]}
        assert left == {row["id"] for row in rows.values()} - gone
    finally:
        await runtime.db.dispose()
