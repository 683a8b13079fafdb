"""Who may hold whose API keys, over HTTP against the real database: minting, listing, revoking
and rotating follow one rule (oneself, or a user whose role the caller could grant; a platform
operator's keys only the operator), a refusal writes nothing, and a revoked key buys no token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import httpx
import pytest
from sqlalchemy import func, select

from backbone.db import Database
from backbone.tables import OUTBOX
from backbone.testing import Stack, assert_problem, new_tenant, sign_in, unique

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def outbox(stack: Stack) -> AsyncIterator[Database]:
    db = Database.connect(stack.database_url, "directory", pool_size=1)
    yield db
    await db.dispose()


async def me(directory: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    response = await directory.get("/v1/me", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def user(
    directory: httpx.AsyncClient, auth: dict[str, str], role: str, **over: Any
) -> tuple[str, str, dict[str, str]]:
    """A user of the role: their id, an API key (minted by ``auth``) and a signed-in header."""
    body = {"name": role, "email": f"{unique('u')}@example.com", "role": role, **over}
    created = await directory.post("/v1/users", json=body, headers=auth)
    assert created.status_code == 201, created.text
    key = await directory.post(f"/v1/users/{created.json()['id']}/api-keys", headers=auth)
    assert key.status_code == 201, key.text
    return created.json()["id"], key.json()["api_key"], await sign_in(directory, key.json()["api_key"])


async def events_about(db: Database, *subjects: str) -> list[str]:
    async with db.sessions() as s:
        rows = await s.scalars(
            select(OUTBOX.c.event_type).where(OUTBOX.c.key.in_(subjects)).order_by(OUTBOX.c.id)
        )
        return list(rows)


async def last_event(db: Database) -> int:
    async with db.sessions() as s:
        return int(await s.scalar(select(func.coalesce(func.max(OUTBOX.c.id), 0))) or 0)


async def key_ids(directory: httpx.AsyncClient, headers: dict[str, str], user_id: str) -> list[str]:
    listed = await directory.get(f"/v1/users/{user_id}/api-keys", headers=headers)
    assert listed.status_code == 200, listed.text
    return [k["id"] for k in listed.json()]


async def token_role(directory: httpx.AsyncClient, api_key: str) -> int | str:
    """The role an API key signs in as, or the status code of the refusal."""
    response = await directory.post("/v1/auth/token", json={"api_key": api_key})
    if response.status_code != 200:
        return response.status_code
    headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
    return str((await me(directory, headers))["role"])


# --------------------------------------------------------------------------- the attack


async def test_incident_manager_cannot_mint_a_key_for_the_administrator(
    directory: httpx.AsyncClient, auth: dict[str, str], outbox: Database
) -> None:
    admin_id = str((await me(directory, auth))["user_id"])
    manager_id, manager_key, manager = await user(directory, auth, "incident_manager")
    keys_before = await key_ids(directory, auth, admin_id)
    events_before = await last_event(outbox)

    refused = assert_problem(await directory.post(f"/v1/users/{admin_id}/api-keys", headers=manager), 403)
    assert "system_administrator" in refused["detail"]
    # Nothing written: no key, no event about one.
    assert await key_ids(directory, auth, admin_id) == keys_before
    assert await last_event(outbox) == events_before
    # Nor may they read, revoke or rotate the administrator's keys.
    key_id = keys_before[0]
    assert_problem(await directory.get(f"/v1/users/{admin_id}/api-keys", headers=manager), 403)
    assert_problem(await directory.delete(f"/v1/users/{admin_id}/api-keys/{key_id}", headers=manager), 403)
    assert_problem(
        await directory.post(f"/v1/users/{admin_id}/api-keys/{key_id}/rotate", headers=manager), 403
    )
    # Nor demote or deactivate the administrator, nor promote themselves.
    for change in ({"role": "technical_support"}, {"status": "inactive"}, {"department": "x"}):
        assert_problem(await directory.patch(f"/v1/users/{admin_id}", json=change, headers=manager), 403)
    assert_problem(
        await directory.patch(
            f"/v1/users/{manager_id}", json={"role": "system_administrator"}, headers=manager
        ),
        403,
    )
    # Every key the manager can get signs in as an incident manager, never higher.
    own = await directory.post(f"/v1/users/{manager_id}/api-keys", headers=manager)
    assert own.status_code == 201, own.text
    for api_key in (manager_key, own.json()["api_key"]):
        assert await token_role(directory, api_key) == "incident_manager"


async def test_incident_manager_mints_for_roles_they_could_grant(
    directory: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    _, _, manager = await user(directory, auth, "incident_manager")
    for role in ("technical_support", "incident_manager", "executive"):
        target, _, _ = await user(directory, auth, role)
        minted = await directory.post(f"/v1/users/{target}/api-keys", headers=manager)
        assert minted.status_code == 201, (role, minted.text)
        assert await token_role(directory, minted.json()["api_key"]) == role
    # Roles that may not register users mint for nobody but themselves.
    support_id, _, support = await user(directory, auth, "technical_support")
    target, _, _ = await user(directory, auth, "executive")
    assert_problem(await directory.post(f"/v1/users/{target}/api-keys", headers=support), 403)
    assert (await directory.post(f"/v1/users/{support_id}/api-keys", headers=support)).status_code == 201


async def test_platform_operator_keys_are_the_operators_alone(
    directory: httpx.AsyncClient, operator_key: str
) -> None:
    """In the bootstrap tenant another administrator could grant system_administrator, but the
    operator flag comes with the operator's keys: nobody but the operator mints or touches them."""
    operator = await sign_in(directory, operator_key)
    operator_id = str((await me(directory, operator))["user_id"])
    _, _, colleague = await user(directory, operator, "system_administrator")
    assert (await me(directory, colleague))["is_platform_operator"] is False

    assert_problem(await directory.post(f"/v1/users/{operator_id}/api-keys", headers=colleague), 403)
    assert_problem(await directory.get(f"/v1/users/{operator_id}/api-keys", headers=colleague), 403)
    operator_keys = await key_ids(directory, operator, operator_id)
    assert_problem(
        await directory.delete(f"/v1/users/{operator_id}/api-keys/{operator_keys[-1]}", headers=colleague),
        403,
    )

    own = await directory.post(f"/v1/users/{operator_id}/api-keys", headers=operator)
    assert own.status_code == 201, own.text
    signed = await sign_in(directory, own.json()["api_key"])
    assert (await me(directory, signed))["is_platform_operator"] is True


