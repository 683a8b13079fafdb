"""The handler tier: triage's handlers against a migrated database of their own, no broker."""

from datetime import UTC, datetime

from backbone.testing import handler_fixtures

db, clock, uow = handler_fixtures("triage", datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
