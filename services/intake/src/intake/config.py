"""Settings of the intake service: environment variables prefixed INTAKE_ (see docs/configuration.md)."""

from ipaddress import IPv4Network, IPv6Network, ip_network

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from backbone.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore", populate_by_name=True)

    service_name: str = "intake"
    port: int = 8001

    # Reports from people (docs/reports.md).
    public_form_secret: SecretStr | None = Field(
        default=None,
        description="Signs the public form's anti-forgery tokens and keys the rate-limit counters. "
        "Set the same value on every replica; required when INTAKE_REPLICAS is above 1. Unset (one "
        "replica only), the process makes a random one at start.",
    )
    replicas: int = Field(
        default=1,
        ge=1,
        description="How many intake processes serve the public form. Above 1, the process refuses to "
        "start without INTAKE_PUBLIC_FORM_SECRET: a secret made per process would reject every form "
        "another replica served and split the rate-limit counters.",
    )
    trusted_proxies: str = Field(
        default="",
        description="Proxies (CIDR ranges, comma-separated) whose X-Forwarded-For the public form "
        "believes. From a peer in them, the client is the right-most address of X-Forwarded-For "
        "that is not itself one of them; from any other peer, X-Forwarded-For is ignored. Empty: "
        "the peer's address always.",
    )
    public_form_token_ttl_s: int = Field(
        default=7200, ge=60, description="How long a loaded form may be sent."
    )
    public_rate_limit: int = Field(
        default=10, ge=1, description="Public submissions per tenant and client address in one window."
    )
    public_rate_limit_tenant: int = Field(
        default=200,
        ge=1,
        description="Public submissions per tenant in one window, from all addresses together (those "
        "within their own address's limit), so many addresses cannot flood one tenant.",
    )
    public_rate_window_s: int = Field(default=600, ge=1, description="The rate-limit window, in seconds.")

    # Retention (docs/retention.md).
    alert_retention_days: float = Field(
        default=30,
        gt=0,
        description="Alerts (labels and times) of incidents no longer open are deleted after this.",
    )
    dedup_key_retention_days: float = Field(
        default=30, gt=0, description="Closed or resolved dedup keys are deleted this long after they closed."
    )

    # Alerts (docs/intake.md).
    alert_rate_per_s: float = Field(
        default=100.0,
        gt=0,
        description="Per integration: alerts per second POST /v1/alerts/events and /v1/alerts/generic accept "
        "(token bucket shared by every replica); over it they answer 429 with Retry-After.",
    )
    alert_rate_burst: int = Field(default=1000, ge=1, description="Per integration: the bucket's size.")
    alert_repeat_event_interval_s: float = Field(
        default=10.0,
        ge=0,
        description="Repeats of an open incident's alerts are announced (intake.alert_repeated.v1, with the "
        "count so far) at most once per dedup key in this many seconds after its report or last "
        "announcement; 0 announces every repeat.",
    )

    # The fast ingest path (docs/adr/0013-durable-fast-ingest.md).
    alert_append_timeout_s: float = Field(
        default=10.0,
        gt=0,
        description="How long an alert request waits for Kafka to acknowledge (acks=all) the append of "
        "its alerts to intake.alerts; past it the answer is 503 and the sender retries. Longer rides "
        "out a broker failover; shorter frees senders sooner.",
    )
    alert_poll_max_records: int = Field(
        default=500,
        ge=1,
        description="Most accepted batches (messages of intake.alerts, each the alerts of one request in "
        "one partition) intake's consumer deduplicates in one transaction. Larger: fewer, bigger "
        "transactions in a storm (more alerts/s); smaller: shorter transactions and less redone "
        "when one fails.",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        for part in value.split(","):
            if part.strip():
                ip_network(part.strip(), strict=False)  # a ValueError names the bad range
        return value

    @model_validator(mode="after")
    def _secret_shared_by_replicas(self) -> "Settings":
        if self.replicas > 1 and self.public_form_secret is None:
            raise ValueError(
                f"INTAKE_PUBLIC_FORM_SECRET must be set when INTAKE_REPLICAS is {self.replicas}: every "
                "replica has to sign and check the public form's tokens with the same secret"
            )
        return self

    @property
    def alerts_group_id(self) -> str:
        """The consumer group of intake.alerts: its own, so its rebalances and poll size are
        not the event consumer's."""
        return f"{self.group_id}.alerts"

    @property
    def trusted_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        return tuple(
            ip_network(p.strip(), strict=False) for p in self.trusted_proxies.split(",") if p.strip()
        )
