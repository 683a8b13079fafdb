"""The SQL of the tenants' logs: heads, entries, stored tree hashes, checkpoints, signing keys."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from sqlalchemy import (
    ColumnElement,
    and_,
    any_,
    bindparam,
    insert,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from audit.adapters.orm import checkpoints, entries, hashes, heads, signing_keys
from audit.domain import tlog


async def lock_heads(session: AsyncSession, tenant_ids: Iterable[UUID], now: datetime) -> dict[UUID, int]:
    """Each tenant's log size, its head row created if missing, then locked (in tenant order, so
    two batches never wait on each other crosswise): appends to one log are serialized across
    batches and replicas, and indexes stay gapless."""
    ids = sorted(set(tenant_ids))
    await session.execute(
        pg_insert(heads)
        .values([{"tenant_id": t, "size": 0, "grew_at": now} for t in ids])
        .on_conflict_do_nothing(index_elements=["tenant_id"])
    )
    rows = await session.execute(
        select(heads.c.tenant_id, heads.c.size)
        .where(heads.c.tenant_id.in_(ids))
        .order_by(heads.c.tenant_id)
        .with_for_update()
    )
    return {r.tenant_id: r.size for r in rows}


async def recorded(session: AsyncSession, tenant_id: UUID, event_ids: Sequence[UUID]) -> set[UUID]:
    """Which of these events the tenant's log holds already."""
    ids = bindparam("ids", list(event_ids), type_=ARRAY(PG_UUID(as_uuid=True)))
    rows = await session.scalars(
        select(entries.c.event_id).where(entries.c.tenant_id == tenant_id, entries.c.event_id == any_(ids))
    )
    return set(rows)


async def hashes_at(session: AsyncSession, tenant_id: UUID, indexes: Sequence[int]) -> list[bytes]:
    """The stored hashes at ``indexes``, in that order; LookupError if one is missing."""
    if not indexes:
        return []
    rows = await session.execute(
        select(hashes.c.hash_index, hashes.c.hash).where(
            hashes.c.tenant_id == tenant_id, hashes.c.hash_index.in_(set(indexes))
        )
    )
    found = {r.hash_index: bytes(r.hash) for r in rows}
    missing = [i for i in indexes if i not in found]
    if missing:
        raise LookupError(f"stored hashes {missing[:5]} of tenant {tenant_id} are missing")
    return [found[i] for i in indexes]


async def frontier(session: AsyncSession, tenant_id: UUID, size: int) -> tlog.Frontier:
    return tlog.Frontier.resume(size, await hashes_at(session, tenant_id, tlog.root_indexes(size)))


# Set-based appends: one statement for a batch's entries, one for its stored hashes, each taking
# one array of bytes. The entry's columns are read out of its leaf by PostgreSQL (the leaf is
# the JSON of exactly those fields), so Python encodes nothing twice and the columns cannot
# disagree with the leaf. Sent on the session's own connection (same transaction) through the
# driver: asyncpg prepares each once and sends the arrays in binary.
_INSERT_ENTRIES = f"""
INSERT INTO {entries.fullname} (tenant_id, leaf_index, event_id, event_type, action, source, subject,
                                actor, occurred_at, recorded_at, data, leaf)
SELECT $1, $2 + t.n - 1, (c ->> 'event_id')::uuid, c ->> 'event_type', c ->> 'action',
       c ->> 'source', c ->> 'subject', c -> 'actor', (c ->> 'occurred_at')::timestamptz,
       (c ->> 'recorded_at')::timestamptz, c -> 'data', t.leaf
FROM unnest($3::bytea[]) WITH ORDINALITY AS t(leaf, n)
CROSS JOIN LATERAL (SELECT convert_from(t.leaf, 'UTF8')::jsonb AS c) AS j
"""
_INSERT_HASHES = f"""
INSERT INTO {hashes.fullname} (tenant_id, hash_index, hash)
SELECT $1, $2 + t.n - 1, t.hash FROM unnest($3::bytea[]) WITH ORDINALITY AS t(hash, n)
"""


