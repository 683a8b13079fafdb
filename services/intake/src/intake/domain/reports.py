"""Reports from people: the manual report of a signed-in user (001 "Creating Incidents") and the
public report form (004 "Public Intake"). Pure rules: what a report may hold, the form's
anti-forgery token, the honeypot and the rate-limit window. No I/O here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from ipaddress import IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from typing import Annotated, Any
from urllib.parse import urlsplit
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, ValidationError, field_validator

from contracts.enums import IncidentSource
from contracts.events import ImpactFacts, IncidentReported, Reporter

# Data minimization: a whole request body (limits.MAX_BODY_BYTES), and each field, has
# a ceiling.
MAX_TITLE = 300  # triage's incidents.title
MAX_DESCRIPTION = 10_000
MAX_CATEGORY = 100
MAX_NAME = 200
MAX_EMAIL = 254  # RFC 5321 path limit
MAX_PHONE = 32
MAX_ORGANIZATION = 200
# A report may say it was detected a little in the future (clock skew), not more.
FUTURE_SKEW = timedelta(minutes=5)

# The honeypot: a field people never see (hidden by CSS, skipped by keyboard and screen
# readers) that form-filling bots fill in. Its name looks like a field worth filling.
HONEYPOT_FIELD = "website"
CSRF_FIELD = "csrf_token"

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_BREAKS = re.compile(r"[\r\n\t]")
_PHONE = re.compile(r"^\+?[0-9][0-9 ().\-]{4,30}[0-9]$")


def _single_line(value: str) -> str:
    # PostgreSQL text cannot hold NUL, and a title or a name has no use for control characters.
    if _CONTROL.search(value) or _LINE_BREAKS.search(value):
        raise ValueError("must be a single line without control characters")
    return value


def _text(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value


Line = Annotated[str, AfterValidator(_single_line)]
Text = Annotated[str, AfterValidator(_text)]


class ReportedImpact(ImpactFacts):
    """ImpactFacts as a reporter gives them: an unknown fact or a wrong value is an error (the
    event's model ignores unknown keys, which would silently drop a reporter's fact)."""

    model_config = ConfigDict(extra="forbid")

    affected_parties: int | None = Field(default=None, ge=0, le=10_000_000)


class _Report(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: Line = Field(min_length=1, max_length=MAX_TITLE)
    description: Text = Field(default="", max_length=MAX_DESCRIPTION)
    category: Line | None = Field(default=None, max_length=MAX_CATEGORY)

    @field_validator("category", mode="after")
    @classmethod
    def _no_empty_category(cls, value: str | None) -> str | None:
        return value or None

    def reported(
        self,
        incident_id: UUID,
        source: IncidentSource,
        reporter: Reporter,
        detected_at: datetime,
        **links: Any,
    ) -> IncidentReported:
        """The report as the event triage opens the incident from (``links``: client, component,
        impact, as the kind of report knows them)."""
        return IncidentReported(
            incident_id=incident_id,
            source=source,
            title=self.title,
            description=self.description,
            category=self.category,
            detected_at=detected_at,
            reporter=reporter,
            **links,
        )


class ManualReport(_Report):
    """Body of ``POST /v1/incidents`` (001 "Creating Incidents"). Severity is not given: triage
    derives it from ``impact`` (docs/architecture.md "Severity policy"), and an incident manager
    may override it there."""

    client_id: UUID | None = Field(
        default=None,
        description="The affected client; required, except for a client contact (their own client).",
    )
    component_id: UUID | None = Field(default=None, description="The affected component of that client.")
    impact: ReportedImpact = Field(default_factory=ReportedImpact)
    detected_at: datetime | None = Field(default=None, description="When it was noticed; default: now.")

    @field_validator("detected_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("must carry a time zone (e.g. 2025-01-01T10:00:00Z)")
        return value


def not_in_future(detected_at: datetime, now: datetime) -> bool:
    return detected_at <= now + FUTURE_SKEW


class PublicReport(_Report):
    """Body of the public report form and of ``POST /v1/public/{tenant_slug}/incidents``: what
    happened and how to reach the reporter (004 incident_reporters), nothing more."""

    name: Line = Field(min_length=1, max_length=MAX_NAME)
    email: EmailStr = Field(max_length=MAX_EMAIL)
    phone: Line | None = Field(default=None, max_length=MAX_PHONE)
    organization: Line | None = Field(default=None, max_length=MAX_ORGANIZATION)
    # The honeypot; see HONEYPOT_FIELD. Any value passes validation: it is judged separately.
    website: str | None = Field(default=None, description="Leave empty.")

    @field_validator("phone", "organization", mode="after")
    @classmethod
    def _empty_is_absent(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("phone", mode="after")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value is not None and not _PHONE.match(value):
            raise ValueError("must be a phone number: digits, optionally a leading + and spaces, - . ( )")
        return value


def honeypot_filled(fields: dict[str, Any]) -> bool:
    value = fields.get(HONEYPOT_FIELD)
    if isinstance(value, str):
        return value.strip() != ""
    return value is not None


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


def field_errors(exc: ValidationError) -> list[FieldError]:
    """Each invalid field once, with a message a person can act on."""
    seen: dict[str, FieldError] = {}
    for error in exc.errors():
        loc = [str(p) for p in error.get("loc", ())]
        name = ".".join(loc) or "body"
        if error.get("type") == "extra_forbidden":
            message = "is not a field of this form"
        else:
            message = str(error.get("msg", "is not valid")).removeprefix("Value error, ")
        seen.setdefault(name, FieldError(name, message))
    return list(seen.values())


# --------------------------------------------------------------------------- anti-forgery


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, message: str) -> str:
    return _b64(hmac.new(secret, message.encode(), hashlib.sha256).digest())


def form_token(secret: bytes, tenant_id: UUID, nonce: str, issued_at: datetime) -> str:
    """The anti-forgery token of one form page: bound to the tenant, the issue time and a nonce
    that the browser also holds in a SameSite=Strict cookie (double submit). Another site can
    fetch a token for itself, but cannot set the cookie in a visitor's browser."""
    body = f"{tenant_id}.{int(issued_at.timestamp())}.{nonce}"
    return f"{_b64(body.encode())}.{_mac(secret, body)}"


