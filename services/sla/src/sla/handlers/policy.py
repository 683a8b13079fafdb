"""Policy commands (docs/sla.md "Policies"): replace one tier and severity's figures. The
caller's unit of work commits. Clocks already running keep the figures they started with."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backbone.auth import Principal
from backbone.problems import Unprocessable
from backbone.uow import UnitOfWork
from contracts.enums import Severity, SubscriptionTier
from contracts.events import SlaPolicyChanged
from sla.adapters import policy as policies
from sla.domain import policy as rules
from sla.domain.policy import Policy, PolicyError


async def put_policy(
    uow: UnitOfWork,
    caller: Principal,
    tier: SubscriptionTier,
    severity: Severity,
    values: Mapping[str, Any],
) -> Policy:
    """``values``: calendar and the four figures."""
    try:
        policy = rules.make(tier, severity, values)
    except PolicyError as exc:
        raise Unprocessable(str(exc), field=exc.field) from None
    await policies.put(uow.session, caller.tenant_id, policy, by=caller.user_id, at=uow.now)
    uow.emit(
        SlaPolicyChanged(tier=tier, severity=severity, calendar=policy.calendar, **rules.figures(policy)),
        tenant_id=caller.tenant_id,
        actor=caller.actor,
    )
    return policy
