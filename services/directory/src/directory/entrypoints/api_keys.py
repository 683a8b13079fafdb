"""HTTP routes of users' API keys: mint, list, revoke, rotate. One rule decides who may act on
whose keys: oneself, or a user whose role the caller could grant; a platform operator's keys
only the operator (docs/permissions.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from backbone.app import UowDep
from backbone.auth import Caller
from directory.entrypoints.deps import Out, committed
from directory.handlers import api_keys

router = APIRouter(prefix="/v1/users/{user_id}/api-keys", tags=["api keys"])


class ApiKeyOut(BaseModel):
    id: UUID
    prefix: str
    api_key: str = Field(description="Shown once; store it safely.")


class ApiKeyView(Out):
    id: UUID
    user_id: UUID
    prefix: str = Field(description="The key's public part: ipk_<prefix>_…")
    created_at: datetime
    revoked_at: datetime | None = Field(description="Set once revoked; a revoked key buys no token.")


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ApiKeyOut)
async def issue_api_key(user_id: UUID, uow: UowDep, caller: Caller) -> Any:
    """A new API key for an active user: anyone may make one for themselves; for others it takes
    the api_keys.manage permission and a user whose role the caller could grant."""
    return (await committed(uow, api_keys.issue_api_key(uow, caller, user_id))).__dict__


@router.get("", response_model=list[ApiKeyView])
async def list_api_keys(user_id: UUID, uow: UowDep, caller: Caller) -> Any:
    """The user's keys, newest first, revoked ones included; never a secret."""
    return await api_keys.list_api_keys(uow, caller, user_id)


@router.delete("/{key_id}", response_model=ApiKeyView)
async def revoke_api_key(user_id: UUID, key_id: UUID, uow: UowDep, caller: Caller) -> Any:
    """Revoke the key (idempotent): it buys no new access token; tokens it bought expire on
    their own (DIRECTORY_TOKEN_TTL_S). Answers the key with its revoked_at."""
    return await committed(uow, api_keys.revoke_api_key(uow, caller, user_id, key_id))


@router.post("/{key_id}/rotate", status_code=status.HTTP_201_CREATED, response_model=ApiKeyOut)
async def rotate_api_key(user_id: UUID, key_id: UUID, uow: UowDep, caller: Caller) -> Any:
    """A new key in place of this one (shown once); this one is revoked. 409 if already revoked."""
    return (await committed(uow, api_keys.rotate_api_key(uow, caller, user_id, key_id))).__dict__
