"""Tables of the changes service, in its own schema. Its domain tables arrive with its issue;
until then it has the delivery tables every service has."""

from backbone.db import service_metadata
from backbone.tables import delivery_tables, principals_table

metadata = service_metadata("changes")
outbox, inbox, idempotency_keys = delivery_tables(metadata)
principals = principals_table(metadata)
