"""What one audit entry records, and how a tenant's log is checked (docs/audit.md). Pure.

An entry is the event's identity, its 002 action (create, update, approve, reject, delete,
execute), who, when, and its data minimized by field: the fields the event's contract declares
are kept as they are (names, URLs, titles intact), except fields holding a secret (hidden whole)
and contact fields (emails, phones: a hint kept). Fields the contract does not declare are
dropped; an event type the contracts do not know is kept whole under the same key rules, so a
producer that deploys before audit leaves no gap. The leaf is the entry's RFC 8785 canonical JSON.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from uuid import UUID, uuid5

import rfc8785

from audit.domain import tlog
from contracts.envelope import Actor, Envelope, known_event_types

# --------------------------------------------------------------------------- actions

CREATE, UPDATE, APPROVE, REJECT, DELETE, EXECUTE = (
    "create",
    "update",
    "approve",
    "reject",
    "delete",
    "execute",
)
ACTIONS = (CREATE, UPDATE, APPROVE, REJECT, DELETE, EXECUTE)

# The 002 action of an event type, by the verb it ends with (``incident.created.v1`` -> created).
# Execute: something was carried out (a change, a rollback, a delivery, a timer firing).
VERBS: dict[str, str] = {
    **dict.fromkeys(
        ("created", "issued", "onboarded", "registered", "recorded", "reported", "opened", "scheduled")
        + ("incident_reported", "generated", "requested", "change_received")
        + ("attachment_added", "comment_added", "task_added", "action_item_added", "incident_linked"),
        CREATE,
    ),
    **dict.fromkeys(
        ("updated", "changed", "status_changed", "acknowledged", "assigned", "unassigned", "delegated")
        + ("escalated", "reopened", "resolved", "closed", "triaged", "task_updated", "alert_repeated")
        + ("alert_acknowledged", "alerts_resolved", "silence_changed", "token_rotated", "submitted")
        + ("published", "archived", "clock_paused", "clock_resumed", "clock_retargeted")
        + ("clock_extended", "clock_started", "clock_stopped", "calendar_changed", "policy_changed"),
        UPDATE,
    ),
    "approved": APPROVE,
    "rejected": REJECT,
    **dict.fromkeys(("deleted", "revoked", "cancelled"), DELETE),
    **dict.fromkeys(
        ("started", "completed", "failed", "rolled_back", "dispatched", "sent", "implemented")
        + ("at_risk", "breached", "metric_recorded", "dead_lettered"),
        EXECUTE,
    ),
}


def verb(event_type: str) -> str:
    """``incident.status_changed.v1`` -> ``status_changed``; the last word before the version."""
    parts = event_type.split(".")
    if len(parts) >= 2 and re.fullmatch(r"v\d+", parts[-1]):
        parts = parts[:-1]
    return parts[-1] if len(parts) > 1 else ""


@lru_cache(maxsize=4096)
def action_of(event_type: str) -> str:
    """The event's 002 action; an event type whose verb is not known here is an update (the
    mildest claim: something changed)."""
    suffix = verb(event_type)
    if suffix in VERBS:
        return VERBS[suffix]
    # ``incident.status_changed`` style verbs not listed: by their last word.
    return VERBS.get(suffix.rsplit("_", 1)[-1], UPDATE)


# --------------------------------------------------------------------------- minimization

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
_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
MASKED = "***"
_NON_DIGITS = re.compile(r"\D")
_JSON_INT = 2**53 - 1


# Keys repeat across events (a few hundred field names in all): classified once each.
@lru_cache(maxsize=8192)
def is_secret_key(key: str) -> bool:
    lowered = key.lower()
    return any(part in lowered for part in _SECRET_PARTS)


@lru_cache(maxsize=8192)
def is_pii_key(key: str) -> bool:
    return key.lower().endswith(_PII_SUFFIXES)


def _mask_contact(key: str, value: Any) -> Any:
    """A contact value keeps a hint: an email its first letter and domain, a phone its last two
    digits; anything else under a contact key is hidden whole."""
    text = str(value)
    if not text:
        return text
    if "email" in key.lower():
        match = _EMAIL.fullmatch(text.strip())
        return f"{match.group(1)}***@{match.group(2)}" if match else MASKED
    digits = _NON_DIGITS.sub("", text)
    return MASKED + digits[-2:] if len(digits) >= 6 else MASKED


def mask(value: Any, key: str | None = None) -> Any:
    """Minimize by field, never by pattern over free text (a client called "AuditCov A
    1795794877" or a webhook at ``http://127.0.0.1:9/`` stays as it is): a secret-like key's
    value becomes ``***`` (booleans and nulls excepted: they reveal nothing), a contact key's
    keeps a hint, everything else is kept, nested mappings and lists included."""
    if value is None or isinstance(value, bool):
        return value
    if key is not None and is_secret_key(key):
        return MASKED
    if value.__class__ is str:  # the common leaf, without the costlier checks below
        return _mask_contact(key, value) if key is not None and is_pii_key(key) else value
    if isinstance(value, Mapping):
        return {str(k): mask(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask(v, key) for v in value]
    if key is not None and is_pii_key(key):
        return _mask_contact(key, value)
    if isinstance(value, int) and abs(value) > _JSON_INT:
        return str(value)  # RFC 8785 writes numbers as IEEE doubles: larger integers as text
    return value


@lru_cache(maxsize=4096)
def allowed_fields(event_type: str) -> frozenset[str] | None:
    """The allow-list of an event type: the fields its contract declares (None: unknown type)."""
    model = known_event_types().get(event_type)
    return None if model is None else frozenset(model.model_fields)


_PLAIN_KEY, _SECRET_KEY, _PII_KEY = 0, 1, 2


@lru_cache(maxsize=8192)
def _key_kind(key: str) -> int:
    return _SECRET_KEY if is_secret_key(key) else _PII_KEY if is_pii_key(key) else _PLAIN_KEY


def minimize(event_type: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """The data an entry keeps: the allow-listed fields, masked by key (``mask`` of the kept
    mapping, with its commonest cases, a string or a null under a plain key, inline: this runs
    for every field of every event)."""
    allowed = allowed_fields(event_type)
    kept: dict[str, Any] = {}
    for k, v in data.items():
        if allowed is not None and k not in allowed:
            continue
        key = k if k.__class__ is str else str(k)
        kind = _key_kind(key)
        if v is None or v.__class__ is bool:
            kept[key] = v
        elif kind == _SECRET_KEY:
            kept[key] = MASKED
        elif v.__class__ is str:
            kept[key] = _mask_contact(key, v) if kind == _PII_KEY else v
        else:
            kept[key] = mask(v, key)
    return kept


# --------------------------------------------------------------------------- entries


_NO_OFFSET = timedelta(0)


def _utc(moment: datetime) -> str:
    if moment.utcoffset() == _NO_OFFSET:  # already UTC (any tzinfo object): no conversion
        return moment.isoformat()
    return moment.astimezone(UTC).isoformat()


def _actor(actor: Actor) -> dict[str, Any]:
    """An envelope's actor as JSON values: ``actor.model_dump(mode="json")``, written out (a unit
    test holds the two equal) because it runs for every event."""
    return {"user_id": None if actor.user_id is None else str(actor.user_id), "role": actor.role}


def event_leaves(envelopes: Iterable[Envelope], recorded_at: datetime) -> list[bytes]:
    """The leaves recording ``envelopes`` at ``recorded_at``: for each, ``leaf(entry(...))`` of
    its fields with its data minimized, written inline (a batch's thousands of events are the
    hot path of a storm; a unit test holds this equal to ``entry`` and ``leaf``)."""
    recorded = _utc(recorded_at)
    leaves = []
    for e in envelopes:
        data = minimize(e.type, e.data)
        content: dict[str, Any] = {
            "event_id": str(e.id),
            "event_type": e.type,
            "action": action_of(e.type),
            "source": e.source,
            "subject": e.subject,
            "actor": _actor(e.actor),
            "occurred_at": _utc(e.time),
            "recorded_at": recorded,
            "data": data,
        }
        # Every other field is a string or the actor's strings: only the data can need RFC 8785's
        # own encoder.
        leaves.append(_COMPACT.encode(content).encode() if _plain(data) else rfc8785.dumps(content))
    return leaves


def entry(
    *,
    event_id: UUID,
    event_type: str,
    action: str,
    source: str,
    subject: str,
    actor: Any,
    occurred_at: datetime,
    recorded_at: datetime,
    data: Any,
) -> dict[str, Any]:
    """What the leaf covers, as JSON values: the event's identity, its action, who, when (in
    UTC) and its minimized data. The entry's index is its position in the tree, not part of it."""
    return {
        "event_id": str(event_id),
        "event_type": event_type,
        "action": action,
        "source": source,
        "subject": subject,
        "actor": actor,
        "occurred_at": _utc(occurred_at),
        "recorded_at": _utc(recorded_at),
        "data": data,
    }


