import json
from uuid import UUID

import pytest

from intake.domain.events_v2 import Invalid, details, labels, parse, signal


def body(**fields: object) -> bytes:
    event: dict[str, object] = {
        "routing_key": "rk",
        "event_action": "trigger",
        "payload": {"summary": "s", "source": "db1", "severity": "error"},
    }
    event.update(fields)
    return json.dumps(event).encode()


def test_a_trigger_parses_and_drops_what_intake_does_not_keep() -> None:
    event = parse(body(images=[{"src": "x"}], client="Grafana"))
    assert event.event_action == "trigger" and event.payload is not None
    assert event.payload.severity == "error" and event.dedup_key is None


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b"nope", "JSON"),
        (b'"a string"', "object"),
        (body(event_action="acknowledge"), "dedup_key"),
        (body(payload=None), "payload"),
        (body(payload={"summary": "s", "source": "db1", "severity": "page"}), "payload.severity"),
        (body(routing_key=""), "routing_key"),
    ],
)
def test_invalid_events_say_why(raw: bytes, why: str) -> None:
    with pytest.raises(Invalid) as caught:
        parse(raw)
    assert any(why in e for e in caught.value.errors), caught.value.errors


def test_labels_hold_standard_fields_then_scalar_custom_details() -> None:
    event = parse(
        body(
            payload={
                "summary": "s",
                "source": "db1",
                "severity": "critical",
                "class": "disk",
                "custom_details": {"severity": "ignored", "region": "eu", "ok": True, "nested": {"x": 1}},
            }
        )
    )
    assert event.payload is not None
    assert labels(event.payload) == {
        "severity": "critical",
        "source": "db1",
        "class": "disk",
        "region": "eu",
        "ok": "true",
    }


def test_big_custom_details_are_not_kept() -> None:
    event = parse(
        body(payload={"summary": "s", "source": "x", "severity": "info", "custom_details": "x" * 9000})
    )
    assert event.payload is not None
    assert details(event.payload) == {"source": "x", "custom_details_truncated": True}


def test_keys_belong_to_the_integration_and_a_resolve_is_not_firing() -> None:
    one, two = UUID(int=1), UUID(int=2)
    trig = signal(parse(body(dedup_key="k")), "k", integration_id=one)
    assert trig.firing and trig.dedup_key == f"ev2:{one}:k" and trig.fingerprint == "k"
    assert signal(parse(body(dedup_key="k")), "k", integration_id=two).dedup_key != trig.dedup_key
    res = signal(parse(body(event_action="resolve", dedup_key="k")), "k", integration_id=one)
    assert not res.firing and res.dedup_key == trig.dedup_key and res.fingerprint == trig.fingerprint
