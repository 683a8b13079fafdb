"""What stops an incident's automatic escalation (triage.domain.escalation), read from the
incident as it is now, pure."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from triage.domain.escalation import ended, stopped_by
from triage.domain.incident import Incident

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
OPEN = Incident(
    id=uuid4(), tenant_id=uuid4(), reference_code="INC-000001", title="t", status="open", severity="P2"
)


@pytest.mark.parametrize(
    ("incident", "reason"),
    [
        (None, "deleted"),
        (OPEN, None),
        (replace(OPEN, deleted_at=NOW), "deleted"),
        (replace(OPEN, status="closed"), "closed"),
        (replace(OPEN, status="resolved", resolved_at=NOW), "resolved"),
        (replace(OPEN, status="acknowledged", acknowledged_at=NOW), "acknowledged"),
    ],
)
def test_what_stops_a_first_run(incident: Incident | None, reason: str | None) -> None:
    assert stopped_by(incident) == reason


def test_a_reopened_run_ignores_the_first_lifes_acknowledgement_until_the_status_moves() -> None:
    reopened_at = NOW + timedelta(hours=1)
    first_life = replace(OPEN, acknowledged_at=NOW)
    assert stopped_by(first_life, reopened_at, "open") is None
    assert stopped_by(replace(first_life, status="in_progress"), reopened_at, "open") == "acknowledged"
    assert stopped_by(replace(OPEN, acknowledged_at=reopened_at), reopened_at, "open") == "acknowledged"


def test_only_a_finished_incident_has_ended_for_sla_escalations() -> None:
    assert ended(replace(OPEN, status="resolved")) is True
    assert ended(None) is True
    assert ended(replace(OPEN, acknowledged_at=NOW)) is False
    assert ended(OPEN) is False
