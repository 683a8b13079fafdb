"""Guards on the shared enumerations: a typo in a value breaks a contract between services."""

from __future__ import annotations

import inspect
import re
from enum import StrEnum

import pytest

from contracts import enums
from contracts.enums import (
    AnalysisMethod,
    AuditAction,
    ChangeRequestStatus,
    ClientStatus,
    ClientType,
    Degradation,
    IncidentSource,
    IncidentStatus,
    KbArticleStatus,
    PostIncidentReviewStatus,
    Priority,
    ProblemTicketStatus,
    RcaStatus,
    ReminderChannel,
    RollbackRequestStatus,
    Scope,
    Severity,
    SeverityFlag,
    SlaCalendar,
    SubscriptionTier,
    UserStatus,
    VendorStatus,
    Workaround,
    WorkaroundStatus,
    WorkOrderStatus,
)

SNAKE = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)*$")

ALL_ENUMS: list[type[StrEnum]] = [
    obj
    for _, obj in inspect.getmembers(enums, inspect.isclass)
    if issubclass(obj, StrEnum) and obj is not StrEnum and obj.__module__ == enums.__name__
]


def values(enum_cls: type[StrEnum]) -> list[str]:
    return [member.value for member in enum_cls]


# --------------------------------------------------------------------------- module shape


def test_all_lists_exactly_the_enum_classes() -> None:
    assert sorted(enums.__all__) == sorted(cls.__name__ for cls in ALL_ENUMS)
    assert len(enums.__all__) == len(set(enums.__all__))


@pytest.mark.parametrize("enum_cls", ALL_ENUMS, ids=lambda c: c.__name__)
def test_values_are_unique_and_non_empty(enum_cls: type[StrEnum]) -> None:
    vals = values(enum_cls)
    assert vals, f"{enum_cls.__name__} has no members"
    assert len(vals) == len(set(vals)), f"{enum_cls.__name__} has duplicate values (aliases)"


@pytest.mark.parametrize("enum_cls", [c for c in ALL_ENUMS if c is not Severity], ids=lambda c: c.__name__)
def test_values_are_lowercase_snake_case(enum_cls: type[StrEnum]) -> None:
    for member in enum_cls:
        assert SNAKE.match(member.value), f"{enum_cls.__name__}.{member.name} = {member.value!r}"


@pytest.mark.parametrize("enum_cls", [c for c in ALL_ENUMS if c not in (Severity, SlaCalendar)])
def test_member_names_match_values(enum_cls: type[StrEnum]) -> None:
    for member in enum_cls:
        assert member.name == member.value.upper(), f"{enum_cls.__name__}.{member.name}"


@pytest.mark.parametrize("enum_cls", ALL_ENUMS, ids=lambda c: c.__name__)
def test_each_class_has_a_one_line_docstring_citing_its_source(enum_cls: type[StrEnum]) -> None:
    doc = enum_cls.__doc__ or ""
    assert doc and "\n" not in doc.strip()
    assert re.match(r"^(00[0-4]|docs/architecture\.md)", doc), doc


# ------------------------------------------------- docs/architecture.md: security, severity, SLA


def test_roles_are_the_seven_of_the_security_model() -> None:
    roles = (
        "incident_manager, technical_support, account_manager, executive, "
        "vendor_contact, system_administrator, client_contact"
    )
    assert set(values(enums.Role)) == {r.strip() for r in roles.split(",")}


def test_severity_flags_are_exactly_the_nine_policy_names() -> None:
    assert set(values(SeverityFlag)) == {
        "p1_complete_outage",
        "p1_wide_impact",
        "p1_regulatory_safety_financial",
        "p1_priority_customer_or_recurrent",
        "p2_major_degradation",
        "p2_multi_department",
        "p2_sla_risk",
        "p3_localized",
        "p3_moderate_degradation",
    }


def test_severity_flag_prefix_gives_its_severity() -> None:
    assert SeverityFlag.P1_WIDE_IMPACT.severity is Severity.P1
    assert SeverityFlag.P2_SLA_RISK.severity is Severity.P2
    assert SeverityFlag.P3_LOCALIZED.severity is Severity.P3
    assert {f.severity for f in SeverityFlag} == {Severity.P1, Severity.P2, Severity.P3}


def test_severity_values_and_rank() -> None:
    assert values(Severity) == ["P1", "P2", "P3", "P4"]
    assert [s.rank for s in Severity] == [1, 2, 3, 4]
    assert sorted(Severity, key=lambda s: s.rank)[0] is Severity.P1
    assert Severity.P1.is_at_least(Severity.P2)
    assert Severity.P2.is_at_least(Severity.P2)
    assert not Severity.P4.is_at_least(Severity.P3)
    assert Severity("P3") is Severity.P3


