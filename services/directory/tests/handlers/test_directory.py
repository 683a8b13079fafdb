"""Directory's commands against the real database: rows written, events emitted, the time
taken from the unit of work's clock, another tenant's ids unknown."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from backbone.auth import Principal, TokenSigner, generate_keypair, load_pem
from backbone.clock import ManualClock
from backbone.problems import Conflict, NotFound, Unauthorized, Unprocessable
from backbone.uow import UnitOfWork
from contracts.enums import Role
from contracts.envelope import new_id
from contracts.events import (
    ApiKeyRevoked,
    ClientOnboarded,
    ClientUpdated,
    IntegrationDeleted,
    SubscriptionChanged,
)
from directory.handlers import api_keys, clients, components, integrations, tenants, users
from directory.handlers.api_keys import exchange_api_key

from .conftest import OPERATOR


def _client(n: str = "1") -> dict[str, Any]:
    return {
        "client_name": f"Client {n}",
        "registration_number": f"REG-{n}-{new_id().hex[:6]}",
        "contact_email": f"Ops{n}-{new_id().hex[:6]}@Client.example",
        "client_type": "enterprise",
    }


def _types(uow: UnitOfWork) -> list[str]:
    return [e.type for e in uow.emitted]


async def test_a_tenant_comes_with_its_administrator_and_key(uow: UnitOfWork) -> None:
    created = await tenants.create_tenant(
        uow, OPERATOR, slug="acme-handlers", name="Acme", admin_email=" Admin@Acme.example "
    )
    assert _types(uow) == ["tenant.created.v1", "user.registered.v1", "api_key.issued.v1"]
    assert uow.emitted[0].data["tenant_id"] == str(created.tenant_id)
    assert uow.emitted[1].data["email"] == "admin@acme.example"
    assert created.api_key.startswith("ipk_")
    with pytest.raises(Conflict, match="slug"):
        await tenants.create_tenant(
            uow, OPERATOR, slug="acme-handlers", name="Again", admin_email="a@b.example"
        )
    with pytest.raises(Conflict, match="already bootstrapped"):
        await tenants.bootstrap(uow, slug="other", name="Other", admin_email="a@b.example")


async def test_onboarding_a_client_writes_it_and_tells_of_it(uow: UnitOfWork, admin: Principal) -> None:
    values = _client()
    row = await clients.onboard_client(uow, admin, values)
    assert row.tenant_id == admin.tenant_id and row.contact_email == values["contact_email"].lower()
    (event,) = uow.emitted
    assert event.type == ClientOnboarded.event_type and event.data["client_id"] == str(row.id)
    assert event.actor.user_id == admin.user_id
    with pytest.raises(Conflict) as taken:
        await clients.onboard_client(
            uow, admin, {**_client("2"), "registration_number": values["registration_number"]}
        )
    assert taken.value.extra["field"] == "registration_number"


async def test_a_client_change_is_stamped_with_the_unit_of_works_time(
    uow: UnitOfWork, admin: Principal, clock: ManualClock
) -> None:
    row = await clients.onboard_client(uow, admin, _client())
    await uow.flush_events()
    changed = await clients.update_client(uow, admin, row.id, {"industry": "retail", "country": "NL"})
    assert changed.updated_at == clock.now() and changed.industry == "retail"
    (event,) = uow.emitted
    assert event.type == ClientUpdated.event_type and event.data["changed"] == ["country", "industry"]
    unchanged = await clients.update_client(uow, admin, row.id, {})
    assert unchanged.updated_at == clock.now() and len(uow.emitted) == 1  # nothing sent, nothing told


async def test_a_subscription_starts_today_by_the_clock(
    uow: UnitOfWork, admin: Principal, clock: ManualClock
) -> None:
    row = await clients.onboard_client(uow, admin, _client())
    await uow.flush_events()
    sub = await clients.set_subscription(uow, admin, row.id, {"tier": "premium", "contractual_p1": True})
    # The clock stands far from the machine's date: "today" is the unit of work's.
    assert sub.valid_from == uow.now.date() == clock.now().date() != date.today()
    (event,) = uow.emitted
    assert event.type == SubscriptionChanged.event_type
    assert event.data["valid_from"] == sub.valid_from.isoformat()
    with pytest.raises(Unprocessable, match="valid_until"):
        await clients.set_subscription(
            uow, admin, row.id, {"tier": "premium", "valid_until": clock.now().date() - timedelta(days=1)}
        )


async def test_another_tenants_ids_are_unknown(uow: UnitOfWork, admin: Principal) -> None:
    theirs = await clients.onboard_client(uow, admin, _client())
    other = await tenants.create_tenant(
        uow, OPERATOR, slug=f"o-{new_id().hex[:10]}", name="O", admin_email="o@o.example"
    )
    stranger = Principal(user_id=other.user_id, tenant_id=other.tenant_id, role=Role.SYSTEM_ADMINISTRATOR)
    with pytest.raises(NotFound, match=f"no client {theirs.id}"):
        await clients.update_client(uow, stranger, theirs.id, {"industry": "x"})
    with pytest.raises(NotFound) as linked:
        await components.register_component(uow, stranger, {"name": "db", "client_id": theirs.id})
    assert linked.value.extra["field"] == "client_id"


async def test_a_user_linked_to_an_unknown_vendor_is_refused(uow: UnitOfWork, admin: Principal) -> None:
    with pytest.raises(NotFound) as refused:
        await users.register_user(
            uow,
            admin,
            {"name": "V", "email": "v@vendor.example", "role": "vendor_contact", "vendor_id": new_id()},
        )
    assert refused.value.extra["field"] == "vendor_id"
    assert uow.emitted == []


async def test_a_component_name_is_unique_per_client(uow: UnitOfWork, admin: Principal) -> None:
    client = await clients.onboard_client(uow, admin, _client())
    await components.register_component(uow, admin, {"name": "db", "client_id": client.id})
    with pytest.raises(Conflict, match="name"):
        await components.register_component(uow, admin, {"name": "db", "client_id": client.id})


async def test_a_revoked_key_is_stamped_by_the_clock_and_buys_no_token(
    uow: UnitOfWork, admin: Principal, clock: ManualClock
) -> None:
    issued = await api_keys.issue_api_key(uow, admin, admin.user_id)
    await uow.flush_events()
    clock.advance(minutes=5)  # read when the unit of work began: every write of it has one time
    row = await api_keys.revoke_api_key(uow, admin, admin.user_id, issued.id)
    assert row.revoked_at == uow.now == clock.now() - timedelta(minutes=5)
    (event,) = uow.emitted
    assert event.type == ApiKeyRevoked.event_type and event.data["key_id"] == str(issued.id)
    again = await api_keys.revoke_api_key(uow, admin, admin.user_id, issued.id)  # idempotent
    assert again.revoked_at == row.revoked_at and len(uow.emitted) == 1
    signer = TokenSigner(load_pem(generate_keypair()[0]), 60)
    with pytest.raises(Unauthorized):
        await exchange_api_key(uow, signer, issued.api_key)
    with pytest.raises(Conflict, match="revoked"):
        await api_keys.rotate_api_key(uow, admin, admin.user_id, issued.id)


async def test_a_deleted_integration_is_gone_and_its_name_free(
    uow: UnitOfWork, admin: Principal, clock: ManualClock
) -> None:
    row, token = await integrations.create_integration(uow, admin, {"kind": "alertmanager", "name": "prom"})
    assert token and row.revision == 1
    await uow.flush_events()
    await integrations.delete_integration(uow, admin, row.id)
    (event,) = uow.emitted
    assert event.type == IntegrationDeleted.event_type and event.data["revision"] == 2
    with pytest.raises(NotFound, match=f"no integration {row.id}"):
        await integrations.update_integration(uow, admin, row.id, {"name": "x"})
    again, _ = await integrations.create_integration(uow, admin, {"kind": "alertmanager", "name": "prom"})
    assert again.id != row.id
    rotated, new_token = await integrations.rotate_integration_token(uow, admin, again.id)
    assert rotated.revision == 2 and rotated.updated_at == clock.now() and new_token != token
