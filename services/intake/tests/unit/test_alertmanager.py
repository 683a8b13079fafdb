from uuid import UUID

from intake.domain.alertmanager import MAX_DEDUP_KEY, Alert, dedup_key, fingerprint, title


def test_dedup_key_uses_alertmanager_fingerprint_when_sent() -> None:
    assert dedup_key(Alert(status="firing", fingerprint="abc", labels={"x": "1"})) == "am:abc"


def test_fingerprint_without_one_is_stable_and_label_order_free() -> None:
    a = Alert(status="firing", labels={"alertname": "A", "instance": "i1"})
    b = Alert(status="resolved", labels={"instance": "i1", "alertname": "A"})
    c = Alert(status="firing", labels={"alertname": "A", "instance": "i2"})
    assert fingerprint(a) == fingerprint(b) != fingerprint(c)


def test_grouping_labels_make_one_key_per_group() -> None:
    a = Alert(status="firing", fingerprint="1", labels={"alertname": "A", "cluster": "eu", "pod": "p1"})
    b = Alert(status="firing", fingerprint="2", labels={"alertname": "A", "cluster": "eu", "pod": "p2"})
    assert dedup_key(a, ["cluster", "alertname"]) == dedup_key(b, ["alertname", "cluster"])
    assert dedup_key(a) != dedup_key(b)


def test_title_prefers_summary_then_alertname_and_instance() -> None:
    assert title(Alert(status="firing", annotations={"summary": "Disk full"})) == "Disk full"
    assert title(Alert(status="firing", labels={"alertname": "Down", "instance": "db1"})) == "Down on db1"
    assert len(title(Alert(status="firing", annotations={"summary": "x" * 1000}))) == 300


def test_grouping_key_includes_the_integration() -> None:
    one, two = UUID(int=1), UUID(int=2)
    a = Alert(status="firing", fingerprint="1", labels={"cluster": "eu", "pod": "p1"})
    b = Alert(status="firing", fingerprint="2", labels={"cluster": "eu", "pod": "p2"})
    key = dedup_key(a, ["cluster"], integration_id=one)
    assert key == dedup_key(b, ["cluster"], integration_id=one)
    assert str(one) in key
    assert key != dedup_key(a, ["cluster"], integration_id=two)
    # A different value of a grouping label is another group.
    c = Alert(status="firing", fingerprint="1", labels={"cluster": "us", "pod": "p1"})
    assert dedup_key(c, ["cluster"], integration_id=one) != key


def test_grouping_key_is_unambiguous_and_ignores_duplicate_labels() -> None:
    i = UUID(int=1)
    tricky = Alert(status="firing", labels={"a": "x&b=y", "b": ""})
    plain = Alert(status="firing", labels={"a": "x", "b": "y&b="})
    assert dedup_key(tricky, ["a", "b"], integration_id=i) != dedup_key(plain, ["a", "b"], integration_id=i)
    assert dedup_key(plain, ["b", "a", "a"], integration_id=i) == dedup_key(
        plain, ["a", "b"], integration_id=i
    )
    # A missing grouping label groups with an empty one.
    assert dedup_key(Alert(status="firing"), ["a"], integration_id=i) == dedup_key(
        Alert(status="firing", labels={"a": ""}), ["a"], integration_id=i
    )


def test_without_grouping_labels_the_integration_does_not_matter() -> None:
    a = Alert(status="firing", fingerprint="abc")
    assert dedup_key(a, [], integration_id=UUID(int=1)) == dedup_key(a, None, integration_id=UUID(int=2))


def test_grouping_key_fits_the_column() -> None:
    i = UUID(int=1)
    long_a = Alert(status="firing", labels={"path": "x" * 1000, "host": "h" * 1000})
    long_b = Alert(status="firing", labels={"path": "x" * 999 + "y", "host": "h" * 1000})
    key = dedup_key(long_a, ["path", "host"], integration_id=i)
    assert len(key) <= MAX_DEDUP_KEY and key.startswith(f"am:{i}:")
    assert key != dedup_key(long_b, ["path", "host"], integration_id=i)
