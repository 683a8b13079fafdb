"""HTTP API of the tenants' logs: entries and their export, verification, checkpoints, verifier
keys, inclusion and consistency proofs, an incident's timeline (docs/audit.md).

Every endpoint needs a bearer token of a role with `audit.view`; everything read is the
caller's tenant's log.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import structlog
from aiokafka import AIOKafkaConsumer
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import PlainTextResponse, StreamingResponse
from pydantic import BaseModel, Field

from audit.domain.checkpoint import Signer
from audit.domain.log import ACTIONS, dead_letter
from audit.handlers import log as handlers
from audit.views import log as views
from backbone.app import Runtime, RuntimeDep, UowDep
from backbone.auth import Principal, requires
from backbone.db import is_transient
from backbone.problems import NotFound, Unprocessable
from contracts.permissions import Permission
from contracts.topics import SERVICES, dlq_topic

router = APIRouter(prefix="/v1", tags=["audit"])
JSONL = "application/jsonl"
NEXT = "X-Next-Cursor"


class AuditEntry(BaseModel):
    index: int = Field(description="0-based, gapless position in the tenant's log.")
    event_id: UUID
    event_type: str
    action: str = Field(description="The 002 action: create, update, approve, reject, delete or execute.")
    source: str
    subject: str
    actor: dict[str, Any]
    occurred_at: str = Field(description="When it happened (UTC, ISO 8601, as the leaf has it).")
    recorded_at: str = Field(description="When the log recorded it (UTC, ISO 8601).")
    data: dict[str, Any]
    leaf: str = Field(description="Base64 of the leaf bytes: the RFC 8785 JSON of the fields above.")


class Verification(BaseModel):
    ok: bool
    checked: int = Field(description="Entries checked.")
    first_bad_index: int | None = Field(description="The first entry found edited, missing or re-hashed.")
    reason: str | None


class CheckpointOut(BaseModel):
    id: int
    size: int
    root: str
    signed_at: datetime
    verifier_key: str
    note: str


class KeyOut(BaseModel):
    verifier_key: str
    first_used_at: datetime | None
    current: bool


class InclusionProof(BaseModel):
    index: int
    size: int
    leaf: str
    proof: list[str]


class ConsistencyProof(BaseModel):
    model_config = {"populate_by_name": True}
    from_: int = Field(alias="from")
    to: int
    proof: list[str]


Auditor = Annotated[Principal, requires(Permission.AUDIT_VIEW)]


def _signer(request: Request) -> Signer:
    signer: Signer = request.app.state.audit_signer
    return signer


SignerDep = Annotated[Signer, Depends(_signer)]


class Filters(BaseModel):
    subject: str | None = Field(None, description="Only entries about this aggregate id.")
    incident_id: UUID | None = Field(None, description="Only entries about this incident.")
    event_type: str | None = Field(None, description="Only this event type.")
    actor: UUID | None = Field(None, description="Only entries caused by this user.")
    action: str | None = Field(None, description="Only this action (create, update, approve, …).")
    since: datetime | None = Field(None, alias="from", description="Occurred at or after this time.")
    until: datetime | None = Field(None, alias="to", description="Occurred before this time.")


def _filters(filters: Annotated[Filters, Query()]) -> dict[str, Any]:
    if filters.action is not None and filters.action not in ACTIONS:
        raise Unprocessable(f"action must be one of {', '.join(ACTIONS)}", field="action")
    return filters.model_dump()


FiltersDep = Annotated[dict[str, Any], Depends(_filters)]


@router.get(
    "/audit",
    response_model=list[AuditEntry],
    responses={200: {"content": {JSONL: {}}, "headers": {NEXT: {"description": "The next page's `after`."}}}},
)
async def search(
    request: Request,
    response: Response,
    caller: Auditor,
    uow: UowDep,
    runtime: RuntimeDep,
    where: FiltersDep,
    after: Annotated[int, Query(ge=-1, description="Entries after this index (the cursor).")] = -1,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    format: Annotated[str | None, Query(description="`jsonl`: every match as JSON Lines.")] = None,
) -> Any:
    """The caller's tenant's entries in index order, a page at a time (the header X-Next-Cursor
    is the next page's `after`); with `Accept: application/jsonl` or `format=jsonl`, every
    matching entry as JSON Lines. Needs `audit.view`."""
    if format == "jsonl" or JSONL in request.headers.get("accept", ""):
        tenant_id = caller.tenant_id

        async def lines() -> AsyncIterator[bytes]:
            # Its own unit of work: the response outlives the request's.
            async with runtime.uow() as own:
                async for entry in views.export(own, tenant_id=tenant_id, where=where):
                    yield json.dumps(jsonable_encoder(entry), ensure_ascii=False).encode() + b"\n"

        return StreamingResponse(lines(), media_type=JSONL)
    entries = await views.search(uow, tenant_id=caller.tenant_id, where=where, after=after, limit=limit)
    if len(entries) == limit:
        response.headers[NEXT] = str(entries[-1]["index"])
    return entries


@router.get("/audit/verify", response_model=Verification)
async def verify(caller: Auditor, uow: UowDep) -> dict[str, Any]:
    """Rebuild every leaf of the caller's tenant's log from its fields and the tree from the
    leaves, in one streaming pass, and compare with the signed checkpoints; names the first
    entry found edited, missing or re-hashed. Needs `audit.view`."""
    return await views.verify(uow, tenant_id=caller.tenant_id)


@router.get("/audit/checkpoint", response_class=PlainTextResponse)
async def latest_checkpoint(caller: Auditor, uow: UowDep) -> str:
    """The latest signed checkpoint (a C2SP signed note, text/plain). Needs `audit.view`."""
    return await views.latest_note(uow, tenant_id=caller.tenant_id)


@router.get("/audit/checkpoints", response_model=list[CheckpointOut])
async def list_checkpoints(
    caller: Auditor,
    uow: UowDep,
    after: Annotated[int, Query(ge=0, description="Checkpoints after this id (the cursor).")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """Every checkpoint signed for the caller's tenant, oldest first. Needs `audit.view`."""
    return await views.checkpoints(uow, tenant_id=caller.tenant_id, after=after, limit=limit)


@router.get("/audit/checkpoint/key", response_class=PlainTextResponse)
async def verifier_key(caller: Auditor, signer: SignerDep) -> str:
    """The verifier key of the caller's tenant's checkpoints: `<name>+<hash>+<base64 key>`.
    Needs `audit.view`."""
    return signer.verifier(caller.tenant_id)


@router.get("/audit/checkpoint/keys", response_model=list[KeyOut])
async def verifier_keys(caller: Auditor, uow: UowDep, signer: SignerDep) -> list[dict[str, Any]]:
    """Every verifier key that has signed the caller's tenant's checkpoints, the current one
    first (older checkpoints verify with the key of their time). Needs `audit.view`."""
    return await views.keys(uow, tenant_id=caller.tenant_id, signer=signer)


@router.get("/audit/proofs/inclusion", response_model=InclusionProof)
async def inclusion_proof(
    caller: Auditor,
    uow: UowDep,
    index: Annotated[int, Query(ge=0, description="The entry's index.")],
    size: Annotated[int, Query(ge=1, description="The tree size of a checkpoint.")],
) -> dict[str, Any]:
    """RFC 6962 audit path of entry `index` in the tree of `size` entries. Needs `audit.view`."""
    return await views.inclusion(uow, tenant_id=caller.tenant_id, index=index, size=size)


@router.get("/audit/proofs/consistency", response_model=ConsistencyProof, response_model_by_alias=True)
async def consistency_proof(
    caller: Auditor,
    uow: UowDep,
    old: Annotated[int, Query(alias="from", ge=1, description="The older tree size.")],
    new: Annotated[int, Query(alias="to", ge=1, description="The newer tree size.")],
) -> dict[str, Any]:
    """RFC 6962 proof that the tree of `from` entries is a prefix of the tree of `to`. Needs
    `audit.view`."""
    return await views.consistency(uow, tenant_id=caller.tenant_id, old=old, new=new)


@router.get("/incidents/{incident_id}/timeline", response_model=list[AuditEntry])
async def timeline(caller: Auditor, uow: UowDep, incident_id: UUID) -> list[dict[str, Any]]:
    """Every recorded event about one incident of the caller's tenant, in log order. Needs
    `audit.view`. 404 when the caller's tenant has no entry about it (another tenant's incident
    included, or one not recorded yet)."""
    entries = await views.search(
        uow, tenant_id=caller.tenant_id, where={"incident_id": incident_id}, after=-1, limit=1000
    )
    if not entries:
        raise NotFound(f"no audit entries for incident {incident_id}")
    return entries


# --------------------------------------------------------------------------- dead letters

_log = structlog.get_logger(__name__)


async def watch_dead_letters(runtime: Runtime, *, pause_s: float = 1.0) -> None:
    """Every service's DLQ, read in a consumer group of audit's own: each message dead-lettered
    anywhere becomes an entry (what, which service, why; never the message), committed before
    its offset is. A fault of the database or broker rewinds and retries after a pause."""
    settings = runtime.settings
    consumer = AIOKafkaConsumer(
        *[settings.topic(dlq_topic(s)) for s in SERVICES],
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=f"{settings.group_id}.dead-letters",
        client_id=f"{settings.service_name}-dead-letters",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        while True:
            batches = await consumer.getmany(timeout_ms=1000, max_records=settings.consumer_max_records)
            records = [r for batch in batches.values() for r in batch]
            if not records:
                continue
            letters = [
                dead_letter(
                    topic=r.topic.removeprefix(settings.kafka_topic_prefix),
                    partition=r.partition,
                    offset=r.offset,
                    headers={k: bytes(v).decode(errors="replace") for k, v in r.headers or ()},
                    value=r.value,
                    at=runtime.clock.now(),
                )
                for r in records
            ]
            try:
                async with runtime.uow() as uow:
                    await handlers.record_dead_letters(uow, letters)
                    await uow.commit()
                await consumer.commit()
            except Exception as exc:  # nothing committed past what was recorded: read again
                _log.warning("dead letters not recorded; reading them again", error_type=type(exc).__name__,
                             transient=is_transient(exc))  # fmt: skip
                for tp, batch in batches.items():
                    consumer.seek(tp, batch[0].offset)
                await asyncio.sleep(pause_s)
    finally:
        with contextlib.suppress(Exception):
            await consumer.stop()
