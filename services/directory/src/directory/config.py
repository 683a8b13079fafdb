"""Settings of the directory service, read from environment variables (see docs/configuration.md)."""

from pydantic_settings import SettingsConfigDict

from backbone.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DIRECTORY_", extra="ignore", populate_by_name=True)

    service_name: str = "directory"
    port: int = 8007
