"""Authentication and authorization for every service (docs/architecture.md "Security").

Directory signs short-lived JWTs (EdDSA over Ed25519, via PyJWT) when a caller exchanges an API
key; every service verifies them locally with directory's public key, then checks the user's
current status and role in a local replica kept current by directory's user events, so a
deactivated user is refused everywhere within moments, not when the token expires.

The permission matrix lives in ``contracts.permissions``; ``requires(Permission.X)`` is the
FastAPI dependency an endpoint declares.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from fastapi import Depends, Request
from sqlalchemy import ColumnElement, false, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from backbone.problems import Forbidden, Problem, Unauthorized
from backbone.tables import PRINCIPALS
from backbone.uow import UnitOfWork
from contracts.enums import Role, UserStatus
from contracts.envelope import Actor, Envelope
from contracts.events import UserRegistered, UserUpdated
from contracts.permissions import CLIENT_SCOPED, VENDOR_SCOPED, Permission, allows

ISSUER = "incident-platform:directory"
AUDIENCE = "incident-platform"
ALGORITHM = "EdDSA"


# --------------------------------------------------------------------------- keys


def load_pem(value: str) -> bytes:
    """A PEM given inline (``-----BEGIN ...``) or as a path to a file."""
    text = value.strip()
    if text.startswith("-----BEGIN"):
        return text.encode()
    return Path(text).expanduser().read_bytes()


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def generate_keypair() -> tuple[str, str]:
    """A fresh signing key pair as (private PEM, public PEM)."""
    private = Ed25519PrivateKey.generate()
    private_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private_pem, public_pem


def _public_keys(pem_bundle: bytes) -> dict[str, Ed25519PublicKey]:
    """Every public key of a PEM bundle, by key id: several are listed while a key rotates."""
    keys: dict[str, Ed25519PublicKey] = {}
    marker = b"-----END PUBLIC KEY-----"
    for block in pem_bundle.split(marker):
        if b"-----BEGIN PUBLIC KEY-----" not in block:
            continue
        key = serialization.load_pem_public_key(block.strip() + b"\n" + marker + b"\n")
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("AUTH_PUBLIC_KEY: only Ed25519 public keys are supported")
        keys[key_id(key)] = key
    if not keys:
        raise ValueError("AUTH_PUBLIC_KEY holds no PEM public key")
    return keys


class TokenSigner:
    """Directory's side: signs access tokens and publishes the public half as a JWKS."""

    def __init__(self, private_pem: bytes, ttl_s: int) -> None:
        key = serialization.load_pem_private_key(private_pem, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("the signing key must be an Ed25519 private key")
        self._key = key
        self.kid = key_id(key.public_key())
        self.ttl_s = ttl_s

    def issue(self, claims: dict[str, Any], now: float | None = None) -> str:
        issued = int(now if now is not None else time.time())
        payload = {**claims, "iss": ISSUER, "aud": AUDIENCE, "iat": issued, "exp": issued + self.ttl_s}
        return jwt.encode(payload, self._key, algorithm=ALGORITHM, headers={"kid": self.kid})

    def jwks(self) -> dict[str, Any]:
        jwk: dict[str, Any] = jwt.algorithms.OKPAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
        return {"keys": [{**jwk, "kid": self.kid, "use": "sig", "alg": ALGORITHM}]}


class TokenVerifier:
    def __init__(self, public_pem: bytes) -> None:
        self._keys = _public_keys(public_pem)

    def verify(self, token: str) -> dict[str, Any]:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = self._keys.get(kid) if kid else None
            if key is None:
                raise Unauthorized("the token was not signed by a known key")
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "tid", "role"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("the token has expired; exchange the API key for a new one") from exc
        except jwt.InvalidTokenError as exc:
            raise Unauthorized(f"the token is not valid: {exc}") from exc
        return claims


# --------------------------------------------------------------------------- the caller


@dataclass(frozen=True)
class Principal:
    """Who is calling, as this service knows them now."""

    user_id: UUID
    tenant_id: UUID
    role: Role
    client_id: UUID | None = None
    vendor_id: UUID | None = None
    is_platform_operator: bool = False

    @property
    def actor(self) -> Actor:
        return Actor(user_id=self.user_id, role=self.role.value)

    def can(self, permission: Permission) -> bool:
        return allows(self.role, permission)

    def require(self, permission: Permission) -> None:
        if not self.can(permission):
            raise Forbidden(f"role {self.role.value} lacks the permission {permission.value}")

    @property
    def client_scoped(self) -> bool:
        return self.role in CLIENT_SCOPED

    @property
    def vendor_scoped(self) -> bool:
        return self.role in VENDOR_SCOPED

    def scope(
        self, client: ColumnElement[Any] | None, vendor: ColumnElement[Any] | None
    ) -> list[ColumnElement[bool]]:
        """SQL conditions narrowing a query to the caller's client (client contacts) or vendor
        (vendor contacts); none for other roles. ``client``/``vendor`` are the columns linking
        the records to one (None: the records have no such link, so a contact sees none).
        Out of scope then reads like absent (404): a contact cannot probe for others' ids."""
        if self.client_scoped:
            return [client == self.client_id if client is not None and self.client_id else false()]
        if self.vendor_scoped:
            return [vendor == self.vendor_id if vendor is not None and self.vendor_id else false()]
        return []


# How a service finds the user's current state: (session, user_id) -> row or None.
# The row has role, status, client_id, vendor_id; None means "not replicated yet".
PrincipalLookup = Callable[[AsyncSession, UUID], Awaitable[Any]]


async def replica_lookup(session: AsyncSession, user_id: UUID) -> Any:
    return (
        await session.execute(
            select(
                PRINCIPALS.c.tenant_id,
                PRINCIPALS.c.role,
                PRINCIPALS.c.status,
                PRINCIPALS.c.client_id,
                PRINCIPALS.c.vendor_id,
            ).where(PRINCIPALS.c.user_id == user_id)
        )
    ).one_or_none()


def _bearer(request: Request) -> str:
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("a bearer token is required (Authorization: Bearer <token>)")
    return token.strip()


def _uuid(value: Any) -> UUID | None:
    return UUID(str(value)) if value else None


async def principal_from(
    token: str, verifier: TokenVerifier | None, session: AsyncSession, lookup: PrincipalLookup
) -> Principal:
    if verifier is None:
        raise Problem("authentication is not configured (AUTH_PUBLIC_KEY)", status=503, title="Unavailable")
    claims = verifier.verify(token)
    try:
        user_id, tenant_id = UUID(claims["sub"]), UUID(claims["tid"])
        role = Role(claims["role"])
        client_id, vendor_id = _uuid(claims.get("cid")), _uuid(claims.get("vid"))
    except (ValueError, KeyError) as exc:
        raise Unauthorized("the token's claims are malformed") from exc
    row = await lookup(session, user_id)
    if row is not None:
        # The replica is newer than any token: its role and links win, and its status decides.
        if row.tenant_id != tenant_id:
            raise Unauthorized("the token does not match the user")
        if row.status != UserStatus.ACTIVE.value:
            raise Unauthorized(f"the user is {row.status}")
        role, client_id, vendor_id = Role(row.role), row.client_id, row.vendor_id
    return Principal(
        user_id=user_id,
        tenant_id=tenant_id,
        role=role,
        client_id=client_id,
        vendor_id=vendor_id,
        is_platform_operator=bool(claims.get("op")),
    )


async def authenticate(request: Request) -> Principal:
    """The caller of this request; 401 without a valid token or for a user no longer active.
    (FastAPI resolves it once per request however many dependencies ask for it.)"""
    runtime = request.app.state.runtime
    token = _bearer(request)
    async with runtime.db.sessions() as session:
        return await principal_from(token, runtime.verifier, session, runtime.principal_lookup)


Caller = Annotated[Principal, Depends(authenticate)]


def requires(permission: Permission) -> Any:
    """Dependency: the caller, after checking the role grants ``permission`` (403 if not)."""

    async def check(caller: Caller) -> Principal:
        caller.require(permission)
        return caller

    return Depends(check)


# --------------------------------------------------------------------------- the replica


async def replicate_users(uow: UnitOfWork, batch: list[tuple[Envelope, Any]]) -> None:
    """Keep this service's copy of users' role, links and status (newest event wins)."""
    latest: dict[UUID, UserRegistered | UserUpdated] = {}
    for _, event in batch:
        latest[event.user_id] = event  # in partition order, so the last one is the newest
    rows = [
        {
            "user_id": e.user_id,
            "tenant_id": e.tenant_id,
            "role": e.role.value,
            "status": e.status.value,
            "client_id": e.client_id,
            "vendor_id": e.vendor_id,
        }
        for e in latest.values()
    ]
    stmt = pg_insert(PRINCIPALS).values(rows)
    await uow.session.execute(
        stmt.on_conflict_do_update(
            index_elements=["user_id"],
            set_={c: stmt.excluded[c] for c in ("role", "status", "client_id", "vendor_id")}
            | {"updated_at": stmt.excluded.updated_at},
        )
    )


USER_EVENTS: Iterable[str] = (UserRegistered.event_type, UserUpdated.event_type)
