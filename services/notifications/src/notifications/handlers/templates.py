"""Template-override commands. The caller's unit of work commits."""

from __future__ import annotations

from typing import Any

from backbone.auth import Principal
from backbone.problems import NotFound, Unprocessable
from backbone.uow import UnitOfWork
from contracts.enums import ChannelKind
from contracts.envelope import new_id
from contracts.events import (
    CommunicationRecorded,
    ReminderDispatched,
    TemplateOverrideChanged,
)
from notifications.adapters import templates as template_store
from notifications.adapters.templates import TemplateRunner
from notifications.domain import templates
from notifications.handlers.routing import ROUTABLE_TYPES


async def put_template(
    uow: UnitOfWork,
    caller: Principal,
    runner: TemplateRunner,
    event_type: str,
    kind: ChannelKind,
    subject: str | None,
    body: str,
) -> dict[str, Any]:
    if kind is ChannelKind.WEBHOOK:
        raise Unprocessable("webhooks send the event envelope; they have no template", field="kind")
    known = (*ROUTABLE_TYPES, CommunicationRecorded.event_type, ReminderDispatched.event_type, "*")
    if event_type not in known:
        raise Unprocessable(f"event_type: {event_type} is not one notifications sends", field="event_type")
    try:
        await runner.check(kind, subject, body)
    except templates.TemplateError as exc:
        raise Unprocessable(f"template: {exc}", field="body") from None
    row = await template_store.save_override(
        uow.session,
        {
            "id": new_id(),
            "tenant_id": caller.tenant_id,
            "event_type": event_type,
            "channel_kind": kind.value,
            "subject": subject,
            "body": body,
        },
    )
    uow.emit(
        TemplateOverrideChanged(
            template_event_type=event_type, channel_kind=kind, subject_template=subject, body_template=body
        ),
        tenant_id=caller.tenant_id,
        actor=caller.actor,
    )
    return dict(row._mapping)


async def delete_template(uow: UnitOfWork, caller: Principal, event_type: str, kind: ChannelKind) -> None:
    if not await template_store.remove_override(uow.session, caller.tenant_id, event_type, kind.value):
        raise NotFound(f"no override for {event_type} on {kind.value}")
    uow.emit(
        TemplateOverrideChanged(template_event_type=event_type, channel_kind=kind, removed=True),
        tenant_id=caller.tenant_id,
        actor=caller.actor,
    )
