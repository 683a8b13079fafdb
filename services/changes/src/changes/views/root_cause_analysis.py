"""Root cause analyses as the API reads them (the caller's tenant and scope)."""

from changes.adapters.root_cause_analysis import table
from changes.views.records import Reader

reader = Reader(table, "root cause analysis")
