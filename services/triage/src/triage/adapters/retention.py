"""What triage deletes when old (docs/retention.md): the attachments of incidents deleted long
enough ago, rows and files. Content is shared by identical uploads (storage.py), so a file goes
only once no attachment row refers to it any more, and not if it was written within the last
hour (an upload of the same content may be about to commit its row)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, select

from backbone.retention import After, batched_delete
from triage.adapters.orm import incident_attachments
from triage.adapters.storage import ContentStore

if TYPE_CHECKING:
    from backbone.app import Runtime

UPLOAD_GRACE_S = 3600

DELETED_INCIDENT_ATTACHMENTS = batched_delete(
    "triage.incident_attachments",
    "incident_id IN (SELECT id FROM triage.incidents WHERE deleted_at < :cutoff)",
    returning="storage_key",
)


def remove_unreferenced_files(attachments_dir: str) -> After:
    """After a batch of attachment rows is deleted: their files no row refers to any more."""

    async def remove(runtime: Runtime, rows: Sequence[Row[Any]]) -> None:
        keys = {row.storage_key for row in rows}
        async with runtime.db.sessions() as session:
            kept = set(
                await session.scalars(
                    select(incident_attachments.c.storage_key)
                    .where(incident_attachments.c.storage_key.in_(keys))
                    .distinct()
                )
            )
        store = ContentStore(attachments_dir)
        written_before = time.time() - UPLOAD_GRACE_S
        for key in sorted(keys - kept):
            await store.remove(key, written_before)

    return remove
