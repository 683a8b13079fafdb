"""Every enumeration of the domain, defined once.

Sources are the source documents (cited by their number: 000 … 004) and
``docs/architecture.md`` (cited by section).  Values are lowercase snake_case exactly as the documents
spell them (spaces and hyphens normalised to underscores); ``Severity`` keeps the documents'
``P1``..``P4``.  Where a document calls something an enumeration but lists no values, the
docstring says "values not listed in the source; chosen: …" and the set is a conventional one.

Documents 000 and 001 repeat the same change / workaround / RCA / communication procedures;
both are cited once as "000/001".  Pure Python: no I/O, standard library only.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "AnalysisMethod",
    "AssignmentKind",
    "AuditAction",
    "ChangeRequestStatus",
    "ChangeType",
    "ChannelKind",
    "ClientStatus",
    "ClientType",
    "CommunicationType",
    "Degradation",
    "DeliveryMethod",
    "DeliveryStatus",
    "EffectivenessLevel",
    "EscalationTrigger",
    "IncidentReportStatus",
    "IncidentSource",
    "IncidentStatus",
    "IncidentTaskStatus",
    "IntegrationKind",
    "KbArticleStatus",
    "KbArticleType",
    "KbCategory",
    "MetricType",
    "PostIncidentReviewStatus",
    "Priority",
    "ProblemTicketStatus",
    "RcaStatus",
    "RecipientType",
    "ReminderChannel",
    "ReportType",
    "RiskLevel",
    "Role",
    "RollbackRequestStatus",
    "Scope",
    "Severity",
    "SeverityFlag",
    "SlaCalendar",
    "SlaClockKind",
    "SlaClockStatus",
    "SubscriptionTier",
    "UserStatus",
    "VendorStatus",
    "VendorType",
    "WorkOrderStatus",
    "WorkType",
    "Workaround",
    "WorkaroundStatus",
]


# --------------------------------------------------------------------------- people and parties


class Role(StrEnum):
    """002 Authority and Access Controls / Role (also 000, 001, 003; docs/architecture.md "Security")."""

    INCIDENT_MANAGER = "incident_manager"
    TECHNICAL_SUPPORT = "technical_support"
    ACCOUNT_MANAGER = "account_manager"
    EXECUTIVE = "executive"
    VENDOR_CONTACT = "vendor_contact"
    SYSTEM_ADMINISTRATOR = "system_administrator"
    CLIENT_CONTACT = "client_contact"


class UserStatus(StrEnum):
    """003 Register User Account / status (default active); others chosen: inactive, suspended."""

    ACTIVE = "active"
    INACTIVE = "inactive"
    SUSPENDED = "suspended"


class ClientType(StrEnum):
    """003 Client Management / Client Onboarding (enterprise, mid-market, small business, startup)."""

    ENTERPRISE = "enterprise"
    MID_MARKET = "mid_market"
    SMALL_BUSINESS = "small_business"
    STARTUP = "startup"


class ClientStatus(StrEnum):
    """003 Client Onboarding / status (default active); others chosen: inactive, suspended."""

    ACTIVE = "active"
    INACTIVE = "inactive"
    SUSPENDED = "suspended"


class VendorType(StrEnum):
    """003 Vendor Management / vendor_type; values not listed in the source; chosen: common provider kinds."""

    CLOUD_PROVIDER = "cloud_provider"
    SOFTWARE_VENDOR = "software_vendor"
    HARDWARE_VENDOR = "hardware_vendor"
    NETWORK_PROVIDER = "network_provider"
    MANAGED_SERVICE_PROVIDER = "managed_service_provider"


class VendorStatus(StrEnum):
    """003 Register Vendor Information / status (default active); others chosen: inactive, suspended."""

    ACTIVE = "active"
    INACTIVE = "inactive"
    SUSPENDED = "suspended"


class SubscriptionTier(StrEnum):
    """001 Incident Operations / subscription tier values and metrics (Premium, Standard, Basic)."""

    PREMIUM = "premium"
    STANDARD = "standard"
    BASIC = "basic"


class IntegrationKind(StrEnum):
    """docs/architecture.md "The outside contract" POST /v1/integrations: the alert formats intake accepts."""

    ALERTMANAGER = "alertmanager"
    EVENTS_V2 = "events_v2"
    GENERIC = "generic"


class ChannelKind(StrEnum):
    """docs/architecture.md "The outside contract" POST /v1/channels: email, Slack, webhooks."""

    EMAIL = "email"
    SLACK = "slack"
    WEBHOOK = "webhook"


class AuditAction(StrEnum):
    """002 Common Standards / Logging & Audit (create/update/approve/reject/delete/execute)."""

    CREATE = "create"
    UPDATE = "update"
    APPROVE = "approve"
    REJECT = "reject"
    DELETE = "delete"
    EXECUTE = "execute"


# ------------------------------------------------ severity (docs/architecture.md "Severity policy")


class Severity(StrEnum):
    """001 Severity Classification Process (P1..P4); ``rank`` 1 = P1 = most severe."""

    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"

    @property
    def rank(self) -> int:
        """1 for P1 (most severe) … 4 for P4; a lower rank is more severe."""
        return int(self.value[1:])

    def is_at_least(self, other: Severity) -> bool:
        """True when ``self`` is as severe as ``other`` or more (P1.is_at_least(P2) is True)."""
        return self.rank <= other.rank

    @property
    def priority(self) -> Priority:
        """The 001 tier-table label: P1 Critical, P2 High, P3 Medium, P4 Low."""
        return _SEVERITY_PRIORITY[self]


class SeverityFlag(StrEnum):
    """docs/architecture.md "Severity policy" flag names for the 001 conditions."""

    P1_COMPLETE_OUTAGE = "p1_complete_outage"
    P1_WIDE_IMPACT = "p1_wide_impact"
    P1_REGULATORY_SAFETY_FINANCIAL = "p1_regulatory_safety_financial"
    P1_PRIORITY_CUSTOMER_OR_RECURRENT = "p1_priority_customer_or_recurrent"
    P2_MAJOR_DEGRADATION = "p2_major_degradation"
    P2_MULTI_DEPARTMENT = "p2_multi_department"
    P2_SLA_RISK = "p2_sla_risk"
    P3_LOCALIZED = "p3_localized"
    P3_MODERATE_DEGRADATION = "p3_moderate_degradation"

    @property
    def severity(self) -> Severity:
        """The severity this flag implies when true (its ``pN_`` prefix)."""
        return Severity(self.value[:2].upper())


class Degradation(StrEnum):
    """docs/architecture.md "Severity policy" impact facts / degradation (001 P1-P3 evaluation wording)."""

    COMPLETE_OUTAGE = "complete_outage"
    MAJOR = "major"
    MODERATE = "moderate"
    MINOR = "minor"
    NONE = "none"


class Workaround(StrEnum):
    """docs/architecture.md "Severity policy" impact facts / workaround (001 P1-P3 wording)."""

    NONE = "none"
    MINIMAL = "minimal"
    AVAILABLE = "available"


class Scope(StrEnum):
    """docs/architecture.md "Severity policy" impact facts / scope (001 P1-P3 evaluation wording)."""

    ENTERPRISE = "enterprise"
    MULTIPLE_DEPARTMENTS = "multiple_departments"
    MULTIPLE_SITES = "multiple_sites"
    CRITICAL_FUNCTION = "critical_function"
    SINGLE_DEPARTMENT = "single_department"
    LOCALIZED = "localized"
    NON_CRITICAL_FUNCTION = "non_critical_function"


# --------------------------------------------------------------------------- incidents


# 001 sets the initial status "open" and checks updates against "allowed enum values" without
# listing them; 004 lists the catalog open, triaged, in-progress, resolved, closed.  The platform
# uses "acknowledged" for 004's "triaged" (the acknowledge action; the response clock stops at the
# first acknowledgement: docs/architecture.md "SLA policy"). 004's catalog is per tenant: this seeds it.
class IncidentStatus(StrEnum):
    """001 Creating Incidents (open) + 004 IncidentStatus catalog; 004 "triaged" → acknowledged."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"


