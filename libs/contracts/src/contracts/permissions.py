"""The permission matrix, defined once for every service (docs/architecture.md "Security").

Permission names are those of 004 (``incidents.view`` …) plus one per procedure of the other
source documents. ``GRANTS`` maps each to the roles the sources name for it; where a source
names no roles for a permission (004 lists permissions without roles), the roles come from the
"Roles and Responsibilities" text of 002/003, and the comment says so.

Scope rules apply on top of the matrix: a client contact acts only on its own client's records,
a vendor contact only on records linked to its vendor (``CLIENT_SCOPED``, ``VENDOR_SCOPED``).
"""

from __future__ import annotations

from enum import StrEnum

from contracts.enums import Role

IM = Role.INCIDENT_MANAGER
TS = Role.TECHNICAL_SUPPORT
AM = Role.ACCOUNT_MANAGER
EX = Role.EXECUTIVE
VC = Role.VENDOR_CONTACT
SA = Role.SYSTEM_ADMINISTRATOR
CC = Role.CLIENT_CONTACT
ALL = frozenset(Role)


class Permission(StrEnum):
    # 004 "Permissions"
    INCIDENTS_VIEW = "incidents.view"
    INCIDENTS_CREATE = "incidents.create"
    INCIDENTS_UPDATE = "incidents.update"
    INCIDENTS_DELETE = "incidents.delete"
    INCIDENTS_ASSIGN = "incidents.assign"
    INCIDENTS_DELEGATE = "incidents.delegate"
    INCIDENTS_ESCALATE = "incidents.escalate"
    INCIDENTS_TASKS_MANAGE = "incidents.tasks.manage"
    INCIDENTS_COMMENTS_MANAGE = "incidents.comments.manage"
    INCIDENTS_PRIORITIES_MANAGE = "incidents.priorities.manage"
    INCIDENTS_STATUSES_MANAGE = "incidents.statuses.manage"
    INCIDENTS_CATEGORIES_MANAGE = "incidents.categories.manage"
    INCIDENTS_PUBLIC_SUBMIT = "incidents.public.submit"
    # 003 Client Management, User Management, Vendor Management
    CLIENTS_ONBOARD = "clients.onboard"
    CLIENTS_UPDATE = "clients.update"
    CLIENTS_VIEW = "clients.view"
    USERS_REGISTER = "users.register"
    USERS_UPDATE = "users.update"
    USERS_VIEW = "users.view"
    VENDORS_REGISTER = "vendors.register"
    VENDORS_VIEW = "vendors.view"
    # 003 roles: "manage permissions and subscriptions", "maintain infrastructure components"
    SUBSCRIPTIONS_MANAGE = "subscriptions.manage"
    COMPONENTS_MANAGE = "components.manage"
    COMPONENTS_VIEW = "components.view"
    INTEGRATIONS_MANAGE = "integrations.manage"
    API_KEYS_MANAGE = "api_keys.manage"
    # 000/001/002 procedures
    CHANGES_REQUEST = "changes.request"
    ROLLBACKS_REQUEST = "rollbacks.request"
    WORKAROUNDS_IMPLEMENT = "workarounds.implement"
    RCA_CONDUCT = "rca.conduct"
    COMMUNICATIONS_RECORD = "communications.record"
    PROBLEMS_MANAGE = "problems.manage"
    WORK_ORDERS_MANAGE = "work_orders.manage"
    METRICS_RECORD = "metrics.record"
    REPORTS_GENERATE = "reports.generate"
    KB_ARTICLES_CREATE = "kb_articles.create"
    POST_INCIDENT_REVIEWS_MANAGE = "post_incident_reviews.manage"
    # Platform surfaces no procedure names; roles from "Roles and Responsibilities".
    NOTIFICATIONS_MANAGE = "notifications.manage"
    SILENCES_MANAGE = "silences.manage"
    ESCALATION_POLICIES_MANAGE = "escalation_policies.manage"
    REMINDERS_MANAGE = "reminders.manage"
    AUDIT_VIEW = "audit.view"
    SLA_VIEW = "sla.view"
    SLA_MANAGE = "sla.manage"
    SLA_EXTEND = "sla.extend"


