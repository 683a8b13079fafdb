"""SLA policies: response and resolution figures per subscription tier and severity
(docs/sla.md "Policies", docs/architecture.md "SLA policy").

Each range of the source table is a (target, deadline) pair: the lower bound is the target, the
upper the deadline; a single figure is both. Minutes count on the policy's calendar: `24x7`
counts every minute, `business_hours` only the client's business time, where one business day
is 8 business hours and one week 5 business days. The seeded rows are where each tenant starts;
tenants edit them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

from contracts.enums import Severity, SubscriptionTier

CalendarKind = Literal["24x7", "business_hours"]
CALENDARS: tuple[str, ...] = get_args(CalendarKind)
FIGURES = (
    "response_target_minutes",
    "response_deadline_minutes",
    "resolution_target_minutes",
    "resolution_deadline_minutes",
)
# A year of minutes: longer figures are typing mistakes, and keep deadline arithmetic bounded.
MAX_MINUTES = 366 * 24 * 60

HOUR = 60
BUSINESS_DAY = 8 * HOUR
BUSINESS_WEEK = 5 * BUSINESS_DAY


class PolicyError(ValueError):
    """Figures that cannot be a policy; ``field`` names the offending one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Policy:
    tier: SubscriptionTier
    severity: Severity
    calendar: CalendarKind
    response_target_minutes: int
    response_deadline_minutes: int
    resolution_target_minutes: int
    resolution_deadline_minutes: int


def validate(
    *,
    calendar: str,
    response_target_minutes: int,
    response_deadline_minutes: int,
    resolution_target_minutes: int,
    resolution_deadline_minutes: int,
) -> None:
    """Raises PolicyError unless every figure is 1..MAX_MINUTES and each target <= its deadline."""
    if calendar not in CALENDARS:
        raise PolicyError(f"calendar: one of {', '.join(CALENDARS)}", field="calendar")
    figures = {
        "response_target_minutes": response_target_minutes,
        "response_deadline_minutes": response_deadline_minutes,
        "resolution_target_minutes": resolution_target_minutes,
        "resolution_deadline_minutes": resolution_deadline_minutes,
    }
    for name, value in figures.items():
        if isinstance(value, bool) or not isinstance(value, int):
            raise PolicyError(f"{name}: a whole number of minutes", field=name)
        if not 1 <= value <= MAX_MINUTES:
            raise PolicyError(f"{name}: between 1 and {MAX_MINUTES} minutes", field=name)
    for kind in ("response", "resolution"):
        target, deadline = figures[f"{kind}_target_minutes"], figures[f"{kind}_deadline_minutes"]
        if target > deadline:
            raise PolicyError(
                f"{kind}_target_minutes ({target}) exceeds {kind}_deadline_minutes ({deadline})",
                field=f"{kind}_target_minutes",
            )


def make(tier: SubscriptionTier, severity: Severity, values: Mapping[str, Any]) -> Policy:
    """A checked policy from ``calendar`` and the four figures (PolicyError otherwise)."""
    unknown = set(values) - {"calendar", *FIGURES}
    missing = {"calendar", *FIGURES} - set(values)
    if unknown or missing:
        name = sorted(unknown or missing)[0]
        raise PolicyError(f"{name}: {'unknown' if unknown else 'missing'}", field=name)
    validate(**values)
    return Policy(tier, severity, values["calendar"], *(values[name] for name in FIGURES))


def warn_after(target: float, deadline: float) -> float:
    """Minutes after the start at which a clock warns: at its target, or at 80 % of its
    deadline if that comes first."""
    return min(target, 0.8 * deadline)


def figures(policy: Policy) -> dict[str, int]:
    return {name: getattr(policy, name) for name in FIGURES}


def _row(
    tier: SubscriptionTier,
    severity: Severity,
    calendar: CalendarKind,
    response: tuple[int, int],
    resolution: tuple[int, int],
) -> Policy:
    return Policy(tier, severity, calendar, *response, *resolution)


_P, _S, _B = SubscriptionTier.PREMIUM, SubscriptionTier.STANDARD, SubscriptionTier.BASIC
_P1, _P2, _P3, _P4 = Severity.P1, Severity.P2, Severity.P3, Severity.P4

# The source table, range by range. Basic P3 and P4 are not monotonic in the source (P4's
# response target is shorter than P3's, P3's resolution shorter than P2's): kept as written.
SEEDED: tuple[Policy, ...] = (
    # Premium: 24/7/365.
    _row(_P, _P1, "24x7", (15, 30), (2 * HOUR, 4 * HOUR)),
    _row(_P, _P2, "24x7", (1 * HOUR, 2 * HOUR), (8 * HOUR, 24 * HOUR)),
    _row(_P, _P3, "24x7", (4 * HOUR, 8 * HOUR), (48 * HOUR, 72 * HOUR)),
    _row(_P, _P4, "24x7", (24 * HOUR, 48 * HOUR), (128 * HOUR, 128 * HOUR)),
    # Standard: business hours, with on-call (24x7) for P1.
    _row(_S, _P1, "24x7", (1 * HOUR, 2 * HOUR), (8 * HOUR, 24 * HOUR)),
    _row(_S, _P2, "business_hours", (4 * HOUR, 8 * HOUR), (24 * HOUR, 48 * HOUR)),
    _row(_S, _P3, "business_hours", (24 * HOUR, 24 * HOUR), (72 * HOUR, 120 * HOUR)),
    _row(_S, _P4, "business_hours", (48 * HOUR, 72 * HOUR), (168 * HOUR, 168 * HOUR)),
    # Basic: business hours only.
    _row(_B, _P1, "business_hours", (4 * HOUR, 8 * HOUR), (24 * HOUR, 48 * HOUR)),
    _row(_B, _P2, "business_hours", (24 * HOUR, 24 * HOUR), (72 * HOUR, 120 * HOUR)),
    _row(_B, _P3, "business_hours", (48 * HOUR, 72 * HOUR), (5 * BUSINESS_DAY, 10 * BUSINESS_DAY)),
    _row(
        _B,
        _P4,
        "business_hours",
        (5 * BUSINESS_DAY, 7 * BUSINESS_DAY),
        (2 * BUSINESS_WEEK, 2 * BUSINESS_WEEK),
    ),
)


def seeded(tier: SubscriptionTier, severity: Severity) -> Policy:
    return next(p for p in SEEDED if p.tier == tier and p.severity == severity)
