"""Slack's interactivity endpoint (the Acknowledge / Resolve buttons) and the loop that acts on
the presses (docs/notifications.md, "Slack actions").

Slack calls ``POST /v1/slack/actions`` with no token of ours: the request is authenticated by
Slack's signature instead (v0 HMAC-SHA256 of ``v0:{timestamp}:{raw body}`` with the app's
signing secret), and one older than 5 minutes is refused, so a captured request cannot be
replayed later. The answer comes at once (Slack gives up after 3 seconds); the work is done by
the loop, from rows written here."""

from __future__ import annotations

import json
import os
import re
from urllib.parse import parse_qs

from fastapi import APIRouter, Request, Response
from slack_sdk.signature import SignatureVerifier

from backbone.app import ClockDep, Runtime, UowDep
from backbone.clock import Clock
from backbone.consumer import Handler, batched
from backbone.problems import Problem, Unauthorized
from backbone.timers import TimerLoop
from notifications.adapters.secrets import SecretBox
from notifications.adapters.slack import SlackApi
from notifications.config import Settings
from notifications.domain import slack
from notifications.domain.channels import Checks
from notifications.handlers import slack as handlers

router = APIRouter(prefix="/v1", tags=["slack"])

MAX_BODY = 64_000  # Slack's block_actions payloads are a few kilobytes
MAX_AGE_S = 5 * 60
_TIMESTAMP = re.compile(r"\d{1,12}")


@router.post(
    "/slack/actions",
    status_code=200,
    response_class=Response,
    responses={
        200: {"description": "Received; the work goes on in the background", "content": {}},
        401: {"description": "Not signed by Slack with the signing secret, or older than 5 minutes"},
        413: {"description": f"Larger than {MAX_BODY} bytes"},
        503: {"description": "No signing secret is configured (NOTIFICATIONS_SLACK_SIGNING_SECRET)"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "payload": {"type": "string", "description": "Slack's block_actions JSON"}
                        },
                        "required": ["payload"],
                    }
                }
            },
        }
    },
)
async def slack_actions(request: Request, uow: UowDep, clock: ClockDep) -> Response:
    """Slack's interactivity Request URL: a press of Acknowledge or Resolve on an incident
    message. Authenticated by Slack's request signature (`X-Slack-Signature`,
    `X-Slack-Request-Timestamp`), not by a token. Answers 200 at once; the person is looked
    up by their Slack email address and the action applied with their own permissions, then
    the message shows who acted (or they alone are told why not)."""
    secret = request.app.state.runtime.settings.slack_signing_secret
    if not secret:
        raise Problem("Slack actions are not configured here", status=503, title="Unavailable")
    body = await request.body()
    if len(body) > MAX_BODY:
        raise Problem(f"the request is larger than {MAX_BODY} bytes", status=413, title="Payload Too Large")
    timestamp = request.headers.get("x-slack-request-timestamp", "")
    signature = request.headers.get("x-slack-signature", "")
    if not _TIMESTAMP.fullmatch(timestamp):
        raise Unauthorized("X-Slack-Request-Timestamp is missing or not a number")
    if abs(clock.now().timestamp() - int(timestamp)) > MAX_AGE_S:
        raise Unauthorized("the request's timestamp is more than 5 minutes away: refused as a replay")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Unauthorized("the request does not carry Slack's signature") from None
    if not SignatureVerifier(secret).is_valid(text, timestamp, signature):
        raise Unauthorized("the request does not carry Slack's signature")
    try:
        payload = json.loads(parse_qs(text).get("payload", [""])[0])
    except ValueError:
        payload = None
    clicks = slack.clicks(payload)
    if clicks and await handlers.receive(uow, clicks):
        await uow.commit()
        request.app.state.slack_actions.wake()
    return Response(status_code=200)


class SlackActionLoop(TimerLoop):
    """The timer loop, closing its Slack connections when the service stops."""

    def __init__(self, settings: Settings, clock: Clock, box: SecretBox, checks: Checks) -> None:
        self.api = SlackApi(settings.slack_api_url, settings.send_timeout_s)
        # Secret references (`env:NAME`) name variables of this process, as for deliveries.
        fire = handlers.SlackActions(self.api, box, checks, os.environ, settings.max_attempts)
        super().__init__("slack_actions", fire, clock=clock, interval_s=settings.slack_action_poll_s)

    async def __call__(self, runtime: Runtime) -> None:
        try:
            await super().__call__(runtime)
        finally:
            await self.api.close()


def slack_action_loop(settings: Settings, clock: Clock, box: SecretBox, checks: Checks) -> TimerLoop:
    """The background task acting on recorded presses (``Service.background``): rows claimed
    with FOR UPDATE SKIP LOCKED by whichever replica looks first."""
    return SlackActionLoop(settings, clock, box, checks)


def subscriptions() -> dict[str, Handler]:
    """Triage's events that carry out a request from Slack: the message is due its update."""
    applied = batched(handlers.note_applied)
    return dict.fromkeys(handlers.APPLIED_BY, applied)
