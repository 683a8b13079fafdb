"""The incident lifecycle through the HTTP API over the real stack: allowed and refused moves,
one update record per changed field, the events of each move, who may change an incident,
severity re-evaluation, the manager's override, contractual P1 and recurrence, and the alert
source's acknowledgements and resolutions (docs/architecture.md "Severity policy", 001 "Updating
Incident Status")."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest

from backbone.testing import assert_problem, eventually
from contracts.enums import Degradation, Role, Scope, SubscriptionTier
from contracts.events import AlertAcknowledged, AlertsResolved, SubscriptionChanged
from contracts.events.intake import ImpactFacts
from triage.testing import Tenant

pytestmark = pytest.mark.integration


def status_records(updates: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(u["from_value"], u["to_value"]) for u in updates if u["field"] == "status"]


async def test_lifecycle_moves_record_updates_and_announce_each_move(tenant: Tenant) -> None:
    t = tenant
    incident = await t.report(impact=ImpactFacts(scope=Scope.LOCALIZED))
    opened = await t.get(incident)
    assert (opened["status"], opened["severity"], opened["priority"]) == ("open", "P3", "medium")
    assert opened["reference_code"].startswith("INC-")
    support = uuid4()
    as_support = t.auth(Role.TECHNICAL_SUPPORT, user_id=support)
    path = f"/v1/incidents/{incident}"

    acknowledged = await t.post(f"{path}/acknowledge", {"note": "looking"}, as_support)
    assert acknowledged.status_code == 200, acknowledged.text
    body = acknowledged.json()
    assert body["status"] == "acknowledged" and body["acknowledged_by"] == str(support)
    assert body["acknowledged_at"] is not None

    moved = await t.patch(path, {"status": "in_progress"}, as_support)
    assert moved.status_code == 200 and moved.json()["status"] == "in_progress"
    resolved = await t.post(f"{path}/resolve", {"resolution": "restarted the pool"}, as_support)
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["resolution"] == "restarted the pool" and resolved.json()["resolved_at"]
    closed = await t.post(f"{path}/close", None, t.auth(Role.EXECUTIVE))
    assert closed.status_code == 200 and closed.json()["closed_at"]
    reopened = await t.post(f"{path}/reopen", {"reason": "it came back"})
    assert reopened.status_code == 200, reopened.text
    again = reopened.json()
    assert again["status"] == "open"
    assert again["resolved_at"] is None and again["closed_at"] is None
    assert again["acknowledged_at"] == body["acknowledged_at"]  # the first response stays

    updates = await t.updates(incident)
    assert status_records(updates) == [
        ("open", "acknowledged"),
        ("acknowledged", "in_progress"),
        ("in_progress", "resolved"),
        ("resolved", "closed"),
        ("closed", "open"),
    ]
    first = updates[0]
    assert first["changed_by"] == str(support) and first["changed_by_role"] == "technical_support"
    assert first["via"] == "user" and first["note"] == "looking"
    assert [u["note"] for u in updates if u["field"] == "status"][-1] == "it came back"
    resolution = [u for u in updates if u["field"] == "resolution"]
    assert [(u["from_value"], u["to_value"]) for u in resolution] == [(None, "restarted the pool")]

    events = [e["type"] for e in await t.events(incident)]
    assert events == [
        "incident.created.v1",
        "incident.status_changed.v1",
        "incident.acknowledged.v1",
        "incident.status_changed.v1",
        "incident.status_changed.v1",
        "incident.resolved.v1",
        "incident.status_changed.v1",
        "incident.closed.v1",
        "incident.status_changed.v1",
        "incident.reopened.v1",
    ]
    (reopen_event,) = await t.events(incident, "incident.reopened.v1")
    assert reopen_event["reason"] == "it came back" and reopen_event["status"] == "open"


async def test_refused_moves_change_nothing(tenant: Tenant) -> None:
    t = tenant
    incident = await t.report()
    path = f"/v1/incidents/{incident}"
    assert_problem(await t.post(f"{path}/reopen", {"reason": "x"}), 409)
    unknown = await t.patch(path, {"status": "exploded"})
    assert "one of" in assert_problem(unknown, 422)["detail"]
    assert (await t.post(f"{path}/resolve")).status_code == 200
    # Back to an earlier status is not a move of the default catalog (reopen is).
    refused = assert_problem(await t.post(f"{path}/acknowledge"), 409)
    assert set(refused["allowed"]) == {"closed", "open"}
    assert_problem(await t.patch(path, {"status": "in_progress"}), 409)
    assert_problem(await t.post(f"{path}/resolve"), 409)
    # Bad bodies: unknown fields, a null title, an empty reason.
    assert_problem(await t.patch(path, {"titel": "typo"}), 422)
    assert_problem(await t.patch(path, {"title": None}), 422)
    assert_problem(await t.post(f"{path}/reopen", {"reason": ""}), 422)
    assert status_records(await t.updates(incident)) == [("open", "resolved")]
    types = [e["type"] for e in await t.events(incident)]
    assert types.count("incident.status_changed.v1") == 1
    # A person resolving straight from open also acknowledged it (the first response).
    assert "incident.acknowledged.v1" in types


async def test_who_may_change_an_incident(tenant: Tenant) -> None:
    t = tenant
    client_id = uuid4()
    incident = await t.report(client_id=client_id)
    path = f"/v1/incidents/{incident}"
    # 001 "Updating Incident Status": incident managers, technical support, executives.
    for role in (Role.CLIENT_CONTACT, Role.VENDOR_CONTACT, Role.ACCOUNT_MANAGER, Role.SYSTEM_ADMINISTRATOR):
        headers = t.auth(role, client_id=client_id)
        assert_problem(await t.patch(path, {"title": "mine"}, headers), 403)
        assert_problem(await t.post(f"{path}/acknowledge", None, headers), 403)
    assert (
        await t.client.get(path, headers=t.auth(Role.CLIENT_CONTACT, client_id=client_id))
    ).status_code == 200
    # Another tenant's manager: absent.
    stranger = t.t.stack.auth(tenant_id=uuid4(), role="incident_manager")
    assert_problem(await t.patch(path, {"title": "theirs"}, stranger), 404)
    assert_problem(await t.client.get(f"{path}/updates", headers=stranger), 404)
    assert (await t.patch(path, {"title": "exec edit"}, t.auth(Role.EXECUTIVE))).status_code == 200
    assert [u["field"] for u in await t.updates(incident)] == ["title"]


async def test_patch_records_each_field_and_reclassifies_on_new_facts(tenant: Tenant) -> None:
    t = tenant
    incident = await t.report(impact=ImpactFacts(scope=Scope.LOCALIZED))
    path = f"/v1/incidents/{incident}"
    response = await t.patch(
        path,
        {
            "title": "payments failing",
            "category": "database",
            "impact": {"regulatory_safety_financial": True},
            "metadata": {"ticket": "X-1"},
            "note": "customer called",
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["title"] == "payments failing" and body["category"] == "database"
    # The facts merge: scope stays, the new fact is added; P1 wins, priority follows.
    assert body["impact"]["scope"] == "localized" and body["impact"]["regulatory_safety_financial"]
    assert (body["severity"], body["computed_severity"], body["priority"]) == ("P1", "P1", "critical")
    assert body["severity_flags"]["p1_regulatory_safety_financial"] and body["severity_flags"]["p3_localized"]
    fields = {u["field"]: u for u in await t.updates(incident)}
    assert set(fields) == {
        "title",
        "category",
        "impact",
        "metadata",
        "severity",
        "computed_severity",
        "severity_flags",
        "priority",
    }
    assert (fields["severity"]["from_value"], fields["severity"]["to_value"]) == ("P3", "P1")
    assert all(u["note"] == "customer called" for u in fields.values())
    (triaged,) = await t.events(incident, "incident.triaged.v1")
    assert (triaged["previous_severity"], triaged["severity"], triaged["override"]) == ("P3", "P1", False)
    (updated,) = await t.events(incident, "incident.updated.v1")
    assert updated["changes"]["title"] == {"from": "database down", "to": "payments failing"}
    # Sending the same values again changes nothing and writes nothing.
    same = await t.patch(path, {"title": "payments failing", "impact": {"regulatory_safety_financial": True}})
    assert same.status_code == 200
    assert len(await t.updates(incident)) == 8
    assert_problem(await t.patch(path, {"category": "not-a-category"}), 422)
    assert_problem(await t.patch(path, {"priority": "urgent!"}), 422)
    assert_problem(await t.patch(path, {"impact": {"degradation": "total"}}), 422)


async def test_incident_manager_overrides_severity_and_both_stay_visible(tenant: Tenant) -> None:
    t = tenant
    incident = await t.report(impact=ImpactFacts(scope=Scope.ENTERPRISE))
    path = f"/v1/incidents/{incident}/severity-override"
    for role in (Role.TECHNICAL_SUPPORT, Role.EXECUTIVE):
        assert_problem(
            await t.client.put(path, json={"severity": "P3", "reason": "no"}, headers=t.auth(role)), 403
        )
    assert_problem(await t.client.put(path, json={"severity": "P3"}, headers=t.auth()), 422)
    manager = uuid4()
    response = await t.client.put(
        path, json={"severity": "P3", "reason": "one test tenant only"}, headers=t.auth(user_id=manager)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["severity"], body["computed_severity"], body["severity_override"]) == ("P3", "P1", "P3")
    assert body["severity_override_reason"] == "one test tenant only"
    assert body["severity_overridden_by"] == str(manager)
    assert body["severity_flags"]["p1_wide_impact"] is True  # the flags stay as computed
    # New facts change the computed severity, not the override.
    facts = await t.patch(f"/v1/incidents/{incident}", {"impact": {"scope": "single_department"}})
    assert (facts.json()["severity"], facts.json()["computed_severity"]) == ("P3", "P3")
    cleared = await t.client.delete(path, headers=t.auth())
    assert cleared.status_code == 200
    assert (cleared.json()["severity"], cleared.json()["severity_override"]) == ("P3", None)
    triaged = await t.events(incident, "incident.triaged.v1")
    assert [(e["override"], e["severity"], e["computed_severity"]) for e in triaged] == [
        (True, "P3", "P1"),
        (True, "P3", "P3"),
        (False, "P3", "P3"),
    ]
    assert triaged[0]["override_reason"] == "one test tenant only"


async def test_alert_source_acknowledges_and_resolves(tenant: Tenant) -> None:
    t = tenant
    incident = await t.report(dedup_key="fp-ack-1")
    ack = AlertAcknowledged(incident_id=incident, dedup_key="fp-ack-1", acknowledged_at=datetime.now(UTC))
    await t.t.publish(ack, t.id)

    async def status(expected: str) -> bool:
        return (await t.get(incident))["status"] == expected

    await eventually(lambda: status("acknowledged"), what="the alert acknowledgement")
    # A second acknowledgement (or a redelivery) changes nothing.
    await t.t.publish(ack, t.id)
    resolved = AlertsResolved(incident_id=incident, dedup_key="fp-ack-1", resolved_at=datetime.now(UTC))
    await t.t.publish(resolved, t.id)
    await eventually(lambda: status("resolved"), what="the alerts' resolution")
    await t.t.publish(resolved, t.id)
    assert (await t.post(f"/v1/incidents/{incident}/close")).status_code == 200
    # Late source events for a closed incident are ignored.
    await t.t.publish(ack, t.id)
    await t.t.publish(resolved, t.id)
    marker = await t.report()  # same tenant, later: once it is open, the events above are handled
    assert marker
    await eventually(lambda: t.events(incident, "incident.closed.v1"), what="closed event")
    updates = await t.updates(incident)
    assert [(u["from_value"], u["to_value"], u["via"]) for u in updates if u["field"] == "status"] == [
        ("open", "acknowledged", "alert"),
        ("acknowledged", "resolved", "alert"),
        ("resolved", "closed", "user"),
    ]
    (acknowledged,) = await t.events(incident, "incident.acknowledged.v1")
    assert acknowledged["via"] == "alert" and acknowledged["acknowledged_by"] is None
    (resolution,) = await t.events(incident, "incident.resolved.v1")
    assert resolution["via"] == "alert" and resolution["dedup_key"] == "fp-ack-1"
    (closing,) = await t.events(incident, "incident.closed.v1")
    assert closing["dedup_key"] == "fp-ack-1"


async def test_contractual_p1_and_recurrence_make_p1(tenant: Tenant) -> None:
    t = tenant
    client_id = uuid4()
    before = await t.report(client_id=client_id, impact=ImpactFacts(scope=Scope.LOCALIZED))
    assert (await t.get(before))["severity"] == "P3"
    await t.t.publish(
        SubscriptionChanged(
            client_id=client_id,
            tenant_id=t.id,
            tier=SubscriptionTier.PREMIUM,
            contractual_p1=True,
            valid_from=date.today(),
        ),
        t.id,
    )

    async def reclassified() -> bool:
        return (await t.get(before))["severity"] == "P1"

    await eventually(reclassified, what="the open incident to take the client's P1 terms")
    body = await t.get(before)
    assert body["contractual_p1"] and body["severity_flags"]["p1_priority_customer_or_recurrent"]
    (triaged,) = await t.events(before, "incident.triaged.v1")
    assert triaged["previous_severity"] == "P3"
    assert [u["via"] for u in await t.updates(before)] == ["system"] * 4
    after = await t.get(await t.report(client_id=client_id))
    assert after["severity"] == "P1" and after["contractual_p1"] and not after["recurrent"]

    # Recurrence: the same dedup key again within the window.
    first = await t.get(
        await t.report(dedup_key="fp-recur", impact=ImpactFacts(degradation=Degradation.MINOR))
    )
    assert (first["severity"], first["recurrent"]) == ("P4", False)
    second = await t.get(await t.report(dedup_key="fp-recur"))
    assert (second["severity"], second["recurrent"]) == ("P1", True)
    # Another tenant's history does not count.
    other = Tenant(t.t, uuid4())
    elsewhere = await other.get(await other.report(dedup_key="fp-recur"))
    assert (elsewhere["severity"], elsewhere["recurrent"]) == ("P4", False)


async def test_tenant_status_catalog(tenant: Tenant) -> None:
    t = tenant
    listing = await t.client.get("/v1/statuses", headers=t.auth(Role.CLIENT_CONTACT))
    assert listing.status_code == 200
    assert [s["slug"] for s in listing.json()] == [
        "open",
        "acknowledged",
        "in_progress",
        "resolved",
        "closed",
    ]
    waiting = {"slug": "waiting_on_client", "name": "Waiting on client", "sort_order": 35}
    assert_problem(await t.post("/v1/statuses", waiting, t.auth(Role.TECHNICAL_SUPPORT)), 403)
    created = await t.post("/v1/statuses", waiting)
    assert created.status_code == 201, created.text
    assert_problem(await t.post("/v1/statuses", waiting), 409)
    # From in_progress, the new status comes later in the order: allowed.
    incident = await t.report()
    path = f"/v1/incidents/{incident}"
    assert (await t.patch(path, {"status": "in_progress"})).status_code == 200
    assert (await t.patch(path, {"status": "waiting_on_client"})).status_code == 200
    # Restrict where it may go: only back to in_progress.
    restricted = await t.patch("/v1/statuses/waiting_on_client", {"next_statuses": ["in_progress"]})
    assert restricted.status_code == 200 and restricted.json()["next_statuses"] == ["in_progress"]
    assert_problem(await t.patch(path, {"status": "resolved"}), 409)
    assert (await t.patch(path, {"status": "in_progress"})).status_code == 200
    assert_problem(await t.patch("/v1/statuses/waiting_on_client", {"next_statuses": ["nowhere"]}), 422)
    # Categories and priorities are catalogs too.
    category = await t.post("/v1/categories", {"slug": "hardware", "name": "Hardware"})
    assert category.status_code == 201
    assert (await t.patch(path, {"category": "hardware"})).status_code == 200
    assert (await t.patch("/v1/categories/hardware", {"is_active": False})).status_code == 200
    assert_problem(await t.patch(path, {"category": "network_x"}), 422)
    priorities = await t.client.get("/v1/priorities", headers=t.auth())
    assert [p["slug"] for p in priorities.json()] == ["critical", "high", "medium", "low"]
    # No SLA minutes on priorities: the sla policies hold them (docs/adr/0011-sla-figures-in-one-place.md).
    assert not {"response_time_minutes", "resolution_time_minutes"} & set(priorities.json()[0])
    assert_problem(await t.patch("/v1/priorities/low", {"response_time_minutes": 60}), 422)
    # A new default status: incidents start there, and reopening goes back there.
    triage_first = {"slug": "new", "name": "New", "sort_order": 5, "is_default": True}
    assert (await t.post("/v1/statuses", triage_first, t.auth(Role.SYSTEM_ADMINISTRATOR))).status_code == 201
    statuses = {s["slug"]: s for s in (await t.client.get("/v1/statuses", headers=t.auth())).json()}
    assert [slug for slug, s in statuses.items() if s["is_default"]] == ["new"]
    fresh = await t.report()
    assert (await t.get(fresh))["status"] == "new"
    (created_event,) = await t.events(fresh, "incident.created.v1")
    assert created_event["status"] == "new"
    assert (await t.post(f"/v1/incidents/{fresh}/resolve")).status_code == 200
    assert (await t.post(f"/v1/incidents/{fresh}/reopen", {"reason": "again"})).json()["status"] == "new"
    # Each catalog change is announced, keyed by the entry.
    changes = await t.events(UUID(created.json()["id"]), "incident_catalog.changed.v1")
    assert [c["values"]["next_statuses"] for c in changes] == [None, ["in_progress"]]
    assert changes[0]["catalog"] == "statuses" and changes[0]["slug"] == "waiting_on_client"
