"""Channel kinds and their configuration (pure: no I/O).

A channel's config is validated per kind. Secret fields (an SMTP password, a Slack webhook URL
or bot token, a webhook's signing secret) are split off: literal values are stored encrypted
and never shown again ("***" in answers and events); a value may instead be a reference,
``{"secret_ref": "env:NAME"}``, read from the environment when sending.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from contracts.enums import ChannelKind

REDACTED = "***"


class SecretRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    secret_ref: str = Field(pattern=r"^env:[A-Za-z_][A-Za-z0-9_]*$", examples=["env:SMTP_PASSWORD"])


Secret = str | SecretRef


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
    api_url: str | None = Field(default=None, description="Slack Web API base URL (a proxy, or tests).")

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
    """A referenced secret is not in the environment: the send cannot succeed (a permanent failure)."""


def _first_error(exc: ValidationError) -> InvalidConfig:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ()))
    return InvalidConfig(f"config.{where}: {err.get('msg', 'invalid')}" if where else err["msg"], where)


def split(
    kind: ChannelKind, config: Mapping[str, Any], stored_secrets: Mapping[str, str] | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """Validate ``config`` and split it into (public config, literal secrets). A secret field
    sent as "***" (what reads show) keeps the stored value, so a read-modify-write works."""
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


def resolve(public: Mapping[str, Any], secrets: Mapping[str, str], env: Mapping[str, str]) -> dict[str, Any]:
    """The full config to send with: literal secrets merged in, references read from ``env``."""
    full = dict(public) | dict(secrets)
    for name, value in list(full.items()):
        if isinstance(value, dict) and "secret_ref" in value:
            var = str(value["secret_ref"]).removeprefix("env:")
            if var not in env:
                raise MissingSecret(f"{name}: the environment variable {var} is not set")
            full[name] = env[var]
    return full
