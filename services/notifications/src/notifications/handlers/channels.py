"""Channel commands (create, change) and the test-send through a channel. The caller's unit of
work commits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from backbone.auth import Principal
from backbone.problems import Conflict, Unprocessable
from backbone.uow import UnitOfWork
from contracts.enums import ChannelKind
from contracts.envelope import new_id
from contracts.events import ChannelChanged
from notifications.adapters import channels as channel_store
from notifications.adapters import deliveries as delivery_store
from notifications.adapters import replicas
from notifications.adapters.secrets import SecretBox, SecretsUnavailable
from notifications.domain import channels as channel_config
from notifications.domain import templates
from notifications.domain.deliveries import DeliveryState
from notifications.handlers.records import announce, own_client

TEST_EVENT_TYPE = "notification.test"


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
    if await channel_store.name_taken(uow.session, tenant_id, name, except_id):
        raise Conflict(f"a channel named {name!r} exists already")


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
    row = await channel_store.CHANNELS.add(
        uow.session,
        {
            "id": new_id(),
            "tenant_id": caller.tenant_id,
            "client_id": client_id,
            "kind": kind.value,
            "name": name,
            "config": public,
            "secrets_encrypted": sealed,
            "enabled": enabled,
        },
    )
    return announce(uow, caller, ChannelChanged, channel_store.shown(row, box))


async def update_channel(
    uow: UnitOfWork,
    caller: Principal,
    box: SecretBox,
    checks: channel_config.Checks,
    channel_id: UUID,
    changes: Mapping[str, Any],
) -> dict[str, Any]:
    row = await channel_store.CHANNELS.get(uow.session, caller.tenant_id, channel_id, for_update=True)
    kind = ChannelKind(row.kind)
    values: dict[str, Any] = {}
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
    updated = await channel_store.CHANNELS.change(uow.session, channel_id, values)
    return announce(uow, caller, ChannelChanged, channel_store.shown(updated, box))


async def test_send(
    uow: UnitOfWork,
    caller: Principal,
    channel_id: UUID,
    address: str | None,
    link_template: str,
) -> dict[str, Any]:
    """A sample message through the channel, queued like any delivery (and sent by its worker)."""
    row = await channel_store.CHANNELS.get(uow.session, caller.tenant_id, channel_id)
    kind = ChannelKind(row.kind)
    event_id = new_id()
    envelope = {
        "specversion": "1.0",
        "id": str(event_id),
        "type": TEST_EVENT_TYPE,
        "source": "notifications",
        "time": uow.now.isoformat(),
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
        address = await replicas.recipient_email(uow.session, caller.user_id)
        if not address:
            raise Unprocessable("address: give one; the channel has no `to` addresses", field="address")
    delivery_id = new_id()
    # Due at once (the database's now, as every delivery's retry time).
    await delivery_store.add_new(
        uow.session,
        [
            {
                "id": delivery_id,
                "tenant_id": caller.tenant_id,
                "event_id": event_id,
                "event_type": TEST_EVENT_TYPE,
                "recipient_key": "test",
                "channel_id": channel_id,
                "channel_kind": kind.value,
                "recipient_user_id": None,
                "address": address,
                "message": message,
            }
        ],
    )
    return {"delivery_id": delivery_id, "status": DeliveryState.PENDING.value}