async def test_a_role_change_revokes_keys_their_issuer_could_not_mint_now(
    directory: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    """A key minted by an incident manager for a technical_support user must not become an
    administrator's key when that user is promoted."""
    _, _, manager = await user(directory, auth, "incident_manager")
    target, by_admin, target_auth = await user(directory, auth, "technical_support")
    by_manager = (await directory.post(f"/v1/users/{target}/api-keys", headers=manager)).json()["api_key"]
    by_self = (await directory.post(f"/v1/users/{target}/api-keys", headers=target_auth)).json()["api_key"]

    promoted = await directory.patch(
        f"/v1/users/{target}", json={"role": "system_administrator"}, headers=auth
    )
    assert promoted.status_code == 200, promoted.text
    assert await token_role(directory, by_manager) == 401
    assert await token_role(directory, by_admin) == "system_administrator"
    assert await token_role(directory, by_self) == "system_administrator"


# --------------------------------------------------------------------------- revoke, rotate


async def test_keys_are_listed_revoked_and_rotated(
    directory: httpx.AsyncClient, auth: dict[str, str], outbox: Database
) -> None:
    target, first_key, target_auth = await user(directory, auth, "technical_support")
    second = (await directory.post(f"/v1/users/{target}/api-keys", headers=auth)).json()

    listed = (await directory.get(f"/v1/users/{target}/api-keys", headers=auth)).json()
    assert [k["id"] for k in listed] == [second["id"], listed[1]["id"]]  # newest first
    assert all(set(k) == {"id", "user_id", "prefix", "created_at", "revoked_at"} for k in listed)
    assert all(k["revoked_at"] is None for k in listed)
    first_id = listed[1]["id"]

    revoked = await directory.delete(f"/v1/users/{target}/api-keys/{first_id}", headers=auth)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"], revoked.text
    assert_problem(await directory.post("/v1/auth/token", json={"api_key": first_key}), 401)
    again = await directory.delete(f"/v1/users/{target}/api-keys/{first_id}", headers=auth)
    assert again.status_code == 200 and again.json()["revoked_at"] == revoked.json()["revoked_at"]
    assert await events_about(outbox, first_id) == ["api_key.issued.v1", "api_key.revoked.v1"]
    assert_problem(await directory.post(f"/v1/users/{target}/api-keys/{first_id}/rotate", headers=auth), 409)

    rotated = await directory.post(f"/v1/users/{target}/api-keys/{second['id']}/rotate", headers=auth)
    assert rotated.status_code == 201, rotated.text
    new = rotated.json()
    assert new["id"] != second["id"] and new["api_key"].startswith(f"ipk_{new['prefix']}_")
    assert_problem(await directory.post("/v1/auth/token", json={"api_key": second["api_key"]}), 401)
    assert await token_role(directory, new["api_key"]) == "technical_support"
    assert await events_about(outbox, second["id"], new["id"]) == [
        "api_key.issued.v1",
        "api_key.issued.v1",
        "api_key.revoked.v1",
    ]

    # Anyone revokes their own keys; a key of another user is not found under this user.
    other, _, _ = await user(directory, auth, "technical_support")
    assert_problem(await directory.delete(f"/v1/users/{other}/api-keys/{new['id']}", headers=auth), 404)
    assert_problem(await directory.delete(f"/v1/users/{target}/api-keys/{uuid4()}", headers=auth), 404)
    mine = await directory.delete(f"/v1/users/{target}/api-keys/{new['id']}", headers=target_auth)
    assert mine.status_code == 200, mine.text
    assert_problem(await directory.post("/v1/auth/token", json={"api_key": new["api_key"]}), 401)


async def test_keys_of_an_inactive_user_are_revoked_not_rotated(
    directory: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    target, _, _ = await user(directory, auth, "executive")
    (key_id,) = await key_ids(directory, auth, target)
    await directory.patch(f"/v1/users/{target}", json={"status": "inactive"}, headers=auth)
    assert_problem(await directory.post(f"/v1/users/{target}/api-keys/{key_id}/rotate", headers=auth), 409)
    assert (await directory.delete(f"/v1/users/{target}/api-keys/{key_id}", headers=auth)).status_code == 200


async def test_another_tenants_keys_are_not_found(
    directory: httpx.AsyncClient, operator_key: str, auth: dict[str, str]
) -> None:
    other = await sign_in(directory, (await new_tenant(directory, operator_key)).api_key)
    target, _, _ = await user(directory, auth, "technical_support")
    (key_id,) = await key_ids(directory, auth, target)
    assert_problem(await directory.post(f"/v1/users/{target}/api-keys", headers=other), 404)
    assert_problem(await directory.get(f"/v1/users/{target}/api-keys", headers=other), 404)
    assert_problem(await directory.delete(f"/v1/users/{target}/api-keys/{key_id}", headers=other), 404)
    assert_problem(await directory.post(f"/v1/users/{target}/api-keys/{key_id}/rotate", headers=other), 404)
