"""Incident reports over the real broker and database: an incident's life is published as its
owners would (triage, sla, changes), audit logs it, and an incident manager generates a report
of it; the report reads as JSON, as Markdown, and as a page in headless Chromium. Each halt
condition answers its 4xx over HTTP and writes nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import func, select

from audit.adapters.orm import entries, reports
from audit.config import Settings as AuditSettings
from audit.main import create as create_audit
from audit.testing import incident_story
from backbone.db import Database
from backbone.testing import Stack, assert_problem, browser_fixture, eventually, on_a_port, publish, send
from contracts.enums import Role
from contracts.events import UserRegistered

pytestmark = pytest.mark.integration

HOSTILE = "<script>document.title='owned'</script><img src=x onerror=alert(1)> Payments"
START = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)


@dataclass
class Bed:
    stack: Stack
    base_url: str
    client: httpx.AsyncClient
    producer: AIOKafkaProducer
    db: Database
    tenant: UUID
    users: dict[Role, UUID]

    def auth(self, role: Role = Role.INCIDENT_MANAGER, tenant: UUID | None = None) -> dict[str, str]:
        user = self.users.get(role) if tenant is None else None
        return self.stack.auth(tenant_id=tenant or self.tenant, role=role.value, user_id=user)

    async def incident(self, **kw: Any) -> UUID:
        """An incident's life published into audit, once the log holds all of it."""
        incident_id = uuid4()
        story = incident_story(self.tenant, incident_id, START, **kw)
        for envelope in story:
            await send(self.producer, self.stack.topic_prefix, envelope)
        ids = {e.id for e in story}

        async def logged() -> bool:
            async with self.db.sessions() as s:
                query = select(func.count()).where(
                    entries.c.tenant_id == self.tenant, entries.c.event_id.in_(ids)
                )
                return await s.scalar(query) == len(ids)

        await eventually(logged, within=60, what="the incident's events in the audit log")
        return incident_id

    async def kept(self) -> int:
        async with self.db.sessions() as s:
            return await s.scalar(select(func.count()).where(reports.c.tenant_id == self.tenant)) or 0

    async def generate(self, body: dict[str, Any], role: Role = Role.INCIDENT_MANAGER) -> httpx.Response:
        return await self.client.post("/v1/reports", json=body, headers=self.auth(role))


@pytest.fixture(scope="module")
async def bed(stack: Stack) -> AsyncIterator[Bed]:
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap_servers, enable_idempotence=True)
    await producer.start()
    db = Database.connect(stack.database_url, "audit", pool_size=1)
    tenant = uuid4()
    users = {role: uuid4() for role in (Role.INCIDENT_MANAGER, Role.EXECUTIVE, Role.TECHNICAL_SUPPORT)}
    try:
        async with (
            on_a_port(create_audit(stack.settings(AuditSettings))) as base_url,
            httpx.AsyncClient(base_url=base_url) as client,
        ):
            for role, user_id in users.items():
                user = UserRegistered(user_id=user_id, tenant_id=tenant, role=role)
                await publish(producer, stack.topic_prefix, user, tenant_id=tenant)
            yield Bed(stack, base_url, client, producer, db, tenant, users)
    finally:
        await db.dispose()
        await producer.stop()


browser = browser_fixture()


