"""Handlers are called in message order; a Batched handler takes each run of its events."""

from typing import Any
from uuid import uuid4

from backbone.consumer import _dispatch, _Work, batched
from contracts.envelope import Envelope
from contracts.events import TenantCreated


def work(slug: str, handler: Any) -> _Work:
    tid = uuid4()
    env = Envelope.wrap(TenantCreated(tenant_id=tid, slug=slug, name=slug), source="t", tenant_id=tid)
    return _Work(record=None, envelope=env, payload=env.payload(), handler=handler)  # type: ignore[arg-type]


async def test_runs_keep_order_and_batch_only_consecutive_events() -> None:
    calls: list[Any] = []

    async def single(uow: Any, envelope: Envelope, event: Any) -> None:
        calls.append(event.slug)

    async def many(uow: Any, items: list[tuple[Envelope, Any]]) -> None:
        calls.append([e.slug for _, e in items])

    b = batched(many)
    items = [
        work("a", b),
        work("b", b),
        work("c", single),
        work("d", b),
        work("e", single),
        work("f", single),
    ]
    await _dispatch(None, items)  # type: ignore[arg-type]
    assert calls == [["a", "b"], "c", ["d"], "e", "f"]
