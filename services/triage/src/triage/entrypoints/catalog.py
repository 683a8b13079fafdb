"""HTTP routes of the tenant's catalogs: statuses, categories and priorities."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema

from backbone.app import Strict, UowDep
from backbone.auth import Principal, requires
from backbone.problems import Unprocessable
from contracts.permissions import Permission
from triage.entrypoints.deps import Int4, Viewer, _once
from triage.handlers import catalog as catalog_handlers
from triage.views import catalog as catalog_views

router = APIRouter(prefix="/v1", tags=["catalogs"])


SLUG_PATTERN = r"^[a-z][a-z0-9_]*$"
# Each limit is its column's (triage.adapters.orm; tests/fuzz/test_column_limits.py holds them).
Slug = Annotated[str, Field(min_length=1, max_length=40, pattern=SLUG_PATTERN)]
CategorySlug = Annotated[str, Field(min_length=1, max_length=100, pattern=SLUG_PATTERN)]
# An optional field whose column is NOT NULL: omitted keeps (or defaults) it, null is refused
# (422), so the schema offers no null.
NotNull = SkipJsonSchema[None]


class StatusIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=100)] | NotNull = None
    sort_order: Int4 | NotNull = None
    is_terminal: bool | NotNull = None
    is_default: bool | NotNull = None
    next_statuses: list[Slug] | None = Field(default=None, description="null: any later status.")
    is_active: bool | NotNull = None


class NewStatus(StatusIn):
    slug: Slug
    name: str = Field(min_length=1, max_length=100)
    sort_order: Int4


class CategoryIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)] | NotNull = None
    description: Annotated[str, Field(max_length=2000)] | NotNull = None
    is_active: bool | NotNull = None


class NewCategory(CategoryIn):
    slug: CategorySlug
    name: str = Field(min_length=1, max_length=200)


class PriorityIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=100)] | NotNull = None
    level: Annotated[int, Field(ge=1, le=100)] | NotNull = None
    # No response or resolution minutes: SLA figures are the sla service's policies
    # (docs/adr/0011-sla-figures-in-one-place.md).
    is_active: bool | NotNull = None


class NewPriority(PriorityIn):
    slug: Slug
    name: str = Field(min_length=1, max_length=100)
    level: int = Field(ge=1, le=100)


def _without_nulls(body: BaseModel) -> dict[str, Any]:
    """The fields sent; a null where the column holds none is refused here, not by the database."""
    values = body.model_dump(exclude_unset=True)
    for name, value in values.items():
        if value is None and name != "next_statuses":
            raise Unprocessable(f"{name}: may not be null", field=name)
    return values


CatalogName = Literal["statuses", "categories", "priorities"]

CATALOGS: dict[CatalogName, tuple[Permission, type[Strict], type[Strict]]] = {
    "statuses": (Permission.INCIDENTS_STATUSES_MANAGE, NewStatus, StatusIn),
    "categories": (Permission.INCIDENTS_CATEGORIES_MANAGE, NewCategory, CategoryIn),
    "priorities": (Permission.INCIDENTS_PRIORITIES_MANAGE, NewPriority, PriorityIn),
}


def _catalog_routes(catalog: CatalogName) -> None:
    permission, create_model, change_model = CATALOGS[catalog]
    slug_length = 100 if catalog == "categories" else 40
    Manager = Annotated[Principal, requires(permission)]

    async def list_items(caller: Viewer, uow: UowDep) -> Any:
        items = await catalog_views.catalog_items(uow, caller, catalog)
        await uow.commit()  # the lazily seeded defaults, if this was the tenant's first use
        return JSONResponse(jsonable(items))

    async def create_item(body: create_model, request: Request, caller: Manager, uow: UowDep) -> Any:  # type: ignore[valid-type]
        values = _without_nulls(body)
        slug = values.pop("slug")

        async def work() -> Any:
            return jsonable(
                await catalog_handlers.put_catalog_item(uow, caller, catalog, slug, values, create=True)
            )

        return await _once(request, uow, caller, 201, work)

    async def change_item(
        slug: Annotated[str, Path(max_length=slug_length, pattern=SLUG_PATTERN)],
        body: change_model,  # type: ignore[valid-type]
        request: Request,
        caller: Manager,
        uow: UowDep,
    ) -> Any:
        values = _without_nulls(body)

        async def work() -> Any:
            return jsonable(
                await catalog_handlers.put_catalog_item(uow, caller, catalog, slug, values, create=False)
            )

        return await _once(request, uow, caller, 200, work)

    noun = catalog.rstrip("s") if catalog != "categories" else "category"
    noun = "priority" if catalog == "priorities" else "status" if catalog == "statuses" else noun
    router.get(f"/{catalog}", summary=f"The tenant's {catalog}", description=(
        "Needs `incidents.view`. The defaults are written the first time a tenant is seen."
    ))(list_items)  # fmt: skip
    router.post(f"/{catalog}", status_code=201, summary=f"Add a {noun}", description=(
        f"Needs `{permission.value}`. Announces `incident_catalog.changed.v1`."
    ))(create_item)  # fmt: skip
    router.patch(f"/{catalog}/{{slug}}", summary=f"Change a {noun}", description=(
        f"Needs `{permission.value}`. Only the fields sent change; `is_active` false retires it."
    ))(change_item)  # fmt: skip


def jsonable(value: Any) -> Any:
    from pydantic_core import to_jsonable_python

    return to_jsonable_python(value)


for _catalog in CATALOGS:
    _catalog_routes(_catalog)
