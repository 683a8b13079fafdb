"""An integration's token over the real broker and database, directory and intake running: a
token rotated away at directory is refused by intake and the new one accepted; a deleted
integration's token is refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from backbone.testing import Stack, eventually, new_tenant, serving, sign_in, unique
from directory.config import Settings as DirectorySettings
from directory.main import create as create_directory
from intake.config import Settings as IntakeSettings
from intake.main import create as create_intake

pytestmark = pytest.mark.integration

URL = "/v1/alerts/alertmanager"


@pytest.fixture
async def platform(stack: Stack) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    async with (
        serving(create_directory(stack.settings(DirectorySettings))) as directory,
        serving(create_intake(stack.settings(IntakeSettings))) as intake,
    ):
        yield directory, intake


def webhook() -> dict[str, Any]:
    alert = {
        "status": "firing",
        "fingerprint": unique("fp"),
        "labels": {"alertname": "DiskFull", "instance": "db-1"},
        "annotations": {"summary": "Disk full"},
        "startsAt": "2026-11-23T10:00:00Z",
    }
    return {"version": "4", "status": "firing", "receiver": "platform", "alerts": [alert]}


async def test_rotated_away_and_deleted_tokens_are_refused_by_intake(
    platform: tuple[httpx.AsyncClient, httpx.AsyncClient], operator_key: str
) -> None:
    directory, intake = platform
    admin = await sign_in(directory, (await new_tenant(directory, operator_key)).api_key)
    created = await directory.post(
        "/v1/integrations", json={"kind": "alertmanager", "name": unique("am-")}, headers=admin
    )
    assert created.status_code == 201, created.text
    integration_id, old = created.json()["id"], created.json()["token"]

    async def answer(token: str) -> int:
        response = await intake.post(URL, json=webhook(), headers={"Authorization": f"Bearer {token}"})
        assert response.status_code in (202, 401), response.text
        return response.status_code

    async def answers(token: str, status: int) -> bool:
        return await answer(token) == status

    await eventually(lambda: answers(old, 202), what="intake to accept the integration's token")

    rotated = await directory.post(f"/v1/integrations/{integration_id}/rotate-token", headers=admin)
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["token"]
    await eventually(lambda: answers(new, 202), what="intake to accept the new token")
    # The rotation is one event: once intake knows the new token it has forgotten the old one.
    assert await answer(old) == 401

    assert (await directory.delete(f"/v1/integrations/{integration_id}", headers=admin)).status_code == 204
    await eventually(lambda: answers(new, 401), what="intake to refuse the deleted integration's token")
    assert await answer(old) == 401
