"""Pure rules of reports from people: what a report may hold, the form's anti-forgery token,
the origin check, the honeypot and the rate-limit window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from pydantic import ValidationError

from intake.domain import reports as rules

NOW = datetime(2025, 3, 1, 12, 0, 7, tzinfo=UTC)
SECRET = b"s" * 32
TTL = timedelta(hours=2)


def public(**overrides: object) -> dict[str, object]:
    return {"title": "Portal down", "name": "Ada", "email": "ada@example.com", **overrides}


def test_a_public_report_keeps_what_the_form_asks_and_trims_it() -> None:
    report = rules.PublicReport.model_validate(
        public(title="  Portal down ", phone=" +44 20 7946 0958 ", organization="", description="a\nb")
    )
    assert report.title == "Portal down"
    assert report.phone == "+44 20 7946 0958"
    assert report.organization is None  # an empty form field is absent
    assert report.description == "a\nb"  # line breaks are fine in a description


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * (rules.MAX_TITLE + 1)}, "title"),
        ({"title": "two\nlines"}, "title"),
        ({"title": "nul\x00byte"}, "title"),
        ({"description": "x" * (rules.MAX_DESCRIPTION + 1)}, "description"),
        ({"description": "bell\x07"}, "description"),
        ({"email": "not-an-address"}, "email"),
        ({"name": "n" * (rules.MAX_NAME + 1)}, "name"),
        ({"phone": "call me maybe"}, "phone"),
        ({"organization": "o" * (rules.MAX_ORGANIZATION + 1)}, "organization"),
        ({"severity": "P1"}, "severity"),
    ],
)
def test_bad_public_fields_are_named(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        rules.PublicReport.model_validate(public(**overrides))
    assert [e.field for e in rules.field_errors(caught.value)] == [field]


def test_missing_required_fields_are_each_named_once() -> None:
    with pytest.raises(ValidationError) as caught:
        rules.PublicReport.model_validate({})
    assert {e.field for e in rules.field_errors(caught.value)} == {"title", "name", "email"}


def test_a_manual_report_refuses_unknown_impact_facts_and_naive_times() -> None:
    ok = rules.ManualReport.model_validate(
        {"title": "DB down", "impact": {"degradation": "complete_outage", "affected_parties": 7}}
    )
    assert ok.impact.affected_parties == 7
    for bad, field in [
        ({"impact": {"blast_radius": 3}}, "impact.blast_radius"),
        ({"impact": {"degradation": "catastrophic"}}, "impact.degradation"),
        ({"impact": {"affected_parties": -1}}, "impact.affected_parties"),
        ({"detected_at": "2025-01-01T10:00:00"}, "detected_at"),
        ({"client_id": "nope"}, "client_id"),
    ]:
        with pytest.raises(ValidationError) as caught:
            rules.ManualReport.model_validate({"title": "DB down", **bad})
        assert [e.field for e in rules.field_errors(caught.value)] == [field]


def test_detected_at_may_not_lie_in_the_future_beyond_clock_skew() -> None:
    assert rules.not_in_future(NOW + timedelta(minutes=4), NOW)
    assert not rules.not_in_future(NOW + timedelta(minutes=6), NOW)


def test_the_honeypot() -> None:
    assert not rules.honeypot_filled({})
    assert not rules.honeypot_filled({"website": ""})
    assert not rules.honeypot_filled({"website": "  "})
    assert rules.honeypot_filled({"website": "http://spam.example"})
    assert rules.honeypot_filled({"website": 1})


def test_the_form_token_is_bound_to_tenant_cookie_and_time() -> None:
    tenant = uuid4()
    token = rules.form_token(SECRET, tenant, "nonce-1", NOW)

    def check(
        tenant_id: UUID = tenant,
        cookie_nonce: str | None = "nonce-1",
        now: datetime = NOW,
        secret: bytes = SECRET,
    ) -> str | None:
        return rules.check_form_token(
            secret, token, tenant_id=tenant_id, cookie_nonce=cookie_nonce, now=now, ttl=TTL
        )

    assert check() is None
    assert check(now=NOW + TTL - timedelta(seconds=1)) is None
    assert "expired" in (check(now=NOW + TTL + timedelta(seconds=1)) or "")
    assert "another form" in (check(tenant_id=uuid4()) or "")
    assert "cookie" in (check(cookie_nonce=None) or "")
    assert "cookie" in (check(cookie_nonce="nonce-2") or "")
    assert "not valid" in (check(secret=b"x" * 32) or "")
    tampered = token.replace(token[3], "A" if token[3] != "A" else "B", 1)
    assert rules.check_form_token(
        SECRET, tampered, tenant_id=tenant, cookie_nonce="nonce-1", now=NOW, ttl=TTL
    )
    for garbage in ("", "....", "%%%.abc", "x" * 500):
        assert rules.check_form_token(SECRET, garbage, tenant_id=tenant, cookie_nonce="n", now=NOW, ttl=TTL)


def test_requests_from_other_sites_are_refused() -> None:
    host = "intake.example:8001"
    assert rules.same_origin(None, None, host)  # curl, scripts: the token or JSON rules decide
    assert rules.same_origin("http://intake.example:8001", "same-origin", host)
    assert rules.same_origin("https://intake.example:8001", None, host)  # TLS ended at a proxy
    assert rules.same_origin(None, "none", host)  # typed into the address bar
    assert not rules.same_origin("https://evil.example", None, host)
    assert not rules.same_origin("null", None, host)
    assert not rules.same_origin(None, "cross-site", host)
    assert not rules.same_origin("http://intake.example:8001", "same-site", host)


def test_rate_limit_windows_are_aligned_and_say_when_to_retry() -> None:
    window = timedelta(minutes=10)
    assert rules.window_start(NOW, window) == datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    assert rules.retry_after(NOW, window) == 600 - 7
    assert rules.retry_after(datetime(2025, 3, 1, 12, 9, 59, 999000, tzinfo=UTC), window) == 1


def test_client_addresses_are_keyed_not_stored() -> None:
    tenant = uuid4()
    key = rules.address_key(SECRET, tenant, "192.0.2.10")
    assert "192" not in key and len(key) == 40
    assert key == rules.address_key(SECRET, tenant, "192.0.2.10")
    assert key != rules.address_key(SECRET, uuid4(), "192.0.2.10")
    assert key != rules.address_key(SECRET, tenant, "192.0.2.11")
