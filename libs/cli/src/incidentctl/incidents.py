"""``incidentctl incidents list|show|ack|assign|resolve|close|comment`` and ``incidentctl sla
show``: working incidents from the command line, over triage's and sla's public APIs
(docs/triage.md, docs/sla.md), as the caller's role allows (docs/permissions.md).

Human tables by default; ``--json`` prints the API's JSON for scripts. An incident is named by
its reference code (``INC-000123``, or just ``123``) or its id. Errors are the API's problem
detail on stderr (``error 403: …``) with exit code 1. ``ack`` and ``resolve`` wait (spinner on
stderr) until sla shows the clock they stop has stopped; ``--no-wait`` returns at once.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from incidentctl.admin import ApiError
from incidentctl.responders import (
    JsonOption,
    Platform,
    age,
    group,
    minutes,
    platform,
    print_json,
    stdout,
    wait_for,
    warn,
)

incidents = group("Work incidents: list, show, acknowledge, assign, resolve, close, comment.")
sla = group("An incident's SLA clocks.")

Reference = Annotated[str, typer.Argument(metavar="INCIDENT", help="INC-000123, 123, or the incident's id.")]
NoWait = Annotated[bool, typer.Option("--no-wait", help="Return once triage has it; do not wait for sla.")]
WaitTimeout = Annotated[float, typer.Option(help="Seconds to wait for sla to show the change.")]
Note = Annotated[str | None, typer.Option(help="Why; kept on the incident's update records.")]

SEVERITY_STYLE = {"P1": "bold red", "P2": "red", "P3": "yellow", "P4": "green"}


# --------------------------------------------------------------------------- output


def _incident_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(show_edge=False, pad_edge=False)
    for column in ("REF", "SEV", "STATUS", "TITLE", "ASSIGNEES", "AGE"):
        table.add_column(column, no_wrap=column != "TITLE")
    for row in rows:
        severity = row["severity"]
        table.add_row(
            row["reference_code"],
            f"[{SEVERITY_STYLE.get(severity, '')}]{severity}[/]",
            row["status"],
            row["title"],
            str(len(row.get("assignees") or [])),
            age(row["detected_at"]),
        )
    return table


def _clock_table(clocks: list[dict[str, Any]]) -> Table:
    table = Table(show_edge=False, pad_edge=False)
    for column in ("CLOCK", "STATE", "DUE", "REMAINING", "TARGET", "CALENDAR"):
        table.add_column(column, no_wrap=True)
    for clock in clocks:
        state = clock["state"]
        if clock["breached_at"]:
            state = f"[bold red]{state} (breached)[/]" if state != "breached" else "[bold red]breached[/]"
        elif clock["at_risk"]:
            state = f"[yellow]{state} (at risk)[/]"
        remaining = "" if clock["stopped_at"] else minutes(clock["remaining_minutes"])
        table.add_row(
            clock["kind"],
            state,
            clock["due_at"] or "",
            remaining,
            f"{clock['target_minutes']}m / {clock['deadline_minutes']}m",
            clock["calendar"],
        )
    return table


def _show_incident(row: dict[str, Any], comments: list[dict[str, Any]]) -> None:
    severity = row["severity"]
    stdout.print(
        f"[bold]{row['reference_code']}[/]  [{SEVERITY_STYLE.get(severity, '')}]{severity}[/]  "
        f"{row['status']}  {row['title']}",
        highlight=False,
    )
    fields = Table.grid(padding=(0, 2))
    fields.add_column(style="dim")
    fields.add_column()
    override = row.get("severity_override")
    flags = ", ".join(name for name, on in (row.get("severity_flags") or {}).items() if on) or "none"
    shown: list[tuple[str, Any]] = [
        ("id", row["id"]),
        ("severity", f"{severity} (computed {row.get('computed_severity')}; flags: {flags})"),
        ("override", f"{override}: {row.get('severity_override_reason')}" if override else None),
        ("source", row["source"]),
        ("client", row.get("client_id")),
        ("component", row.get("component_id")),
        ("assignees", ", ".join(str(a) for a in row.get("assignees") or []) or "none"),
        ("detected", f"{row['detected_at']} ({age(row['detected_at'])} ago)"),
        ("acknowledged", row.get("acknowledged_at")),
        ("resolved", row.get("resolved_at")),
        ("resolution", row.get("resolution")),
        ("closed", row.get("closed_at")),
        ("alerts", row.get("alert_count")),
    ]
    for name, value in shown:
        if value not in (None, ""):
            fields.add_row(name, str(value))
    stdout.print(fields)
    if row.get("description"):
        stdout.print(f"\n{row['description']}", highlight=False)
    if comments:
        stdout.print("\n[bold]Comments[/]")
        for c in comments:
            marker = " (internal)" if c["is_internal"] else ""
            stdout.print(f"[dim]{c['created_at']} {c['author_role'] or ''}{marker}[/]  {c['body']}")


DONE = {"acknowledge": "acknowledged", "resolve": "resolved", "close": "closed"}


def _add(p: Platform, row: dict[str, Any], what: str, body: dict[str, Any], as_json: bool, said: str) -> None:
    """Add something to the incident (an assignment, a comment): the answer, or ``said`` filled
    in from it."""
    added = p.triage("POST", f"/v1/incidents/{row['id']}/{what}", json=body)
    if as_json:
        print_json(added)
    else:
        stdout.print(f"{row['reference_code']}: " + said.format(**added), highlight=False)


def _move(
    p: Platform,
    reference: str,
    action: str,
    fields: dict[str, str | None],
    as_json: bool,
    wait: tuple[str, float] | None,
) -> None:
    """A status move at triage (the fields given, if any); then, with ``wait`` (a clock kind
    and seconds), until sla shows that clock stopped."""
    row = p.incident(reference)
    body = {name: value for name, value in fields.items() if value} or None
    done = p.triage("POST", f"/v1/incidents/{row['id']}/{action}", json=body)
    if as_json:
        print_json(done)
    else:
        stdout.print(f"{done['reference_code']} {DONE[action]}: status {done['status']}", highlight=False)
    if wait is not None:
        _wait_for_clock(p, row["id"], *wait)


def _wait_for_clock(p: Platform, incident_id: str, kind: str, timeout: float) -> None:
    """Until sla shows the incident's ``kind`` clock stopped (the event reached it); a warning,
    not a failure, when it does not in time: triage has applied the change already."""

    def stopped() -> dict[str, Any] | None:
        try:
            answer = p.client.call(p.sla_url, "GET", f"/v1/incidents/{incident_id}/sla")
        except ApiError as exc:
            if exc.status == 404:  # sla has not heard of the incident yet
                return None
            raise
        for clock in answer["clocks"]:
            if clock["kind"] == kind and clock["stopped_at"]:
                return dict(clock)
        return None

    try:
        clock = wait_for(f"sla to stop the {kind} clock", stopped, timeout)
    except ApiError as exc:
        warn(f"cannot follow the SLA clock ({exc}); the change itself is applied")
        return
    if clock is None:
        warn(f"sla has not shown the {kind} clock stopped after {timeout:g}s; the change itself is applied")
    else:
        state = "breached" if clock["breached_at"] else "met"
        stdout.print(f"{kind} clock stopped ({state}) at {clock['stopped_at']}", highlight=False)


# --------------------------------------------------------------------------- commands


@incidents.command("list")
def list_incidents(
    ctx: typer.Context,
    status: Annotated[list[str] | None, typer.Option(help="Only this status (repeat for several).")] = None,
    severity: Annotated[list[str] | None, typer.Option(help="Only this severity, e.g. P1 (repeat).")] = None,
    client_id: Annotated[str | None, typer.Option(help="Only this client's incidents.")] = None,
    assignee: Annotated[
        str | None, typer.Option(help="Only those assigned to this user id, or `me`.")
    ] = None,
    text: Annotated[str | None, typer.Option("-q", "--query", help="Text in title or description.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="At most this many, newest first.")] = 50,
    as_json: JsonOption = False,
) -> None:
    """The incidents you may see, newest first."""
    p = platform(ctx)
    params: dict[str, Any] = {"limit": limit}
    if status:
        params["status"] = status
    if severity:
        params["severity"] = [s.upper() for s in severity]
    if client_id:
        params["client_id"] = client_id
    if assignee:
        params["assignee_id"] = p.me() if assignee == "me" else assignee
    if text:
        params["q"] = text
    rows = p.triage("GET", "/v1/incidents", params=params)
    if as_json:
        print_json(rows)
    elif rows:
        stdout.print(_incident_table(rows))
    else:
        stdout.print("no incidents")


@incidents.command("show")
def show(ctx: typer.Context, reference: Reference, as_json: JsonOption = False) -> None:
    """One incident: severity and its flags, status, links, times, and its comments."""
    p = platform(ctx)
    row = p.incident(reference)
    if as_json:
        print_json(row)
        return
    _show_incident(row, p.triage("GET", f"/v1/incidents/{row['id']}/comments"))


@incidents.command("ack")
def ack(
    ctx: typer.Context,
    reference: Reference,
    note: Note = None,
    no_wait: NoWait = False,
    wait_timeout: WaitTimeout = 30.0,
    as_json: JsonOption = False,
) -> None:
    """Acknowledge an incident; then wait until sla has stopped its response clock."""
    wait = None if no_wait else ("response", wait_timeout)
    _move(platform(ctx), reference, "acknowledge", {"note": note}, as_json, wait)


@incidents.command("assign")
def assign(
    ctx: typer.Context,
    reference: Reference,
    user: Annotated[str, typer.Argument(help="The user's id, or `me`.")],
    cc: Annotated[bool, typer.Option("--cc", help="Add as a CC watcher instead of an assignee.")] = False,
    note: Note = None,
    as_json: JsonOption = False,
) -> None:
    """Assign a user to an incident (or add a CC watcher)."""
    p = platform(ctx)
    row = p.incident(reference)
    body: dict[str, Any] = {"user_id": p.me() if user == "me" else user, "kind": "cc" if cc else "assignee"}
    if note:
        body["note"] = note
    _add(p, row, "assign", body, as_json, "{user_id} added as {kind}")


@incidents.command("resolve")
def resolve(
    ctx: typer.Context,
    reference: Reference,
    resolution: Annotated[str | None, typer.Option(help="What fixed it.")] = None,
    note: Note = None,
    no_wait: NoWait = False,
    wait_timeout: WaitTimeout = 30.0,
    as_json: JsonOption = False,
) -> None:
    """Resolve an incident; then wait until sla has stopped its resolution clock."""
    wait = None if no_wait else ("resolution", wait_timeout)
    _move(platform(ctx), reference, "resolve", {"resolution": resolution, "note": note}, as_json, wait)


@incidents.command("close")
def close(ctx: typer.Context, reference: Reference, note: Note = None, as_json: JsonOption = False) -> None:
    """Close an incident (as the tenant's status catalog allows: usually once resolved)."""
    _move(platform(ctx), reference, "close", {"note": note}, as_json, None)


@incidents.command("comment")
def comment(
    ctx: typer.Context,
    reference: Reference,
    text: Annotated[str, typer.Argument(metavar="TEXT")],
    public: Annotated[
        bool | None,
        typer.Option("--public/--internal", help="Staff comments are internal unless --public."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Comment on an incident."""
    p = platform(ctx)
    row = p.incident(reference)
    body: dict[str, Any] = {"body": text}
    if public is not None:
        body["is_internal"] = not public
    _add(p, row, "comments", body, as_json, "comment added (internal: {is_internal})")


@sla.command("show")
def sla_show(ctx: typer.Context, reference: Reference, as_json: JsonOption = False) -> None:
    """The incident's response and resolution clocks: state, due time, time left."""
    p = platform(ctx)
    row = p.incident(reference)
    answer = p.sla("GET", f"/v1/incidents/{row['id']}/sla")
    if as_json:
        print_json(answer)
        return
    stdout.print(
        f"[bold]{row['reference_code']}[/]  {answer['severity']}  tier {answer['tier']}", highlight=False
    )
    if answer["clocks"]:
        stdout.print(_clock_table(answer["clocks"]))
    else:
        stdout.print("no clocks (no SLA policy applies, or sla has not started them yet)")


def register(app: typer.Typer) -> None:
    """Add the responder commands to incidentctl."""
    app.add_typer(incidents, name="incidents")
    app.add_typer(sla, name="sla")
