"""Settings of the sla service: environment variables prefixed SLA_ (see docs/configuration.md)."""

from pydantic_settings import SettingsConfigDict

from backbone.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SLA_", extra="ignore", populate_by_name=True)

    service_name: str = "sla"
    port: int = 8003
