"""HTTP routes of problem tickets."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from backbone.app import Strict, UowDep
from changes.entrypoints.deps import ProblemManager, Viewer, listing, patched, write
from changes.handlers import problem as handlers
from changes.views import problem as views
from contracts.enums import ProblemTicketStatus

router = APIRouter(prefix="/v1", tags=["problems"])


class ProblemIn(Strict):
    incident_id: UUID
    title: str = Field(min_length=1, max_length=300)
    description: str | None = Field(default=None, max_length=20000)


class ProblemPatch(Strict):
    title: str | None = Field(default=None, min_length=1, max_length=300)
    description: str | None = Field(default=None, max_length=20000)
    status: ProblemTicketStatus | None = None
    workaround_id: UUID | None = None
    root_cause: str | None = Field(default=None, max_length=20000)


class Link(Strict):
    incident_id: UUID


@router.post("/problems", status_code=201, response_model=views.ProblemTicket)
async def open_problem(
    body: ProblemIn, request: Request, caller: ProblemManager, uow: UowDep
) -> JSONResponse:
    """Open a problem ticket from an incident (002 "Problem Tickets"): 201 with status `open`.
    Needs `problems.manage`; the incident must exist (422)."""
    fields = body.model_dump(exclude_none=True)
    return await write(request, uow, caller, 201, lambda: handlers.open_problem(uow, caller, fields))


@router.patch("/problems/{problem_id}", response_model=views.ProblemTicket)
async def update(
    problem_id: UUID, body: ProblemPatch, request: Request, caller: ProblemManager, uow: UowDep
) -> JSONResponse:
    """Update a problem: its status moves forward along open → investigating → known_error →
    resolved → closed (409 backwards or once closed); a known error needs its `workaround_id`
    (422)."""
    fields = patched(body, "title", "status")
    return await write(request, uow, caller, 200, lambda: handlers.update(uow, caller, problem_id, fields))


@router.post("/problems/{problem_id}/incidents", response_model=views.ProblemTicket)
async def link_incident(
    problem_id: UUID, body: Link, request: Request, caller: ProblemManager, uow: UowDep
) -> JSONResponse:
    """Link another incident to the problem (422 unknown incident; 409 already linked or closed)."""
    return await write(
        request, uow, caller, 200, lambda: handlers.link_incident(uow, caller, problem_id, body.incident_id)
    )


@router.get("/problems/{problem_id}", response_model=views.ProblemTicket)
async def get_problem(problem_id: UUID, caller: Viewer, uow: UowDep) -> dict[str, Any]:
    """One problem with its `incident_ids` (404 if unknown or out of the caller's scope)."""
    return await views.reader.get(uow.session, caller, problem_id)


listing(
    router,
    "/problems",
    views.ProblemTicket,
    views,
    "list_problems",
    "Problems the caller may see, oldest first; `incident_id` matches any linked incident.",
    status=ProblemTicketStatus,
    incident_id=UUID,
)
