"""The public report form (004 "Public Intake") over the real broker and database: intake is
served on a loopback TCP port so headless Chromium can load the form, fill it in and send it;
the incident then opens at triage. Then the anti-abuse rules over plain HTTP: unknown tenants,
anti-forgery token and origin, honeypot, rate limit, size and field limits."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import func, select

from backbone.db import Database
from backbone.testing import (
    Stack,
    browser_fixture,
    eventually,
    on_a_port,
    outbox_events,
    producer_and_db,
    serving,
    unique,
)
from contracts.envelope import Envelope
from contracts.events import IncidentReported, TenantCreated
from contracts.topics import Topic
from intake.adapters.orm import outbox, tenants
from intake.adapters.reports import public_submissions, reporters
from intake.config import Settings as IntakeSettings
from intake.main import create as create_intake
from triage.config import Settings as TriageSettings
from triage.main import create as create_triage

pytestmark = pytest.mark.integration

RATE_LIMIT = 20  # above what one test sends to one tenant, but for the rate-limit test
PROBLEM_JSON = "application/problem+json"


@dataclass
class Bed:
    stack: Stack
    base_url: str
    db: Database
    producer: AIOKafkaProducer
    triage: httpx.AsyncClient

    async def tenant(self, name: str = "Acme Hosting") -> tuple[UUID, str]:
        """A tenant as directory announces it; answers once intake's replica holds it."""
        tenant_id, slug = uuid4(), unique("pub-")
        envelope = Envelope.wrap(
            TenantCreated(tenant_id=tenant_id, slug=slug, name=name), source="directory", tenant_id=tenant_id
        )
        await self.producer.send_and_wait(
            self.stack.topic_prefix + Topic.DIRECTORY_EVENTS,
            envelope.model_dump_json().encode(),
            key=envelope.subject.encode(),
        )

        async def known() -> bool:
            async with self.db.sessions() as s:
                return await s.scalar(select(tenants.c.id).where(tenants.c.id == tenant_id)) is not None

        await eventually(known, what="intake's tenant replica")
        return tenant_id, slug

    async def written(self, tenant_id: UUID) -> tuple[int, int, int]:
        """Reporters and submissions of the tenant, and every outbox row."""
        async with self.db.sessions() as s:
            n_reporters = await s.scalar(
                select(func.count()).select_from(reporters).where(reporters.c.tenant_id == tenant_id)
            )
            n_submissions = await s.scalar(
                select(func.count())
                .select_from(public_submissions)
                .where(public_submissions.c.tenant_id == tenant_id)
            )
            n_events = await s.scalar(select(func.count()).select_from(outbox))
        return int(n_reporters or 0), int(n_submissions or 0), int(n_events or 0)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base_url, follow_redirects=False)


@pytest.fixture(scope="module")
async def bed(stack: Stack) -> AsyncIterator[Bed]:
    settings = stack.settings(
        IntakeSettings, public_form_secret="test-form-secret", public_rate_limit=RATE_LIMIT
    )
    async with (
        producer_and_db(stack, "intake") as (producer, db),
        on_a_port(create_intake(settings)) as base_url,
        serving(create_triage(stack.settings(TriageSettings))) as triage,
    ):
        yield Bed(stack, base_url, db, producer, triage)


# --------------------------------------------------------------------------- in the browser


browser = browser_fixture()


def fill_and_send(driver: Any, url: str, fields: dict[str, str]) -> None:
    """Loads the form, types into its fields and presses the button, as a person would."""
    from selenium.webdriver.common.by import By

    driver.get(url)
    for name, value in fields.items():
        element = driver.find_element(By.NAME, name)
        element.clear()
        element.send_keys(value)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()


def page(driver: Any) -> tuple[str, str]:
    from selenium.webdriver.common.by import By

    return driver.current_url, driver.find_element(By.TAG_NAME, "body").text


