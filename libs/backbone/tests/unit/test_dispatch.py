"""Handlers are called in message order; a Batched handler takes each run of its events; several
handlers of one event type run in the order given."""

from types import SimpleNamespace
from typing import Any
from uuid import uuid4

import pytest

from backbone.consumer import Handler, _dispatch, _Work, batched, chains
from contracts.envelope import Envelope
from contracts.events import TenantCreated


def work(slug: str, *handlers: Handler) -> _Work:
    tid = uuid4()
    env = Envelope.wrap(TenantCreated(tenant_id=tid, slug=slug, name=slug), source="t", tenant_id=tid)
    return _Work(record=None, envelope=env, payload=env.payload(), handlers=tuple(handlers))  # type: ignore[arg-type]


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
    await _dispatch(SimpleNamespace(cause=None), items)  # type: ignore[arg-type]  # dispatch sets uow.cause
    assert calls == [["a", "b"], "c", ["d"], "e", "f"]


async def test_several_handlers_take_each_run_in_the_order_given() -> None:
    calls: list[Any] = []

    async def replica(uow: Any, items: list[tuple[Envelope, Any]]) -> None:
        calls.append(("replica", [e.slug for _, e in items]))

    async def react(uow: Any, envelope: Envelope, event: Any) -> None:
        calls.append(("react", event.slug))

    r = batched(replica)
    declared = chains({"a": [r, react], "b": r})
    items = [work("a1", *declared["a"]), work("a2", *declared["a"]), work("b1", *declared["b"])]
    await _dispatch(SimpleNamespace(cause=None), items)  # type: ignore[arg-type]  # dispatch sets uow.cause
    assert calls == [
        ("replica", ["a1", "a2"]),
        ("react", "a1"),
        ("react", "a2"),
        ("replica", ["b1"]),  # another chain: its own run, though the replica is the same
    ]


def test_a_type_declared_with_no_handler_is_refused() -> None:
    with pytest.raises(ValueError, match="no handler"):
        chains({"x": []})
