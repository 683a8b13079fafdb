"""Settings of the notifications service, read from environment variables (see docs/configuration.md)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from backbone.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFICATIONS_", extra="ignore", populate_by_name=True)

    service_name: str = "notifications"
    port: int = 8005

    # Channel secrets at rest (docs/notifications.md).
    secret_key: str | None = Field(
        default=None,
        description="Fernet key(s) encrypting channel secrets, comma-separated (newest first) to rotate. "
        'Without one, channels can only reference secrets (`{"secret_ref": "env:NAME"}`).',
    )

    # Delivery workers.
    delivery_poll_s: float = Field(default=0.5, description="How often idle workers look for due deliveries.")
    delivery_lease_s: float = Field(
        default=60.0,
        description="A claimed delivery is another worker's again after this long (a crashed sender); "
        "longer than the send timeout.",
    )
    send_timeout_s: float = Field(
        default=10.0, description="Longest one send may take before it counts failed."
    )
    max_attempts: int = Field(default=5, description="Tries per delivery before notification.failed.v1.")
    retry_initial_s: float = Field(
        default=2.0, description="First retry delay; doubles per try (with jitter)."
    )
    retry_max_s: float = Field(default=600.0, description="Longest delay between two tries.")
    retry_jitter_s: float = Field(default=1.0, description="Random extra delay, up to this, per retry.")
    rate_per_minute: int = Field(
        default=120,
        description="Default sends per minute per channel and replica (a channel may set its own).",
    )

    # Reminders (docs/communications.md).
    reminder_poll_s: float = Field(
        default=5.0, description="How often each replica looks for due reminders (any replica may fire one)."
    )

    # What messages link to and where Slack's Web API is.
    incident_url: str = Field(
        default="http://127.0.0.1:8002/v1/incidents/{incident_id}",
        description="Link put in messages; `{incident_id}` is replaced.",
    )
    slack_api_url: str = Field(
        default="https://slack.com/api/", description="Base URL of Slack's Web API (chat.postMessage)."
    )
