"""Signed checkpoints of a tenant's audit log: the C2SP tlog-checkpoint body signed as a C2SP
signed note with Ed25519, byte for byte what Go's ``golang.org/x/mod/sumdb/note`` verifies
(docs/adr/0010-audit-transparency-log.md).

    <origin>\\n<size>\\n<base64 root>\\n
    \\n
    — <key name> <base64(4-byte key hash ‖ 64-byte signature)>\\n

The key hash is the first four bytes of SHA-256(key name ‖ "\\n" ‖ 0x01 ‖ public key); the
verifier key is ``<name>+<key hash, 8 hex>+<base64(0x01 ‖ public key)>``. Pure: no I/O.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ALG_ED25519 = 0x01
_DASH = "\u2014"  # the em dash that starts a signature line
_NAME = re.compile(r"[^\s+]+")  # note: a key name has no space or plus sign


class CheckpointError(ValueError):
    """A note that does not parse, or whose signature does not verify."""


def origin(tenant_id: UUID) -> str:
    """Both the checkpoint's origin line and its signing key's name."""
    return f"incident-platform/audit/{tenant_id}"


def public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_hash(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public).digest()[:4]


def verifier_key(name: str, public: bytes) -> str:
    if not _NAME.fullmatch(name):
        raise ValueError(f"not a key name: {name!r}")
    encoded = base64.b64encode(bytes([ALG_ED25519]) + public).decode()
    return f"{name}+{key_hash(name, public).hex()}+{encoded}"


def parse_verifier_key(text: str) -> tuple[str, bytes]:
    """(name, 32-byte public key) of a verifier key; CheckpointError if it is not one."""
    name, _, rest = text.strip().partition("+")
    hash_hex, _, encoded = rest.partition("+")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except ValueError as exc:
        raise CheckpointError("the verifier key is not base64") from exc
    if not _NAME.fullmatch(name) or len(raw) != 33 or raw[0] != ALG_ED25519:
        raise CheckpointError("not an Ed25519 verifier key")
    if key_hash(name, raw[1:]).hex() != hash_hex:
        raise CheckpointError("the verifier key's hash does not match its key")
    return name, raw[1:]


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    def body(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"


def sign(checkpoint: Checkpoint, name: str, key: Ed25519PrivateKey) -> str:
    """The signed note: body, a blank line, one signature line."""
    body = checkpoint.body()
    signature = key.sign(body.encode())
    stamp = base64.b64encode(key_hash(name, public_bytes(key.public_key())) + signature).decode()
    return f"{body}\n{_DASH} {name} {stamp}\n"


def open_note(note: str, verifier: str) -> Checkpoint:
    """The checkpoint of a signed note, once a signature by ``verifier`` verifies on it."""
    name, public = parse_verifier_key(verifier)
    body, sep, signatures = note.partition("\n\n")
    if not sep or not body:
        raise CheckpointError("a signed note is a body, a blank line and signature lines")
    body += "\n"
    wanted = key_hash(name, public)
    for line in signatures.splitlines():
        dash, _, rest = line.partition(" ")
        signer, _, stamp = rest.partition(" ")
        if dash != _DASH or signer != name:
            continue
        try:
            raw = base64.b64decode(stamp, validate=True)
        except ValueError:
            continue
        if raw[:4] != wanted:
            continue
        try:
            Ed25519PublicKey.from_public_bytes(public).verify(raw[4:], body.encode())
        except InvalidSignature as exc:
            raise CheckpointError("the checkpoint's signature does not verify") from exc
        return parse_body(body)
    raise CheckpointError(f"the checkpoint carries no signature by {name}")


def parse_body(body: str) -> Checkpoint:
    lines = body.split("\n")
    if len(lines) < 4 or lines[-1] != "" or not lines[1].isdigit():
        raise CheckpointError("a checkpoint body is origin, size and root hash lines")
    try:
        root = base64.b64decode(lines[2], validate=True)
    except ValueError as exc:
        raise CheckpointError("the root hash is not base64") from exc
    if len(root) != 32:
        raise CheckpointError("the root hash is not 32 bytes")
    return Checkpoint(origin=lines[0], size=int(lines[1]), root=root)


@dataclass(frozen=True)
class Signer:
    """The audit service's signing key. One key signs every tenant's checkpoints, each under the
    tenant's own key name (its origin), so each tenant has its own verifier key."""

    key: Ed25519PrivateKey

    @classmethod
    def generate(cls) -> Signer:
        return cls(Ed25519PrivateKey.generate())

    @property
    def public(self) -> bytes:
        return public_bytes(self.key.public_key())

    @property
    def key_id(self) -> str:
        return hashlib.sha256(self.public).hexdigest()

    def verifier(self, tenant_id: UUID) -> str:
        return verifier_key(origin(tenant_id), self.public)

    def sign(self, tenant_id: UUID, size: int, root: bytes) -> str:
        name = origin(tenant_id)
        return sign(Checkpoint(origin=name, size=size, root=root), name, self.key)


def signed_roots(notes: Iterable[tuple[str, str]], name: str) -> list[tuple[int, bytes]]:
    """(size, root) of each (note, verifier key) whose signature verifies and whose origin is
    ``name``; anything else counts for nothing (a row written without the signing key)."""
    roots = []
    for note, verifier in notes:
        try:
            cp = open_note(note, verifier)
        except CheckpointError:
            continue
        if cp.origin == name:
            roots.append((cp.size, cp.root))
    return roots
