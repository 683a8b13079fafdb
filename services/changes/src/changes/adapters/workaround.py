"""SQL for workarounds (the shared record SQL is in adapters.records)."""

from changes.adapters.orm import workarounds as table

__all__ = ["table"]
