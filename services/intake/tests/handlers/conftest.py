"""The handler tier: intake's handlers against a migrated database of their own, no broker."""

from datetime import UTC, datetime

from backbone.testing import handler_fixtures

db, clock, uow = handler_fixtures("intake", datetime(2025, 3, 3, 9, 0, tzinfo=UTC))
