from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from contracts.events import Matcher
from intake.domain.silences import InvalidSilence, Silence, matches, silencing, state, validate

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)


def m(name: str, value: str, op: str = "=") -> Matcher:
    return Matcher.model_validate({"name": name, "value": value, "op": op})


@pytest.mark.parametrize(
    ("matcher", "value", "hit"),
    [
        (m("env", "prod"), "prod", True),
        (m("env", "prod"), "production", False),
        (m("env", "prod", "!="), "staging", True),
        (m("env", "prod", "!="), "prod", False),
        (m("env", "prod|staging", "=~"), "staging", True),
        (m("env", "prod", "=~"), "production", False),  # anchored: the whole value
        (m("env", "prod", "=~"), "preprod", False),
        (m("env", "prod.*", "!~"), "production", False),
        (m("env", "prod.*", "!~"), "dev", True),
    ],
)
def test_matchers_follow_alertmanager(matcher: Matcher, value: str, hit: bool) -> None:
    assert matches([matcher], {"env": value}) is hit


def test_a_missing_label_is_the_empty_string() -> None:
    assert matches([m("env", "")], {}) and matches([m("env", "prod", "!=")], {})
    assert not matches([m("env", "prod")], {})


def test_every_matcher_must_match() -> None:
    ms = [m("env", "prod"), m("team", "db")]
    assert matches(ms, {"env": "prod", "team": "db"}) and not matches(ms, {"env": "prod", "team": "web"})


@pytest.mark.parametrize(
    ("matchers", "why"),
    [
        ([], "at least one"),
        ([m("a", "(", "=~")], "regular expression"),
        ([m("a", ".*", "=~")], "empty string"),
        ([m("a", "")], "empty string"),
        ([m("", "x")], "name"),
        ([m("a", "x" * 1001, "=~")], "at most"),
    ],
)
def test_invalid_silences_are_refused_with_a_reason(matchers: list[Matcher], why: str) -> None:
    with pytest.raises(InvalidSilence, match=why):
        validate(matchers, NOW, NOW + timedelta(hours=1))


def test_the_window_must_end_after_it_starts() -> None:
    with pytest.raises(InvalidSilence, match="ends_at"):
        validate([m("a", "x")], NOW, NOW)


def test_a_silence_acts_in_its_window_and_for_its_client_only() -> None:
    client = uuid4()
    s = Silence(uuid4(), (m("a", "x"),), NOW, NOW + timedelta(hours=1), client_id=client)
    assert s.silences({"a": "x"}, client, NOW)
    assert not s.silences({"a": "x"}, uuid4(), NOW)
    assert not s.silences({"a": "x"}, None, NOW)
    assert not s.silences({"a": "x"}, client, NOW - timedelta(seconds=1))
    assert not s.silences({"a": "x"}, client, NOW + timedelta(hours=1))
    anyone = Silence(uuid4(), (m("a", "x"),), NOW, NOW + timedelta(hours=1))
    assert silencing([s, anyone], {"a": "x"}, None, NOW) is anyone


def test_states() -> None:
    end = NOW + timedelta(hours=1)
    assert [state(NOW, end, t) for t in (NOW - timedelta(1), NOW, end)] == ["pending", "active", "expired"]
