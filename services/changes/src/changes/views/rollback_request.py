"""Rollback requests as the API reads them (the caller's tenant and scope)."""

from changes.adapters.rollback_request import table
from changes.views.records import Reader

reader = Reader(table, "rollback request")
