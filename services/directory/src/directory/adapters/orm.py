"""Tables of the directory service (schema ``directory``).

Uniqueness rules of 003 (client registration number and contact email, user email, vendor
name/email/phone) hold per tenant: a tenant must not learn, through a 409, what another
tenant has registered (docs/architecture.md "Security", docs/adr/0004-directory-and-access.md).
"""

from sqlalchemy import Column, ForeignKey, Index, Table, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.types import Boolean, Date, DateTime, Float, Integer, String

from backbone.tables import delivery_schema, stamp, stamps

metadata, outbox, inbox, idempotency_keys = delivery_schema("directory")


def _id() -> Column:
    return Column("id", UUID(as_uuid=True), primary_key=True)


def _tenant() -> Column:
    return Column("tenant_id", UUID(as_uuid=True), ForeignKey("tenants.id"), nullable=False, index=True)


def _stamps() -> list[Column]:
    return [
        *stamps(),
    ]


tenants = Table(
    "tenants",
    metadata,
    _id(),
    Column("slug", String(63), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    stamp("created_at"),
)

clients = Table(
    "clients",
    metadata,
    _id(),
    _tenant(),
    Column("client_name", String(200), nullable=False),
    Column("registration_number", String(100), nullable=False),
    Column("contact_email", String(320), nullable=False),
    Column("client_type", String(30), nullable=False),
    Column("country", String(100)),
    Column("industry", String(100)),
    Column("status", String(20), nullable=False, server_default="active"),
    Column("account_manager_id", UUID(as_uuid=True)),
    *_stamps(),
    UniqueConstraint("tenant_id", "registration_number"),
    UniqueConstraint("tenant_id", "contact_email"),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    # One current subscription per client; earlier ones live in the audit trail.
    Column("client_id", UUID(as_uuid=True), ForeignKey("clients.id"), primary_key=True),
    _tenant(),
    Column("tier", String(20), nullable=False),
    Column("contractual_p1", Boolean, nullable=False, server_default="false"),
    Column("valid_from", Date, nullable=False),
    Column("valid_until", Date),
    *_stamps(),
)

vendors = Table(
    "vendors",
    metadata,
    _id(),
    _tenant(),
    Column("vendor_name", String(200), nullable=False),
    Column("vendor_email", String(320), nullable=False),
    Column("vendor_phone", String(32), nullable=False),
    Column("vendor_type", String(40), nullable=False),
    Column("status", String(20), nullable=False, server_default="active"),
    *_stamps(),
    UniqueConstraint("tenant_id", "vendor_name"),
    UniqueConstraint("tenant_id", "vendor_email"),
    UniqueConstraint("tenant_id", "vendor_phone"),
)

users = Table(
    "users",
    metadata,
    _id(),
    _tenant(),
    Column("email", String(320), nullable=False),
    Column("name", String(200), nullable=False),
    Column("role", String(40), nullable=False),
    Column("status", String(20), nullable=False, server_default="active"),
    Column("department", String(100)),
    Column("client_id", UUID(as_uuid=True), ForeignKey("clients.id")),
    Column("vendor_id", UUID(as_uuid=True), ForeignKey("vendors.id")),
    Column("timezone", String(64), nullable=False, server_default="UTC"),
    # Platform operators may create tenants (docs/architecture.md); a flag, not one of the seven roles.
    Column("is_platform_operator", Boolean, nullable=False, server_default="false"),
    *_stamps(),
    UniqueConstraint("tenant_id", "email"),
)

api_keys = Table(
    "api_keys",
    metadata,
    _id(),
    _tenant(),
    Column("user_id", UUID(as_uuid=True), ForeignKey("users.id"), nullable=False),
    Column("prefix", String(16), nullable=False, unique=True),
    Column("hash", String(64), nullable=False),
    stamp("created_at"),
    Column("revoked_at", DateTime(timezone=True)),
    # Who minted the key (null: the system, or before this was kept). When the owner's role
    # changes, keys whose issuer could not mint them for the new role are revoked.
    Column("issued_by", UUID(as_uuid=True)),
)

components = Table(
    "components",
    metadata,
    _id(),
    _tenant(),
    Column("client_id", UUID(as_uuid=True), ForeignKey("clients.id"), nullable=False),
    Column("vendor_id", UUID(as_uuid=True), ForeignKey("vendors.id")),
    Column("name", String(200), nullable=False),
    Column("component_type", String(60)),
    Column("environment", String(40)),
    Column("business_critical", Boolean, nullable=False, server_default="false"),
    *_stamps(),
    UniqueConstraint("client_id", "name"),
)

integrations = Table(
    "integrations",
    metadata,
    _id(),
    _tenant(),
    Column("kind", String(20), nullable=False),
    Column("name", String(200), nullable=False),
    Column("client_id", UUID(as_uuid=True), ForeignKey("clients.id")),
    Column("default_component_id", UUID(as_uuid=True), ForeignKey("components.id")),
    Column("impact_rules", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("default_impact", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("grouping_labels", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("auto_resolve", Boolean, nullable=False, server_default=text("true")),
    Column("rate_limit_per_s", Float),
    Column("rate_limit_burst", Integer),
    Column("token_prefix", String(16), nullable=False),
    Column("token_sha256", String(64), nullable=False, unique=True),
    *_stamps(),
    # Counts changes; events carry it so intake's replica never goes back to an older state.
    Column("revision", Integer, nullable=False, server_default=text("1")),
    # Deleted integrations stay for the record; their token is refused and their name is free.
    Column("deleted_at", DateTime(timezone=True)),
    Index(
        "ix_integrations_tenant_id_name_live",
        "tenant_id",
        "name",
        unique=True,
        postgresql_where=text("deleted_at IS NULL"),
    ),
)
