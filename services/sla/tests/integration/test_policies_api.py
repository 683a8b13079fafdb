"""GET /v1/policies and PUT /v1/policies/{tier}/{severity} over the real database and broker:
the seeded table per tenant, edits by the roles that may, refusals as problem+json that write
nothing, and every edit announced."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from backbone.db import Database
from backbone.testing import Stack, assert_problem
from contracts.enums import Role
from contracts.permissions import GRANTS, Permission
from sla.adapters.orm import policies
from sla.testing import announced, stored

pytestmark = pytest.mark.integration

CHANGED = "sla.policy_changed.v1"

EDIT = {
    "calendar": "business_hours",
    "response_target_minutes": 20,
    "response_deadline_minutes": 40,
    "resolution_target_minutes": 300,
    "resolution_deadline_minutes": 600,
}


async def test_a_new_tenant_reads_the_seeded_table(api: httpx.AsyncClient, stack: Stack) -> None:
    tenant = uuid.uuid4()
    response = await api.get("/v1/policies", headers=stack.auth(tenant_id=tenant, role="technical_support"))
    assert response.status_code == 200, response.text
    listed = response.json()
    assert [(p["tier"], p["severity"]) for p in listed] == [
        (t, s) for t in ("premium", "standard", "basic") for s in ("P1", "P2", "P3", "P4")
    ]
    assert listed[0] == {
        "tier": "premium",
        "severity": "P1",
        "calendar": "24x7",
        "response_target_minutes": 15,
        "response_deadline_minutes": 30,
        "resolution_target_minutes": 120,
        "resolution_deadline_minutes": 240,
    }
    assert listed[4]["calendar"] == "24x7" and listed[5]["calendar"] == "business_hours"  # standard P1, P2
    assert listed[11]["resolution_deadline_minutes"] == 4800  # basic P4: two weeks of business days


async def test_an_incident_manager_edits_one_row_for_the_tenant_only(
    api: httpx.AsyncClient, stack: Stack, db: Database
) -> None:
    tenant, other = uuid.uuid4(), uuid.uuid4()
    auth = stack.auth(tenant_id=tenant, role="incident_manager")
    response = await api.put("/v1/policies/standard/P2", json=EDIT, headers=auth)
    assert response.status_code == 200, response.text
    assert response.json() == {"tier": "standard", "severity": "P2", **EDIT}

    listed = (await api.get("/v1/policies", headers=auth)).json()
    assert [p for p in listed if (p["tier"], p["severity"]) == ("standard", "P2")] == [response.json()]
    assert (
        next(p for p in listed if (p["tier"], p["severity"]) == ("standard", "P3"))["response_target_minutes"]
        == 1440
    )
    theirs = (await api.get("/v1/policies", headers=stack.auth(tenant_id=other))).json()
    assert theirs[5]["response_target_minutes"] == 240

    [event] = await announced(db, tenant, CHANGED)
    assert event == {"tier": "standard", "severity": "P2", **EDIT}


@pytest.mark.parametrize(
    ("path", "body", "mentions"),
    [
        ("/v1/policies/premium/P1", EDIT | {"response_target_minutes": 41}, "response_target_minutes"),
        ("/v1/policies/premium/P1", EDIT | {"resolution_target_minutes": 601}, "resolution_target_minutes"),
        ("/v1/policies/premium/P1", EDIT | {"response_target_minutes": 0}, None),
        ("/v1/policies/premium/P1", EDIT | {"calendar": "weekends"}, None),
        ("/v1/policies/premium/P1", EDIT | {"colour": "red"}, None),
        ("/v1/policies/gold/P1", EDIT, None),
        ("/v1/policies/premium/P5", EDIT, None),
    ],
)
async def test_refusals_are_422_problems_and_write_nothing(
    api: httpx.AsyncClient, stack: Stack, db: Database, path: str, body: dict[str, Any], mentions: str | None
) -> None:
    tenant = uuid.uuid4()
    response = await api.put(path, json=body, headers=stack.auth(tenant_id=tenant))
    assert_problem(response, 422, mentions)
    assert await stored(db, policies, tenant) == 0
    assert await announced(db, tenant, CHANGED) == []


@pytest.mark.parametrize("role", list(Role))
async def test_who_may_edit(api: httpx.AsyncClient, stack: Stack, db: Database, role: Role) -> None:
    may_edit = role in GRANTS[Permission.SLA_MANAGE]
    tenant = uuid.uuid4()
    response = await api.put(
        "/v1/policies/basic/P4", json=EDIT, headers=stack.auth(tenant_id=tenant, role=role.value)
    )
    if may_edit:
        assert response.status_code == 200, response.text
    else:
        assert_problem(response, 403)
        assert await stored(db, policies, tenant) == 0


async def test_reading_needs_sla_view_and_a_token(api: httpx.AsyncClient, stack: Stack) -> None:
    tenant = uuid.uuid4()
    for role in Role:
        response = await api.get("/v1/policies", headers=stack.auth(tenant_id=tenant, role=role.value))
        if role in GRANTS[Permission.SLA_VIEW]:
            assert response.status_code == 200, response.text
        else:
            assert_problem(response, 403)
    assert_problem(await api.get("/v1/policies"), 401)