def test_severity_priority_labels_from_001() -> None:
    assert [s.priority for s in Severity] == [Priority.CRITICAL, Priority.HIGH, Priority.MEDIUM, Priority.LOW]


def test_impact_fact_enums_match_the_severity_policy() -> None:
    assert values(Degradation) == ["complete_outage", "major", "moderate", "minor", "none"]
    assert values(Workaround) == ["none", "minimal", "available"]
    assert set(values(Scope)) == {
        "enterprise",
        "multiple_departments",
        "multiple_sites",
        "critical_function",
        "single_department",
        "localized",
        "non_critical_function",
    }


def test_sla_calendar_values_match_the_sla_policy() -> None:
    assert set(values(SlaCalendar)) == {"24x7", "business_hours"}


def test_subscription_tiers() -> None:
    assert values(SubscriptionTier) == ["premium", "standard", "basic"]


def test_incident_sources() -> None:
    assert set(values(IncidentSource)) == {"alertmanager", "events_v2", "generic", "manual", "public"}


# --------------------------------------------------------------------------- values quoted in the seeds


def test_000_001_quoted_values() -> None:
    # "Set initial status as requested", "Set status as active", "Set status as in progress".
    assert ChangeRequestStatus("requested") is ChangeRequestStatus.REQUESTED
    assert RollbackRequestStatus("requested") is RollbackRequestStatus.REQUESTED
    assert WorkaroundStatus("active") is WorkaroundStatus.ACTIVE
    assert RcaStatus("in_progress") is RcaStatus.IN_PROGRESS


def test_001_quoted_values() -> None:
    # "Set detection timestamp and initial status as open"; tiers Premium/Standard/Basic.
    assert IncidentStatus("open") is IncidentStatus.OPEN
    assert {"premium", "standard", "basic"} <= set(values(SubscriptionTier))
    assert {"P1", "P2", "P3", "P4"} == set(values(Severity))


def test_002_quoted_values() -> None:
    assert ProblemTicketStatus("open") is ProblemTicketStatus.OPEN
    assert WorkOrderStatus("created") is WorkOrderStatus.CREATED
    assert KbArticleStatus("draft") is KbArticleStatus.DRAFT
    assert PostIncidentReviewStatus("scheduled") is PostIncidentReviewStatus.SCHEDULED
    assert enums.IncidentReportStatus("completed") is enums.IncidentReportStatus.COMPLETED
    assert values(AuditAction) == ["create", "update", "approve", "reject", "delete", "execute"]
    # "approved_by_user (null until approved)", "completed_at (null until completed)".
    assert {"approved", "completed"} <= set(values(RollbackRequestStatus))
    assert "completed" in values(RcaStatus)


def test_003_quoted_values() -> None:
    # "(enterprise, mid-market, small business, or startup)", spaces/hyphens normalised.
    assert values(ClientType) == ["enterprise", "mid_market", "small_business", "startup"]
    assert ClientStatus("active") is ClientStatus.ACTIVE
    assert UserStatus("active") is UserStatus.ACTIVE
    assert VendorStatus("active") is VendorStatus.ACTIVE


def test_004_quoted_values() -> None:
    # catalog "open, triaged, in-progress, resolved, closed": triaged is named acknowledged here.
    assert {"open", "in_progress", "resolved", "closed"} <= set(values(IncidentStatus))
    assert values(IncidentStatus) == ["open", "acknowledged", "in_progress", "resolved", "closed"]
    assert "triaged" not in values(IncidentStatus)
    assert values(ReminderChannel) == ["email", "sms", "slack"]
    assert values(enums.EscalationTrigger) == ["manual", "automatic"]


def test_chosen_sets_hold_their_conventional_values() -> None:
    assert values(enums.ChangeType) == ["standard", "normal", "emergency"]
    assert "five_whys" in values(AnalysisMethod)
    assert {"mtta", "mttr"} <= set(values(enums.MetricType))


def test_members_compare_and_serialise_as_their_value() -> None:
    assert IncidentStatus.IN_PROGRESS == "in_progress"
    assert str(SeverityFlag.P2_SLA_RISK) == "p2_sla_risk"
    assert f"{Severity.P1}" == "P1"


def test_permissions_doc_matches_the_matrix() -> None:
    from pathlib import Path

    from contracts.permissions import GRANTS, Permission, matrix_markdown

    assert set(GRANTS) == set(Permission), "every permission needs its roles"
    doc = Path(__file__).resolve().parents[4] / "docs" / "permissions.md"
    assert doc.read_text().endswith(matrix_markdown()), "regenerate: uv run python -m contracts.permissions"
