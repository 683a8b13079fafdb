"""SQL for rollback requests (the shared record SQL is in adapters.records)."""

from changes.adapters.orm import rollback_requests as table

__all__ = ["table"]
