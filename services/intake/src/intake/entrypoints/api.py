"""HTTP API of the intake service: translates alert webhooks into commands."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from backbone.app import UowDep
from backbone.idempotency import respond_once
from backbone.problems import Unauthorized
from intake import handlers
from intake.domain.alertmanager import Webhook
from intake.domain.integrations import Integration

router = APIRouter(prefix="/v1", tags=["alerts"])


class AcceptedAlert(BaseModel):
    dedup_key: str
    incident_id: UUID
    opened: bool


class AlertsAccepted(BaseModel):
    status: str = "accepted"
    alerts: list[AcceptedAlert]


async def alert_integration(
    uow: UowDep, authorization: Annotated[str | None, Header()] = None
) -> Integration:
    """The integration whose bearer token authorizes the request. A dependency, so a request
    without a valid token is refused before its alerts are validated or anything is written."""
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("an integration token is required (Authorization: Bearer <token>)")
    integration = await handlers.integration_for_token(uow, token)
    if integration is None:
        raise Unauthorized("the integration token is not valid")
    if (why := integration.refuses_alertmanager()) is not None:
        raise Unauthorized(why)
    return integration


@router.post("/alerts/alertmanager", status_code=status.HTTP_202_ACCEPTED, response_model=AlertsAccepted)
async def alertmanager_webhook(
    body: Webhook,
    request: Request,
    uow: UowDep,
    integration: Annotated[Integration, Depends(alert_integration)],
) -> JSONResponse:
    """Alertmanager webhook (version 4), authenticated by an alertmanager or generic integration's
    token (`Authorization: Bearer <token>`). Firing alerts open or update an incident of the
    integration's tenant. Accepts an Idempotency-Key header."""

    async def accept() -> tuple[int, AlertsAccepted]:
        accepted = await handlers.accept_alertmanager(uow, integration, body)
        return 202, AlertsAccepted(alerts=[AcceptedAlert(**a.__dict__) for a in accepted])

    # Keys are the integration's own: two integrations of a tenant never replay each other.
    scope = f"{integration.tenant_id}/integration/{integration.id}"
    return await respond_once(request, uow, scope, accept)
