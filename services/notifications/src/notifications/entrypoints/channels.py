"""HTTP routes of channels (docs/notifications.md): create, read, change, and test-send."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from backbone.app import Strict, UowDep
from backbone.idempotency import respond_once, user_scope
from backbone.problems import Unprocessable
from contracts.enums import ChannelKind
from notifications.entrypoints.deliveries import DeliveryOut
from notifications.entrypoints.deps import Manager, app_settings, channel_checks, secret_box
from notifications.handlers import channels as handlers
from notifications.views import channels as views
from notifications.views import deliveries as delivery_views

router = APIRouter(prefix="/v1")


class ChannelIn(Strict):
    kind: ChannelKind
    name: str = Field(min_length=1, max_length=200)
    config: dict[str, Any] = Field(
        description="Per kind (docs/notifications.md). email: host, port, security "
        "(starttls|tls|none), username, password, from_address, to. slack: webhook_url, or "
        "bot_token and channel. webhook: url, secret. Any secret may be "
        '{"secret_ref": "env:NOTIFY_<tenant id>_NAME"} instead of its value. Destinations '
        "must be public addresses unless the operator opened a range."
    )
    client_id: UUID | None = Field(default=None, description="Only this client's events use the channel.")
    enabled: bool = True


class ChannelChange(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    config: dict[str, Any] | None = Field(
        default=None, description='The whole config; secret fields sent back as "***" keep their value.'
    )
    client_id: UUID | None = None
    enabled: bool | None = None


class ChannelOut(BaseModel):
    id: UUID
    tenant_id: UUID
    client_id: UUID | None
    kind: ChannelKind
    name: str
    config: dict[str, Any]
    enabled: bool
    created_at: datetime
    updated_at: datetime


@router.post("/channels", status_code=status.HTTP_201_CREATED, response_model=ChannelOut, tags=["channels"])
async def create_channel(body: ChannelIn, request: Request, uow: UowDep, caller: Manager) -> Any:
    """A channel of the caller's tenant (optionally one client's). Secrets are stored encrypted
    and never shown again. Accepts `Idempotency-Key`."""

    async def work() -> tuple[int, Any]:
        row = await handlers.create_channel(
            uow,
            caller,
            secret_box(request),
            channel_checks(request),
            kind=body.kind,
            name=body.name,
            config=body.config,
            client_id=body.client_id,
            enabled=body.enabled,
        )
        return 201, ChannelOut.model_validate(row)

    return await respond_once(request, uow, user_scope(caller), work)


@router.get("/channels", response_model=list[ChannelOut], tags=["channels"])
async def list_channels(request: Request, uow: UowDep, caller: Manager) -> Any:
    return await views.list_channels(uow, caller, secret_box(request))


@router.get("/channels/{channel_id}", response_model=ChannelOut, tags=["channels"])
async def get_channel(channel_id: UUID, request: Request, uow: UowDep, caller: Manager) -> Any:
    return await views.get_channel(uow, caller, secret_box(request), channel_id)


@router.patch("/channels/{channel_id}", response_model=ChannelOut, tags=["channels"])
async def update_channel(
    channel_id: UUID, body: ChannelChange, request: Request, uow: UowDep, caller: Manager
) -> Any:
    """Rename, re-configure, move to a client or disable a channel (`enabled: false` is how a
    channel is retired: its pending deliveries then fail)."""
    changes = body.model_dump(exclude_unset=True)
    for name in ("name", "config", "enabled"):
        if name in changes and changes[name] is None:
            raise Unprocessable(f"{name}: may not be null", field=name)
    row = await handlers.update_channel(
        uow, caller, secret_box(request), channel_checks(request), channel_id, changes
    )
    await uow.commit()
    return row


class TestSendIn(Strict):
    address: str | None = Field(
        default=None,
        max_length=320,
        description="Email: where to send (default: the channel's `to`, else the caller's own address).",
    )


@router.post(
    "/channels/{channel_id}/test",
    tags=["channels"],
    response_model=DeliveryOut,
    responses={202: {"model": DeliveryOut, "description": "The delivery, still pending after `wait`."}},
)
async def test_channel(
    channel_id: UUID,
    request: Request,
    uow: UowDep,
    caller: Manager,
    body: TestSendIn | None = None,
    wait: Annotated[float, Query(ge=0, le=30, description="Seconds to wait for the outcome.")] = 5,
) -> Any:
    """Send a sample message through the channel now. Creates a delivery (sent by the channel's
    worker like any other) and waits up to `wait` seconds for its outcome: 200 with the
    delivery once it is sent or failed, 202 with it still pending otherwise (then see
    `GET /v1/deliveries/{id}`)."""
    queued = await handlers.test_send(
        uow,
        caller,
        channel_id,
        body.address if body else None,
        app_settings(request).incident_url,
    )
    await uow.commit()
    request.app.state.delivery_workers.wake()
    deadline = time.monotonic() + wait
    runtime = request.app.state.runtime
    while True:
        async with runtime.uow() as fresh:
            row = await delivery_views.get_delivery(fresh, caller, queued["delivery_id"])
        if row["status"] in ("sent", "failed") or time.monotonic() >= deadline:
            break
        await asyncio.sleep(0.1)
    code = 200 if row["status"] in ("sent", "failed") else 202
    return JSONResponse(jsonable_encoder(DeliveryOut.model_validate(row)), status_code=code)
