"""Silences (maintenance windows): Alertmanager-style label matchers and a time window, per
tenant, optionally limited to one client's integrations. A firing alert that a silence in force
matches is recorded and counted under the silence, and opens or updates nothing. Resolves and
acknowledgements are never silenced: an incident opened before the window can still resolve.

Matchers follow Alertmanager: ``=`` and ``!=`` compare (a missing label is the empty string),
``=~`` and ``!~`` match a regular expression against the whole value (anchored). A silence
needs at least one matcher that does not match the empty string, so it cannot silence all.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from uuid import UUID

from contracts.events import Matcher

MAX_MATCHERS = 32
MAX_REGEX = 1000


class InvalidSilence(ValueError):
    pass


@lru_cache(maxsize=4096)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def validate(matchers: Sequence[Matcher], starts_at: datetime, ends_at: datetime) -> None:
    """Raises InvalidSilence with a reason a person can act on."""
    if not matchers:
        raise InvalidSilence("a silence needs at least one matcher")
    if len(matchers) > MAX_MATCHERS:
        raise InvalidSilence(f"a silence has at most {MAX_MATCHERS} matchers")
    for m in matchers:
        if not m.name or len(m.name) > 128:
            raise InvalidSilence("a matcher's name must be 1 to 128 characters")
        if m.op in ("=~", "!~"):
            if len(m.value) > MAX_REGEX:
                raise InvalidSilence(
                    f"matcher {m.name}: a regular expression has at most {MAX_REGEX} characters"
                )
            try:
                _regex(m.value)
            except re.error as exc:
                raise InvalidSilence(f"matcher {m.name}: invalid regular expression: {exc}") from exc
    if all(matches_value(m, "") for m in matchers):
        raise InvalidSilence(
            "at least one matcher must not match the empty string (it would silence every alert)"
        )
    if ends_at <= starts_at:
        raise InvalidSilence("ends_at must be after starts_at")


def matches_value(m: Matcher, value: str) -> bool:
    if m.op == "=":
        return value == m.value
    if m.op == "!=":
        return value != m.value
    hit = _regex(m.value).fullmatch(value) is not None
    return hit if m.op == "=~" else not hit


def matches(matchers: Sequence[Matcher], labels: Mapping[str, str]) -> bool:
    return all(matches_value(m, labels.get(m.name, "")) for m in matchers)


@dataclass(frozen=True)
class Silence:
    id: UUID
    matchers: tuple[Matcher, ...]
    starts_at: datetime
    ends_at: datetime
    client_id: UUID | None = None

    def in_force(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at

    def silences(self, labels: Mapping[str, str], client_id: UUID | None, now: datetime) -> bool:
        """Whether an alert of an integration of ``client_id`` with these labels is silenced."""
        if self.client_id is not None and self.client_id != client_id:
            return False
        return self.in_force(now) and matches(self.matchers, labels)


def silencing(
    silences: Sequence[Silence], labels: Mapping[str, str], client_id: UUID | None, now: datetime
) -> Silence | None:
    """The first silence (oldest first, as listed) that silences the alert, if any."""
    return next((s for s in silences if s.silences(labels, client_id, now)), None)


def state(starts_at: datetime, ends_at: datetime, now: datetime) -> str:
    """Alertmanager's words: pending (not yet started), active, expired."""
    if now < starts_at:
        return "pending"
    return "active" if now < ends_at else "expired"
