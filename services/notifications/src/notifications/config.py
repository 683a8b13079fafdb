"""Settings of the notifications service, read from environment variables (see docs/configuration.md)."""

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from backbone.settings import ServiceSettings
from notifications.domain import egress


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
    secret_ref_allow: str = Field(
        default="",
        description="Environment variables any tenant's channel may reference "
        '(`{"secret_ref": "env:NAME"}`), comma-separated. Besides these, a tenant may only reference '
        "`NOTIFY_<its tenant id: 32 upper-case hex digits>_<NAME>` (docs/notifications.md).",
    )

    # Where deliveries may go (docs/notifications.md, "Destinations").
    egress_allow: str = Field(
        default="",
        description="IP ranges (CIDR, comma-separated) deliveries may reach although they are loopback, "
        "link-local, private or unique-local, on any port; e.g. `127.0.0.1/32,::1/128` to test "
        "against local receivers. Empty: only public addresses.",
    )
    egress_http_ports: str = Field(
        default="80,443",
        description="Ports webhooks and Slack webhooks may use on public addresses (comma-separated).",
    )
    egress_smtp_ports: str = Field(
        default="25,465,587", description="Ports SMTP servers may use on public addresses (comma-separated)."
    )

    # Tenants' templates run in a separate process, bounded (docs/notifications.md, "Templates").
    template_timeout_s: float = Field(
        default=2.0, description="Longest a tenant's template may render; then the process is stopped."
    )
    template_max_output: int = Field(
        default=100_000, description="Most characters a tenant's template may produce (per part)."
    )
    template_memory_mb: int = Field(
        default=512, description="Address-space limit (MiB) of the process rendering tenants' templates."
    )
    template_workers: int = Field(default=1, description="Processes rendering tenants' templates.")

    delivery_retention_days: float = Field(
        default=30,
        gt=0,
        description="Sent or failed deliveries (rendered messages, addresses) are deleted after this.",
    )

    # Delivery workers.
    delivery_poll_s: float = Field(
        default=1.0,
        gt=0,
        description="How often idle workers look for due deliveries without being woken: new deliveries "
        "wake every replica at once (PostgreSQL NOTIFY), so this bounds only the start of retries and of "
        "deliveries whose worker died. Lower: retries start closer to their time; higher: fewer idle "
        "queries.",
    )
    delivery_batch: int = Field(
        default=100,
        ge=1,
        description="Most deliveries a channel's worker claims in one transaction. Higher: fewer "
        "transactions in a burst; lower: a crashed replica leaves fewer deliveries waiting for their lease.",
    )
    delivery_in_flight: int = Field(
        default=50,
        ge=1,
        description="Most sends in flight at once per channel and replica (within the channel's rate). "
        "Higher: a burst to a slow receiver finishes sooner; lower: less load on the receiver and on "
        "this process.",
    )
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
    webhook_rate_per_minute: int = Field(
        default=0,
        ge=0,
        description="Sends per minute per webhook channel and replica unless the channel sets its own "
        "`rate_per_minute`; 0: unlimited (only `NOTIFICATIONS_DELIVERY_IN_FLIGHT` bounds it). Machine "
        "receivers take bursts; a limit spaces sends out and so adds latency in a storm.",
    )
    slack_rate_per_minute: int = Field(
        default=60,
        ge=1,
        description="Sends per minute per Slack channel and replica unless the channel sets its own "
        "(Slack accepts about one message per second per channel and answers 429 beyond).",
    )
    email_rate_per_minute: int = Field(
        default=600,
        ge=1,
        description="Sends per minute per SMTP server (host and port) and replica, shared by every email "
        "channel using it that does not set its own `rate_per_minute`. Raise it for a relay of your own; "
        "lower it for a provider that throttles.",
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
        default="https://slack.com/api/",
        description="Base URL of Slack's Web API (chat.postMessage) for bot-token channels; a deployment "
        "setting (a proxy, or a stand-in in tests), never a tenant's.",
    )
    # Acknowledge / Resolve buttons on Slack messages (docs/notifications.md, "Slack actions").
    slack_signing_secret: str | None = Field(
        default=None,
        description="The Slack app's signing secret: `POST /v1/slack/actions` accepts only requests "
        "it signed (v0, within 5 minutes). Unset: the endpoint answers 503 to everything.",
    )
    slack_action_poll_s: float = Field(
        default=1.0,
        gt=0,
        description="How often each replica looks for Slack button clicks to resolve (users.info) "
        "and messages to update (chat.update); a click also wakes its own replica at once.",
    )

    @field_validator("egress_allow")
    @classmethod
    def _ranges(cls, value: str) -> str:
        egress.parse_networks(value)
        return value

    @field_validator("egress_http_ports", "egress_smtp_ports")
    @classmethod
    def _ports(cls, value: str) -> str:
        egress.parse_ports(value)
        return value

    def egress_policy(self) -> egress.EgressPolicy:
        return egress.EgressPolicy.from_settings(
            self.egress_allow, self.egress_http_ports, self.egress_smtp_ports
        )

    def secret_refs(self) -> frozenset[str]:
        return frozenset(n.strip() for n in self.secret_ref_allow.split(",") if n.strip())
