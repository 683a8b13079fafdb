"""SQL for root cause analyses (the shared record SQL is in adapters.records)."""

from changes.adapters.orm import root_cause_analyses as table

__all__ = ["table"]
