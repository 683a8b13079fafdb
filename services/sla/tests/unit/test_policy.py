"""The seeded policies against the source table, figures written out by hand (not from SEEDED).

How the table is read (docs/architecture.md "SLA policy"): a range is (target, deadline), lower
bound first; a single figure is both. Hours count on the row's calendar; 1 business day = 8
business hours (480 minutes), 1 week = 5 business days (2400 minutes).
"""

from __future__ import annotations

import pytest

from contracts.enums import Severity, SubscriptionTier
from sla.domain import policy
from sla.domain.policy import SEEDED, PolicyError, validate, warn_after

# tier, severity: calendar, response target, response deadline, resolution target, resolution deadline
TABLE = {
    # Premium, 24/7/365. P1 15-30 min / 2-4 h; P2 1-2 h / 8-24 h; P3 4-8 h / 48-72 h; P4 24-48 h / 128 h.
    ("premium", "P1"): ("24x7", 15, 30, 120, 240),
    ("premium", "P2"): ("24x7", 60, 120, 480, 1440),
    ("premium", "P3"): ("24x7", 240, 480, 2880, 4320),
    ("premium", "P4"): ("24x7", 1440, 2880, 7680, 7680),
    # Standard, business hours with on-call for P1. P1 1-2 h / 8-24 h; P2 4-8 h / 24-48 h;
    # P3 24 h / 72-120 h; P4 48-72 h / 168 h.
    ("standard", "P1"): ("24x7", 60, 120, 480, 1440),
    ("standard", "P2"): ("business_hours", 240, 480, 1440, 2880),
    ("standard", "P3"): ("business_hours", 1440, 1440, 4320, 7200),
    ("standard", "P4"): ("business_hours", 2880, 4320, 10080, 10080),
    # Basic, business hours only. P1 4-8 h / 24-48 h; P2 24 h / 72-120 h; P3 48-72 h / 5-10
    # business days; P4 5-7 business days / 2 weeks.
    ("basic", "P1"): ("business_hours", 240, 480, 1440, 2880),
    ("basic", "P2"): ("business_hours", 1440, 1440, 4320, 7200),
    ("basic", "P3"): ("business_hours", 2880, 4320, 2400, 4800),
    ("basic", "P4"): ("business_hours", 2400, 3360, 4800, 4800),
}


def test_one_seeded_row_per_tier_and_severity() -> None:
    keys = [(p.tier.value, p.severity.value) for p in SEEDED]
    assert len(keys) == len(set(keys)) == 12
    assert set(keys) == {(t.value, s.value) for t in SubscriptionTier for s in Severity}


@pytest.mark.parametrize(("tier", "severity"), sorted(TABLE))
def test_seeded_row_reads_the_table(tier: str, severity: str) -> None:
    row = policy.seeded(SubscriptionTier(tier), Severity(severity))
    assert (
        row.calendar,
        row.response_target_minutes,
        row.response_deadline_minutes,
        row.resolution_target_minutes,
        row.resolution_deadline_minutes,
    ) == TABLE[(tier, severity)]


def test_seeded_rows_are_valid_policies() -> None:
    for row in SEEDED:
        validate(calendar=row.calendar, **policy.figures(row))


def test_warning_at_target_or_eighty_percent_of_deadline_whichever_first() -> None:
    assert warn_after(15, 30) == 15  # premium P1 response: the target comes first
    assert warn_after(7680, 7680) == pytest.approx(6144)  # a single figure: 80 % of it
    assert warn_after(400, 480) == pytest.approx(384)  # 80 % of the deadline comes first


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"response_target_minutes": 31}, "response_target_minutes"),  # target > deadline
        ({"resolution_target_minutes": 241}, "resolution_target_minutes"),
        ({"response_target_minutes": 0}, "response_target_minutes"),  # below one minute
        ({"resolution_deadline_minutes": -5}, "resolution_deadline_minutes"),
        ({"resolution_deadline_minutes": policy.MAX_MINUTES + 1}, "resolution_deadline_minutes"),
        ({"response_deadline_minutes": True}, "response_deadline_minutes"),
        ({"calendar": "weekdays"}, "calendar"),
    ],
)
def test_validate_refuses(change: dict[str, object], field: str) -> None:
    good: dict[str, object] = {
        "calendar": "24x7",
        "response_target_minutes": 15,
        "response_deadline_minutes": 30,
        "resolution_target_minutes": 120,
        "resolution_deadline_minutes": 240,
    } | change
    with pytest.raises(PolicyError) as caught:
        validate(**good)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_target_equal_to_deadline_is_allowed() -> None:
    figures = dict.fromkeys(policy.FIGURES, 5)
    made = policy.make(SubscriptionTier.BASIC, Severity.P4, {"calendar": "business_hours", **figures})
    assert (made.response_target_minutes, made.resolution_deadline_minutes) == (5, 5)


FULL = {"calendar": "24x7", **dict.fromkeys(policy.FIGURES, 5)}


@pytest.mark.parametrize(
    ("values", "field"),
    [({"calendar": "24x7"}, "resolution_deadline_minutes"), (FULL | {"colour": 1}, "colour")],
)
def test_make_names_a_missing_or_unknown_member(values: dict[str, object], field: str) -> None:
    with pytest.raises(PolicyError) as caught:
        policy.make(SubscriptionTier.BASIC, Severity.P4, values)
    assert caught.value.field == field
