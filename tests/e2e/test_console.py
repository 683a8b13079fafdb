"""The web console in headless Chromium over the real platform: directory, intake, triage, sla,
changes and audit served on loopback ports over the real broker and database, the console in
front of them (docs/adr/0014-web-console.md).

An incident manager signs in with an API key, sees a new alert's incident appear in the list
without reloading, watches its response clock run out (a one-minute policy) on the list,
acknowledges it and resolves it on its page; a client contact sees only their client's
incidents. Screenshots of the list and the detail page (desktop and phone) are written to
.local/screenshots/ and their paths printed. Then, over plain HTTP: the session cookie's flags,
a forged post refused, the rows' ETag answered with 304.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from backbone.testing import Stack, browser_fixture, eventually, new_tenant, on_a_port, sign_in, unique
from console.config import Settings as ConsoleSettings
from console.main import create as create_console

pytestmark = pytest.mark.integration

SERVED = ("directory", "intake", "triage", "sla", "changes", "audit")
SCREENSHOTS = Path(__file__).resolve().parents[2] / ".local" / "screenshots"
ONE_MINUTE_RESPONSE = {
    "calendar": "24x7",
    "response_target_minutes": 1,
    "response_deadline_minutes": 1,
    "resolution_target_minutes": 120,
    "resolution_deadline_minutes": 240,
}


@dataclass
class Platform:
    urls: dict[str, str]
    console: str
    http: httpx.AsyncClient

    def api(self, service: str) -> str:
        return self.urls[service]


@pytest.fixture(scope="module")
async def platform(stack: Stack) -> AsyncIterator[Platform]:
    import importlib

    async with AsyncExitStack() as exits:
        urls = {}
        for name in SERVED:
            settings = importlib.import_module(f"{name}.config").Settings
            app = importlib.import_module(f"{name}.main").create(stack.settings(settings))
            urls[name] = await exits.enter_async_context(on_a_port(app))
        console = stack.settings(
            ConsoleSettings,
            **{f"{name}_url": urls[name] for name in ("directory", "triage", "sla", "changes", "audit")},
            cookie_secure="never",  # plain http on loopback; production is https (auto)
            poll_interval_s=1,
        )
        console_url = await exits.enter_async_context(on_a_port(create_console(console)))
        http = await exits.enter_async_context(httpx.AsyncClient(timeout=30))
        yield Platform(urls, console_url, http)


async def _ok(response: httpx.Response) -> Any:
    assert response.is_success, response.text
    return response.json()


@dataclass
class World:
    admin: dict[str, str]
    manager_key: str
    contact_key: str
    client_a: str
    client_b: str
    alert_token: str


@pytest.fixture(scope="module")
async def world(platform: Platform, operator_key: str) -> World:
    http, d = platform.http, platform.api("directory")
    tenant = await new_tenant(httpx.AsyncClient(base_url=d), operator_key)
    admin = await sign_in(httpx.AsyncClient(base_url=d), tenant.api_key)

    async def post(service: str, path: str, body: Any, who: dict[str, str] = admin) -> Any:
        return await _ok(await http.post(platform.api(service) + path, json=body, headers=who))

    clients = []
    for name in ("Acme Hosting", "Globex"):
        n = unique("")
        body = {
            "client_name": f"{name} {n}",
            "registration_number": f"R-{n}",
            "contact_email": f"c-{n}@example.com",
            "client_type": "mid_market",
        }
        clients.append((await post("directory", "/v1/clients", body))["id"])
    manager = await post(
        "directory",
        "/v1/users",
        {"name": "Iris Manager", "email": unique("im-") + "@example.com", "role": "incident_manager"},
    )
    contact = await post(
        "directory",
        "/v1/users",
        {
            "name": "Carl Contact",
            "email": unique("cc-") + "@example.com",
            "role": "client_contact",
            "client_id": clients[0],
        },
    )
    manager_key = (await post("directory", f"/v1/users/{manager['id']}/api-keys", None))["api_key"]
    contact_key = (await post("directory", f"/v1/users/{contact['id']}/api-keys", None))["api_key"]
    integration = await post("directory", "/v1/integrations", {"kind": "alertmanager", "name": unique("am-")})
    im = await sign_in(httpx.AsyncClient(base_url=d), manager_key)
    # Every tier and severity: a one-minute response deadline, so the test watches one run out.
    for tier in ("premium", "standard", "basic"):
        for severity in ("P1", "P2", "P3", "P4"):
            put = await http.put(
                f"{platform.api('sla')}/v1/policies/{tier}/{severity}", json=ONE_MINUTE_RESPONSE, headers=im
            )
            assert put.status_code == 200, put.text
    return World(admin, manager_key, contact_key, clients[0], clients[1], integration["token"])


async def reported(platform: Platform, world: World, title: str, client_id: str) -> str:
    """An incident reported at intake for the client, once intake and triage know of it."""

    async def accepted() -> str | None:
        response = await platform.http.post(
            platform.api("intake") + "/v1/incidents",
            json={"title": title, "client_id": client_id},
            headers=world.admin,
        )
        return str(response.json()["incident_id"]) if response.status_code == 202 else None

    incident_id = await eventually(accepted, what="intake to know the client")
    await opened(platform, world, incident_id)
    return incident_id


async def opened(platform: Platform, world: World, incident_id: str) -> dict[str, Any]:
    async def there() -> dict[str, Any] | None:
        response = await platform.http.get(
            f"{platform.api('triage')}/v1/incidents/{incident_id}", headers=world.admin
        )
        return response.json() if response.status_code == 200 else None

    found: dict[str, Any] = await eventually(there, what="triage to open the incident")
    return found


async def fire_alert(platform: Platform, world: World, summary: str) -> str:
    """An Alertmanager webhook at intake with the integration's token; the incident's id."""
    alert = {
        "status": "firing",
        "fingerprint": unique("fp"),
        "labels": {"alertname": "DiskFull", "instance": "db-1"},
        "annotations": {"summary": summary},
        "startsAt": "2026-11-28T10:00:00Z",
    }
    body = {"version": "4", "status": "firing", "receiver": "platform", "alerts": [alert]}

    async def accepted() -> bool:
        response = await platform.http.post(
            platform.api("intake") + "/v1/alerts/alertmanager",
            json=body,
            headers={"Authorization": f"Bearer {world.alert_token}"},
        )
        return response.status_code == 202

    await eventually(accepted, what="intake to accept the integration's token")

    async def listed() -> str | None:
        response = await platform.http.get(
            platform.api("triage") + "/v1/incidents", params={"q": summary}, headers=world.admin
        )
        found = response.json() if response.status_code == 200 else []
        return str(found[0]["id"]) if found else None

    return await eventually(listed, what="triage to open the alert's incident")


# --------------------------------------------------------------------------- in the browser


browser = browser_fixture()


def _by() -> Any:
    from selenium.webdriver.common.by import By

    return By


def until(driver: Any, condition: Callable[[Any], Any], within: float = 30, what: str = "") -> Any:
    """Wait in the page (no reload) until the condition holds; fails naming what was awaited."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException

        ignored = (NoSuchElementException, StaleElementReferenceException)
        return WebDriverWait(driver, within, poll_frequency=0.2, ignored_exceptions=ignored).until(condition)
    except TimeoutException:
        raise AssertionError(
            f"not seen within {within}s: {what}\n{driver.find_element(_by().TAG_NAME, 'body').text}"
        ) from None


