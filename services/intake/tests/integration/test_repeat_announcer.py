"""Repeats of an open key are announced at most once per interval, by intake's repeat announcer
(a timer loop) moved by a ManualClock. Its own intake in its own module: the other modules'
intakes announce every repeat (interval 0) and would race this one for the same rows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest

from backbone.app import Runtime
from backbone.testing import Stack, eventually, producer_and_db, serving
from backbone.timers import ManualClock
from contracts.enums import IntegrationKind
from contracts.events import AlertRepeated
from intake.config import Settings
from intake.handlers import alerts
from intake.main import create

from .conftest import Alerting
from .test_events_v2 import URL, trigger

pytestmark = pytest.mark.integration

# Long enough that no request of the test announces a repeat itself: only the clock decides.
INTERVAL = timedelta(hours=1)


@dataclass
class Announcing:
    alerting: Alerting
    clock: ManualClock
    runtime: Runtime


@pytest.fixture(scope="module")
async def announcing(stack: Stack) -> AsyncIterator[Announcing]:
    clock = ManualClock()
    settings = stack.settings(
        Settings, log_level="WARNING", alert_repeat_event_interval_s=INTERVAL.total_seconds()
    )
    app = create(settings, clock=clock)
    async with producer_and_db(stack, "intake") as (producer, db), serving(app) as client:
        yield Announcing(Alerting(stack, client, producer, db, settings), clock, app.state.runtime)


async def test_repeats_are_announced_once_after_the_interval_with_the_final_count(
    announcing: Announcing,
) -> None:
    alerting, clock = announcing.alerting, announcing.clock
    token, integration = await alerting.integration(IntegrationKind.EVENTS_V2)
    tenant = integration.tenant_id
    for _ in range(5):  # the report, then four repeats
        assert (await alerting.posted(URL, json=trigger(token, "k"))).status_code == 202
    (key,) = await alerting.keys(tenant)
    assert key.alert_count == 5
    reported_at = key.announced_at  # the report is the first announcement

    # The same announcer intake runs in the background, ticked here so each check follows a tick.
    announcer = alerts.repeat_announcer(INTERVAL, clock)

    async def told() -> list[int]:
        found = [e.payload() for e in await alerting.events(AlertRepeated.event_type, tenant)]
        return [r.alert_count for r in found if isinstance(r, AlertRepeated)]

    # Ticks are judged by this tenant's outbox and key: a tick also serves the repeats other
    # modules' tenants left in the shared database, so its return value is not this test's.
    clock.current = reported_at + INTERVAL - timedelta(milliseconds=1)
    clock.advance(seconds=0)  # wakes intake's own loop too
    await announcer.tick(announcing.runtime)
    assert await told() == []
    (key,) = await alerting.keys(tenant)
    assert key.announced_count == 1  # only the report

    clock.advance(milliseconds=1)  # exactly the interval after the report: due
    await announcer.tick(announcing.runtime)  # intake's loop may have claimed it first
    assert await eventually(told, what="the repeats to be announced") == [5]
    # Told once: a later tick finds nothing, and the key counts all five as announced.
    clock.advance(INTERVAL * 2)
    await announcer.tick(announcing.runtime)
    assert await told() == [5]
    (key,) = await alerting.keys(tenant)
    assert key.announced_count == 5
