"""The rules of incident reports without a database: halt conditions, the sections built from an
incident's records, record types the table does not know, and the renderings (escaping,
negotiation, the timeline's marks)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from audit.domain import report as rules
from audit.domain.report import Record, Refused, ReportRequest
from audit.views import report as views
from contracts.enums import IncidentReportStatus, ReportType

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
INCIDENT = uuid4()
CHANGE, PIR, ODD = uuid4(), uuid4(), uuid4()
ROLL_BACK = {"id": str(CHANGE), "incident_id": str(INCIDENT), "title": "Roll back"}
HEAD = {"incident_id": str(INCIDENT), "reference_code": "INC-7", "title": "Payments down", "severity": "P2"}


class Log:
    """Records in log order, each a minute after the last."""

    def __init__(self) -> None:
        self.records: list[Record] = []

    def add(self, event_type: str, subject: UUID = INCIDENT, **data: Any) -> Log:
        n = len(self.records)
        self.records.append(
            Record(
                index=n,
                event_id=uuid4(),
                event_type=event_type,
                subject=str(subject),
                occurred_at=T0 + timedelta(minutes=n),
                actor={"user_id": str(uuid4()), "role": "incident_manager"},
                data=data,
            )
        )
        return self

    def incident(self, name: str, status: str = "open", **data: Any) -> Log:
        return self.add(f"incident.{name}.v1", **{**HEAD, "status": status, **data})


def lifecycle() -> Log:
    clock = {
        "incident_id": str(INCIDENT),
        "clock": "resolution",
        "severity": "P2",
        "started_at": T0.isoformat(),
    }
    due = (T0 + timedelta(minutes=6)).isoformat()
    return (
        Log()
        .incident(
            "created",
            severity_flags={"p2_major_degradation": True, "p1_wide_impact": False},
            impact={"degradation": "major"},
            detected_at=T0.isoformat(),
            description="cards fail",
        )
        .add("sla.clock_started.v1", **clock, due_at=due)
        .incident("acknowledged", "acknowledged", acknowledged_at=(T0 + timedelta(minutes=2)).isoformat())
        .incident("escalated", "acknowledged", cause="sla_breached", reason="too slow")
        .add("sla.breached.v1", **clock, due_at=due, breached_at=due)
        .add("change_request.created.v1", CHANGE, **ROLL_BACK, status="requested")
        .add("change_request.approved.v1", CHANGE, **ROLL_BACK, status="approved")
        .incident("task_added", "acknowledged", task_id="t1", task_title="Call the bank", task_status="open")
        .incident("task_added", "acknowledged", task_id="t2", task_title="Refund", task_status="open")
        .incident("task_updated", "acknowledged", task_id="t2", task_status="completed")
        .add(
            "workaround.implemented.v1",
            uuid4(),
            incident_id=str(INCIDENT),
            status="active",
            effectiveness_level="high",
        )
        .add("gizmo.calibrated.v3", ODD, incident_id=str(INCIDENT), title="Gizmo", status="pending")
        .incident("status_changed", "resolved", from_status="acknowledged", to_status="resolved")
        .incident(
            "resolved", "resolved", resolved_at=(T0 + timedelta(minutes=13)).isoformat(), resolution="fixed"
        )
        .add(
            "post_incident_review.scheduled.v1",
            PIR,
            id=str(PIR),
            incident_id=str(INCIDENT),
            status="scheduled",
            scheduled_date="2026-03-09",
        )
    )


def request(report_type: ReportType = ReportType.TECHNICAL_DETAILS, **kw: Any) -> ReportRequest:
    return ReportRequest(incident_id=INCIDENT, report_type=report_type, **kw)


def build(log: Log, report_type: ReportType = ReportType.TECHNICAL_DETAILS) -> dict[str, Any]:
    req = request(report_type)
    rules.check(req, log.records, max_records=1000)
    return rules.build(req, log.records, report_id=uuid4(), generated_by=uuid4(), now=T0 + timedelta(hours=1))


# --------------------------------------------------------------------------- halt conditions


def test_an_incident_the_log_never_saw_created_is_unknown() -> None:
    log = Log().add("sla.clock_started.v1", clock="response", incident_id=str(INCIDENT))
    with pytest.raises(Refused) as refused:
        rules.check(request(), log.records, max_records=10)
    assert refused.value.status == 422 and refused.value.field == "incident_id"
    with pytest.raises(Refused):
        rules.check(request(), [], max_records=10)


def test_a_deleted_incident_gets_no_report() -> None:
    log = Log().incident("created").incident("deleted")
    with pytest.raises(Refused) as refused:
        rules.check(request(), log.records, max_records=10)
    assert refused.value.status == 409 and "deleted" in refused.value.detail


def test_more_records_than_a_report_may_hold_fail_generation() -> None:
    log = Log().incident("created").incident("updated").incident("updated")
    rules.check(request(), log.records, max_records=3)
    with pytest.raises(Refused) as refused:
        rules.check(request(), log.records, max_records=2)
    assert refused.value.status == 409 and "report generation failed" in refused.value.detail


def test_a_post_incident_report_needs_the_incident_over() -> None:
    log = Log().incident("created")
    with pytest.raises(Refused) as refused:
        rules.check(request(ReportType.POST_INCIDENT), log.records, max_records=10)
    assert refused.value.status == 409
    rules.check(request(ReportType.TECHNICAL_DETAILS), log.records, max_records=10)
    log.incident("resolved", "resolved")
    rules.check(request(ReportType.POST_INCIDENT), log.records, max_records=10)


def test_a_report_is_generated_as_draft_or_completed_never_archived() -> None:
    log = Log().incident("created")
    rules.check(request(status=IncidentReportStatus.DRAFT), log.records, max_records=10)
    with pytest.raises(Refused) as refused:
        rules.check(request(status=IncidentReportStatus.ARCHIVED), log.records, max_records=10)
    assert refused.value.status == 422 and refused.value.field == "status"


# --------------------------------------------------------------------------- the sections


def test_the_summary_and_impact_come_from_the_records() -> None:
    report = build(lifecycle())
    summary = report["summary"]
    assert summary["reference_code"] == "INC-7" and summary["status"] == "resolved"
    assert summary["description"] == "cards fail" and summary["resolution"] == "fixed"
    assert summary["minutes_to_acknowledge"] == 2.0 and summary["minutes_to_resolve"] == 13.0
    impact = report["impact"]
    assert impact["severity_flags"] == ["p2_major_degradation"]
    assert impact["facts"] == {"degradation": "major"}
    (clock,) = impact["sla"]
    assert clock["clock"] == "resolution" and clock["breached_at"] and clock["state"] == "running"
    assert report["records"] == 15 and report["through_index"] == 14


def test_the_timeline_lists_every_record_in_order_with_its_kind() -> None:
    report = build(lifecycle())
    kinds = [item["kind"] for item in report["timeline"]]
    assert kinds[:5] == ["status", "sla", "status", "escalation", "sla_breach"]
    assert [i["index"] for i in report["timeline"]] == list(range(15))


def test_what_was_done_groups_actions_and_leaves_out_status_moves() -> None:
    groups = {g["kind"]: g for g in build(lifecycle())["actions"]}
    assert set(groups) >= {"escalation", "change", "task", "workaround", "pir", "other"}
    assert "status" not in groups and "sla" not in groups
    assert [e["label"] for e in groups["change"]["entries"]] == [
        "Change request created",
        "Change request approved",
    ]


def test_an_approved_root_cause_analysis_names_its_conductor_and_approver() -> None:
    rca, conductor, approver = uuid4(), uuid4(), uuid4()
    fields = {"incident_id": str(INCIDENT), "analysis_method": "five_whys", "conducted_by_id": str(conductor)}
    log = lifecycle().add(
        "root_cause_analysis.approved.v1", rca, **fields, status="approved", approved_by_id=str(approver)
    )
    (entry,) = {g["kind"]: g for g in build(log)["actions"]}["rca"]["entries"]
    assert f"conducted by id: {conductor}" in entry["detail"]
    assert f"approved by id: {approver}" in entry["detail"]


def test_open_actions_are_what_is_not_settled() -> None:
    opened = {(o["kind"], o["label"]): o["status"] for o in build(lifecycle())["open_actions"]}
    assert opened[("change", "Roll back")] == "approved"  # approved, not yet done
    assert opened[("task", "Call the bank")] == "open"
    assert ("task", "Refund") not in opened  # completed
    assert opened[("pir", "Post incident review scheduled")] == "scheduled"
    assert opened[("sla", "resolution SLA clock running, due " + (T0 + timedelta(minutes=6)).isoformat())]
    assert not any(kind in ("workaround", "incident") for kind, _ in opened)  # resolved; workarounds are done


def test_a_record_type_the_table_does_not_know_still_joins() -> None:
    report = build(lifecycle())
    (odd,) = [i for i in report["timeline"] if i["event_type"] == "gizmo.calibrated.v3"]
    assert odd["label"] == "Gizmo calibrated" and odd["kind"] == "other" and "title: Gizmo" in odd["detail"]
    assert {"kind": "other", "label": "Gizmo", "status": "pending", "since": odd["at"]} in report[
        "open_actions"
    ]


def test_each_report_type_names_its_sections() -> None:
    assert build(lifecycle(), ReportType.BUSINESS_IMPACT)["sections"] == ["summary", "impact", "open_actions"]
    assert build(lifecycle(), ReportType.COMPLIANCE)["sections"] == list(rules.SECTIONS)
    assert set(rules.TYPE_SECTIONS) == set(ReportType)


# --------------------------------------------------------------------------- renderings


def test_negotiation_prefers_what_the_client_asks_for() -> None:
    assert views.negotiate(None) == views.JSON
    assert views.negotiate("*/*") == views.JSON
    assert views.negotiate("text/html,application/xhtml+xml,*/*;q=0.8") == views.HTML
    assert views.negotiate("text/markdown") == views.MARKDOWN
    assert views.negotiate("text/*") == views.HTML
    assert views.negotiate("application/json;q=0.5, text/markdown;q=0.9") == views.MARKDOWN
    assert views.negotiate("application/xml") is None
    assert views.negotiate("text/html;q=0") is None


def hostile() -> dict[str, Any]:
    log = lifecycle()
    evil = "<script>alert(1)</script> | [x](javascript:alert(1)) **b**"
    log.records[0] = Record(**{**log.records[0].__dict__, "data": {**log.records[0].data, "title": evil}})
    log.incident("comment_added", "resolved", title=evil, body=evil)
    return build(log)


def test_the_page_shows_hostile_text_as_text() -> None:
    page = views.html(hostile())
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.count("<svg") == 1 and 'data-mark="sla-breach"' in page and 'data-mark="escalation"' in page
    assert "http://" not in page.replace(
        'xmlns="http://www.w3.org/2000/svg"', ""
    )  # nothing loaded from elsewhere


def test_the_page_style_is_the_one_its_policy_allows() -> None:
    page = views.html(build(lifecycle()))
    assert f"<style>{views.STYLE}</style>" in page and views.STYLE_HASH in views.CSP
    assert "script-src" not in views.CSP and "default-src 'none'" in views.CSP


def test_markdown_escapes_what_would_become_markup() -> None:
    text = views.markdown(hostile())
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "\\[x\\](javascript:alert(1))" in text and "\\*\\*b\\*\\*" in text and "\\|" in text
    assert text.startswith("# Technical report: INC-7 ")
    for heading in ("## Summary", "## Impact", "## Timeline", "## What was done", "## Open actions"):
        assert heading in text
    assert "- [ ] Tasks: Call the bank (open)" in text


def test_the_timeline_marks_status_changes_due_times_breaches_and_escalations() -> None:
    svg = views.timeline_marks(build(lifecycle()))
    kinds = [m["kind"] for m in svg["marks"]]
    assert kinds.count("escalation") == 1 and kinds.count("sla-due") == 1 and kinds.count("sla-breach") == 1
    assert kinds.count("status") == 4  # created, acknowledged, status changed, resolved
    xs = [m["x"] for m in svg["marks"] if m["kind"] == "status"]
    assert xs == sorted(xs) and xs[0] == 40 and all(40 <= x <= svg["width"] - 40 for x in xs)
