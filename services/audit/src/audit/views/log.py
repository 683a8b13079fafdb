"""Reads of a tenant's log: entries, checkpoints, verifier keys, proofs, and verification."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

from audit.adapters import log as log_repo
from audit.domain import checkpoint, log, tlog
from audit.domain.checkpoint import Signer
from backbone.problems import NotFound, Unprocessable
from backbone.uow import UnitOfWork


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def content_of(row: Any) -> dict[str, Any]:
    """What an entry's leaf covers, rebuilt from its stored fields."""
    return log.entry(
        event_id=row.event_id,
        event_type=row.event_type,
        action=row.action,
        source=row.source,
        subject=row.subject,
        actor=row.actor,
        occurred_at=row.occurred_at,
        recorded_at=row.recorded_at,
        data=row.data,
    )


def public(row: Any) -> dict[str, Any]:
    """An entry as the API shows it: its index, the fields its leaf covers (as JSON values, so an
    offline verifier rebuilds the leaf from them) and the leaf bytes."""
    return {"index": row.leaf_index, **content_of(row), "leaf": b64(bytes(row.leaf))}


async def search(
    uow: UnitOfWork, *, tenant_id: UUID, where: dict[str, Any], after: int, limit: int
) -> list[dict[str, Any]]:
    rows = await log_repo.search(uow.session, tenant_id, where, after=after, limit=limit)
    return [public(r) for r in rows]


async def export(
    uow: UnitOfWork, *, tenant_id: UUID, where: dict[str, Any], page: int = 5000
) -> AsyncIterator[dict[str, Any]]:
    """Every matching entry, page after page (the JSON Lines export)."""
    after = -1
    while True:
        rows = await log_repo.search(uow.session, tenant_id, where, after=after, limit=page)
        for row in rows:
            yield public(row)
        if len(rows) < page:
            return
        after = rows[-1].leaf_index


# --------------------------------------------------------------------------- checkpoints


async def latest_note(uow: UnitOfWork, *, tenant_id: UUID) -> str:
    row = await log_repo.latest_checkpoint(uow.session, tenant_id)
    if row is None:
        raise NotFound("no checkpoint yet: the log is empty or its first one is being signed")
    return str(row.note)


async def checkpoints(
    uow: UnitOfWork, *, tenant_id: UUID, after: int, limit: int | None
) -> list[dict[str, Any]]:
    name = checkpoint.origin(tenant_id)
    rows = await log_repo.list_checkpoints(uow.session, tenant_id, after=after, limit=limit)
    return [
        {
            "id": r.id,
            "size": r.size,
            "root": b64(bytes(r.root)),
            "signed_at": r.signed_at,
            "verifier_key": checkpoint.verifier_key(name, bytes(r.public_key)),
            "note": r.note,
        }
        for r in rows
    ]


async def keys(uow: UnitOfWork, *, tenant_id: UUID, signer: Signer) -> list[dict[str, Any]]:
    """Every key that has signed this service's checkpoints, as this tenant's verifier keys;
    the current one first."""
    name = checkpoint.origin(tenant_id)
    rows = await log_repo.keys(uow.session)
    listed = [
        {
            "verifier_key": checkpoint.verifier_key(name, bytes(r.public_key)),
            "first_used_at": r.first_used_at,
            "current": r.key_id == signer.key_id,
        }
        for r in rows
    ]
    if not any(k["current"] for k in listed):
        listed.append({"verifier_key": signer.verifier(tenant_id), "first_used_at": None, "current": True})
    return sorted(listed, key=lambda k: not k["current"])


# --------------------------------------------------------------------------- proofs


async def _sized(uow: UnitOfWork, tenant_id: UUID, size: int) -> None:
    have = await log_repo.size(uow.session, tenant_id)
    if not 1 <= size <= have:
        raise Unprocessable(f"size {size} is not a size of this log (1 to {have})", field="size")


async def inclusion(uow: UnitOfWork, *, tenant_id: UUID, index: int, size: int) -> dict[str, Any]:
    await _sized(uow, tenant_id, size)
    if not 0 <= index < size:
        raise Unprocessable(f"index {index} is not in a tree of size {size}", field="index")
    row = await log_repo.entry(uow.session, tenant_id, index)
    if row is None:
        raise NotFound(f"no entry {index}")
    hashes = await log_repo.hashes_at(uow.session, tenant_id, tlog.inclusion_indexes(index, size))
    proof = tlog.inclusion_proof(index, size, hashes)
    return {"index": index, "size": size, "leaf": b64(bytes(row.leaf)), "proof": [b64(h) for h in proof]}


async def consistency(uow: UnitOfWork, *, tenant_id: UUID, old: int, new: int) -> dict[str, Any]:
    await _sized(uow, tenant_id, new)
    if not 1 <= old <= new:
        raise Unprocessable(f"no consistency proof from size {old} to size {new}", field="from")
    hashes = await log_repo.hashes_at(uow.session, tenant_id, tlog.consistency_indexes(old, new))
    proof = tlog.consistency_proof(old, new, hashes)
    return {"from": old, "to": new, "proof": [b64(h) for h in proof]}


# --------------------------------------------------------------------------- verification


async def signed_sizes(uow: UnitOfWork, tenant_id: UUID) -> list[tuple[int, bytes]]:
    """(size, root) of every checkpoint whose signature verifies under the key that made it."""
    name = checkpoint.origin(tenant_id)
    rows = await log_repo.list_checkpoints(uow.session, tenant_id)
    return checkpoint.signed_roots(
        ((r.note, checkpoint.verifier_key(name, bytes(r.public_key))) for r in rows), name
    )


VERIFY_PAGE = 20_000  # entries per read: memory stays flat however long the log


async def verify(uow: UnitOfWork, *, tenant_id: UUID, page: int = VERIFY_PAGE) -> dict[str, Any]:
    """One streaming pass over the log, a page at a time: every entry's fields compared with
    its leaf, every leaf hashed into the tree, every stored hash and every signed root compared.
    A page whose leaves the database cannot read as JSON is checked entry by entry, each leaf
    rebuilt from the entry's fields in Python."""
    check = log.LogCheck(await signed_sizes(uow, tenant_id))
    after, going = -1, True
    while going:
        rows = await log_repo.leaves(uow.session, tenant_id, after, page)
        if rows is not None:
            if not rows:
                break
            indexes = [r[0] for r in rows]
            stored = await log_repo.stored_hashes(uow.session, tenant_id, indexes[0], indexes[-1])
            going = check.add_leaves(indexes, [r[1] for r in rows], [r[2] for r in rows], stored)
        else:
            entries = await log_repo.page(uow.session, tenant_id, after, page)
            if not entries:
                break
            indexes = [r.leaf_index for r in entries]
            stored = await log_repo.stored_hashes(uow.session, tenant_id, indexes[0], indexes[-1])
            going = all(check.add(r.leaf_index, content_of(r), bytes(r.leaf), stored) for r in entries)
        after = indexes[-1]
    finding = check.finish()
    return {
        "ok": finding.ok,
        "checked": finding.checked,
        "first_bad_index": finding.first_bad_index,
        "reason": finding.reason,
    }
