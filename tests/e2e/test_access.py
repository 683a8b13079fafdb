"""Access control across the platform, over the real broker and database with every service
running:

- every role against every procedure that has an endpoint: allowed → 2xx, not allowed → 403,
  exactly as the permission matrix in contracts.permissions says (the matrix itself is
  checked against the source documents' role lines in libs/contracts/tests/unit/test_permissions.py);
- every role minting an API key for a user of every role: only for users whose role the
  caller could grant (a table written out by hand);
- a user deactivated in directory is refused by every service as soon as it has consumed the
  deactivation.
"""

from __future__ import annotations

import importlib
import itertools
import json
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from backbone.db import Database
from backbone.testing import Stack, eventually, new_tenant, serving, sign_in, unique
from contracts.enums import Role
from contracts.permissions import GRANTS, Permission
from contracts.topics import SERVICES

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def platform(stack: Stack) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    async with AsyncExitStack() as exits:
        clients = {}
        for name in SERVICES:
            settings = importlib.import_module(f"{name}.config").Settings
            # The channel procedure references HOOK_SECRET: one the operator lets tenants use.
            # Slack's actions endpoint is live (signed by Slack, see SIGNED_ROUTES).
            extra = (
                {"secret_ref_allow": "HOOK_SECRET", "slack_signing_secret": "slack-signing-secret"}
                if name == "notifications"
                else {}
            )
            app = importlib.import_module(f"{name}.main").create(stack.settings(settings, **extra))
            clients[name] = await exits.enter_async_context(serving(app))
        yield clients


@dataclass
class World:
    """One tenant with a client (managed by the account manager), a vendor, and a user of each
    role with a signed-in header; contacts are linked to that client and vendor."""

    admin: dict[str, str]
    client_id: str
    vendor_id: str
    component_id: str
    users: dict[Role, str]
    headers: dict[Role, dict[str, str]]
    target_id: str  # a user none of the callers is, for procedures on "another user"
    slug: str
    incident_id: str  # on the world's component: within every role's scope (starts at P4)
    delegation_incident_id: str  # the same, with exactly one assignee, for delegation
    doomed_incident_id: str  # the same, for the delete procedure
    spare_users: Iterator[str]  # active users known to triage, one per assignment
    closed_incident_id: str  # closed, and known so to changes: post-incident reviews need one
    running_change_id: str  # a change in progress at changes: rollbacks need one
    requested_changes: Iterator[str]  # low-risk changes a system administrator requested, one per decision
    # Changes records in the state each step needs, one per role in Role's order (_changes_records).
    records: dict[str, Iterator[str]]
    report_id: str  # an incident report of the world's incident, generated at audit


def _n() -> str:
    return unique("")


def client_body() -> dict[str, Any]:
    n = _n()
    return {
        "client_name": f"C {n}",
        "registration_number": f"R-{n}",
        "contact_email": f"c-{n}@example.com",
        "client_type": "mid_market",
    }


def vendor_body() -> dict[str, Any]:
    n = _n()
    return {
        "vendor_name": f"V {n}",
        "vendor_email": f"v-{n}@example.com",
        "vendor_phone": f"+1555{int(n, 16) % 10**7:07d}",
        "vendor_type": "software_vendor",
    }


async def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.is_success, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture(scope="module")
async def world(platform: dict[str, httpx.AsyncClient], operator_key: str) -> World:
    d = platform["directory"]
    tenant = await new_tenant(d, operator_key)
    admin = await sign_in(d, tenant.api_key)
    vendor = await _ok(await d.post("/v1/vendors", json=vendor_body(), headers=admin))
    manager = await _ok(
        await d.post(
            "/v1/users",
            json={"name": "AM", "email": f"am-{_n()}@example.com", "role": "account_manager"},
            headers=admin,
        )
    )
    client = await _ok(
        await d.post(
            "/v1/clients", json={**client_body(), "account_manager_id": manager["id"]}, headers=admin
        )
    )
    component = await _ok(
        await d.post(
            "/v1/components",
            json={"name": "api", "client_id": client["id"], "vendor_id": vendor["id"]},
            headers=admin,
        )
    )
    users: dict[Role, str] = {Role.ACCOUNT_MANAGER: manager["id"]}
    for role in Role:
        if role in users:
            continue
        links = {
            Role.CLIENT_CONTACT: {"client_id": client["id"]},
            Role.VENDOR_CONTACT: {"vendor_id": vendor["id"]},
        }.get(role, {})
        body = {"name": role.value, "email": f"{role.value}-{_n()}@example.com", "role": role.value, **links}
        users[role] = (await _ok(await d.post("/v1/users", json=body, headers=admin)))["id"]
    headers = {}
    for role, user_id in users.items():
        key = await _ok(await d.post(f"/v1/users/{user_id}/api-keys", headers=admin))
        headers[role] = await sign_in(d, key["api_key"])
    target = {"name": "target", "email": f"t-{_n()}@example.com", "role": "technical_support"}
    target_id = (await _ok(await d.post("/v1/users", json=target, headers=admin)))["id"]
    spare = [await _user(d, admin) for _ in range(2 * len(Role))]
    await _known_to_triage(platform, admin, spare)
    incident_id, delegation_id, doomed_id, closed_id = [
        await _incident(platform, admin, client["id"], component["id"]) for _ in range(4)
    ]
    await _ok(
        await platform["triage"].post(
            f"/v1/incidents/{delegation_id}/assign",
            json={"user_id": target_id},
            headers=headers[Role.INCIDENT_MANAGER],
        )
    )
    changes_world = await _changes_world(platform, headers, closed_id, target_id)
    records = await _changes_records(platform, headers, users, incident_id, closed_id, changes_world[1])
    await _closed_at_sla(platform, headers, closed_id)
    report_id = await _report_at_audit(platform, headers, incident_id)
    return World(
        admin,
        client["id"],
        vendor["id"],
        component["id"],
        users,
        headers,
        target_id,
        tenant.slug,
        incident_id,
        delegation_id,
        doomed_id,
        iter(spare),
        *changes_world,
        records,
        report_id,
    )


