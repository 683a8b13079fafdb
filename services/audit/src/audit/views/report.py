"""Incident reports as people read them: JSON, an HTML page with an SVG timeline, Markdown.

Everything in a report that came from a tenant (titles, notes, status names) is hostile text:
the HTML is rendered by Jinja2 with autoescape on, and the Markdown escapes every value it
prints, so a title holding markup shows as text. The page loads nothing from elsewhere; its
one style block is allowed by its hash in the Content-Security-Policy (docs/reports.md).
"""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import datetime
from importlib.resources import files
from typing import Any
from uuid import UUID

from jinja2 import Environment, PackageLoader, select_autoescape

from audit.adapters import report as store
from audit.domain.report import KIND_TITLES
from backbone.uow import UnitOfWork

HTML, MARKDOWN, JSON = "text/html", "text/markdown", "application/json"
OFFERED = (JSON, HTML, MARKDOWN)

STYLE = files("audit.views").joinpath("templates/report.css").read_text(encoding="utf-8")
STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
# Nothing but the page's own style block (and an empty data: icon, so the browser asks for no
# favicon): no scripts, fonts, images or frames from anywhere.
CSP = (
    f"default-src 'none'; style-src 'sha256-{STYLE_HASH}'; img-src data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
HTML_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


async def load(uow: UnitOfWork, tenant_id: UUID, report_id: UUID) -> dict[str, Any]:
    """The report as generated, with its current status (404 for another tenant's)."""
    row = await store.get(uow.session, tenant_id, report_id)
    return {**row.content, "status": row.status}


def negotiate(accept: str | None) -> str | None:
    """The offered type the Accept header prefers (JSON when it says nothing); None when it
    accepts none of them."""
    if not accept or not accept.strip():
        return JSON
    best: tuple[float, float, str] | None = None
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        media = media.lower()
        for rank, offered in enumerate(OFFERED):
            kind = offered.split("/")[0]
            if media in (offered, f"{kind}/*", "*/*") and quality > 0:
                # Prefer the higher quality, then the exact type, then the order offered.
                candidate = (quality, (media == offered) * 2 - rank / 10, offered)
                if best is None or candidate[:2] > best[:2]:
                    best = candidate
    return best[2] if best else None


# --------------------------------------------------------------------------- the timeline graphic

WIDTH, HEIGHT, LEFT, RIGHT, AXIS = 960, 250, 40, 40, 150


def _when(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def timeline_marks(report: dict[str, Any]) -> dict[str, Any]:
    """Where each mark of the SVG timeline goes: status changes on the axis, escalations below
    it, each SLA clock's due time as a dashed line and its breach as a cross."""
    events = [(t, item) for item in report.get("timeline", []) if (t := _when(item["at"]))]
    clocks = report.get("impact", {}).get("sla", [])
    times = [t for t, _ in events]
    for clock in clocks:
        times += [t for key in ("due_at", "breached_at") if (t := _when(clock.get(key)))]
    if not times:
        return {"width": WIDTH, "height": HEIGHT, "axis": AXIS, "marks": [], "ticks": []}
    start, end = min(times), max(times)
    span = (end - start).total_seconds() or 1.0

    def x(t: datetime) -> float:
        return round(LEFT + (t - start).total_seconds() / span * (WIDTH - LEFT - RIGHT), 1)

    marks: list[dict[str, Any]] = []
    statuses = [(t, i) for t, i in events if i["kind"] == "status"]
    for n, (t, item) in enumerate(statuses):
        marks.append(
            {
                "kind": "status",
                "x": x(t),
                "y": AXIS,
                "label_y": AXIS - 22 - (n % 3) * 18,
                "label": _short(item),
                "title": f"{item['label']} {item['detail']}".strip(),
                "at": item["at"],
            }
        )
    for t, item in events:
        if item["kind"] == "escalation":
            marks.append(
                {
                    "kind": "escalation",
                    "x": x(t),
                    "y": AXIS + 30,
                    "label": item["label"],
                    "title": f"{item['label']} {item['detail']}".strip(),
                    "at": item["at"],
                }
            )
    for n, clock in enumerate(clocks):
        if due := _when(clock.get("due_at")):
            marks.append(
                {
                    "kind": "sla-due",
                    "x": x(due),
                    "y": AXIS,
                    "label_y": HEIGHT - 8 - n * 14,
                    "label": f"{clock['clock']} due",
                    "title": f"{clock['clock']} SLA due",
                    "at": clock["due_at"],
                }
            )
        if breached := _when(clock.get("breached_at")):
            marks.append(
                {
                    "kind": "sla-breach",
                    "x": x(breached),
                    "y": AXIS,
                    "label": f"{clock['clock']} breached",
                    "title": f"{clock['clock']} SLA breached",
                    "at": clock["breached_at"],
                }
            )
    ticks = [
        {"x": x(start), "label": _stamp(start), "anchor": "start"},
        {"x": x(end), "label": _stamp(end), "anchor": "end"},
    ]
    return {"width": WIDTH, "height": HEIGHT, "axis": AXIS, "marks": marks, "ticks": ticks}


def _short(item: dict[str, Any]) -> str:
    label = str(item["label"]).removeprefix("Incident ")
    if item["event_type"].startswith("incident.status_changed"):
        match = re.search(r"to status: ([^;]+)", item["detail"])
        label = match.group(1) if match else label
    return label[:1].upper() + label[1:]


def _stamp(value: Any) -> str:
    t = _when(value)
    return t.strftime("%Y-%m-%d %H:%M UTC") if t else str(value or "")


# --------------------------------------------------------------------------- HTML and Markdown

# Within a line (every value follows "- ", "| " or a label), these are what Markdown acts on.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def md(value: Any) -> str:
    """A value as Markdown text that renders as itself: specials backslashed, HTML's
    characters as entities (a wiki that renders inline HTML shows them as text), one line."""
    if value is None:
        return ""
    text = str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = " ".join(text.split())
    return _MD_SPECIAL.sub(r"\\\1", text)


_HTML = Environment(
    loader=PackageLoader("audit.views", "templates"), autoescape=select_autoescape(["html", "j2"])
)
_MD = Environment(
    loader=PackageLoader("audit.views", "templates"),
    autoescape=False,
    finalize=md,
    keep_trailing_newline=True,
)
for _env in (_HTML, _MD):
    _env.filters["stamp"] = _stamp
    _env.globals["kind_titles"] = KIND_TITLES


def html(report: dict[str, Any]) -> str:
    return _HTML.get_template("report.html.j2").render(r=report, svg=timeline_marks(report), style=STYLE)


def markdown(report: dict[str, Any]) -> str:
    return _MD.get_template("report.md.j2").render(r=report)