async def test_a_report_of_a_real_incident_holds_its_sections_and_is_logged(bed: Bed) -> None:
    incident_id = await bed.incident()
    response = await bed.generate({"incident_id": str(incident_id), "report_type": "technical_details"})
    assert response.status_code == 201, response.text
    report_id = response.json()["report_id"]

    read = await bed.client.get(f"/v1/reports/{report_id}", headers=bed.auth(Role.EXECUTIVE))
    assert read.status_code == 200 and read.headers["content-type"] == "application/json"
    report = read.json()
    assert report["status"] == "completed" and report["incident_id"] == str(incident_id)
    assert report["summary"]["reference_code"] == "INC-42" and report["summary"]["minutes_to_resolve"] == 40.0
    assert [c["state"] for c in report["impact"]["sla"]] == ["running"]
    assert report["impact"]["sla"][0]["breached_at"]
    assert len(report["timeline"]) == report["records"] == 9
    assert {g["kind"] for g in report["actions"]} == {"escalation", "change", "task"}
    assert {o["label"] for o in report["open_actions"]} >= {"Roll back the gateway", "Call the bank"}

    async def generation_logged() -> bool:
        async with bed.db.sessions() as s:
            query = select(entries.c.actor).where(
                entries.c.tenant_id == bed.tenant,
                entries.c.event_type == "report.generated.v1",
                entries.c.subject == report_id,
            )
            actor = await s.scalar(query)
            return actor is not None and actor["user_id"] == str(bed.users[Role.INCIDENT_MANAGER])

    await eventually(generation_logged, within=60, what="report.generated.v1 in the audit log")


async def test_the_markdown_pastes_into_a_wiki(bed: Bed) -> None:
    incident_id = await bed.incident(title="Cards | *failing*")
    body = {"incident_id": str(incident_id), "report_type": "post_incident", "status": "draft"}
    report_id = (await bed.generate(body, Role.EXECUTIVE)).json()["report_id"]
    response = await bed.client.get(
        f"/v1/reports/{report_id}", headers={**bed.auth(), "Accept": "text/markdown, text/html;q=0.5"}
    )
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/markdown")
    text = response.text
    assert text.startswith("# Post-incident report: INC-42 Cards \\| \\*failing\\*\n")
    assert "draft, generated" in text
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings == ["## Summary", "## Impact", "## Timeline", "## What was done", "## Open actions"]
    rows = [
        line for line in text.split("## Timeline")[1].split("## ")[0].splitlines() if line.startswith("|")
    ]
    assert len(rows) == 2 + 9 and all(row.count(" | ") == 4 for row in rows[2:])  # header, rule, 9 records
    assert "- [ ] Changes: Roll back the gateway (requested)" in text


async def test_the_page_renders_in_chromium_with_its_timeline_and_hostile_text_inert(
    bed: Bed, browser: Any
) -> None:

    incident_id = await bed.incident(title=HOSTILE)
    report_id = (await bed.generate({"incident_id": str(incident_id), "report_type": "compliance"})).json()[
        "report_id"
    ]
    raw = await bed.client.get(f"/v1/reports/{report_id}", headers={**bed.auth(), "Accept": "text/html"})
    assert raw.status_code == 200 and raw.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in raw.headers["content-security-policy"]
    assert "<script>" not in raw.text and "&lt;script&gt;" in raw.text

    seen = await asyncio.to_thread(look, browser, f"{bed.base_url}/v1/reports/{report_id}", bed.auth())
    assert seen["title"] != "owned" and "Compliance report" in seen["title"]
    assert "<script>document.title='owned'</script>" in seen["heading"]  # shown as the text it is
    assert seen["scripts"] == seen["images"] == 0
    assert seen["sections"] == ["Summary", "Impact", "Timeline", "What was done", "Open actions"]
    assert seen["marks"] == {"status": 4, "escalation": 1, "sla-due": 1, "sla-breach": 1}
    assert seen["role"] == "img" and seen["size"]["width"] > 300 and seen["size"]["height"] > 50
    # The style applied (its hash is the only style the policy allows): the breach cross is red.
    assert seen["breach_stroke"] == "rgb(207, 34, 46)"
    assert seen["page_png"][:8] == seen["svg_png"][:8] == b"\x89PNG\r\n\x1a\n" and len(seen["svg_png"]) > 2000
    assert seen["errors"] == []