async def test_a_person_reports_through_the_form_in_chromium(bed: Bed, browser: Any) -> None:
    tenant_id, slug = await bed.tenant("Acme Hosting")
    form_url = f"{bed.base_url}/public/{slug}/report"

    # First with mistakes: the form comes back naming them, keeping what was typed.
    await asyncio.to_thread(
        fill_and_send, browser, form_url, {"title": "Portal down", "name": "Ada Lovelace", "email": "ada@"}
    )
    url, text = await asyncio.to_thread(page, browser)
    assert url.endswith(f"/v1/public/{slug}/incidents"), url
    assert "Please correct 1 field" in text and "Email:" in text, text
    assert (await bed.written(tenant_id))[:2] == (0, 0)

    fields = {
        "title": "Customer portal shows error 502",
        "description": "Since 09:40 every login ends on a 502 page.\nSeveral colleagues see it too.",
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "phone": "+44 20 7946 0958",
        "organization": "Analytical Engines Ltd",
    }
    await asyncio.to_thread(fill_and_send, browser, form_url, fields)
    url, text = await asyncio.to_thread(page, browser)
    assert f"/public/{slug}/report/submitted?reference=" in url, url
    assert "your report was received" in text
    reference = re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", text)
    assert reference is not None, text
    incident_id = UUID(reference.group(0))

    # Stored in intake: the submission and its reporter, only what the form asked.
    async with bed.db.sessions() as s:
        row = (
            await s.execute(
                select(reporters)
                .join(public_submissions, public_submissions.c.reporter_id == reporters.c.id)
                .where(public_submissions.c.incident_id == incident_id)
            )
        ).one()
    assert row.tenant_id == tenant_id
    assert (row.name, row.email, row.phone, row.organization) == (
        "Ada Lovelace",
        "ada@example.com",
        "+44 20 7946 0958",
        "Analytical Engines Ltd",
    )
    (envelope, *_) = await outbox_events(bed.db, event_type=IncidentReported.event_type, key=incident_id)
    event = IncidentReported.model_validate(envelope.data)
    assert event.source.value == "public"
    assert event.reporter is not None and event.reporter.id == row.id and event.reporter.kind == "public"
    assert event.title == fields["title"] and event.description == fields["description"].replace("\n", "\r\n")

    # And the incident opens at triage.
    async def opened() -> dict[str, Any] | None:
        r = await bed.triage.get(f"/v1/incidents/{incident_id}", headers=bed.stack.auth(tenant_id=tenant_id))
        return r.json() if r.status_code == 200 else None

    incident = await eventually(opened, what="triage to open the publicly reported incident")
    assert incident["title"] == fields["title"]
    assert incident["source"] == "public"

    # Reloading the confirmation page sends nothing again.
    before = await bed.written(tenant_id)
    await asyncio.to_thread(browser.refresh)
    assert (await bed.written(tenant_id))[:2] == before[:2]


# --------------------------------------------------------------------------- over plain HTTP


async def form_token(http: httpx.AsyncClient, slug: str) -> str:
    r = await http.get(f"/public/{slug}/report")
    assert r.status_code == 200, r.text
    found = re.search(r'name="csrf_token" value="([^"]+)"', r.text)
    assert found is not None
    return found.group(1)


def good(**overrides: str) -> dict[str, str]:
    return {"title": "Cannot log in", "name": "Grace", "email": "grace@example.com", **overrides}


async def test_the_form_page_is_self_contained_and_locked_down(bed: Bed) -> None:
    _, slug = await bed.tenant("Plain & <Simple>")
    async with bed.client() as http:
        r = await http.get(f"/public/{slug}/report")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "form-action 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "Plain &amp; &lt;Simple&gt;" in r.text  # the tenant's name, escaped
    assert "<script" not in r.text and "http://" not in r.text and "https://" not in r.text
    cookie = r.headers["set-cookie"].lower()
    assert (
        "httponly" in cookie and "samesite=strict" in cookie and f"path=/v1/public/{slug}/incidents" in cookie
    )


async def test_an_unknown_tenant_looks_like_any_unknown_page(bed: Bed) -> None:
    async with bed.client() as http:
        unknown_page = await http.get("/no/such/page")
        form = await http.get("/public/no-such-tenant/report")
        submitted = await http.get(f"/public/no-such-tenant/report/submitted?reference={uuid4()}")
        post = await http.post("/v1/public/no-such-tenant/incidents", json=good())
    for r in (form, submitted, post):
        assert r.status_code == 404
        assert r.headers["content-type"] == PROBLEM_JSON
        body, expected = r.json(), unknown_page.json()
        body.pop("instance"), expected.pop("instance")
        assert body == expected


async def test_json_reports_are_accepted_and_bad_ones_name_the_field(bed: Bed) -> None:
    tenant_id, slug = await bed.tenant()
    url = f"/v1/public/{slug}/incidents"
    async with bed.client() as http:
        r = await http.post(url, json=good(phone="0301234567", category="login"))
        assert r.status_code == 202, r.text
        incident_id = UUID(r.json()["incident_id"])
        assert (await bed.written(tenant_id))[:2] == (1, 1)

        before = await bed.written(tenant_id)
        cases: list[tuple[Any, dict[str, str], int, str]] = [
            (good(email="nope"), {}, 422, "email"),
            (good(title=""), {}, 422, "title"),
            (good(title="t" * 301), {}, 422, "title"),
            (good(name="n" * 201), {}, 422, "name"),
            (good(description="d" * 10_001), {}, 422, "description"),
            (good(phone="ring ring"), {}, 422, "phone"),
            ({**good(), "impact": {"regulatory_safety_financial": True}}, {}, 422, "impact"),
            ({"title": "only a title"}, {}, 422, "name"),
            (["a list"], {}, 422, "JSON object"),
            (good(description="x" * (600 * 1024)), {}, 413, "512 KB"),
        ]
        for body, headers, status, words in cases:
            r = await http.post(url, json=body, headers=headers)
            assert r.status_code == status, (body if len(str(body)) < 200 else "big", r.text)
            assert r.headers["content-type"] == PROBLEM_JSON
            assert words in r.json()["detail"], r.json()
        r = await http.post(url, content=b'{"title": ', headers={"Content-Type": "application/json"})
        assert r.status_code == 422 and "JSON" in r.json()["detail"], r.text
        r = await http.post(url, content=b"title=x", headers={"Content-Type": "text/plain"})
        assert r.status_code == 415, r.text
        assert await bed.written(tenant_id) == before
    assert incident_id


