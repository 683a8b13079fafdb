"""PagerDuty's own paths (docs/intake.md "PagerDuty-compatible paths"): a tool or SDK that
speaks to PagerDuty is switched to the platform by changing its base URL (over TLS:
docs/tls.md). ``POST /v2/enqueue`` is the Events v2 endpoint itself (the same function as
``POST /v1/alerts/events``: same routing-key authentication, same answers); ``POST
/v2/change/enqueue`` takes change events, which become completed change records."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse

from backbone.app import RuntimeDep, UowDep
from intake.domain import change_events
from intake.domain.limits import MAX_BODY_BYTES
from intake.entrypoints.alerts import EventAccepted, events_v2, routed_event
from intake.handlers.change_events import receive_change

router = APIRouter(tags=["pagerduty"], max_body_size=MAX_BODY_BYTES)

INVALID: dict[int | str, dict[str, Any]] = {
    400: {"description": "Invalid event: {status, message, errors}"},
    429: {"description": "Rate limited"},
}
ANY_JSON = {
    "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}
}

router.add_api_route(
    "/v2/enqueue",
    events_v2,
    methods=["POST"],
    status_code=status.HTTP_202_ACCEPTED,
    response_model=EventAccepted,
    responses=INVALID,
    openapi_extra=ANY_JSON,
    summary="PagerDuty Events API v2 (PagerDuty's path)",
    description="The PagerDuty path of `POST /v1/alerts/events`: the same endpoint, the same answers.",
)


@router.post(
    "/v2/change/enqueue", status_code=status.HTTP_202_ACCEPTED, responses=INVALID, openapi_extra=ANY_JSON
)
async def change_enqueue(request: Request, uow: UowDep, runtime: RuntimeDep) -> Response:
    """PagerDuty Change Events: `routing_key` (an events_v2 integration's token), `payload`
    {summary, source, timestamp, custom_details}, `links` [{href, text}]. Recorded as a completed
    change on the integration's component (the changes service; an incident on that component
    lists it among its related changes). Answers 202 {status, message, id}; 400 {status:
    "invalid event", message, errors}; 429 with Retry-After over the integration's rate limit."""
    routed = await routed_event(request, uow, runtime, change_events.parse)
    if isinstance(routed, Response):
        return routed
    event, integration = routed
    change_id = await receive_change(uow, integration, event)
    await uow.commit()
    body = {"status": "success", "message": "Change event processed", "id": str(change_id)}
    return JSONResponse(body, status_code=202)