def sign_in_as(driver: Any, base: str, api_key: str) -> None:
    driver.delete_all_cookies()
    driver.get(base + "/login")
    field = driver.find_element(_by().ID, "api_key")
    field.send_keys(api_key)
    driver.find_element(_by().CSS_SELECTOR, "button[type=submit]").click()
    until(
        driver,
        lambda d: d.current_url.startswith(base + "/incidents"),
        what="the incident list after sign-in",
    )


def shot(driver: Any, name: str, width: int = 1280, height: int = 1000) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver.set_window_size(width, height)
    path = SCREENSHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    print(f"screenshot: {path}")
    return path


def row_class(driver: Any, incident_id: str) -> str:
    """The row's class, read in one script: the polled list may replace the row at any moment."""
    return str(driver.execute_script(f"return document.getElementById('row-{incident_id}')?.className || ''"))


def open_row(driver: Any, incident_id: str) -> bool:
    """Follow the row's reference link, as a person would (the row may be swapped meanwhile)."""
    driver.find_element(_by().CSS_SELECTOR, f"#row-{incident_id} a").click()
    return True


def text_of(driver: Any, element_id: str) -> str:
    """Read in one script: polled parts of the page are replaced every few seconds."""
    return str(driver.execute_script(f"return document.getElementById('{element_id}')?.innerText || ''"))


