"""Change pages: the change requests the user may see (filters, paging), one change's workflow,
and its steps: approve or reject for approvers, schedule, start, complete, fail or cancel for
requesters; each passed on to changes, which decides again."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console.adapters.api import ApiError
from console.domain.change import STATUSES, STEPS, stages, steps
from console.domain.incident import next_page
from console.entrypoints.deps import (
    ApiDep,
    FormDep,
    SessionDep,
    act,
    form_page,
    no_store,
    render,
    uuid_or_404,
)
from contracts.enums import RiskLevel

router = APIRouter()
RISKS = tuple(r.value for r in RiskLevel)
PAGE = 50


def _id(value: str) -> str:
    return uuid_or_404(value, "change request")


@router.get("/changes")
async def change_list(request: Request, session: SessionDep, api: ApiDep) -> Response:
    status = request.query_params.get("status", "")
    risk = request.query_params.get("risk_level", "")
    after = request.query_params.get("after", "")
    params: list[tuple[str, str]] = [("limit", str(PAGE))]
    if status in STATUSES:
        params.append(("status", status))
    if risk in RISKS:
        params.append(("risk_level", risk))
    if after:
        params.append(("after", _id(after)))
    answer = await api.call("changes", "GET", "/v1/change-requests", session.token, params=params)
    following = next_page(answer.headers.get("link"))
    kept = [(k, v) for k, v in params if k in ("status", "risk_level")]
    context = {
        "changes": answer.body,
        "status": status,
        "risk": risk,
        "statuses": STATUSES,
        "risks": RISKS,
        "next_url": "/changes?" + urlencode(kept + following) if following else None,
    }
    return no_store(render(request, "changes.html", context, session=session))


async def _change_page(
    request: Request,
    session: SessionDep,
    api: ApiDep,
    change_id: str,
    error: str = "",
    status_code: int = 200,
) -> Response:
    change: dict[str, Any] = await api.get("changes", f"/v1/change-requests/{change_id}", session.token)
    context = {
        "c": change,
        "steps": steps(change, session.me),
        "stages": stages(str(change["status"])),
        "done": request.query_params.get("done") in STEPS,
    }
    return form_page(request, "change.html", context, session, error, status_code)


@router.get("/changes/{change_id}")
async def change_detail(change_id: str, request: Request, session: SessionDep, api: ApiDep) -> Response:
    return await _change_page(request, session, api, _id(change_id))


@router.post("/changes/{change_id}/step/{step}")
async def change_step(
    change_id: str, step: str, request: Request, session: SessionDep, api: ApiDep, form: FormDep
) -> Response:
    change_id = _id(change_id)
    if step not in STEPS:
        raise ApiError(404, f"no step {step[:40]!r}")
    comment = form.get("comment", "").strip()
    body = {"comment": comment} if step in ("approve", "reject") and comment else None
    path = f"/v1/change-requests/{change_id}/{step}"
    send = api.send("changes", "POST", path, session.token, body, form.get("form_key"))

    async def page(error: str, status: int) -> Response:
        return await _change_page(request, session, api, change_id, error, status)

    return await act(send, step, f"/changes/{change_id}?done={step}", page)
