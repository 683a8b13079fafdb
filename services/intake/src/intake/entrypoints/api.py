"""HTTP API of the intake service: translates alert webhooks into commands."""

import hmac
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from backbone.app import RuntimeDep, UowDep
from backbone.idempotency import respond_once
from backbone.problems import Problem, Unauthorized
from intake import handlers
from intake.config import Settings
from intake.domain.alertmanager import Webhook

router = APIRouter(prefix="/v1", tags=["alerts"])


class AcceptedAlert(BaseModel):
    dedup_key: str
    incident_id: UUID
    opened: bool


class AlertsAccepted(BaseModel):
    status: str = "accepted"
    alerts: list[AcceptedAlert]


def _check_token(settings: Settings, authorization: str | None) -> None:
    # Interim: one token from configuration until directory integrations exist (issue 3).
    expected = settings.alert_token.get_secret_value() if settings.alert_token else None
    scheme, _, token = (authorization or "").partition(" ")
    if (
        not expected
        or scheme.lower() != "bearer"
        or not hmac.compare_digest(token.encode(), expected.encode())
    ):
        raise Unauthorized("a valid integration token is required (Authorization: Bearer <token>)")


@router.post("/alerts/alertmanager", status_code=status.HTTP_202_ACCEPTED, response_model=AlertsAccepted)
async def alertmanager_webhook(
    body: Webhook,
    request: Request,
    runtime: RuntimeDep,
    uow: UowDep,
    authorization: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """Alertmanager webhook (version 4). Firing alerts open or update an incident.
    Accepts an Idempotency-Key header."""
    settings = runtime.settings
    assert isinstance(settings, Settings)
    _check_token(settings, authorization)
    tenant_id = await handlers.tenant_id_for(uow, settings.alert_tenant)
    if tenant_id is None:
        # Retryable: the tenant may not have replicated from directory yet.
        raise Problem(
            f"tenant {settings.alert_tenant!r} is not known to intake yet", status=503, title="Unavailable"
        )

    async def accept() -> tuple[int, AlertsAccepted]:
        accepted = await handlers.accept_alertmanager(uow, tenant_id, body)
        return 202, AlertsAccepted(alerts=[AcceptedAlert(**a.__dict__) for a in accepted])

    return await respond_once(request, uow, str(tenant_id), accept)
