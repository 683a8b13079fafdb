"""Delivery workers: one asyncio task per channel with due deliveries (``Service.background``).

A dispatcher polls for channels with due deliveries (or is woken) and keeps one worker per
such channel. A worker claims its channel's next due delivery (``FOR UPDATE SKIP LOCKED``,
counted and leased before sending), sends it with a timeout under the channel's rate limit, and
records the outcome: sent, retry later (backoff with jitter), or failed for good (with
``notification.failed.v1``). Channels never wait on each other: a slow or failing channel only
slows its own worker. Several replicas may run workers for one channel; the claim keeps them
from taking the same delivery.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

import structlog
from prometheus_client import Counter
from tenacity import AsyncRetrying, retry_if_exception, wait_exponential_jitter

from backbone.db import is_transient
from contracts.enums import ChannelKind
from notifications.adapters.secrets import SecretBox
from notifications.adapters.senders import Outgoing, Senders, with_timeout
from notifications.config import Settings
from notifications.domain.channels import Checks
from notifications.domain.deliveries import RetryPolicy, SendFailed
from notifications.handlers import deliveries as handlers

if TYPE_CHECKING:
    from backbone.app import Runtime

log = structlog.get_logger(__name__)

ATTEMPTS = Counter(
    "notification_delivery_attempts_total",
    "Delivery attempts by channel kind and outcome (sent, pending = will retry, failed)",
    ["kind", "outcome"],
)


@dataclass
class TokenBucket:
    """Sends per minute for one channel in this replica; a burst of up to ``capacity`` passes
    at once, then sends are spaced evenly."""

    per_minute: int
    tokens: float = field(default=-1.0)
    updated: float = field(default_factory=time.monotonic)

    @property
    def capacity(self) -> float:
        return float(max(1, min(self.per_minute, 10)))

    def give_back(self) -> None:
        self.tokens = min(self.capacity, self.tokens + 1)

    async def take(self) -> None:
        if self.tokens < 0:
            self.tokens = self.capacity
        while True:
            now = time.monotonic()
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.per_minute / 60)
            self.updated = now
            if self.tokens >= 1:
                self.tokens -= 1
                return
            await asyncio.sleep((1 - self.tokens) * 60 / self.per_minute)


class DeliveryWorkers:
    def __init__(self, settings: Settings, senders: Senders | None = None) -> None:
        self.settings = settings
        self.checks = Checks(settings.egress_policy(), settings.secret_refs())
        self.senders = senders or Senders(self.checks.policy, settings.slack_api_url)
        self.box = SecretBox(settings.secret_key)
        self.policy = RetryPolicy(
            max_attempts=settings.max_attempts,
            initial_s=settings.retry_initial_s,
            max_s=settings.retry_max_s,
            jitter_s=settings.retry_jitter_s,
        )
        self._workers: dict[UUID, asyncio.Task[None]] = {}
        self._buckets: dict[UUID, TokenBucket] = {}
        self._wake = asyncio.Event()
        # The lease must outlast a send (its timeout, plus the margin with_timeout allows),
        # or a second worker could take a delivery that is still on the wire.
        self.lease_s = max(settings.delivery_lease_s, settings.send_timeout_s + 2)

    def wake(self) -> None:
        self._wake.set()

    async def __call__(self, runtime: Runtime) -> None:
        try:
            while True:
                self._wake.clear()
                try:
                    await self._start_due(runtime)
                except asyncio.CancelledError:
                    raise
                except Exception:  # a database blip must not end the loop; the next poll retries
                    log.exception("delivery dispatcher failed; retrying at the next poll")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.settings.delivery_poll_s)
        finally:
            workers = list(self._workers.values())
            for task in workers:
                task.cancel()
            for task in workers:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            await self.senders.close()

    async def _start_due(self, runtime: Runtime) -> None:
        async with runtime.uow() as uow:
            due = await handlers.due_channels(uow)
        for channel_id in due:
            task = self._workers.get(channel_id)
            if task is None or task.done():
                self._workers[channel_id] = asyncio.create_task(
                    self._work(runtime, channel_id), name=f"deliveries:{channel_id}"
                )

    async def _work(self, runtime: Runtime, channel_id: UUID) -> None:
        try:
            while await self._one(runtime, channel_id):
                pass
        except asyncio.CancelledError:
            raise
        except Exception:  # the dispatcher starts a fresh worker at its next poll
            log.exception("delivery worker failed", channel_id=str(channel_id))

    async def _one(self, runtime: Runtime, channel_id: UUID) -> bool:
        """Claim, send and record one delivery; False when the channel has nothing due."""
        settings = self.settings
        failure: SendFailed | None = None
        config: dict[str, Any] = {}
        bucket = self._buckets.get(channel_id) or TokenBucket(settings.rate_per_minute)
        # Wait for the rate limit before claiming, so the lease never runs out while waiting.
        await bucket.take()
        leased_until = time.monotonic() + self.lease_s
        async with runtime.uow() as uow:
            claimed = await handlers.claim(uow, channel_id, self.lease_s)
            if claimed is None:
                bucket.give_back()
                return False
            try:
                config = await handlers.channel_for_sending(
                    # Secret references (`env:NAME`) name variables of this process.
                    uow,
                    channel_id,
                    self.box,
                    self.checks,
                    os.environ,
                )
            except SendFailed as exc:
                failure = exc
            await uow.commit()  # the attempt is on record before anything is sent
        # The channel's own rate, learnt from its config (applies from its next send on).
        bucket.per_minute = int(config.get("rate_per_minute") or settings.rate_per_minute)
        self._buckets[channel_id] = bucket
        if failure is None:
            out = Outgoing(
                delivery_id=claimed.id,
                event_type=claimed.event_type,
                kind=ChannelKind(claimed.channel_kind),
                config=config,
                message=claimed.message,
                address=claimed.address,
                timeout_s=settings.send_timeout_s,
            )
            try:
                await with_timeout(self.senders.for_kind(out.kind), out)
            except SendFailed as exc:
                failure = exc
            except asyncio.CancelledError:
                raise  # stopping (or crashing): the lease hands the delivery to the next worker
            except Exception as exc:  # a sender bug: retried like a transient fault, then failed
                log.exception("sender failed unexpectedly", delivery_id=str(claimed.id))
                failure = SendFailed(f"unexpected error: {type(exc).__name__}", transient=True)
        outcome = await self._record(runtime, claimed, failure, leased_until)
        ATTEMPTS.labels(claimed.channel_kind, outcome).inc()
        log.info(
            "delivery attempt",
            delivery_id=str(claimed.id),
            channel_id=str(channel_id),
            attempt=claimed.attempts,
            outcome=outcome,
            error=failure.error if failure else None,
        )
        return True

    async def _record(
        self, runtime: Runtime, claimed: Any, failure: SendFailed | None, leased_until: float
    ) -> str:
        """Record the outcome, retrying a database fault (a failover, a dropped connection) with
        backoff for as long as the lease holds: a sent message whose record is lost would be
        sent again by the next worker. Past the lease another worker may own the delivery, and
        the record (fenced by the attempt) would change nothing."""

        async def write() -> str:
            async with runtime.uow() as uow:
                if failure is None:
                    await handlers.mark_sent(uow, claimed)
                    outcome = "sent"
                else:
                    outcome = await handlers.mark_failed(uow, claimed, failure, self.policy)
                await uow.commit()
            return outcome

        margin_s = 1.0
        retrying = AsyncRetrying(
            retry=retry_if_exception(is_transient),
            wait=wait_exponential_jitter(multiplier=0.05, max=2.0, jitter=0.05),
            stop=lambda state: time.monotonic() + margin_s >= leased_until,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                if attempt.retry_state.attempt_number > 1:
                    log.warning("recording a delivery outcome again", delivery_id=str(claimed.id))
                return await write()
        raise AssertionError("unreachable")  # AsyncRetrying returns or raises
