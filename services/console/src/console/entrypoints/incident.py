"""Incident pages: the list (filters, sort, cursor paging, a rows fragment the page polls with
ETags), an incident's detail (with a polled live part: status and SLA clocks) and its actions,
each a form posted here and passed on to triage with the user's token."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from backbone.clock import SYSTEM_CLOCK
from console.adapters.api import ApiError
from console.domain.incident import (
    SEVERITIES,
    SORTS,
    STATUSES,
    Filters,
    actions,
)
from console.entrypoints.deps import (
    ApiDep,
    FormDep,
    SessionDep,
    act,
    form_page,
    no_store,
    render,
    settings_of,
    uuid_or_404,
)
from console.views import incident as views

router = APIRouter()

DONE_MESSAGES = {
    "acknowledge": "Acknowledged.",
    "assign": "Assigned.",
    "delegate": "Delegated.",
    "escalate": "Escalated.",
    "status": "Status changed.",
    "resolve": "Resolved.",
    "close": "Closed.",
    "reopen": "Reopened.",
    "comment": "Comment added.",
}


def _filters(request: Request) -> Filters:
    query: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        query.setdefault(key, []).append(value)
    return Filters.of(query)


def _now() -> datetime:
    return SYSTEM_CLOCK.now()  # the entrypoint reads the platform's clock; the views are given it


@router.get("/")
async def home() -> Response:
    return RedirectResponse("/incidents", status_code=303)


@router.get("/incidents")
async def incident_list(request: Request, session: SessionDep, api: ApiDep) -> Response:
    filters = _filters(request)
    settings = settings_of(request)
    page = await views.page(api, session.token, session.me, filters, settings.page_size, _now())
    known_clients = await views.clients(api, session.token, session.me)
    context = {
        "filters": filters,
        "page": page,
        "statuses": STATUSES,
        "severities": SEVERITIES,
        "sorts": SORTS,
        "clients": known_clients,
        "rows_url": "/incidents/rows" + ("?" + urlencode(filters.query()) if filters.query() else ""),
        "urlencode": urlencode,
    }
    return no_store(render(request, "incidents.html", context, session=session))


@router.get("/incidents/rows")
async def incident_rows(request: Request, session: SessionDep, api: ApiDep) -> Response:
    """The list's rows alone, polled by the page. The ETag is the fragment's hash: the browser
    revalidates with If-None-Match and an unchanged page is a 304 with no body."""
    filters = _filters(request)
    page = await views.page(api, session.token, session.me, filters, settings_of(request).page_size, _now())
    response: Response = render(
        request, "_rows.html", {"page": page, "urlencode": urlencode}, session=session
    )
    etag = '"' + hashlib.sha256(bytes(response.body)).hexdigest()[:32] + '"'
    if request.headers.get("if-none-match") == etag:
        response = Response(status_code=304)
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["Vary"] = "Cookie, HX-Request"
    return response


def _incident_id(value: str) -> str:
    return uuid_or_404(value, "incident")


async def _detail_page(
    request: Request,
    session: SessionDep,
    api: ApiDep,
    incident_id: str,
    error: str = "",
    status_code: int = 200,
) -> Response:
    detail = await views.detail(api, session.token, session.me, incident_id, _now())
    context = {
        "d": detail,
        "i": detail.incident,
        "actions": actions(detail.incident, session.me),
        "statuses": STATUSES,
        "severities": SEVERITIES,
        "done": DONE_MESSAGES.get(request.query_params.get("done", "")),
    }
    return form_page(request, "incident.html", context, session, error, status_code)


@router.get("/incidents/{incident_id}")
async def incident_detail(incident_id: str, request: Request, session: SessionDep, api: ApiDep) -> Response:
    return await _detail_page(request, session, api, _incident_id(incident_id))


@router.get("/incidents/{incident_id}/live")
async def incident_live(incident_id: str, request: Request, session: SessionDep, api: ApiDep) -> Response:
    """The detail page's polled part: status, acknowledgement and the SLA clocks."""
    incident, _, clocks = await views.live(api, session.token, _incident_id(incident_id), _now())
    response = render(request, "_live.html", {"i": incident, "clocks": clocks}, session=session)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def _body(name: str, form: dict[str, str]) -> tuple[str, str, str, dict[str, Any] | None]:
    """(method, path under the incident, the service, the JSON) of an action at triage."""

    def text(key: str) -> str | None:
        value = form.get(key, "").strip()
        return value or None

    if name in ("acknowledge", "close"):
        return "POST", f"/{name}", "triage", None
    if name in ("assign", "delegate"):
        return "POST", f"/{name}", "triage", {"user_id": text("user_id"), "note": text("note")}
    if name == "escalate":
        body = {"reason": text("reason")}
        if text("severity"):
            body["severity"] = text("severity")
        return "POST", "/escalate", "triage", body
    if name == "status":
        return "PATCH", "", "triage", {"status": text("status"), "note": text("note")}
    if name == "resolve":
        return "POST", "/resolve", "triage", {"resolution": text("resolution")}
    if name == "reopen":
        return "POST", "/reopen", "triage", {"reason": text("reason")}
    if name == "comment":
        return "POST", "/comments", "triage", {"body": text("body")}
    raise ApiError(404, f"no action {name[:40]!r}")


@router.post("/incidents/{incident_id}/act/{name}")
async def incident_action(
    incident_id: str, name: str, request: Request, session: SessionDep, api: ApiDep, form: FormDep
) -> Response:
    """One action: passed on to triage, which checks the role and the status again; success
    goes back to the page (303), a refusal shows the page with triage's reason."""
    incident_id = _incident_id(incident_id)
    method, path, service, body = _body(name, form)
    send = api.send(
        service, method, f"/v1/incidents/{incident_id}{path}", session.token, body, form.get("form_key")
    )

    async def page(error: str, status: int) -> Response:
        return await _detail_page(request, session, api, incident_id, error, status)

    return await act(send, name, f"/incidents/{incident_id}?done={name}", page)
