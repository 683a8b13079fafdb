"""Settings of the directory service: environment variables prefixed DIRECTORY_ (see
docs/configuration.md)."""

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from backbone.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DIRECTORY_", extra="ignore", populate_by_name=True)

    service_name: str = "directory"
    port: int = 8007

    signing_key: SecretStr | None = Field(
        default=None,
        description="Ed25519 private key (PEM inline or a file path) that signs access tokens; "
        "its public half is every service's AUTH_PUBLIC_KEY. `incidentctl keys generate` makes a pair.",
    )
    token_ttl_s: int = Field(default=900, ge=60, le=86400, description="Lifetime of an access token.")
