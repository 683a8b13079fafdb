"""HTTP API of notifications' delivery side: channels, routing rules, template overrides, user
preferences, test-sends and deliveries (docs/notifications.md).

Managing needs `notifications.manage` (system administrators, incident managers, account
managers); everything is the caller's tenant's, and another tenant's ids answer 404. Secrets
are write-only: reads show them as "***".
"""

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
from backbone.auth import Caller, Principal, requires
from backbone.idempotency import respond_once, user_scope
from backbone.problems import Forbidden, Unprocessable
from contracts.enums import ChannelKind, Role, Severity
from contracts.permissions import Permission
from notifications import handlers
from notifications.adapters.secrets import SecretBox
from notifications.domain.channels import Checks

router = APIRouter(prefix="/v1")

Manager = Annotated[Principal, requires(Permission.NOTIFICATIONS_MANAGE)]


def _box(request: Request) -> SecretBox:
    box: SecretBox = request.app.state.secret_box
    return box


def _checks(request: Request) -> Checks:
    checks: Checks = request.app.state.delivery_workers.checks
    return checks


def _settings(request: Request) -> Any:
    return request.app.state.runtime.settings


# --------------------------------------------------------------------------- channels


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
            _box(request),
            _checks(request),
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
    return await handlers.list_channels(uow, caller, _box(request))


@router.get("/channels/{channel_id}", response_model=ChannelOut, tags=["channels"])
async def get_channel(channel_id: UUID, request: Request, uow: UowDep, caller: Manager) -> Any:
    return await handlers.get_channel(uow, caller, _box(request), channel_id)


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
    row = await handlers.update_channel(uow, caller, _box(request), _checks(request), channel_id, changes)
    await uow.commit()
    return row


class TestSendIn(Strict):
    address: str | None = Field(
        default=None,
        max_length=320,
        description="Email: where to send (default: the channel's `to`, else the caller's own address).",
    )


class DeliveryOut(BaseModel):
    id: UUID
    tenant_id: UUID
    event_id: UUID
    event_type: str
    channel_id: UUID
    channel_kind: str
    recipient_key: str
    recipient_user_id: UUID | None
    incident_id: UUID | None
    communication_id: UUID | None
    reminder_id: UUID | None
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    sent_at: datetime | None
    failed_at: datetime | None
    created_at: datetime


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
        _box(request),
        channel_id,
        body.address if body else None,
        _settings(request).incident_url,
    )
    await uow.commit()
    request.app.state.delivery_workers.wake()
    deadline = time.monotonic() + wait
    runtime = request.app.state.runtime
    while True:
        async with runtime.uow() as fresh:
            row = await handlers.get_delivery(fresh, caller, queued["delivery_id"])
        if row["status"] in ("sent", "failed") or time.monotonic() >= deadline:
            break
        await asyncio.sleep(0.1)
    code = 200 if row["status"] in ("sent", "failed") else 202
    return JSONResponse(jsonable_encoder(DeliveryOut.model_validate(row)), status_code=code)


# --------------------------------------------------------------------------- rules


class RuleIn(Strict):
    name: str = Field(default="", max_length=200)
    event_types: list[str] = Field(
        min_length=1,
        max_length=50,
        description="Routable event types, e.g. incident.created.v1, sla.breached.v1, or * for all.",
    )
    min_severity: Severity | None = Field(default=None, description="Only events at least this severe.")
    client_id: UUID | None = Field(default=None, description="Only events of this client.")
    channel_ids: list[UUID] = Field(min_length=1, max_length=50)
    user_ids: list[UUID] = Field(default=[], max_length=500, description="Email these users (their address).")
    roles: list[Role] = Field(
        default=[], max_length=20, description="Email every active user with these roles."
    )
    event_targets: bool = Field(
        default=False,
        description="Also the people the event names: the assignee (assigned/delegated) and the "
        "escalation's target users and roles.",
    )
    enabled: bool = True


class RuleChange(Strict):
    name: str | None = Field(default=None, max_length=200)
    event_types: list[str] | None = Field(default=None, min_length=1, max_length=50)
    min_severity: Severity | None = None
    client_id: UUID | None = None
    channel_ids: list[UUID] | None = Field(default=None, min_length=1, max_length=50)
    user_ids: list[UUID] | None = Field(default=None, max_length=500)
    roles: list[Role] | None = Field(default=None, max_length=20)
    event_targets: bool | None = None
    enabled: bool | None = None


class RuleOut(BaseModel):
    id: UUID
    tenant_id: UUID
    name: str
    event_types: list[str]
    min_severity: Severity | None
    client_id: UUID | None
    channel_ids: list[UUID]
    user_ids: list[UUID]
    roles: list[str]
    event_targets: bool
    enabled: bool
    created_at: datetime
    updated_at: datetime


def _rule_values(body: BaseModel, *, unset: bool) -> dict[str, Any]:
    values = body.model_dump(exclude_unset=unset)
    if "roles" in values and values["roles"] is not None:
        values["roles"] = [r.value if isinstance(r, Role) else r for r in values["roles"]]
    return values


@router.post("/rules", status_code=status.HTTP_201_CREATED, response_model=RuleOut, tags=["rules"])
async def create_rule(body: RuleIn, request: Request, uow: UowDep, caller: Manager) -> Any:
    """A routing rule: which events (types, minimum severity, client) go to which channels and
    people. Accepts `Idempotency-Key`."""

    async def work() -> tuple[int, Any]:
        row = await handlers.create_rule(uow, caller, _rule_values(body, unset=False))
        return 201, RuleOut.model_validate(row)

    return await respond_once(request, uow, user_scope(caller), work)