def state_of(driver: Any, element_id: str) -> str:
    return str(driver.execute_script(f"return document.getElementById('{element_id}')?.dataset.state || ''"))


def row_text(driver: Any, incident_id: str) -> str:
    return str(driver.execute_script(f"return document.getElementById('row-{incident_id}')?.innerText || ''"))


def marked(driver: Any) -> bool:
    """The page's own marker: gone if the page was reloaded or left."""
    return bool(driver.execute_script("return window.__notReloaded === true"))


def click_action(driver: Any, name: str, fields: dict[str, str] | None = None) -> None:
    form = driver.find_element(_by().ID, f"form-{name}")
    for field, value in (fields or {}).items():
        form.find_element(_by().NAME, field).send_keys(value)
    form.find_element(_by().CSS_SELECTOR, "button[type=submit]").click()


async def test_a_manager_watches_a_new_alert_run_out_acknowledges_and_resolves_it(
    platform: Platform, world: World, browser: Any
) -> None:
    base = platform.console
    await asyncio.to_thread(sign_in_as, browser, base, world.manager_key)
    await asyncio.to_thread(browser.set_window_size, 1280, 1000)
    assert "incident manager" in (
        await asyncio.to_thread(lambda: browser.find_element(_by().ID, "role").text)
    )
    # The token is in an HttpOnly cookie: the page's scripts cannot see it, nor is it in the page.
    cookies = await asyncio.to_thread(browser.get_cookies)
    session = next(c for c in cookies if c["name"] == "console_session")
    assert session["httpOnly"] is True and session["sameSite"] == "Strict"
    assert await asyncio.to_thread(browser.execute_script, "return document.cookie") == ""
    assert session["value"] not in await asyncio.to_thread(lambda: browser.page_source)
    await asyncio.to_thread(browser.execute_script, "window.__notReloaded = true")

    # A new alert: its incident appears in the open list without a reload.
    summary = unique("Disk full on db-1 ")
    incident_id = await fire_alert(platform, world, summary)
    await asyncio.to_thread(
        until, browser, lambda d: row_class(d, incident_id), 30, "the alert's incident in the list"
    )
    assert await asyncio.to_thread(marked, browser), "the page was reloaded"
    assert summary in await asyncio.to_thread(row_text, browser, incident_id)

    # Its response clock (one minute) counts down, turns at risk, then breached, on the list.
    await asyncio.to_thread(
        until,
        browser,
        lambda d: "sla-ok" in row_class(d, incident_id) or "sla-risk" in row_class(d, incident_id),
        60,
        "the running response clock on the row",
    )
    first = await asyncio.to_thread(row_text, browser, incident_id)
    assert "response:" in first and "left" in first, first
    await asyncio.to_thread(
        until, browser, lambda d: "sla-breached" in row_class(d, incident_id), 120, "the breach on the row"
    )
    assert await asyncio.to_thread(marked, browser), "the page was reloaded"
    breached = await asyncio.to_thread(row_text, browser, incident_id)
    assert "BREACHED" in breached, breached
    list_shot = await asyncio.to_thread(shot, browser, "incident-list")
    await asyncio.to_thread(shot, browser, "incident-list-phone", 390, 844)
    await asyncio.to_thread(browser.set_window_size, 1280, 1000)

    # Its page: acknowledge, then resolve; each shown at once, the clocks with them.
    await asyncio.to_thread(until, browser, lambda d: open_row(d, incident_id), 30, "the row's link")
    await asyncio.to_thread(
        until, browser, lambda d: d.find_elements(_by().ID, "form-acknowledge"), 30, "the actions"
    )
    assert await asyncio.to_thread(state_of, browser, "clock-response") == "breached"
    await asyncio.to_thread(click_action, browser, "acknowledge")
    await asyncio.to_thread(
        until, browser, lambda d: d.find_elements(_by().ID, "done"), 30, "the acknowledgement"
    )
    assert await asyncio.to_thread(text_of, browser, "status") == "acknowledged"
    assert not await asyncio.to_thread(lambda: browser.find_elements(_by().ID, "form-acknowledge"))
    await asyncio.to_thread(click_action, browser, "comment", {"body": "Looking at the disk now."})
    await asyncio.to_thread(
        until, browser, lambda d: "Looking at the disk now." in d.page_source, 30, "the comment"
    )
    detail_shot = await asyncio.to_thread(shot, browser, "incident-detail", 1280, 1600)
    await asyncio.to_thread(shot, browser, "incident-detail-phone", 390, 844)
    await asyncio.to_thread(browser.set_window_size, 1280, 1000)
    await asyncio.to_thread(click_action, browser, "resolve", {"resolution": "Freed 40 GB of logs."})
    await asyncio.to_thread(
        until, browser, lambda d: text_of(d, "status") == "resolved", 30, "the resolution"
    )
    await asyncio.to_thread(
        until,
        browser,
        lambda d: state_of(d, "clock-resolution") == "met",
        30,
        "the resolution clock met",
    )
    incident = await opened(platform, world, incident_id)
    assert incident["status"] == "resolved" and incident["acknowledged_at"] is not None
    assert list_shot.stat().st_size > 0 and detail_shot.stat().st_size > 0


