"""Audit service: every event in its tenant's append-only transparency log (RFC 6962 tree,
signed C2SP checkpoints, inclusion and consistency proofs; docs/audit.md). Entry:
`incidentctl serve audit`."""

from datetime import datetime, timedelta

from fastapi import FastAPI

from audit.adapters.keys import load_signer
from audit.config import Settings
from audit.entrypoints import report
from audit.entrypoints.log import router, watch_dead_letters
from audit.handlers import log as handlers
from backbone.app import Service, create_app
from backbone.consumer import batched
from backbone.timers import TimerLoop
from backbone.uow import UnitOfWork
from contracts.envelope import known_event_types
from contracts.events.audit import ReportGenerated
from contracts.topics import Topic


def create(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    signer = load_signer(settings)
    record = batched(handlers.record)  # one object: a run of mixed types is still one run
    gap = timedelta(seconds=settings.checkpoint_interval_s / 2)

    async def sign(uow: UnitOfWork, now: datetime) -> int:
        # A log signed within half an interval waits for the next tick: in a storm, one
        # checkpoint per log per tick, not one per appended batch.
        return await handlers.sign_checkpoints(uow, now, signer, gap=gap)

    app = create_app(
        Service(
            settings=settings,
            title="Audit service",
            description=__doc__ or "",
            api=[router, report.router],
            # Every event type the contracts define, and those they do not (recorded raw).
            handlers=dict.fromkeys(known_event_types(), record),
            unknown_events=record,
            # audit.events included: a generated report is logged like any other write.
            subscribes=[t for t in Topic if t.value.endswith(".events")],
            publishes=[ReportGenerated],
            background=[
                TimerLoop("checkpoints", sign, interval_s=settings.checkpoint_interval_s),
                watch_dead_letters,
            ],
        )
    )
    app.state.audit_signer = signer
    return app
