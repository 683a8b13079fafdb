"""The delivery workers' steps (claim, record the outcome), against the real database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from backbone.uow import UnitOfWork
from contracts.events import NotificationFailed, NotificationSent
from notifications.adapters.orm import deliveries
from notifications.domain.deliveries import RetryPolicy, SendFailed
from notifications.handlers import channels as channel_handlers
from notifications.handlers.deliveries import (
    channel_for_sending,
    claim,
    claim_batch,
    due_channels,
    mark_failed,
    mark_sent,
    record_outcomes,
)

from .support import BOX, CHECKS, LINK, WEBHOOK, caller, emitted, webhook_channel

POLICY = RetryPolicy(max_attempts=2, initial_s=60, max_s=60, jitter_s=0)


async def _queued(uow: UnitOfWork) -> tuple[Any, Any]:
    who = caller()
    channel_id = await webhook_channel(uow, who)
    queued = await channel_handlers.test_send(uow, who, channel_id, None, LINK)
    return channel_id, queued["delivery_id"]


async def _status(uow: UnitOfWork, delivery_id: Any) -> tuple[str, int]:
    row = (await uow.session.execute(select(deliveries).where(deliveries.c.id == delivery_id))).one()
    return row.status, row.attempts


async def test_a_claim_counts_the_attempt_and_a_transient_failure_waits_for_its_retry(
    uow: UnitOfWork,
) -> None:
    channel_id, delivery_id = await _queued(uow)
    assert channel_id in await due_channels(uow)
    claimed = await claim(uow, channel_id, lease_s=30)
    assert claimed.id == delivery_id and await _status(uow, delivery_id) == ("sending", 1)
    assert await claim(uow, channel_id, lease_s=30) is None  # leased: nobody else takes it
    config = await channel_for_sending(uow, channel_id, BOX, CHECKS, {})
    assert config["secret"] == WEBHOOK["secret"]  # opened for the sender only
    outcome = await mark_failed(uow, claimed, SendFailed("HTTP 503", transient=True), POLICY)
    assert outcome == "pending" and await _status(uow, delivery_id) == ("pending", 1)
    assert await claim(uow, channel_id, lease_s=30) is None  # not due before its retry time
    assert emitted(uow, NotificationFailed) == []


async def test_a_permanent_failure_is_announced_and_a_stale_claim_records_nothing(uow: UnitOfWork) -> None:
    channel_id, delivery_id = await _queued(uow)
    claimed = await claim(uow, channel_id, lease_s=30)
    assert await mark_failed(uow, claimed, SendFailed("HTTP 404", transient=False), POLICY) == "failed"
    (failed,) = emitted(uow, NotificationFailed)
    assert (failed.delivery_id, failed.attempts, failed.error) == (delivery_id, 1, "HTTP 404")
    assert await mark_sent(uow, claimed) is False  # the claim no longer holds
    assert emitted(uow, NotificationSent) == [] and await _status(uow, delivery_id) == ("failed", 1)


async def test_a_send_is_recorded_and_announced_by_the_current_claim(uow: UnitOfWork) -> None:
    channel_id, delivery_id = await _queued(uow)
    claimed = await claim(uow, channel_id, lease_s=30)
    assert await mark_sent(uow, claimed) is True
    (sent,) = emitted(uow, NotificationSent)
    assert (sent.delivery_id, sent.channel_id, sent.attempts) == (delivery_id, channel_id, 1)
    assert await _status(uow, delivery_id) == ("sent", 1)


async def test_a_batch_claims_up_to_its_limit_and_records_each_outcome_once(uow: UnitOfWork) -> None:
    who = caller()
    channel_id = await webhook_channel(uow, who)
    queued = [
        (await channel_handlers.test_send(uow, who, channel_id, None, LINK))["delivery_id"] for _ in range(3)
    ]
    first = await claim_batch(uow, channel_id, lease_s=30, limit=2)
    rest = await claim_batch(uow, channel_id, lease_s=30, limit=2)
    assert len(first) == 2 and len(rest) == 1  # each claimed once, oldest first
    assert {c.id for c in first + rest} == set(queued)
    assert await claim_batch(uow, channel_id, lease_s=30, limit=10) == []  # all leased
    sent, retried, stale = first[0], first[1], rest[0]
    await mark_sent(uow, stale)  # another worker's record got there first: this claim is stale
    outcomes = await record_outcomes(
        uow, [(sent, None), (retried, SendFailed("HTTP 503", transient=True)), (stale, None)], POLICY
    )
    assert outcomes == ["sent", "pending", "stale"]
    assert await _status(uow, sent.id) == ("sent", 1) and await _status(uow, retried.id) == ("pending", 1)
    # One notification.sent.v1 per delivery sent: the stale record announced nothing more.
    assert sorted(e.delivery_id for e in emitted(uow, NotificationSent)) == sorted([sent.id, stale.id])
