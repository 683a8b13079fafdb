"""Work orders as the API reads them (the caller's tenant and scope)."""

from changes.adapters.work_order import table
from changes.views.records import Reader, model_of
from contracts.enums import WorkOrderStatus, WorkType

reader = Reader(table, "work order")
WorkOrder = model_of(table, "WorkOrder", status=WorkOrderStatus, work_type=WorkType)
