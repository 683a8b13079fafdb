"""Workarounds as the API reads them (the caller's tenant and scope)."""

from changes.adapters.workaround import table
from changes.views.records import Reader

reader = Reader(table, "workaround")
