"""Events of the audit service (topic ``audit.events``), keyed by the report id.

A generated incident report is announced, so the audit log records who generated which report
about which incident (002 "Generating Incident Reports": log an audit entry for the report).
"""

from datetime import datetime
from typing import ClassVar
from uuid import UUID

from contracts.enums import IncidentReportStatus, ReportType
from contracts.envelope import EventData, event
from contracts.topics import Topic


@event
class ReportGenerated(EventData):
    """An incident report was generated from the incident's audit records."""

    event_type: ClassVar[str] = "report.generated.v1"
    topic: ClassVar[Topic] = Topic.AUDIT_EVENTS
    subject_field: ClassVar[str] = "report_id"

    report_id: UUID
    incident_id: UUID
    report_type: ReportType
    status: IncidentReportStatus
    generated_by_id: UUID
    generated_at: datetime
    # How many audit records the report was built from.
    records: int