# 004 has `reported_via (internal|public)` and `source (email|web|api)`; the platform's sources are
# the intake paths of docs/architecture.md instead: the three integration kinds, a signed-in
# user's manual report (004 "internal") and the public form (004 "public").  There is no email intake.
class IncidentSource(StrEnum):
    """docs/architecture.md "The outside contract" intake paths (004's source/reported_via superseded)."""

    ALERTMANAGER = "alertmanager"
    EVENTS_V2 = "events_v2"
    GENERIC = "generic"
    MANUAL = "manual"
    PUBLIC = "public"


class Priority(StrEnum):
    """004 IncidentPriority; values not listed in the source; chosen: 001 labels (P1 Critical .. P4 Low)."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class AssignmentKind(StrEnum):
    """004 Goals / Assignment, delegation, CC, and multi-assignee support (no field named; chosen)."""

    ASSIGNEE = "assignee"
    DELEGATE = "delegate"
    CC = "cc"


class EscalationTrigger(StrEnum):
    """004 Goals / Escalation workflows (manual + automatic)."""

    MANUAL = "manual"
    AUTOMATIC = "automatic"


class IncidentTaskStatus(StrEnum):
    """004 incident_tasks.status; values not listed in the source; chosen: open..cancelled."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class ReminderChannel(StrEnum):
    """004 incident_reminders.channel (email|sms|slack)."""

    EMAIL = "email"
    SMS = "sms"
    SLACK = "slack"


