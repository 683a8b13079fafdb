"""Tenants' templates, rendered in separate processes with a time and a memory limit.

The sandbox (domain/templates.py) keeps a template from reaching the service's internals, but
not from looping for hours or filling memory (``{% for i in range(99999) %}{% for j in
range(99999) %}…``). Such work cannot be interrupted inside the service's own process, so a
tenant's template renders in a worker process (``python -m`` this module: it shares nothing with
the service; messages are pickled over its stdin and stdout, between this trusted code on both
ends) under an address-space limit; one that takes longer than the timeout has its process
killed (a new one starts for the next render). Errors come back as TemplateError, so one
tenant's template fails only its own deliveries.
"""

from __future__ import annotations

import asyncio
import contextlib
import pickle
import resource
import struct
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO
from uuid import UUID

from sqlalchemy import Row, delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.enums import ChannelKind
from notifications.adapters.orm import template_overrides
from notifications.domain import templates
from notifications.domain.templates import Override, TemplateError

STARTUP_S = 60.0  # a fresh process imports Jinja2 and the templates: not the template's time
_LENGTH = struct.Struct(">I")


def _write(out: BinaryIO, value: Any) -> None:
    data = pickle.dumps(value)
    out.write(_LENGTH.pack(len(data)) + data)
    out.flush()


def _serve(memory_mb: int) -> None:
    """The worker process (``python -m notifications.adapters.templates MiB``): render jobs
    read from stdin one by one, answers on stdout, until stdin closes."""
    limit = memory_mb * 1024 * 1024
    with contextlib.suppress(ValueError, OSError):  # a platform without RLIMIT_AS: time limit only
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    source, sink = sys.stdin.buffer, sys.stdout.buffer
    _write(sink, (True, "ready"))
    while header := source.read(_LENGTH.size):
        kind, event_type, ctx, subject, body, max_output = pickle.loads(
            source.read(_LENGTH.unpack(header)[0])
        )
        try:
            message = templates.render(
                ChannelKind(kind), event_type, ctx, Override(subject, body), max_output=max_output
            )
            _write(sink, (True, message))
        except MemoryError:
            _write(sink, (False, f"used more than {memory_mb} MiB"))
            return  # the heap may be in a poor state: the next render gets a fresh process
        except TemplateError as exc:
            _write(sink, (False, str(exc)))
        except Exception as exc:
            _write(sink, (False, type(exc).__name__))


class _Worker:
    """One renderer process, started when first needed and again after it was stopped."""

    def __init__(self, memory_mb: int) -> None:
        self._memory_mb = memory_mb
        self._process: asyncio.subprocess.Process | None = None

    async def _start(self) -> asyncio.subprocess.Process:
        if self._process is not None and self._process.returncode is None:
            return self._process
        self.stop()
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            __name__,
            str(self._memory_mb),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        await self._answer(self._process, STARTUP_S)  # "ready"
        return self._process

    @staticmethod
    async def _answer(process: asyncio.subprocess.Process, timeout_s: float) -> tuple[bool, Any]:
        assert process.stdout is not None

        async def read() -> tuple[bool, Any]:
            assert process.stdout is not None
            header = await process.stdout.readexactly(_LENGTH.size)
            answer: tuple[bool, Any] = pickle.loads(
                await process.stdout.readexactly(_LENGTH.unpack(header)[0])
            )
            return answer

        return await asyncio.wait_for(read(), timeout_s)

    async def run(self, job: tuple[Any, ...], timeout_s: float) -> tuple[bool, Any]:
        try:
            process = await self._start()
        except (TimeoutError, OSError, asyncio.IncompleteReadError):
            self.stop()
            return False, "the renderer did not start"
        try:
            assert process.stdin is not None
            data = pickle.dumps(job)
            process.stdin.write(_LENGTH.pack(len(data)) + data)
            await process.stdin.drain()
            return await self._answer(process, timeout_s)
        except TimeoutError:
            self.stop()
            return False, f"took longer than {timeout_s:g}s"
        except (OSError, asyncio.IncompleteReadError):  # the process died (its memory, say)
            self.stop()
            return False, "the renderer stopped"
        except BaseException:  # cancelled mid-job: its answer would be read by the next job
            self.stop()
            raise

    def stop(self) -> None:
        if self._process is not None and self._process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._process.kill()
        self._process = None