def _plain(value: Any) -> bool:
    """Holds only strings, booleans, nulls, integers JSON keeps exactly, lists, and dicts with
    ASCII keys: then RFC 8785 and the standard library's sorted, compact, non-ASCII-escaping
    JSON write the same bytes (they differ only in how numbers with a fraction are written and
    in how keys outside the BMP sort). A loop, not a recursion: this runs for every entry."""
    pending = [value]
    while pending:
        v = pending.pop()
        kind = v.__class__
        if kind is str or v is None or kind is bool:
            continue
        if kind is int:
            if -_JSON_INT <= v <= _JSON_INT:
                continue
            return False
        if kind is dict:
            try:
                if not "".join(v).isascii():  # every key at once; a key not a str raises
                    return False
            except TypeError:
                return False
            pending.extend(v.values())
        elif kind is list:
            pending.extend(v)
        else:
            return False
    return True


_COMPACT = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def leaf(content: Mapping[str, Any]) -> bytes:
    """RFC 8785 (JCS) canonical JSON: one byte string for one content, whoever serializes it.
    The common entry (strings, integers, ASCII keys) takes the standard library's C encoder,
    several times faster than the reference encoder, which writes everything else."""
    if _plain(content):
        return _COMPACT.encode(content).encode()
    return rfc8785.dumps(content)


