"""Alert integrations as replicated from directory, and the lookup of one by its token."""

from __future__ import annotations

from backbone.uow import UnitOfWork
from contracts.envelope import Envelope
from contracts.events import (
    IntegrationDeleted,
    IntegrationState,
    token_sha256,
)
from intake.adapters import integrations as integrations_repo
from intake.domain.integrations import Integration


async def replicate_integration(uow: UnitOfWork, envelope: Envelope, event: IntegrationState) -> None:
    """Created, changed or given a new token: the newest state (by revision, not by arrival)
    replaces the replica's row, so a rotated-away token is refused from here on."""
    await integrations_repo.upsert(uow.session, event)


async def replicate_integration_deleted(
    uow: UnitOfWork, envelope: Envelope, event: IntegrationDeleted
) -> None:
    await integrations_repo.mark_deleted(uow.session, event, envelope.time)


async def integration_for_token(uow: UnitOfWork, token: str) -> Integration | None:
    """The integration whose token this is; the lookup is by the token's hash, never the token."""
    return await integrations_repo.by_token_sha256(uow.session, token_sha256(token))
