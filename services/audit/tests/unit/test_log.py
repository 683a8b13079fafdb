"""What an entry records (actions, minimization by field, canonical leaves) and the streaming
check of a log, without a database."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from audit.domain import tlog
from audit.domain.log import (
    ACTIONS,
    VERBS,
    LogCheck,
    action_of,
    entry,
    event_leaves,
    leaf,
    mask,
    minimize,
    verb,
)
from contracts.envelope import Actor, Envelope, known_event_types


def test_every_known_event_type_has_a_002_action_of_its_own() -> None:
    missing = sorted(t for t in known_event_types() if verb(t) not in VERBS)
    assert not missing, f"event types without an action: {missing}"
    assert set(VERBS.values()) == set(ACTIONS)


@pytest.mark.parametrize(
    ("event_type", "action"),
    [
        ("incident.created.v1", "create"),
        ("incident.status_changed.v1", "update"),
        ("change_request.approved.v1", "approve"),
        ("rollback_request.rejected.v1", "reject"),
        ("incident.deleted.v1", "delete"),
        ("api_key.revoked.v1", "delete"),
        ("change_request.completed.v1", "execute"),
        ("notification.sent.v1", "execute"),
        ("future.widget.frobnicated.v3", "update"),  # unknown verb: the mildest claim
        ("future.widget.created.v2", "create"),
    ],
)
def test_actions_follow_the_verb(event_type: str, action: str) -> None:
    assert action_of(event_type) == action


def test_the_issues_examples_keep_names_and_urls_intact() -> None:
    """Masking over free text turned a client's name and a webhook URL into "AuditCov A ***77"
    and "http://***01:9/"; by field, both stay as they are."""
    kept = mask(
        {"name": "AuditCov A 1795794877", "url": "http://127.0.0.1:9/", "title": "call 020 7946 0101"}
    )
    assert kept == {
        "name": "AuditCov A 1795794877",
        "url": "http://127.0.0.1:9/",
        "title": "call 020 7946 0101",
    }


def test_email_and_phone_fields_are_masked() -> None:
    masked = mask(
        {
            "vendor_email": "ops@vendor.example",
            "vendor_phone": "+1 (555) 010-9988",
            "contact_email": "not-an-address",
            "Billing_Phone": "12-34",
            "backup_phones": ["+44 20 7946 0958", "020 7946 0101"],
            "email": "",
            "phone": None,
            "vendor_name": "Acme Hosting",
        }
    )
    assert masked["vendor_email"] == "o***@vendor.example"
    assert masked["vendor_phone"] == "***88"
    assert masked["contact_email"] == "***"
    assert masked["Billing_Phone"] == "***"
    assert masked["backup_phones"] == ["***58", "***01"]
    assert masked["email"] == "" and masked["phone"] is None
    assert masked["vendor_name"] == "Acme Hosting"


def test_secret_fields_are_hidden_whole() -> None:
    masked = mask(
        {
            "token_sha256": "9f86d081884c7d659a2feaa0c55ad015",
            "client_secret": "s3cr3t",
            "x_api_key": "ipk_live_abc",
            "refreshToken": "eyJhbGciOi",
            "secret_config": {"url": "https://x", "user": "svc"},
            "has_token": True,
            "password_hint": None,
            "dedup_key": "am:fp-a",
        }
    )
    for key in ("token_sha256", "client_secret", "x_api_key", "refreshToken", "secret_config"):
        assert masked[key] == "***", key
    assert masked["has_token"] is True and masked["password_hint"] is None
    assert masked["dedup_key"] == "am:fp-a"


def test_a_known_type_keeps_only_the_fields_its_contract_declares() -> None:
    data = {
        "vendor_id": str(uuid.uuid4()),
        "vendor_name": "Acme 0207946",
        "vendor_email": "ops@acme.example",
        "smuggled": "not in the contract",
    }
    kept = minimize("vendor.registered.v1", data)
    assert "smuggled" not in kept
    assert kept["vendor_name"] == "Acme 0207946" and kept["vendor_email"] == "o***@acme.example"


def test_an_unknown_type_is_kept_whole_under_the_key_rules() -> None:
    data = {
        "widget": "w-1",
        "owner_email": "jane@corp.example",
        "api_token": "x",
        "nested": {"phone": "+1 555 0100"},
    }
    assert minimize("future.widget.created.v2", data) == {
        "widget": "w-1",
        "owner_email": "j***@corp.example",
        "api_token": "***",
        "nested": {"phone": "***00"},
    }


def test_integers_json_cannot_carry_exactly_are_kept_as_text() -> None:
    assert mask({"n": 2**60, "m": 7}) == {"n": str(2**60), "m": 7}


def _entry(n: int, **data: Any) -> dict[str, Any]:
    return entry(
        event_id=uuid.UUID(int=n),
        event_type="incident.updated.v1",
        action="update",
        source="triage",
        subject=str(uuid.UUID(int=1000 + n)),
        actor={"user_id": None, "role": None},
        occurred_at=datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=2))),
        recorded_at=datetime(2026, 1, 1, 10, 0, 1, tzinfo=UTC),
        data=data or {"n": n},
    )


def test_the_leaf_is_rfc8785_json_in_utc() -> None:
    content = _entry(1, b=1.0, a="é")
    raw = leaf(content)
    assert raw == leaf(dict(reversed(list(content.items()))))  # key order does not matter
    assert b'"data":{"a":"\xc3\xa9","b":1}' in raw  # sorted keys, UTF-8, 1.0 written as 1
    assert json.loads(raw)["occurred_at"] == "2026-01-01T10:00:00+00:00"


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)


@given(_JSON)
def test_the_leaf_is_byte_for_byte_the_reference_rfc8785_encoding(value: Any) -> None:
    """The fast path (standard library encoder) and the fallback give the reference's bytes for
    any JSON value: floats, non-ASCII and astral keys, control characters included."""
    content = {"data": value, "event_id": "x"}
    try:
        expected = rfc8785.dumps(content)
    except Exception:  # lone surrogates and the like: the reference refuses, so must the leaf
        with pytest.raises(Exception):  # noqa: B017
            leaf(content)
        return
    assert leaf(content) == expected


def _log(n: int) -> tuple[list[dict[str, Any]], list[bytes], dict[int, bytes], list[tuple[int, bytes]]]:
    contents = [_entry(i) for i in range(n)]
    leaves = [leaf(c) for c in contents]
    frontier, stored, signed = tlog.Frontier(), {}, []
    for i, raw in enumerate(leaves):
        stored.update(frontier.append(raw))
        if i + 1 in (3, 8, n):
            signed.append((i + 1, frontier.root()))
    return contents, leaves, stored, signed


def _check(contents: list[Any], leaves: list[bytes], stored: dict[int, bytes], signed: list[Any]) -> Any:
    check = LogCheck(signed)
    for i, (c, raw) in enumerate(zip(contents, leaves, strict=True)):
        if not check.add(i, c, raw, stored):
            break
    return check.finish()


def test_an_intact_log_checks() -> None:
    finding = _check(*_log(11))
    assert (finding.ok, finding.checked, finding.first_bad_index) == (True, 11, None)


def test_an_edited_field_is_named() -> None:
    contents, leaves, stored, signed = _log(11)
    contents[5] = {**contents[5], "data": {"n": 999}}
    finding = _check(contents, leaves, stored, signed)
    assert (finding.ok, finding.first_bad_index) == (False, 5)


def test_a_rewritten_leaf_is_named_by_its_stored_hash() -> None:
    contents, leaves, stored, signed = _log(11)
    contents[6] = {**contents[6], "data": {"n": 999}}
    leaves[6] = leaf(contents[6])
    finding = _check(contents, leaves, stored, signed)
    assert (finding.ok, finding.first_bad_index) == (False, 6)


def test_a_rehashed_log_is_caught_by_the_signed_roots() -> None:
    """Fields, leaf and every stored hash rewritten consistently: only the signatures are left,
    and the first checkpoint the tree no longer matches brackets the edit (from its predecessor)."""
    contents, leaves, _, signed = _log(11)
    contents[6] = {**contents[6], "data": {"n": 999}}
    leaves[6] = leaf(contents[6])
    rehashed: dict[int, bytes] = {}
    frontier = tlog.Frontier()
    for raw in leaves:
        rehashed.update(frontier.append(raw))
    finding = _check(contents, leaves, rehashed, signed)
    assert (finding.ok, finding.first_bad_index) == (False, 3)  # signed at 3 (ok) and 8 (not)


def test_deleting_the_last_entries_is_detected() -> None:
    contents, leaves, stored, signed = _log(11)
    finding = _check(contents[:9], leaves[:9], stored, signed)
    assert (finding.ok, finding.checked, finding.first_bad_index) == (False, 9, 9)


def test_a_deleted_entry_in_the_middle_is_named() -> None:
    contents, leaves, stored, signed = _log(11)
    check = LogCheck(signed)
    for i in [0, 1, 2, 4, 5]:
        if not check.add(i, contents[i], leaves[i], stored):
            break
    assert check.finish().first_bad_index == 3


def test_a_batchs_leaves_are_the_leaves_of_its_entries() -> None:
    """event_leaves (the append path, written inline) gives leaf(entry(...)) of each event: its
    002 action, its actor as JSON, both times in UTC, its data minimized; plain and non-plain
    data (a float, a non-ASCII key) alike."""
    at = datetime(2026, 1, 1, 12, 0, 0, 250_000, tzinfo=timezone(timedelta(hours=2)))
    vendor = {
        "vendor_name": "AuditCov A 1795794877",
        "vendor_email": "jane@example.com",
        "vendor_phone": "+1 555 010 9958",
        "extra": "dropped",
    }
    unknown = {"ratio": 0.5, "clé": [1, None, True], "api_token": "t"}
    cases = [
        ("vendor.registered.v1", Actor(user_id=uuid.uuid4(), role="admin"), vendor),
        ("something.unknown.v3", Actor(), unknown),
    ]
    envelopes = [
        Envelope(
            id=uuid.uuid4(), type=kind, source="directory", time=at, subject="s-1", actor=actor, data=data
        )
        for kind, actor, data in cases
    ]
    recorded = datetime(2026, 1, 1, 10, 0, 1, tzinfo=UTC)
    expected = [
        leaf(
            entry(
                event_id=e.id,
                event_type=e.type,
                action=action_of(e.type),
                source=e.source,
                subject=e.subject,
                actor=e.actor.model_dump(mode="json"),
                occurred_at=e.time,
                recorded_at=recorded,
                data=minimize(e.type, e.data),
            )
        )
        for e in envelopes
    ]
    assert event_leaves(envelopes, recorded) == expected
    assert json.loads(expected[0])["occurred_at"] == "2026-01-01T10:00:00.250000+00:00"
    assert json.loads(expected[1])["actor"] == {"user_id": None, "role": None}
