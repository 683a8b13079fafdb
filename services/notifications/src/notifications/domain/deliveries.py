"""Delivery outcomes and retry timing (pure).

A send either succeeds, fails transiently (a timeout, a refused connection, an SMTP 4xx, an
HTTP 429/5xx: worth another try later) or fails permanently (bad credentials, an SMTP 5xx, an
HTTP 4xx: trying again cannot help). Retries wait exponentially longer, with jitter so that a
recovering receiver is not hit by every queued message at once (tenacity's
``wait_exponential_jitter``); after the last try the delivery fails for good.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from http import HTTPStatus

from tenacity import RetryCallState, wait_exponential_jitter


class DeliveryState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class SendFailed(Exception):
    def __init__(self, error: str, *, transient: bool) -> None:
        super().__init__(error)
        self.error = error
        self.transient = transient


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    initial_s: float = 2.0
    max_s: float = 600.0
    jitter_s: float = 1.0

    def delay_s(self, attempt: int) -> float:
        """Wait after failed try number ``attempt`` (1-based): initial × 2^(attempt-1) + jitter, capped."""
        wait = wait_exponential_jitter(multiplier=self.initial_s, max=self.max_s, jitter=self.jitter_s)
        state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
        state.attempt_number = attempt
        return float(wait(state))

    def gives_up(self, attempt: int, failure: SendFailed) -> bool:
        return not failure.transient or attempt >= self.max_attempts


def http_failure(status: int) -> SendFailed:
    """An HTTP answer that is not 2xx: 408, 425, 429 and 5xx are worth retrying. Only the status
    and its standard phrase are kept, never the receiver's body (a tenant must not be able to
    read what a destination it chose answers)."""
    transient = status in (408, 425, 429) or status >= 500
    try:
        phrase = f" {HTTPStatus(status).phrase}"
    except ValueError:
        phrase = ""
    return SendFailed(f"HTTP {status}{phrase}", transient=transient)