async def test_a_client_contact_sees_only_their_clients_incidents(
    platform: Platform, world: World, browser: Any
) -> None:
    own = await reported(platform, world, unique("Portal slow for Acme "), world.client_a)
    other = await reported(platform, world, unique("Globex mail bounced "), world.client_b)
    base = platform.console
    await asyncio.to_thread(sign_in_as, browser, base, world.contact_key)
    await asyncio.to_thread(until, browser, lambda d: row_class(d, own), 30, "the own client's incident")
    page = await asyncio.to_thread(lambda: browser.page_source)
    assert f"row-{other}" not in page
    rows = await asyncio.to_thread(lambda: browser.find_elements(_by().CSS_SELECTOR, "tr[id^=row-]"))
    assert rows and all(r.get_attribute("id") != f"row-{other}" for r in rows)
    # Only commenting is offered; the other client's incident is not found, as the API says.
    await asyncio.to_thread(browser.get, f"{base}/incidents/{own}")
    forms = await asyncio.to_thread(lambda: browser.find_elements(_by().CSS_SELECTOR, "form.action"))
    assert [f.get_attribute("id") for f in forms] == ["form-comment"]
    assert not await asyncio.to_thread(lambda: browser.find_elements(_by().LINK_TEXT, "Audit"))
    await asyncio.to_thread(browser.get, f"{base}/incidents/{other}")
    assert "Not found" in await asyncio.to_thread(lambda: browser.find_element(_by().TAG_NAME, "h1").text)