async def driver(session: AsyncSession) -> Any:
    """The asyncpg connection under the session's (its transaction begun)."""
    connection = await session.connection()
    return (await connection.get_raw_connection()).driver_connection


async def append(
    session: AsyncSession,
    tenant_id: UUID,
    size: int,
    leaves: Sequence[bytes],
    stored: Sequence[bytes],
    now: datetime,
) -> None:
    """Entries ``size``, ``size + 1``, … of the tenant's log from their leaves, the hashes their
    appends store (``tlog.Frontier.extend``: contiguous from leaf ``size``'s), and the head
    moved past them."""
    raw = await driver(session)
    await raw.execute(_INSERT_ENTRIES, tenant_id, size, leaves)
    await raw.execute(_INSERT_HASHES, tenant_id, tlog.stored_hash_index(0, size), stored)
    await session.execute(
        update(heads).where(heads.c.tenant_id == tenant_id).values(size=size + len(leaves), grew_at=now)
    )


# --------------------------------------------------------------------------- reading entries


def _filters(tenant_id: UUID, where: dict[str, Any]) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [entries.c.tenant_id == tenant_id]
    if where.get("subject"):
        conditions.append(entries.c.subject == where["subject"])
    if where.get("incident_id"):
        incident = str(where["incident_id"])
        conditions.append(
            or_(entries.c.subject == incident, entries.c.data["incident_id"].astext == incident)
        )
    if where.get("event_type"):
        conditions.append(entries.c.event_type == where["event_type"])
    if where.get("action"):
        conditions.append(entries.c.action == where["action"])
    if where.get("actor"):
        conditions.append(entries.c.actor["user_id"].astext == str(where["actor"]))
    if where.get("since") is not None:
        conditions.append(entries.c.occurred_at >= where["since"])
    if where.get("until") is not None:
        conditions.append(entries.c.occurred_at < where["until"])
    return conditions


async def search(
    session: AsyncSession, tenant_id: UUID, where: dict[str, Any], *, after: int, limit: int
) -> list[Any]:
    """Entries matching ``where`` with an index above ``after``, in index order."""
    query = (
        select(entries)
        .where(and_(*_filters(tenant_id, where)), entries.c.leaf_index > after)
        .order_by(entries.c.leaf_index)
        .limit(limit)
    )
    return list((await session.execute(query)).all())


async def entry(session: AsyncSession, tenant_id: UUID, index: int) -> Any | None:
    query = select(entries).where(entries.c.tenant_id == tenant_id, entries.c.leaf_index == index)
    return (await session.execute(query)).one_or_none()


async def size(session: AsyncSession, tenant_id: UUID) -> int:
    value = await session.scalar(select(heads.c.size).where(heads.c.tenant_id == tenant_id))
    return int(value or 0)


async def page(session: AsyncSession, tenant_id: UUID, after: int, limit: int) -> list[Any]:
    """Entries with an index above ``after``, in index order, at most ``limit``."""
    query = (
        select(entries)
        .where(entries.c.tenant_id == tenant_id, entries.c.leaf_index > after)
        .order_by(entries.c.leaf_index)
        .limit(limit)
    )
    return list((await session.execute(query)).all())


# The leaves of a page of entries, each with whether the entry's fields are still what its leaf
# says (compared where they are stored: JSON values as jsonb, times as instants), so verify
# hashes the leaves without rebuilding each one in Python.
_LEAVES = f"""
SELECT e.leaf_index, e.leaf,
       coalesce(j.c = jsonb_build_object(
                    'event_id', e.event_id, 'event_type', e.event_type, 'action', e.action,
                    'source', e.source, 'subject', e.subject, 'actor', e.actor,
                    'occurred_at', j.c -> 'occurred_at', 'recorded_at', j.c -> 'recorded_at',
                    'data', e.data)
                AND (j.c ->> 'occurred_at')::timestamptz = e.occurred_at
                AND (j.c ->> 'recorded_at')::timestamptz = e.recorded_at, false) AS fields_give_leaf
FROM {entries.fullname} AS e
CROSS JOIN LATERAL (SELECT convert_from(e.leaf, 'UTF8')::jsonb AS c) AS j
WHERE e.tenant_id = $1 AND e.leaf_index > $2
ORDER BY e.leaf_index
LIMIT $3
"""