def check_form_token(
    secret: bytes, token: str, *, tenant_id: UUID, cookie_nonce: str | None, now: datetime, ttl: timedelta
) -> str | None:
    """Why the token is refused, or None when it is good."""
    if not token:
        return "the form's security token is missing"
    encoded, _, mac = token.partition(".")
    try:
        body = _unb64(encoded).decode()
    except ValueError:  # also binascii.Error and UnicodeDecodeError
        return "the form's security token is malformed"
    if not mac or not hmac.compare_digest(mac, _mac(secret, body)):
        return "the form's security token is not valid"
    tenant, _, rest = body.partition(".")
    issued, _, nonce = rest.partition(".")
    if tenant != str(tenant_id):
        return "the form's security token belongs to another form"
    if not cookie_nonce or not hmac.compare_digest(nonce, cookie_nonce):
        return "the form's security cookie is missing or does not match; reload the form"
    try:
        age = now.timestamp() - int(issued)
    except ValueError:
        return "the form's security token is malformed"
    if age > ttl.total_seconds() or age < -FUTURE_SKEW.total_seconds():
        return "the form has expired; reload it and submit again"
    return None


def same_origin(origin: str | None, sec_fetch_site: str | None, host: str) -> bool:
    """Browsers say where a request comes from; a request another site's page sent is refused.
    Either header may be absent (non-browser clients, older browsers): then the token decides.
    The origin's host and port are compared with the Host the request was sent to (the scheme
    is not: a proxy in front may end TLS)."""
    if sec_fetch_site is not None and sec_fetch_site.strip().lower() not in ("same-origin", "none"):
        return False
    return origin is None or urlsplit(origin.strip()).netloc.lower() == host.lower()


# --------------------------------------------------------------------------- rate limit


def address_key(secret: bytes, tenant_id: UUID, address: str) -> str:
    """The rate-limit key of a client address: keyed, so addresses (personal data, and easy to
    enumerate) are never stored or reversible from the table."""
    return hmac.new(secret, f"{tenant_id}|{address}".encode(), hashlib.sha256).hexdigest()[:40]


# The key of the tenant's own counter (all addresses together) beside the per-address ones;
# address keys are 40 hex digits, so they never collide with it.
TENANT_BUDGET_KEY = "tenant"


def client_address(peer: str, forwarded_for: list[str], trusted: Sequence[IPv4Network | IPv6Network]) -> str:
    """The address a submission is counted against. X-Forwarded-For is believed only when the
    peer is a trusted proxy, and then only as far as trusted proxies vouch for it: the client
    is the right-most hop that is not a trusted proxy (anything left of it, the client could
    have written itself)."""
    if not _within(peer, trusted):
        return peer
    hops = [hop.strip() for value in forwarded_for for hop in value.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _within(hop, trusted):
            return hop
    return hops[0] if hops else peer


def _within(address: str, networks: Sequence[IPv4Network | IPv6Network]) -> bool:
    try:
        ip = ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def rate_subject(address: str) -> str:
    """What one counter covers: an IPv4 address, or an IPv6 /64 (one subscriber's usual
    allocation, so rotating through it buys nothing)."""
    try:
        ip = ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ip_network(f"{ip}/64", strict=False))
    return str(ip)


def window_start(now: datetime, window: timedelta) -> datetime:
    """Fixed windows aligned to the epoch, so every replica agrees on the current one."""
    seconds = window.total_seconds()
    start = math.floor(now.timestamp() / seconds) * seconds
    return datetime.fromtimestamp(start, tz=now.tzinfo)


def retry_after(now: datetime, window: timedelta) -> int:
    """Whole seconds until the current window ends (at least 1)."""
    end = window_start(now, window) + window
    return max(1, math.ceil((end - now).total_seconds()))