async def _report_at_audit(
    platform: dict[str, httpx.AsyncClient], headers: dict[Role, dict[str, str]], incident_id: str
) -> str:
    """Wait until audit has logged the incident and knows the roles that generate reports (its
    users replica): a report of it by each of them; the first one's id."""
    body = {"incident_id": incident_id, "report_type": "executive_summary"}
    ids = []
    for role in (Role.INCIDENT_MANAGER, Role.EXECUTIVE):

        async def generated(role: Role = role) -> str | None:
            response = await platform["audit"].post("/v1/reports", json=body, headers=headers[role])
            return str(response.json()["report_id"]) if response.status_code == 201 else None

        ids.append(await eventually(generated, what=f"audit to know the incident and the {role.value}"))
    return ids[0]


async def _closed_at_sla(
    platform: dict[str, httpx.AsyncClient], headers: dict[Role, dict[str, str]], closed_id: str
) -> None:
    """Wait until sla's incident replica has the incident closed: its metrics need that."""
    metric = {"incident_id": closed_id, "metric_type": "mttr"}

    async def closed() -> bool:
        response = await platform["sla"].post(
            "/v1/metrics", json=metric, headers=headers[Role.INCIDENT_MANAGER]
        )
        return response.status_code == 201

    await eventually(closed, what="sla to know the incident is closed")


async def _changes_world(
    platform: dict[str, httpx.AsyncClient],
    headers: dict[Role, dict[str, str]],
    closed_id: str,
    target_id: str,
) -> tuple[str, str, Iterator[str]]:
    """The records the changes procedures act on: a closed incident (once changes knows it is
    closed), a change in progress, and requested changes to decide on."""
    im, ts, changes = headers[Role.INCIDENT_MANAGER], headers[Role.TECHNICAL_SUPPORT], platform["changes"]
    for step in ("resolve", "close"):
        await _ok(await platform["triage"].post(f"/v1/incidents/{closed_id}/{step}", headers=im))
    review = {
        "incident_id": closed_id,
        "facilitator_id": target_id,
        "scheduled_date": "2030-01-01",
        "overall_rating": 3,
    }

    async def closed_at_changes() -> bool:
        return (await changes.post("/v1/post-incident-reviews", json=review, headers=im)).status_code == 201

    await eventually(closed_at_changes, what="changes to know the incident is closed")
    change = {"title": f"c-{_n()}", "change_type": "normal", "risk_level": "low"}
    running = await _ok(await changes.post("/v1/change-requests", json=change, headers=ts))
    await _ok(await changes.post(f"/v1/change-requests/{running['id']}/approve", headers=im))
    await _ok(await changes.post(f"/v1/change-requests/{running['id']}/start", headers=ts))
    admin = headers[Role.SYSTEM_ADMINISTRATOR]
    requested = [
        (await _ok(await changes.post("/v1/change-requests", json=change, headers=admin)))["id"] for _ in Role
    ]
    return closed_id, running["id"], iter(requested)


