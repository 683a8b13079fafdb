"""Webhook signatures (pure). The receiver recomputes HMAC-SHA256 with the channel's secret over
``f"{timestamp}.{body}"`` (the ``X-Timestamp`` header, a dot, the raw body bytes) and compares it
with ``X-Signature: sha256=<hex>`` in constant time, refusing old timestamps (replays)."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Signature"
TIMESTAMP_HEADER = "X-Timestamp"
DELIVERY_HEADER = "X-Delivery-Id"  # the same on every retry: receivers deduplicate by it
EVENT_TYPE_HEADER = "X-Event-Type"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(
    secret: str, timestamp: int, body: bytes, given: str, *, now: float, tolerance_s: int = 300
) -> bool:
    if abs(now - timestamp) > tolerance_s:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), given)
