"""The incident pages' data, read from the services' APIs with the user's token: a page of the
list with each row's SLA clock, and everything the detail page shows. A part another service
cannot give (down, not yet aware of the incident, not for this role) is shown as a note in its
place; the page itself still renders."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from console.adapters.api import Api
from console.domain.incident import ClockView, Filters, clock_view, next_page, row_clock
from console.domain.session import Me
from contracts.permissions import Permission

MAX_PEOPLE = 500  # users listed for names and the assign form (directory's page limit)


async def people(api: Api, token: str, me: Me) -> dict[str, str]:
    """User id → name, for roles that may list users; others see ids."""
    if not me.can(Permission.USERS_VIEW):
        return {}
    body, _ = await api.optional("directory", "/v1/users", token, {"limit": MAX_PEOPLE, "status": "active"})
    return {str(u["id"]): f"{u['name']} ({u['role'].replace('_', ' ')})" for u in body or []}


async def clients(api: Api, token: str, me: Me) -> dict[str, str]:
    if not me.can(Permission.CLIENTS_VIEW):
        return {}
    body, _ = await api.optional("directory", "/v1/clients", token, {"limit": MAX_PEOPLE})
    return {str(c["id"]): str(c["client_name"]) for c in body or []}


@dataclass
class Page:
    rows: list[dict[str, Any]]
    next_query: list[tuple[str, str]] | None
    names: dict[str, str] = field(default_factory=dict)


async def page(api: Api, token: str, me: Me, filters: Filters, size: int, now: datetime) -> Page:
    answer = await api.call(
        "triage", "GET", "/v1/incidents", token, params=[*filters.query(), ("limit", str(size))]
    )
    incidents: list[dict[str, Any]] = answer.body
    slas, names = await asyncio.gather(
        asyncio.gather(*(api.optional("sla", f"/v1/incidents/{i['id']}/sla", token) for i in incidents)),
        people(api, token, me),
    )
    rows = [
        {"incident": i, "clock": row_clock(sla, now)} for i, (sla, _) in zip(incidents, slas, strict=True)
    ]
    following = next_page(answer.headers.get("link"))
    next_query = [*filters.query(paging=False), *following] if following else None
    return Page(rows, next_query, names)


@dataclass
class Detail:
    incident: dict[str, Any]
    clocks: list[ClockView]
    sla: dict[str, Any] | None
    parts: dict[str, Any]  # name → body (or None)
    notes: dict[str, str]  # name → why the part is missing
    names: dict[str, str]
    timeline_source: str


async def live(
    api: Api, token: str, incident_id: str, now: datetime
) -> tuple[dict[str, Any], Any, list[ClockView]]:
    """The parts of the detail page that refresh themselves: the incident and its clocks."""
    incident, (sla, _) = await asyncio.gather(
        api.get("triage", f"/v1/incidents/{incident_id}", token),
        api.optional("sla", f"/v1/incidents/{incident_id}/sla", token),
    )
    clocks = [clock_view(c, now) for c in (sla or {}).get("clocks", [])]
    return incident, sla, clocks


async def detail(api: Api, token: str, me: Me, incident_id: str, now: datetime) -> Detail:
    base = f"/v1/incidents/{incident_id}"
    # The timeline comes from audit's log for those who may read it, else triage's update records.
    timeline = (
        ("audit", f"{base}/timeline") if me.can(Permission.AUDIT_VIEW) else ("triage", f"{base}/updates")
    )
    wanted = {
        "assignments": ("triage", f"{base}/assignments"),
        "tasks": ("triage", f"{base}/tasks"),
        "comments": ("triage", f"{base}/comments"),
        "attachments": ("triage", f"{base}/attachments"),
        "escalations": ("triage", f"{base}/escalations/history"),
        "changes": ("changes", f"{base}/related-changes"),
        "timeline": timeline,
    }
    (incident, sla, clocks), names, *answers = await asyncio.gather(
        live(api, token, incident_id, now),
        people(api, token, me),
        *(api.optional(service, path, token) for service, path in wanted.values()),
    )
    parts = {name: body for name, (body, _) in zip(wanted, answers, strict=True)}
    notes = {name: note for name, (_, note) in zip(wanted, answers, strict=True) if note}
    return Detail(
        incident,
        clocks,
        sla,
        parts,
        notes,
        names,
        "audit log" if timeline[0] == "audit" else "update records",
    )
