"""The delivery tables every service has in its own schema: outbox, inbox, idempotency keys, and
the failures of its timer rows (docs/adr/0009-fault-classification-replay-and-parking.md)."""

from typing import Any

from sqlalchemy import Column, Index, MetaData, Table, func, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.schema import SchemaItem
from sqlalchemy.types import BigInteger, DateTime, Integer, LargeBinary, String, Text

from backbone.db import service_metadata


def delivery_tables(metadata: MetaData) -> tuple[Table, Table, Table]:
    outbox = Table(
        "outbox",
        metadata,
        # The id orders publication: rows are relayed in id order, so per-key order holds.
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
        Column("event_type", String(200), nullable=False),
        Column("topic", String(200), nullable=False),
        Column("key", String(200), nullable=False),
        # The exact bytes to publish, so what is sent is what was committed.
        Column("value", LargeBinary, nullable=False),
        Column("headers", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("published_at", DateTime(timezone=True)),
        # Failed publications the broker will never take (e.g. too large): counted, and after
        # outbox_max_attempts the row is parked (skipped) so the rows after it go out.
        Column("attempts", Integer, nullable=False, server_default=text("0")),
        Column("last_error", Text),
        Column("parked_at", DateTime(timezone=True)),
        Index("ix_outbox_unpublished", "id", postgresql_where=text("published_at IS NULL")),
    )
    inbox = Table(
        "inbox",
        metadata,
        Column("event_id", UUID(as_uuid=True), primary_key=True),
        Column("event_type", String(200), nullable=False),
        Column("outcome", String(20), nullable=False, server_default="handled"),
        Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Index("ix_inbox_received_at", "received_at"),
    )
    idempotency = Table(
        "idempotency_keys",
        metadata,
        Column("tenant_key", String(100), primary_key=True),
        Column("key", String(200), primary_key=True),
        Column("request_hash", String(64), nullable=False),
        Column("status_code", Integer, nullable=False),
        Column("body", Text, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    timer_failures_table(metadata)  # every service's schema has it (reached as TIMER_FAILURES)
    return outbox, inbox, idempotency


def timer_failures_table(metadata: MetaData) -> Table:
    """Firings of a timer row that failed (backbone.timers): counted per row, and the row is
    parked (no longer claimed) after timer_max_attempts, so one bad row never stops its loop."""
    return Table(
        "timer_failures",
        metadata,
        Column("timer", String(200), primary_key=True),  # the timer table's name
        Column("row_key", String(200), primary_key=True),  # the row's primary key, as text
        Column("attempts", Integer, nullable=False),
        Column("last_error", Text, nullable=False),
        Column("first_failed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("last_failed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("parked_at", DateTime(timezone=True)),
    )


def principals_table(metadata: MetaData) -> Table:
    """Each service's replica of directory's users: what an access check needs, nothing more."""
    return tenant_table(
        "principals",
        metadata,
        Column("role", String(40), nullable=False),
        Column("status", String(20), nullable=False),
        Column("client_id", UUID(as_uuid=True)),
        Column("vendor_id", UUID(as_uuid=True)),
        stamp("updated_at"),
        key="user_id",
    )


def delivery_schema(name: str) -> tuple[MetaData, Table, Table, Table]:
    """A service's metadata (schema ``name``) holding the delivery tables: the metadata, then
    outbox, inbox and idempotency keys."""
    metadata = service_metadata(name)
    return (metadata, *delivery_tables(metadata))


def service_schema(name: str) -> tuple[MetaData, Table, Table, Table, Table]:
    """``delivery_schema`` and the principals replica: what every service but directory starts from."""
    metadata, outbox, inbox, idempotency = delivery_schema(name)
    return metadata, outbox, inbox, idempotency, principals_table(metadata)


def tenant_table(name: str, metadata: MetaData, *items: SchemaItem, key: str = "id") -> Table:
    """The shape of most tables: a UUID primary key ``key``, then tenant_id, then ``items``."""
    keys = [
        Column(key, UUID(as_uuid=True), primary_key=True),
        Column("tenant_id", UUID(as_uuid=True), nullable=False),
    ]
    return Table(name, metadata, *keys, *items)


def stamp(name: str) -> Column[Any]:
    """A timestamp the database fills with now() when the row is written."""
    return Column(name, DateTime(timezone=True), nullable=False, server_default=func.now())


def traceparent() -> Column[Any]:
    """The W3C trace context a row carries to the transaction that later works on it, so that
    work is a span of the same trace (docs/architecture.md "Tracing"); NULL: not traced."""
    return Column("traceparent", String(55))


def stamps() -> list[Column[Any]]:
    """created_at and updated_at, in that order."""
    return [stamp("created_at"), stamp("updated_at")]


# Schema-less copies used by the backbone's own queries: every connection's search_path is
# the service's schema (see db.Database.connect), so these resolve to that service's tables.
_DELIVERY = MetaData()
OUTBOX, INBOX, IDEMPOTENCY = delivery_tables(_DELIVERY)
TIMER_FAILURES = _DELIVERY.tables["timer_failures"]
PRINCIPALS = principals_table(MetaData())
