"""Slack actions' storage and Slack's Web API calls (docs/notifications.md, "Slack actions").

``slack_messages``: where each bot message about an incident went (Slack's channel and ``ts``,
from chat.postMessage's answer), so a click is traced back to a message we sent, its tenant and
the channel whose bot token answers it. ``slack_actions``: one row per click, a timer row
(``due_at``) while something remains to do: resolve the person (users.info), then, once
triage applied the command, update the message (chat.update)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import (
    Column,
    DateTime,
    Index,
    Integer,
    Row,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
    text,
)
from sqlalchemy import update as sql_update
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from backbone.tables import stamp, stamps, tenant_table
from backbone.timers import claim_due
from notifications.adapters.incidents import incidents
from notifications.adapters.orm import deliveries, metadata, recipients
from notifications.adapters.senders import slack_failure, unreachable
from notifications.domain.deliveries import SendFailed

slack_messages = tenant_table(
    "slack_messages",
    metadata,
    Column("incident_id", PgUUID(as_uuid=True), nullable=False),
    Column("channel_id", PgUUID(as_uuid=True), nullable=False),
    Column("slack_channel", String(40), nullable=False),
    Column("ts", String(40), nullable=False),
    stamp("created_at"),
    UniqueConstraint("slack_channel", "ts", name="uq_slack_messages_channel_ts"),
    key="delivery_id",
)

slack_actions = tenant_table(
    "slack_actions",
    metadata,
    Column("incident_id", PgUUID(as_uuid=True), nullable=False),
    Column("delivery_id", PgUUID(as_uuid=True), nullable=False),
    Column("channel_id", PgUUID(as_uuid=True), nullable=False),
    Column("action", String(20), nullable=False),
    Column("slack_user", String(40), nullable=False),
    Column("slack_channel", String(40), nullable=False),
    Column("ts", String(40), nullable=False),
    Column("action_ts", String(40), nullable=False),
    # received → requested (command sent) | refused; requested → applied → updated; or failed.
    Column("state", String(20), nullable=False),
    Column("user_id", PgUUID(as_uuid=True)),
    Column("user_name", String(200)),
    Column("request_event_id", PgUUID(as_uuid=True)),
    Column("detail", Text),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("due_at", DateTime(timezone=True)),
    *stamps(),
    # Slack retries a request it thinks went unanswered: one row per press all the same.
    UniqueConstraint("slack_channel", "ts", "slack_user", "action_ts", name="uq_slack_actions_press"),
    Index("ix_slack_actions_due", "due_at", postgresql_where=text("due_at IS NOT NULL")),
    Index("ix_slack_actions_request", "request_event_id"),
)


async def remember_posts(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(slack_messages).values(rows).on_conflict_do_nothing())


async def messages(session: AsyncSession, keys: set[tuple[str, str]]) -> dict[tuple[str, str], Row[Any]]:
    """Our messages by (Slack channel, ts)."""
    if not keys:
        return {}
    rows = await session.execute(
        select(slack_messages).where(
            func.row(slack_messages.c.slack_channel, slack_messages.c.ts).in_(
                [func.row(c, t) for c, t in keys]
            )
        )
    )
    return {(r.slack_channel, r.ts): r for r in rows}


async def add_actions(session: AsyncSession, rows: list[dict[str, Any]]) -> int:
    """Record presses (a repeated one is left alone); how many are new."""
    if not rows:
        return 0
    added = await session.scalars(
        insert(slack_actions)
        .values(rows)
        .on_conflict_do_nothing(constraint="uq_slack_actions_press")
        .returning(slack_actions.c.id)
    )
    return len(list(added))


async def claim(session: AsyncSession, now: datetime, limit: int = 20) -> Sequence[Row[Any]]:
    return await claim_due(
        session,
        slack_actions,
        now=now,
        due=slack_actions.c.due_at,
        pending=[slack_actions.c.due_at.isnot(None)],
        limit=limit,
    )


async def mark(session: AsyncSession, action_id: UUID, values: dict[str, Any]) -> None:
    await session.execute(
        sql_update(slack_actions)
        .where(slack_actions.c.id == action_id)
        .values(**values, updated_at=func.now())
    )


async def applied(session: AsyncSession, pairs: list[tuple[UUID, str]], now: datetime) -> int:
    """Commands triage applied, as (request event id, action): their messages are due an update."""
    count = 0
    for request_id, action in pairs:
        result = await session.execute(
            sql_update(slack_actions)
            .where(
                slack_actions.c.request_event_id == request_id,
                slack_actions.c.action == action,
                slack_actions.c.state == "requested",
            )
            .values(state="applied", due_at=now, attempts=0, updated_at=func.now())
        )
        count += result.rowcount  # type: ignore[attr-defined]
    return count


async def settled(session: AsyncSession, slack_channel: str, ts: str) -> list[tuple[str, str | None]]:
    """The actions already shown on a message (action, who), oldest first."""
    rows = await session.execute(
        select(slack_actions.c.action, slack_actions.c.user_name)
        .where(
            slack_actions.c.slack_channel == slack_channel,
            slack_actions.c.ts == ts,
            slack_actions.c.state == "updated",
        )
        .order_by(slack_actions.c.updated_at, slack_actions.c.id)
    )
    return [(r.action, r.user_name) for r in rows]


async def person_by_email(session: AsyncSession, tenant_id: UUID, email: str) -> dict[str, Any] | None:
    """The tenant's user with this email address (case-insensitive), from the users replica."""
    row = (
        await session.execute(
            select(recipients)
            .where(
                recipients.c.tenant_id == tenant_id, func.lower(recipients.c.email) == email.strip().lower()
            )
            .limit(1)
        )
    ).one_or_none()
    return dict(row._mapping) if row else None


