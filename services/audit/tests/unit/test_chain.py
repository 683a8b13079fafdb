from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID

from audit.domain.chain import GENESIS, canonical, entry_content, entry_hash, mask, verify


def _chain(contents: list[dict[str, object]]) -> list[tuple[int, str, str, dict[str, object]]]:
    entries, previous = [], GENESIS
    for seq, content in enumerate(contents, 1):
        digest = entry_hash(previous, content)
        entries.append((seq, previous, digest, content))
        previous = digest
    return entries


def test_intact_chain_verifies() -> None:
    assert verify(_chain([{"a": 1}, {"b": 2}, {"c": 3}])) is None


def test_changed_content_is_found() -> None:
    entries = _chain([{"a": 1}, {"b": 2}, {"c": 3}])
    seq, prev, digest, _ = entries[1]
    entries[1] = (seq, prev, digest, {"b": 999})
    broken = verify(entries)
    assert broken is not None and broken.seq == 2 and "content" in broken.reason


def test_removed_entry_is_found() -> None:
    entries = _chain([{"a": 1}, {"b": 2}, {"c": 3}])
    del entries[1]
    broken = verify(entries)
    assert broken is not None and broken.seq == 3 and "previous" in broken.reason


def test_hash_ignores_key_order() -> None:
    assert entry_hash(GENESIS, {"a": 1, "b": 2}) == entry_hash(GENESIS, {"b": 2, "a": 1})


def test_mask_hides_secrets_and_pii() -> None:
    masked = mask(
        {
            "email": "jane.doe@example.com",
            "phone": "+44 20 7946 0958",
            "api_key": "ipk_abc",
            "nested": [{"note": "call bob@corp.io"}],
            "count": 3,
        }
    )
    assert masked["email"] == "j***@example.com"
    assert masked["phone"] == "***58"
    assert masked["api_key"] == "***"
    assert masked["nested"][0]["note"] == "call b***@corp.io"
    assert masked["count"] == 3


def test_mask_is_key_based_for_contact_fields() -> None:
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
    # Under a contact key the value is hidden even when it does not look like an address.
    assert masked["contact_email"] == "***"
    assert masked["Billing_Phone"] == "***"
    assert masked["backup_phones"] == ["***58", "***01"]
    assert masked["email"] == "" and masked["phone"] is None
    assert masked["vendor_name"] == "Acme Hosting"


def test_mask_hides_every_secret_like_key() -> None:
    masked = mask(
        {
            "token_sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "client_secret": "s3cr3t",
            "db_password": "hunter2",
            "x_api_key": "ipk_live_abc",
            "content_hash": "abc123",
            "refreshToken": "eyJhbGciOi",
            "routing_key": "R0UT1NG",
            "pin_secret": 1234,
            "secret_config": {"url": "https://x", "user": "svc"},
            "has_token": True,
            "password_hint": None,
            "dedup_key": "am:fp-a",
            "name": "token bucket",
        }
    )
    for key in (
        "token_sha256",
        "client_secret",
        "db_password",
        "x_api_key",
        "content_hash",
        "refreshToken",
        "routing_key",
        "pin_secret",
        "secret_config",
    ):
        assert masked[key] == "***", key
    # Booleans and nulls reveal nothing; other keys and values are kept.
    assert masked["has_token"] is True and masked["password_hint"] is None
    assert masked["dedup_key"] == "am:fp-a"
    assert masked["name"] == "token bucket"


def test_mask_keeps_ids_and_timestamps() -> None:
    data = {
        "incident_id": "12345678-1234-7123-8123-123456789012",
        "detected_at": "2026-11-23T10:00:00Z",
        "valid_from": "2026-11-23",
        "at": "2026-11-23 10:00:00+00:00",
        "note": "call me on 020 7946 0101",
    }
    masked = mask(data)
    assert {k: masked[k] for k in ("incident_id", "detected_at", "valid_from", "at")} == {
        k: data[k] for k in ("incident_id", "detected_at", "valid_from", "at")
    }
    assert masked["note"] == "call me on ***01"


def test_masked_data_chains_and_verifies() -> None:
    """Masking applies to an event's data only: the chain's own fields (hash, prev_hash) are
    computed over the masked data and are never masked themselves."""
    contents = [
        {"event_type": "integration.created.v1", "data": mask({"token_sha256": "ab" * 32, "name": "am"})},
        {"event_type": "vendor.registered.v1", "data": mask({"vendor_email": "a@b.io"})},
    ]
    entries = _chain(contents)
    assert verify(entries) is None
    assert contents[0]["data"] == {"token_sha256": "***", "name": "am"}
    assert all(len(digest) == 64 and digest != "***" for _, _, digest, _ in entries)


# Known answers, computed in a shell (not with Python's hashlib): each hash is
#   printf '%s%s' "$PREVIOUS" "$CANONICAL_JSON" | openssl dgst -sha256
# over the entry's canonical JSON (sorted keys, no spaces, UTF-8 kept as is), written out below.
KNOWN_1 = (
    '{"actor":"u-1","data":{"title":"Disk full"},"event_id":"00000000-0000-0000-0000-000000000001",'
    '"event_type":"incident.reported.v1","occurred_at":"2025-01-01T10:00:00+00:00","source":"intake",'
    '"subject":"i-1"}'
)
KNOWN_1_HASH = "a431c767d45ba09bd64142aa43778a8a3d6bf374d024d0682120f4e6d210046f"
KNOWN_2 = (
    '{"actor":null,"data":{"note":"café"},"event_id":"00000000-0000-0000-0000-000000000002",'
    '"event_type":"incident.resolved.v1","occurred_at":"2025-01-01T11:00:00+00:00","source":"triage",'
    '"subject":"i-1"}'
)
KNOWN_2_HASH = "7c23b839fce2556de541c9681bbf08345d40a8e161906e4c5f94166582bf9a61"


def test_chain_hashes_match_known_answers() -> None:
    first = entry_content(
        event_id=UUID(int=1),
        event_type="incident.reported.v1",
        source="intake",
        subject="i-1",
        actor="u-1",
        occurred_at=datetime(2025, 1, 1, 10, tzinfo=UTC),
        data={"title": "Disk full"},
    )
    second = entry_content(
        event_id=UUID(int=2),
        event_type="incident.resolved.v1",
        source="triage",
        subject="i-1",
        actor=None,
        # 13:00 at UTC+2: the hash covers the instant in UTC.
        occurred_at=datetime(2025, 1, 1, 13, tzinfo=timezone(timedelta(hours=2))),
        data={"note": "café"},
    )
    assert canonical(first) == KNOWN_1 and canonical(second) == KNOWN_2
    assert entry_hash(GENESIS, first) == KNOWN_1_HASH
    assert entry_hash(KNOWN_1_HASH, second) == KNOWN_2_HASH
    assert verify([(1, GENESIS, KNOWN_1_HASH, first), (2, KNOWN_1_HASH, KNOWN_2_HASH, second)]) is None
