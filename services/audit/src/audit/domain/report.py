"""Incident reports (002 "Generating Incident Reports"): the rules of a request and the report
built from an incident's audit records.

A report is a snapshot: built once, from the records the log holds when it is generated, and
kept as built (docs/reports.md "Incident reports"). Every record type the log knows joins the
report through one table (``FAMILIES``): its kind, what to show of it, and which of its
statuses count as settled. A record type not in the table still appears in the timeline, under
a label made from its type name, and counts as an open action while its status is unsettled.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from fnmatch import fnmatchcase
from typing import Any
from uuid import UUID

from contracts.enums import IncidentReportStatus, ReportType

# Sections a report can hold, in reading order.
SECTIONS = ("summary", "impact", "timeline", "actions", "open_actions")

# Which sections each report type renders. JSON always carries all of them; the type decides
# what a person reads (the HTML page and the Markdown).
TYPE_SECTIONS: dict[ReportType, tuple[str, ...]] = {
    ReportType.EXECUTIVE_SUMMARY: ("summary", "impact", "actions", "open_actions"),
    ReportType.BUSINESS_IMPACT: ("summary", "impact", "open_actions"),
    ReportType.TECHNICAL_DETAILS: SECTIONS,
    ReportType.COMPLIANCE: SECTIONS,
    ReportType.POST_INCIDENT: SECTIONS,
}
TYPE_TITLES: dict[ReportType, str] = {
    ReportType.EXECUTIVE_SUMMARY: "Executive summary",
    ReportType.BUSINESS_IMPACT: "Business impact report",
    ReportType.TECHNICAL_DETAILS: "Technical report",
    ReportType.COMPLIANCE: "Compliance report",
    ReportType.POST_INCIDENT: "Post-incident report",
}
# A post-incident report is about an incident that is over.
AFTER_RESOLUTION = frozenset({ReportType.POST_INCIDENT})
# A report is generated as a draft or completed; archiving is a later step.
GENERATED_STATUSES = frozenset({IncidentReportStatus.DRAFT, IncidentReportStatus.COMPLETED})

CREATED = "incident.created"
DELETED = "incident.deleted"
RESOLVED_STATUSES = frozenset({"resolved", "closed"})
# Statuses after which a record asks nothing more of anyone.
SETTLED = frozenset(
    {
        "completed",
        "cancelled",
        "rejected",
        "failed",
        "rolled_back",
        "resolved",
        "closed",
        "published",
        "archived",
        "sent",
        "delivered",
        "dispatched",
    }
)


@dataclass(frozen=True)
class Family:
    """How one family of record types (a pattern over the type name without its version) joins
    the report: its ``kind``, the data fields that describe it, the field holding its status,
    the field naming the record (when its events are keyed by the incident), and which statuses
    are settled. ``acts`` says whether it is something done about the incident."""

    pattern: str
    kind: str
    detail: tuple[str, ...] = ()
    status: str | None = "status"
    key: str | None = None
    settled: frozenset[str] = SETTLED
    acts: bool = True


NEVER_OPEN = frozenset({"*"})
FAMILIES: tuple[Family, ...] = (
    Family("incident.created", "status", ("title",), status=None, acts=False),
    Family("incident.status_changed", "status", ("from_status", "to_status", "note"), None, acts=False),
    Family("incident.acknowledged", "status", ("via",), status=None, acts=False),
    Family("incident.resolved", "status", ("resolution",), status=None, acts=False),
    Family("incident.closed", "status", (), status=None, acts=False),
    Family("incident.reopened", "status", ("reason",), status=None, acts=False),
    Family("incident.deleted", "status", (), status=None, acts=False),
    Family("incident.triaged", "severity", ("computed_severity", "override_reason"), None, acts=False),
    Family("incident.updated", "update", (), status=None, acts=False),
    Family("incident.escalated", "escalation", ("cause", "reason", "level"), status=None),
    Family("incident.*assigned", "assignment", ("kind", "note"), status=None),
    Family("incident.delegated", "assignment", ("note",), status=None),
    Family("incident.comment_added", "communication", ("body",), status=None),
    Family("incident.task_*", "task", ("task_title", "task_status"), "task_status", "task_id"),
    Family("incident.attachment_added", "update", ("filename",), status=None, acts=False),
    Family("incident.*", "update", (), status=None, acts=False),
    Family("sla.breached", "sla_breach", ("clock", "due_at"), status=None, acts=False),
    Family("sla.at_risk", "sla_warning", ("clock", "due_at"), status=None, acts=False),
    Family("sla.*", "sla", ("clock", "due_at", "outcome"), status=None, acts=False),
    Family("communication.*", "communication", ("title", "communication_type", "delivery_status"), None),
    Family("reminder.*", "communication", ("reminder_type",), status=None),
    Family("notification.*", "notification", ("channel_kind", "source_event_type", "error"), None),
    Family("change_request.*", "change", ("title", "status", "risk_level")),
    Family("rollback_request.*", "change", ("status", "justification")),
    Family("work_order.*", "change", ("title", "status")),
    Family("workaround.*", "workaround", ("effectiveness_level", "status"), settled=NEVER_OPEN),
    Family(
        "root_cause_analysis.*",
        "rca",
        ("analysis_method", "status", "conducted_by_id", "approved_by_id"),
        settled=SETTLED | {"approved"},
    ),
    Family("problem.*", "problem", ("title", "status")),
    Family("post_incident_review.action_item_added", "pir_action", ("owner_id",), None, "action_item_id"),
    Family("post_incident_review.*", "pir", ("scheduled_date", "status", "overall_rating")),
    Family("kb_article.*", "knowledge", ("title", "status")),
    Family("report.*", "report", ("report_type", "status"), status=None, acts=False),
    Family("*", "other", ("title", "status", "reason")),
)
# The sentence that opens a kind's entries under "What was done".
KIND_TITLES = {
    "assignment": "Assignments",
    "escalation": "Escalations",
    "communication": "Communications",
    "notification": "Notifications",
    "task": "Tasks",
    "workaround": "Workarounds",
    "change": "Changes",
    "rca": "Root cause analysis",
    "problem": "Problems",
    "pir": "Post-incident review",
    "pir_action": "Post-incident review action items",
    "knowledge": "Knowledge base",
    "other": "Other records",
}


@dataclass(frozen=True)
class Record:
    """One audit entry about the incident or a record related to it."""

    index: int
    event_id: UUID
    event_type: str
    subject: str
    occurred_at: datetime
    actor: Mapping[str, Any]
    data: Mapping[str, Any]


@dataclass
class ReportRequest:
    incident_id: UUID
    report_type: ReportType
    status: IncidentReportStatus = IncidentReportStatus.COMPLETED


class Refused(Exception):
    """A halt condition of the procedure; ``status`` is the HTTP status that names it."""

    def __init__(self, detail: str, *, status: int, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail, self.status, self.field = detail, status, field


def base_type(event_type: str) -> str:
    """``change_request.approved.v1`` → ``change_request.approved``."""
    head, _, tail = event_type.rpartition(".")
    return head if head and tail.startswith("v") and tail[1:].isdigit() else event_type


def family_of(event_type: str) -> Family:
    name = base_type(event_type)
    return next(f for f in FAMILIES if fnmatchcase(name, f.pattern))


def label_of(event_type: str) -> str:
    """A readable name from the type alone: ``change_request.approved.v1`` → ``Change request approved``."""
    text = base_type(event_type).replace(".", " ").replace("_", " ").strip()
    if text.startswith("sla "):
        return "SLA " + text[4:]
    return text[:1].upper() + text[1:]


def check(request: ReportRequest, records: Sequence[Record], *, max_records: int) -> None:
    """The halt conditions that follow from the records (the incident is known, not deleted,
    not too large to report, over when the type needs it). Raises ``Refused``."""
    if request.status not in GENERATED_STATUSES:
        raise Refused("status: a report is generated as draft or completed", status=422, field="status")
    if not any(base_type(r.event_type) == CREATED and r.subject == str(request.incident_id) for r in records):
        raise Refused(f"incident {request.incident_id} does not exist", status=422, field="incident_id")
    if any(base_type(r.event_type) == DELETED for r in records):
        raise Refused(f"incident {request.incident_id} was deleted; it gets no report", status=409)
    if len(records) > max_records:
        raise Refused(
            f"report generation failed: incident {request.incident_id} has {len(records)} records, "
            f"over the {max_records} a report may hold",
            status=409,
        )
    if request.report_type in AFTER_RESOLUTION and _headline(records).get("status") not in RESOLVED_STATUSES:
        raise Refused(
            f"a {request.report_type} report needs a resolved or closed incident",
            status=409,
            field="report_type",
        )


def build(
    request: ReportRequest, records: Sequence[Record], *, report_id: UUID, generated_by: UUID, now: datetime
) -> dict[str, Any]:
    """The report, as JSON-ready data, from the incident's records in log order."""
    ordered = sorted(records, key=lambda r: (r.occurred_at, r.index))
    timeline = [_item(r) for r in ordered]
    return {
        "report_id": str(report_id),
        "incident_id": str(request.incident_id),
        "report_type": str(request.report_type),
        "title": TYPE_TITLES[request.report_type],
        "status": str(request.status),
        "generated_at": now.isoformat(),
        "generated_by_id": str(generated_by),
        "records": len(ordered),
        "through_index": max((r.index for r in ordered), default=None),
        "sections": list(TYPE_SECTIONS[request.report_type]),
        "summary": _summary(ordered),
        "impact": _impact(ordered),
        "timeline": timeline,
        "actions": _actions(timeline),
        "open_actions": _open_actions(ordered),
    }