# ------------------------------------------------------------- SLA (docs/architecture.md "SLA policy")


class SlaCalendar(StrEnum):
    """docs/architecture.md "SLA policy" calendar (001 Support coverage: 24/7/365 or business hours)."""

    TWENTY_FOUR_SEVEN = "24x7"
    BUSINESS_HOURS = "business_hours"


class SlaClockKind(StrEnum):
    """docs/architecture.md "SLA policy" clocks (001 Response times / Resolution times)."""

    RESPONSE = "response"
    RESOLUTION = "resolution"


class SlaClockStatus(StrEnum):
    """docs/architecture.md "SLA policy" clock lifecycle; not in the source; chosen: running..breached."""

    RUNNING = "running"
    AT_RISK = "at_risk"
    PAUSED = "paused"
    MET = "met"
    BREACHED = "breached"


# --------------------------------------------------------------------------- changes and problems


class ChangeType(StrEnum):
    """000/001/002 Creating Change Requests / change type; values not listed in the source; chosen: ITIL."""

    STANDARD = "standard"
    NORMAL = "normal"
    EMERGENCY = "emergency"


class RiskLevel(StrEnum):
    """000/001/002 Creating Change Requests / risk level; values not listed in the source; chosen."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class ChangeRequestStatus(StrEnum):
    """000/001/002 Creating Change Requests / status (initial requested); others chosen (ITIL flow)."""

    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"
    ROLLED_BACK = "rolled_back"
    CANCELLED = "cancelled"


class RollbackRequestStatus(StrEnum):
    """000/001/002 Managing Rollback Requests / status (requested; approved, completed implied; + chosen)."""

    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"


class ProblemTicketStatus(StrEnum):
    """002 Problem Tickets / status (default open); others not listed in the source; chosen: ITIL."""

    OPEN = "open"
    INVESTIGATING = "investigating"
    KNOWN_ERROR = "known_error"
    RESOLVED = "resolved"
    CLOSED = "closed"


class WorkOrderStatus(StrEnum):
    """002 Work Orders / status (default created); others not listed in the source; chosen."""

    CREATED = "created"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class WorkType(StrEnum):
    """002 Work Orders / work_type (not called an enum); values not listed in the source; chosen."""

    INVESTIGATION = "investigation"
    REPAIR = "repair"
    REPLACEMENT = "replacement"
    CONFIGURATION = "configuration"
    MAINTENANCE = "maintenance"
    INSTALLATION = "installation"


class EffectivenessLevel(StrEnum):
    """000/001/002 Implementing Workarounds; values not listed in the source; chosen: high, medium, low."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class WorkaroundStatus(StrEnum):
    """000/001/002 Implementing Workarounds (status active); others chosen: inactive, superseded."""

    ACTIVE = "active"
    INACTIVE = "inactive"
    SUPERSEDED = "superseded"


