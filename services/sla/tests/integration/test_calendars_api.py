"""The tenant's default calendar and clients' own over the real database and broker: the
built-in default until set, a client's own over the tenant's, 404 for clients not the tenant's,
refusals as problem+json that write nothing, every change announced."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import insert

from backbone.db import Database
from backbone.testing import Stack, assert_problem
from contracts.enums import Role
from contracts.permissions import GRANTS, Permission
from sla.adapters.orm import calendars, subscriptions
from sla.testing import announced, stored

pytestmark = pytest.mark.integration

CHANGED = "sla.calendar_changed.v1"

WEEK = {"mon": [["09:00", "17:00"]], "tue": [], "wed": [], "thu": [], "fri": [], "sat": [], "sun": []}
BERLIN = {
    "time_zone": "Europe/Berlin",
    "hours": WEEK | {"mon": [["08:00", "12:00"], ["13:00", "24:00"]]},
    "holidays": ["2026-12-24"],
    "holiday_country": "DE",
    "holiday_subdivision": "BY",
}
NEW_YORK = {"time_zone": "America/New_York", "hours": WEEK, "holidays": [], "holiday_country": "US"}


async def client_of(db: Database, tenant: uuid.UUID) -> uuid.UUID:
    """A client of the tenant as directory's subscription.changed.v1 leaves it here."""
    client = uuid.uuid4()
    async with db.sessions() as s:
        await s.execute(insert(subscriptions).values(client_id=client, tenant_id=tenant, tier="basic"))
        await s.commit()
    return client


async def test_default_calendar_until_set_then_the_tenants(
    api: httpx.AsyncClient, stack: Stack, db: Database
) -> None:
    tenant = uuid.uuid4()
    auth = stack.auth(tenant_id=tenant, role="executive")
    built_in = (await api.get("/v1/calendars/default", headers=auth)).json()
    assert built_in == {
        "time_zone": "UTC",
        "hours": {
            **{d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
            "sat": [],
            "sun": [],
        },
        "holidays": [],
        "holiday_country": None,
        "holiday_subdivision": None,
        "source": "built_in",
    }
    put = await api.put("/v1/calendars/default", json=BERLIN, headers=auth)
    assert put.status_code == 200, put.text
    assert put.json() == BERLIN | {"source": "tenant"}
    assert (await api.get("/v1/calendars/default", headers=auth)).json() == BERLIN | {"source": "tenant"}
    other = stack.auth(tenant_id=uuid.uuid4())
    assert (await api.get("/v1/calendars/default", headers=other)).json()["source"] == "built_in"
    [event] = await announced(db, tenant, CHANGED)
    assert event == {"scope": "default", "client_id": None, "definition": BERLIN}


async def test_a_clients_own_calendar_over_the_tenants(
    api: httpx.AsyncClient, stack: Stack, db: Database
) -> None:
    tenant = uuid.uuid4()
    auth = stack.auth(tenant_id=tenant, role="incident_manager")
    client = await client_of(db, tenant)
    path = f"/v1/clients/{client}/calendar"
    assert (await api.get(path, headers=auth)).json()["source"] == "built_in"
    assert (await api.put("/v1/calendars/default", json=BERLIN, headers=auth)).status_code == 200
    assert (await api.get(path, headers=auth)).json() == BERLIN | {"source": "tenant"}

    put = await api.put(path, json=NEW_YORK, headers=auth)
    assert put.status_code == 200, put.text
    assert (await api.get(path, headers=auth)).json() == NEW_YORK | {
        "holiday_subdivision": None,
        "source": "client",
    }

    deleted = await api.delete(path, headers=auth)
    assert deleted.status_code == 204
    assert (await api.get(path, headers=auth)).json()["source"] == "tenant"
    assert (await api.delete(path, headers=auth)).status_code == 204  # none left: still fine
    scopes = [(e["scope"], e["definition"] is None) for e in await announced(db, tenant, CHANGED)]
    assert scopes == [("default", False), (str(client), False), (str(client), True)]


async def test_another_tenants_client_answers_like_an_unknown_one(
    api: httpx.AsyncClient, stack: Stack, db: Database
) -> None:
    mine, theirs = uuid.uuid4(), uuid.uuid4()
    their_client = await client_of(db, theirs)
    auth = stack.auth(tenant_id=mine)
    for client in (their_client, uuid.uuid4()):
        path = f"/v1/clients/{client}/calendar"
        unknown = [
            assert_problem(await api.get(path, headers=auth), 404),
            assert_problem(await api.put(path, json=NEW_YORK, headers=auth), 404),
            assert_problem(await api.delete(path, headers=auth), 404),
        ]
        assert {p["detail"] for p in unknown} == {f"no client {client}"}
    assert await stored(db, calendars, mine) == 0 and await stored(db, calendars, theirs) == 0
    assert await announced(db, mine, CHANGED) == []


@pytest.mark.parametrize(
    ("change", "mentions"),
    [
        ({"time_zone": "Europe/Atlantis"}, "time_zone"),
        ({"hours": WEEK | {"mon": [["9:00", "17:00"]]}}, "hours.mon[0]"),
        ({"hours": WEEK | {"mon": [["09:00", "13:00"], ["12:00", "17:00"]]}}, "hours.mon"),
        ({"hours": {"funday": [["09:00", "17:00"]]}}, "hours"),
        ({"hours": {"mon": []}}, "hours"),
        ({"holidays": ["2026-13-01"]}, "holidays[0]"),
        ({"holiday_country": "XX"}, "holiday_country"),
        ({"holiday_subdivision": "ZZ"}, "holiday_subdivision"),
        ({"hours": {"mon": [["09:00", "17:00", "18:00"]]}}, None),
        ({"weekends": True}, None),
    ],
)
async def test_bad_calendars_are_422_problems_and_write_nothing(
    api: httpx.AsyncClient, stack: Stack, db: Database, change: dict[str, Any], mentions: str | None
) -> None:
    tenant = uuid.uuid4()
    client = await client_of(db, tenant)
    auth = stack.auth(tenant_id=tenant)
    for path in ("/v1/calendars/default", f"/v1/clients/{client}/calendar"):
        assert_problem(await api.put(path, json=BERLIN | change, headers=auth), 422, mentions)
    assert await stored(db, calendars, tenant) == 0
    assert await announced(db, tenant, CHANGED) == []


@pytest.mark.parametrize("role", list(Role))
async def test_who_may_edit(api: httpx.AsyncClient, stack: Stack, db: Database, role: Role) -> None:
    may_edit = role in GRANTS[Permission.SLA_MANAGE]
    tenant = uuid.uuid4()
    client = await client_of(db, tenant)
    auth = stack.auth(
        tenant_id=tenant, role=role.value, client_id=client if role is Role.CLIENT_CONTACT else None
    )
    for method, path in (
        ("PUT", "/v1/calendars/default"),
        ("PUT", f"/v1/clients/{client}/calendar"),
        ("DELETE", f"/v1/clients/{client}/calendar"),
    ):
        response = await api.request(method, path, json=BERLIN if method == "PUT" else None, headers=auth)
        if may_edit:
            assert response.status_code in (200, 204), response.text
        else:
            assert_problem(response, 403)
    if not may_edit:
        assert await stored(db, calendars, tenant) == 0
