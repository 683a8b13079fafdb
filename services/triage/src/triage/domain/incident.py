"""Incident identity and linking rules. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from contracts.events.intake import ImpactFacts


def reference_code(number: int) -> str:
    """Per-tenant, human-friendly: INC-000123 (grows past six digits when it must)."""
    return f"INC-{number:06d}"


@dataclass(frozen=True)
class Component:
    """What triage knows of a directory component (its replica row)."""

    id: UUID
    tenant_id: UUID
    client_id: UUID
    vendor_id: UUID | None
    business_critical: bool


@dataclass(frozen=True)
class Links:
    """The parties an incident is linked to, which decide who may see it."""

    client_id: UUID | None
    vendor_id: UUID | None


def links(tenant_id: UUID, client_id: UUID | None, component: Component | None) -> Links:
    """The reported client wins; the component's client fills in when none was reported, and the
    vendor always comes from the component. A component of another tenant links nothing."""
    if component is None or component.tenant_id != tenant_id:
        return Links(client_id=client_id, vendor_id=None)
    return Links(client_id=client_id or component.client_id, vendor_id=component.vendor_id)


def with_component_facts(impact: ImpactFacts, tenant_id: UUID, component: Component | None) -> ImpactFacts:
    """A business-critical component makes the incident business-critical unless the report
    said otherwise (an explicit ``business_critical`` in the report wins)."""
    if component is None or component.tenant_id != tenant_id or impact.business_critical is not None:
        return impact
    if not component.business_critical:
        return impact
    return impact.model_copy(update={"business_critical": True})


@dataclass(frozen=True)
class Prior:
    """An earlier incident, as far as recurrence cares."""

    tenant_id: UUID
    dedup_key: str | None
    component_id: UUID | None
    detected_at: datetime


def is_recurrent(
    history: Iterable[Prior],
    *,
    tenant_id: UUID,
    dedup_key: str | None,
    component_id: UUID | None,
    detected_at: datetime,
    window: timedelta,
) -> bool:
    """Recurrent (001 P1 condition): another incident of the tenant had the same dedup key or
    the same component within ``window`` before this one was detected (docs/architecture.md)."""
    if dedup_key is None and component_id is None:
        return False
    since = detected_at - window
    for prior in history:
        if prior.tenant_id != tenant_id or not since <= prior.detected_at <= detected_at:
            continue
        if (dedup_key is not None and prior.dedup_key == dedup_key) or (
            component_id is not None and prior.component_id == component_id
        ):
            return True
    return False
