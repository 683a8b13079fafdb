"""Settings of the triage service: environment variables prefixed TRIAGE_ (see docs/configuration.md)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from backbone.settings import ServiceSettings
from contracts.enums import Role


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TRIAGE_", extra="ignore", populate_by_name=True)

    service_name: str = "triage"
    port: int = 8002

    # Automatic escalation (docs/escalation.md): how often the timer loop looks for due steps,
    # how many it fires per transaction, and whom an SLA warning or breach pages when no
    # escalation policy applies to the incident.
    escalation_poll_interval_s: float = Field(default=1.0, gt=0, description="Escalation timer poll.")
    escalation_batch_size: int = Field(default=100, ge=1, description="Escalations fired per transaction.")
    escalation_fallback_role: Role = Field(
        default=Role.INCIDENT_MANAGER, description="Role paged on an SLA event when no policy applies."
    )

    # Severity (docs/architecture.md): an incident is recurrent when another one of the tenant had the same
    # dedup key or component within this many days before it.
    recurrence_window_days: float = Field(default=7.0, ge=0, description="Recurrence window in days.")
    # Attachments: content on disk under this directory, named by its sha256 (never the
    # uploader's filename); metadata in the database.
    attachments_dir: str = Field(
        default=".local/attachments", description="Where attachment content is kept."
    )
    attachment_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1, description="Largest attachment.")
    deleted_attachment_retention_days: float = Field(
        default=7,
        ge=0,
        description="Attachments (rows and files) of a deleted incident are removed this long after its "
        "deletion (docs/retention.md).",
    )
    attachment_mime_types: list[str] = Field(
        default=[
            "text/plain",
            "text/csv",
            "application/json",
            "application/pdf",
            "application/zip",
            "application/gzip",
            "image/png",
            "image/jpeg",
            "image/gif",
            "image/webp",
        ],
        description="MIME types accepted for attachments (JSON list in the environment).",
    )