# --------------------------------------------------------------------------- the sections


def _headline(records: Iterable[Record]) -> dict[str, Any]:
    """The incident's fields as its latest event states them (every incident event carries them)."""
    headline: dict[str, Any] = {}
    for r in sorted(records, key=lambda r: (r.occurred_at, r.index)):
        if base_type(r.event_type).startswith("incident."):
            headline.update(r.data)
    return headline


def _first(records: Sequence[Record], name: str, data_field: str) -> Any:
    return next(
        (
            r.data.get(data_field) or r.occurred_at.isoformat()
            for r in records
            if base_type(r.event_type) == name
        ),
        None,
    )


def _last(records: Sequence[Record], name: str, data_field: str) -> Any:
    found = [
        r.data.get(data_field) or r.occurred_at.isoformat()
        for r in records
        if base_type(r.event_type) == name
    ]
    return found[-1] if found else None


def _minutes(start: Any, end: Any) -> float | None:
    if not start or not end:
        return None
    return round(
        (datetime.fromisoformat(str(end)) - datetime.fromisoformat(str(start))).total_seconds() / 60, 1
    )


def _summary(records: Sequence[Record]) -> dict[str, Any]:
    head = _headline(records)
    created = next((r for r in records if base_type(r.event_type) == CREATED), None)
    opened = (created.data.get("detected_at") if created else None) or (
        created.occurred_at.isoformat() if created else None
    )
    acknowledged = _first(records, "incident.acknowledged", "acknowledged_at")
    resolved = _last(records, "incident.resolved", "resolved_at")
    return {
        "reference_code": head.get("reference_code"),
        "title": head.get("title"),
        "description": created.data.get("description") if created else None,
        "category": created.data.get("category") if created else None,
        "source": created.data.get("source") if created else None,
        "client_id": head.get("client_id"),
        "component_id": head.get("component_id"),
        "severity": head.get("severity"),
        "priority": head.get("priority"),
        "status": head.get("status"),
        "opened_at": opened,
        "acknowledged_at": acknowledged,
        "resolved_at": resolved,
        "closed_at": _last(records, "incident.closed", "closed_at"),
        "resolution": _last(records, "incident.resolved", "resolution"),
        "reopened": sum(1 for r in records if base_type(r.event_type) == "incident.reopened"),
        "minutes_to_acknowledge": _minutes(opened, acknowledged),
        "minutes_to_resolve": _minutes(opened, resolved),
    }


