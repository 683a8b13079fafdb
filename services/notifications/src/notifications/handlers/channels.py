"""Channel commands (create, change, read with secrets redacted) and the test-send through
a channel. The caller's unit of work commits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert

from backbone.auth import Principal
from backbone.problems import Conflict, NotFound, Unprocessable
from backbone.uow import UnitOfWork
from contracts.enums import ChannelKind
from contracts.envelope import new_id, utcnow
from contracts.events import (
    ChannelChanged,
)
from notifications.adapters.orm import (
    channels,
    clients,
    deliveries,
    recipients,
)
from notifications.adapters.secrets import SecretBox, SecretsUnavailable
from notifications.domain import channels as channel_config
from notifications.domain import templates
from notifications.domain.delivery import DeliveryState

TEST_EVENT_TYPE = "notification.test"


# --------------------------------------------------------------------------- channels


def _view(row: Any, box: SecretBox) -> dict[str, Any]:
    """A channel as shown: its config with the secret fields it has redacted."""
    kind = ChannelKind(row.kind)
    names: set[str] = set()
    if row.secrets_encrypted:
        try:
            names = set(box.open(row.secrets_encrypted))
        except SecretsUnavailable:  # no (or another) key here: show every secret field as set
            names = set(channel_config.SECRET_FIELDS[kind])
    return {
        "id": row.id,
        "tenant_id": row.tenant_id,
        "client_id": row.client_id,
        "kind": kind,
        "name": row.name,
        "config": channel_config.redact(kind, row.config, names),
        "enabled": row.enabled,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


def _announce_channel(uow: UnitOfWork, caller: Principal, view: Mapping[str, Any]) -> None:
    uow.emit(
        ChannelChanged(
            channel_id=view["id"],
            kind=view["kind"],
            name=view["name"],
            client_id=view["client_id"],
            config=view["config"],  # already redacted: secrets never leave in clear
            enabled=view["enabled"],
        ),
        tenant_id=caller.tenant_id,
        actor=caller.actor,
    )


def _seal(
    box: SecretBox,
    checks: channel_config.Checks,
    caller: Principal,
    kind: ChannelKind,
    config: Mapping[str, Any],
    stored: Mapping[str, str] | None = None,
) -> tuple[dict[str, Any], str | None]:
    try:
        public, secrets = channel_config.split(
            kind, config, stored, refs=checks.refs(caller.tenant_id), policy=checks.policy
        )
    except channel_config.InvalidConfig as exc:
        raise Unprocessable(str(exc), field=f"config.{exc.field}" if exc.field else "config") from None
    try:
        return public, box.seal(secrets)
    except SecretsUnavailable as exc:
        raise Unprocessable(str(exc), field="config") from None


async def _name_free(uow: UnitOfWork, tenant_id: UUID, name: str, except_id: UUID | None = None) -> None:
    query = select(channels.c.id).where(channels.c.tenant_id == tenant_id, channels.c.name == name)
    if except_id:
        query = query.where(channels.c.id != except_id)
    if await uow.session.scalar(query):
        raise Conflict(f"a channel named {name!r} exists already")


async def own_client(uow: UnitOfWork, caller: Principal, client_id: UUID | None) -> None:
    """A client id must be one of the caller's tenant's clients (as replicated from directory)."""
    if client_id is None:
        return
    known = await uow.session.scalar(
        select(clients.c.id).where(clients.c.id == client_id, clients.c.tenant_id == caller.tenant_id)
    )
    if known is None:
        raise Unprocessable(f"client_id: no client {client_id}", field="client_id")


async def create_channel(
    uow: UnitOfWork,
    caller: Principal,
    box: SecretBox,
    checks: channel_config.Checks,
    *,
    kind: ChannelKind,
    name: str,
    config: Mapping[str, Any],
    client_id: UUID | None,
    enabled: bool,
) -> dict[str, Any]:
    public, sealed = _seal(box, checks, caller, kind, config)
    await own_client(uow, caller, client_id)
    await _name_free(uow, caller.tenant_id, name)
    row = (
        await uow.session.execute(
            insert(channels)
            .values(
                id=new_id(),
                tenant_id=caller.tenant_id,
                client_id=client_id,
                kind=kind.value,
                name=name,
                config=public,
                secrets_encrypted=sealed,
                enabled=enabled,
            )
            .returning(channels)
        )
    ).one()
    view = _view(row, box)
    _announce_channel(uow, caller, view)
    return view


async def _channel_row(uow: UnitOfWork, caller: Principal, channel_id: UUID, *, lock: bool = False) -> Any:
    query = select(channels).where(channels.c.id == channel_id, channels.c.tenant_id == caller.tenant_id)
    if lock:
        query = query.with_for_update()
    row = (await uow.session.execute(query)).first()
    if row is None:
        raise NotFound(f"no channel {channel_id}")
    return row


async def update_channel(
    uow: UnitOfWork,
    caller: Principal,
    box: SecretBox,
    checks: channel_config.Checks,
    channel_id: UUID,
    changes: Mapping[str, Any],
) -> dict[str, Any]:
    row = await _channel_row(uow, caller, channel_id, lock=True)
    kind = ChannelKind(row.kind)
    values: dict[str, Any] = {"updated_at": func.now()}
    if "name" in changes:
        await _name_free(uow, caller.tenant_id, changes["name"], except_id=channel_id)
        values["name"] = changes["name"]
    if "enabled" in changes:
        values["enabled"] = changes["enabled"]
    if "client_id" in changes:
        await own_client(uow, caller, changes["client_id"])
        values["client_id"] = changes["client_id"]
    if "config" in changes:
        try:
            stored = box.open(row.secrets_encrypted) if row.secrets_encrypted else {}
        except SecretsUnavailable as exc:
            raise Unprocessable(str(exc), field="config") from None
        values["config"], values["secrets_encrypted"] = _seal(
            box, checks, caller, kind, changes["config"], stored
        )
    updated = (
        await uow.session.execute(
            update(channels).where(channels.c.id == channel_id).values(values).returning(channels)
        )
    ).one()
    view = _view(updated, box)
    _announce_channel(uow, caller, view)
    return view


async def get_channel(uow: UnitOfWork, caller: Principal, box: SecretBox, channel_id: UUID) -> dict[str, Any]:
    return _view(await _channel_row(uow, caller, channel_id), box)


async def list_channels(uow: UnitOfWork, caller: Principal, box: SecretBox) -> list[dict[str, Any]]:
    rows = await uow.session.execute(
        select(channels)
        .where(channels.c.tenant_id == caller.tenant_id)
        .order_by(channels.c.created_at, channels.c.id)
    )
    return [_view(r, box) for r in rows]


# --------------------------------------------------------------------------- test-send, deliveries


async def test_send(
    uow: UnitOfWork,
    caller: Principal,
    box: SecretBox,
    channel_id: UUID,
    address: str | None,
    link_template: str,
) -> dict[str, Any]:
    """A sample message through the channel, queued like any delivery (and sent by its worker)."""
    row = await _channel_row(uow, caller, channel_id)
    kind = ChannelKind(row.kind)
    now = utcnow()
    event_id = new_id()
    envelope = {
        "specversion": "1.0",
        "id": str(event_id),
        "type": TEST_EVENT_TYPE,
        "source": "notifications",
        "time": now.isoformat(),
        "subject": str(channel_id),
        "tenantid": str(caller.tenant_id),
        "data": {"channel_id": str(channel_id), "channel_name": row.name, "test": True},
    }
    if kind is ChannelKind.WEBHOOK:
        message: dict[str, Any] = {"envelope": envelope}
    else:
        ctx = templates.context(
            TEST_EVENT_TYPE, {}, extra={"channel_name": row.name}, link_template=link_template
        )
        message = templates.render(kind, TEST_EVENT_TYPE, ctx)
    if kind is ChannelKind.EMAIL and not (address or (row.config or {}).get("to")):
        email = await uow.session.scalar(
            select(recipients.c.email).where(recipients.c.user_id == caller.user_id)
        )
        address = email or None
        if not address:
            raise Unprocessable("address: give one; the channel has no `to` addresses", field="address")
    delivery = {
        "id": new_id(),
        "tenant_id": caller.tenant_id,
        "event_id": event_id,
        "event_type": TEST_EVENT_TYPE,
        "recipient_key": "test",
        "channel_id": channel_id,
        "channel_kind": kind.value,
        "recipient_user_id": None,
        "address": address,
        "message": message,
        "next_attempt_at": now,
    }
    await uow.session.execute(insert(deliveries).values(delivery))
    return {"delivery_id": delivery["id"], "status": DeliveryState.PENDING.value}
