"""The channels' senders: SMTP (aiosmtplib), Slack (slack_sdk) and signed webhooks (httpx).

Each takes one ``Outgoing`` message and returns when the receiver accepted it, or raises
``SendFailed`` (transient or permanent). They never log secrets: errors name the receiver's
answer, not the credentials or the URL's token.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any
from uuid import UUID

import aiohttp
import aiosmtplib
import httpx
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from contracts.enums import ChannelKind
from notifications.domain import signing
from notifications.domain.delivery import SendFailed, http_failure

MESSAGE_ID_DOMAIN = "notifications.incident-platform"


@dataclass(frozen=True)
class Outgoing:
    delivery_id: UUID
    event_type: str
    kind: ChannelKind
    config: dict[str, Any]  # the channel's config with its secrets resolved
    message: dict[str, Any]
    address: str | None = None
    timeout_s: float = 10.0


Sender = Callable[[Outgoing], Awaitable[None]]


async def send_email(out: Outgoing) -> None:
    cfg = out.config
    to = out.address or ", ".join(cfg.get("to", []))
    if not to:
        raise SendFailed("no recipient address", transient=False)
    msg = EmailMessage()
    msg["From"] = cfg["from_address"]
    msg["To"] = to
    msg["Subject"] = out.message.get("subject", "")
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    # Stable across retries: a receiving system can drop a copy sent twice (see docs).
    msg["Message-ID"] = f"<{out.delivery_id}@{MESSAGE_ID_DOMAIN}>"
    msg["X-Event-Type"] = out.event_type
    msg.set_content(out.message.get("text", ""))
    security = cfg.get("security", "starttls")
    try:
        await aiosmtplib.send(
            msg,
            hostname=cfg["host"],
            port=int(cfg.get("port", 587)),
            username=cfg.get("username"),
            password=cfg.get("password"),
            use_tls=security == "tls",
            start_tls=security == "starttls",
            validate_certs=bool(cfg.get("validate_certs", True)),
            timeout=out.timeout_s,
        )
    except aiosmtplib.SMTPResponseException as exc:
        # 4xx: try again later (greylisting, a full queue); 5xx: refused for good.
        raise SendFailed(f"SMTP {exc.code}: {exc.message[:300]}", transient=400 <= exc.code < 500) from None
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [r.code for r in exc.recipients]
        raise SendFailed(
            f"SMTP recipients refused ({codes})", transient=all(400 <= c < 500 for c in codes)
        ) from None
    except (aiosmtplib.SMTPException, OSError, TimeoutError, ssl.SSLError) as exc:
        raise SendFailed(
            f"SMTP connection failed: {type(exc).__name__}: {exc}"[:400], transient=True
        ) from None


async def send_slack(out: Outgoing) -> None:
    cfg = out.config
    text, blocks = out.message.get("text", ""), out.message.get("blocks")
    try:
        if cfg.get("webhook_url"):
            hook = AsyncWebhookClient(cfg["webhook_url"], timeout=int(out.timeout_s) or 1, retry_handlers=[])
            response = await hook.send(text=text, blocks=blocks)
            if not 200 <= response.status_code < 300:
                raise http_failure(response.status_code, str(response.body))
            return
        client = AsyncWebClient(
            token=cfg["bot_token"],
            base_url=cfg.get("api_url") or cfg.get("_slack_api_url") or "https://slack.com/api/",
            timeout=int(out.timeout_s) or 1,
            retry_handlers=[],
        )
        await client.chat_postMessage(channel=out.address or cfg["channel"], text=text, blocks=blocks)
    except SlackApiError as exc:
        status = exc.response.status_code
        error = exc.response.get("error") if isinstance(exc.response.data, dict) else str(exc.response.data)
        transient = status in (429,) or status >= 500 or error in ("ratelimited", "internal_error")
        raise SendFailed(f"Slack {status}: {error}", transient=transient) from None
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        raise SendFailed(f"Slack unreachable: {type(exc).__name__}", transient=True) from None


@dataclass
class WebhookSender:
    """POSTs the event envelope, signed (domain/signing.py). One pooled HTTP client."""

    clock: Callable[[], float] = time.time
    _client: httpx.AsyncClient | None = field(default=None, init=False)

    async def __call__(self, out: Outgoing) -> None:
        if self._client is None:
            self._client = httpx.AsyncClient(follow_redirects=False)
        body = json.dumps(out.message["envelope"], separators=(",", ":")).encode()
        timestamp = int(self.clock())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "incident-platform-notifications/1",
            signing.TIMESTAMP_HEADER: str(timestamp),
            signing.SIGNATURE_HEADER: signing.signature(out.config["secret"], timestamp, body),
            signing.DELIVERY_HEADER: str(out.delivery_id),
            signing.EVENT_TYPE_HEADER: out.event_type,
        }
        try:
            response = await self._client.post(
                out.config["url"], content=body, headers=headers, timeout=out.timeout_s
            )
        except httpx.HTTPError as exc:
            raise SendFailed(f"webhook unreachable: {type(exc).__name__}", transient=True) from None
        if not response.is_success:
            raise http_failure(response.status_code, response.text)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


@dataclass
class Senders:
    """One sender per kind; tests may replace any (e.g. to crash between send and record)."""

    email: Sender = send_email
    slack: Sender = send_slack
    webhook: Sender = field(default_factory=WebhookSender)

    def for_kind(self, kind: ChannelKind) -> Sender:
        return {
            ChannelKind.EMAIL: self.email,
            ChannelKind.SLACK: self.slack,
            ChannelKind.WEBHOOK: self.webhook,
        }[kind]

    async def close(self) -> None:
        closer = getattr(self.webhook, "close", None)
        if closer is not None:
            await closer()


async def with_timeout(send: Sender, out: Outgoing) -> None:
    """The send, bounded: a hung receiver counts as a transient failure after the timeout."""
    try:
        await asyncio.wait_for(send(out), out.timeout_s + 1)
    except TimeoutError:
        raise SendFailed(f"timed out after {out.timeout_s:g}s", transient=True) from None
