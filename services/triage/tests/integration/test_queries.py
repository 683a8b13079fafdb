"""The incident list over the real stack: filters (status, severity, client, component, created
range, text), sort orders and keyset pages that walk every incident once, and the update history
endpoint's scope (client and vendor scope are in test_access.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from backbone.testing import assert_problem
from contracts.enums import Role, Scope
from contracts.events.intake import ImpactFacts
from triage.testing import Tenant

pytestmark = pytest.mark.integration


async def listing(t: Tenant, **params: Any) -> list[UUID]:
    response = await t.client.get("/v1/incidents", headers=t.auth(), params=params)
    assert response.status_code == 200, response.text
    return [UUID(i["id"]) for i in response.json()]


async def walk(t: Tenant, sort: str, limit: int = 2) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    url: str | None = f"/v1/incidents?sort={sort}&limit={limit}"
    while url:
        response = await t.client.get(url, headers=t.auth())
        assert response.status_code == 200, response.text
        seen.extend(response.json())
        link = response.headers.get("link")
        url = link[1 : link.index(">")] if link else None
    return seen


async def test_filters_sorts_and_pages(tenant: Tenant) -> None:
    t = tenant
    client_a, component = uuid4(), uuid4()
    ids = {
        "outage": await t.report(
            title="Checkout outage", impact=ImpactFacts(scope=Scope.ENTERPRISE), client_id=client_a
        ),
        "slow": await t.report(
            title="Slow reports", description="the nightly batch", impact=ImpactFacts(sla_risk=True)
        ),
        "local": await t.report(
            title="Printer jam", impact=ImpactFacts(scope=Scope.LOCALIZED), component_id=component
        ),
        "minor": await t.report(title="Typo on the status page", client_id=client_a),
        "minor2": await t.report(title="100% CPU_spike", component_id=component),
    }
    everything = set(ids.values())
    assert set(await listing(t)) == everything
    # The second incident on the component within the window is recurrent: P1 as well.
    assert set(await listing(t, severity="P1")) == {ids["outage"], ids["minor2"]}
    assert set(await listing(t, severity=["P2", "P3"])) == {ids["slow"], ids["local"]}
    assert set(await listing(t, client_id=str(client_a))) == {ids["outage"], ids["minor"]}
    assert set(await listing(t, component_id=str(component))) == {ids["local"], ids["minor2"]}
    assert await listing(t, q="nightly") == [ids["slow"]]
    assert await listing(t, q="checkout") == [ids["outage"]]
    assert await listing(t, q="100%") == [ids["minor2"]]  # LIKE wildcards are literal
    assert await listing(t, q="CPU_s") == [ids["minor2"]]
    reference = (await t.get(ids["local"]))["reference_code"]
    assert await listing(t, q=reference) == [ids["local"]]
    assert (await t.post(f"/v1/incidents/{ids['slow']}/acknowledge")).status_code == 200
    assert await listing(t, status="acknowledged") == [ids["slow"]]
    assert set(await listing(t, status=["open", "acknowledged"])) == everything
    now = datetime.now(UTC)
    assert set(await listing(t, created_from=(now - timedelta(hours=1)).isoformat())) == everything
    assert await listing(t, created_to=(now - timedelta(hours=1)).isoformat()) == []
    assert_problem(await t.client.get("/v1/incidents", headers=t.auth(), params={"sort": "colour"}), 422)
    assert_problem(await t.client.get("/v1/incidents", headers=t.auth(), params={"cursor": "nonsense"}), 422)

    # Every order walks every incident exactly once, in that order.
    newest_first = sorted(everything, reverse=True)
    assert [UUID(i["id"]) for i in await walk(t, "-created")] == newest_first
    assert [UUID(i["id"]) for i in await walk(t, "created")] == sorted(everything)
    by_severity = await walk(t, "severity")
    assert [i["severity"] for i in by_severity] == sorted(i["severity"] for i in by_severity)
    assert {UUID(i["id"]) for i in by_severity} == everything and len(by_severity) == 5
    assert {i["id"] for i in by_severity[:2]} == {str(ids["outage"]), str(ids["minor2"])}
    by_update = await walk(t, "-updated", limit=1)
    assert by_update[0]["id"] == str(ids["slow"]) and len({i["id"] for i in by_update}) == 5
    by_reference = await walk(t, "reference", limit=3)
    assert [i["reference_code"] for i in by_reference] == sorted(i["reference_code"] for i in by_reference)


async def test_updates_are_scoped_like_the_incident(tenant: Tenant) -> None:
    t = tenant
    client_id = uuid4()
    incident = await t.report(client_id=client_id)
    assert (await t.patch(f"/v1/incidents/{incident}", {"title": "renamed"})).status_code == 200
    own = await t.client.get(
        f"/v1/incidents/{incident}/updates", headers=t.auth(Role.CLIENT_CONTACT, client_id=client_id)
    )
    assert own.status_code == 200 and [u["field"] for u in own.json()] == ["title"]
    other = t.auth(Role.CLIENT_CONTACT, client_id=uuid4())
    assert_problem(await t.client.get(f"/v1/incidents/{incident}/updates", headers=other), 404)
    assert_problem(
        await t.client.get(f"/v1/incidents/{incident}/updates", headers=t.auth(Role.VENDOR_CONTACT)), 404
    )
    # Soft delete: only system administrators; afterwards the incident reads as absent.
    assert_problem(await t.client.delete(f"/v1/incidents/{incident}", headers=t.auth()), 403)
    deleted = await t.client.delete(f"/v1/incidents/{incident}", headers=t.auth(Role.SYSTEM_ADMINISTRATOR))
    assert deleted.status_code == 204
    assert_problem(await t.client.get(f"/v1/incidents/{incident}", headers=t.auth()), 404)
    assert incident not in await listing(t)
    (event,) = await t.events(incident, "incident.deleted.v1")
    assert event["deleted_at"]
