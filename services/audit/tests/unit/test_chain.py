from audit.domain.chain import GENESIS, entry_hash, mask, verify


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
