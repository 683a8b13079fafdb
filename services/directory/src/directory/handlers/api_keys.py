"""API keys: minted, listed, revoked and rotated for a user, under one rule of who may hold
whose keys (directory/domain/users.py check_may_manage_keys); exchanged for access tokens."""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from backbone.auth import Principal, TokenSigner
from backbone.problems import Conflict, Unauthorized
from backbone.uow import UnitOfWork
from contracts.enums import Role, UserStatus
from contracts.envelope import Actor, new_id
from contracts.events import ApiKeyIssued, ApiKeyRevoked
from directory.adapters import api_keys as repo
from directory.adapters import users as users_repo
from directory.domain import api_keys as keys
from directory.domain import users as user_rules


async def insert_key(
    uow: UnitOfWork, tenant_id: UUID, user_id: UUID, issued_by: UUID | None
) -> tuple[UUID, str, str]:
    key, key_id = keys.issue(), new_id()
    await repo.add(
        uow.session,
        {
            "id": key_id,
            "tenant_id": tenant_id,
            "user_id": user_id,
            "prefix": key.prefix,
            "hash": key.hash,
            "issued_by": issued_by,
        },
    )
    return key_id, key.prefix, key.secret


@dataclass(frozen=True)
class IssuedApiKey:
    id: UUID
    prefix: str
    api_key: str


async def _owner(uow: UnitOfWork, caller: Principal, user_id: UUID, *, active: bool) -> Any:
    """The user whose keys the caller acts on, after the rule of who may hold whose keys. The
    row stays locked to the end of the transaction, so a role change waits for a key being
    minted and then sees it (update_user revokes keys their issuer could not mint any more)."""
    user = await users_repo.ROWS.get(uow.session, caller.tenant_id, user_id, for_update=True)
    user_rules.check_may_manage_keys(
        caller_id=caller.user_id,
        caller_role=caller.role,
        user_id=user.id,
        user_role=Role(user.role),
        user_is_operator=user.is_platform_operator,
    )
    if active and user.status != UserStatus.ACTIVE.value:
        raise Conflict(f"the user is {user.status}; activate them first", field="status")
    return user


async def _mint(uow: UnitOfWork, caller: Principal, user_id: UUID) -> IssuedApiKey:
    key_id, prefix, secret = await insert_key(uow, caller.tenant_id, user_id, caller.user_id)
    uow.emit(
        ApiKeyIssued(key_id=key_id, tenant_id=caller.tenant_id, user_id=user_id, prefix=prefix),
        tenant_id=caller.tenant_id,
        actor=caller.actor,
    )
    return IssuedApiKey(key_id, prefix, secret)


async def issue_api_key(uow: UnitOfWork, caller: Principal, user_id: UUID) -> IssuedApiKey:
    """A new API key for an active user: one's own, or of a user whose role the caller could grant."""
    await _owner(uow, caller, user_id, active=True)
    return await _mint(uow, caller, user_id)


async def list_api_keys(uow: UnitOfWork, caller: Principal, user_id: UUID) -> list[Any]:
    """The user's keys, newest first: ids, prefixes and dates, never a secret or hash."""
    await _owner(uow, caller, user_id, active=False)
    return await repo.of_user(uow.session, caller.tenant_id, user_id)


async def _revoke(
    uow: UnitOfWork, tenant_id: UUID, ids: Sequence[UUID], actor: Actor, replaced_by: UUID | None = None
) -> list[Any]:
    """Revoke the live keys among ``ids``; one event each. Keys already revoked stay as they
    are (revoking twice changes nothing and says nothing)."""
    revoked = await repo.revoke(uow.session, tenant_id, ids, uow.now)
    for key in revoked:
        uow.emit(
            ApiKeyRevoked(
                key_id=key.id,
                tenant_id=tenant_id,
                user_id=key.user_id,
                prefix=key.prefix,
                replaced_by=replaced_by,
            ),
            tenant_id=tenant_id,
            actor=actor,
        )
    return revoked


async def _key(uow: UnitOfWork, caller: Principal, user_id: UUID, key_id: UUID) -> Any:
    return await repo.get_of_user(uow.session, caller.tenant_id, user_id, key_id)


async def revoke_api_key(uow: UnitOfWork, caller: Principal, user_id: UUID, key_id: UUID) -> Any:
    """Revoke one of the user's keys (idempotent); the key buys no access token from now on.
    Keys of deactivated users may be revoked too."""
    await _owner(uow, caller, user_id, active=False)
    key = await _key(uow, caller, user_id, key_id)
    await _revoke(uow, caller.tenant_id, [key_id], caller.actor)
    return await repo.ROWS.get(uow.session, caller.tenant_id, key.id)


async def rotate_api_key(uow: UnitOfWork, caller: Principal, user_id: UUID, key_id: UUID) -> IssuedApiKey:
    """A new key in place of a live one: the new key is shown once, the old one is revoked."""
    await _owner(uow, caller, user_id, active=True)
    await _key(uow, caller, user_id, key_id)
    issued = await _mint(uow, caller, user_id)
    if not await _revoke(uow, caller.tenant_id, [key_id], caller.actor, replaced_by=issued.id):
        raise Conflict(f"API key {key_id} is revoked; issue a new key instead")
    return issued


async def revoke_keys_beyond_issuers(uow: UnitOfWork, user: Any, actor: Actor) -> None:
    """After a user's role changed: revoke the keys others minted for them who could not mint
    them now (an incident manager's key for a user since made administrator would otherwise
    make its holder one). Keys of unknown issuer are revoked too; the user's own keys stay."""
    rows = await repo.live_with_issuers(uow.session, user.id)
    stale = [
        key.id
        for key in rows
        if key.role is None or Role(user.role) not in user_rules.grantable_roles(Role(key.role))
    ]
    if stale:
        await _revoke(uow, user.tenant_id, stale, actor)


async def exchange_api_key(uow: UnitOfWork, signer: TokenSigner, api_key: str) -> str:
    """POST /v1/auth/token: an active user's live (unrevoked) API key for a short-lived token."""
    refused = Unauthorized("the API key is not valid")
    prefix = keys.prefix_of(api_key)
    if prefix is None:
        raise refused
    row = await repo.live_by_prefix(uow.session, prefix)
    if row is None or not hmac.compare_digest(row.hash, keys.digest(api_key)):
        raise refused
    if row.status != UserStatus.ACTIVE.value:
        raise Unauthorized(f"the user is {row.status}")
    claims: dict[str, Any] = {
        "sub": str(row.id),
        "tid": str(row.tenant_id),
        "role": row.role,
        "cid": str(row.client_id) if row.client_id else None,
        "vid": str(row.vendor_id) if row.vendor_id else None,
    }
    if row.is_platform_operator:
        claims["op"] = True
    return signer.issue(claims)
