"""Database engine per service: one schema per service, set as the search path
(docs/adr/0008-database-roles.md)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import asyncpg
from aiokafka.errors import KafkaError
from sqlalchemy import MetaData, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

# One naming convention, so alembic's generated constraint names are stable.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def service_metadata(schema: str) -> MetaData:
    return MetaData(schema=schema, naming_convention=NAMING_CONVENTION)


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for pg advisory locks."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@dataclass
class Database:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    schema: str

    @classmethod
    def connect(cls, url: str, schema: str, *, pool_size: int = 10) -> Database:
        engine = create_async_engine(
            url,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=True,
            # Statement parameters stay out of error texts: those end up in logs and in DLQ
            # headers, and parameters carry tenants' data and secrets.
            hide_parameters=True,
            connect_args={"server_settings": {"search_path": schema, "application_name": schema}},
        )
        return cls(engine, async_sessionmaker(engine, expire_on_commit=False), schema)

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


def sqlstate(exc: DBAPIError) -> str | None:
    """PostgreSQL's SQLSTATE of a failed statement (asyncpg names it ``sqlstate``, psycopg
    ``pgcode``), or None when the error did not come from the server."""
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return str(code) if code is not None else None


# SQLSTATE classes of faults of the database or the way to it, not of the data: 08 connection,
# 40 transaction rollback (serialization, deadlock), 53 insufficient resources (too many
# connections, disk full, out of memory), 57 operator intervention (statement timeout, query
# cancelled, shutdown), 58 system error (I/O), XX internal error; and 55P03 lock not available
# (lock_timeout). Retrying later can succeed; dead-lettering would lose the event
# (docs/adr/0009-fault-classification-replay-and-parking.md).
TRANSIENT_SQLSTATE_CLASSES = frozenset({"08", "40", "53", "57", "58", "XX"})
TRANSIENT_SQLSTATES = frozenset({"55P03"})


def is_transient_sqlstate(code: str | None) -> bool:
    return code is not None and (code[:2] in TRANSIENT_SQLSTATE_CLASSES or code in TRANSIENT_SQLSTATES)


class TransientError(Exception):
    """Raised by a handler for a fault worth retrying without dead-lettering."""


def is_transient(exc: BaseException) -> bool:
    """Faults of the infrastructure, not of the message: retry later, never DLQ. Looks through
    explicit causes (``raise ... from``), so a handler's wrapping keeps the classification."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return False
        if _transient_itself(seen):
            return True
        seen = seen.__cause__
    return False


def _transient_itself(exc: BaseException) -> bool:
    if isinstance(exc, TransientError | KafkaError | ConnectionError | TimeoutError | OSError):
        return True
    if isinstance(exc, asyncpg.PostgresError):  # raised by asyncpg directly (or the cause below)
        return is_transient_sqlstate(exc.sqlstate)
    if isinstance(exc, sa_exc.DBAPIError):
        # asyncpg's errors arrive as a plain DBAPIError (not OperationalError) whatever the
        # SQLSTATE: the code decides, not the class.
        if exc.connection_invalidated or isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError):
            return True
        return is_transient_sqlstate(sqlstate(exc))
    return isinstance(exc, sa_exc.DisconnectionError | sa_exc.TimeoutError)
