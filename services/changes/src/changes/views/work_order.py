"""Work orders as the API reads them (the caller's tenant and scope)."""

from changes.adapters.work_order import table
from changes.views.records import Reader

reader = Reader(table, "work order")
