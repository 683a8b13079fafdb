"""Retention: rows past their keep time are deleted in small batches by a background loop that
every service runs (docs/retention.md).

A ``Rule`` names one kind of row and a DELETE built by ``batched_delete``: it removes at most
``:limit`` rows older than ``:cutoff``, chosen by ``ctid`` and locked with ``SKIP LOCKED``, so
each statement is short, holds few locks, and two replicas running the loop at once delete
different rows instead of waiting for each other. Each batch is its own transaction; a rule
runs batch after batch until one comes back short. A rule may name an ``after`` step run once a
batch has committed, with the deleted rows (triage removes attachment files there).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import Row, TextClause, text

from backbone.tables import IDEMPOTENCY
from backbone.timers import SYSTEM_CLOCK, Clock

if TYPE_CHECKING:
    from backbone.app import Runtime

log = structlog.get_logger(__name__)

After = Callable[["Runtime", Sequence[Row[Any]]], Awaitable[None]]


def batched_delete(table: str, where: str, returning: str = "1") -> TextClause:
    """``DELETE FROM table`` of at most ``:limit`` rows matching ``where`` (which uses
    ``:cutoff``), answering ``returning`` for each deleted row."""
    return text(
        f"DELETE FROM {table} WHERE ctid = ANY(ARRAY("
        f"SELECT ctid FROM {table} WHERE {where} LIMIT :limit FOR UPDATE SKIP LOCKED"
        f")) RETURNING {returning}"
    )


@dataclass(frozen=True)
class Rule:
    name: str
    delete: TextClause
    keep: timedelta
    after: After | None = None


def idempotency_rule(keep: timedelta) -> Rule:
    """Every service stores Idempotency-Key responses (backbone.idempotency); a retry after
    ``keep`` runs anew."""
    return Rule("idempotency_keys", batched_delete(IDEMPOTENCY.name, "created_at < :cutoff"), keep)


class RetentionLoop:
    """A background task of the service (``Service.background``): runs every rule at start and
    then every ``interval_s``."""

    def __init__(
        self, rules: Sequence[Rule], *, batch: int, interval_s: float, clock: Clock = SYSTEM_CLOCK
    ) -> None:
        self.rules = list(rules)
        self.batch = batch
        self.interval_s = interval_s
        self.clock = clock

    async def delete_batch(self, runtime: Runtime, rule: Rule, now: datetime) -> int:
        """One batch of ``rule``: at most ``batch`` rows, in one transaction; how many went."""
        async with runtime.uow() as uow:
            params = {"cutoff": now - rule.keep, "limit": self.batch}
            rows = (await uow.session.execute(rule.delete, params)).all()
            await uow.commit()
        if rows and rule.after is not None:
            await rule.after(runtime, rows)
        return len(rows)

    async def run_once(self, runtime: Runtime) -> dict[str, int]:
        """Every rule, batch after batch until one comes back short; rows deleted per rule."""
        now = self.clock.now()
        deleted: dict[str, int] = {}
        for rule in self.rules:
            total = 0
            while True:
                n = await self.delete_batch(runtime, rule, now)
                total += n
                if n < self.batch:
                    break
            deleted[rule.name] = total
            if total:
                log.info("retention deleted rows", rule=rule.name, rows=total, before=now - rule.keep)
        return deleted

    async def __call__(self, runtime: Runtime) -> None:
        while True:
            try:
                await self.run_once(runtime)
            except asyncio.CancelledError:
                raise
            except Exception:  # a database blip must not end the loop; the next run retries
                log.exception("retention failed; retrying at the next run")
            await asyncio.sleep(self.interval_s)