# --------------------------------------------------------------------------- verification


@dataclass(frozen=True)
class Finding:
    ok: bool
    checked: int
    first_bad_index: int | None
    reason: str | None = None


class LogCheck:
    """A streaming check of one tenant's log: feed entries in index order (with their stored
    leaf bytes and, when the database's stored hashes are at hand, those too), then compare with
    the signed checkpoints. Memory is O(log n): only the tree's frontier is kept.

    What it names: a missing index (a deleted entry), an entry whose fields no longer give its
    leaf bytes, a leaf or stored hash that does not match the recomputed tree, the first index
    past the end when entries at the end are gone, and, when all of those were rewritten
    consistently (a re-hashed log), the first index of the first signed checkpoint the
    recomputed tree no longer matches."""

    def __init__(self, checkpoints: Iterable[tuple[int, bytes]]) -> None:
        self.checkpoints = sorted(set(checkpoints))
        self.frontier = tlog.Frontier()
        self.bad: int | None = None
        self.reason: str | None = None
        self._next_checkpoint = 0
        self._matched = 0  # the largest checkpoint size matched so far

    @property
    def size(self) -> int:
        return self.frontier.size

    def _fail(self, index: int, reason: str) -> None:
        if self.bad is None:
            self.bad, self.reason = index, reason

    def add(
        self,
        index: int,
        content: Mapping[str, Any],
        stored_leaf: bytes,
        stored_hashes: Mapping[int, bytes] | None = None,
    ) -> bool:
        """One entry; False once something is found (stop feeding)."""
        if self.bad is None and index == self.frontier.size:
            return self.add_leaf(index, stored_leaf, leaf(content) == stored_leaf, stored_hashes)
        return self.add_leaf(index, stored_leaf, True, stored_hashes)

    def add_leaf(
        self,
        index: int,
        stored_leaf: bytes,
        fields_give_leaf: bool,
        stored_hashes: Mapping[int, bytes] | None = None,
    ) -> bool:
        """One entry whose fields were compared with its leaf already (``fields_give_leaf``)."""
        if self.bad is not None:
            return False
        n = self.frontier.size
        if index != n:
            self._fail(n, f"entry {n} is missing")
            return False
        if not fields_give_leaf:
            self._fail(n, f"entry {n}'s fields do not give its leaf")
            return False
        for hash_index, h in self.frontier.append(stored_leaf):
            if stored_hashes is not None and stored_hashes.get(hash_index) != h:
                self._fail(n, f"entry {n}'s stored tree hashes do not match its leaf")
                return False
        return self._check_checkpoints()

    def add_leaves(
        self,
        indexes: Sequence[int],
        leaves: Sequence[bytes],
        fields_give_leaves: Sequence[bool],
        stored_hashes: Mapping[int, bytes],
    ) -> bool:
        """A run of entries (``add_leaf`` of each): when they follow on without a gap and every
        one's fields give its leaf, hashed in one pass (``Frontier.extend``) up to each signed
        size and compared with the stored hashes at once; entry by entry only to name what is off."""
        n, count = self.frontier.size, len(leaves)
        if (
            self.bad is None
            and count
            and indexes[0] == n
            and indexes[-1] == n + count - 1
            and all(fields_give_leaves)
        ):
            done = 0
            while done < count:
                stop = count
                if self._next_checkpoint < len(self.checkpoints):
                    stop = min(count, max(done + 1, self.checkpoints[self._next_checkpoint][0] - n))
                before = self.frontier.copy()
                first = tlog.stored_hash_index(0, n + done)
                got = self.frontier.extend(leaves[done:stop])
                if [stored_hashes.get(i) for i in range(first, first + len(got))] != got:
                    self.frontier = before  # the entry by entry pass below names the first
                    break
                done = stop
                if not self._check_checkpoints():
                    return False
            else:
                return True
            indexes, leaves, fields_give_leaves = indexes[done:], leaves[done:], fields_give_leaves[done:]
        for index, raw, fields_ok in zip(indexes, leaves, fields_give_leaves, strict=True):
            if not self.add_leaf(index, raw, fields_ok, stored_hashes):
                return False
        return True

    def _check_checkpoints(self) -> bool:
        while self._next_checkpoint < len(self.checkpoints):
            size, signed_root = self.checkpoints[self._next_checkpoint]
            if size > self.frontier.size:
                break
            if size == self.frontier.size and self.frontier.root() != signed_root:
                self._fail(self._matched, f"the log no longer gives the root signed at size {size}")
                return False
            self._matched = size
            self._next_checkpoint += 1
        return True

    def finish(self) -> Finding:
        if self.bad is None and self._next_checkpoint < len(self.checkpoints):
            size = self.checkpoints[-1][0]
            self._fail(self.frontier.size, f"the log has {self.frontier.size} entries, {size} were signed")
        return Finding(self.bad is None, self.frontier.size, self.bad, self.reason)


