"""SQL for work orders (the shared record SQL is in adapters.records)."""

from changes.adapters.orm import work_orders as table

__all__ = ["table"]
