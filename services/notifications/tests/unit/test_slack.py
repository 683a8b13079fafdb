"""Slack actions' rules: the buttons, reading a click, who may act, the message once acted on."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from contracts.enums import ChannelKind, Role
from notifications.domain import slack, templates

INCIDENT = uuid.uuid4()


def _payload(**changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": "U0TESS", "team_id": "T0OPS"},
        "container": {"type": "message", "message_ts": "1712345001.000100", "channel_id": "C0INC"},
        "actions": [
            {"action_id": "incident_acknowledge", "value": str(INCIDENT), "action_ts": "1712345002.123456"},
            {"action_id": "open_incident", "value": "x", "action_ts": "1712345002.123456"},
        ],
    }
    return payload | changes


def _actions(message: dict[str, Any]) -> list[str]:
    return [e["action_id"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]


def test_a_press_is_read_from_the_payload() -> None:
    (click,) = slack.clicks(_payload())
    assert click == slack.Click(
        "acknowledge", INCIDENT, "U0TESS", "C0INC", "1712345001.000100", "1712345002.123456"
    )


@pytest.mark.parametrize(
    "payload",
    [
        None,
        [],
        _payload(type="view_submission"),
        _payload(user={"id": "<script>"}),
        _payload(user="U0TESS"),
        _payload(container={"channel_id": "C0INC", "message_ts": "not a ts"}),
        _payload(actions=[{"action_id": "incident_resolve", "value": "not-a-uuid", "action_ts": "1.2"}]),
        _payload(actions=[{"action_id": "delete_everything", "value": str(INCIDENT), "action_ts": "1.2"}]),
        _payload(actions="incident_resolve"),
    ],
)
def test_anything_else_gives_no_press(payload: Any) -> None:
    assert slack.clicks(payload) == []


def test_bot_messages_about_a_running_incident_carry_both_buttons() -> None:
    ctx = templates.context(
        "incident.created.v1",
        {"incident_id": str(INCIDENT), "reference_code": "INC-000001", "title": "Down", "status": "open"},
        link_template="https://ops.example/{incident_id}",
        extra={"actions": True},
    )
    message = templates.render(ChannelKind.SLACK, "incident.created.v1", ctx)
    assert _actions(message) == ["incident_acknowledge", "incident_resolve", "open_incident"]
    values = {e.get("value") for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]}
    assert str(INCIDENT) in values


@pytest.mark.parametrize(
    ("event_type", "status", "actions", "wanted"),
    [
        ("incident.created.v1", "open", False, []),  # a webhook's message: nobody could trace a click
        ("incident.created.v1", "acknowledged", True, ["incident_resolve"]),
        ("incident.resolved.v1", "resolved", True, []),
        ("incident.status_changed.v1", "closed", True, []),
        ("change_request.created.v1", None, True, []),
    ],
)
def test_buttons_only_where_they_make_sense(
    event_type: str, status: str | None, actions: bool, wanted: list[str]
) -> None:
    ctx = templates.context(
        event_type, {"incident_id": str(INCIDENT), "status": status}, extra={"actions": actions}
    )
    assert _actions(templates.render(ChannelKind.SLACK, event_type, ctx)) == wanted


PERSON = {
    "user_id": uuid.uuid4(),
    "status": "active",
    "role": Role.TECHNICAL_SUPPORT.value,
    "client_id": None,
}
CLIENT = uuid.uuid4()


@pytest.mark.parametrize(
    ("email", "person", "incident", "refused"),
    [
        ("t@x.example", PERSON, {"client_id": None, "deleted_at": None}, None),
        (None, PERSON, {}, "did not share your email"),
        ("t@x.example", None, {}, "No user"),
        ("t@x.example", PERSON | {"status": "inactive"}, {}, "inactive"),
        ("t@x.example", PERSON | {"role": "account_manager"}, {}, "may not"),
        ("t@x.example", PERSON, None, "not one you can change"),
        ("t@x.example", PERSON, {"deleted_at": "2026-01-01"}, "not one you can change"),
        (
            "t@x.example",
            PERSON | {"role": "client_contact", "client_id": CLIENT},
            {"client_id": uuid.uuid4(), "deleted_at": None},
            "may not",  # client contacts lack incidents.update altogether
        ),
    ],
)
def test_who_may_act(email: str | None, person: Any, incident: Any, refused: str | None) -> None:
    reason = slack.refusal(email, person, incident)
    assert (reason is None) if refused is None else (reason is not None and refused in reason)


def test_the_message_after_acknowledge_keeps_resolve_and_says_who() -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "New incident"}},
        {
            "type": "actions",
            "elements": slack.buttons(INCIDENT, "open", "INC-1")
            + [{"type": "button", "action_id": "open_incident", "url": "https://x"}],
        },
    ]
    after = slack.acted_blocks(blocks, "acknowledge", "Tess")
    assert _actions({"blocks": after}) == ["incident_resolve", "open_incident"]
    assert after[-1]["elements"][0]["text"] == "*Acknowledged* by Tess from Slack"
    resolved = slack.acted_blocks(blocks, "resolve", "Tess")
    assert _actions({"blocks": resolved}) == ["open_incident"]