def _impact(records: Sequence[Record]) -> dict[str, Any]:
    created = next((r for r in records if base_type(r.event_type) == CREATED), None)
    flags: dict[str, bool] = dict(created.data.get("severity_flags") or {}) if created else {}
    severities: list[dict[str, Any]] = []
    if created:
        severities.append({"at": created.occurred_at.isoformat(), "severity": created.data.get("severity")})
    for r in records:
        if base_type(r.event_type) == "incident.triaged":
            flags = dict(r.data.get("severity_flags") or flags)
            severities.append(
                {
                    "at": r.occurred_at.isoformat(),
                    "severity": r.data.get("severity"),
                    "computed_severity": r.data.get("computed_severity"),
                    "override": bool(r.data.get("override")),
                    "reason": r.data.get("override_reason"),
                }
            )
    return {
        "facts": dict(created.data.get("impact") or {}) if created else {},
        "severity_flags": sorted(name for name, on in flags.items() if on),
        "severity_history": severities,
        "sla": _clocks(records),
    }


def _clocks(records: Sequence[Record]) -> list[dict[str, Any]]:
    """Each SLA clock as its events leave it: started, due, warned, breached, stopped."""
    clocks: dict[str, dict[str, Any]] = {}
    for r in records:
        name = base_type(r.event_type)
        if not name.startswith("sla.") or "clock" not in r.data:
            continue
        clock = clocks.setdefault(str(r.data["clock"]), {"clock": str(r.data["clock"]), "state": "running"})
        clock["due_at"] = r.data.get("due_at", clock.get("due_at"))
        clock.setdefault("started_at", r.data.get("started_at"))
        if name == "sla.at_risk":
            clock["warned_at"] = r.data.get("warned_at") or r.occurred_at.isoformat()
        elif name == "sla.breached":
            clock["breached_at"] = r.data.get("breached_at") or r.occurred_at.isoformat()
        elif name == "sla.clock_stopped":
            clock["state"] = r.data.get("outcome") or "stopped"
            clock["stopped_at"] = r.data.get("stopped_at")
        elif name == "sla.clock_paused":
            clock["state"] = "paused"
        elif name in ("sla.clock_resumed", "sla.clock_started"):
            clock["state"] = "running"
    return sorted(clocks.values(), key=lambda c: c["clock"])


