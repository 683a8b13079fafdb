"""Channel kinds and their configuration (pure: no I/O).

A channel's config is validated per kind. Secret fields (an SMTP password, a Slack webhook URL
or bot token, a webhook's signing secret) are split off: literal values are stored encrypted
and never shown again ("***" in answers and events); a value may instead be a reference,
``{"secret_ref": "env:NAME"}``, read from the environment when sending. A tenant may only
reference its own variables (``NOTIFY_<tenant id>_…``) or those the operator lists: the
service's environment also holds its own credentials (docs/notifications.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from contracts.enums import ChannelKind
from notifications.domain.egress import EgressPolicy, Protocol

REDACTED = "***"


class SecretRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    secret_ref: str = Field(pattern=r"^env:[A-Za-z_][A-Za-z0-9_]*$", examples=["env:SMTP_PASSWORD"])


Secret = str | SecretRef

REF_PREFIX = "NOTIFY_"
REF_ALLOW_SETTING = "NOTIFICATIONS_SECRET_REF_ALLOW"


def tenant_ref_prefix(tenant_id: UUID) -> str:
    """The names a tenant's references may use: ``NOTIFY_<32 upper-case hex digits>_``."""
    return f"{REF_PREFIX}{tenant_id.hex.upper()}_"


@dataclass(frozen=True)
class RefRule:
    """Which environment variables one tenant's channels may reference."""

    tenant_id: UUID
    allowed: frozenset[str] = frozenset()

    def refusal(self, name: str) -> str | None:
        prefix = tenant_ref_prefix(self.tenant_id)
        if name in self.allowed or (name.startswith(prefix) and len(name) > len(prefix)):
            return None
        return (
            f"env:{name} may not be referenced: a reference names {prefix}<NAME> "
            f"or a variable listed in {REF_ALLOW_SETTING}"
        )


@dataclass(frozen=True)
class Checks:
    """What a saved config must pass beyond its shape: the operator's egress policy and the
    variables every tenant may reference (from settings)."""

    policy: EgressPolicy = field(default_factory=EgressPolicy)
    allowed_refs: frozenset[str] = frozenset()

    def refs(self, tenant_id: UUID) -> RefRule:
        return RefRule(tenant_id, self.allowed_refs)


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rate_per_minute: int | None = Field(default=None, ge=1, le=100_000)


class EmailConfig(_Config):
    host: str = Field(min_length=1, max_length=255)
    port: int = Field(default=587, ge=1, le=65535)
    # starttls: plain connection upgraded (587); tls: TLS from the start (465); none: local relays.
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password: Secret | None = None
    from_address: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    # Fixed addresses that get every message routed to this channel, besides the rule's users.
    to: list[str] = Field(default=[], max_length=50)
    validate_certs: bool = True


class SlackConfig(_Config):
    webhook_url: Secret | None = None
    bot_token: Secret | None = None
    channel: str | None = Field(default=None, max_length=100)

    @model_validator(mode="before")
    @classmethod
    def _no_api_url(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "api_url" in data:
            raise ValueError(
                "api_url: Slack's Web API address is a deployment setting "
                "(NOTIFICATIONS_SLACK_API_URL), not channel config"
            )
        return data

    @model_validator(mode="after")
    def _one_way(self) -> SlackConfig:
        if (self.webhook_url is None) == (self.bot_token is None):
            raise ValueError("give either webhook_url, or bot_token and channel")
        if self.bot_token is not None and not self.channel:
            raise ValueError("channel is required with bot_token")
        return self


class WebhookConfig(_Config):
    url: str = Field(pattern=r"^https?://", max_length=2000)
    secret: Secret


MODELS: dict[ChannelKind, type[_Config]] = {
    ChannelKind.EMAIL: EmailConfig,
    ChannelKind.SLACK: SlackConfig,
    ChannelKind.WEBHOOK: WebhookConfig,
}

SECRET_FIELDS: dict[ChannelKind, tuple[str, ...]] = {
    ChannelKind.EMAIL: ("password",),
    ChannelKind.SLACK: ("webhook_url", "bot_token"),
    ChannelKind.WEBHOOK: ("secret",),
}


class InvalidConfig(ValueError):
    def __init__(self, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.field = field


class MissingSecret(RuntimeError):
    """A referenced secret is not in the environment, or not one the tenant may reference: the
    send cannot succeed (a permanent failure)."""


def _first_error(exc: ValidationError) -> InvalidConfig:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ()))
    return InvalidConfig(f"config.{where}: {err.get('msg', 'invalid')}" if where else err["msg"], where)