async def _changes_records(
    platform: dict[str, httpx.AsyncClient],
    headers: dict[Role, dict[str, str]],
    users: dict[Role, str],
    incident_id: str,
    closed_id: str,
    running_change_id: str,
) -> dict[str, Iterator[str]]:
    """For each step of the changes service, one record per role in the state the step needs
    (a step taken by one role cannot be taken again by the next), and one record of each kind
    linked to the world's incident (within every role's scope) for the single reads and PATCHes.
    Changes and rollbacks are a technical supporter's, so the deciders never decide their own."""
    im, ts, changes = headers[Role.INCIDENT_MANAGER], headers[Role.TECHNICAL_SUPPORT], platform["changes"]
    link = {"incident_id": incident_id}

    async def made(path: str, body: dict[str, Any], who: dict[str, str], *steps: str) -> str:
        record_id = str((await _ok(await changes.post(path, json=body, headers=who)))["id"])
        for step in steps:
            decider = im if step in ("approve", "reject") else who
            done = RCA_DONE if step == "complete" else None  # only analyses are completed here
            await _ok(await changes.post(f"{path}/{record_id}/{step}", json=done, headers=decider))
        return record_id

    def change() -> dict[str, Any]:
        return {"title": f"c-{_n()}", "change_type": "normal", "risk_level": "low", **link}

    # A completed rollback rolls its change back, after which nothing more rolls back: those
    # that will run get a running change each.
    own_change = iter(
        [
            await made("/v1/change-requests", change(), ts, "approve", "start")
            for _ in range(2 * len(Role) + 1)
        ]
    )

    def rollback(change_id: str = running_change_id) -> dict[str, Any]:
        return {"change_id": change_id, "justification": f"j-{_n()}", **link}

    review = {
        "incident_id": closed_id,
        "facilitator_id": users[Role.EXECUTIVE],
        "scheduled_date": "2030-01-01",
        "overall_rating": 2,
    }
    article = {"title": "a", "article_type": "faq", "category": "network", **link}
    workaround = {"description": "d", "effectiveness_level": "low", "implemented_at": "2030-01-01T00:00:00Z"}
    # kind: (path, body, author, steps, how many steps take a record of the kind).
    kinds: dict[str, tuple[str, Callable[[], dict[str, Any]], dict[str, str], tuple[str, ...], int]] = {
        "change_requested": ("/v1/change-requests", change, ts, (), 2),
        "change_approved": ("/v1/change-requests", change, ts, ("approve",), 2),
        "change_running": ("/v1/change-requests", change, ts, ("approve", "start"), 2),
        "rollback_requested": ("/v1/rollback-requests", rollback, ts, (), 2),
        "rollback_approved": ("/v1/rollback-requests", rollback, ts, ("approve",), 1),
        "rollback_running": (
            "/v1/rollback-requests",
            lambda: rollback(next(own_change)),
            ts,
            ("approve", "start"),
            2,
        ),
        "rca": ("/v1/root-cause-analyses", lambda: {"analysis_method": "fishbone", **link}, ts, (), 1),
        "rca_completed": (
            "/v1/root-cause-analyses",
            lambda: {"analysis_method": "fishbone", **link},
            ts,
            ("complete",),
            1,
        ),
        "problem": ("/v1/problems", lambda: {"title": f"p-{_n()}", **link}, ts, (), 1),
        "review": ("/v1/post-incident-reviews", lambda: review, im, (), 2),
        "article_draft": (
            "/v1/kb-articles",
            lambda: {**article, "reviewer_id": users[Role.INCIDENT_MANAGER]},
            ts,
            (),
            2,
        ),
        "work_order": ("/v1/work-orders", lambda: {"title": "w", "work_type": "repair", **link}, ts, (), 0),
        "workaround": ("/v1/workarounds", lambda: {**workaround, **link}, ts, (), 0),
    }
    pools: dict[str, Iterator[str]] = {}
    for kind, (path, body, author, steps, takers) in kinds.items():
        ids = [await made(path, body(), author, *steps) for _ in range(takers * len(Role) + 1)]
        # The last of each kind serves the single reads and PATCHes, again and again.
        pools[kind], pools[f"one_{kind.split('_')[0]}"] = iter(ids[:-1]), itertools.repeat(ids[-1])
    # Publishing is the reviewer's alone: each role's article names that role's user as its
    # reviewer (and is written by someone else: authors never review their own).
    pools["article_in_review"] = iter(
        [
            await made(
                "/v1/kb-articles",
                {**article, "reviewer_id": users[role]},
                im if role is Role.TECHNICAL_SUPPORT else ts,
                "submit",
            )
            for role in Role
        ]
    )
    return pools


async def _user(d: httpx.AsyncClient, admin: dict[str, str]) -> str:
    body = {"name": "spare", "email": f"s-{_n()}@example.com", "role": "technical_support"}
    return str((await _ok(await d.post("/v1/users", json=body, headers=admin)))["id"])


async def _known_to_triage(
    platform: dict[str, httpx.AsyncClient], admin: dict[str, str], users: list[str]
) -> None:
    """Wait until triage's users replica has them: a policy naming unknown users is refused."""
    policy = {
        "name": f"probe {_n()}",
        "min_severity": "P1",
        "levels": [{"user_ids": users, "delay_minutes": 5}],
    }

    async def accepted() -> str | None:
        response = await platform["triage"].post("/v1/escalation-policies", json=policy, headers=admin)
        return str(response.json()["id"]) if response.status_code == 201 else None

    policy_id = await eventually(accepted, what="triage to know the spare users")
    await platform["triage"].delete(f"/v1/escalation-policies/{policy_id}", headers=admin)


async def _incident(
    platform: dict[str, httpx.AsyncClient], admin: dict[str, str], client_id: str, component_id: str
) -> str:
    """An incident reported through intake, once intake knows the client and component, and
    readable at triage and in notifications' replica."""
    report = {"title": f"world {_n()}", "client_id": client_id, "component_id": component_id}

    async def reported() -> str | None:
        response = await platform["intake"].post("/v1/incidents", json=report, headers=admin)
        return str(response.json()["incident_id"]) if response.status_code == 202 else None

    incident_id = await eventually(reported, what="intake to know the client and component")
    for service, path in (
        ("triage", f"/v1/incidents/{incident_id}"),
        ("notifications", f"/v1/incidents/{incident_id}/reminders"),
        ("changes", f"/v1/incidents/{incident_id}/related-changes"),
        ("sla", f"/v1/incidents/{incident_id}/sla"),
    ):

        async def known(service: str = service, path: str = path) -> bool:
            return (await platform[service].get(path, headers=admin)).status_code == 200

        await eventually(known, what=f"{service} to know the incident")
    return incident_id


@dataclass(frozen=True)
class Procedure:
    permission: Permission
    service: str
    method: str
    path: Callable[[World], str]
    body: Callable[[World], dict[str, Any] | None] = lambda w: None
    # The roles allowed, where a rule of the procedure narrows the permission (approvals).
    allowed: frozenset[Role] | None = None


async def _fresh_user(platform: dict[str, httpx.AsyncClient], w: World) -> str:
    body = {"name": "target", "email": f"t-{_n()}@example.com", "role": "technical_support"}
    return str((await _ok(await platform["directory"].post("/v1/users", json=body, headers=w.admin)))["id"])


