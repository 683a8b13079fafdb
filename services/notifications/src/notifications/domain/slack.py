"""Acknowledge / Resolve from Slack (docs/notifications.md, "Slack actions"): the buttons an
incident message carries, what a click says (Slack's ``block_actions`` payload), whether the
person who clicked may act, and the message once the action is applied. Pure: no I/O."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from contracts.enums import Role, UserStatus
from contracts.permissions import CLIENT_SCOPED, VENDOR_SCOPED, Permission, allows

ACTIONS_BLOCK = "incident_actions"
# action_id → the command's action
ACTIONS = {"incident_acknowledge": "acknowledge", "incident_resolve": "resolve"}
ACTION_IDS = {action: action_id for action_id, action in ACTIONS.items()}
DONE_LABEL = {"acknowledge": "Acknowledged", "resolve": "Resolved"}

# No buttons once the incident is over, nor on the events that end or remove it.
FINISHED_STATUSES = frozenset({"resolved", "closed"})
FINAL_EVENTS = frozenset({"incident.resolved.v1", "incident.closed.v1", "incident.deleted.v1"})

# Slack's ids (users U…/W…, channels C…/G…/D…, teams T…) and message timestamps ("1712345678.000100").
_SLACK_ID = re.compile(r"[A-Z0-9]{1,40}")
_TS = re.compile(r"\d{1,20}\.\d{1,10}")


@dataclass(frozen=True)
class Click:
    """One button press: which action on which incident, by which Slack user, on which message."""

    action: str
    incident_id: UUID
    slack_user: str
    slack_channel: str
    message_ts: str
    action_ts: str


def wants_buttons(event_type: str, status: Any) -> bool:
    """Incident and SLA messages about an incident that is still going on."""
    return (
        event_type.startswith(("incident.", "sla."))
        and event_type not in FINAL_EVENTS
        and str(status or "open") not in FINISHED_STATUSES
    )


def buttons(incident_id: Any, status: Any, reference: Any) -> list[dict[str, Any]]:
    """Acknowledge (while the incident is open) and Resolve (with a confirmation), each with the
    incident id as its value."""
    name = str(reference or "this incident")[:100]
    result: list[dict[str, Any]] = []
    if str(status or "open") == "open":
        result.append(_button("Acknowledge", "acknowledge", incident_id, style="primary"))
    resolve = _button("Resolve", "resolve", incident_id)
    resolve["confirm"] = {
        "title": {"type": "plain_text", "text": "Resolve the incident?"},
        "text": {"type": "plain_text", "text": f"{name} will be resolved in your name."},
        "confirm": {"type": "plain_text", "text": "Resolve"},
        "deny": {"type": "plain_text", "text": "Cancel"},
    }
    result.append(resolve)
    return result


def _button(text: str, action: str, incident_id: Any, **extra: Any) -> dict[str, Any]:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "action_id": ACTION_IDS[action],
        "value": str(incident_id),
        **extra,
    }


def _text(value: Any, pattern: re.Pattern[str]) -> str | None:
    return value if isinstance(value, str) and pattern.fullmatch(value) else None


def clicks(payload: Any) -> list[Click]:
    """The Acknowledge / Resolve presses of a ``block_actions`` payload; anything else (another
    interaction, another button, a malformed field) gives none."""
    if not isinstance(payload, dict) or payload.get("type") != "block_actions":
        return []
    user, container = payload.get("user"), payload.get("container")
    if not isinstance(user, dict) or not isinstance(container, dict):
        return []
    slack_user = _text(user.get("id"), _SLACK_ID)
    channel = _text(container.get("channel_id"), _SLACK_ID)
    ts = _text(container.get("message_ts"), _TS)
    actions = payload.get("actions")
    if slack_user is None or channel is None or ts is None or not isinstance(actions, list):
        return []
    found = []
    for item in actions[:5]:
        if not isinstance(item, dict) or item.get("action_id") not in ACTIONS:
            continue
        action_ts = _text(item.get("action_ts"), _TS)
        try:
            incident_id = UUID(str(item.get("value")))
        except ValueError:
            continue
        if action_ts is not None:
            found.append(Click(ACTIONS[item["action_id"]], incident_id, slack_user, channel, ts, action_ts))
    return found


def refusal(
    email: str | None, person: Mapping[str, Any] | None, incident: Mapping[str, Any] | None
) -> str | None:
    """Why the person who clicked may not act (shown to them alone), or None: they must be an
    active user of the incident's tenant with this email address, hold ``incidents.update``,
    and see the incident (a contact only their client's or vendor's)."""
    if not email:
        return "Slack did not share your email address, so you cannot act on incidents from Slack."
    if person is None:
        return f"No user of the incident platform has the email address {email}; nothing was changed."
    if person["status"] != UserStatus.ACTIVE.value:
        return f"Your incident platform account is {person['status']}; nothing was changed."
    role = Role(person["role"])
    if not allows(role, Permission.INCIDENTS_UPDATE):
        return f"Your role ({role.value}) may not acknowledge or resolve incidents; nothing was changed."
    visible = incident is not None and incident.get("deleted_at") is None
    if visible and incident is not None and role in CLIENT_SCOPED:
        visible = person.get("client_id") is not None and incident.get("client_id") == person.get("client_id")
    if visible and incident is not None and role in VENDOR_SCOPED:
        visible = person.get("vendor_id") is not None and incident.get("vendor_id") == person.get("vendor_id")
    if not visible:
        return "This incident is not one you can change; nothing was changed."
    return None


def acted_blocks(blocks: Any, action: str, who: str) -> list[dict[str, Any]]:
    """The message after ``action`` by ``who`` (Slack markup, escaped by the caller): the
    buttons it settled removed (after an acknowledgement Resolve stays), and a line saying who
    did it."""
    gone = {ACTION_IDS["acknowledge"]} | ({ACTION_IDS["resolve"]} if action == "resolve" else set())
    result: list[dict[str, Any]] = []
    for block in blocks if isinstance(blocks, list) else []:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "actions":
            elements = [e for e in block.get("elements", []) if e.get("action_id") not in gone]
            if not elements:
                continue
            block = {**block, "elements": elements}
        result.append(block)
    line = {"type": "mrkdwn", "text": f"*{DONE_LABEL[action]}* by {who} from Slack"}
    result.append({"type": "context", "elements": [line]})
    return result


def acted_text(text: Any, action: str, who: str) -> str:
    return f"{str(text or '')[:2900]}\n{DONE_LABEL[action]} by {who}".strip()