async def leaves(session: AsyncSession, tenant_id: UUID, after: int, limit: int) -> list[Any] | None:
    """(leaf_index, leaf, fields_give_leaf) of a page of entries; None when a leaf in it is not
    JSON the database reads (an edited leaf: ``page`` and the domain's check name it)."""
    raw = await driver(session)
    try:
        async with raw.transaction():  # a savepoint: a leaf that fails to parse undoes only this
            return list(await raw.fetch(_LEAVES, tenant_id, after, limit))
    except asyncpg.DataError:
        return None


async def stored_hashes(session: AsyncSession, tenant_id: UUID, first: int, last: int) -> dict[int, bytes]:
    """The stored hashes the appends of entries ``first`` to ``last`` wrote."""
    raw = await driver(session)
    rows = await raw.fetch(
        f"SELECT hash_index, hash FROM {hashes.fullname} "
        "WHERE tenant_id = $1 AND hash_index >= $2 AND hash_index < $3",
        tenant_id,
        tlog.stored_hash_index(0, max(first, 0)),
        tlog.stored_hash_index(0, last + 1),
    )
    return {r[0]: r[1] for r in rows}


# --------------------------------------------------------------------------- checkpoints


async def due_heads(
    session: AsyncSession, key_id: str, now: datetime, signed_before: datetime, limit: int
) -> list[Any]:
    """Committed heads (tenant_id, size) whose log grew past its latest checkpoint, or whose
    latest checkpoint another key signed, that checkpoint signed no later than ``signed_before``;
    the longest waiting first. Read without a lock: appends never wait for the signer."""
    latest = (
        select(checkpoints.c.size, checkpoints.c.key_id, checkpoints.c.signed_at)
        .where(checkpoints.c.tenant_id == heads.c.tenant_id)
        .order_by(checkpoints.c.id.desc())
        .limit(1)
        .lateral("latest")
    )
    stale = or_(latest.c.size < heads.c.size, latest.c.key_id != key_id)
    query = (
        select(heads.c.tenant_id, heads.c.size)
        .select_from(heads.outerjoin(latest, true()))
        .where(
            heads.c.size > 0,
            heads.c.grew_at <= now,
            or_(latest.c.size.is_(None), and_(stale, latest.c.signed_at <= signed_before)),
        )
        .order_by(heads.c.grew_at)
        .limit(limit)
    )
    return list((await session.execute(query)).all())


async def add_checkpoint(
    session: AsyncSession, tenant_id: UUID, size: int, root: bytes, note: str, key_id: str, now: datetime
) -> None:
    await session.execute(
        insert(checkpoints).values(
            tenant_id=tenant_id, size=size, root=root, note=note, key_id=key_id, signed_at=now
        )
    )


async def latest_checkpoint(session: AsyncSession, tenant_id: UUID) -> Any | None:
    query = (
        select(checkpoints)
        .where(checkpoints.c.tenant_id == tenant_id)
        .order_by(checkpoints.c.id.desc())
        .limit(1)
    )
    return (await session.execute(query)).one_or_none()


async def list_checkpoints(
    session: AsyncSession, tenant_id: UUID, *, after: int = 0, limit: int | None = None
) -> list[Any]:
    query = (
        select(checkpoints, signing_keys.c.public_key)
        .join(signing_keys, signing_keys.c.key_id == checkpoints.c.key_id)
        .where(checkpoints.c.tenant_id == tenant_id, checkpoints.c.id > after)
        .order_by(checkpoints.c.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return list((await session.execute(query)).all())


async def register_key(session: AsyncSession, key_id: str, public: bytes, now: datetime) -> None:
    await session.execute(
        pg_insert(signing_keys)
        .values(key_id=key_id, public_key=public, first_used_at=now)
        .on_conflict_do_nothing(index_elements=["key_id"])
    )


async def keys(session: AsyncSession) -> list[Any]:
    query = select(signing_keys).order_by(signing_keys.c.first_used_at, signing_keys.c.key_id)
    return list((await session.execute(query)).all())
