from intake.domain.alertmanager import Alert, dedup_key, fingerprint, title


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