async def incident(session: AsyncSession, tenant_id: UUID, incident_id: UUID) -> dict[str, Any] | None:
    """The incident's headline from the replica (client, vendor, deletion), within the tenant."""
    row = (
        await session.execute(
            select(incidents).where(incidents.c.id == incident_id, incidents.c.tenant_id == tenant_id)
        )
    ).one_or_none()
    return dict(row._mapping) if row else None


async def delivered_message(session: AsyncSession, delivery_id: UUID) -> dict[str, Any]:
    """The message as it was sent (text and blocks), or {} once retention removed it."""
    message = await session.scalar(select(deliveries.c.message).where(deliveries.c.id == delivery_id))
    return message if isinstance(message, dict) else {}


class SlackApi:
    """Slack's Web API at the operator's NOTIFICATIONS_SLACK_API_URL (trusted, like chat.postMessage's)
    with a channel's bot token. Raises SendFailed (transient or not), keeping only Slack's error code."""

    def __init__(self, base_url: str, timeout_s: float) -> None:
        self.base_url = base_url
        self.timeout_s = timeout_s
        self._session: aiohttp.ClientSession | None = None

    def _client(self, token: str) -> AsyncWebClient:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(trust_env=False)
        return AsyncWebClient(
            token=token,
            base_url=self.base_url,
            timeout=int(self.timeout_s) or 1,
            session=self._session,
            retry_handlers=[],
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
        self._session = None

    async def email_of(self, token: str, user: str) -> str | None:
        """The Slack user's email address (users.info, scope ``users:read.email``); None when
        Slack has none to give (an unknown user, a bot, the scope missing)."""
        try:
            answer = await self._call(self._client(token).users_info(user=user))
        except SendFailed as exc:
            if not exc.transient:
                return None
            raise
        profile = (answer.get("user") or {}).get("profile") or {}
        email = profile.get("email")
        return email if isinstance(email, str) and "@" in email and len(email) <= 320 else None

    async def update(
        self, token: str, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]
    ) -> None:
        await self._call(self._client(token).chat_update(channel=channel, ts=ts, text=text, blocks=blocks))

    async def ephemeral(self, token: str, channel: str, user: str, text: str) -> None:
        await self._call(self._client(token).chat_postEphemeral(channel=channel, user=user, text=text))

    @staticmethod
    async def _call(pending: Any) -> Any:
        try:
            return (await pending).data
        except SlackApiError as exc:
            raise slack_failure(exc) from None
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise unreachable("Slack", exc) from None
