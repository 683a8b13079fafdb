"""What the incident pages show, as pure functions of the APIs' answers: the SLA countdown of a
clock, the clock a list row leads with, the actions a role may take on an incident, the list's
filters as triage's query (docs/adr/0014-web-console.md)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from console.domain.session import Me
from contracts.enums import IncidentStatus, Severity
from contracts.permissions import Permission

STATUSES = tuple(s.value for s in IncidentStatus)
SEVERITIES = tuple(s.value for s in Severity)
SORTS = {
    "-created": "Newest first",
    "created": "Oldest first",
    "severity": "Most severe first",
    "-severity": "Least severe first",
    "-updated": "Recently updated",
    "reference": "Reference",
}
OPEN_STATUSES = frozenset({"open", "acknowledged", "in_progress"})
DONE = frozenset({"resolved", "closed"})


def span(minutes: float) -> str:
    """A length of time the way a person reads it: 45s, 12m, 3h 05m, 2d 4h."""
    seconds = round(abs(minutes) * 60)
    if seconds < 60:
        return f"{seconds}s"
    m = seconds // 60
    if m < 60:
        return f"{m}m"
    h, m = divmod(m, 60)
    if h < 48:
        return f"{h}h {m:02d}m"
    d, h = divmod(h, 24)
    return f"{d}d {h}h"


@dataclass(frozen=True)
class ClockView:
    kind: str  # response | resolution
    state: str  # running | paused | met | breached | cancelled
    tone: str  # ok | risk | breached | paused | done: the row's colour and its text marker
    label: str  # what the cell says, never colour alone
    due_at: str | None


def clock_view(clock: Mapping[str, Any], now: datetime) -> ClockView:
    """The countdown of one clock as GET /v1/incidents/{id}/sla gives it. A running clock counts
    its remaining minutes on its own calendar (business hours or 24x7), as sla computed them
    when asked; an open clock past its deadline is breached even before sla's timer marks it."""
    kind, state = str(clock["kind"]), str(clock["state"])
    due = clock.get("due_at")
    remaining = float(clock.get("remaining_minutes") or 0.0)
    if state == "met":
        return ClockView(kind, state, "done", f"{kind}: met", due)
    if state == "cancelled":
        return ClockView(kind, state, "done", f"{kind}: cancelled", due)
    breached = state == "breached" or clock.get("breached_at") is not None or remaining <= 0
    if breached:
        over = f" {span(remaining)} over" if remaining < 0 else ""
        stopped = " (stopped)" if clock.get("stopped_at") else ""
        return ClockView(kind, "breached", "breached", f"{kind}: BREACHED{over}{stopped}", due)
    if state == "paused":
        return ClockView(kind, state, "paused", f"{kind}: paused, {span(remaining)} left", due)
    if clock.get("at_risk"):
        return ClockView(kind, state, "risk", f"{kind}: AT RISK, {span(remaining)} left", due)
    return ClockView(kind, state, "ok", f"{kind}: {span(remaining)} left", due)


def row_clock(sla: Mapping[str, Any] | None, now: datetime) -> ClockView | None:
    """The clock a list row leads with: a breached one first, else the first open one
    (response before resolution), else the last clock."""
    if not sla or not sla.get("clocks"):
        return None
    views = [clock_view(c, now) for c in sla["clocks"]]
    for tone in ("breached", "risk"):
        for v in views:
            if v.tone == tone and v.state != "met":
                return v
    for v in views:
        if v.tone in ("ok", "paused"):
            return v
    return views[-1]


@dataclass(frozen=True)
class Action:
    name: str  # the path segment of the console's POST (and mostly of triage's)
    label: str
    fields: tuple[str, ...] = ()  # form fields the action asks for


def actions(incident: Mapping[str, Any], me: Me) -> list[Action]:
    """The actions the signed-in role may take on the incident in its status; the rest are not
    shown (triage refuses them anyway)."""
    status = str(incident.get("status"))
    out: list[Action] = []
    update = me.can(Permission.INCIDENTS_UPDATE)
    if update and status == "open":
        out.append(Action("acknowledge", "Acknowledge"))
    if me.can(Permission.INCIDENTS_ASSIGN) and status not in DONE:
        out.append(Action("assign", "Assign", ("user_id", "note")))
    if me.can(Permission.INCIDENTS_DELEGATE) and status not in DONE and incident.get("assignees"):
        out.append(Action("delegate", "Delegate", ("user_id", "note")))
    if me.can(Permission.INCIDENTS_ESCALATE) and status not in DONE:
        out.append(Action("escalate", "Escalate", ("reason", "severity")))
    if update and status not in DONE:
        out.append(Action("status", "Change status", ("status", "note")))
        out.append(Action("resolve", "Resolve", ("resolution",)))
    if update and status == "resolved":
        out.append(Action("close", "Close"))
    if update and status in DONE:
        out.append(Action("reopen", "Reopen", ("reason",)))
    if me.can(Permission.INCIDENTS_COMMENTS_MANAGE):
        out.append(Action("comment", "Comment", ("body",)))
    return out


def allowed(incident: Mapping[str, Any], me: Me, name: str) -> bool:
    return any(a.name == name for a in actions(incident, me))


def _uuid(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return str(UUID(value.strip()))
    except ValueError:
        return None


@dataclass(frozen=True)
class Filters:
    """The list's filters as the page's form sends them; anything unknown is dropped, never
    passed on."""

    status: tuple[str, ...] = ()
    severity: tuple[str, ...] = ()
    client_id: str | None = None
    assignee_id: str | None = None
    q: str | None = None
    sort: str = "-created"
    after: str | None = None
    cursor: str | None = None

    @classmethod
    def of(cls, query: Mapping[str, Sequence[str]]) -> Filters:
        def one(name: str) -> str | None:
            values = query.get(name) or ()
            return values[-1].strip() if values and values[-1].strip() else None

        sort = one("sort") or "-created"
        text = one("q")
        return cls(
            status=tuple(s for s in query.get("status", ()) if s in STATUSES),
            severity=tuple(s for s in query.get("severity", ()) if s in SEVERITIES),
            client_id=_uuid(one("client_id")),
            assignee_id=_uuid(one("assignee_id")),
            q=text[:200] if text else None,
            sort=sort if sort in SORTS else "-created",
            after=_uuid(one("after")),
            cursor=one("cursor"),
        )

    def query(self, *, paging: bool = True) -> list[tuple[str, str]]:
        """The filters as query pairs, in one order (the same filters give the same URL)."""
        pairs = [("status", s) for s in self.status] + [("severity", s) for s in self.severity]
        for name in ("client_id", "assignee_id", "q"):
            value = getattr(self, name)
            if value:
                pairs.append((name, value))
        if self.sort != "-created":
            pairs.append(("sort", self.sort))
        if paging and self.after:
            pairs.append(("after", self.after))
        if paging and self.cursor:
            pairs.append(("cursor", self.cursor))
        return pairs


def next_page(link: str | None) -> list[tuple[str, str]] | None:
    """The cursor of triage's ``Link: <…?after=…>; rel="next"`` as the console's own paging
    parameters, or None on the last page."""
    if not link or 'rel="next"' not in link:
        return None
    from urllib.parse import parse_qsl, urlsplit

    target = link.split(";")[0].strip().strip("<>")
    pairs = [(k, v) for k, v in parse_qsl(urlsplit(target).query) if k in ("after", "cursor")]
    return pairs or None