# Who decides on a change or a rollback, approves an analysis, and sets blackout windows
# (docs/changes.md "Roles").
DECIDERS = frozenset({Role.INCIDENT_MANAGER, Role.EXECUTIVE})
RCA_DONE = {"root_cause": "pool", "findings": "small"}

# The changes service's procedures (docs/changes.md): every create, the decision on a change
# (incident managers and executives only, never on their own request: the changes here are a
# system administrator's), and the reads every role has, scoped for contacts.
CHANGES_PROCEDURES = [
    Procedure(
        Permission.CHANGES_REQUEST,
        "changes",
        "POST",
        lambda w: "/v1/change-requests",
        lambda w: {"title": f"c-{_n()}", "change_type": "standard", "risk_level": "low"},
    ),
    Procedure(
        Permission.CHANGES_REQUEST,
        "changes",
        "POST",
        lambda w: f"/v1/change-requests/{next(w.requested_changes)}/approve",
        lambda w: {"comment": "ok"},
        allowed=frozenset({Role.INCIDENT_MANAGER, Role.EXECUTIVE}),
    ),
    Procedure(
        Permission.ROLLBACKS_REQUEST,
        "changes",
        "POST",
        lambda w: "/v1/rollback-requests",
        lambda w: {"change_id": w.running_change_id, "justification": f"j-{_n()}"},
    ),
    Procedure(
        Permission.WORKAROUNDS_IMPLEMENT,
        "changes",
        "POST",
        lambda w: "/v1/workarounds",
        lambda w: {
            "incident_id": w.incident_id,
            "description": f"d-{_n()}",
            "effectiveness_level": "medium",
            "implemented_at": "2030-01-01T00:00:00Z",
        },
    ),
    Procedure(
        Permission.RCA_CONDUCT,
        "changes",
        "POST",
        lambda w: "/v1/root-cause-analyses",
        lambda w: {"incident_id": w.incident_id, "analysis_method": "five_whys"},
    ),
    Procedure(
        Permission.PROBLEMS_MANAGE,
        "changes",
        "POST",
        lambda w: "/v1/problems",
        lambda w: {"incident_id": w.incident_id, "title": f"p-{_n()}"},
    ),
    Procedure(
        Permission.WORK_ORDERS_MANAGE,
        "changes",
        "POST",
        lambda w: "/v1/work-orders",
        lambda w: {"title": f"w-{_n()}", "work_type": "repair", "incident_id": w.incident_id},
    ),
    Procedure(
        Permission.KB_ARTICLES_CREATE,
        "changes",
        "POST",
        lambda w: "/v1/kb-articles",
        lambda w: {"title": f"k-{_n()}", "article_type": "how_to", "category": "network"},
    ),
    Procedure(
        Permission.POST_INCIDENT_REVIEWS_MANAGE,
        "changes",
        "POST",
        lambda w: "/v1/post-incident-reviews",
        lambda w: {
            "incident_id": w.closed_incident_id,
            "facilitator_id": w.target_id,
            "scheduled_date": "2030-01-01",
            "overall_rating": 4,
        },
    ),
    *(
        Procedure(Permission.INCIDENTS_VIEW, "changes", "GET", lambda w, p=path: p)
        for path in (
            "/v1/change-requests",
            "/v1/rollback-requests",
            "/v1/work-orders",
            "/v1/workarounds",
            "/v1/root-cause-analyses",
            "/v1/problems",
            "/v1/kb-articles",
            "/v1/post-incident-reviews",
            "/v1/blackout-windows",
        )
    ),
    Procedure(
        Permission.INCIDENTS_VIEW,
        "changes",
        "GET",
        lambda w: f"/v1/incidents/{w.incident_id}/related-changes",
    ),
    *(
        Procedure(
            Permission.INCIDENTS_VIEW, "changes", "GET", lambda w, p=path, k=kind: p + next(w.records[k])
        )
        for path, kind in (
            ("/v1/change-requests/", "one_change"),
            ("/v1/rollback-requests/", "one_rollback"),
            ("/v1/work-orders/", "one_work"),
            ("/v1/workarounds/", "one_workaround"),
            ("/v1/root-cause-analyses/", "one_rca"),
            ("/v1/problems/", "one_problem"),
            ("/v1/kb-articles/", "one_article"),
            ("/v1/post-incident-reviews/", "one_review"),
        )
    ),
    # Every step: (permission, path of the record, pool, step, body, the roles a rule narrows to).
    *(
        Procedure(
            permission,
            "changes",
            "POST",
            lambda w, p=path, k=kind, s=step: f"{p}/{next(w.records[k])}/{s}",
            lambda w, b=body: b,
            allowed=allowed,
        )
        for permission, path, kind, step, body, allowed in (
            (Permission.CHANGES_REQUEST, "/v1/change-requests", "change_requested", "reject", {}, DECIDERS),
            (Permission.CHANGES_REQUEST, "/v1/change-requests", "change_requested", "cancel", None, None),
            (Permission.CHANGES_REQUEST, "/v1/change-requests", "change_approved", "schedule", None, None),
            (Permission.CHANGES_REQUEST, "/v1/change-requests", "change_approved", "start", None, None),
            (Permission.CHANGES_REQUEST, "/v1/change-requests", "change_running", "complete", None, None),
            (Permission.CHANGES_REQUEST, "/v1/change-requests", "change_running", "fail", None, None),
            (
                Permission.ROLLBACKS_REQUEST,
                "/v1/rollback-requests",
                "rollback_requested",
                "approve",
                None,
                DECIDERS,
            ),
            (
                Permission.ROLLBACKS_REQUEST,
                "/v1/rollback-requests",
                "rollback_requested",
                "reject",
                None,
                DECIDERS,
            ),
            (Permission.ROLLBACKS_REQUEST, "/v1/rollback-requests", "rollback_approved", "start", None, None),
            (
                Permission.ROLLBACKS_REQUEST,
                "/v1/rollback-requests",
                "rollback_running",
                "complete",
                None,
                None,
            ),
            (Permission.ROLLBACKS_REQUEST, "/v1/rollback-requests", "rollback_running", "fail", None, None),
            (Permission.RCA_CONDUCT, "/v1/root-cause-analyses", "rca", "complete", RCA_DONE, None),
            (Permission.RCA_CONDUCT, "/v1/root-cause-analyses", "rca_completed", "approve", None, DECIDERS),
            (Permission.KB_ARTICLES_CREATE, "/v1/kb-articles", "article_draft", "submit", None, None),
            (Permission.KB_ARTICLES_CREATE, "/v1/kb-articles", "article_in_review", "publish", None, None),
            (Permission.KB_ARTICLES_CREATE, "/v1/kb-articles", "article_draft", "archive", None, None),
            (
                Permission.POST_INCIDENT_REVIEWS_MANAGE,
                "/v1/post-incident-reviews",
                "review",
                "complete",
                {},
                None,
            ),
            (
                Permission.POST_INCIDENT_REVIEWS_MANAGE,
                "/v1/post-incident-reviews",
                "review",
                "cancel",
                None,
                None,
            ),
        )
    ),
    Procedure(
        Permission.POST_INCIDENT_REVIEWS_MANAGE,
        "changes",
        "POST",
        lambda w: f"/v1/post-incident-reviews/{next(w.records['one_review'])}/action-items",
        lambda w: {"description": f"a-{_n()}", "owner_id": w.target_id},
    ),
    Procedure(
        Permission.PROBLEMS_MANAGE,
        "changes",
        "POST",
        lambda w: f"/v1/problems/{next(w.records['problem'])}/incidents",
        lambda w: {"incident_id": w.closed_incident_id},
    ),
    *(
        Procedure(
            permission,
            "changes",
            "PATCH",
            lambda w, p=path, k=kind: p + next(w.records[k]),
            lambda w, f=field: {f: f"x-{_n()}"},
        )
        for permission, path, kind, field in (
            (Permission.WORK_ORDERS_MANAGE, "/v1/work-orders/", "one_work", "title"),
            (Permission.WORKAROUNDS_IMPLEMENT, "/v1/workarounds/", "one_workaround", "description"),
            (Permission.PROBLEMS_MANAGE, "/v1/problems/", "one_problem", "title"),
        )
    ),
    # Blackout windows: a rule of the procedure (incident managers and executives).
    Procedure(
        Permission.CHANGES_REQUEST,
        "changes",
        "PUT",
        lambda w: "/v1/blackout-windows",
        lambda w: {"windows": [{"starts_at": "2031-12-24T00:00:00Z", "ends_at": "2031-12-26T00:00:00Z"}]},
        allowed=DECIDERS,
    ),
]

