"""The procedures of 003 over HTTP, against the real database: inputs, defaults, uniqueness
rules and halt conditions, plus token exchange, tenants and isolation."""

from __future__ import annotations

import time
from typing import Any
from uuid import uuid4

import httpx
import jwt
import pytest
from sqlalchemy import func, select

from backbone.auth import TokenSigner, TokenVerifier, generate_keypair
from backbone.db import Database
from backbone.tables import OUTBOX
from backbone.testing import Stack, TenantAdmin, assert_problem, new_tenant, sign_in, unique
from contracts.enums import Role

pytestmark = pytest.mark.integration


def client_body(**over: Any) -> dict[str, Any]:
    n = unique("")
    return {
        "client_name": f"Client {n}",
        "registration_number": f"REG-{n}",
        "contact_email": f"ops-{n}@client.example",
        "client_type": "enterprise",
        **over,
    }


def vendor_body(**over: Any) -> dict[str, Any]:
    n = unique("")
    return {
        "vendor_name": f"Vendor {n}",
        "vendor_email": f"desk-{n}@vendor.example",
        "vendor_phone": f"+44 20 {int(n, 16) % 10**8:08d}",
        "vendor_type": "cloud_provider",
        **over,
    }


def user_body(role: str = "technical_support", **over: Any) -> dict[str, Any]:
    return {"name": "Pat Doe", "email": f"{unique('u')}@example.com", "role": role, **over}


async def make_user(
    directory: httpx.AsyncClient, auth: dict[str, str], role: str, **over: Any
) -> tuple[dict[str, Any], dict[str, str]]:
    """A user of the role, and the Authorization header of a token of theirs."""
    created = await directory.post("/v1/users", json=user_body(role, **over), headers=auth)
    assert created.status_code == 201, created.text
    key = await directory.post(f"/v1/users/{created.json()['id']}/api-keys", headers=auth)
    assert key.status_code == 201, key.text
    return created.json(), await sign_in(directory, key.json()["api_key"])


# --------------------------------------------------------------------------- clients


async def test_client_onboarding_defaults_and_uniqueness(
    directory: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    body = client_body(country="NL")
    created = await directory.post("/v1/clients", json=body, headers=auth)
    assert created.status_code == 201, created.text
    client = created.json()
    assert client["status"] == "active" and client["country"] == "NL" and client["industry"] is None

    again = await directory.post(
        "/v1/clients", json=client_body(registration_number=body["registration_number"]), headers=auth
    )
    assert_problem(again, 409, "registration_number")
    # Uniqueness ignores case: emails are stored lower-cased.
    again = await directory.post(
        "/v1/clients", json=client_body(contact_email=body["contact_email"].upper()), headers=auth
    )
    assert_problem(again, 409, "contact_email")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"client_name": None}, "client_name"),
        ({"client_type": "government"}, "client_type"),
        ({"contact_email": "not-an-email"}, "contact_email"),
        ({"status": "deleted"}, "status"),
        ({"unknown_field": 1}, "unknown_field"),
    ],
)
async def test_client_onboarding_halts_on_bad_input(
    directory: httpx.AsyncClient, auth: dict[str, str], change: dict[str, Any], field: str
) -> None:
    body = {k: v for k, v in {**client_body(), **change}.items() if v is not None}
    assert_problem(await directory.post("/v1/clients", json=body, headers=auth), 422, field)


