"""Sessions (anti-forgery token, cookie flags), the change workflow's steps per role, and the
vendored htmx against its recorded checksum."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from console.domain.change import stages, steps
from console.domain.session import Me, cookie_secure, csrf_ok, csrf_token
from contracts.enums import Role
from contracts.permissions import Permission, allows

STATIC = Path(__file__).resolve().parents[2] / "src" / "console" / "static"


def me(role: Role, user_id: str = "me") -> Me:
    return Me(user_id, "t", role.value, None, None, frozenset(p.value for p in Permission if allows(role, p)))


def test_the_anti_forgery_token_is_bound_to_the_session() -> None:
    token = csrf_token("session-a")
    assert csrf_ok("session-a", token)
    assert not csrf_ok("session-b", token)
    assert not csrf_ok("session-a", None) and not csrf_ok(None, token) and not csrf_ok("session-a", "")
    assert "session-a" not in token  # the page never carries the session itself


@pytest.mark.parametrize(
    ("mode", "scheme", "secure"),
    [("auto", "https", True), ("auto", "http", False), ("always", "http", True), ("never", "https", False)],
)
def test_the_cookie_is_secure_over_https(mode: str, scheme: str, secure: bool) -> None:
    assert cookie_secure(mode, scheme) is secure


def change(status: str, requested_by: str = "someone", risk: str = "low") -> dict[str, str]:
    return {"status": status, "requested_by_id": requested_by, "risk_level": risk}


def test_approvers_decide_on_others_requests_only() -> None:
    assert [s for s, _ in steps(change("requested"), me(Role.INCIDENT_MANAGER))] == [
        "approve",
        "reject",
        "cancel",
    ]
    assert [s for s, _ in steps(change("requested", "me"), me(Role.INCIDENT_MANAGER))] == ["cancel"]
    assert [s for s, _ in steps(change("requested"), me(Role.TECHNICAL_SUPPORT))] == ["cancel"]


def test_major_changes_need_an_executive() -> None:
    major = change("requested", risk="high")
    assert "approve" not in [s for s, _ in steps(major, me(Role.INCIDENT_MANAGER))]
    assert "approve" in [s for s, _ in steps(major, me(Role.EXECUTIVE))]


def test_a_client_contact_takes_no_step() -> None:
    for status in ("requested", "approved", "in_progress"):
        assert steps(change(status), me(Role.CLIENT_CONTACT)) == []


def test_the_workflow_marks_done_current_and_todo() -> None:
    assert stages("scheduled") == [
        ("requested", "done"), ("approved", "done"), ("scheduled", "current"),
        ("in_progress", "todo"), ("completed", "todo"),
    ]  # fmt: skip
    assert stages("rejected")[-1] == ("rejected", "current")


def test_vendored_htmx_matches_its_checksum() -> None:
    table = (STATIC / "README.md").read_text()
    name, digest = re.search(r"`(htmx-[\d.]+\.min\.js)`.*`([0-9a-f]{64})`", table).groups()  # type: ignore[union-attr]
    assert hashlib.sha256((STATIC / name).read_bytes()).hexdigest() == digest
    base = (STATIC.parent / "templates" / "base.html").read_text()
    assert f'src="/static/{name}"' in base
