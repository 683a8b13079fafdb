"""Fixtures of the incident-record tests: one running triage per test module (real Kafka and
PostgreSQL), and a fresh tenant per test (helpers in triage.testing)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import uuid4

import pytest

from backbone.testing import Stack, producer_and_db, serving
from triage.config import Settings as TriageSettings
from triage.main import create as create_triage
from triage.testing import Tenant, Triage


@pytest.fixture(scope="module")
async def triage(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Triage]:
    attachments = tmp_path_factory.mktemp("attachments")
    settings = stack.settings(
        TriageSettings, attachments_dir=str(attachments), attachment_max_bytes=64 * 1024
    )
    async with (
        producer_and_db(stack, "triage") as (producer, db),
        serving(create_triage(settings)) as client,
    ):
        yield Triage(stack, client, producer, db, attachments)


@pytest.fixture
def tenant(triage: Triage) -> Tenant:
    return Tenant(triage, uuid4())
