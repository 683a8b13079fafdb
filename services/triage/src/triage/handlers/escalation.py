"""Automatic escalation: event handlers and the timer's firing function.
One function each; the caller's unit of work commits (docs/escalation.md).

Time comes from the unit of work (``uow.now``) and, for the timer, from the loop's clock
(``backbone.clock``), so tests move it by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from backbone.clock import Clock
from backbone.uow import UnitOfWork
from contracts.enums import EscalationTrigger, Role, Severity
from contracts.envelope import Envelope, new_id
from contracts.events import (
    IncidentAcknowledged,
    IncidentClosed,
    IncidentCreated,
    IncidentDeleted,
    IncidentEscalated,
    IncidentReopened,
    IncidentResolved,
    IncidentStatusChanged,
    SlaAtRisk,
    SlaBreached,
)
from triage.adapters import escalation as store
from triage.adapters.escalation import COMPLETED, RUNNING, STOPPED
from triage.domain.escalation import (
    FIRST,
    Level,
    Policy,
    Run,
    Step,
    choose_policy,
    ended,
    following,
    jump,
    level_of,
    moved_to,
    page,
    stopped_by,
)
from triage.domain.incident import Incident

# Which incident event stops a running escalation, and the reason it records.
STOP_REASONS: dict[str, str] = {
    IncidentAcknowledged.event_type: "acknowledged",
    IncidentResolved.event_type: "resolved",
    IncidentClosed.event_type: "closed",
    IncidentDeleted.event_type: "deleted",
}


@dataclass(frozen=True)
class _Page:
    """One page about to be sent: whom, why, and the history row's dedupe key."""

    cause: str
    dedupe_key: str
    user_ids: Sequence[UUID]
    roles: Sequence[str]
    step: Step | None = None
    policy_id: UUID | None = None
    run: int | None = None
    reason: str | None = None