GRANTS: dict[Permission, frozenset[Role]] = {
    # Every role may read incidents; client and vendor contacts only their own (scope rules).
    Permission.INCIDENTS_VIEW: ALL,
    # 001 "Creating Incidents": IM, TS, SA, vendor_contact, executive; 003 Client Contact
    # "Report incidents affecting their organization" (own client only).
    Permission.INCIDENTS_CREATE: frozenset({IM, TS, SA, VC, EX, CC}),
    # 001 "Updating Incident Status": IM, TS, executive.
    Permission.INCIDENTS_UPDATE: frozenset({IM, TS, EX}),
    # 003 System Administrator "manage ... system settings"; deleting records is theirs alone.
    Permission.INCIDENTS_DELETE: frozenset({SA}),
    # 003 Incident Manager "oversee incidents ... coordinate escalations"; TS "handle incidents".
    Permission.INCIDENTS_ASSIGN: frozenset({IM, TS}),
    Permission.INCIDENTS_DELEGATE: frozenset({IM, TS}),
    # IM "coordinate escalations", Executive "approve ... escalations", TS handles investigations.
    Permission.INCIDENTS_ESCALATE: frozenset({IM, TS, EX}),
    Permission.INCIDENTS_TASKS_MANAGE: frozenset({IM, TS}),
    # IM/AM "coordinate ... communications"; vendor "report and update"; client "receive updates".
    Permission.INCIDENTS_COMMENTS_MANAGE: frozenset({IM, TS, AM, VC, CC}),
    # SA "configure system settings"; IM owns the lifecycle.
    Permission.INCIDENTS_PRIORITIES_MANAGE: frozenset({SA, IM}),
    Permission.INCIDENTS_STATUSES_MANAGE: frozenset({SA, IM}),
    Permission.INCIDENTS_CATEGORIES_MANAGE: frozenset({SA, IM}),
    # 004 "Public Intake": anyone, signed in or not.
    Permission.INCIDENTS_PUBLIC_SUBMIT: ALL,
    # 003 Client Management: SA; AM for update only when assigned to the client (scope rule).
    Permission.CLIENTS_ONBOARD: frozenset({SA, AM}),
    Permission.CLIENTS_UPDATE: frozenset({SA, AM}),
    # Vendor contacts work on records linked to their vendor; clients are not among them.
    Permission.CLIENTS_VIEW: ALL - {VC},
    # 003 User Management: SA, IM.
    Permission.USERS_REGISTER: frozenset({SA, IM}),
    Permission.USERS_UPDATE: frozenset({SA, IM}),
    Permission.USERS_VIEW: frozenset({SA, IM, TS, AM, EX}),
    # 003 Vendor Management: SA, IM, executive.
    Permission.VENDORS_REGISTER: frozenset({SA, IM, EX}),
    # Client contacts work on their client's records; vendors are not among them.
    Permission.VENDORS_VIEW: ALL - {CC},
    # 003 roles: SA "manage ... subscriptions", AM "maintain client records and subscriptions",
    # IM "approve SLAs and subscriptions", Executive "manage critical subscriptions".
    Permission.SUBSCRIPTIONS_MANAGE: frozenset({SA, AM, IM, EX}),
    # 003 roles: SA "maintain infrastructure components", TS "manage infrastructure components".
    Permission.COMPONENTS_MANAGE: frozenset({SA, TS}),
    Permission.COMPONENTS_VIEW: ALL,
    # 003 SA "configure system settings": monitoring integrations are system settings.
    Permission.INTEGRATIONS_MANAGE: frozenset({SA}),
    # Keys belong to users: those who may register users may issue keys for them.
    Permission.API_KEYS_MANAGE: frozenset({SA, IM}),
    # 000/001/002 "Creating Change Requests": TS, SA, executive, IM.
    Permission.CHANGES_REQUEST: frozenset({TS, SA, EX, IM}),
    # 000/001/002 "Managing Rollback Requests": TS, IM, executive.
    Permission.ROLLBACKS_REQUEST: frozenset({TS, IM, EX}),
    # 000/001/002 "Implementing Workarounds": TS, IM, SA.
    Permission.WORKAROUNDS_IMPLEMENT: frozenset({TS, IM, SA}),
    # 000/001/002 "Conducting Root Cause Analysis": TS, IM, SA.
    Permission.RCA_CONDUCT: frozenset({TS, IM, SA}),
    # 000/001 "Recording Communications": IM, TS.
    Permission.COMMUNICATIONS_RECORD: frozenset({IM, TS}),
    # 002 "Problem & Work Order Management": IM, TS, SA.
    Permission.PROBLEMS_MANAGE: frozenset({IM, TS, SA}),
    Permission.WORK_ORDERS_MANAGE: frozenset({IM, TS, SA}),
    # 002 "Recording Performance Metrics": IM, SA.
    Permission.METRICS_RECORD: frozenset({IM, SA}),
    # 002 "Generating Incident Reports": IM, executive.
    Permission.REPORTS_GENERATE: frozenset({IM, EX}),
    # 002 "Creating Knowledge Base Articles": TS, IM.
    Permission.KB_ARTICLES_CREATE: frozenset({TS, IM}),
    # 002 "Managing Post-Incident Reviews": IM, executive.
    Permission.POST_INCIDENT_REVIEWS_MANAGE: frozenset({IM, EX}),
    # IM/AM "coordinate ... communications"; SA "configure system settings".
    Permission.NOTIFICATIONS_MANAGE: frozenset({SA, IM, AM}),
    # Silencing alerts during maintenance is operating the platform: IM "oversee incidents",
    # TS "manage infrastructure components", SA "configure system settings".
    Permission.SILENCES_MANAGE: frozenset({IM, TS, SA}),
    # IM "coordinate escalations"; SA "configure system settings".
    Permission.ESCALATION_POLICIES_MANAGE: frozenset({IM, SA}),
    # 004 "Deadline extensions and reminders": those who work incidents schedule them.
    Permission.REMINDERS_MANAGE: frozenset({IM, TS}),
    # 002 "Logging & Audit": reviewers of the trail are those who oversee and approve.
    Permission.AUDIT_VIEW: frozenset({SA, IM, EX}),
    # Service levels: AM "define service levels", IM "approve SLAs"; everyone inside reads them.
    Permission.SLA_VIEW: frozenset({IM, TS, AM, EX, SA}),
    # Editing policies and calendars: IM "approve SLAs", executives "manage critical
    # subscriptions", SA "configure system settings".
    Permission.SLA_MANAGE: frozenset({IM, EX, SA}),
    # 004 "Deadline extensions": incident managers, who oversee incidents.
    Permission.SLA_EXTEND: frozenset({IM}),
}


def allows(role: Role | str, permission: Permission) -> bool:
    return Role(role) in GRANTS[permission]


# Roles whose every read and write is narrowed to their own client or vendor
# (docs/architecture.md "Security").
CLIENT_SCOPED = frozenset({CC})
VENDOR_SCOPED = frozenset({VC})


def matrix_markdown() -> str:
    """The matrix as the table in docs/permissions.md (`python -m contracts.permissions`)."""
    roles = list(Role)
    head = "| permission | " + " | ".join(r.value for r in roles) + " |"
    rule = "|---|" + "---|" * len(roles)
    rows = [
        f"| `{p.value}` | " + " | ".join("✓" if r in GRANTS[p] else "" for r in roles) + " |"
        for p in Permission
    ]
    return "\n".join([head, rule, *rows]) + "\n"


if __name__ == "__main__":
    print(matrix_markdown(), end="")
