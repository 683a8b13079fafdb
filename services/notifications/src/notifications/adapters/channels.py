"""SQL of channels, and a channel as the API shows it (secret fields redacted)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.enums import ChannelKind
from notifications.adapters import records
from notifications.adapters.orm import channels
from notifications.adapters.secrets import SecretBox, SecretsUnavailable
from notifications.domain import channels as channel_config


def shown(row: Any, box: SecretBox) -> dict[str, Any]:
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


CHANNELS = records.Records(channels, "channel")


async def name_taken(
    session: AsyncSession, tenant_id: UUID, name: str, except_id: UUID | None = None
) -> bool:
    query = select(channels.c.id).where(channels.c.tenant_id == tenant_id, channels.c.name == name)
    if except_id:
        query = query.where(channels.c.id != except_id)
    return await session.scalar(query) is not None


async def for_sending(session: AsyncSession, channel_id: UUID) -> Row[Any] | None:
    """The channel a delivery worker sends through (whatever its tenant: the delivery names it)."""
    return (await session.execute(select(channels).where(channels.c.id == channel_id))).first()