# One row per procedure with an endpoint. The path/body builders make each call unique, so a
# 2xx is never masked by a 409 from an earlier role's call.
PROCEDURES = [
    Procedure(
        Permission.CLIENTS_ONBOARD, "directory", "POST", lambda w: "/v1/clients", lambda w: client_body()
    ),
    Procedure(
        Permission.CLIENTS_UPDATE,
        "directory",
        "PATCH",
        lambda w: f"/v1/clients/{w.client_id}",
        lambda w: {"industry": f"i-{_n()}"},
    ),
    Procedure(Permission.CLIENTS_VIEW, "directory", "GET", lambda w: f"/v1/clients/{w.client_id}"),
    Procedure(
        Permission.SUBSCRIPTIONS_MANAGE,
        "directory",
        "POST",
        lambda w: f"/v1/clients/{w.client_id}/subscription",
        # Not contractual P1: that would make the world's incidents P1, leaving nothing to escalate.
        lambda w: {"tier": "premium", "contractual_p1": False},
    ),
    Procedure(
        Permission.USERS_REGISTER,
        "directory",
        "POST",
        lambda w: "/v1/users",
        lambda w: {"name": "n", "email": f"n-{_n()}@example.com", "role": "technical_support"},
    ),
    Procedure(
        Permission.USERS_UPDATE,
        "directory",
        "PATCH",
        lambda w: f"/v1/users/{w.target_id}",
        lambda w: {"department": f"d-{_n()}"},
    ),
    Procedure(Permission.USERS_VIEW, "directory", "GET", lambda w: "/v1/users"),
    Procedure(
        Permission.VENDORS_REGISTER, "directory", "POST", lambda w: "/v1/vendors", lambda w: vendor_body()
    ),
    Procedure(Permission.VENDORS_VIEW, "directory", "GET", lambda w: f"/v1/vendors/{w.vendor_id}"),
    Procedure(
        Permission.COMPONENTS_MANAGE,
        "directory",
        "POST",
        lambda w: "/v1/components",
        lambda w: {"name": f"c-{_n()}", "client_id": w.client_id},
    ),
    Procedure(Permission.COMPONENTS_VIEW, "directory", "GET", lambda w: f"/v1/components/{w.component_id}"),
    Procedure(
        Permission.INTEGRATIONS_MANAGE,
        "directory",
        "POST",
        lambda w: "/v1/integrations",
        lambda w: {"kind": "alertmanager", "name": f"i-{_n()}", "client_id": w.client_id},
    ),
    Procedure(
        Permission.API_KEYS_MANAGE,
        "directory",
        "POST",
        lambda w: f"/v1/users/{w.target_id}/api-keys",
    ),
    Procedure(Permission.INCIDENTS_VIEW, "triage", "GET", lambda w: "/v1/incidents"),
    Procedure(
        Permission.INCIDENTS_UPDATE,
        "triage",
        "PATCH",
        lambda w: f"/v1/incidents/{w.incident_id}",
        lambda w: {"title": f"t-{_n()}"},
    ),
    Procedure(
        Permission.INCIDENTS_ASSIGN,
        "triage",
        "POST",
        lambda w: f"/v1/incidents/{w.incident_id}/assign",
        lambda w: {"user_id": next(w.spare_users)},
    ),
    Procedure(
        Permission.INCIDENTS_DELEGATE,
        "triage",
        "POST",
        lambda w: f"/v1/incidents/{w.delegation_incident_id}/delegate",
        lambda w: {"user_id": next(w.spare_users)},
    ),
    Procedure(
        Permission.INCIDENTS_ESCALATE,
        "triage",
        "POST",
        lambda w: f"/v1/incidents/{w.incident_id}/escalate",
        lambda w: {"reason": f"r-{_n()}"},
    ),
    Procedure(
        Permission.INCIDENTS_TASKS_MANAGE,
        "triage",
        "POST",
        lambda w: f"/v1/incidents/{w.incident_id}/tasks",
        lambda w: {"title": f"t-{_n()}"},
    ),
    Procedure(
        Permission.INCIDENTS_COMMENTS_MANAGE,
        "triage",
        "POST",
        lambda w: f"/v1/incidents/{w.incident_id}/comments",
        lambda w: {"body": f"b-{_n()}"},
    ),
    Procedure(
        Permission.INCIDENTS_STATUSES_MANAGE,
        "triage",
        "POST",
        lambda w: "/v1/statuses",
        lambda w: {"slug": f"s_{_n()}", "name": "S", "sort_order": 35},
    ),
    Procedure(
        Permission.INCIDENTS_CATEGORIES_MANAGE,
        "triage",
        "POST",
        lambda w: "/v1/categories",
        lambda w: {"slug": f"c_{_n()}", "name": "C"},
    ),
    Procedure(
        Permission.INCIDENTS_PRIORITIES_MANAGE,
        "triage",
        "POST",
        lambda w: "/v1/priorities",
        lambda w: {"slug": f"p_{_n()}", "name": "P", "level": 5},
    ),
    Procedure(
        Permission.INCIDENTS_DELETE, "triage", "DELETE", lambda w: f"/v1/incidents/{w.doomed_incident_id}"
    ),
    Procedure(
        Permission.INCIDENTS_CREATE,
        "intake",
        "POST",
        lambda w: "/v1/incidents",
        lambda w: {"title": f"t-{_n()}", "client_id": w.client_id, "component_id": w.component_id},
    ),
    Procedure(
        Permission.INCIDENTS_PUBLIC_SUBMIT,
        "intake",
        "POST",
        lambda w: f"/v1/public/{w.slug}/incidents",
        lambda w: {"title": f"t-{_n()}", "name": "N", "email": "n@example.com"},
    ),
    Procedure(
        Permission.SILENCES_MANAGE,
        "intake",
        "POST",
        lambda w: "/v1/silences",
        lambda w: {
            "matchers": [{"name": "alertname", "value": f"a-{_n()}"}],
            "starts_at": "2030-01-01T00:00:00Z",
            "ends_at": "2030-01-01T02:00:00Z",
            "comment": "maintenance",
        },
    ),
    Procedure(
        Permission.ESCALATION_POLICIES_MANAGE,
        "triage",
        "POST",
        lambda w: "/v1/escalation-policies",
        lambda w: {"name": f"P {_n()}", "levels": [{"roles": ["incident_manager"], "delay_minutes": 5}]},
    ),
    Procedure(
        Permission.NOTIFICATIONS_MANAGE,
        "notifications",
        "POST",
        lambda w: "/v1/channels",
        lambda w: {
            "kind": "webhook",
            "name": f"hook-{_n()}",
            "config": {"url": "https://hooks.example/x", "secret": {"secret_ref": "env:HOOK_SECRET"}},
        },
    ),
    Procedure(
        Permission.COMMUNICATIONS_RECORD,
        "notifications",
        "POST",
        lambda w: "/v1/communications",
        lambda w: {
            "incident_id": w.incident_id,
            "recipient_type": "internal",
            "communication_type": "status_update",
            "delivery_method": "email",
            "message": f"m-{_n()}",
        },
    ),
    Procedure(
        Permission.REMINDERS_MANAGE,
        "notifications",
        "POST",
        lambda w: f"/v1/incidents/{w.incident_id}/reminders",
        lambda w: {"reminder_type": f"r-{_n()}", "scheduled_for": "2099-01-01T00:00:00Z", "channel": "email"},
    ),
    Procedure(Permission.AUDIT_VIEW, "audit", "GET", lambda w: "/v1/audit"),
    Procedure(
        Permission.REPORTS_GENERATE,
        "audit",
        "POST",
        lambda w: "/v1/reports",
        lambda w: {"incident_id": w.incident_id, "report_type": "executive_summary"},
    ),
    Procedure(Permission.REPORTS_GENERATE, "audit", "GET", lambda w: f"/v1/reports/{w.report_id}"),
    *CHANGES_PROCEDURES,
    Procedure(Permission.SLA_VIEW, "sla", "GET", lambda w: "/v1/policies"),
    Procedure(
        Permission.SLA_MANAGE,
        "sla",
        "PUT",
        lambda w: "/v1/calendars/default",
        lambda w: {"time_zone": "Europe/Berlin", "hours": {"mon": [["09:00", "17:00"]]}},
    ),
    Procedure(Permission.SLA_VIEW, "sla", "GET", lambda w: "/v1/sla/clocks"),
    Procedure(Permission.SLA_VIEW, "sla", "GET", lambda w: "/v1/sla/settings"),
    Procedure(Permission.SLA_VIEW, "sla", "GET", lambda w: "/v1/metrics"),
    # One incident's SLA is part of the incident: incidents.view, contacts within their scope.
    Procedure(Permission.INCIDENTS_VIEW, "sla", "GET", lambda w: f"/v1/incidents/{w.incident_id}/sla"),
    Procedure(
        Permission.SLA_EXTEND,
        "sla",
        "POST",
        lambda w: f"/v1/incidents/{w.incident_id}/sla/extensions",
        lambda w: {"clock": "resolution", "minutes": 1, "reason": f"walk {_n()}"},
    ),
    Procedure(
        Permission.METRICS_RECORD,
        "sla",
        "POST",
        lambda w: "/v1/metrics",
        lambda w: {"incident_id": w.closed_incident_id, "metric_type": "mttr"},
    ),
    Procedure(
        Permission.SLA_MANAGE,
        "sla",
        "PUT",
        lambda w: "/v1/sla/settings",
        lambda w: {"pause_enabled": True, "pause_statuses": ["waiting_on_client"]},
    ),
]

