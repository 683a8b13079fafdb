"""Messages from Jinja2 templates (no I/O beyond reading the packaged defaults).

One context per (event, recipient) feeds every part: an email's subject and body, a Slack
message's text and its Block Kit blocks. Defaults live in ``notifications/templates/`` as
``<event type>/<kind>/<part>.j2`` with ``default/<kind>/<part>.j2`` behind them; a tenant may
override any (event type or ``*``, kind) pair. Templates run sandboxed, since tenants write them,
with limits on what one expression may build and on the output; a tenant's template also runs
in a separate process with a time and memory limit (adapters/templates.py).
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from contracts.enums import ChannelKind
from notifications.domain import slack

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"

# Parts each kind renders; a webhook sends the event envelope itself, untemplated.
PARTS: dict[ChannelKind, tuple[str, ...]] = {
    ChannelKind.EMAIL: ("subject", "body"),
    ChannelKind.SLACK: ("text",),
    ChannelKind.WEBHOOK: (),
}

LABELS = {
    "incident.created.v1": "New incident",
    "incident.updated.v1": "Incident updated",
    "incident.triaged.v1": "Severity set",
    "incident.status_changed.v1": "Status changed",
    "incident.acknowledged.v1": "Incident acknowledged",
    "incident.assigned.v1": "Incident assigned",
    "incident.unassigned.v1": "Incident unassigned",
    "incident.delegated.v1": "Incident delegated",
    "incident.escalated.v1": "Incident escalated",
    "incident.resolved.v1": "Incident resolved",
    "incident.closed.v1": "Incident closed",
    "incident.reopened.v1": "Incident reopened",
    "incident.deleted.v1": "Incident deleted",
    "incident.comment_added.v1": "New comment",
    "incident.task_added.v1": "New task",
    "incident.task_updated.v1": "Task updated",
    "incident.attachment_added.v1": "New attachment",
    "sla.at_risk.v1": "SLA at risk",
    "sla.breached.v1": "SLA breached",
    "communication.recorded.v1": "Message",
    "reminder.dispatched.v1": "Reminder",
    "notification.test": "Test message",
}

# The changes service's routable events; a record with a title of its own (a change, a problem,
# an article) shows it rather than its incident's.
CHANGE_LABELS = {
    "change_request.created.v1": "Change requested",
    "change_request.approved.v1": "Change approved",
    "change_request.rejected.v1": "Change rejected",
    "change_request.scheduled.v1": "Change scheduled",
    "change_request.started.v1": "Change started",
    "change_request.completed.v1": "Change completed",
    "change_request.failed.v1": "Change failed",
    "change_request.cancelled.v1": "Change cancelled",
    "change_request.rolled_back.v1": "Change rolled back",
    "rollback_request.created.v1": "Rollback requested",
    "rollback_request.approved.v1": "Rollback approved",
    "rollback_request.rejected.v1": "Rollback rejected",
    "rollback_request.completed.v1": "Rollback completed",
    "rollback_request.failed.v1": "Rollback failed",
    "problem.opened.v1": "Problem opened",
    "problem.updated.v1": "Problem updated",
    "root_cause_analysis.completed.v1": "Root cause found",
    "root_cause_analysis.approved.v1": "Root cause approved",
    "kb_article.submitted.v1": "Article to review",
    "kb_article.published.v1": "Article published",
    "post_incident_review.scheduled.v1": "Post-incident review scheduled",
    "post_incident_review.completed.v1": "Post-incident review completed",
    "post_incident_review.cancelled.v1": "Post-incident review cancelled",
}
LABELS |= CHANGE_LABELS

SEVERITY_EMOJI = {"P1": ":red_circle:", "P2": ":large_orange_circle:", "P3": ":large_yellow_circle:"}


class TemplateError(ValueError):
    """A template that does not compile or render (a tenant's override: answered 422)."""


class SlackMarkup(str):
    """A value that is already Slack markup (mentions): not escaped again."""


def slack_escape(value: Any) -> Any:
    """Slack mrkdwn control characters in values (never in the template's own text)."""
    if isinstance(value, str) and not isinstance(value, SlackMarkup):
        return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return value


MAX_OUTPUT = 100_000  # characters per part, unless the caller says otherwise
MAX_SEQUENCE = 100_000  # longest string or list one `*` may build
MAX_EXPONENT = 1_000  # `**` beyond this is refused (9**9**9 would run for hours)


class _Limited(SandboxedEnvironment):
    """Jinja2's sandbox (no attribute access to internals, ranges up to 100,000) plus limits on
    the operators that build huge values from small templates."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator_: str, left: Any, right: Any) -> Any:
        if operator_ == "**":
            if isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
                raise TemplateError(f"exponent larger than {MAX_EXPONENT}")
            return operator.pow(left, right)
        if operator_ == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and isinstance(n, int) and len(seq) * n > MAX_SEQUENCE:
                    raise TemplateError(f"a value longer than {MAX_SEQUENCE} would be built")
            return operator.mul(left, right)
        return super().call_binop(context, operator_, left, right)


def _env(finalize: Any = None) -> SandboxedEnvironment:
    kwargs: dict[str, Any] = {}
    if finalize is not None:
        kwargs["finalize"] = finalize
    return _Limited(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=False,  # plain-text email and Slack mrkdwn; Slack values are escaped by finalize
        undefined=jinja2.ChainableUndefined,
        keep_trailing_newline=False,
        trim_blocks=False,
        **kwargs,
    )


_ENVS = {ChannelKind.EMAIL: _env(), ChannelKind.SLACK: _env(slack_escape)}


@functools.lru_cache(maxsize=512)
def _compiled(kind: ChannelKind, source: str) -> jinja2.Template:
    try:
        return _ENVS[kind].from_string(source)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"line {exc.lineno}: {exc.message}") from exc
    except Exception as exc:  # e.g. nesting deep enough to exhaust the compiler's recursion
        raise TemplateError(f"{type(exc).__name__}"[:300]) from None


def _default(kind: ChannelKind, event_type: str, part: str) -> jinja2.Template:
    env = _ENVS[kind]
    return env.select_template([f"{event_type}/{kind.value}/{part}.j2", f"default/{kind.value}/{part}.j2"])


@dataclass(frozen=True)
class Override:
    subject: str | None
    body: str


def mention(handle: str) -> str:
    """Slack ids (U…/W…) become real mentions; anything else is shown as @name."""
    return f"<@{handle}>" if handle[:1] in ("U", "W") and handle.isalnum() else f"@{slack_escape(handle)}"


def context(
    event_type: str,
    data: Mapping[str, Any],
    *,
    client_name: str | None = None,
    recipient: str | None = None,
    link_template: str | None = None,
    headline: Mapping[str, Any] | None = None,
    mentions: tuple[str, ...] = (),
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The data templates see. ``headline`` fills the incident's reference and title for
    events that do not carry them (SLA, communications, reminders)."""
    head = dict(headline or {})
    incident_id = data.get("incident_id") or head.get("incident_id")
    details = (
        data.get("reason")
        or data.get("resolution")
        or data.get("note")
        or data.get("body")
        or data.get("comment")
        or data.get("justification")
        or data.get("root_cause")
        or ""
    )
    if event_type.startswith("sla."):
        details = f"The {data.get('clock', '')} clock is due at {data.get('due_at', '')}."
    return {
        "event_type": event_type,
        "label": LABELS.get(event_type, event_type),
        "event": dict(data),
        "incident_id": incident_id,
        "reference_code": data.get("reference_code") or head.get("reference_code"),
        "title": data.get("title")
        if "reference_code" in data or (event_type in CHANGE_LABELS and data.get("title"))
        else head.get("title"),
        "severity": data.get("severity") or head.get("severity"),
        "status": data.get("status") or data.get("to_status") or head.get("status"),
        "client": client_name,
        "sla_due": data.get("due_at"),
        "details": details,
        "link": link_template.format(incident_id=incident_id) if link_template and incident_id else None,
        "recipient": recipient,
        "mentions": SlackMarkup(" ".join(mention(m) for m in mentions)),
        "message": data.get("message"),
        "message_title": data.get("title") if event_type == "communication.recorded.v1" else None,
        "reminder_type": data.get("reminder_type"),
        **dict(extra or {}),
    }


def _render(template: jinja2.Template, ctx: Mapping[str, Any], max_output: int) -> str:
    """Render, stopping as soon as the output passes ``max_output``. Any error a template can
    raise (``{{ 1/0 }}``, a filter on the wrong type, a sandbox refusal) is a TemplateError."""
    out: list[str] = []
    size = 0
    try:
        for chunk in template.generate(ctx):
            size += len(chunk)
            if size > max_output:
                raise TemplateError(f"output longer than {max_output} characters")
            out.append(chunk)
    except TemplateError:
        raise
    except Exception as exc:
        raise TemplateError(f"{type(exc).__name__}: {exc}"[:300]) from None
    return "".join(out).strip()


def render(
    kind: ChannelKind,
    event_type: str,
    ctx: Mapping[str, Any],
    override: Override | None = None,
    *,
    max_output: int = MAX_OUTPUT,
) -> dict[str, Any]:
    """The message of one kind: email {subject, text}, Slack {text, blocks}."""
    if kind is ChannelKind.EMAIL:
        subject_t = (
            _compiled(kind, override.subject)
            if override and override.subject
            else _default(kind, event_type, "subject")
        )
        body_t = _compiled(kind, override.body) if override else _default(kind, event_type, "body")
        subject = " ".join(_render(subject_t, ctx, max_output).split())  # one line, as headers need
        return {"subject": subject[:900], "text": _render(body_t, ctx, max_output)}
    if kind is ChannelKind.SLACK:
        text_t = _compiled(kind, override.body) if override else _default(kind, event_type, "text")
        text = _render(text_t, ctx, max_output)
        return {"text": text, "blocks": blocks(ctx, text)}
    raise ValueError(f"{kind} messages are not templated")


def compile_check(kind: ChannelKind, subject: str | None, body: str) -> None:
    """TemplateError if a part does not compile (cheap: no rendering)."""
    for source in (subject, body):
        if source:
            _compiled(kind, source)


SAMPLE_EVENT = "incident.created.v1"


def sample() -> dict[str, Any]:
    """The data a tenant's template is tried on before it is saved."""
    return context(
        "incident.created.v1",
        {
            "incident_id": "00000000-0000-0000-0000-000000000000",
            "reference_code": "INC-000001",
            "title": "Sample incident",
            "severity": "P1",
            "status": "open",
        },
        client_name="Sample client",
        recipient="Sample User",
        link_template="http://example.invalid/{incident_id}",
    )


def check(kind: ChannelKind, subject: str | None, body: str, *, max_output: int = MAX_OUTPUT) -> None:
    """Compile and try a tenant's template on sample data; TemplateError if it fails (in this
    process: unbounded in time, for trusted callers; the service uses adapters/templates.py)."""
    render(kind, SAMPLE_EVENT, sample(), Override(subject, body), max_output=max_output)


def _plain(value: Any, limit: int = 150) -> str:
    return (str(value) if value not in (None, "") else "-")[:limit]


def blocks(ctx: Mapping[str, Any], text: str) -> list[dict[str, Any]]:
    """Block Kit: a header, the rendered text, the facts as fields, a link button."""
    severity = ctx.get("severity")
    heading = ctx.get("label") or "Notification"
    if ctx.get("reference_code"):
        heading = f"{heading}: {ctx['reference_code']}"
    emoji = SEVERITY_EMOJI.get(str(severity), "")
    result: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _plain(heading), "emoji": True}},
        {"type": "section", "text": {"type": "mrkdwn", "text": (text or "-")[:3000]}},
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*Severity*\n{emoji + ' ' if emoji else ''}{_plain(severity)}"},
                {"type": "mrkdwn", "text": f"*Client*\n{slack_escape(_plain(ctx.get('client')))}"},
                {"type": "mrkdwn", "text": f"*Status*\n{slack_escape(_plain(ctx.get('status')))}"},
                {"type": "mrkdwn", "text": f"*SLA due*\n{_plain(ctx.get('sla_due'))}"},
            ],
        },
    ]
    elements: list[dict[str, Any]] = []
    if (
        ctx.get("actions")
        and ctx.get("incident_id")
        and slack.wants_buttons(str(ctx.get("event_type")), ctx.get("status"))
    ):
        # Acknowledge / Resolve: only on a bot's messages, whose clicks can be traced back.
        elements += slack.buttons(ctx["incident_id"], ctx.get("status"), ctx.get("reference_code"))
    if ctx.get("link"):
        elements.append(
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "Open incident"},
                "url": str(ctx["link"])[:3000],
                "action_id": "open_incident",
            }
        )
    if elements:
        result.append({"type": "actions", "block_id": slack.ACTIONS_BLOCK, "elements": elements})
    result.append(
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"Event `{ctx.get('event_type')}`"}]}
    )
    return result
