"""Settings of the notifications service, read from environment variables (see docs/configuration.md)."""

from pydantic_settings import SettingsConfigDict

from backbone.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFICATIONS_", extra="ignore", populate_by_name=True)

    service_name: str = "notifications"
    port: int = 8005
