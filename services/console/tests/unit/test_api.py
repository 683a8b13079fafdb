"""The API client's handling of a broken connection: a request whose connection broke before
any answer is sent once more with the same Idempotency-Key (the service applies it once); a
timeout is not repeated; a refusal keeps the service's own detail."""

from __future__ import annotations

import httpx
import pytest

from console.adapters.api import Api, ApiError
from console.config import Settings


def api_over(handler: object) -> Api:
    return Api(Settings(api_timeout_s=1), transport=httpx.MockTransport(handler))  # type: ignore[arg-type]


async def test_a_dropped_connection_is_retried_once_with_the_same_key() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 1:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        return httpx.Response(200, json={"status": "acknowledged"})

    api = api_over(handler)
    body = await api.send("triage", "POST", "/v1/incidents/x/acknowledge", "tok", None, "form-1")
    assert body == {"status": "acknowledged"}
    assert [r.headers["Idempotency-Key"] for r in seen] == ["form-1", "form-1"]
    assert seen[0].headers["Authorization"] == "Bearer tok"
    await api.close()


async def test_a_timeout_is_not_repeated_and_becomes_a_message() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        raise httpx.ReadTimeout("slow")

    api = api_over(handler)
    with pytest.raises(ApiError) as caught:
        await api.get("sla", "/v1/incidents/x/sla", "tok")
    assert calls == 1 and caught.value.status == 503 and caught.value.page_status == 502
    assert "sla did not answer" in caught.value.detail
    await api.close()


async def test_a_refusal_keeps_the_services_detail_and_status() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        problem = {"type": "about:blank", "title": "Conflict", "status": 409, "detail": "already resolved"}
        return httpx.Response(409, json=problem, headers={"content-type": "application/problem+json"})

    api = api_over(handler)
    with pytest.raises(ApiError) as caught:
        await api.send("triage", "POST", "/v1/incidents/x/resolve", "tok")
    assert (caught.value.status, caught.value.detail, caught.value.page_status) == (
        409,
        "already resolved",
        409,
    )
    await api.close()