# --------------------------------------------------------------------------- over plain HTTP


@contextlib.asynccontextmanager
async def console_session(platform: Platform, api_key: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client signed in at the console as a browser would be: the session cookie it set."""
    async with httpx.AsyncClient(base_url=platform.console, timeout=30) as client:
        yield await _signed_in(client, api_key)


async def _signed_in(client: httpx.AsyncClient, api_key: str) -> httpx.AsyncClient:
    page = await client.get("/login")
    login_token = page.text.split('name="login_token" value="')[1].split('"')[0]
    signed = await client.post(
        "/login", data={"api_key": api_key, "login_token": login_token, "next": "/incidents"}
    )
    assert signed.status_code == 303 and signed.headers["location"] == "/incidents", signed.text
    cookie = signed.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    return client


async def test_a_forged_post_is_refused_and_takes_no_effect(platform: Platform, world: World) -> None:
    incident_id = await reported(platform, world, unique("Forgery target "), world.client_a)
    async with console_session(platform, world.manager_key) as client:
        forged = await client.post(f"/incidents/{incident_id}/act/acknowledge", data={})
        assert forged.status_code == 403 and "did not come from the console" in forged.text
        wrong = await client.post(f"/incidents/{incident_id}/act/acknowledge", data={"csrf_token": "x" * 32})
        assert wrong.status_code == 403
        assert (await opened(platform, world, incident_id))["status"] == "open"
        # The right token, from the page: it takes effect.
        page = (await client.get(f"/incidents/{incident_id}")).text
        csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
        done = await client.post(f"/incidents/{incident_id}/act/acknowledge", data={"csrf_token": csrf})
        assert done.status_code == 303, done.text
        assert (await opened(platform, world, incident_id))["status"] == "acknowledged"
        # A refusal of triage's is shown on the page, with its reason and status, not a 500.
        again = await client.post(
            f"/incidents/{incident_id}/act/reopen", data={"csrf_token": csrf, "reason": "x"}
        )
        assert again.status_code == 409 and "Could not reopen" in again.text


async def test_the_sign_in_refuses_a_bad_key_and_a_missing_form_token(platform: Platform) -> None:
    async with httpx.AsyncClient(base_url=platform.console, timeout=30) as client:
        page = await client.get("/login")
        login_token = page.text.split('name="login_token" value="')[1].split('"')[0]
        bad = await client.post("/login", data={"api_key": "not-a-key", "login_token": login_token})
        assert (
            bad.status_code == 401
            and "not accepted" in bad.text
            and "console_session" not in bad.headers.get("set-cookie", "")
        )
        stale = await client.post("/login", data={"api_key": "not-a-key", "login_token": "forged"})
        assert stale.status_code == 400
        # Off-site redirects after sign-in are refused: only the console's own paths.
        page = await client.get("/login", params={"next": "//evil.example/"})
        assert 'name="next" value="/incidents"' in page.text
        assert (await client.get("/incidents")).headers["location"] == "/login?next=%2Fincidents"


async def test_polled_rows_answer_304_while_nothing_changed(platform: Platform, world: World) -> None:
    async with console_session(platform, world.contact_key) as client:
        first = await client.get(
            "/incidents/rows", params={"status": "closed"}, headers={"HX-Request": "true"}
        )
        assert first.status_code == 200 and first.headers["etag"]
        again = await client.get(
            "/incidents/rows",
            params={"status": "closed"},
            headers={"HX-Request": "true", "If-None-Match": first.headers["etag"]},
        )
        assert again.status_code == 304 and again.content == b""


async def known_everywhere(platform: Platform, api_key: str) -> dict[str, str]:
    """The user's token once changes and audit know the user (their replicas of directory's)."""
    who = await sign_in(httpx.AsyncClient(base_url=platform.api("directory")), api_key)
    for service in ("changes", "audit", "triage"):

        async def knows(service: str = service) -> bool:
            return (await platform.http.get(f"{platform.api(service)}/v1/me", headers=who)).status_code == 200

        await eventually(knows, what=f"{service} to know the user")
    return who


async def test_an_approver_approves_a_change_and_reads_the_verified_audit_log(
    platform: Platform, world: World
) -> None:
    await known_everywhere(platform, world.manager_key)
    change = await _ok(
        await platform.http.post(
            platform.api("changes") + "/v1/change-requests",
            json={
                "title": unique("Rotate the TLS certificate "),
                "change_type": "normal",
                "risk_level": "low",
            },
            headers=world.admin,
        )
    )
    async with console_session(platform, world.manager_key) as client:
        listed = await client.get("/changes", params={"status": "requested"})
        assert listed.status_code == 200 and f"/changes/{change['id']}" in listed.text
        page = await client.get(f"/changes/{change['id']}")
        assert 'id="form-approve"' in page.text and 'id="form-reject"' in page.text
        csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        approved = await client.post(
            f"/changes/{change['id']}/step/approve", data={"csrf_token": csrf, "comment": "Go ahead."}
        )
        assert approved.status_code == 303, approved.text
        after = await client.get(approved.headers["location"])
        assert 'id="status">approved<' in after.text and "Go ahead." in after.text
        assert 'id="form-approve"' not in after.text
        stored = await platform.http.get(
            f"{platform.api('changes')}/v1/change-requests/{change['id']}", headers=world.admin
        )
        assert stored.json()["status"] == "approved"

        # The audit log: the approval is found by a search, and the log verifies.
        async def logged() -> str | None:
            found = await client.get("/audit", params={"event_type": "change_request.approved.v1"})
            return found.text if change["id"] in found.text else None

        await eventually(logged, what="the approval in the console's audit search")
        verified = await client.get("/audit/verify")
        assert verified.status_code == 200 and "Intact:" in verified.text, verified.text

    # A client contact takes no step on a change, and audit refuses them: a message, not a crash.
    async with console_session(platform, world.contact_key) as client:
        page = await client.get(f"/changes/{change['id']}")
        assert page.status_code == 404 or "form-" not in page.text
        refused = await client.get("/audit")
        assert refused.status_code == 403 and 'role="alert"' in refused.text


def test_every_console_page_needs_a_session() -> None:
    """The console's access table: each route is public (sign-in, health, static files) or
    sends a visitor without a session to sign in; a new route must be added here."""
    public = {("GET", "/login"), ("POST", "/login")}  # and /healthz, /readyz, /static, /metrics
    needs_session = {
        ("GET", "/"), ("GET", "/incidents"), ("GET", "/incidents/rows"), ("GET", "/incidents/{incident_id}"),
        ("GET", "/incidents/{incident_id}/live"), ("POST", "/incidents/{incident_id}/act/{name}"),
        ("GET", "/changes"), ("GET", "/changes/{change_id}"), ("POST", "/changes/{change_id}/step/{step}"),
        ("GET", "/audit"), ("GET", "/audit/verify"), ("POST", "/logout"),
    }  # fmt: skip
    app = create_console(ConsoleSettings())
    paths = app.openapi()["paths"]
    routes = {(method.upper(), path) for path, methods in paths.items() for method in methods}
    assert routes == public | needs_session
    from fastapi.testclient import TestClient

    with TestClient(app, follow_redirects=False) as client:
        for method, path in sorted(needs_session):
            url = path.format(
                incident_id="0190d0c0-0000-7000-8000-000000000001",
                change_id="x",
                name="acknowledge",
                step="approve",
            )
            response = client.request(method, url, data={"csrf_token": "x"} if method == "POST" else None)
            if path == "/":
                assert response.headers["location"] == "/incidents"
                continue
            assert response.status_code == 303, (method, path, response.status_code)
            assert response.headers["location"].startswith("/login"), (method, path)
