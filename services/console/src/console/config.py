"""Settings of the console: environment variables prefixed CONSOLE_ (see docs/configuration.md).

The console owns no schema and consumes no topic (docs/adr/0014-web-console.md): of the shared
settings it uses only the bind address and logging; the rest are the services' addresses."""

from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from backbone.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CONSOLE_", extra="ignore", populate_by_name=True)

    service_name: str = "console"
    port: int = 8008

    directory_url: str = Field(
        default="http://127.0.0.1:8007", description="Base URL of directory's API (sign-in, users, clients)."
    )
    triage_url: str = Field(
        default="http://127.0.0.1:8002", description="Base URL of triage's API (incidents)."
    )
    sla_url: str = Field(default="http://127.0.0.1:8003", description="Base URL of sla's API (clocks).")
    changes_url: str = Field(
        default="http://127.0.0.1:8004", description="Base URL of changes' API (change requests)."
    )
    audit_url: str = Field(
        default="http://127.0.0.1:8006", description="Base URL of audit's API (timelines, search, verify)."
    )
    api_timeout_s: float = Field(
        default=10.0, gt=0, description="Longest wait for one call to a service before the page says so."
    )
    cookie_secure: Literal["auto", "always", "never"] = Field(
        default="auto",
        description="Whether the session cookie is marked Secure: `auto` when the request came over "
        "https (directly or as X-Forwarded-Proto from a trusted proxy), `always` behind a TLS proxy "
        "that does not say so, `never` for plain-http test setups only.",
    )
    poll_interval_s: int = Field(
        default=5,
        ge=1,
        le=300,
        description="How often the incident list and an incident's SLA refresh themselves.",
    )
    page_size: int = Field(default=25, ge=1, le=200, description="Incidents per page of the list.")
