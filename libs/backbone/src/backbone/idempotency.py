"""HTTP writes accept an ``Idempotency-Key`` header (docs/architecture.md "Delivery guarantees").

The first request with a key does its work and stores its response in the same transaction as
its effects; a retry with the same key and the same request gets the stored response and
changes nothing. The same key with a different request is refused (422), following the IETF
draft "The Idempotency-Key HTTP Header Field". Two concurrent requests with one key: the second
to commit hits the primary key, rolls its work back and answers what the first stored.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from backbone.problems import Unprocessable
from backbone.tables import IDEMPOTENCY
from backbone.uow import UnitOfWork

if TYPE_CHECKING:
    from backbone.auth import Principal

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200

Work = Callable[[], Awaitable[tuple[int, Any]]]


async def _request_hash(request: Request) -> str:
    digest = hashlib.sha256(f"{request.method} {request.url.path}\n".encode())
    digest.update(await request.body())
    return digest.hexdigest()


async def _stored(uow: UnitOfWork, scope: str, key: str, request_hash: str) -> JSONResponse | None:
    row = (
        await uow.session.execute(
            select(IDEMPOTENCY.c.request_hash, IDEMPOTENCY.c.status_code, IDEMPOTENCY.c.body).where(
                IDEMPOTENCY.c.tenant_key == scope, IDEMPOTENCY.c.key == key
            )
        )
    ).first()
    if row is None:
        return None
    if row.request_hash != request_hash:
        raise Unprocessable(f"{HEADER} {key!r} was already used for a different request", field=HEADER)
    return JSONResponse(
        json.loads(row.body), status_code=row.status_code, headers={"Idempotent-Replayed": "true"}
    )


def user_scope(caller: Principal) -> str:
    """The scope of a signed-in user's Idempotency-Keys: two users never replay each other."""
    return f"{caller.tenant_id}/user/{caller.user_id}"


async def respond_once(request: Request, uow: UnitOfWork, scope: str, work: Work) -> JSONResponse:
    """Run ``work`` (which must not commit) and commit, at most once per Idempotency-Key."""
    key = request.headers.get(HEADER)
    if key is None:
        status, body = await work()
        await uow.commit()
        return JSONResponse(jsonable_encoder(body), status_code=status)
    if not 0 < len(key) <= MAX_KEY_LENGTH:
        raise Unprocessable(f"{HEADER} must be 1 to {MAX_KEY_LENGTH} characters", field=HEADER)
    request_hash = await _request_hash(request)
    if (replay := await _stored(uow, scope, key, request_hash)) is not None:
        return replay
    status, body = await work()
    encoded = jsonable_encoder(body)
    inserted = await uow.session.scalar(
        insert(IDEMPOTENCY)
        .values(
            tenant_key=scope, key=key, request_hash=request_hash, status_code=status, body=json.dumps(encoded)
        )
        .on_conflict_do_nothing()
        .returning(IDEMPOTENCY.c.key)
    )
    if inserted is None:  # a concurrent request with this key committed first
        await uow.rollback()
        replay = await _stored(uow, scope, key, request_hash)
        assert replay is not None
        return replay
    await uow.commit()
    return JSONResponse(encoded, status_code=status)
