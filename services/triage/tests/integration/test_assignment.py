"""Assignment, delegation, CC watchers and manual escalation through the HTTP API over the real
stack: several assignees, delegation keeps ``delegated_from``, the full history, the update
records and events, and who may do what (004 incident_assignments, incident_escalations)."""

from __future__ import annotations

from uuid import uuid4

import pytest
from sqlalchemy import select

from backbone.testing import assert_problem, eventually
from contracts.enums import Role, Scope, UserStatus
from contracts.events import UserUpdated
from contracts.events.intake import ImpactFacts
from triage.adapters.orm import principals
from triage.testing import Tenant

pytestmark = pytest.mark.integration


async def test_assign_cc_delegate_and_history(tenant: Tenant) -> None:
    t = tenant
    incident = await t.report()
    path = f"/v1/incidents/{incident}"
    manager = uuid4()
    as_manager = t.auth(user_id=manager)
    alice, bob, carol, watcher = [await t.user() for _ in range(4)]

    first = await t.post(f"{path}/assign", {"user_id": str(alice), "note": "on call"}, as_manager)
    assert first.status_code == 201, first.text
    assert (first.json()["kind"], first.json()["assigned_by"]) == ("assignee", str(manager))
    assert (await t.post(f"{path}/assign", {"user_id": str(bob)}, as_manager)).status_code == 201
    cc = await t.post(f"{path}/assign", {"user_id": str(watcher), "kind": "cc"}, as_manager)
    assert cc.status_code == 201 and cc.json()["kind"] == "cc"
    body = await t.get(incident)
    assert set(body["assignees"]) == {str(alice), str(bob)} and body["cc"] == [str(watcher)]

    # Alice hands her part to Carol; Bob keeps his.
    delegated = await t.post(
        f"{path}/delegate",
        {"user_id": str(carol), "from_user_id": str(alice), "note": "shift change"},
        as_manager,
    )
    assert delegated.status_code == 201, delegated.text
    assert (delegated.json()["kind"], delegated.json()["delegated_from"]) == ("delegate", str(alice))
    assert set((await t.get(incident))["assignees"]) == {str(bob), str(carol)}
    # Carol delegates her own part without naming herself.
    as_carol = t.auth(Role.TECHNICAL_SUPPORT, user_id=carol)
    onward = await t.post(f"{path}/delegate", {"user_id": str(alice)}, as_carol)
    assert onward.status_code == 201 and onward.json()["delegated_from"] == str(carol)
    ended = await t.client.post(f"{path}/unassign", json={"user_id": str(bob)}, headers=as_manager)
    assert ended.status_code == 200, ended.text
    assert [(a["user_id"], a["is_active"]) for a in ended.json()] == [(str(bob), False)]

    history = (await t.client.get(f"{path}/assignments", headers=t.auth(Role.EXECUTIVE))).json()
    assert [(h["user_id"], h["kind"], h["is_active"], h["delegated_from"]) for h in history] == [
        (str(alice), "assignee", False, None),
        (str(bob), "assignee", False, None),
        (str(watcher), "cc", True, None),
        (str(carol), "delegate", False, str(alice)),
        (str(alice), "delegate", True, str(carol)),
    ]
    assert all(h["unassigned_at"] for h in history if not h["is_active"])
    assert (await t.get(incident))["assignees"] == [str(alice)]

    records = [(u["field"], u["from_value"], u["to_value"]) for u in await t.updates(incident)]
    assert records[0] == ("assignees", [], [str(alice)])
    assert records[2] == ("cc", [], [str(watcher)])
    assert [r[0] for r in records] == ["assignees", "assignees", "cc", "assignees", "assignees", "assignees"]
    assert records[-1] == ("assignees", sorted([str(bob), str(alice)]), [str(alice)])
    types = [
        e["type"]
        for e in await t.events(
            incident, "incident.assigned.v1", "incident.delegated.v1", "incident.unassigned.v1"
        )
    ]
    assert types == ["incident.assigned.v1"] * 3 + ["incident.delegated.v1"] * 2 + ["incident.unassigned.v1"]
    delegations = await t.events(incident, "incident.delegated.v1")
    assert [(d["user_id"], d["delegated_from"]) for d in delegations] == [
        (str(carol), str(alice)),
        (str(alice), str(carol)),
    ]

    # Filter the list by assignee.
    other = await t.report()
    listed = await t.client.get("/v1/incidents", headers=t.auth(), params={"assignee_id": str(alice)})
    assert [i["id"] for i in listed.json()] == [str(incident)]
    assert other


