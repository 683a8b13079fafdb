"""Accepted batches: one key always in one partition, and a poll cut into runs that one call
each can take without changing what one batch after the other would have done."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

from contracts.enums import IncidentSource
from intake.domain.ingest import AlertBatch, by_partition, partition_of, runs
from intake.domain.signals import Signal

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def batch(integration: UUID, *alerts: tuple[str, bool], acks: list[str] | None = None) -> AlertBatch:
    return AlertBatch(
        integration_id=integration,
        source=IncidentSource.ALERTMANAGER,
        received_at=NOW,
        alerts=[Signal(key, key, firing, key, {}) for key, firing in alerts],
        acknowledge=acks or [],
    )


def test_a_key_is_always_in_the_same_partition_and_keys_spread() -> None:
    keys = [f"am:fp{i}" for i in range(600)]
    assert [partition_of(k, 6) for k in keys] == [partition_of(k, 6) for k in keys]
    split = by_partition(keys, 6)
    assert sorted(split) == list(range(6))  # every partition gets some
    assert sorted(i for idx in split.values() for i in idx) == list(range(600))
    assert all(idx == sorted(idx) for idx in split.values())  # the request's order kept


def test_a_poll_of_one_integration_is_one_run_in_order() -> None:
    a = uuid4()
    (run,) = runs([batch(a, ("k1", True)), batch(a, ("k2", True), ("k1", True)), batch(a, ("k1", False))])
    assert [(s.dedup_key, s.firing) for s in run.signals] == [
        ("k1", True),
        ("k2", True),
        ("k1", True),
        ("k1", False),
    ]


def test_a_key_firing_again_after_its_resolve_starts_a_new_run() -> None:
    """Resolve then fire must close the incident and open a new one: taken in one call the
    firing alert would keep the old one open."""
    a = uuid4()
    out = runs(
        [batch(a, ("k1", True)), batch(a, ("k1", False)), batch(a, ("k1", True)), batch(a, ("k2", True))]
    )
    assert [[(s.dedup_key, s.firing) for s in r.signals] for r in out] == [
        [("k1", True), ("k1", False)],
        [("k1", True), ("k2", True)],
    ]


def test_acknowledgements_and_alerts_do_not_mix_and_keep_their_order() -> None:
    a = uuid4()
    out = runs([batch(a, ("k1", True)), batch(a, acks=["k1"]), batch(a, acks=["k2"]), batch(a, ("k1", True))])
    assert [(len(r.signals), r.acknowledge) for r in out] == [(1, []), (0, ["k1", "k2"]), (1, [])]


def test_interleaved_integrations_are_gathered_unless_they_share_a_key() -> None:
    a, b = uuid4(), uuid4()
    apart = runs([batch(a, ("a1", True)), batch(b, ("b1", True)), batch(a, ("a2", True))])
    assert [(r.integration_id, len(r.signals)) for r in apart] == [(a, 2), (b, 1)]
    # Two Alertmanager integrations sending the same fingerprint share am:<fingerprint>: the
    # poll's order is the only right one then.
    shared = runs([batch(a, ("am:x", True)), batch(b, ("am:x", False)), batch(a, ("am:x", True))])
    assert [r.integration_id for r in shared] == [a, b, a]