def look(browser: Any, url: str, headers: dict[str, str]) -> dict[str, Any]:
    """Open the page as a signed-in person's browser would (it asks for text/html) and note what
    it shows. Selenium blocks, so this runs off the event loop that serves the page."""
    from selenium.webdriver.common.by import By

    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": headers})
    browser.get_log("browser")  # drop anything logged before this page
    browser.get(url)
    svg = browser.find_element(By.ID, "timeline-graphic")
    breach = svg.find_element(By.CSS_SELECTOR, '[data-mark="sla-breach"] line')
    return {
        "title": browser.title,
        "heading": browser.find_element(By.TAG_NAME, "h1").text,
        "scripts": len(browser.find_elements(By.TAG_NAME, "script")),
        "images": len(browser.find_elements(By.TAG_NAME, "img")),
        "sections": [h.text for h in browser.find_elements(By.TAG_NAME, "h2") if h.is_displayed()],
        "marks": {
            kind: len(svg.find_elements(By.CSS_SELECTOR, f'[data-mark="{kind}"]'))
            for kind in ("status", "escalation", "sla-due", "sla-breach")
        },
        "role": svg.get_attribute("role"),
        "size": svg.size,
        "breach_stroke": browser.execute_script("return getComputedStyle(arguments[0]).stroke", breach),
        "page_png": browser.get_screenshot_as_png(),
        "svg_png": svg.screenshot_as_png,
        "errors": [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "ERROR")],
    }


async def test_each_halt_condition_answers_over_http_and_writes_nothing(bed: Bed) -> None:
    incident_id = await bed.incident(resolved=False)
    good = {"incident_id": str(incident_id), "report_type": "executive_summary"}
    before = await bed.kept()

    assert_problem(await bed.client.post("/v1/reports", json=good), 401)
    assert_problem(await bed.generate(good, Role.TECHNICAL_SUPPORT), 403)
    assert_problem(await bed.generate({**good, "report_type": "gossip"}), 422, "report_type")
    assert_problem(await bed.generate({"report_type": "compliance"}), 422, "incident_id")
    assert_problem(await bed.generate({**good, "incident_id": str(uuid4())}), 422, "does not exist")
    assert_problem(await bed.generate({**good, "status": "archived"}), 422, "draft or completed")
    assert_problem(await bed.generate({**good, "report_type": "post_incident"}), 409, "resolved")
    assert_problem(await bed.generate({**good, "extra": 1}), 422)
    stranger = await bed.client.post(
        "/v1/reports", json=good, headers=bed.stack.auth(tenant_id=bed.tenant, role="incident_manager")
    )
    assert_problem(stranger, 422, "does not exist in this tenant")  # a token for no user of the tenant
    other_tenant = await bed.client.post(
        "/v1/reports", json=good, headers=bed.auth(Role.INCIDENT_MANAGER, tenant=uuid4())
    )
    assert_problem(other_tenant, 422)  # the incident is not theirs (and neither is the user)
    assert await bed.kept() == before

    report_id = (await bed.generate(good)).json()["report_id"]
    assert await bed.kept() == before + 1
    assert_problem(
        await bed.client.get(
            f"/v1/reports/{report_id}", headers=bed.auth(Role.INCIDENT_MANAGER, tenant=uuid4())
        ),
        404,
    )
    assert_problem(await bed.client.get(f"/v1/reports/{uuid4()}", headers=bed.auth()), 404)
    assert_problem(
        await bed.client.get(f"/v1/reports/{report_id}", headers={**bed.auth(), "Accept": "application/xml"}),
        406,
    )


async def test_a_retry_with_its_idempotency_key_gets_the_same_report(bed: Bed) -> None:
    incident_id = await bed.incident()
    body = {"incident_id": str(incident_id), "report_type": "business_impact"}
    headers = {**bed.auth(), "Idempotency-Key": f"report-{incident_id}"}
    before = await bed.kept()
    first = await bed.client.post("/v1/reports", json=body, headers=headers)
    again = await bed.client.post("/v1/reports", json=body, headers=headers)
    assert first.status_code == again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert first.json() == again.json() and await bed.kept() == before + 1
