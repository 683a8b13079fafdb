"""The tamper-evident chain: each entry's hash covers the previous hash and the entry's
canonical JSON, so changing or removing any entry breaks every hash after it. Pure: no I/O."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64

_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
_PHONE = re.compile(r"\+?\d[\d\s().-]{6,}\d")
_SECRET_KEYS = {"password", "secret", "token", "api_key", "routing_key", "authorization"}
_PII_KEYS = {"email", "phone", "contact_email", "contact_phone"}


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def entry_hash(previous: str, entry: Mapping[str, Any]) -> str:
    return hashlib.sha256((previous + canonical(entry)).encode()).hexdigest()


def _mask_text(text: str) -> str:
    text = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
    return _PHONE.sub(lambda m: "***" + re.sub(r"\D", "", m.group(0))[-2:], text)


def mask(value: Any, key: str | None = None) -> Any:
    """The audit keeps no raw secrets and no full PII (002 data minimization)."""
    if isinstance(value, Mapping):
        return {k: mask(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v, key) for v in value]
    if isinstance(value, str):
        lowered = (key or "").lower()
        if any(s in lowered for s in _SECRET_KEYS):
            return "***"
        return _mask_text(value) if lowered in _PII_KEYS or "@" in value or _PHONE.search(value) else value
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
