"""Deliveries: the rows routing queues, and the delivery workers' steps (claim, send's
config, record the outcome). The caller's unit of work commits."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from backbone.uow import UnitOfWork
from contracts.enums import ChannelKind, DeliveryMethod
from contracts.envelope import SYSTEM, Envelope, new_id
from contracts.events import (
    NotificationFailed,
    NotificationSent,
)
from notifications.adapters import channels as channel_store
from notifications.adapters import deliveries as delivery_store
from notifications.adapters.secrets import SecretBox, SecretsUnavailable
from notifications.domain import channels as channel_config
from notifications.domain.deliveries import DeliveryState, RetryPolicy, SendFailed

NO_CHANNEL = UUID(int=0)  # delivery row of a method no channel has (announced with channel_id None)


def delivery_row(
    envelope: Envelope,
    target_channel_id: UUID,
    kind: str,
    recipient_key: str,
    *,
    user_id: UUID | None = None,
    address: str | None = None,
    incident_id: UUID | None = None,
    communication_id: UUID | None = None,
    reminder_id: UUID | None = None,
    message: dict[str, Any] | None = None,
    error: str | None = None,
    now: datetime,
) -> dict[str, Any]:
    assert envelope.tenantid is not None
    return {
        "id": new_id(),
        "tenant_id": envelope.tenantid,
        "event_id": envelope.id,
        "event_type": envelope.type,
        "recipient_key": recipient_key,
        "channel_id": target_channel_id,
        "channel_kind": kind,
        "recipient_user_id": user_id,
        "address": address,
        "incident_id": incident_id,
        "communication_id": communication_id,
        "reminder_id": reminder_id,
        "message": message or {},
        "status": DeliveryState.FAILED.value if error else DeliveryState.PENDING.value,
        "last_error": error,
        "failed_at": now if error else None,
    }


async def insert_deliveries(uow: UnitOfWork, rows: list[dict[str, Any]]) -> None:
    """Insert deliveries once per (event, recipient, channel); a row that fails at once
    (nothing can send it) announces its failure, only when it is new. Each row carries the
    trace of its event, so its send is a span there."""
    for row in rows:
        row["traceparent"] = uow.traceparent(row["event_id"])
    by_id = {r["id"]: r for r in rows}
    for delivery_id in await delivery_store.add_new(uow.session, rows):
        row = by_id[delivery_id]
        if row["status"] == DeliveryState.FAILED.value:
            uow.emit(
                NotificationFailed(
                    **delivery_fields(row, attempts=0),
                    failed_at=row["failed_at"],
                    error=row["last_error"],
                ),
                tenant_id=row["tenant_id"],
                traceparent=row["traceparent"],
            )


def delivery_fields(row: Mapping[str, Any], *, attempts: int) -> dict[str, Any]:
    kind = row["channel_kind"]
    return {
        "delivery_id": row["id"],
        "channel_id": None if row["channel_id"] == NO_CHANNEL else row["channel_id"],
        # A method no channel has (sms, phone, portal) has no channel kind; ``method`` names it.
        "channel_kind": ChannelKind(kind) if kind in ChannelKind._value2member_map_ else None,
        "method": DeliveryMethod(kind) if kind in DeliveryMethod._value2member_map_ else None,
        "source_event_id": row["event_id"],
        "source_event_type": row["event_type"],
        "incident_id": row["incident_id"],
        "recipient_user_id": row["recipient_user_id"],
        "communication_id": row["communication_id"],
        "reminder_id": row["reminder_id"],
        "attempts": attempts,
    }


# --------------------------------------------------------------------------- the workers' steps


async def due_channels(uow: UnitOfWork) -> list[UUID]:
    """Channels with deliveries due now (pending, or claimed by a sender whose lease ran out)."""
    return await delivery_store.due_channels(uow.session)


async def claim(uow: UnitOfWork, channel_id: UUID, lease_s: float) -> Any:
    """Take the channel's next due delivery: counted as an attempt and leased before it is sent
    (record-then-send), so a crash leaves it for another worker after the lease, never lost."""
    return await delivery_store.claim(uow.session, channel_id, lease_s)


async def claim_batch(uow: UnitOfWork, channel_id: UUID, lease_s: float, limit: int) -> list[Any]:
    """Up to ``limit`` of the channel's due deliveries, each claimed as ``claim`` does."""
    return await delivery_store.claim_many(uow.session, channel_id, lease_s, limit)


