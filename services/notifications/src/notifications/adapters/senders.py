"""The channels' senders: SMTP (aiosmtplib), Slack (slack_sdk) and signed webhooks (aiohttp).

Each takes one ``Outgoing`` message and returns when the receiver accepted it, or raises
``SendFailed`` (transient or permanent). Every connection goes through the egress policy
(adapters/egress.py). Errors keep only a status and a short reason: never secrets, the URL's
token, or anything the receiver wrote back (a tenant could point a channel at a service whose
answer it wants to read).
"""

from __future__ import annotations

import asyncio
import json
import re
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
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from contracts.enums import ChannelKind
from notifications.adapters.egress import connect_tcp, http_session, refusal_in
from notifications.domain import signing
from notifications.domain.deliveries import SendFailed, http_failure
from notifications.domain.egress import EgressPolicy, Protocol

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


# A sender returns what the receiver said of the message worth keeping (a Slack bot's channel
# and ts, for its buttons), or None.
Sender = Callable[[Outgoing], Awaitable["dict[str, str] | None"]]

_SLACK_ERROR = re.compile(r"[a-z_]{1,60}")  # Slack's error codes; anything else is not kept


def _smtp_reason(code: int) -> str:
    # The receiver's own text is not kept (it may echo whatever the destination answers).
    return SMTP_REASONS.get(code, "temporary failure" if 400 <= code < 500 else "refused")


SMTP_REASONS = {
    421: "service not available",
    450: "mailbox unavailable",
    451: "local error",
    452: "insufficient storage",
    454: "TLS not available",
    530: "authentication required",
    534: "authentication mechanism too weak",
    535: "authentication failed",
    550: "mailbox unavailable",
    551: "user not local",
    552: "storage exceeded",
    553: "mailbox name not allowed",
    554: "transaction failed",
}


def slack_failure(exc: SlackApiError) -> SendFailed:
    """Slack's refusal: its status and error code only (never the rest of its answer)."""
    status = exc.response.status_code
    data = exc.response.data
    error = data.get("error") if isinstance(data, dict) else None
    code = error if isinstance(error, str) and _SLACK_ERROR.fullmatch(error) else "error"
    transient = status in (429,) or status >= 500 or code in ("ratelimited", "internal_error")
    return SendFailed(f"Slack {status}: {code}", transient=transient)


def unreachable(what: str, exc: BaseException) -> SendFailed:
    """A connection that failed: the policy's reason if it refused the destination (a person
    must change the channel or the policy: permanent), else the error's type (transient)."""
    if (reason := refusal_in(exc)) is not None:
        return SendFailed(reason, transient=False)
    return SendFailed(f"{what} unreachable: {type(exc).__name__}", transient=True)


@dataclass
class Senders:
    """One sender per kind, every connection through the egress policy (adapters/egress.py)."""

    policy: EgressPolicy = field(default_factory=EgressPolicy)
    slack_api_url: str = "https://slack.com/api/"
    clock: Callable[[], float] = time.time
    _session: aiohttp.ClientSession | None = field(default=None, init=False)
    _slack_api: aiohttp.ClientSession | None = field(default=None, init=False)

    def _http(self) -> aiohttp.ClientSession:
        """For destinations tenants choose: every connection checked."""
        if self._session is None or self._session.closed:
            self._session = http_session(self.policy)
        return self._session

    def _operator_http(self) -> aiohttp.ClientSession:
        """For Slack's Web API at the operator's NOTIFICATIONS_SLACK_API_URL (trusted)."""
        if self._slack_api is None or self._slack_api.closed:
            self._slack_api = aiohttp.ClientSession(trust_env=False)
        return self._slack_api

    def for_kind(self, kind: ChannelKind) -> Sender:
        return {
            ChannelKind.EMAIL: self.email,
            ChannelKind.SLACK: self.slack,
            ChannelKind.WEBHOOK: self.webhook,
        }[kind]

    async def close(self) -> None:
        for session in (self._session, self._slack_api):
            if session is not None:
                await session.close()
        self._session = self._slack_api = None

    async def email(self, out: Outgoing) -> None:
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
        host, port = cfg["host"], int(cfg.get("port", 587))
        try:
            sock = await connect_tcp(host, port, self.policy, Protocol.SMTP)
        except (OSError, TimeoutError) as exc:
            raise unreachable("SMTP server", exc) from None
        try:
            await aiosmtplib.send(
                msg,
                hostname=host,  # the certificate is checked against the name, not the address
                sock=sock,
                username=cfg.get("username"),
                password=cfg.get("password"),
                use_tls=security == "tls",
                start_tls=security == "starttls",
                validate_certs=bool(cfg.get("validate_certs", True)),
                timeout=out.timeout_s,
            )
        except aiosmtplib.SMTPResponseException as exc:
            # 4xx: try again later (greylisting, a full queue); 5xx: refused for good.
            raise SendFailed(
                f"SMTP {exc.code}: {_smtp_reason(exc.code)}", transient=400 <= exc.code < 500
            ) from None
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            raise SendFailed(
                f"SMTP recipients refused ({codes})", transient=all(400 <= c < 500 for c in codes)
            ) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError, ssl.SSLError) as exc:
            raise SendFailed(f"SMTP connection failed: {type(exc).__name__}", transient=True) from None
        finally:
            sock.close()

    async def slack(self, out: Outgoing) -> dict[str, str] | None:
        cfg = out.config
        text, blocks = out.message.get("text", ""), out.message.get("blocks")
        try:
            if cfg.get("webhook_url"):
                hook = AsyncWebhookClient(
                    cfg["webhook_url"],
                    timeout=int(out.timeout_s) or 1,
                    session=self._http(),
                    retry_handlers=[],
                )
                response = await hook.send(text=text, blocks=blocks)
                if not 200 <= response.status_code < 300:
                    raise http_failure(response.status_code)
                return None
            # The Web API's address is the operator's (NOTIFICATIONS_SLACK_API_URL), never a tenant's.
            client = AsyncWebClient(
                token=cfg["bot_token"],
                base_url=self.slack_api_url,
                timeout=int(out.timeout_s) or 1,
                session=self._operator_http(),
                retry_handlers=[],
            )
            posted = await client.chat_postMessage(
                channel=out.address or cfg["channel"], text=text, blocks=blocks
            )
        except SlackApiError as exc:
            raise slack_failure(exc) from None
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise unreachable("Slack", exc) from None
        # Where the message is: a click on its buttons names it (adapters/slack.py).
        channel, ts = posted.get("channel"), posted.get("ts")
        return {"channel": channel, "ts": ts} if isinstance(channel, str) and isinstance(ts, str) else None

    async def webhook(self, out: Outgoing) -> None:
        """POSTs the event envelope, signed (domain/signing.py); redirects are not followed."""
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
            async with self._http().post(
                out.config["url"],
                data=body,
                headers=headers,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=out.timeout_s),
            ) as response:
                status = response.status  # the body is never read: nothing of it is kept
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise unreachable("webhook", exc) from None
        if not 200 <= status < 300:
            raise http_failure(status)


async def with_timeout(send: Sender, out: Outgoing) -> dict[str, str] | None:
    """The send, bounded: a hung receiver counts as a transient failure after the timeout."""
    try:
        return await asyncio.wait_for(send(out), out.timeout_s + 1)
    except TimeoutError:
        raise SendFailed(f"timed out after {out.timeout_s:g}s", transient=True) from None
