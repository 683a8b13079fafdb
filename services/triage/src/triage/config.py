"""Settings of the triage service: environment variables prefixed TRIAGE_ (see docs/configuration.md)."""

from pydantic_settings import SettingsConfigDict

from backbone.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TRIAGE_", extra="ignore", populate_by_name=True)

    service_name: str = "triage"
    port: int = 8002
