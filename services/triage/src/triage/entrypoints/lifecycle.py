"""HTTP routes that change an incident: field edits, status moves, the severity override, soft
delete."""

from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import Field

from backbone.app import Strict, UowDep
from backbone.problems import Unprocessable
from contracts.enums import Severity
from contracts.events.intake import ImpactFacts
from triage.domain.lifecycle import ACKNOWLEDGED, CLOSED, RESOLVED
from triage.entrypoints.deps import Deleter, Updater, _once
from triage.entrypoints.incident import IncidentOut, _incident
from triage.handlers import lifecycle, severity

router = APIRouter(prefix="/v1", tags=["incidents"])


class IncidentPatch(Strict):
    title: str | None = Field(default=None, min_length=1, max_length=300)
    description: str | None = Field(default=None, max_length=20000)
    category: str | None = Field(default=None, max_length=100)
    priority: str | None = Field(default=None, max_length=40)
    impact: ImpactFacts | None = None
    metadata: dict[str, Any] | None = None
    status: str | None = Field(default=None, max_length=40)
    note: str | None = Field(default=None, max_length=2000, description="Why; kept on the update records.")


@router.patch("/incidents/{incident_id}", response_model=IncidentOut)
async def patch_incident(
    incident_id: UUID, body: IncidentPatch, request: Request, caller: Updater, uow: UowDep
) -> JSONResponse:
    """Change fields of an incident (001 "Updating Incident Status").

    Needs `incidents.update` (incident managers, technical support, executives). Only the
    fields sent change; each changed field writes an update record. `impact` merges into the
    facts and re-evaluates the severity; `category` and `priority` must be active entries of the
    tenant's catalogs; `status` must be an allowed move of the status catalog (409 otherwise).
    """
    values = body.model_dump(exclude_unset=True, exclude={"note"})
    for name in ("title", "status", "impact", "metadata"):
        if name in values and values[name] is None:
            raise Unprocessable(f"{name}: may not be null", field=name)
    if body.impact is not None:
        values["impact"] = body.impact.model_dump(exclude_unset=True, mode="json")

    async def work() -> Any:
        await lifecycle.patch_incident(uow, caller, incident_id, values, body.note)
        return await _incident(uow, caller, incident_id)

    return await _once(request, uow, caller, 200, work)


class Note(Strict):
    note: str | None = Field(default=None, max_length=2000)


class Resolve(Strict):
    resolution: str | None = Field(default=None, max_length=20000)
    note: str | None = Field(default=None, max_length=2000)


class Reopen(Strict):
    reason: str = Field(min_length=1, max_length=2000)


def _mover(target: str) -> Callable[..., Awaitable[JSONResponse]]:
    async def move(
        incident_id: UUID, request: Request, caller: Updater, uow: UowDep, body: Note | None = None
    ) -> JSONResponse:
        async def work() -> Any:
            note = body.note if body else None
            await lifecycle.transition(uow, caller, incident_id, target, note=note)
            return await _incident(uow, caller, incident_id)

        return await _once(request, uow, caller, 200, work)

    return move


_DOC = (
    "Needs `incidents.update`. Moves the incident to `{0}` if the tenant's status catalog allows it"
    " from its current status (409 with the allowed moves otherwise). The first move out of `open`"
    " by a person also acknowledges the incident."
)
router.post(
    "/incidents/{incident_id}/acknowledge",
    response_model=IncidentOut,
    summary="Acknowledge an incident",
    description=_DOC.format(ACKNOWLEDGED),
)(_mover(ACKNOWLEDGED))
router.post(
    "/incidents/{incident_id}/close",
    response_model=IncidentOut,
    summary="Close an incident",
    description=_DOC.format(CLOSED),
)(_mover(CLOSED))


@router.post("/incidents/{incident_id}/resolve", response_model=IncidentOut)
async def resolve(
    incident_id: UUID, request: Request, caller: Updater, uow: UowDep, body: Resolve | None = None
) -> JSONResponse:
    """Resolve an incident, with an optional resolution text.

    Needs `incidents.update`. Allowed from any open status of the default catalog (409 when it
    is resolved or closed already). Announces `incident.resolved.v1` with the dedup key, so
    intake closes it."""

    async def work() -> Any:
        await lifecycle.transition(
            uow,
            caller,
            incident_id,
            RESOLVED,
            note=body.note if body else None,
            resolution=body.resolution if body else None,
        )
        return await _incident(uow, caller, incident_id)

    return await _once(request, uow, caller, 200, work)


@router.post("/incidents/{incident_id}/reopen", response_model=IncidentOut)
async def reopen(
    incident_id: UUID, body: Reopen, request: Request, caller: Updater, uow: UowDep
) -> JSONResponse:
    """Reopen a resolved or closed incident: it goes back to the default status (`open`), with
    a reason. Needs `incidents.update`."""

    async def work() -> Any:
        await lifecycle.reopen(uow, caller, incident_id, body.reason)
        return await _incident(uow, caller, incident_id)

    return await _once(request, uow, caller, 200, work)


class SeverityOverride(Strict):
    severity: Severity
    reason: str = Field(min_length=1, max_length=2000)


@router.put("/incidents/{incident_id}/severity-override", response_model=IncidentOut)
async def override_severity(
    incident_id: UUID, body: SeverityOverride, request: Request, caller: Updater, uow: UowDep
) -> JSONResponse:
    """Override the computed severity, with a reason. Incident managers only (403 for other
    roles). The computed severity and every flag stay visible beside the override."""

    async def work() -> Any:
        await severity.override_severity(uow, caller, incident_id, body.severity, body.reason)
        return await _incident(uow, caller, incident_id)

    return await _once(request, uow, caller, 200, work)


@router.delete("/incidents/{incident_id}/severity-override", response_model=IncidentOut)
async def clear_severity_override(
    incident_id: UUID, request: Request, caller: Updater, uow: UowDep
) -> JSONResponse:
    """Drop the override: the computed severity applies again. Incident managers only."""

    async def work() -> Any:
        await severity.override_severity(uow, caller, incident_id, None, None)
        return await _incident(uow, caller, incident_id)

    return await _once(request, uow, caller, 200, work)


@router.delete("/incidents/{incident_id}", status_code=204)
async def delete_incident(incident_id: UUID, caller: Deleter, uow: UowDep) -> Response:
    """Soft-delete an incident: kept for the audit trail, no longer listed or readable.
    Needs `incidents.delete` (system administrators)."""
    await lifecycle.delete_incident(uow, caller, incident_id)
    await uow.commit()
    return Response(status_code=204)
