"""Which faults are the infrastructure's (retry, never DLQ) and which the message's
(docs/adr/0009-fault-classification-replay-and-parking.md), and the rewind pause."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import exc as sa_exc

from backbone.consumer import EventConsumer, _scrub
from backbone.db import TransientError, is_transient
from backbone.settings import ServiceSettings


def _dbapi(error: type[asyncpg.PostgresError]) -> sa_exc.DBAPIError:
    return sa_exc.DBAPIError("SELECT 1", None, error("injected"))


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.exceptions.TooManyConnectionsError,  # 53300
        asyncpg.exceptions.DiskFullError,  # 53100
        asyncpg.exceptions.OutOfMemoryError,  # 53200
        asyncpg.exceptions.QueryCanceledError,  # 57014
        asyncpg.exceptions.LockNotAvailableError,  # 55P03
        asyncpg.exceptions.InternalServerError,  # XX000
        asyncpg.exceptions.SerializationError,  # 40001
        asyncpg.exceptions.DeadlockDetectedError,  # 40P01
        asyncpg.exceptions.ConnectionFailureError,  # 08006
        asyncpg.exceptions.PostgresIOError,  # 58030
        asyncpg.exceptions.AdminShutdownError,  # 57P01
    ],
)
def test_infrastructure_faults_are_transient(error: type[asyncpg.PostgresError]) -> None:
    assert is_transient(_dbapi(error))
    assert is_transient(error("raw asyncpg"))
    try:
        raise ValueError("the handler wrapped it") from _dbapi(error)
    except ValueError as wrapped:
        assert is_transient(wrapped)


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.exceptions.UniqueViolationError,  # 23505
        asyncpg.exceptions.DivisionByZeroError,  # 22012
        asyncpg.exceptions.InvalidTextRepresentationError,  # 22P02
        asyncpg.exceptions.ObjectInUseError,  # 55006: class 55 but not 55P03
        asyncpg.exceptions.RaiseError,  # P0001
    ],
)
def test_faults_of_the_message_are_not_transient(error: type[asyncpg.PostgresError]) -> None:
    assert not is_transient(_dbapi(error))
    assert not is_transient(error("raw asyncpg"))


def test_plain_errors() -> None:
    assert is_transient(TransientError("x"))
    assert not is_transient(ValueError("x"))
    assert not is_transient(KeyError("x"))


def test_statement_parameters_are_scrubbed() -> None:
    text = "boom\n[SQL: SELECT $1]\n[parameters: ('secret', 5)]\n(Background on this error at: x)"
    assert "secret" not in _scrub(text)
    assert "[SQL: SELECT $1]" in _scrub(text)


def test_rewind_pause_grows_to_its_cap_and_resets() -> None:
    settings = ServiceSettings(consumer_rewind_backoff_s=1.0, consumer_rewind_backoff_max_s=5.0)
    consumer = EventConsumer(settings, lambda: None, {}, None)  # type: ignore[arg-type]
    assert [consumer._next_rewind_delay() for _ in range(5)] == [1.0, 2.0, 4.0, 5.0, 5.0]
    consumer._rewind_delay = 0.0  # what a successful batch does
    assert consumer._next_rewind_delay() == 1.0