# Procedures of the sources whose endpoints are not built yet: none now. A new permission
# must join the table above or be listed here: the test below fails if it is in neither.
PENDING: set[Permission] = set()


def test_every_permission_is_walked_or_pending() -> None:
    walked = {p.permission for p in PROCEDURES}
    assert walked.isdisjoint(PENDING)
    assert walked | PENDING == set(Permission), set(Permission) - walked - PENDING


@pytest.mark.parametrize("procedure", PROCEDURES, ids=lambda p: p.permission.value)
async def test_every_role_against_the_procedure(
    platform: dict[str, httpx.AsyncClient], world: World, procedure: Procedure
) -> None:
    outcomes: dict[str, int] = {}
    expected: dict[str, str] = {}
    for role in Role:
        response = await platform[procedure.service].request(
            procedure.method,
            procedure.path(world),
            json=procedure.body(world),
            headers=world.headers[role],
        )
        outcomes[role.value] = response.status_code
        allowed = procedure.allowed or GRANTS[procedure.permission]
        expected[role.value] = "2xx" if role in allowed else "403"
    got = {r: ("2xx" if 200 <= s < 300 else str(s)) for r, s in outcomes.items()}
    assert got == expected, f"{procedure.permission.value}: {outcomes}"


# Routes a caller outside the platform reaches with no token of ours, authenticated by that
# caller's own signature instead: Slack's interactivity endpoint (v0 HMAC of the body with the
# Slack app's signing secret; tests/e2e/test_slack_actions.py walks it signed). No role's token
# stands in for the signature: every one is 401, like no credential at all.
SIGNED_ROUTES = [("notifications", "POST", "/v1/slack/actions")]


