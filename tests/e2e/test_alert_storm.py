"""An alert storm through the whole path with two replicas of intake, triage and notifications,
each a real process (`incidentctl serve`): 20,000 Alertmanager alerts over 1,000 groups give
exactly 1,000 incidents and 1,000 webhook deliveries, each group notified once, although an
intake replica is killed (SIGKILL) right after it answered 2xx for the only batches of 50 groups.

Run time: 59-132 s measured on the shared 2-core development machine at load 10-20 (much of it
starting seven processes); the figures of the same path are bench/alert_storm.py's.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from backbone import storm
from backbone.faults import Fleet
from backbone.testing import Stack, eventually, new_tenant

pytestmark = pytest.mark.integration

ALERTS, GROUPS, BATCH = 20_000, 1_000, 100
# Groups whose alerts only the doomed replica ever accepts: if it answered 2xx for alerts that
# were not yet durable, their incidents are missing.
DOOMED_GROUPS = 50
REPLICAS = {"directory": 1, "intake": 2, "triage": 2, "notifications": 2}


@pytest.fixture
async def fleet(stack: Stack) -> AsyncIterator[Fleet]:
    with tempfile.TemporaryDirectory(prefix="alert-storm-") as root:
        fleet = storm.fleet(
            stack,
            Path(root),
            REPLICAS,
            settings={
                "notifications": {"EGRESS_ALLOW": "127.0.0.1/32"},  # the receiver is on loopback
                "intake": {"REPLICAS": "2"},
            },
        )
        try:
            await storm.started(fleet)
            yield fleet
        finally:
            fleet.stop_all()


def the_storm() -> tuple[list[list[storm.Alert]], list[list[storm.Alert]]]:
    """(everyone's batches, the doomed replica's): 20,000 alerts over 1,000 groups, the last
    ``DOOMED_GROUPS`` groups' alerts only in the second list."""
    doomed_alerts = ALERTS * DOOMED_GROUPS // GROUPS
    shared = storm.batches(ALERTS - doomed_alerts, GROUPS - DOOMED_GROUPS, BATCH)
    doomed = [
        [
            storm.alert("Storm", GROUPS - DOOMED_GROUPS + i % DOOMED_GROUPS)
            for i in range(start, start + BATCH)
        ]
        for start in range(0, doomed_alerts, BATCH)
    ]
    return shared, doomed


@pytest.mark.timeout(900)
async def test_a_storm_gives_one_incident_and_one_delivery_per_group_though_intake_is_killed(
    fleet: Fleet, stack: Stack, operator_key: str
) -> None:
    directory, notifications = fleet.processes["directory-1"].url, fleet.processes["notifications-1"].url
    victim, survivor = fleet.replicas("intake")
    shared, doomed = the_storm()
    doomed_ids = {id(b) for b in doomed}
    answered_by_victim: list[float] = []
    killed_at: list[float] = []

    async def kill_after_its_batches(url: str, alerts: list[storm.Alert]) -> None:
        if url == victim.url and id(alerts) in doomed_ids:
            answered_by_victim.append(time.monotonic())
            if len(answered_by_victim) == len(doomed):
                fleet.kill(victim)  # SIGKILL the moment its last 2xx is read: no shutdown hook runs
                killed_at.append(time.monotonic())

    async with storm.WebhookReceiver().running() as receiver, httpx.AsyncClient(timeout=60) as http:
        async with httpx.AsyncClient(base_url=directory, timeout=30) as dir_client:
            tenant = await new_tenant(dir_client, operator_key)
        route = await storm.route_to(http, directory, notifications, victim.url, tenant.api_key, receiver.url)
        sender = storm.Sender([victim.url, survivor.url], route.alert_token, http, give_up_s=240)
        sender.on_accepted = kill_after_its_batches
        # The doomed batches go to the victim (two at a time) while the rest flows to both.
        await asyncio.gather(sender.send(shared), _to_victim(sender).send(doomed, replica=0))
        assert sender.failures == []
        assert len(answered_by_victim) == len(doomed) and killed_at, "the victim was not killed as planned"
        assert victim.pid is None

        async def settled() -> bool:
            return len(receiver.first_at) >= GROUPS and not await storm.problems(
                stack.database_url, route.tenant_id, receiver, GROUPS
            )

        with contextlib.suppress(AssertionError):  # the problems below say what is missing or doubled
            await eventually(settled, within=300, interval=1, what="1,000 groups notified")
        await asyncio.sleep(2)  # a second copy of a notification would arrive now
        found = await storm.problems(stack.database_url, route.tenant_id, receiver, GROUPS)
    assert found == [], found


def _to_victim(sender: storm.Sender) -> storm.Sender:
    """The same sender, two batches in flight (to the victim first)."""
    return storm.Sender(
        sender.urls,
        sender.token,
        sender.http,
        in_flight=2,
        give_up_s=sender.give_up_s,
        accepted_at=sender.accepted_at,
        on_accepted=sender.on_accepted,
    )
