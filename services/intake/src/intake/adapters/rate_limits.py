"""The per-integration rate limit: a token bucket per integration in the database, so every
replica draws from the same bucket. Each take is one statement committed at once (before the
request's work starts), so the bucket's row is never locked for a request's whole work."""

from __future__ import annotations

import math
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_TAKE = text(
    """
    INSERT INTO intake.rate_buckets AS b (integration_id, tokens, updated_at)
    VALUES (:id, CAST(:burst AS float8) - :cost, clock_timestamp())
    ON CONFLICT (integration_id) DO UPDATE SET
        tokens = LEAST(CAST(:burst AS float8),
                       b.tokens + EXTRACT(EPOCH FROM clock_timestamp() - b.updated_at) * :rate) - :cost,
        updated_at = clock_timestamp()
    WHERE LEAST(CAST(:burst AS float8),
                b.tokens + EXTRACT(EPOCH FROM clock_timestamp() - b.updated_at) * :rate) >= :cost
    RETURNING tokens
    """
)

_LEFT = text(
    """
    SELECT LEAST(CAST(:burst AS float8),
                 tokens + EXTRACT(EPOCH FROM clock_timestamp() - updated_at) * :rate)
    FROM intake.rate_buckets WHERE integration_id = :id
    """
)


@dataclass(frozen=True)
class Take:
    allowed: bool
    retry_after_s: int = 0


async def take(session: AsyncSession, integration_id: UUID, cost: int, *, rate: float, burst: int) -> Take:
    """Take ``cost`` tokens (capped at the bucket's size, so a big request can pass when the
    bucket is full) or say when enough will have refilled. The caller commits at once, so the
    bucket's row stays locked for this statement only."""
    cost = max(1, min(cost, burst))
    params = {"id": integration_id, "cost": float(cost), "rate": float(rate), "burst": burst}
    if (await session.execute(_TAKE, params)).first() is not None:
        return Take(True)
    left = float(await session.scalar(_LEFT, params) or 0.0)
    return Take(False, max(1, math.ceil((cost - left) / rate)))
