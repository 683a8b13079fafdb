"""Retention of attachments over the real database and disk (docs/retention.md): the
attachments of an incident deleted long enough ago go, rows and files; a file another
attachment still uses stays; a live or recently deleted incident keeps its attachments."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from fastapi import FastAPI
from sqlalchemy import insert, select

from backbone.app import Runtime
from backbone.testing import Stack
from triage.adapters.orm import incident_attachments, incidents
from triage.config import Settings
from triage.main import create

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC)
OLD = NOW - timedelta(days=30)


@pytest.fixture
async def app(stack: Stack, tmp_path: Path) -> AsyncIterator[FastAPI]:
    app = create(stack.settings(Settings, log_level="WARNING", attachments_dir=str(tmp_path)))
    try:
        yield app
    finally:
        await app.state.runtime.db.dispose()


def store(root: Path, content: bytes) -> str:
    key = hashlib.sha256(content).hexdigest()
    path = root / key[:2] / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    old = (NOW - timedelta(days=2)).timestamp()
    os.utime(path, (old, old))
    return key


async def test_attachments_of_long_deleted_incidents_go_with_their_unshared_files(
    app: FastAPI, tmp_path: Path
) -> None:
    runtime: Runtime = app.state.runtime
    tenant = uuid4()
    gone, recent, live = uuid4(), uuid4(), uuid4()
    async with runtime.db.sessions() as s, s.begin():
        await s.execute(
            insert(incidents),
            [
                {
                    "id": i, "tenant_id": tenant, "reference_code": f"INC-{i.hex[:8]}", "title": "t",
                    "status": "open", "severity": "P3", "severity_flags": {}, "impact": {}, "source": "api",
                    "detected_at": OLD, "deleted_at": deleted_at,
                }
                for i, deleted_at in ((gone, OLD), (recent, NOW), (live, None))
            ],
        )  # fmt: skip
    own, shared, kept = store(tmp_path, b"only here"), store(tmp_path, b"shared"), store(tmp_path, b"recent")

    def attachment(incident: UUID, key: str) -> dict[str, object]:
        return {
            "id": uuid4(), "tenant_id": tenant, "incident_id": incident, "storage_key": key,
            "filename": "f.txt", "mime_type": "text/plain", "size_bytes": 1,
        }  # fmt: skip

    async with runtime.db.sessions() as s, s.begin():
        await s.execute(
            insert(incident_attachments),
            [
                attachment(gone, own),
                attachment(gone, shared),
                attachment(live, shared),
                attachment(recent, kept),
            ],
        )

    deleted = await app.state.retention.run_once(runtime)

    assert deleted["deleted_incident_attachments"] >= 2
    async with runtime.db.sessions() as s:
        left = list(
            await s.execute(
                select(incident_attachments.c.incident_id, incident_attachments.c.storage_key).where(
                    incident_attachments.c.tenant_id == tenant
                )
            )
        )
    assert sorted((r.incident_id, r.storage_key) for r in left) == sorted([(live, shared), (recent, kept)])
    assert not (tmp_path / own[:2] / own).exists()
    assert (tmp_path / shared[:2] / shared).read_bytes() == b"shared"
    assert (tmp_path / kept[:2] / kept).exists()
