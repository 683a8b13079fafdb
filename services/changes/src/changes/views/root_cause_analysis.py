"""Root cause analyses as the API reads them (the caller's tenant and scope)."""

from changes.adapters.root_cause_analysis import table
from changes.views.records import Reader, model_of
from contracts.enums import AnalysisMethod, RcaStatus

reader = Reader(table, "root cause analysis")
RootCauseAnalysis = model_of(table, "RootCauseAnalysis", status=RcaStatus, analysis_method=AnalysisMethod)
