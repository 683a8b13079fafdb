"""Rollback requests as the API reads them (the caller's tenant and scope)."""

from changes.adapters.rollback_request import table
from changes.views.records import Reader, model_of
from contracts.enums import RollbackRequestStatus

reader = Reader(table, "rollback request")
RollbackRequest = model_of(table, "RollbackRequest", status=RollbackRequestStatus)