def _detail(family: Family, data: Mapping[str, Any]) -> str:
    parts = []
    for name in family.detail:
        value = data.get(name)
        if value not in (None, "", [], {}):
            parts.append(f"{name.replace('_', ' ')}: {value}")
    return "; ".join(parts)


def _item(r: Record) -> dict[str, Any]:
    family = family_of(r.event_type)
    return {
        "at": r.occurred_at.isoformat(),
        "index": r.index,
        "event_id": str(r.event_id),
        "event_type": r.event_type,
        "kind": family.kind,
        "label": label_of(r.event_type),
        "detail": _detail(family, r.data),
        "actor": {"user_id": r.actor.get("user_id"), "role": r.actor.get("role")},
    }


def _actions(timeline: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """What was done, grouped by kind in the order kinds first appear."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for item in timeline:
        if family_of(item["event_type"]).acts:
            groups.setdefault(item["kind"], []).append(
                {k: item[k] for k in ("at", "label", "detail", "actor", "index")}
            )
    return [{"kind": k, "title": KIND_TITLES.get(k, k), "entries": v} for k, v in groups.items()]


@dataclass
class _Open:
    family: Family
    label: str
    status: str | None
    since: str

    @property
    def settled(self) -> bool:
        if self.family.settled is NEVER_OPEN:
            return True
        return self.status is not None and self.status in self.family.settled


def _open_actions(records: Sequence[Record]) -> list[dict[str, Any]]:
    """What is still open: the incident itself, running SLA clocks, and every related record
    (task, change, problem, review, …) whose latest status is not settled. A review's action
    items stay open: the log records no completion of them."""
    latest: dict[tuple[str, str], _Open] = {}
    for r in records:
        family = family_of(r.event_type)
        if family.key is not None and r.data.get(family.key) is not None:
            key = str(r.data[family.key])
        elif (
            family.status is not None
            and family.status in r.data
            and r.subject != str(r.data.get("incident_id"))
        ):
            key = r.subject
        else:
            continue
        known = latest.get((family.kind, key))
        status = r.data.get(family.status) if family.status else None
        title = r.data.get("task_title") or r.data.get("title")
        latest[(family.kind, key)] = _Open(
            family=family,
            label=str(title or (known.label if known else label_of(r.event_type))),
            status=None if status is None else str(status),
            since=known.since if known else r.occurred_at.isoformat(),
        )
    found: list[dict[str, Any]] = []
    head = _headline(records)
    if head.get("status") not in RESOLVED_STATUSES:
        found.append(
            {
                "kind": "incident",
                "label": "The incident is not resolved",
                "status": head.get("status"),
                "since": None,
            }
        )
    for clock in _clocks(records):
        if clock["state"] in ("running", "paused"):
            found.append(
                {
                    "kind": "sla",
                    "label": f"{clock['clock']} SLA clock {clock['state']}, due {clock.get('due_at')}",
                    "status": clock["state"],
                    "since": clock.get("started_at"),
                }
            )
    found.extend(
        {"kind": o.family.kind, "label": o.label, "status": o.status, "since": o.since}
        for o in latest.values()
        if not o.settled
    )
    return found
