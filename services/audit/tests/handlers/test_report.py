"""Generating incident reports against the real database: the report is built from what the
log recorded, kept, and announced; each halt condition answers its 4xx and writes nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import func, select

from audit.adapters.orm import outbox, reports
from audit.domain.report import ReportRequest
from audit.handlers.log import record
from audit.handlers.report import generate
from audit.testing import incident_story
from backbone.auth import Principal, replicate_users
from backbone.problems import Problem
from backbone.uow import UnitOfWork
from contracts.enums import IncidentReportStatus, ReportType, Role, UserStatus
from contracts.envelope import Envelope
from contracts.events import UserRegistered

START = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)


async def _user(uow: UnitOfWork, tenant_id: UUID, status: UserStatus = UserStatus.ACTIVE) -> Principal:
    user = UserRegistered(user_id=uuid4(), tenant_id=tenant_id, role=Role.INCIDENT_MANAGER, status=status)
    await replicate_users(uow, [(Envelope.wrap(user, source="directory", tenant_id=tenant_id), user)])
    return Principal(user_id=user.user_id, tenant_id=tenant_id, role=Role.INCIDENT_MANAGER)


async def _incident(uow: UnitOfWork, tenant_id: UUID, **kw: Any) -> UUID:
    incident_id = uuid4()
    await record(uow, [(e, None) for e in incident_story(tenant_id, incident_id, START, **kw)])
    return incident_id


async def _written(uow: UnitOfWork, tenant_id: UUID) -> tuple[int, int]:
    kept = await uow.session.scalar(
        select(func.count()).select_from(reports).where(reports.c.tenant_id == tenant_id)
    )
    announced = await uow.session.scalar(
        select(func.count()).select_from(outbox).where(outbox.c.event_type == "report.generated.v1")
    )
    return kept or 0, (announced or 0) + len(uow.emitted)


async def test_a_report_is_built_from_the_log_kept_and_announced(uow: UnitOfWork) -> None:
    tenant = uuid4()
    caller = await _user(uow, tenant)
    incident_id = await _incident(uow, tenant)
    other_tenant = uuid4()
    await _incident(uow, other_tenant)  # another tenant's log never joins

    answer = await generate(
        uow, caller, ReportRequest(incident_id, ReportType.TECHNICAL_DETAILS), max_records=100
    )
    row = (await uow.session.execute(select(reports).where(reports.c.id == answer["report_id"]))).one()
    assert row.tenant_id == tenant and row.status == "completed" and row.records == 9
    content = row.content
    assert content["summary"]["reference_code"] == "INC-42" and content["summary"]["status"] == "resolved"
    assert (
        content["summary"]["minutes_to_acknowledge"] == 5.0
        and content["summary"]["minutes_to_resolve"] == 40.0
    )
    assert [c["clock"] for c in content["impact"]["sla"]] == ["resolution"]
    assert {g["kind"] for g in content["actions"]} >= {"escalation", "change", "task"}
    assert {o["label"] for o in content["open_actions"]} >= {"Roll back the gateway", "Call the bank"}
    (announced,) = uow.emitted
    assert announced.type == "report.generated.v1" and announced.subject == str(answer["report_id"])
    assert announced.data["incident_id"] == str(incident_id) and announced.data["records"] == 9
    assert announced.actor.user_id == caller.user_id


async def test_a_draft_keeps_its_status(uow: UnitOfWork) -> None:
    tenant = uuid4()
    caller = await _user(uow, tenant)
    incident_id = await _incident(uow, tenant)
    request = ReportRequest(incident_id, ReportType.EXECUTIVE_SUMMARY, IncidentReportStatus.DRAFT)
    answer = await generate(uow, caller, request, max_records=100)
    assert (
        await uow.session.scalar(select(reports.c.status).where(reports.c.id == answer["report_id"]))
        == "draft"
    )


HALTS = [
    # (what, how the request is made wrong, status, words of the detail)
    ("unknown incident", {"incident": "unknown"}, 422, "does not exist"),
    ("another tenant's incident", {"incident": "foreign"}, 422, "does not exist"),
    ("user not in the users replica", {"user": "missing"}, 422, "does not exist in this tenant"),
    ("suspended user", {"user": "suspended"}, 422, "suspended"),
    (
        "post-incident report of an open incident",
        {"resolved": False, "type": ReportType.POST_INCIDENT},
        409,
        "resolved",
    ),
    ("generated archived", {"status": IncidentReportStatus.ARCHIVED}, 422, "draft or completed"),
    ("more records than a report holds", {"max_records": 8}, 409, "report generation failed"),
]


@pytest.mark.parametrize(("what", "wrong", "status", "words"), HALTS, ids=[h[0] for h in HALTS])
async def test_each_halt_condition_answers_and_writes_nothing(
    uow: UnitOfWork, what: str, wrong: dict[str, Any], status: int, words: str
) -> None:
    tenant = uuid4()
    if wrong.get("user") == "missing":
        caller = Principal(user_id=uuid4(), tenant_id=tenant, role=Role.INCIDENT_MANAGER)
    else:
        caller = await _user(uow, tenant, UserStatus.SUSPENDED if wrong.get("user") else UserStatus.ACTIVE)
    incident_id = await _incident(uow, tenant, resolved=wrong.get("resolved", True))
    if wrong.get("incident") == "unknown":
        incident_id = uuid4()
    elif wrong.get("incident") == "foreign":
        incident_id = await _incident(uow, uuid4())
    request = ReportRequest(
        incident_id,
        wrong.get("type", ReportType.COMPLIANCE),
        wrong.get("status", IncidentReportStatus.COMPLETED),
    )
    before = await _written(uow, tenant)
    with pytest.raises(Problem) as refused:
        await generate(uow, caller, request, max_records=wrong.get("max_records", 100))
    assert refused.value.status == status and words in refused.value.detail, what
    assert await _written(uow, tenant) == before == (0, 0)
