"""Delivery workers: one asyncio task per channel with due deliveries (``Service.background``).

A dispatcher keeps one worker per channel with due deliveries. It looks when a transaction that
queued deliveries commits in any replica (PostgreSQL NOTIFY, adapters/deliveries.py), when a
worker ends, and every ``delivery_poll_s`` (retries, expired leases). A worker claims many of its
channel's due deliveries per transaction (``FOR UPDATE SKIP LOCKED``, counted and leased before
sending), as many as the channel's rate and its free slots allow, sends them concurrently (at most
``delivery_in_flight`` per channel), and records outcomes in batches, one transaction for all the
outcomes ready: sent, retry later (backoff with jitter), or failed for good (with
``notification.failed.v1``). Channels never wait on each other. Several replicas may run workers
for one channel; the claim keeps them from taking the same delivery
(docs/adr/0006-notification-delivery.md, "Concurrency").
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

import structlog
from opentelemetry.trace import SpanKind
from prometheus_client import Counter
from tenacity import AsyncRetrying, retry_if_exception, wait_exponential_jitter

from backbone import telemetry
from backbone.db import is_transient
from contracts.enums import ChannelKind
from notifications.adapters import deliveries as delivery_store
from notifications.adapters.secrets import SecretBox
from notifications.adapters.senders import Outgoing, Senders, with_timeout
from notifications.config import Settings
from notifications.domain.channels import Checks
from notifications.domain.deliveries import RetryPolicy, SendFailed
from notifications.handlers import deliveries as handlers
from notifications.handlers import slack

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
    """Sends per minute for one channel (or SMTP server) in this replica; a burst of up to
    ``capacity`` passes at once, then sends are spaced evenly. 0 per minute: unlimited."""

    per_minute: int
    tokens: float = field(default=-1.0)
    updated: float = field(default_factory=time.monotonic)

    @property
    def capacity(self) -> float:
        return float(max(1, min(self.per_minute, 10)))

    def give_back(self, n: int = 1) -> None:
        if self.per_minute > 0:
            self.tokens = min(self.capacity, self.tokens + n)

    async def take(self, n: int = 1) -> int:
        """Up to ``n`` sends, waiting for at least one; how many may go now."""
        if self.per_minute <= 0:
            return n
        if self.tokens < 0:
            self.tokens = self.capacity
        while True:
            now = time.monotonic()
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.per_minute / 60)
            self.updated = now
            if self.tokens >= 1:
                taken = min(n, int(self.tokens))
                self.tokens -= taken
                return taken
            await asyncio.sleep((1 - self.tokens) * 60 / self.per_minute)


@dataclass
class Claimed:
    """Deliveries claimed in one transaction, the channel's config to send them with (or why
    they cannot be sent), and when their lease ends (this process's monotonic clock)."""

    rows: list[Any]
    config: dict[str, Any]
    failure: SendFailed | None
    leased_until: float


@dataclass
class Outcome:
    claimed: Any
    failure: SendFailed | None
    leased_until: float
    receipt: dict[str, str] | None = None  # what the receiver said worth keeping (senders.py)
    # Set once the outcome is on record: a send holds its slot until then, so a crash can send
    # again at most ``delivery_in_flight`` deliveries per channel (on the wire or unrecorded).
    recorded: asyncio.Event = field(default_factory=asyncio.Event)


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
        self._buckets: dict[Hashable, TokenBucket] = {}
        # The last config read per channel: which bucket its next claim waits on.
        self._configs: dict[UUID, tuple[ChannelKind, dict[str, Any]]] = {}
        self._wake = asyncio.Event()
        # The lease must outlast a send (its timeout, plus the margin with_timeout allows),
        # or a second worker could take a delivery that is still on the wire.
        self.lease_s = max(settings.delivery_lease_s, settings.send_timeout_s + 2)

    def wake(self) -> None:
        self._wake.set()

    async def __call__(self, runtime: Runtime) -> None:
        listener: contextlib.AsyncExitStack | None = None
        alive: Any = None
        try:
            while True:
                self._wake.clear()
                if alive is None or not alive():
                    listener, alive = await self._listen(runtime, listener)
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
            if listener is not None:
                with contextlib.suppress(Exception):  # a stuck connection must not hold up shutdown
                    await asyncio.wait_for(listener.aclose(), 5)
            await self.senders.close()

    async def _listen(
        self, runtime: Runtime, old: contextlib.AsyncExitStack | None
    ) -> tuple[contextlib.AsyncExitStack | None, Any]:
        """(Re)open the connection that hears queued deliveries; without one, the poll remains."""
        if old is not None:
            with contextlib.suppress(Exception):
                await old.aclose()
        stack = contextlib.AsyncExitStack()
        try:
            alive = await stack.enter_async_context(delivery_store.listening(runtime.db.engine, self.wake))
        except Exception:
            log.warning("cannot listen for queued deliveries; polling", exc_info=True)
            await stack.aclose()
            return None, None
        return stack, alive

    async def _start_due(self, runtime: Runtime) -> None:
        async with runtime.uow() as uow:
            due = await handlers.due_channels(uow)
        for channel_id in due:
            task = self._workers.get(channel_id)
            if task is None or task.done():
                task = asyncio.create_task(self._work(runtime, channel_id), name=f"deliveries:{channel_id}")
                # A worker that ends looks again: deliveries queued while it finished are not
                # left for the poll.
                task.add_done_callback(lambda _: self.wake())
                self._workers[channel_id] = task

    async def _work(self, runtime: Runtime, channel_id: UUID) -> None:
        """Claim and send the channel's due deliveries until none is left, keeping up to
        ``delivery_in_flight`` sends going (until recorded); a recorder writes their outcomes in
        batches."""
        settings = self.settings
        outcomes: asyncio.Queue[Outcome] = asyncio.Queue()
        recorder = asyncio.create_task(self._recorder(runtime, outcomes))
        sending: set[asyncio.Task[None]] = set()
        limit = settings.delivery_in_flight
        # Claim when a quarter of a batch is free at least: not one transaction per freed slot.
        chunk = max(1, min(settings.delivery_batch, limit) // 4)
        try:
            while True:
                while sending and limit - len(sending) < chunk:
                    await asyncio.wait(sending, return_when=asyncio.FIRST_COMPLETED)
                bucket = await self._bucket(runtime, channel_id)
                wanted = await bucket.take(min(settings.delivery_batch, limit - len(sending)))
                claimed = await self._claim(runtime, channel_id, wanted)
                bucket.give_back(wanted - len(claimed.rows))
                for row in claimed.rows:
                    task = asyncio.create_task(self._send(row, claimed, outcomes))
                    sending.add(task)
                    task.add_done_callback(sending.discard)
                if not claimed.rows:
                    if not sending:
                        break
                    await asyncio.wait(sending, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            raise
        except Exception:  # the dispatcher starts a fresh worker; leases hand the claimed ones over
            log.exception("delivery worker failed", channel_id=str(channel_id))
        finally:
            for task in (*sending, recorder):
                task.cancel()

    async def _bucket(self, runtime: Runtime, channel_id: UUID) -> TokenBucket:
        """The rate the channel's next claim waits on: its own ``rate_per_minute``, else its
        kind's default; email channels without their own share their SMTP server's."""
        if channel_id not in self._configs:
            await self._claim(runtime, channel_id, 0)  # reads the config, claims nothing
        kind, config = self._configs.get(channel_id, (ChannelKind.WEBHOOK, {}))
        settings = self.settings
        own = config.get("rate_per_minute")
        key: Hashable = channel_id
        if own:
            rate = int(own)
        elif kind is ChannelKind.EMAIL:
            key, rate = ("smtp", config.get("host"), config.get("port")), settings.email_rate_per_minute
        elif kind is ChannelKind.SLACK:
            rate = settings.slack_rate_per_minute
        else:
            rate = settings.webhook_rate_per_minute
        bucket = self._buckets.setdefault(key, TokenBucket(rate))
        bucket.per_minute = rate  # the channel's config may have changed
        return bucket

    async def _claim(self, runtime: Runtime, channel_id: UUID, limit: int) -> Claimed:
        """Claim up to ``limit`` deliveries and read the channel's config, in one transaction."""
        kind, config = ChannelKind.WEBHOOK, dict[str, Any]()
        failure: SendFailed | None = None
        leased_until = time.monotonic() + self.lease_s
        async with runtime.uow() as uow:
            rows = await handlers.claim_batch(uow, channel_id, self.lease_s, limit) if limit else []
            try:
                kind, config = await handlers.sending_channel(
                    # Secret references (`env:NAME`) name variables of this process.
                    uow,
                    channel_id,
                    self.box,
                    self.checks,
                    os.environ,
                )
            except SendFailed as exc:  # nothing will be sent: any rate does
                failure = exc
            await uow.commit()  # the attempts are on record before anything is sent
        self._configs[channel_id] = (kind, config)
        return Claimed(rows, config, failure, leased_until)

    async def _send(self, row: Any, claimed: Claimed, outcomes: asyncio.Queue[Outcome]) -> None:
        failure = claimed.failure
        receipt = None
        if failure is None:
            out = Outgoing(
                delivery_id=row.id,
                event_type=row.event_type,
                kind=ChannelKind(row.channel_kind),
                config=claimed.config,
                message=row.message,
                address=row.address,
                timeout_s=self.settings.send_timeout_s,
            )
            try:
                # A span in the trace of the event that queued it (docs/architecture.md "Tracing").
                with telemetry.continued(
                    row.traceparent, f"notifications send {out.kind.value}", kind=SpanKind.CLIENT
                ) as span:
                    receipt = await with_timeout(self.senders.for_kind(out.kind), out)
                    if span is not None:
                        span.set_attribute("notification.delivery_id", str(row.id))
            except SendFailed as exc:
                failure = exc
            except asyncio.CancelledError:
                raise  # stopping (or crashing): the lease hands the delivery to the next worker
            except Exception as exc:  # a sender bug: retried like a transient fault, then failed
                log.exception("sender failed unexpectedly", delivery_id=str(row.id))
                failure = SendFailed(f"unexpected error: {type(exc).__name__}", transient=True)
        outcome = Outcome(row, failure, claimed.leased_until, receipt)
        outcomes.put_nowait(outcome)
        await outcome.recorded.wait()

    async def _recorder(self, runtime: Runtime, outcomes: asyncio.Queue[Outcome]) -> None:
        """Write every outcome ready in one transaction, then the next ones."""
        while True:
            batch = [await outcomes.get()]
            while not outcomes.empty() and len(batch) < self.settings.delivery_batch:
                batch.append(outcomes.get_nowait())
            try:
                results = await self._record(runtime, batch)
            except asyncio.CancelledError:
                raise
            except Exception:  # past their leases: the next worker takes them again
                log.exception("delivery outcomes not recorded", deliveries=len(batch))
                results = ["unrecorded"] * len(batch)
            for outcome, result in zip(batch, results, strict=True):
                ATTEMPTS.labels(outcome.claimed.channel_kind, result).inc()
                log.debug(
                    "delivery attempt",
                    delivery_id=str(outcome.claimed.id),
                    attempt=outcome.claimed.attempts,
                    outcome=result,
                    error=outcome.failure.error if outcome.failure else None,
                )
                outcome.recorded.set()

    async def _record(self, runtime: Runtime, batch: list[Outcome]) -> list[str]:
        """Record the outcomes, retrying a database fault (a failover, a dropped connection) with
        backoff for as long as their leases hold: a sent message whose record is lost would be
        sent again by the next worker. Past the lease another worker may own a delivery, and
        the record (fenced by the attempt) would change nothing."""

        async def write() -> list[str]:
            async with runtime.uow() as uow:
                results = await handlers.record_outcomes(
                    uow, [(o.claimed, o.failure) for o in batch], self.policy
                )
                # Slack bot messages about an incident: where they are, for their buttons.
                await slack.remember_posts(
                    uow, [(o.claimed, o.receipt) for o, r in zip(batch, results, strict=True) if r == "sent"]
                )
                await uow.commit()
            return results

        margin_s = 1.0
        leased_until = min(o.leased_until for o in batch)
        retrying = AsyncRetrying(
            retry=retry_if_exception(is_transient),
            wait=wait_exponential_jitter(multiplier=0.05, max=2.0, jitter=0.05),
            stop=lambda state: time.monotonic() + margin_s >= leased_until,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                if attempt.retry_state.attempt_number > 1:
                    log.warning("recording delivery outcomes again", deliveries=len(batch))
                return await write()
        raise AssertionError("unreachable")  # AsyncRetrying returns or raises