async def test_a_filled_honeypot_looks_accepted_but_writes_nothing(bed: Bed) -> None:
    tenant_id, slug = await bed.tenant()
    before = await bed.written(tenant_id)
    async with bed.client() as http:
        r = await http.post(f"/v1/public/{slug}/incidents", json=good(website="http://cheap-pills.example"))
        assert r.status_code == 202, r.text
        assert set(r.json()) == {"status", "incident_id"}

        token = await form_token(http, slug)
        r = await http.post(
            f"/v1/public/{slug}/incidents", data={**good(website="spam"), "csrf_token": token}
        )
        assert r.status_code == 303
        assert f"/public/{slug}/report/submitted?reference=" in r.headers["location"]
    assert await bed.written(tenant_id) == before


async def test_the_form_needs_its_token_its_cookie_and_its_own_origin(bed: Bed) -> None:
    tenant_id, slug = await bed.tenant()
    other_id, other_slug = await bed.tenant()
    url = f"/v1/public/{slug}/incidents"
    before = await bed.written(tenant_id)
    async with bed.client() as http:
        token = await form_token(http, slug)
        other_token = await form_token(http, other_slug)
        refused = [
            ({**good()}, {}, "security token is missing"),
            ({**good(), "csrf_token": token + "x"}, {}, "not valid"),
            ({**good(), "csrf_token": other_token}, {}, "another form"),
        ]
        for data, headers, words in refused:
            r = await http.post(url, data=data, headers=headers)
            assert r.status_code == 403, r.text
            assert words in r.text
            assert 'value="Cannot log in"' in r.text  # what was typed is kept

        # Another site's page: a browser says so, and the request is refused before anything.
        for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
            r = await http.post(url, data={**good(), "csrf_token": token}, headers=headers)
            assert r.status_code == 403 and r.headers["content-type"] == PROBLEM_JSON, r.text
            r = await http.post(url, json=good(), headers=headers)
            assert r.status_code == 403, r.text

    # The token without the browser's cookie (another site fetched a token for itself).
    async with bed.client() as cookieless:
        r = await cookieless.post(url, data={**good(), "csrf_token": token})
        assert r.status_code == 403 and "cookie" in r.text, r.text
    assert await bed.written(tenant_id) == before

    async with bed.client() as http:
        token = await form_token(http, slug)
        r = await http.post(
            url,
            data={**good(), "csrf_token": token},
            headers={"Origin": bed.base_url, "Sec-Fetch-Site": "same-origin"},
        )
        assert r.status_code == 303, r.text
    assert (await bed.written(tenant_id))[:2] == (before[0] + 1, before[1] + 1)
    assert (await bed.written(other_id))[:2] == (0, 0)


async def test_submissions_are_rate_limited_per_tenant_and_address(bed: Bed) -> None:
    tenant_id, slug = await bed.tenant()
    other_id, other_slug = await bed.tenant()
    async with bed.client() as http:
        # Refused attempts count too: one bad one, then good ones up to the limit.
        r = await http.post(f"/v1/public/{slug}/incidents", json=good(email="x"))
        assert r.status_code == 422
        for _ in range(RATE_LIMIT - 1):
            r = await http.post(f"/v1/public/{slug}/incidents", json=good())
            assert r.status_code == 202, r.text
        before = await bed.written(tenant_id)
        r = await http.post(f"/v1/public/{slug}/incidents", json=good())
        assert r.status_code == 429, r.text
        assert r.headers["content-type"] == PROBLEM_JSON
        assert 1 <= int(r.headers["retry-after"]) <= 600
        token = await form_token(http, slug)
        r = await http.post(f"/v1/public/{slug}/incidents", data={**good(), "csrf_token": token})
        assert r.status_code == 429 and "Too many reports" in r.text and "retry-after" in r.headers
        assert await bed.written(tenant_id) == before

        # Another tenant's form is counted apart.
        r = await http.post(f"/v1/public/{other_slug}/incidents", json=good())
        assert r.status_code == 202, r.text
    assert (await bed.written(other_id))[:2] == (1, 1)