async def test_missing_required_client_fields_are_named(
    directory: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    for missing in ("client_name", "registration_number", "contact_email", "client_type"):
        body = client_body()
        del body[missing]
        assert_problem(await directory.post("/v1/clients", json=body, headers=auth), 422, missing)


async def test_client_update_rules(directory: httpx.AsyncClient, auth: dict[str, str]) -> None:
    first = (await directory.post("/v1/clients", json=client_body(), headers=auth)).json()
    second = (await directory.post("/v1/clients", json=client_body(), headers=auth)).json()

    changed = await directory.patch(f"/v1/clients/{first['id']}", json={"status": "suspended"}, headers=auth)
    assert changed.status_code == 200 and changed.json()["status"] == "suspended"
    assert changed.json()["updated_at"] > first["updated_at"]

    clash = await directory.patch(
        f"/v1/clients/{first['id']}", json={"contact_email": second["contact_email"]}, headers=auth
    )
    assert_problem(clash, 409, "contact_email")
    clash = await directory.patch(
        f"/v1/clients/{first['id']}",
        json={"registration_number": second["registration_number"]},
        headers=auth,
    )
    assert_problem(clash, 409, "registration_number")
    # Its own values are not a clash.
    same = await directory.patch(
        f"/v1/clients/{first['id']}", json={"registration_number": first["registration_number"]}, headers=auth
    )
    assert same.status_code == 200
    assert_problem(
        await directory.patch(f"/v1/clients/{uuid4()}", json={"status": "active"}, headers=auth), 404
    )


async def test_account_manager_updates_only_assigned_clients(
    directory: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    manager, manager_auth = await make_user(directory, auth, "account_manager")
    mine = (
        await directory.post("/v1/clients", json=client_body(account_manager_id=manager["id"]), headers=auth)
    ).json()
    other = (await directory.post("/v1/clients", json=client_body(), headers=auth)).json()
    ok = await directory.patch(f"/v1/clients/{mine['id']}", json={"industry": "retail"}, headers=manager_auth)
    assert ok.status_code == 200 and ok.json()["industry"] == "retail"
    assert_problem(
        await directory.patch(f"/v1/clients/{other['id']}", json={"industry": "x"}, headers=manager_auth), 403
    )
    # The assigned manager must be an account manager.
    tech, _ = await make_user(directory, auth, "technical_support")
    bad = await directory.post("/v1/clients", json=client_body(account_manager_id=tech["id"]), headers=auth)
    assert_problem(bad, 422, "account_manager_id")


async def test_subscription_set_and_replaced(directory: httpx.AsyncClient, auth: dict[str, str]) -> None:
    client = (await directory.post("/v1/clients", json=client_body(), headers=auth)).json()
    url = f"/v1/clients/{client['id']}/subscription"
    first = await directory.post(url, json={"tier": "premium", "contractual_p1": True}, headers=auth)
    assert first.status_code == 201, first.text
    assert first.json()["tier"] == "premium" and first.json()["contractual_p1"] is True
    assert first.json()["valid_from"]  # defaults to today
    second = await directory.post(url, json={"tier": "basic", "valid_from": "2027-01-01"}, headers=auth)
    assert second.json()["tier"] == "basic" and second.json()["contractual_p1"] is False
    assert (await directory.get(url, headers=auth)).json()["tier"] == "basic"
    assert_problem(await directory.post(url, json={"tier": "gold"}, headers=auth), 422, "tier")
    backwards = {"tier": "basic", "valid_from": "2027-01-01", "valid_until": "2026-01-01"}
    assert_problem(await directory.post(url, json=backwards, headers=auth), 422, "valid_until")
    assert_problem(
        await directory.post(f"/v1/clients/{uuid4()}/subscription", json={"tier": "basic"}, headers=auth), 404
    )


# --------------------------------------------------------------------------- users


async def test_user_registration_defaults_uniqueness_and_links(
    directory: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    body = user_body("incident_manager")
    created = await directory.post("/v1/users", json=body, headers=auth)
    assert created.status_code == 201, created.text
    assert created.json()["timezone"] == "UTC" and created.json()["status"] == "active"

    assert_problem(
        await directory.post("/v1/users", json={**user_body(), "email": body["email"]}, headers=auth),
        409,
        "email",
    )
    assert_problem(await directory.post("/v1/users", json=user_body("superuser"), headers=auth), 422, "role")
    assert_problem(
        await directory.post("/v1/users", json=user_body(timezone="Mars/Base"), headers=auth), 422, "timezone"
    )
    no_name = user_body()
    del no_name["name"]
    assert_problem(await directory.post("/v1/users", json=no_name, headers=auth), 422, "name")
    # 003 halt: "specified client/vendor does not exist".
    ghost = user_body("client_contact", client_id=str(uuid4()))
    assert_problem(await directory.post("/v1/users", json=ghost, headers=auth), 404, "client_id")
    ghost = user_body("vendor_contact", vendor_id=str(uuid4()))
    assert_problem(await directory.post("/v1/users", json=ghost, headers=auth), 404, "vendor_id")
    # A contact without the link to its client/vendor would see nothing: refused.
    assert_problem(
        await directory.post("/v1/users", json=user_body("client_contact"), headers=auth), 422, "client_id"
    )

    client = (await directory.post("/v1/clients", json=client_body(), headers=auth)).json()
    contact = await directory.post(
        "/v1/users", json=user_body("client_contact", client_id=client["id"]), headers=auth
    )
    assert contact.status_code == 201 and contact.json()["client_id"] == client["id"]


async def test_user_update_validates_role_and_finds_user(
    directory: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    user = (await directory.post("/v1/users", json=user_body(), headers=auth)).json()
    promoted = await directory.patch(
        f"/v1/users/{user['id']}", json={"role": "incident_manager"}, headers=auth
    )
    assert promoted.status_code == 200 and promoted.json()["role"] == "incident_manager"
    assert_problem(
        await directory.patch(f"/v1/users/{user['id']}", json={"role": "god"}, headers=auth), 422, "role"
    )
    assert_problem(
        await directory.patch(f"/v1/users/{uuid4()}", json={"status": "inactive"}, headers=auth), 404
    )


async def test_incident_manager_cannot_mint_administrators(
    directory: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    manager, manager_auth = await make_user(directory, auth, "incident_manager")
    assert (
        await directory.post("/v1/users", json=user_body("technical_support"), headers=manager_auth)
    ).status_code == 201
    assert_problem(
        await directory.post("/v1/users", json=user_body("system_administrator"), headers=manager_auth), 403
    )
    assert_problem(
        await directory.patch(
            f"/v1/users/{manager['id']}", json={"role": "system_administrator"}, headers=manager_auth
        ),
        403,
    )


# ------------------------------------------------------------- vendors, components, integrations


async def test_vendor_registration_uniqueness(directory: httpx.AsyncClient, auth: dict[str, str]) -> None:
    body = vendor_body()
    created = await directory.post("/v1/vendors", json=body, headers=auth)
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "active"
    for field in ("vendor_name", "vendor_email", "vendor_phone"):
        clash = vendor_body(**{field: body[field]})
        assert_problem(await directory.post("/v1/vendors", json=clash, headers=auth), 409, field)
    # The same phone written differently is the same phone.
    reformatted = vendor_body(vendor_phone=body["vendor_phone"].replace(" ", "-"))
    assert_problem(await directory.post("/v1/vendors", json=reformatted, headers=auth), 409, "vendor_phone")
    assert_problem(
        await directory.post("/v1/vendors", json=vendor_body(vendor_type="bakery"), headers=auth),
        422,
        "vendor_type",
    )
    assert_problem(
        await directory.post("/v1/vendors", json=vendor_body(vendor_phone="call me"), headers=auth),
        422,
        "vendor_phone",
    )


async def test_components_and_integrations(directory: httpx.AsyncClient, auth: dict[str, str]) -> None:
    client = (await directory.post("/v1/clients", json=client_body(), headers=auth)).json()
    vendor = (await directory.post("/v1/vendors", json=vendor_body(), headers=auth)).json()
    comp = {
        "name": "db-primary",
        "client_id": client["id"],
        "vendor_id": vendor["id"],
        "business_critical": True,
    }
    component = await directory.post("/v1/components", json=comp, headers=auth)
    assert component.status_code == 201, component.text
    assert_problem(await directory.post("/v1/components", json=comp, headers=auth), 409, "name")
    assert_problem(
        await directory.post(
            "/v1/components", json={**comp, "name": "x", "client_id": str(uuid4())}, headers=auth
        ),
        404,
        "client_id",
    )

    integration = {
        "kind": "alertmanager",
        "name": "prod prometheus",
        "default_component_id": component.json()["id"],
        "impact_rules": [
            {"label": "severity", "values": ["critical"], "fact": "business_critical", "to": True}
        ],
        "grouping_labels": ["alertname", "cluster"],
    }
    created = await directory.post("/v1/integrations", json=integration, headers=auth)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["token"].startswith("iit_") and body["client_id"] == client["id"]  # from the component
    listed = (await directory.get("/v1/integrations", headers=auth)).json()
    assert [i["id"] for i in listed] == [body["id"]] and "token" not in listed[0]
    assert_problem(await directory.post("/v1/integrations", json=integration, headers=auth), 409, "name")
    bad_rule = {**integration, "name": "n2", "impact_rules": [{"label": "x", "fact": "mood", "to": "sad"}]}
    assert_problem(await directory.post("/v1/integrations", json=bad_rule, headers=auth), 422, "impact_rules")
    events_v2 = await directory.post(
        "/v1/integrations", json={"kind": "events_v2", "name": "pd"}, headers=auth
    )
    assert events_v2.status_code == 201 and len(events_v2.json()["token"]) == 32


# --------------------------------------------------------------------------- tokens


async def test_token_exchange_and_verification(
    stack: Stack, directory: httpx.AsyncClient, admin: TenantAdmin
) -> None:
    issued = await directory.post("/v1/auth/token", json={"api_key": admin.api_key})
    assert issued.status_code == 200
    body = issued.json()
    assert body["token_type"] == "Bearer" and 0 < body["expires_in"] <= 3600
    claims = TokenVerifier(stack.keypair[1].encode()).verify(body["access_token"])
    assert claims["tid"] == admin.tenant_id and claims["role"] == "system_administrator"
    # The JWKS verifies the token as an outside party would.
    jwks = (await directory.get("/.well-known/jwks.json")).json()
    key = jwt.PyJWK(jwks["keys"][0])
    assert jwt.decode(body["access_token"], key, algorithms=["EdDSA"], audience="incident-platform")["sub"]

    assert_problem(await directory.post("/v1/auth/token", json={"api_key": "ipk_deadbeef_nope"}), 401)
    assert_problem(await directory.post("/v1/auth/token", json={"api_key": admin.api_key[:-2] + "xx"}), 401)
    assert_problem(await directory.get("/v1/clients"), 401)
    expired = stack.token(tenant_id=uuid4(), ttl_s=60, now=time.time() - 3600)
    assert_problem(await directory.get("/v1/clients", headers={"Authorization": f"Bearer {expired}"}), 401)
    forged = TokenSigner(generate_keypair()[0].encode(), 600).issue(
        {"sub": str(uuid4()), "tid": admin.tenant_id, "role": "system_administrator"}
    )
    assert_problem(await directory.get("/v1/clients", headers={"Authorization": f"Bearer {forged}"}), 401)
    assert_problem(await directory.get("/v1/clients", headers={"Authorization": "Bearer not.a.jwt"}), 401)


async def test_deactivated_user_is_refused_at_once(
    directory: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    user, user_auth = await make_user(directory, auth, "incident_manager")
    assert (await directory.get("/v1/me", headers=user_auth)).status_code == 200
    await directory.patch(f"/v1/users/{user['id']}", json={"status": "inactive"}, headers=auth)
    assert_problem(await directory.get("/v1/me", headers=user_auth), 401)
    # Nor can a key of theirs buy a new token, nor can they be given a new key.
    assert_problem(await directory.post(f"/v1/users/{user['id']}/api-keys", headers=auth), 409)


async def test_bootstrap_only_on_an_empty_system(directory: httpx.AsyncClient, operator_key: str) -> None:
    assert_problem(await directory.post("/v1/bootstrap", json={"slug": "again"}), 409)


async def test_tenants_are_created_by_platform_operators_only(
    directory: httpx.AsyncClient, operator_key: str, auth: dict[str, str]
) -> None:
    assert_problem(
        await directory.post("/v1/tenants", json={"slug": unique("t-"), "name": "x"}, headers=auth), 403
    )
    op = await sign_in(directory, operator_key)
    assert_problem(
        await directory.post("/v1/tenants", json={"slug": "Not A Slug", "name": "x"}, headers=op), 422, "slug"
    )
    taken = unique("t-")
    assert (
        await directory.post("/v1/tenants", json={"slug": taken, "name": "x"}, headers=op)
    ).status_code == 201
    assert_problem(
        await directory.post("/v1/tenants", json={"slug": taken, "name": "x"}, headers=op), 409, "slug"
    )


async def test_cross_tenant_ids_answer_404(
    directory: httpx.AsyncClient, operator_key: str, auth: dict[str, str]
) -> None:
    other = await sign_in(directory, (await new_tenant(directory, operator_key)).api_key)
    client = (await directory.post("/v1/clients", json=client_body(), headers=auth)).json()
    vendor = (await directory.post("/v1/vendors", json=vendor_body(), headers=auth)).json()
    user = (await directory.post("/v1/users", json=user_body(), headers=auth)).json()
    for path in (f"/v1/clients/{client['id']}", f"/v1/vendors/{vendor['id']}", f"/v1/users/{user['id']}"):
        assert_problem(await directory.get(path, headers=other), 404)
    assert_problem(
        await directory.patch(f"/v1/clients/{client['id']}", json={"industry": "x"}, headers=other), 404
    )
    assert_problem(
        await directory.patch(f"/v1/users/{user['id']}", json={"status": "inactive"}, headers=other), 404
    )
    assert_problem(
        await directory.post(
            f"/v1/clients/{client['id']}/subscription", json={"tier": "basic"}, headers=other
        ),
        404,
    )
    # Another tenant's client cannot be linked either, and lists never show it.
    linked = user_body("client_contact", client_id=client["id"])
    assert_problem(await directory.post("/v1/users", json=linked, headers=other), 404, "client_id")
    assert client["id"] not in [c["id"] for c in (await directory.get("/v1/clients", headers=other)).json()]
    # Uniqueness is per tenant: the other tenant may register the same registration number.
    same = client_body(
        registration_number=client["registration_number"], contact_email=client["contact_email"]
    )
    assert (await directory.post("/v1/clients", json=same, headers=other)).status_code == 201


async def test_contacts_see_only_their_own_records(
    directory: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    mine = (await directory.post("/v1/clients", json=client_body(), headers=auth)).json()
    theirs = (await directory.post("/v1/clients", json=client_body(), headers=auth)).json()
    _, contact = await make_user(directory, auth, "client_contact", client_id=mine["id"])
    assert [c["id"] for c in (await directory.get("/v1/clients", headers=contact)).json()] == [mine["id"]]
    assert (await directory.get(f"/v1/clients/{mine['id']}", headers=contact)).status_code == 200
    assert_problem(await directory.get(f"/v1/clients/{theirs['id']}", headers=contact), 404)

    vendor = (await directory.post("/v1/vendors", json=vendor_body(), headers=auth)).json()
    other_vendor = (await directory.post("/v1/vendors", json=vendor_body(), headers=auth)).json()
    _, vendor_auth = await make_user(directory, auth, "vendor_contact", vendor_id=vendor["id"])
    assert [v["id"] for v in (await directory.get("/v1/vendors", headers=vendor_auth)).json()] == [
        vendor["id"]
    ]
    assert_problem(await directory.get(f"/v1/vendors/{other_vendor['id']}", headers=vendor_auth), 404)


async def test_every_write_is_an_event_in_the_outbox(
    stack: Stack, directory: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    db = Database.connect(stack.database_url, "directory", pool_size=1)
    try:
        async with db.sessions() as s:
            before = await s.scalar(select(func.count()).select_from(OUTBOX))
        client = (await directory.post("/v1/clients", json=client_body(), headers=auth)).json()
        await directory.patch(f"/v1/clients/{client['id']}", json={"status": "inactive"}, headers=auth)
        await directory.post(
            f"/v1/clients/{client['id']}/subscription", json={"tier": "standard"}, headers=auth
        )
        await directory.post("/v1/vendors", json=vendor_body(), headers=auth)
        await directory.post("/v1/users", json=user_body(role=Role.EXECUTIVE.value), headers=auth)
        # A refused write emits nothing.
        await directory.post("/v1/clients", json=client_body(client_type="bad"), headers=auth)
        async with db.sessions() as s:
            rows = (
                (await s.execute(select(OUTBOX.c.event_type).order_by(OUTBOX.c.id.desc()).limit(5)))
                .scalars()
                .all()
            )
            after = await s.scalar(select(func.count()).select_from(OUTBOX))
        assert after - before == 5
        assert list(reversed(rows)) == [
            "client.onboarded.v1",
            "client.updated.v1",
            "subscription.changed.v1",
            "vendor.registered.v1",
            "user.registered.v1",
        ]
    finally:
        await db.dispose()
