"""Retention of deliveries over the real database (docs/retention.md): a delivery holds the
rendered message and the recipient's address; finished ones go after
NOTIFICATIONS_DELIVERY_RETENTION_DAYS, pending ones and recent ones stay; so do where Slack
messages went and their settled button presses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from sqlalchemy import insert, select

from backbone.app import Runtime
from backbone.testing import Stack
from notifications.adapters.orm import deliveries
from notifications.adapters.slack import slack_actions, slack_messages
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


async def test_slack_places_and_settled_presses_go_after_their_keep_time(stack: Stack) -> None:
    app = create(stack.settings(Settings, log_level="WARNING"))
    runtime: Runtime = app.state.runtime
    try:
        tenant = uuid4()
        places = {
            when: {"delivery_id": uuid4(), "tenant_id": tenant, "incident_id": uuid4(), "channel_id": uuid4(),
                   "slack_channel": "C1", "ts": f"{uuid4().int % 10**9}.0001", "created_at": when}
            for when in (OLD, NOW)
        }  # fmt: skip
        presses = {
            (state, when): {
                "id": uuid4(), "tenant_id": tenant, "incident_id": uuid4(), "delivery_id": uuid4(),
                "channel_id": uuid4(), "action": "acknowledge", "slack_user": "U1", "slack_channel": "C1",
                "ts": "1.1", "action_ts": f"{uuid4().int % 10**9}.1", "state": state, "created_at": when,
                "due_at": NOW if state == "received" else None,
            }
            for state in ("updated", "received")
            for when in (OLD, NOW)
        }  # fmt: skip
        async with runtime.db.sessions() as s, s.begin():
            await s.execute(insert(slack_messages), list(places.values()))
            await s.execute(insert(slack_actions), list(presses.values()))

        await app.state.retention.run_once(runtime)

        async with runtime.db.sessions() as s:
            left = set(
                await s.scalars(
                    select(slack_messages.c.delivery_id).where(slack_messages.c.tenant_id == tenant)
                )
            )
            assert left == {places[NOW]["delivery_id"]}
            left = set(await s.scalars(select(slack_actions.c.id).where(slack_actions.c.tenant_id == tenant)))
        # A press still being worked on (due) stays however old.
        assert left == {row["id"] for key, row in presses.items() if key != ("updated", OLD)}
    finally:
        await runtime.db.dispose()
