"""The status catalog's transition rules (triage.domain.lifecycle), pure."""

from __future__ import annotations

import pytest

from triage.domain.lifecycle import DEFAULT_STATUSES, Catalog, StatusDef, TransitionRefused

DEFAULT = Catalog(DEFAULT_STATUSES)

ALLOWED = {
    "open": ["acknowledged", "in_progress", "resolved", "closed"],
    "acknowledged": ["in_progress", "resolved", "closed"],
    "in_progress": ["resolved", "closed"],
    "resolved": ["open", "closed"],  # reopen, or close
    "closed": ["open"],  # reopen only
}


@pytest.mark.parametrize(("current", "targets"), ALLOWED.items())
def test_default_catalog_moves(current: str, targets: list[str]) -> None:
    assert DEFAULT.allowed_from(current) == targets
    for status in ALLOWED:
        if status in targets:
            DEFAULT.check(current, status)
        else:
            with pytest.raises(TransitionRefused):
                DEFAULT.check(current, status)


def test_reopen_is_back_to_the_default_from_resolved_or_terminal() -> None:
    assert DEFAULT.is_reopen("resolved", "open") and DEFAULT.is_reopen("closed", "open")
    assert not DEFAULT.is_reopen("in_progress", "open")
    assert DEFAULT.default.slug == "open"


def test_unknown_and_inactive_statuses_are_refused() -> None:
    catalog = Catalog([*DEFAULT_STATUSES, StatusDef("on_hold", "On hold", 25, is_active=False)])
    for target in ("exploded", "on_hold"):
        with pytest.raises(TransitionRefused, match="not a status"):
            catalog.check("open", target)
    with pytest.raises(TransitionRefused, match="already"):
        catalog.check("open", "open")


def test_custom_status_with_its_own_moves() -> None:
    waiting = StatusDef("waiting_on_client", "Waiting", 35, next_statuses=("in_progress",))
    catalog = Catalog([*DEFAULT_STATUSES, waiting])
    assert "waiting_on_client" in catalog.allowed_from("in_progress")
    assert catalog.allowed_from("waiting_on_client") == ["in_progress"]
    # A custom terminal status can be reopened, and a custom default is where reopening goes.
    cancelled = StatusDef("cancelled", "Cancelled", 60, is_terminal=True)
    triaging = StatusDef("new", "New", 5, is_default=True)
    custom = Catalog([*(s for s in DEFAULT_STATUSES if not s.is_default), cancelled, triaging])
    assert custom.default.slug == "new"
    assert custom.allowed_from("cancelled") == ["new"]
    assert custom.is_reopen("cancelled", "new")