class Escalations:
    """The handlers of automatic escalation; ``clock`` is the service's, which its timer loop
    reads (the consumers take the time from their unit of work)."""

    def __init__(
        self,
        clock: Clock,
        *,
        fallback_role: str = Role.INCIDENT_MANAGER.value,
        batch: int = 100,
    ) -> None:
        self.clock = clock
        self.fallback_role = fallback_role
        self.batch = batch

    # -- paging ------------------------------------------------------------------------------

    @staticmethod
    def _step_row(incident: Incident, p: _Page, now: datetime) -> dict[str, Any]:
        return {
            "id": new_id(),
            "tenant_id": incident.tenant_id,
            "incident_id": incident.id,
            "dedupe_key": p.dedupe_key,
            "run": p.run,
            "trigger": EscalationTrigger.AUTOMATIC.value,
            "cause": p.cause,
            "policy_id": p.policy_id,
            "level": p.step.level if p.step else None,
            "loop": p.step.loop if p.step else 0,
            "target_user_ids": [str(u) for u in p.user_ids],
            "target_roles": list(p.roles),
            "reason": p.reason,
            "fired_at": now,
        }

    @staticmethod
    def _announce(
        uow: UnitOfWork, incident: Incident, step: dict[str, Any], p: _Page, caused_by: Envelope | None
    ) -> None:
        """IncidentEscalated for a recorded page, its headline from the incident row."""
        uow.emit(
            IncidentEscalated(
                **incident.headline(),
                escalation_id=step["id"],
                trigger=EscalationTrigger.AUTOMATIC,
                cause=p.cause,
                reason=p.reason,
                level=step["level"],
                loop=step["loop"],
                policy_id=p.policy_id,
                target_user_ids=list(p.user_ids),
                target_roles=list(p.roles),
                escalated_at=step["fired_at"],
            ),
            tenant_id=incident.tenant_id,
            caused_by=caused_by,
        )

    async def _page(
        self, uow: UnitOfWork, incident: Incident, p: _Page, now: datetime, caused_by: Envelope | None
    ) -> bool:
        """Record the page and announce it; False when this page was already made (a
        redelivered event, another replica), so nothing is sent twice."""
        step = self._step_row(incident, p, now)
        if not await store.record_steps(uow.session, [step]):
            return False
        self._announce(uow, incident, step, p, caused_by)
        return True

    @staticmethod
    def _policy_page(
        policy_id: UUID,
        levels: Sequence[Level],
        step: Step,
        run: int | None,
        key: str,
        cause: str = "policy",
    ) -> _Page:
        level = level_of(levels, step)
        return _Page(
            cause=cause,
            dedupe_key=key,
            user_ids=level.user_ids,
            roles=level.roles,
            step=step,
            policy_id=policy_id,
            run=run,
            reason=f"level {step.level} of the escalation policy"
            + (f", loop {step.loop}" if step.loop else ""),
        )

    async def _start(
        self,
        uow: UnitOfWork,
        incident: Incident,
        policy: Policy,
        now: datetime,
        caused_by: Envelope | None,
        *,
        ack_after: datetime | None,
        reopened_status: str | None = None,
        cause: str = "policy",
        dedupe_key: str | None = None,
    ) -> None:
        """Start (or, after a reopen, restart) the incident's escalation: page level 1 now and
        schedule level 2. The run row is locked first, so a concurrent start waits and then
        sees it."""
        existing = await store.locked_run(uow.session, incident.id)
        run_no = existing.run + 1 if existing else 1
        seq = (existing.seq if existing else 0) + 1
        plan = page(policy.levels, policy.loops, FIRST, now)
        p = self._policy_page(policy.id, policy.levels, FIRST, run_no, dedupe_key or f"{run_no}:{seq}", cause)
        if not await self._page(uow, incident, p, now, caused_by):
            return
        values = {
            "tenant_id": incident.tenant_id,
            "policy_id": policy.id,
            "policy_name": policy.name,
            "levels": store.levels_json(policy.levels),
            "loops": policy.loops,
            "run": run_no,
            "seq": seq,
            "level": FIRST.level,
            "loop": FIRST.loop,
            "status": COMPLETED if plan.done else RUNNING,
            "stop_reason": None,
            "ack_after": ack_after,
            "reopened_status": reopened_status,
            "started_at": now,
            "next_due_at": plan.next_due_at,
        }
        if existing is None:
            await store.insert_runs(uow.session, [{"incident_id": incident.id, **values}])
        else:
            await store.update_run(uow.session, incident.id, values)

    # -- incident events ---------------------------------------------------------------------

    async def start(self, uow: UnitOfWork, batch: list[tuple[Envelope, IncidentCreated]]) -> None:
        """New incidents: where a policy applies, page its level 1 at once and schedule the
        next step. Set-based, as incidents arrive in storms: a few statements per batch. Policy
        and headline come from the incident row as it is now (it may have been re-triaged)."""
        now = uow.now
        rows = await store.incident_rows(uow.session, (e.incident_id for _, e in batch))
        policies = await store.policies_of(uow.session, (r.tenant_id for r in rows.values()))
        started = await store.started(uow.session, rows)
        todo: dict[UUID, tuple[Envelope, Incident, Policy, _Page, dict[str, Any]]] = {}
        for envelope, event in batch:
            incident = rows.get(event.incident_id)
            # Started already: by an earlier copy of the event, or by an SLA warning.
            if incident is None or incident.id in started or incident.id in todo:
                continue
            if stopped_by(incident) is not None:
                continue
            severity = Severity(incident.severity)
            policy = choose_policy(policies.get(incident.tenant_id, ()), incident.client_id, severity)
            if policy is None:
                continue
            p = self._policy_page(policy.id, policy.levels, FIRST, 1, "1:1")
            todo[incident.id] = (envelope, incident, policy, p, self._step_row(incident, p, now))
        if not todo:
            return
        fresh = await store.record_steps(uow.session, [t[4] for t in todo.values()])
        runs = []
        for envelope, incident, policy, p, step in todo.values():
            if step["id"] not in fresh:
                continue
            plan = page(policy.levels, policy.loops, FIRST, now)
            runs.append(
                {
                    "incident_id": incident.id,
                    "tenant_id": incident.tenant_id,
                    "policy_id": policy.id,
                    "policy_name": policy.name,
                    "levels": store.levels_json(policy.levels),
                    "loops": policy.loops,
                    "run": 1,
                    "seq": 1,
                    "level": FIRST.level,
                    "loop": FIRST.loop,
                    "status": COMPLETED if plan.done else RUNNING,
                    "started_at": now,
                    "next_due_at": plan.next_due_at,
                }
            )
            self._announce(uow, incident, step, p, envelope)
        if runs:
            # No ON CONFLICT: an SLA event starting one of these at this very moment (another
            # replica) fails this batch, which is retried and then sees that run.
            await store.insert_runs(uow.session, runs)

    async def restart(self, uow: UnitOfWork, batch: list[tuple[Envelope, IncidentReopened]]) -> None:
        """A reopened incident needs someone again: the policy starts over from level 1. The
        new run stops when the status moves on from the one the reopen left (acknowledging it
        again moves the status; it keeps its first acknowledgement time), or at a new
        acknowledgement from the reopening on."""
        now = uow.now
        rows = await store.incident_rows(uow.session, (d.incident_id for _, d in batch))
        policies = await store.policies_of(uow.session, (r.tenant_id for r in rows.values()))
        for envelope, event in batch:
            incident = rows.get(event.incident_id)
            if incident is None or stopped_by(incident, event.reopened_at, event.status) is not None:
                continue
            severity = Severity(incident.severity)
            policy = choose_policy(policies.get(incident.tenant_id, ()), incident.client_id, severity)
            if policy is not None:
                await self._start(
                    uow,
                    incident,
                    policy,
                    now,
                    envelope,
                    ack_after=event.reopened_at,
                    reopened_status=event.status,
                )

    async def stop(
        self,
        uow: UnitOfWork,
        batch: list[
            tuple[Envelope, IncidentAcknowledged | IncidentResolved | IncidentClosed | IncidentDeleted]
        ],
    ) -> None:
        """Acknowledged, resolved, closed or deleted: no more pages. (The timer also checks the
        incident row when it fires, for an acknowledgement whose event is still on its way.)"""
        by_reason: dict[str, set[UUID]] = {}
        for envelope, event in batch:
            by_reason.setdefault(STOP_REASONS[envelope.type], set()).add(event.incident_id)
        for reason, ids in by_reason.items():
            await store.stop(uow.session, ids, reason)

    async def on_status_changed(
        self, uow: UnitOfWork, batch: list[tuple[Envelope, IncidentStatusChanged]]
    ) -> None:
        """A reopened incident's run stops once its status moves on from the one the reopen
        left: someone took it on. (A first run stops on incident.acknowledged.v1.)"""
        for _, event in batch:
            await store.stop_reopened(uow.session, event.incident_id, event.to_status)

    async def follow_manual(self, uow: UnitOfWork, batch: list[tuple[Envelope, IncidentEscalated]]) -> None:
        """A person escalated (triage's own command, seen on its topic): keep it in the history,
        and when it names a level, the running policy continues from that level (its next
        step is due after that level's delay). Automatic escalations are this module's own."""
        now = uow.now
        for envelope, event in batch:
            if event.trigger is not EscalationTrigger.MANUAL or envelope.tenantid is None:
                continue
            await store.record_manual(uow.session, envelope.tenantid, event)
            if event.level is None:
                continue
            run = await store.locked_run(uow.session, event.incident_id)
            if run is None or run.status != RUNNING:
                continue
            levels = run.levels
            step = moved_to(levels, run.last_step, event.level)
            plan = page(levels, run.loops, step, now)
            await store.update_run(
                uow.session,
                run.incident_id,
                {
                    "level": step.level,
                    "loop": step.loop,
                    "status": COMPLETED if plan.done else RUNNING,
                    "next_due_at": plan.next_due_at,
                },
            )

    # -- SLA events --------------------------------------------------------------------------

    async def on_sla(self, uow: UnitOfWork, batch: list[tuple[Envelope, SlaAtRisk | SlaBreached]]) -> None:
        """The SLA service warned or breached: escalate at once, to the running policy's next
        level (level 1 if none started; its last level again if it has run out), or with no
        policy to the fallback role. Once per (incident, clock, kind, clock start)."""
        now = uow.now
        rows = await store.incident_rows(uow.session, (e.incident_id for _, e in batch))
        policies = await store.policies_of(uow.session, (r.tenant_id for r in rows.values()))
        for envelope, event in batch:
            incident = rows.get(event.incident_id)
            if incident is None or ended(incident):
                continue  # gone, resolved or closed: nothing left to escalate
            kind = "at_risk" if isinstance(event, SlaAtRisk) else "breached"
            cause = f"sla_{kind}"
            key = f"sla:{event.clock.value}:{kind}:{event.started_at.isoformat()}"
            run = await store.locked_run(uow.session, incident.id)
            if run is not None:
                await self._advance(uow, incident, run, cause, key, now, envelope)
                continue
            policy = choose_policy(
                policies.get(incident.tenant_id, ()), incident.client_id, Severity(incident.severity)
            )
            if policy is not None and stopped_by(incident) is None:
                await self._start(
                    uow, incident, policy, now, envelope, ack_after=None, cause=cause, dedupe_key=key
                )
                continue
            if policy is not None:  # acknowledged already: page level 1, start no timer
                p = self._policy_page(policy.id, policy.levels, FIRST, None, key, cause)
            else:
                p = _Page(
                    cause=cause,
                    dedupe_key=key,
                    user_ids=(),
                    roles=(self.fallback_role,),
                    reason=f"SLA {event.clock.value} clock {kind.replace('_', ' ')}; no policy applies",
                )
            await self._page(uow, incident, p, now, envelope)

    async def _advance(
        self,
        uow: UnitOfWork,
        incident: Incident,
        run: Run,
        cause: str,
        key: str,
        now: datetime,
        caused_by: Envelope,
    ) -> None:
        """Page the step after the run's last one now; a running run then waits that step's
        delay before the next. A stopped or finished run only moves its position."""
        levels = run.levels
        step = jump(levels, run.loops, run.last_step)
        p = self._policy_page(run.policy_id, levels, step, run.run, key, cause)
        if not await self._page(uow, incident, p, now, caused_by):
            return
        values: dict[str, Any] = {"level": step.level, "loop": step.loop}
        if run.status == RUNNING:
            plan = page(levels, run.loops, step, now)
            values |= {"next_due_at": plan.next_due_at, "status": COMPLETED if plan.done else RUNNING}
        await store.update_run(uow.session, run.incident_id, values)

    # -- the timer ---------------------------------------------------------------------------

    async def fire_due(self, uow: UnitOfWork, now: datetime) -> int:
        """Fire the escalations whose acknowledgement window has passed: page the next step
        and schedule the one after, or stop if the incident was acknowledged, resolved, closed
        or deleted meanwhile. Rows are claimed with SKIP LOCKED, so each replica takes others."""
        runs = await store.claim_due_runs(uow.session, now, self.batch)
        rows = await store.incident_rows(uow.session, (r.incident_id for r in runs))
        for run in runs:
            incident = rows.get(run.incident_id)
            reason = stopped_by(incident, run.ack_after, run.reopened_status)
            levels = run.levels
            step = following(levels, run.loops, run.last_step)
            if incident is None or reason is not None or step is None:
                await store.update_run(
                    uow.session,
                    run.incident_id,
                    {"status": STOPPED if reason else COMPLETED, "stop_reason": reason, "next_due_at": None},
                )
                continue
            seq = run.seq + 1
            p = self._policy_page(run.policy_id, levels, step, run.run, f"{run.run}:{seq}")
            await self._page(uow, incident, p, now, None)
            plan = page(levels, run.loops, step, now)
            await store.update_run(
                uow.session,
                run.incident_id,
                {
                    "seq": seq,
                    "level": step.level,
                    "loop": step.loop,
                    "status": COMPLETED if plan.done else RUNNING,
                    "next_due_at": plan.next_due_at,
                },
            )
        return len(runs)
