"""The services' public HTTP APIs, called with the signed-in user's token: the console is a
client of them like incidentctl, never of their tables or topics (docs/adr/0014-web-console.md).

Every failure becomes an ``ApiError`` with the service's own problem detail, so a page can show
it as a message: a refusal (403), a conflict (409), bad input (422), an unreachable service
(503), a session that ended (401)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from console.config import Settings


class ApiError(Exception):
    def __init__(self, status: int, detail: str, service: str = "") -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.service = service

    @property
    def page_status(self) -> int:
        """The status of the page that shows it: the service's refusal as it was (4xx), or 502
        when the service failed or did not answer."""
        return self.status if 400 <= self.status < 500 else 502


@dataclass
class Answer:
    body: Any
    headers: Mapping[str, str]


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or f"HTTP {response.status_code}"
    if isinstance(body, dict):
        detail = body.get("detail") or body.get("title")
        if isinstance(detail, list):  # FastAPI's own validation list, should one slip through
            return "; ".join(str(d.get("msg", d)) for d in detail)
        if detail:
            return str(detail)
    return f"HTTP {response.status_code}"


class Api:
    """One connection pool for every service; each call names the service and passes the token."""

    def __init__(self, settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.bases = {
            "directory": settings.directory_url.rstrip("/"),
            "triage": settings.triage_url.rstrip("/"),
            "sla": settings.sla_url.rstrip("/"),
            "changes": settings.changes_url.rstrip("/"),
            "audit": settings.audit_url.rstrip("/"),
        }
        # Idle connections are dropped before the services' servers drop them (uvicorn: after
        # 5 s), so a request is rarely sent on a connection the server is closing.
        limits = httpx.Limits(keepalive_expiry=2.0)
        self.client = httpx.AsyncClient(timeout=settings.api_timeout_s, transport=transport, limits=limits)

    async def close(self) -> None:
        await self.client.aclose()

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        token: str | None,
        *,
        params: Any = None,
        json: Any = None,
        idempotency_key: str | None = None,
    ) -> Answer:
        headers = {"Accept": "application/json"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        try:
            response = await self._send(method, self.bases[service] + path, params, json, headers)
        except httpx.HTTPError as exc:
            raise ApiError(
                503, f"{service} did not answer ({type(exc).__name__}); try again shortly", service
            ) from exc
        if response.status_code >= 400:
            raise ApiError(response.status_code, _detail(response), service)
        body = response.json() if response.content else None
        return Answer(body, response.headers)

    async def _send(
        self, method: str, url: str, params: Any, json: Any, headers: dict[str, str]
    ) -> httpx.Response:
        """One request, sent again once if the connection broke before any answer (a pooled
        connection the server closed): reads are safe to repeat, and every write the console
        sends carries its form's Idempotency-Key, so the service applies it once."""
        try:
            return await self.client.request(method, url, params=params, json=json, headers=headers)
        except (httpx.RemoteProtocolError, httpx.ConnectError, httpx.ReadError, httpx.WriteError):
            return await self.client.request(method, url, params=params, json=json, headers=headers)

    async def get(self, service: str, path: str, token: str, params: Any = None) -> Any:
        return (await self.call(service, "GET", path, token, params=params)).body

    async def send(
        self, service: str, method: str, path: str, token: str, json: Any = None, key: str | None = None
    ) -> Any:
        """A write; ``key`` (the form's own) makes a double submit take effect once."""
        return (await self.call(service, method, path, token, json=json, idempotency_key=key)).body

    async def optional(
        self, service: str, path: str, token: str, params: Any = None
    ) -> tuple[Any, str | None]:
        """A part of a page that may be missing (a service down, a 404 not yet known, a role
        without the right): (body, None) or (None, the reason shown in its place)."""
        try:
            return await self.get(service, path, token, params), None
        except ApiError as exc:
            if exc.status == 401:
                raise
            return None, exc.detail

    async def gather(self, *calls: Any) -> list[Any]:
        return list(await asyncio.gather(*calls))

    async def exchange(self, api_key: str) -> str:
        """An API key for an access token at directory (POST /v1/auth/token)."""
        answer = await self.call("directory", "POST", "/v1/auth/token", None, json={"api_key": api_key})
        return str(answer.body["access_token"])
