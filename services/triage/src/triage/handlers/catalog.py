"""A tenant's catalogs: statuses, categories and priorities."""

from __future__ import annotations

from typing import Any, Literal

from backbone.auth import Principal
from backbone.problems import Conflict, NotFound, Unprocessable
from backbone.uow import UnitOfWork
from contracts.envelope import new_id
from contracts.events import CatalogItemChanged
from triage.adapters import catalog as catalogs
from triage.domain.incident import as_json


async def put_catalog_item(
    uow: UnitOfWork,
    caller: Principal,
    catalog: Literal["statuses", "categories", "priorities"],
    slug: str,
    values: dict[str, Any],
    *,
    create: bool,
) -> dict[str, Any]:
    """Create (``create``) or change one entry of a tenant's catalog. A status marked default
    takes that mark from the others (one default per tenant)."""
    existing = await catalogs.item(uow.session, catalog, caller.tenant_id, slug)
    if create and existing is not None:
        raise Conflict(f"slug: {catalog} already has {slug!r}", field="slug")
    if not create and existing is None:
        raise NotFound(f"no {catalog} entry {slug!r}")
    if catalog == "statuses" and values.get("next_statuses"):
        known = {r["slug"] for r in await catalogs.items(uow.session, "statuses", caller.tenant_id)} | {slug}
        unknown = sorted(set(values["next_statuses"]) - known)
        if unknown:
            raise Unprocessable(
                f"next_statuses: unknown statuses {', '.join(unknown)}", field="next_statuses"
            )
    if catalog == "statuses" and values.get("is_default"):
        await catalogs.clear_default(uow.session, caller.tenant_id, keep=slug)
    if existing is None:
        item = {"id": new_id(), "tenant_id": caller.tenant_id, "slug": slug, **values}
        await catalogs.insert_item(uow.session, catalog, item)
    elif values:
        await catalogs.update_item(uow.session, catalog, existing["id"], values)
    saved = await catalogs.item(uow.session, catalog, caller.tenant_id, slug)
    assert saved is not None
    uow.emit(
        CatalogItemChanged(
            catalog=catalog,
            item_id=saved["id"],
            slug=slug,
            values=as_json(
                {k: v for k, v in saved.items() if k not in ("id", "tenant_id", "created_at", "updated_at")}
            ),
        ),
        tenant_id=caller.tenant_id,
        actor=caller.actor,
    )
    return saved
