from uuid import UUID

from intake.domain.generic import GenericAlert, GenericBody, dedup_key, signal

INTEGRATION = UUID(int=7)


def test_one_alert_or_an_array() -> None:
    assert len(GenericBody.model_validate({"title": "x"}).alerts()) == 1
    assert len(GenericBody.model_validate([{"title": "x"}, {"title": "y"}]).alerts()) == 2


def test_the_key_is_the_sent_one_else_the_group_else_title_and_labels() -> None:
    sent = GenericAlert(title="a", dedup_key="k", labels={"svc": "shop"})
    assert dedup_key(sent, ["svc"], integration_id=INTEGRATION) == f"gen:{INTEGRATION}:k"
    a = GenericAlert(title="a", labels={"svc": "shop", "pod": "1"})
    b = GenericAlert(title="b", labels={"svc": "shop", "pod": "2"})
    assert dedup_key(a, ["svc"], integration_id=INTEGRATION) == dedup_key(
        b, ["svc"], integration_id=INTEGRATION
    )
    assert dedup_key(a, [], integration_id=INTEGRATION) != dedup_key(b, [], integration_id=INTEGRATION)
    assert dedup_key(a, [], integration_id=INTEGRATION) == dedup_key(
        GenericAlert(title="a", labels={"pod": "1", "svc": "shop"}), [], integration_id=INTEGRATION
    )


def test_severity_becomes_a_label_unless_one_is_sent() -> None:
    assert signal(GenericAlert(title="a", severity="critical"), "k").labels == {"severity": "critical"}
    s = signal(GenericAlert(title="a", severity="critical", labels={"severity": "page"}), "k")
    assert s.labels == {"severity": "page"} and s.severity == "critical"


def test_alerts_of_one_group_are_told_apart_by_their_labels() -> None:
    a = signal(GenericAlert(title="a", labels={"pod": "1"}), "k")
    b = signal(GenericAlert(title="a", labels={"pod": "2"}), "k")
    assert a.fingerprint != b.fingerprint
    assert not signal(GenericAlert(title="a", status="resolved"), "k").firing
