"""The handler tier of changes: handlers against a real, migrated PostgreSQL, no broker."""

from datetime import UTC, datetime

from backbone.testing import handler_fixtures

db, clock, uow = handler_fixtures("changes", datetime(2030, 1, 1, 12, tzinfo=UTC))