@pytest.mark.parametrize(("service", "method", "path"), SIGNED_ROUTES)
async def test_signed_routes_take_a_signature_not_a_token(
    platform: dict[str, httpx.AsyncClient], world: World, service: str, method: str, path: str
) -> None:
    content, form = "payload=%7B%7D", {"Content-Type": "application/x-www-form-urlencoded"}
    client = platform[service]
    outcomes = {
        "no credential": (await client.request(method, path, content=content, headers=form)).status_code
    }
    for role in Role:
        answer = await client.request(method, path, content=content, headers=form | world.headers[role])
        outcomes[role.value] = answer.status_code
    assert set(outcomes.values()) == {401}, outcomes


# Routes a monitoring tool reaches with its integration's routing key in the body (PagerDuty's
# Events v2 and Change Events, on our path and on PagerDuty's own): no role's token stands in for
# a routing key, so a token with an unknown key is PagerDuty's 400 "invalid event", as with none.
ROUTING_KEY_ROUTES = [
    (
        "/v1/alerts/events",
        {"event_action": "trigger", "payload": {"summary": "s", "source": "h", "severity": "info"}},
    ),
    (
        "/v2/enqueue",
        {"event_action": "trigger", "payload": {"summary": "s", "source": "h", "severity": "info"}},
    ),
    ("/v2/change/enqueue", {"payload": {"summary": "deployed", "source": "ci"}}),
]


@pytest.mark.parametrize(("path", "event"), ROUTING_KEY_ROUTES)
async def test_routing_key_routes_take_a_routing_key_not_a_token(
    platform: dict[str, httpx.AsyncClient], world: World, path: str, event: dict[str, object]
) -> None:
    body = event | {"routing_key": "R" * 32}
    client = platform["intake"]
    outcomes = {"no credential": (await client.post(path, json=body)).status_code}
    for role in Role:
        outcomes[role.value] = (await client.post(path, json=body, headers=world.headers[role])).status_code
    assert set(outcomes.values()) == {400}, outcomes


