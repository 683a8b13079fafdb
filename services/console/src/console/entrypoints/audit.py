"""Audit pages: a search of the tenant's log (filters, cursor paging) and the result of
verifying it; for roles with `audit.view` (audit refuses the others, and the menu hides it)."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console.adapters.api import ApiError
from console.entrypoints.deps import ApiDep, SessionDep, no_store, render

router = APIRouter()
FILTERS = ("incident_id", "event_type", "actor", "action", "from", "to")
ACTIONS = ("create", "update", "approve", "reject", "delete", "execute")
PAGE = 50


@router.get("/audit")
async def audit_search(request: Request, session: SessionDep, api: ApiDep) -> Response:
    given = {k: request.query_params.get(k, "").strip() for k in FILTERS}
    params = [(k, v) for k, v in given.items() if v]
    after = request.query_params.get("after", "").strip()
    error, status = "", 200
    entries: list[dict[str, object]] = []
    next_url = None
    try:
        query = [*params, ("limit", str(PAGE))] + ([("after", after)] if after.lstrip("-").isdigit() else [])
        answer = await api.call("audit", "GET", "/v1/audit", session.token, params=query)
        entries = answer.body
        cursor = answer.headers.get("x-next-cursor")
        if cursor:
            next_url = "/audit?" + urlencode([*params, ("after", cursor)])
    except ApiError as exc:  # shown above the filters, which stay as typed
        if exc.status == 401:
            raise
        error, status = exc.detail, exc.page_status
    context = {"given": given, "entries": entries, "next_url": next_url, "error": error, "actions": ACTIONS}
    return no_store(render(request, "audit.html", context, session=session, status_code=status))


@router.get("/audit/verify")
async def audit_verify(request: Request, session: SessionDep, api: ApiDep) -> Response:
    result = await api.get("audit", "/v1/audit/verify", session.token)
    return no_store(render(request, "verify.html", {"result": result}, session=session))
