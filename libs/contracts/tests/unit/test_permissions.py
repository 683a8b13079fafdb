"""The permission matrix checked against the source documents, not against itself.

``SEEDS`` is written by hand from the role lines of the source documents ("Who can perform:"
in 000/001, "Authorized ... role(s):" in 002/003, the Public Intake of 004), with plain role
strings, so a slip in ``GRANTS`` or in the enumeration shows here. The e2e access test
(tests/e2e/test_access.py) proves the services enforce ``GRANTS``; this proves ``GRANTS`` says
what the documents say. Where it says something else on purpose, ``DEPARTURES`` names the cell
and why; a departure that no longer differs fails too, so the list stays true.
"""

from __future__ import annotations

import pytest

from contracts.enums import Role
from contracts.permissions import GRANTS, Permission

IM, TS, AM, EX = "incident_manager", "technical_support", "account_manager", "executive"
VC, SA, CC = "vendor_contact", "system_administrator", "client_contact"
EVERYONE = frozenset({IM, TS, AM, EX, VC, SA, CC})

# permission -> the roles the documents' role line names (quoted beside each).
SEEDS: dict[str, frozenset[str]] = {
    # 001 Creating Incidents: "Incident managers, technical support, and system administrators,
    # 3rd party vendors (vendor_contact), executive"
    "incidents.create": frozenset({IM, TS, SA, VC, EX}),
    # 001 Updating Incident Status: "Incident managers, technical support, executive"
    "incidents.update": frozenset({IM, TS, EX}),
    # 004 Public Intake: a public submission entry point, no sign-in.
    "incidents.public.submit": EVERYONE,
    # 003 Client Management: "System Administrator, Account Manager (assigned to the client for
    # update operation)": the account manager for the update only.
    "clients.onboard": frozenset({SA}),
    "clients.update": frozenset({SA, AM}),
    # 003 User Management: "System Administrator, Incident Manager"
    "users.register": frozenset({SA, IM}),
    "users.update": frozenset({SA, IM}),
    # 003 Vendor Management: "System administrators, incident managers, and executives."
    "vendors.register": frozenset({SA, IM, EX}),
    # 000/001 Creating Change Requests, 002 Change Management 1: "Technical support, system
    # administrators, executive, and incident manager"
    "changes.request": frozenset({TS, SA, EX, IM}),
    # 000/001 Managing Rollback Requests, 002 Change Management 2: "Technical support, incident
    # managers, and executive"
    "rollbacks.request": frozenset({TS, IM, EX}),
    # 000/001 Implementing Workarounds and Conducting Root Cause Analysis, 002 Workaround and
    # Resolution: "Technical support, incident managers, systems administrator"
    "workarounds.implement": frozenset({TS, IM, SA}),
    "rca.conduct": frozenset({TS, IM, SA}),
    # 000/001 Recording Communications: "Incident managers, technical support"
    "communications.record": frozenset({IM, TS}),
    # 002 Problem & Work Order Management: "Incident Manager, Technical Support, System
    # Administrator"
    "problems.manage": frozenset({IM, TS, SA}),
    "work_orders.manage": frozenset({IM, TS, SA}),
    # 002 Recording Performance Metrics: "Incident managers, system administrators"
    "metrics.record": frozenset({IM, SA}),
    # 002 Generating Incident Reports: "Incident managers, executives"
    "reports.generate": frozenset({IM, EX}),
    # 002 Creating Knowledge Base Articles: "Technical support, incident managers"
    "kb_articles.create": frozenset({TS, IM}),
    # 002 Managing Post-Incident Reviews: "Incident managers, executives"
    "post_incident_reviews.manage": frozenset({IM, EX}),
}

# Permissions no document gives a role line for (004 lists its permissions without roles; the
# platform's own surfaces are in no procedure): GRANTS derives them from the "Roles and
# Responsibilities" prose, a judgement this table cannot check.
NO_ROLE_LINE = frozenset(
    {
        "incidents.view",
        "incidents.delete",
        "incidents.assign",
        "incidents.delegate",
        "incidents.escalate",
        "incidents.tasks.manage",
        "incidents.comments.manage",
        "incidents.priorities.manage",
        "incidents.statuses.manage",
        "incidents.categories.manage",
        "clients.view",
        "users.view",
        "vendors.view",
        "subscriptions.manage",
        "components.manage",
        "components.view",
        "integrations.manage",
        "api_keys.manage",
        "notifications.manage",
        "silences.manage",
        "escalation_policies.manage",
        "reminders.manage",
        "audit.view",
        "sla.view",
        "sla.manage",
        "sla.extend",
    }
)

# (permission, role) -> why GRANTS differs from the role line. Each is a decision to review.
DEPARTURES: dict[tuple[str, str], str] = {
    ("incidents.create", CC): "granted: 002/003 Client Contact 'Report incidents affecting their "
    "organization' (own client only); 001's role line does not name client contacts",
    ("clients.onboard", AM): "granted: 003 names the account manager for the update operation "
    "only; GRANTS lets account managers onboard clients too",
}


def test_the_role_strings_are_the_roles() -> None:
    assert {r.value for r in Role} == EVERYONE


def test_every_permission_is_in_the_seed_table_or_has_no_role_line() -> None:
    assert not SEEDS.keys() & NO_ROLE_LINE
    assert {p.value for p in Permission} == SEEDS.keys() | NO_ROLE_LINE


@pytest.mark.parametrize("permission", sorted(SEEDS))
def test_grants_say_what_the_role_line_says(permission: str) -> None:
    granted = {r.value for r in GRANTS[Permission(permission)]}
    for role in sorted(EVERYONE):
        seed = role in SEEDS[permission]
        if (permission, role) in DEPARTURES:
            assert (role in granted) != seed, f"{permission}/{role} now agrees: drop the departure"
        else:
            assert (role in granted) == seed, (
                f"{permission}/{role}: the documents say {'yes' if seed else 'no'}, GRANTS the opposite"
            )


def test_departures_are_only_of_permissions_with_a_role_line() -> None:
    assert {p for p, _ in DEPARTURES} <= SEEDS.keys()
