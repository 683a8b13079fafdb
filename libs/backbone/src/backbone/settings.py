"""Settings base: every service's config.py subclasses it with its own env prefix.

The two addresses every service shares, ``DATABASE_URL`` and ``KAFKA_BOOTSTRAP_SERVERS``, are read
without a prefix (one environment for the whole platform); anything service-specific is
read with the service's prefix, e.g. ``TRIAGE_PORT``.
"""

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.topics import dlq_topic


def _shared(name: str) -> AliasChoices:
    return AliasChoices(name, name.lower())


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    service_name: str = "service"
    host: str = Field(
        default="127.0.0.1",
        validation_alias=_shared("BIND_HOST"),
        description="Address the HTTP server binds; 0.0.0.0 in containers.",
    )
    port: int = 8000

    database_url: str = Field(
        default="postgresql+asyncpg://incident:incident@127.0.0.1:55432/incident",
        validation_alias=_shared("DATABASE_URL"),
        description="SQLAlchemy async URL; each service uses its own schema in it.",
    )
    db_pool_size: int = Field(default=10, description="Connections per process.")
    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092", validation_alias=_shared("KAFKA_BOOTSTRAP_SERVERS")
    )
    kafka_topic_prefix: str = Field(
        default="",
        validation_alias=_shared("KAFKA_TOPIC_PREFIX"),
        description="Prefix of every topic and consumer group, so environments can share a broker.",
    )
    auth_public_key: str | None = Field(
        default=None,
        validation_alias=_shared("AUTH_PUBLIC_KEY"),
        description="Directory's Ed25519 public key(s), PEM inline or a file path; several while rotating.",
    )
    log_level: str = Field(default="INFO", validation_alias=_shared("LOG_LEVEL"))
    log_json: bool = Field(default=True, validation_alias=_shared("LOG_JSON"))
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None, validation_alias=_shared("OTEL_EXPORTER_OTLP_ENDPOINT")
    )

    # Consumer tuning (docs/architecture.md "Delivery guarantees": batch on the hot path).
    consumer_max_records: int = Field(default=200, description="Most messages handled in one transaction.")
    consumer_batch_timeout_ms: int = Field(default=50, description="How long a fetch waits to fill a batch.")
    consumer_max_attempts: int = Field(default=3, description="Tries per message before it goes to the DLQ.")
    consumer_retry_backoff_s: float = Field(default=0.2, description="First retry delay; doubles each try.")
    consumer_rewind_backoff_s: float = Field(
        default=1.0,
        description="Pause after a batch is rewound for a fault of the database or broker (never "
        "dead-lettered); doubles while the fault lasts, back to this after a success.",
    )
    consumer_rewind_backoff_max_s: float = Field(
        default=30.0, description="Longest pause between retries of a rewound batch."
    )

    # Outbox relay tuning.
    outbox_batch_size: int = 500
    outbox_poll_interval_s: float = Field(
        default=0.5, description="Idle poll; commits in this process wake the relay at once."
    )
    outbox_retention_hours: int = Field(default=24, description="Published outbox rows are kept this long.")
    outbox_max_attempts: int = Field(
        default=5,
        description="Failed publications of one outbox row (rejected by the broker, e.g. too large) "
        "before it is parked and the relay goes on with the rows after it.",
    )
    outbox_barrier_timeout_s: float = Field(
        default=5.0,
        description="Longest wait of the relay for transactions still writing outbox rows, so it never "
        "passes a lower id committed later; the round is retried after it.",
    )
    timer_max_attempts: int = Field(
        default=5,
        description="Failed firings of one timer row before it is parked; its loop goes on with the others.",
    )
    inbox_retention_days: int = Field(default=14, description="Longer than Kafka's retention of 7 days.")

    # HTTP request bodies: every route is capped (413 past it) before anything reads the body;
    # a route may set its own cap (attachments, alert batches). See docs/retention.md for the
    # retention loop below.
    http_max_body_bytes: int = Field(
        default=1024 * 1024, ge=1, description="Largest request body a route takes unless it sets its own."
    )
    # Retention (docs/retention.md): old rows are deleted in batches by a background loop.
    idempotency_retention_hours: float = Field(
        default=24,
        gt=0,
        description="Stored Idempotency-Key responses are kept this long; a retry later runs anew.",
    )
    retention_interval_s: float = Field(default=600, gt=0, description="How often the retention loop runs.")
    retention_batch_size: int = Field(
        default=1000, ge=1, description="Rows deleted per statement (and transaction) by the retention loop."
    )

    @property
    def db_schema(self) -> str:
        return self.service_name

    def topic(self, logical: str) -> str:
        return f"{self.kafka_topic_prefix}{logical}"

    @property
    def group_id(self) -> str:
        return f"{self.kafka_topic_prefix}{self.service_name}"

    @property
    def dlq_topic(self) -> str:
        return self.topic(dlq_topic(self.service_name))
