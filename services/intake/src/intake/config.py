"""Settings of the intake service: environment variables prefixed INTAKE_ (see docs/configuration.md)."""

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from backbone.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore", populate_by_name=True)

    service_name: str = "intake"
    port: int = 8001

    alert_token: SecretStr | None = Field(
        default=None, description="Interim bearer token for alert webhooks (until integrations exist)."
    )
    alert_tenant: str = Field(
        default="default", description="Tenant slug the interim token's alerts belong to."
    )
