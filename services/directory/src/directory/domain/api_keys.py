"""API keys: shown once, stored as a hash. Keys are 32 random bytes, so a plain SHA-256 is
enough (no password-hashing work factor is needed for high-entropy secrets)."""

import hashlib
import secrets
from dataclasses import dataclass


@dataclass(frozen=True)
class IssuedKey:
    prefix: str  # public, lets an operator recognise and revoke a key
    secret: str  # the whole key, given to the caller once
    hash: str


def issue() -> IssuedKey:
    prefix = secrets.token_hex(4)
    secret = f"ipk_{prefix}_{secrets.token_urlsafe(32)}"
    return IssuedKey(prefix, secret, digest(secret))


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def prefix_of(secret: str) -> str | None:
    """The lookup prefix of a key as issued (``ipk_<prefix>_<random>``), None if malformed."""
    kind, _, rest = secret.partition("_")
    prefix, _, random = rest.partition("_")
    return prefix if kind == "ipk" and len(prefix) == 8 and random else None
