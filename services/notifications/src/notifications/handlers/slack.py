"""Acknowledge / Resolve from Slack (docs/notifications.md, "Slack actions").

A press is recorded at once (the endpoint answers Slack within its 3 seconds), then a timer
loop finds who pressed (users.info with the channel's bot token → email → the tenant's user)
and either asks triage to act in that person's name (``incident_action.requested.v1``, whose
actor is the person; triage checks their permissions again and applies it) or tells them, and
them alone, why not (chat.postEphemeral). When triage's event caused by the request arrives,
the message is updated to say who acted (chat.update on the stored channel and ts)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from backbone.uow import UnitOfWork
from contracts.envelope import Actor, Envelope, new_id
from contracts.events import IncidentAcknowledged, IncidentActionRequested, IncidentResolved
from notifications.adapters import slack as store
from notifications.adapters.secrets import SecretBox
from notifications.adapters.slack import SlackApi
from notifications.domain import slack
from notifications.domain.channels import Checks
from notifications.domain.deliveries import SendFailed
from notifications.domain.templates import slack_escape
from notifications.handlers.deliveries import sending_channel

# Triage's events that carry out a request, by the action they carry out.
APPLIED_BY = {IncidentAcknowledged.event_type: "acknowledge", IncidentResolved.event_type: "resolve"}


async def remember_posts(uow: UnitOfWork, posts: list[tuple[Any, dict[str, str] | None]]) -> None:
    """Where sent bot messages about an incident are (Slack's channel and ts)."""
    await store.remember_posts(
        uow.session,
        [
            {
                "delivery_id": claimed.id,
                "tenant_id": claimed.tenant_id,
                "incident_id": claimed.incident_id,
                "channel_id": claimed.channel_id,
                "slack_channel": receipt["channel"][:40],
                "ts": receipt["ts"][:40],
            }
            for claimed, receipt in posts
            if receipt and claimed.incident_id is not None
        ],
    )


async def receive(uow: UnitOfWork, clicks: list[slack.Click]) -> int:
    """Record presses on messages we sent whose button names that message's incident (any
    other is ignored: a message someone else posted cannot act through us); how many are new."""
    known = await store.messages(uow.session, {(c.slack_channel, c.message_ts) for c in clicks})
    rows = []
    for click in clicks:
        message = known.get((click.slack_channel, click.message_ts))
        if message is None or message.incident_id != click.incident_id:
            continue
        rows.append(
            {
                "id": new_id(),
                "tenant_id": message.tenant_id,
                "incident_id": message.incident_id,
                "delivery_id": message.delivery_id,
                "channel_id": message.channel_id,
                "action": click.action,
                "slack_user": click.slack_user,
                "slack_channel": click.slack_channel,
                "ts": click.message_ts,
                "action_ts": click.action_ts,
                "state": "received",
                "due_at": uow.now,
            }
        )
    return await store.add_actions(uow.session, rows)


async def note_applied(uow: UnitOfWork, batch: list[tuple[Envelope, Any]]) -> None:
    """Triage acknowledged or resolved an incident because we asked: the message is due its update."""
    pairs = [(e.causationid, APPLIED_BY[e.type]) for e, _ in batch if e.causationid and e.type in APPLIED_BY]
    if pairs:
        await store.applied(uow.session, pairs, uow.now)


class SlackActions:
    """The timer loop's firing function: each due press is resolved (received) or its message
    updated (applied); a Slack fault is retried with backoff, a refusal is final."""

    def __init__(
        self, api: SlackApi, box: SecretBox, checks: Checks, environ: Mapping[str, str], max_attempts: int
    ) -> None:
        self.api, self.box, self.checks, self.environ = api, box, checks, environ
        self.max_attempts = max_attempts

    async def __call__(self, uow: UnitOfWork, now: datetime) -> int:
        due = await store.claim(uow.session, now)
        for row in due:
            try:
                _, config = await sending_channel(uow, row.channel_id, self.box, self.checks, self.environ)
                token = config.get("bot_token")
                if not isinstance(token, str) or not token:
                    raise SendFailed("the channel has no bot token", transient=False)
                if row.state == "received":
                    await self._resolve(uow, row, token, now)
                elif row.state == "applied":
                    await self._update(uow, row, token)
                else:
                    await store.mark(uow.session, row.id, {"due_at": None})
            except SendFailed as exc:
                attempts = row.attempts + 1
                values: dict[str, Any] = {"attempts": attempts, "detail": exc.error[:500]}
                if exc.transient and attempts < self.max_attempts:
                    values["due_at"] = now + timedelta(seconds=min(60, 2**attempts))
                else:
                    values |= {"state": "failed", "due_at": None}
                await store.mark(uow.session, row.id, values)
        return len(due)

    async def _resolve(self, uow: UnitOfWork, row: Any, token: str, now: datetime) -> None:
        email = await self.api.email_of(token, row.slack_user)
        person = await store.person_by_email(uow.session, row.tenant_id, email) if email else None
        incident = await store.incident(uow.session, row.tenant_id, row.incident_id)
        reason = slack.refusal(email, person, incident)
        who = {"user_id": person["user_id"], "user_name": person["name"]} if person else {}
        if reason is not None or person is None:
            await self.api.ephemeral(token, row.slack_channel, row.slack_user, reason or "")
            await store.mark(
                uow.session, row.id, {"state": "refused", "detail": reason, "due_at": None, **who}
            )
            return
        request = uow.emit(
            IncidentActionRequested(
                incident_id=row.incident_id, action=row.action, user_id=person["user_id"], requested_at=now
            ),
            tenant_id=row.tenant_id,
            actor=Actor(user_id=person["user_id"], role=person["role"]),
        )
        values = {"state": "requested", "request_event_id": request.id, "due_at": None}
        await store.mark(uow.session, row.id, values | who)

    async def _update(self, uow: UnitOfWork, row: Any, token: str) -> None:
        message = await store.delivered_message(uow.session, row.delivery_id)
        blocks: Any = message.get("blocks")
        text: Any = message.get("text")
        # The message as sent, then every action shown on it so far, then this one.
        done = await store.settled(uow.session, row.slack_channel, row.ts)
        for action, who in [*done, (row.action, row.user_name)]:
            blocks = slack.acted_blocks(blocks, action, slack_escape(who or "someone"))
            text = slack.acted_text(text, action, who or "someone")
        await self.api.update(token, row.slack_channel, row.ts, text, blocks)
        await store.mark(uow.session, row.id, {"state": "updated", "due_at": None})
