"""Who sees an incident's SLA (docs/sla.md "Who sees an incident's SLA"): whoever may see the
incident, contacts only within their client or vendor; the tenant-wide reads stay with staff."""

from __future__ import annotations

from uuid import uuid4

import pytest

from backbone.testing import eventually
from contracts.enums import IncidentSource, Role, Severity
from contracts.events import IncidentCreated
from sla.testing import Sla, Tenant, headline

pytestmark = pytest.mark.integration


async def test_contacts_see_their_own_incidents_sla_and_nothing_tenant_wide(sla: Sla, tenant: Tenant) -> None:
    client_id, vendor_id = uuid4(), uuid4()
    incident_id = uuid4()
    await sla.publish(
        IncidentCreated(
            **{**headline(incident_id, Severity.P2, client_id), "vendor_id": vendor_id},
            severity_flags={},
            source=IncidentSource.MANUAL,
            detected_at=sla.clock.now(),
        ),
        tenant.id,
    )
    await eventually(lambda: tenant.clocks_shown(incident_id, 2), what="the incident's clocks")
    path = f"/v1/incidents/{incident_id}/sla"

    async def status(role: Role, **links: object) -> int:
        return (await sla.client.get(path, headers=tenant.auth(role, **links))).status_code

    # Their own client's or vendor's incident: the clocks, as staff see them.
    own = await sla.client.get(path, headers=tenant.auth(Role.CLIENT_CONTACT, client_id=client_id))
    assert own.status_code == 200, own.text
    assert [c["kind"] for c in own.json()["clocks"]] == ["response", "resolution"]
    assert await status(Role.VENDOR_CONTACT, vendor_id=vendor_id) == 200
    # Another client's or vendor's: answered like an unknown incident.
    assert await status(Role.CLIENT_CONTACT, client_id=uuid4()) == 404
    assert await status(Role.VENDOR_CONTACT, vendor_id=uuid4()) == 404
    # Another tenant's contact of the same client id: 404 too.
    outsider = sla.stack.auth(tenant_id=uuid4(), role=Role.CLIENT_CONTACT.value, client_id=client_id)
    assert (await sla.client.get(path, headers=outsider)).status_code == 404
    # Tenant-wide reads (other clients' clocks, the configuration, metrics) stay with staff.
    for tenant_wide in ("/v1/sla/clocks", "/v1/policies", "/v1/metrics", "/v1/sla/settings"):
        for role, links in (
            (Role.CLIENT_CONTACT, {"client_id": client_id}),
            (Role.VENDOR_CONTACT, {"vendor_id": vendor_id}),
        ):
            answer = await sla.client.get(tenant_wide, headers=tenant.auth(role, **links))
            assert answer.status_code == 403, (tenant_wide, role, answer.text)
