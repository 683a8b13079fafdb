"""Reads of channels, their secret fields redacted."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from backbone.auth import Principal
from backbone.uow import UnitOfWork
from notifications.adapters import channels as channel_store
from notifications.adapters.secrets import SecretBox


async def get_channel(uow: UnitOfWork, caller: Principal, box: SecretBox, channel_id: UUID) -> dict[str, Any]:
    return channel_store.shown(
        await channel_store.CHANNELS.get(uow.session, caller.tenant_id, channel_id), box
    )


async def list_channels(uow: UnitOfWork, caller: Principal, box: SecretBox) -> list[dict[str, Any]]:
    return [
        channel_store.shown(r, box)
        for r in await channel_store.CHANNELS.of_tenant(uow.session, caller.tenant_id)
    ]
