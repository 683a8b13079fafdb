"""HTTP answers to faults: the infrastructure's are 503 with Retry-After (a sender such as
Alertmanager resends), a bug stays a 500; both are problem+json."""

from __future__ import annotations

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import exc as sa_exc

from backbone.problems import install


def _app() -> FastAPI:
    app = FastAPI()
    install(app)

    @app.get("/too-many-connections")
    async def too_many() -> None:
        raise sa_exc.DBAPIError("SELECT 1", None, asyncpg.exceptions.TooManyConnectionsError("full"))

    @app.get("/statement-timeout")
    async def timeout() -> None:
        raise sa_exc.DBAPIError("SELECT 1", None, asyncpg.exceptions.QueryCanceledError("timeout"))

    @app.get("/bug")
    async def bug() -> None:
        raise ValueError("a bug")

    return app


@pytest.mark.parametrize("path", ["/too-many-connections", "/statement-timeout"])
async def test_infrastructure_fault_is_503_with_retry_after(path: str) -> None:
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        r = await client.get(path)
    assert r.status_code == 503
    assert r.headers["retry-after"] == "1"
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["status"] == 503


async def test_bug_is_500() -> None:
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        r = await client.get("/bug")
    assert r.status_code == 500
    assert "retry-after" not in r.headers
    assert r.json()["status"] == 500