def _destination_refusal(kind: ChannelKind, model: _Config, policy: EgressPolicy) -> tuple[str, str] | None:
    """(field, reason) when the destination is written as an address the policy refuses (a
    host name is checked when it is resolved, at every connect)."""
    urls: list[tuple[str, Any]] = []
    if isinstance(model, WebhookConfig):
        urls.append(("url", model.url))
    if isinstance(model, SlackConfig) and isinstance(model.webhook_url, str):
        urls.append(("webhook_url", model.webhook_url))
    for name, url in urls:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return name, "not an http(s) URL with a host"
        if (reason := policy.url_refusal(url)) is not None:
            return name, reason
    if isinstance(model, EmailConfig):
        reason = policy.literal_refusal(model.host, model.port, Protocol.SMTP)
        if reason is not None:
            return "host", reason
    return None


def split(
    kind: ChannelKind,
    config: Mapping[str, Any],
    stored_secrets: Mapping[str, str] | None = None,
    *,
    refs: RefRule,
    policy: EgressPolicy,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Validate ``config`` and split it into (public config, literal secrets). A secret field
    sent as "***" (what reads show) keeps the stored value, so a read-modify-write works.
    References must be ones the tenant may use, and a destination written as an IP address
    must be one the egress policy allows."""
    stored = dict(stored_secrets or {})
    given = dict(config)
    for name in SECRET_FIELDS[kind]:
        if given.get(name) == REDACTED:
            if name not in stored:
                raise InvalidConfig(f"config.{name}: no stored secret to keep", name)
            given[name] = stored[name]
    try:
        model = MODELS[kind].model_validate(given)
    except ValidationError as exc:
        raise _first_error(exc) from None
    for name in SECRET_FIELDS[kind]:
        value = getattr(model, name, None)
        if isinstance(value, SecretRef) and (reason := refs.refusal(_ref_name(value.secret_ref))):
            raise InvalidConfig(f"config.{name}: {reason}", name)
    if (refused := _destination_refusal(kind, model, policy)) is not None:
        raise InvalidConfig(f"config.{refused[0]}: {refused[1]}", refused[0])
    public = model.model_dump(mode="json", exclude_none=True)
    secrets: dict[str, str] = {}
    for name in SECRET_FIELDS[kind]:
        value = getattr(model, name, None)
        if isinstance(value, str):
            secrets[name] = value
            public.pop(name, None)
    return public, secrets


def redact(kind: ChannelKind, public: Mapping[str, Any], secret_names: set[str]) -> dict[str, Any]:
    """The config as shown to people and in events: secrets as "***", references as they are."""
    shown = dict(public)
    for name in SECRET_FIELDS[kind]:
        if name in secret_names:
            shown[name] = REDACTED
    return shown


def _ref_name(ref: str) -> str:
    return ref.removeprefix("env:")


def resolve(
    public: Mapping[str, Any], secrets: Mapping[str, str], env: Mapping[str, str], refs: RefRule
) -> dict[str, Any]:
    """The full config to send with: literal secrets merged in, references read from ``env``,
    each checked again (a channel saved before the rule existed must not read others' names)."""
    full = dict(public) | dict(secrets)
    full.pop("api_url", None)  # saved before it was refused; the setting decides
    for name, value in list(full.items()):
        if isinstance(value, dict) and "secret_ref" in value:
            var = _ref_name(str(value["secret_ref"]))
            if (reason := refs.refusal(var)) is not None:
                raise MissingSecret(f"{name}: {reason}")
            if var not in env:
                raise MissingSecret(f"{name}: the environment variable {var} is not set")
            full[name] = env[var]
    return full
