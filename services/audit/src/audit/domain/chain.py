"""The tamper-evident chain: each entry's hash covers the previous hash and the entry's
canonical JSON, so changing or removing any entry breaks every hash after it. Pure: no I/O."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

GENESIS = "0" * 64

_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
# Not inside a longer token: the digit groups of a UUID or an id are not phone numbers.
_PHONE = re.compile(r"(?<![\w-])\+?\d[\d\s().-]{6,}\d(?![\w-])")
# Whole values that only look like phone numbers: UUIDs and ISO-8601 dates and times.
_NOT_PII = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
)
# A key containing one of these holds a secret, or something derived from one (a token's
# SHA-256 is enough to replay-check guesses against): its value is never kept.
_SECRET_PARTS = (
    "password",
    "secret",
    "token",
    "api_key",
    "apikey",
    "routing_key",
    "private_key",
    "authorization",
    "credential",
    "sha256",
    "hash",
)
# A key ending in one of these holds personal contact data (vendor_email, contact_phone, …).
_PII_SUFFIXES = ("email", "emails", "phone", "phones", "phone_number", "phonenumber")
MASKED = "***"


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def entry_hash(previous: str, entry: Mapping[str, Any]) -> str:
    return hashlib.sha256((previous + canonical(entry)).encode()).hexdigest()


def _mask_emails(text: str) -> str:
    """Each address keeps its first letter and its domain: enough to tell whose, not to mail."""
    return _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)


def _mask_text(text: str) -> str:
    if _NOT_PII.fullmatch(text):
        return text
    text = _mask_emails(text)
    return _PHONE.sub(lambda m: MASKED + re.sub(r"\D", "", m.group(0))[-2:], text)


def is_secret_key(key: str) -> bool:
    lowered = key.lower()
    return any(part in lowered for part in _SECRET_PARTS)


def is_pii_key(key: str) -> bool:
    return key.lower().endswith(_PII_SUFFIXES)


def _mask_pii(key: str, value: Any) -> Any:
    """A value under a contact key: partly kept when it has the expected shape (the first
    letter and domain of an email, the last two digits of a phone), else hidden whole."""
    text = str(value)
    if not text:
        return text
    lowered = key.lower()
    if "email" in lowered:
        masked = _mask_emails(text)
        return masked if masked != text else MASKED
    digits = re.sub(r"\D", "", text)
    return MASKED + digits[-2:] if len(digits) >= 6 else MASKED


def mask(value: Any, key: str | None = None) -> Any:
    """The audit keeps no raw secrets and no full PII (002 data minimization).

    By key: anything under a secret-like key (``token``, ``secret``, ``password``, ``api_key``,
    ``sha256``, ``hash`` …, any case, anywhere in the key) becomes ``***`` (booleans and nulls
    excepted: they reveal nothing); a key ending in ``email`` or ``phone`` keeps only a hint.
    By value: email addresses and phone numbers inside any other text are masked too.

    Applied to each event's ``data`` before it is hashed and stored, never to the chain's own
    fields (``hash``, ``prev_hash``, ``event_id`` …), which live outside ``data``.
    """
    if key is not None and is_secret_key(key) and value is not None and not isinstance(value, bool):
        return MASKED
    if isinstance(value, Mapping):
        return {k: mask(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask(v, key) for v in value]
    if key is not None and is_pii_key(key) and value is not None and not isinstance(value, bool):
        return _mask_pii(key, value)
    if isinstance(value, str) and ("@" in value or _PHONE.search(value)):
        return _mask_text(value)
    return value


@dataclass(frozen=True)
class Broken:
    seq: int
    reason: str


def verify(entries: Iterable[tuple[int, str, str, Mapping[str, Any]]], start: str = GENESIS) -> Broken | None:
    """Entries as (seq, prev_hash, hash, content) in order; the first break, or None."""
    previous = start
    for seq, prev_hash, stored, content in entries:
        if prev_hash != previous:
            return Broken(seq, "previous hash does not match the entry before it")
        if entry_hash(previous, content) != stored:
            return Broken(seq, "content does not match its hash")
        previous = stored
    return None


def entry_content(
    *,
    event_id: UUID,
    event_type: str,
    source: str,
    subject: str,
    actor: Any,
    occurred_at: datetime,
    data: Any,
) -> dict[str, Any]:
    """What the hash covers: the event's identity, who, when (in UTC), and its masked data."""
    return {
        "event_id": str(event_id),
        "event_type": event_type,
        "source": source,
        "subject": subject,
        "actor": actor,
        "occurred_at": occurred_at.astimezone(UTC).isoformat(),
        "data": data,
    }
