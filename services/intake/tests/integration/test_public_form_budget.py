"""The public form's rate limits against forged and spread-out traffic, over the real database:
X-Forwarded-For counts only from a configured proxy (and then its right-most untrusted hop), so
a client cannot dodge its address's limit by writing the header itself; and a tenant's total
budget trips when many addresses report at once."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import insert

from backbone.db import Database
from backbone.testing import Stack, unique
from intake.adapters.orm import tenants
from intake.config import Settings
from intake.main import create

pytestmark = pytest.mark.integration

PER_ADDRESS, PER_TENANT = 3, 5
PROXY, STRANGER = "10.1.2.3", "203.0.113.9"


@dataclass
class Form:
    app: FastAPI
    db: Database

    @contextlib.asynccontextmanager
    async def from_peer(self, peer: str) -> AsyncIterator[httpx.AsyncClient]:
        """A client whose TCP peer address is ``peer``."""
        transport = httpx.ASGITransport(app=self.app, client=(peer, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://intake.test") as client:
            yield client

    async def tenant(self) -> str:
        slug = unique("budget-")
        async with self.db.sessions() as s, s.begin():
            await s.execute(insert(tenants).values(id=uuid4(), slug=slug, name=slug))
        return slug


@pytest.fixture(scope="module")
async def form(stack: Stack) -> AsyncIterator[Form]:
    settings = stack.settings(
        Settings,
        log_level="WARNING",
        public_form_secret="budget-secret",
        public_rate_limit=PER_ADDRESS,
        public_rate_limit_tenant=PER_TENANT,
        trusted_proxies="10.0.0.0/8, fd00::/8",
    )
    db = Database.connect(stack.database_url, "intake", pool_size=2)
    try:
        async with LifespanManager(create(settings), startup_timeout=60) as manager:
            yield Form(manager.app, db)  # type: ignore[arg-type]
    finally:
        await db.dispose()


def report(**extra: Any) -> dict[str, Any]:
    return {
        "title": "Portal down",
        "description": "The client portal answers 502.",
        "name": "Ann Reporter",
        "email": "ann@example.com",
        **extra,
    }


async def send(client: httpx.AsyncClient, slug: str, forwarded_for: str | None = None) -> httpx.Response:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for is not None else {}
    return await client.post(f"/v1/public/{slug}/incidents", json=report(), headers=headers)


async def refused_after(
    client: httpx.AsyncClient, slug: str, accepted: list[str], then: str
) -> httpx.Response:
    """One report from each of ``accepted`` (X-Forwarded-For values), each accepted; then one from
    ``then``, refused (429)."""
    for forwarded_for in accepted:
        r = await send(client, slug, forwarded_for=forwarded_for)
        assert r.status_code == 202, r.text
    r = await send(client, slug, forwarded_for=then)
    assert r.status_code == 429, r.text
    return r


async def test_a_forged_forwarded_for_from_an_untrusted_peer_does_not_dodge_the_limit(form: Form) -> None:
    slug = await form.tenant()
    async with form.from_peer(STRANGER) as client:
        sent = [f"198.51.100.{n}" for n in range(PER_ADDRESS)]
        r = await refused_after(client, slug, sent, "198.51.100.99")
        assert "this address" in r.json()["detail"]
        assert int(r.headers["Retry-After"]) >= 1


async def test_behind_a_trusted_proxy_the_right_most_untrusted_hop_is_counted(form: Form) -> None:
    slug = await form.tenant()
    async with form.from_peer(PROXY) as proxy:
        # The client writes whatever it likes on the left; the proxy appends what it saw.
        sent = [f"192.0.2.{n}, 198.51.100.7, 10.9.9.9" for n in range(PER_ADDRESS)]
        await refused_after(proxy, slug, sent, "192.0.2.200, 198.51.100.7")
        # Another client behind the same proxy has its own counter.
        r = await send(proxy, slug, forwarded_for="198.51.100.8")
        assert r.status_code == 202, r.text
        # Rotating through one IPv6 /64 is one address (another tenant: this one's budget is spent).
        slug = await form.tenant()
        sent = [f"2001:db8:1:2::{n + 1}" for n in range(PER_ADDRESS)]
        await refused_after(proxy, slug, sent, "2001:db8:1:2::ffff")


async def test_a_tenant_budget_trips_across_many_addresses(form: Form) -> None:
    slug, other = await form.tenant(), await form.tenant()
    async with form.from_peer(PROXY) as proxy:
        sent = [f"198.51.100.{n + 20}" for n in range(PER_TENANT)]
        r = await refused_after(proxy, slug, sent, "198.51.100.60")
        assert "anyone" in r.json()["detail"]
        # Another tenant's budget is its own.
        assert (await send(proxy, other, forwarded_for="198.51.100.60")).status_code == 202


async def test_an_address_over_its_own_limit_does_not_spend_the_tenant_budget(form: Form) -> None:
    slug = await form.tenant()
    async with form.from_peer(STRANGER) as stranger:
        for _ in range(PER_TENANT * 3):
            await send(stranger, slug)
    async with form.from_peer(PROXY) as proxy:
        # The stranger spent PER_ADDRESS of the budget; others still get the rest.
        for n in range(PER_TENANT - PER_ADDRESS):
            r = await send(proxy, slug, forwarded_for=f"198.51.100.{n + 100}")
            assert r.status_code == 202, r.text


def test_more_than_one_replica_needs_the_secret() -> None:
    with pytest.raises(ValueError, match="INTAKE_PUBLIC_FORM_SECRET must be set when INTAKE_REPLICAS is 2"):
        Settings(replicas=2)
    assert Settings(replicas=2, public_form_secret="shared").replicas == 2
    assert Settings().public_form_secret is None  # one replica: a per-process secret is fine
    with pytest.raises(ValueError, match="nonsense"):
        Settings(trusted_proxies="10.0.0.0/8,nonsense")