class AnalysisMethod(StrEnum):
    """000/001/002 Conducting Root Cause Analysis; values not listed in the source; chosen: common RCA."""

    FIVE_WHYS = "five_whys"
    FISHBONE = "fishbone"
    FAULT_TREE = "fault_tree"
    TIMELINE_ANALYSIS = "timeline_analysis"
    CHANGE_ANALYSIS = "change_analysis"


class RcaStatus(StrEnum):
    """000/001 "in progress", 002 RCA status (default in_progress); others chosen: completed, approved."""

    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    APPROVED = "approved"


# --------------------------------------------------------------------------- communications


class CommunicationType(StrEnum):
    """000/001 Recording Communications / type; values not listed in the source; chosen."""

    STATUS_UPDATE = "status_update"
    ESCALATION_NOTICE = "escalation_notice"
    RESOLUTION_NOTICE = "resolution_notice"
    EXECUTIVE_BRIEFING = "executive_briefing"


class RecipientType(StrEnum):
    """000/001 Recording Communications / recipient type; values not listed in the source; chosen."""

    CLIENT = "client"
    VENDOR = "vendor"
    INTERNAL = "internal"
    EXECUTIVE = "executive"


class DeliveryMethod(StrEnum):
    """000/001 Recording Communications / delivery method; values not listed; chosen (channel kinds+)."""

    EMAIL = "email"
    SMS = "sms"
    PHONE = "phone"
    SLACK = "slack"
    WEBHOOK = "webhook"
    PORTAL = "portal"


class DeliveryStatus(StrEnum):
    """000/001 Recording Communications / delivery status; values not listed in the source; chosen."""

    PENDING = "pending"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"


# --------------------------------------------------------------------------- metrics and reporting


class MetricType(StrEnum):
    """002 Recording Performance Metrics / metric_type; values not listed in the source; chosen."""

    MTTD = "mttd"
    MTTA = "mtta"
    MTTR = "mttr"
    DOWNTIME = "downtime"


class ReportType(StrEnum):
    """002 Generating Incident Reports / report_type; values not listed in the source; chosen."""

    EXECUTIVE_SUMMARY = "executive_summary"
    TECHNICAL_DETAILS = "technical_details"
    BUSINESS_IMPACT = "business_impact"
    COMPLIANCE = "compliance"
    POST_INCIDENT = "post_incident"


class IncidentReportStatus(StrEnum):
    """002 Generating Incident Reports / status (default completed); others chosen: draft, archived."""

    DRAFT = "draft"
    COMPLETED = "completed"
    ARCHIVED = "archived"


class KbCategory(StrEnum):
    """002 Creating Knowledge Base Articles / category; values not listed in the source; chosen."""

    APPLICATION = "application"
    DATABASE = "database"
    INFRASTRUCTURE = "infrastructure"
    NETWORK = "network"
    SECURITY = "security"
    PROCESS = "process"


class KbArticleType(StrEnum):
    """002 Creating Knowledge Base Articles / article_type (not called an enum); values not listed; chosen."""

    TROUBLESHOOTING = "troubleshooting"
    KNOWN_ISSUE = "known_issue"
    HOW_TO = "how_to"
    RUNBOOK = "runbook"
    FAQ = "faq"


class KbArticleStatus(StrEnum):
    """002 Creating Knowledge Base Articles / status (default draft); others chosen: in_review..archived."""

    DRAFT = "draft"
    IN_REVIEW = "in_review"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class PostIncidentReviewStatus(StrEnum):
    """002 Managing Post-Incident Reviews / status (default scheduled); others chosen."""

    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


_SEVERITY_PRIORITY: dict[Severity, Priority] = {
    Severity.P1: Priority.CRITICAL,
    Severity.P2: Priority.HIGH,
    Severity.P3: Priority.MEDIUM,
    Severity.P4: Priority.LOW,
}
