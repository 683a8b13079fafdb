"""Monitoring integrations after creation, over HTTP against the real database: changed,
given a new token, deleted; each change one event carrying the whole state and a revision
(intake's replica follows them: tests/e2e/test_integration_tokens.py)."""

from __future__ import annotations

import json
from typing import Any
from uuid import uuid4

import httpx
import pytest
from sqlalchemy import select

from backbone.db import Database
from backbone.tables import OUTBOX
from backbone.testing import Stack, assert_problem, new_tenant, sign_in, unique
from contracts.events import token_sha256

pytestmark = pytest.mark.integration


async def events(stack: Stack, integration_id: str) -> list[tuple[str, dict[str, Any]]]:
    db = Database.connect(stack.database_url, "directory", pool_size=1)
    try:
        async with db.sessions() as s:
            rows = (
                await s.execute(
                    select(OUTBOX.c.event_type, OUTBOX.c.value)
                    .where(OUTBOX.c.key == integration_id)
                    .order_by(OUTBOX.c.id)
                )
            ).all()
    finally:
        await db.dispose()
    return [(row.event_type, json.loads(row.value)["data"]) for row in rows]


async def new_integration(directory: httpx.AsyncClient, auth: dict[str, str], **over: Any) -> dict[str, Any]:
    body = {"kind": "alertmanager", "name": unique("am-"), "grouping_labels": ["alertname"], **over}
    created = await directory.post("/v1/integrations", json=body, headers=auth)
    assert created.status_code == 201, created.text
    result: dict[str, Any] = created.json()
    return result


async def test_an_integration_is_changed_field_by_field(
    stack: Stack, directory: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    integration = await new_integration(directory, auth, rate_limit_per_s=5)
    path = f"/v1/integrations/{integration['id']}"
    change = {
        "name": unique("renamed-"),
        "grouping_labels": ["alertname", "cluster"],
        "auto_resolve": False,
        "rate_limit_per_s": None,
        "rate_limit_burst": 50,
        "impact_rules": [
            {"label": "severity", "values": ["critical"], "fact": "business_critical", "to": True}
        ],
    }
    changed = await directory.patch(path, json=change, headers=auth)
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert {k: body[k] for k in change} == {**change, "impact_rules": [{**change["impact_rules"][0]}]}
    assert body["kind"] == "alertmanager" and body["token_prefix"] == integration["token_prefix"]
    assert (await directory.get(path, headers=auth)).json() == body

    (created, data_created), (updated, data) = await events(stack, integration["id"])
    assert (created, updated) == ("integration.created.v1", "integration.updated.v1")
    assert data["changed"] == sorted(change) and data["revision"] == data_created["revision"] + 1
    assert data["token_sha256"] == data_created["token_sha256"] and data["auto_resolve"] is False

    # Bad changes are refused whole, with the field named.
    other = await new_integration(directory, auth)
    assert_problem(await directory.patch(path, json={"name": other["name"]}, headers=auth), 409, "name")
    assert_problem(await directory.patch(path, json={"name": None}, headers=auth), 422, "name")
    assert_problem(await directory.patch(path, json={"kind": "generic"}, headers=auth), 422, "kind")
    bad_rule = {"impact_rules": [{"label": "x", "fact": "mood", "to": "sad"}]}
    assert_problem(await directory.patch(path, json=bad_rule, headers=auth), 422, "impact_rules")
    assert_problem(
        await directory.patch(path, json={"client_id": str(uuid4())}, headers=auth), 404, "client_id"
    )
    assert_problem(
        await directory.patch(f"/v1/integrations/{uuid4()}", json={"name": "x"}, headers=auth), 404
    )
    assert (await directory.get(path, headers=auth)).json() == body
    assert len(await events(stack, integration["id"])) == 2


async def test_token_rotation_and_deletion(
    stack: Stack, directory: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    integration = await new_integration(directory, auth)
    path = f"/v1/integrations/{integration['id']}"
    rotated = await directory.post(f"{path}/rotate-token", headers=auth)
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()
    assert new["id"] == integration["id"] and new["token"] != integration["token"]
    assert new["token"].startswith("iit_") and new["token_prefix"] == new["token"][:8]
    assert (await directory.get(path, headers=auth)).json()["token_prefix"] == new["token_prefix"]

    events_v2 = await new_integration(directory, auth, kind="events_v2")
    routing = (await directory.post(f"/v1/integrations/{events_v2['id']}/rotate-token", headers=auth)).json()
    assert len(routing["token"]) == 32 and routing["token"] != events_v2["token"]  # a PagerDuty routing key

    assert (await directory.delete(path, headers=auth)).status_code == 204
    assert_problem(await directory.get(path, headers=auth), 404)
    assert_problem(await directory.delete(path, headers=auth), 404)
    assert_problem(await directory.post(f"{path}/rotate-token", headers=auth), 404)
    assert_problem(await directory.patch(path, json={"auto_resolve": False}, headers=auth), 404)
    assert integration["id"] not in [
        i["id"] for i in (await directory.get("/v1/integrations", headers=auth)).json()
    ]
    # The name of a deleted integration is free again.
    await new_integration(directory, auth, name=integration["name"])

    history = await events(stack, integration["id"])
    assert [t for t, _ in history] == [
        "integration.created.v1",
        "integration.token_rotated.v1",
        "integration.deleted.v1",
    ]
    assert history[1][1]["token_sha256"] == token_sha256(new["token"])
    assert [d["revision"] for _, d in history] == [1, 2, 3]


async def test_only_integration_managers_of_the_tenant_change_integrations(
    directory: httpx.AsyncClient, operator_key: str, auth: dict[str, str]
) -> None:
    integration = await new_integration(directory, auth)
    path = f"/v1/integrations/{integration['id']}"
    body = {"name": "m", "email": f"{unique('m')}@example.com", "role": "incident_manager"}
    manager_id = (await directory.post("/v1/users", json=body, headers=auth)).json()["id"]
    key = (await directory.post(f"/v1/users/{manager_id}/api-keys", headers=auth)).json()["api_key"]
    manager = await sign_in(directory, key)
    other = await sign_in(directory, (await new_tenant(directory, operator_key)).api_key)
    for headers, status in ((manager, 403), (other, 404)):
        assert_problem(await directory.patch(path, json={"auto_resolve": False}, headers=headers), status)
        assert_problem(await directory.post(f"{path}/rotate-token", headers=headers), status)
        assert_problem(await directory.delete(path, headers=headers), status)
    assert (await directory.get(path, headers=auth)).json()["auto_resolve"] is True
