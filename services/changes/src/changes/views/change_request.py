"""Change requests as the API reads them (the caller's tenant and scope)."""

from changes.adapters.change_request import table
from changes.views.records import Reader, model_of
from contracts.enums import ChangeRequestStatus, ChangeType, RiskLevel

reader = Reader(table, "change request")
ChangeRequest = model_of(
    table,
    "ChangeRequest",
    status=ChangeRequestStatus,
    change_type=ChangeType,
    risk_level=RiskLevel,
    conflicts=list[str],
)
