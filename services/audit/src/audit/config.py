"""Settings of the audit service: environment variables prefixed AUDIT_ (see docs/configuration.md)."""

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from backbone.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="AUDIT_", extra="ignore", populate_by_name=True)

    service_name: str = "audit"
    port: int = 8006
    # Audit takes every event of every service: larger batches than other services, so a storm
    # costs one transaction, one head lock and one insert of each kind per few thousand events.
    consumer_max_records: int = Field(
        default=5000, ge=1, description="Most messages handled in one transaction."
    )
    consumer_batch_timeout_ms: int = Field(
        default=200, ge=0, description="How long a fetch waits to fill a batch."
    )
    report_max_records: int = Field(
        default=20_000,
        ge=1,
        description=(
            "Most audit records an incident report is built from; an incident with more is refused (409)."
        ),
    )

    signing_key: SecretStr | None = Field(
        default=None,
        description="Ed25519 private key (PEM inline or a file path) that signs the logs' checkpoints; "
        "`make up` makes one in .local/keys/audit-signing-key.pem, `incidentctl audit rotate-key` a new "
        "one (restart audit to use it; the old verifier keys stay listed). Unset: a key made at start "
        "and lost at exit, for tests only.",
    )
    checkpoint_interval_s: float = Field(
        default=1.0,
        gt=0,
        le=5,
        description="How often the signer looks for logs that grew; a write is covered by a signed "
        "checkpoint within about this long.",
    )