async def channel_for_sending(
    uow: UnitOfWork,
    channel_id: UUID,
    box: SecretBox,
    checks: channel_config.Checks,
    environ: Mapping[str, str],
) -> dict[str, Any]:
    """The channel's full config (secrets decrypted, references read from ``environ`` if the
    tenant may read them); raises SendFailed (permanent) when the channel cannot be used."""
    return (await sending_channel(uow, channel_id, box, checks, environ))[1]


async def sending_channel(
    uow: UnitOfWork,
    channel_id: UUID,
    box: SecretBox,
    checks: channel_config.Checks,
    environ: Mapping[str, str],
) -> tuple[ChannelKind, dict[str, Any]]:
    """The channel's kind and full config, as ``channel_for_sending``."""
    row = await channel_store.for_sending(uow.session, channel_id)
    if row is None:
        raise SendFailed("the channel no longer exists", transient=False)
    if not row.enabled:
        raise SendFailed("the channel is disabled", transient=False)
    try:
        config = channel_config.resolve(
            row.config, box.open(row.secrets_encrypted), environ, checks.refs(row.tenant_id)
        )
    except (SecretsUnavailable, channel_config.MissingSecret) as exc:  # a person must fix it
        raise SendFailed(str(exc), transient=False) from None
    except Exception as exc:  # never echo what a stored value may hold
        raise SendFailed(
            f"the channel's config cannot be read: {type(exc).__name__}", transient=False
        ) from None
    return ChannelKind(row.kind), config


async def mark_sent(uow: UnitOfWork, claimed: Any) -> bool:
    """Record the send; only the claim that is still current may (a late worker whose lease was
    taken over records nothing)."""
    sent_at = await delivery_store.record_sent_many(uow.session, [claimed])
    if claimed.id not in sent_at:
        return False
    _announce_sent(uow, claimed, sent_at[claimed.id])
    return True


def _announce_sent(uow: UnitOfWork, claimed: Any, sent_at: datetime) -> None:
    uow.emit(
        NotificationSent(**delivery_fields(claimed._mapping, attempts=claimed.attempts), sent_at=sent_at),
        tenant_id=claimed.tenant_id,
        actor=SYSTEM,
        traceparent=claimed.traceparent,
    )


async def mark_failed(uow: UnitOfWork, claimed: Any, failure: SendFailed, policy: RetryPolicy) -> str:
    """A failed try: schedule the next (backoff with jitter), or give up and announce it."""
    error = failure.error[:2000]
    if not policy.gives_up(claimed.attempts, failure):
        await delivery_store.record_retry(uow.session, claimed, policy.delay_s(claimed.attempts), error)
        return DeliveryState.PENDING.value
    failed_at = await delivery_store.record_failed(uow.session, claimed, error)
    if failed_at is not None:
        uow.emit(
            NotificationFailed(
                **delivery_fields(claimed._mapping, attempts=claimed.attempts),
                failed_at=failed_at,
                error=error,
            ),
            tenant_id=claimed.tenant_id,
            traceparent=claimed.traceparent,
        )
    return DeliveryState.FAILED.value


async def record_outcomes(
    uow: UnitOfWork, outcomes: list[tuple[Any, SendFailed | None]], policy: RetryPolicy
) -> list[str]:
    """The outcomes of many sends in one transaction: the sent ones in one statement, each
    announced; the failures retried or given up one by one. The outcome of each, in order
    ("sent", "pending", "failed", or "stale" for a claim that no longer held)."""
    sent_at = await delivery_store.record_sent_many(
        uow.session, [c for c, failure in outcomes if failure is None]
    )
    results = []
    for claimed, failure in outcomes:
        if failure is not None:
            results.append(await mark_failed(uow, claimed, failure, policy))
        elif claimed.id in sent_at:
            _announce_sent(uow, claimed, sent_at[claimed.id])
            results.append(DeliveryState.SENT.value)
        else:
            results.append("stale")
    return results
