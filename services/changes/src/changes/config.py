"""Settings of the changes service: environment variables prefixed CHANGES_ (see docs/configuration.md)."""

from pydantic_settings import SettingsConfigDict

from backbone.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CHANGES_", extra="ignore", populate_by_name=True)

    service_name: str = "changes"
    port: int = 8004
