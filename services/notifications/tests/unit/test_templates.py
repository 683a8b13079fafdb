"""Messages from templates: defaults, tenant overrides (sandboxed), Block Kit from the same data."""

from __future__ import annotations

import pytest

from contracts.enums import ChannelKind
from notifications.domain import templates

INCIDENT = {
    "incident_id": "0190e2b0-0000-7000-8000-000000000001",
    "reference_code": "INC-000042",
    "title": "Payments <down> & out",
    "severity": "P1",
    "status": "open",
}


def ctx(**kw: object) -> dict[str, object]:
    return templates.context(
        "incident.created.v1",
        INCIDENT,
        client_name="Acme",
        recipient="Ines",
        link_template="https://ops.example/i/{incident_id}",
        **kw,  # type: ignore[arg-type]
    )


def test_default_email() -> None:
    msg = templates.render(ChannelKind.EMAIL, "incident.created.v1", ctx())
    assert msg["subject"] == "[P1] INC-000042 New incident: Payments <down> & out"
    assert "Hello Ines" in msg["text"] and "Client:   Acme" in msg["text"]
    assert "https://ops.example/i/0190e2b0-0000-7000-8000-000000000001" in msg["text"]


def test_slack_text_is_escaped_and_blocks_carry_the_facts() -> None:
    msg = templates.render(ChannelKind.SLACK, "incident.created.v1", ctx(mentions=("U0ABC", "Tom")))
    assert "Payments &lt;down&gt; &amp; out" in msg["text"]
    assert "<@U0ABC> @Tom" in msg["text"]
    blocks = msg["blocks"]
    assert blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "New incident: INC-000042", "emoji": True},
    }
    fields = [f["text"] for f in blocks[2]["fields"]]
    assert fields[0].endswith("P1") and fields[1] == "*Client*\nAcme" and fields[2] == "*Status*\nopen"
    assert fields[3] == "*SLA due*\n-"
    assert blocks[3]["elements"][0]["url"] == "https://ops.example/i/0190e2b0-0000-7000-8000-000000000001"


def test_sla_event_uses_the_headline_and_due_time() -> None:
    data = {
        "incident_id": INCIDENT["incident_id"],
        "clock": "response",
        "severity": "P2",
        "due_at": "2026-11-23T12:00:00Z",
    }
    c = templates.context("sla.breached.v1", data, headline={**INCIDENT, "status": "acknowledged"})
    msg = templates.render(ChannelKind.EMAIL, "sla.breached.v1", c)
    assert msg["subject"] == "[P2] INC-000042 SLA breached: Payments <down> & out"
    assert "SLA due:  2026-11-23T12:00:00Z" in msg["text"] and "Status:   acknowledged" in msg["text"]


def test_overrides_replace_defaults_and_are_sandboxed() -> None:
    override = templates.Override(
        "{{ reference_code }} / {{ severity }}", "Hi {{ recipient }}: {{ title|upper }}"
    )
    msg = templates.render(ChannelKind.EMAIL, "incident.created.v1", ctx(), override)
    assert msg == {"subject": "INC-000042 / P1", "text": "Hi Ines: PAYMENTS <DOWN> & OUT"}
    with pytest.raises(templates.TemplateError):
        templates.check(ChannelKind.EMAIL, None, "{% for %}")
    # The sandbox refuses to reach into Python internals.
    with pytest.raises(templates.TemplateError):
        templates.check(ChannelKind.EMAIL, None, "{{ ''.__class__.__mro__[1].__subclasses__() }}")


def test_communications_and_reminders_have_their_own_defaults() -> None:
    c = templates.context(
        "communication.recorded.v1",
        {"title": "Status", "message": "All good.", "incident_id": "x"},
        recipient="Tess",
    )
    msg = templates.render(ChannelKind.EMAIL, "communication.recorded.v1", c)
    assert msg["subject"] == "Status" and "All good." in msg["text"]
    r = templates.context("reminder.dispatched.v1", {"reminder_type": "follow_up", "incident_id": "x"})
    assert templates.render(ChannelKind.SLACK, "reminder.dispatched.v1", r)["text"].startswith(
        "*Reminder: follow_up*"
    )


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("{{ 1/0 }}", "ZeroDivisionError"),
        ("{{ event.nope.x() }}", "UndefinedError"),
        ("{{ 'x' * 1000000000 }}", "longer than"),
        ("{{ [1, 2] * 1000000000 }}", "longer than"),
        ("{{ 2 ** 100000000 }}", "exponent"),
        ("{% for i in range(10**9) %}{% endfor %}", "range"),
        ("{% for i in range(100000) %}xx{% endfor %}", "output longer than 1000"),
    ],
)
def test_every_rendering_error_is_a_template_error(body: str, reason: str) -> None:
    with pytest.raises(templates.TemplateError, match=reason):
        templates.check(ChannelKind.EMAIL, None, body, max_output=1000)


def test_a_change_event_shows_the_change_not_its_incident() -> None:
    change = {
        "id": "0190e2b0-0000-7000-8000-000000000009",
        "incident_id": INCIDENT["incident_id"],
        "title": "Resize the pool",
        "status": "approved",
        "comment": "CAB ok",
    }
    head = {**INCIDENT, "title": "Payments down"}
    context = templates.context("change_request.approved.v1", change, headline=head)
    msg = templates.render(ChannelKind.EMAIL, "change_request.approved.v1", context)
    assert msg["subject"] == "[P1] INC-000042 Change approved: Resize the pool"
    assert "Status:   approved" in msg["text"] and "CAB ok" in msg["text"]
