"""The console's sign-in session: the access token in an HttpOnly cookie, and the anti-forgery
token every form carries (docs/adr/0014-web-console.md "Sessions").

The anti-forgery token is derived from the session's access token, which a page of another site
can neither read (HttpOnly) nor send (SameSite=Strict): a forged post has neither the cookie nor
the token; no state is kept on the server, so any replica checks any form."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

COOKIE = "console_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


def csrf_token(session_token: str) -> str:
    digest = hashlib.sha256(b"console-csrf\x00" + session_token.encode()).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode()


def csrf_ok(session_token: str | None, sent: str | None) -> bool:
    if not session_token or not sent:
        return False
    return hmac.compare_digest(csrf_token(session_token), sent)


def cookie_secure(mode: str, scheme: str) -> bool:
    """Secure when the request came over https (``auto``), or as the operator says."""
    if mode == "always":
        return True
    if mode == "never":
        return False
    return scheme == "https"


@dataclass(frozen=True)
class Me:
    """The signed-in user as triage sees them now (GET /v1/me): the permissions decide which
    links and buttons a page shows; the APIs check them again on every call."""

    user_id: str
    tenant_id: str
    role: str
    client_id: str | None
    vendor_id: str | None
    permissions: frozenset[str]

    @classmethod
    def of(cls, body: dict[str, object]) -> Me:
        perms = body.get("permissions") or []
        assert isinstance(perms, list)
        return cls(
            user_id=str(body.get("user_id")),
            tenant_id=str(body.get("tenant_id")),
            role=str(body.get("role")),
            client_id=str(body["client_id"]) if body.get("client_id") else None,
            vendor_id=str(body["vendor_id"]) if body.get("vendor_id") else None,
            permissions=frozenset(str(p) for p in perms),
        )

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    @property
    def role_label(self) -> str:
        return self.role.replace("_", " ")
