"""Settings of the intake service: environment variables prefixed INTAKE_ (see docs/configuration.md)."""

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from backbone.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore", populate_by_name=True)

    service_name: str = "intake"
    port: int = 8001

    # Reports from people (docs/reports.md).
    public_form_secret: SecretStr | None = Field(
        default=None,
        description="Signs the public form's anti-forgery tokens and keys the rate-limit counters. "
        "Set the same value on every replica; unset, each process makes a random one at start.",
    )
    public_form_token_ttl_s: int = Field(
        default=7200, ge=60, description="How long a loaded form may be sent."
    )
    public_rate_limit: int = Field(
        default=10, ge=1, description="Public submissions per tenant and client address in one window."
    )
    public_rate_window_s: int = Field(default=600, ge=1, description="The rate-limit window, in seconds.")

    # Alerts (docs/intake.md).
    alert_rate_per_s: float = Field(
        default=100.0,
        gt=0,
        description="Per integration: alerts per second POST /v1/alerts/events and /v1/alerts/generic accept "
        "(token bucket shared by every replica); over it they answer 429 with Retry-After.",
    )
    alert_rate_burst: int = Field(default=1000, ge=1, description="Per integration: the bucket's size.")
    alert_repeat_event_interval_s: float = Field(
        default=10.0,
        ge=0,
        description="Repeats of an open incident's alerts are announced (intake.alert_repeated.v1, with the "
        "count so far) at most once per dedup key in this many seconds after its report or last "
        "announcement; 0 announces every repeat.",
    )