@dataclass
class TemplateRunner:
    """Renders tenants' overrides in ``workers`` processes, one job per process at a time."""

    timeout_s: float = 2.0
    max_output: int = templates.MAX_OUTPUT
    memory_mb: int = 512
    workers: int = 1
    # A template that ran out of time fails at once for this long (until it is changed), so
    # it cannot hold every batch it appears in for the whole timeout, again and again.
    quarantine_s: float = 600.0

    def __post_init__(self) -> None:
        self._idle: asyncio.Queue[_Worker] | None = None
        self._all: list[_Worker] = []
        self._slow: dict[tuple[str, str | None, str], tuple[float, str]] = {}

    def _pool(self) -> asyncio.Queue[_Worker]:
        if self._idle is None:
            self._idle = asyncio.Queue()
            self._all = [_Worker(self.memory_mb) for _ in range(max(1, self.workers))]
            for worker in self._all:
                self._idle.put_nowait(worker)
        return self._idle

    async def render(
        self, kind: ChannelKind, event_type: str, ctx: Mapping[str, Any], override: Override
    ) -> dict[str, Any]:
        """The message from a tenant's override; TemplateError naming why it failed."""
        templates.compile_check(kind, override.subject, override.body)  # cheap, in this process
        key = (kind.value, override.subject, override.body)
        if (slow := self._slow.get(key)) is not None:
            if time.monotonic() < slow[0]:
                raise TemplateError(slow[1])
            del self._slow[key]
        job = (kind.value, event_type, dict(ctx), override.subject, override.body, self.max_output)
        idle = self._pool()
        worker = await idle.get()
        try:
            ok, result = await worker.run(job, self.timeout_s)
        finally:
            idle.put_nowait(worker)
        if not ok:
            if str(result).startswith("took longer"):
                if len(self._slow) > 1000:
                    self._slow.clear()
                self._slow[key] = (time.monotonic() + self.quarantine_s, str(result))
            raise TemplateError(str(result))
        message: dict[str, Any] = result
        return message

    async def check(self, kind: ChannelKind, subject: str | None, body: str) -> None:
        """Try a tenant's template on sample data before it is saved."""
        await self.render(kind, templates.SAMPLE_EVENT, templates.sample(), Override(subject, body))

    def close(self) -> None:
        for worker in self._all:
            worker.stop()

    async def __call__(self, runtime: object) -> None:
        """As a background task of the service: stops the renderer processes when it stops."""
        try:
            await asyncio.Event().wait()
        finally:
            self.close()


# --------------------------------------------------------------------------- tenants' overrides


async def save_override(session: AsyncSession, row: dict[str, Any]) -> Row[Any]:
    """Insert or replace the tenant's override of (event type, channel kind)."""
    stmt = insert(template_overrides).values(**row)
    return (
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=["tenant_id", "event_type", "channel_kind"],
                set_={"subject": stmt.excluded.subject, "body": stmt.excluded.body, "updated_at": func.now()},
            ).returning(template_overrides)
        )
    ).one()


async def remove_override(session: AsyncSession, tenant_id: UUID, event_type: str, kind: str) -> bool:
    """Whether there was one to remove."""
    result = await session.execute(
        delete(template_overrides).where(
            template_overrides.c.tenant_id == tenant_id,
            template_overrides.c.event_type == event_type,
            template_overrides.c.channel_kind == kind,
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def overrides_of(session: AsyncSession, tenant_id: UUID) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(template_overrides)
        .where(template_overrides.c.tenant_id == tenant_id)
        .order_by(template_overrides.c.event_type, template_overrides.c.channel_kind)
    )
    return [dict(r._mapping) for r in rows]


if __name__ == "__main__":
    _serve(int(sys.argv[1]))