async def test_assignment_is_refused_when_it_should_be(tenant: Tenant) -> None:
    t = tenant
    client_id = uuid4()
    incident = await t.report(client_id=client_id)
    path = f"/v1/incidents/{incident}"
    user = await t.user()
    # Who may assign: incident managers and technical support (not executives, not contacts).
    for role in (Role.EXECUTIVE, Role.CLIENT_CONTACT, Role.VENDOR_CONTACT, Role.ACCOUNT_MANAGER):
        headers = t.auth(role, client_id=client_id)
        assert_problem(await t.post(f"{path}/assign", {"user_id": str(user)}, headers), 403)
        assert_problem(await t.post(f"{path}/delegate", {"user_id": str(user)}, headers), 403)
    # Unknown users, users of another tenant, inactive users.
    assert_problem(await t.post(f"{path}/assign", {"user_id": str(uuid4())}), 422)
    other_tenant = Tenant(t.t, uuid4())
    foreigner = await other_tenant.user()
    assert_problem(await t.post(f"{path}/assign", {"user_id": str(foreigner)}), 422)
    gone = await t.user()
    await t.t.publish(
        UserUpdated(user_id=gone, tenant_id=t.id, role=Role.TECHNICAL_SUPPORT, status=UserStatus.INACTIVE),
        t.id,
    )

    async def deactivated() -> bool:
        async with t.t.db.sessions() as session:
            status = await session.scalar(select(principals.c.status).where(principals.c.user_id == gone))
            return status == "inactive"

    await eventually(deactivated, what="triage to learn the user is inactive")
    assert "inactive" in assert_problem(await t.post(f"{path}/assign", {"user_id": str(gone)}), 422)["detail"]
    assert (await t.post(f"{path}/assign", {"user_id": str(user)})).status_code == 201
    assert_problem(await t.post(f"{path}/assign", {"user_id": str(user)}), 409)
    assert_problem(await t.post(f"{path}/assign", {"user_id": str(user), "kind": "delegate"}), 422)
    # Delegating to someone already on it, or from someone who is not.
    assert_problem(await t.post(f"{path}/delegate", {"user_id": str(user)}), 409)
    second = await t.user()
    assert_problem(
        await t.post(f"{path}/delegate", {"user_id": str(second), "from_user_id": str(uuid4())}), 409
    )
    assert_problem(
        await t.client.post(f"{path}/unassign", json={"user_id": str(second)}, headers=t.auth()), 404
    )
    # Another tenant: absent.
    assert_problem(await t.post(f"{path}/assign", {"user_id": str(user)}, other_tenant.auth()), 404)
    assert len(await t.events(incident, "incident.assigned.v1")) == 1


async def test_manual_escalation(tenant: Tenant) -> None:
    t = tenant
    incident = await t.report(impact=ImpactFacts(scope=Scope.LOCALIZED))
    path = f"/v1/incidents/{incident}"
    assert ((await t.get(incident))["priority"], (await t.get(incident))["severity"]) == ("medium", "P3")
    for role in (Role.CLIENT_CONTACT, Role.ACCOUNT_MANAGER, Role.SYSTEM_ADMINISTRATOR):
        assert_problem(await t.post(f"{path}/escalate", {"reason": "x"}, t.auth(role)), 403)
    assert_problem(await t.post(f"{path}/escalate", {}), 422)  # a reason is required

    support = uuid4()
    # No target: the priority goes one level up.
    one_up = await t.post(
        f"{path}/escalate", {"reason": "customer waiting"}, t.auth(Role.TECHNICAL_SUPPORT, user_id=support)
    )
    assert one_up.status_code == 201, one_up.text
    assert (one_up.json()["from_priority"], one_up.json()["to_priority"]) == ("medium", "high")
    assert (await t.get(incident))["priority"] == "high"
    # Raise the severity: kept as an override; the computed one stays.
    severe = await t.post(
        f"{path}/escalate",
        {"reason": "spreading", "severity": "P1", "priority": "critical"},
        t.auth(Role.EXECUTIVE),
    )
    assert severe.status_code == 201, severe.text
    body = await t.get(incident)
    assert (body["severity"], body["computed_severity"], body["severity_override"]) == ("P1", "P3", "P1")
    assert body["priority"] == "critical" and body["severity_override_reason"] == "spreading"
    # Lowering is not escalating; nothing is above critical.
    assert_problem(await t.post(f"{path}/escalate", {"reason": "x", "priority": "low"}), 422)
    assert_problem(await t.post(f"{path}/escalate", {"reason": "x", "severity": "P2"}), 422)
    assert_problem(await t.post(f"{path}/escalate", {"reason": "x"}), 409)
    assert_problem(await t.post(f"{path}/escalate", {"reason": "x", "priority": "bogus"}), 422)

    history = (await t.client.get(f"{path}/escalations/history", headers=t.auth())).json()
    assert [(h["trigger"], h["cause"], h["reason"], h["to_priority"], h["to_severity"]) for h in history] == [
        ("manual", "manual", "customer waiting", "high", "P3"),
        ("manual", "manual", "spreading", "critical", "P1"),
    ]
    assert history[0]["escalated_by"] == str(support)
    events = await t.events(incident, "incident.escalated.v1")
    assert [(e["trigger"], e["cause"], e["from_priority"], e["to_priority"]) for e in events] == [
        ("manual", "manual", "medium", "high"),
        ("manual", "manual", "high", "critical"),
    ]
    assert (events[1]["from_severity"], events[1]["to_severity"]) == ("P3", "P1")
    (triaged,) = await t.events(incident, "incident.triaged.v1")
    assert triaged["override"] and triaged["severity"] == "P1"
    fields = [u["field"] for u in await t.updates(incident)]
    assert fields.count("priority") == 2 and "severity" in fields and "severity_override" in fields
    # A resolved incident is not escalated.
    assert (await t.post(f"{path}/resolve")).status_code == 200
    assert_problem(await t.post(f"{path}/escalate", {"reason": "late", "severity": "P1"}), 409)