# Who may mint an API key for whom, written out from the rule "a caller mints keys only for
# users whose role they could grant" (system administrators grant every role, incident managers
# every role but system_administrator, no other role registers users), independently of the
# code. Rows: the caller's role; columns: the target's role, in this order. Everyone may mint
# for themselves (the last test below).
MINT_TARGETS = (
    Role.INCIDENT_MANAGER,
    Role.TECHNICAL_SUPPORT,
    Role.ACCOUNT_MANAGER,
    Role.EXECUTIVE,
    Role.VENDOR_CONTACT,
    Role.SYSTEM_ADMINISTRATOR,
    Role.CLIENT_CONTACT,
)
MINTING = {
    #                          IM     TS     AM     EX     VC     SA     CC
    Role.INCIDENT_MANAGER: ("201", "201", "201", "201", "201", "403", "201"),
    Role.TECHNICAL_SUPPORT: ("403", "403", "403", "403", "403", "403", "403"),
    Role.ACCOUNT_MANAGER: ("403", "403", "403", "403", "403", "403", "403"),
    Role.EXECUTIVE: ("403", "403", "403", "403", "403", "403", "403"),
    Role.VENDOR_CONTACT: ("403", "403", "403", "403", "403", "403", "403"),
    Role.SYSTEM_ADMINISTRATOR: ("201", "201", "201", "201", "201", "201", "201"),
    Role.CLIENT_CONTACT: ("403", "403", "403", "403", "403", "403", "403"),
}


@pytest.fixture(scope="module")
async def mint_targets(platform: dict[str, httpx.AsyncClient], world: World) -> dict[Role, str]:
    """One user of each role that none of the callers is."""
    d = platform["directory"]
    links = {
        Role.CLIENT_CONTACT: {"client_id": world.client_id},
        Role.VENDOR_CONTACT: {"vendor_id": world.vendor_id},
    }
    targets = {}
    for role in MINT_TARGETS:
        body = {
            "name": role.value,
            "email": f"mt-{_n()}@example.com",
            "role": role.value,
            **links.get(role, {}),
        }
        targets[role] = str((await _ok(await d.post("/v1/users", json=body, headers=world.admin)))["id"])
    return targets


@pytest.mark.parametrize("caller", list(MINTING), ids=lambda r: r.value)
async def test_key_minting_across_roles(
    platform: dict[str, httpx.AsyncClient], world: World, mint_targets: dict[Role, str], caller: Role
) -> None:
    d = platform["directory"]
    got = []
    for target in MINT_TARGETS:
        response = await d.post(f"/v1/users/{mint_targets[target]}/api-keys", headers=world.headers[caller])
        got.append(str(response.status_code))
        if response.status_code == 201:
            # The key signs in as the target's role: never above what the caller could grant.
            signed = await sign_in(d, response.json()["api_key"])
            assert (await _ok(await d.get("/v1/me", headers=signed)))["role"] == target.value
    assert tuple(got) == MINTING[caller], dict(zip((t.value for t in MINT_TARGETS), got, strict=True))


async def test_every_role_mints_its_own_keys(platform: dict[str, httpx.AsyncClient], world: World) -> None:
    d = platform["directory"]
    for role, user_id in world.users.items():
        response = await d.post(f"/v1/users/{user_id}/api-keys", headers=world.headers[role])
        assert response.status_code == 201, (role, response.text)


async def test_deactivated_user_is_refused_by_every_service_once_it_learns_of_it(
    platform: dict[str, httpx.AsyncClient], world: World, stack: Stack
) -> None:
    d = platform["directory"]
    user_id = await _fresh_user(platform, world)
    key = await _ok(await d.post(f"/v1/users/{user_id}/api-keys", headers=world.admin))
    headers = await sign_in(d, key["api_key"])
    for name, client in platform.items():
        assert (await client.get("/v1/me", headers=headers)).status_code == 200, name

    await _ok(await d.patch(f"/v1/users/{user_id}", json={"status": "inactive"}, headers=world.admin))
    # Directory refuses at once: the deactivation is its own write.
    assert (await d.get("/v1/me", headers=headers)).status_code == 401
    db = Database.connect(stack.database_url, "directory", pool_size=1)
    try:
        async with db.sessions() as s:
            values = await s.scalars(
                text(
                    "SELECT value FROM directory.outbox WHERE event_type = 'user.updated.v1' "
                    "AND convert_from(value, 'UTF8')::jsonb -> 'data' ->> 'user_id' = :u"
                ),
                {"u": user_id},
            )
            (deactivation,) = [json.loads(v)["id"] for v in values]
        # Every other service: refused by the first request after its consumer applied the
        # deactivation (the event is in its inbox), so no cache keeps the user alive.
        for name, client in platform.items():
            if name == "directory":
                continue

            async def consumed(schema: str = name) -> bool:
                async with db.sessions() as s:
                    found = await s.scalar(
                        text(f"SELECT 1 FROM {schema}.inbox WHERE event_id = CAST(:id AS uuid)"),
                        {"id": deactivation},
                    )
                    return found is not None

            await eventually(consumed, what=f"{name} to consume the deactivation")
            assert (await client.get("/v1/me", headers=headers)).status_code == 401, name
    finally:
        await db.dispose()
