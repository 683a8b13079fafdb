"""002 "Recording Performance Metrics": pre-checks and halt conditions, the value computed from
the replica's times, and the summary (docs/sla.md "Metrics")."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4

import pytest

from backbone.testing import eventually
from contracts.enums import Role, Severity
from contracts.events import IncidentAcknowledged, IncidentClosed, IncidentResolved
from sla.testing import Sla, Tenant, headline

pytestmark = pytest.mark.integration


async def _closed_incident(sla: Sla, tenant: Tenant, *, close: bool = True) -> UUID:
    incident_id = await tenant.incident(Severity.P2)
    start = sla.clock.now()
    await sla.publish(
        IncidentAcknowledged(
            **headline(incident_id, Severity.P2), acknowledged_at=start + timedelta(minutes=12)
        ),
        tenant.id,
    )
    await sla.publish(
        IncidentResolved(**headline(incident_id, Severity.P2), resolved_at=start + timedelta(minutes=90)),
        tenant.id,
    )
    if close:
        await sla.publish(
            IncidentClosed(**headline(incident_id, Severity.P2), closed_at=start + timedelta(minutes=95)),
            tenant.id,
        )

    async def settled() -> bool:
        stopped = await sla.events(incident_id, "sla.clock_stopped.v1")
        return len(stopped) == 2

    await eventually(settled, what="both clocks stopped")
    return incident_id


async def test_metric_is_computed_from_the_incident_times(sla: Sla, tenant: Tenant) -> None:
    incident_id = await _closed_incident(sla, tenant)

    async def post(
        body: dict[str, object], role: Role = Role.INCIDENT_MANAGER
    ) -> tuple[int, dict[str, object]]:
        response = await sla.client.post("/v1/metrics", json=body, headers=tenant.auth(role))
        return response.status_code, response.json()

    async def recorded() -> tuple[int, dict[str, object]] | None:
        status, body = await post(
            {"incident_id": str(incident_id), "metric_type": "mtta", "target_minutes": 15}
        )
        return (status, body) if status != 409 else None  # the close may still be on its way

    status, body = await eventually(recorded, what="the metric")
    assert status == 201, body
    assert body["calculated_value_minutes"] == 12 and body["met_target"] is True and body["metric_id"]
    status, body = await post({"incident_id": str(incident_id), "metric_type": "mttr"})
    assert (status, body["calculated_value_minutes"], body["met_target"]) == (201, 90, None)
    events = await sla.events(incident_id, "sla.metric_recorded.v1")
    assert [e["metric_type"] for e in events] == ["mtta", "mttr"]

    # Halt conditions, each a clear 4xx that writes nothing.
    assert (await post({"incident_id": str(incident_id), "metric_type": "mtta"}, Role.TECHNICAL_SUPPORT))[
        0
    ] == 403
    assert (await post({"incident_id": str(incident_id), "metric_type": "speed"}))[0] == 422
    supplied = {"incident_id": str(incident_id), "metric_type": "mtta", "calculated_value_minutes": 1}
    assert (await post(supplied))[0] == 422
    assert (await post({"incident_id": str(uuid4()), "metric_type": "mtta"}))[0] == 404
    open_incident = await _closed_incident(sla, tenant, close=False)
    status, body = await post({"incident_id": str(open_incident), "metric_type": "mtta"})
    assert status == 409 and "not closed" in str(body["detail"])
    assert len(await sla.events(incident_id, "sla.metric_recorded.v1")) == 2

    summary = await sla.client.get("/v1/metrics", headers=tenant.auth())
    assert summary.status_code == 200, summary.text
    overall = summary.json()["overall"]
    assert overall["incidents"] == 2 and overall["mtta_minutes"]["median"] == 12
    assert overall["mttr_minutes"]["mean"] == 90 and overall["breached"] == 0
    assert [g["severity"] for g in summary.json()["by_severity"]] == ["P2"]