@router.get("/rules", response_model=list[RuleOut], tags=["rules"])
async def list_rules(uow: UowDep, caller: Manager) -> Any:
    return await handlers.list_rules(uow, caller)


@router.get("/rules/{rule_id}", response_model=RuleOut, tags=["rules"])
async def get_rule(rule_id: UUID, uow: UowDep, caller: Manager) -> Any:
    return await handlers.get_rule(uow, caller, rule_id)


@router.patch("/rules/{rule_id}", response_model=RuleOut, tags=["rules"])
async def update_rule(rule_id: UUID, body: RuleChange, uow: UowDep, caller: Manager) -> Any:
    changes = _rule_values(body, unset=True)
    for name, value in changes.items():
        if value is None and name not in ("min_severity", "client_id"):
            raise Unprocessable(f"{name}: may not be null", field=name)
    row = await handlers.update_rule(uow, caller, rule_id, changes)
    await uow.commit()
    return row


@router.delete("/rules/{rule_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["rules"])
async def delete_rule(rule_id: UUID, uow: UowDep, caller: Manager) -> None:
    """Retire a rule (kept disabled, so the audit trail still shows what it was)."""
    await handlers.delete_rule(uow, caller, rule_id)
    await uow.commit()


# --------------------------------------------------------------------------- templates


class TemplateIn(Strict):
    subject: str | None = Field(default=None, max_length=1000, description="Email only.")
    body: str = Field(min_length=1, max_length=20_000, description="Email body, or Slack text (mrkdwn).")


class TemplateOut(BaseModel):
    id: UUID
    tenant_id: UUID
    event_type: str
    channel_kind: str
    subject: str | None
    body: str
    updated_at: datetime


@router.get("/templates", response_model=list[TemplateOut], tags=["templates"])
async def list_templates(uow: UowDep, caller: Manager) -> Any:
    """The tenant's overrides (anything not listed uses the built-in default)."""
    return await handlers.list_templates(uow, caller)


@router.put("/templates/{event_type}/{kind}", response_model=TemplateOut, tags=["templates"])
async def put_template(
    event_type: str, kind: ChannelKind, body: TemplateIn, request: Request, uow: UowDep, caller: Manager
) -> Any:
    """Override the Jinja2 template of one event type (or `*`) on one channel kind (email,
    slack). Checked on sample data first, with the limits of sending (time, memory, output): a
    template that does not render within them is refused (422)."""
    row = await handlers.put_template(
        uow, caller, request.app.state.template_runner, event_type, kind, body.subject, body.body
    )
    await uow.commit()
    return row


@router.delete("/templates/{event_type}/{kind}", status_code=status.HTTP_204_NO_CONTENT, tags=["templates"])
async def delete_template(event_type: str, kind: ChannelKind, uow: UowDep, caller: Manager) -> None:
    await handlers.delete_template(uow, caller, event_type, kind)
    await uow.commit()


# --------------------------------------------------------------------------- preferences


class PreferencesIn(Strict):
    muted_kinds: list[ChannelKind] = Field(default=[], description="Channel kinds not to reach this user on.")
    muted_event_types: list[str] = Field(default=[], max_length=100)
    min_severity: Severity | None = Field(default=None, description="Only events at least this severe.")
    slack_handle: str | None = Field(
        default=None, max_length=100, description="Slack member id (U…) or name."
    )


class PreferencesOut(BaseModel):
    user_id: UUID
    tenant_id: UUID
    muted_kinds: list[str]
    muted_event_types: list[str]
    min_severity: str | None
    slack_handle: str | None
    updated_at: datetime | None


def _self_or_manager(caller: Principal, user_id: UUID) -> None:
    if caller.user_id != user_id and not caller.can(Permission.NOTIFICATIONS_MANAGE):
        raise Forbidden("only the user or a notifications manager may see or change these preferences")


@router.get("/users/{user_id}/notification-preferences", response_model=PreferencesOut, tags=["preferences"])
async def get_preferences(user_id: UUID, uow: UowDep, caller: Caller) -> Any:
    _self_or_manager(caller, user_id)
    return await handlers.get_preferences(uow, caller, user_id)


@router.put("/users/{user_id}/notification-preferences", response_model=PreferencesOut, tags=["preferences"])
async def put_preferences(user_id: UUID, body: PreferencesIn, uow: UowDep, caller: Caller) -> Any:
    """A user's own notification preferences (or a notifications manager's change to them)."""
    _self_or_manager(caller, user_id)
    row = await handlers.put_preferences(uow, caller, user_id, body.model_dump())
    await uow.commit()
    return row


# --------------------------------------------------------------------------- deliveries


@router.get("/deliveries", response_model=list[DeliveryOut], tags=["deliveries"])
async def list_deliveries(
    uow: UowDep,
    caller: Manager,
    channel_id: UUID | None = None,
    status_: Annotated[str | None, Query(alias="status", pattern="^(pending|sending|sent|failed)$")] = None,
    event_id: UUID | None = None,
    incident_id: UUID | None = None,
    after: Annotated[UUID | None, Query(description="Cursor: the last id of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Any:
    """Deliveries of the tenant, newest first, with their outcome (attempts, last error)."""
    return await handlers.list_deliveries(
        uow,
        caller,
        channel_id=channel_id,
        status=status_,
        event_id=event_id,
        incident_id=incident_id,
        after=after,
        limit=limit,
    )


@router.get("/deliveries/{delivery_id}", response_model=DeliveryOut, tags=["deliveries"])
async def get_delivery(delivery_id: UUID, uow: UowDep, caller: Manager) -> Any:
    return await handlers.get_delivery(uow, caller, delivery_id)