# --------------------------------------------------------------------------- dead letters

# What audit records when a service dead-letters a message (docs/audit.md "Dead letters"):
# which service, what (the event's type, id and where it was read), why (the error's type and
# the first line of its text, values cut), never the message itself.
DEAD_LETTERED = "event.dead_lettered"
_DEAD_LETTER_IDS = UUID("6f1b1c52-5d7e-4b8a-9a51-2f1f3c9d0e7a")
_VALUES = re.compile(r"(input_value|input|DETAIL|parameters)\s*[=:].*", re.I | re.S)


def _uuid(value: Any) -> UUID | None:
    try:
        return UUID(str(value)) if value is not None else None
    except ValueError:
        return None


def dead_letter(
    *, topic: str, partition: int, offset: int, headers: Mapping[str, str], value: bytes | None, at: datetime
) -> Envelope:
    """The event audit records for one message on a DLQ: its id follows from the message's
    place in the DLQ, so reading it twice records it once; its tenant is the message's own when
    the message says (else none: the platform's log)."""
    try:
        original = json.loads(value or b"")
    except ValueError:
        original = None
    original = original if isinstance(original, dict) else {}
    first_line = (headers.get("x-dlq-error") or "").strip().splitlines()[:1]
    attempts = headers.get("x-dlq-attempts", "")
    service = headers.get("x-dlq-consumer") or topic.rsplit(".", 2)[-2]
    return Envelope(
        id=uuid5(_DEAD_LETTER_IDS, f"{topic}:{partition}:{offset}"),
        type=DEAD_LETTERED,
        source=service,
        time=at,
        subject=str(original.get("id") or f"{topic}:{partition}:{offset}"),
        tenantid=_uuid(original.get("tenantid")),
        data={
            "service": service,
            "event_type": original.get("type") if isinstance(original.get("type"), str) else None,
            "event_id": str(_uuid(original.get("id")) or "") or None,
            "error_type": headers.get("x-dlq-error-type"),
            "reason": _VALUES.sub(r"\1=…", first_line[0])[:300] if first_line else None,
            "attempts": int(attempts) if attempts.isdigit() else None,
            "original_topic": headers.get("x-dlq-original-topic"),
            "original_offset": headers.get("x-dlq-original-offset"),
            "dlq_topic": topic,
            "dlq_partition": partition,
            "dlq_offset": offset,
        },
    )
