"""Directory service: tenants, clients, subscriptions, users, vendors, components, API keys
and integrations; signs the platform's access tokens. Entry: `incidentctl serve directory`."""

from typing import Any

from fastapi import APIRouter, FastAPI, Request

from backbone.app import Service, create_app
from backbone.auth import TokenSigner, load_pem
from contracts.events import (
    ApiKeyIssued,
    ApiKeyRevoked,
    ClientOnboarded,
    ClientUpdated,
    ComponentRegistered,
    IntegrationCreated,
    IntegrationDeleted,
    IntegrationTokenRotated,
    IntegrationUpdated,
    SubscriptionChanged,
    TenantCreated,
    UserRegistered,
    UserUpdated,
    VendorRegistered,
)
from directory.adapters.users import principal_row
from directory.config import Settings
from directory.entrypoints import api_keys, auth, clients, components, integrations, users, vendors
from directory.entrypoints import tenants as tenants_api
from directory.entrypoints.auth import jwks

well_known = APIRouter(tags=["auth"])


@well_known.get("/.well-known/jwks.json")
async def well_known_jwks(request: Request) -> dict[str, Any]:
    """The same JWKS as /v1/auth/jwks, at the conventional address."""
    return await jwks(request)


def create(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = create_app(
        Service(
            settings=settings,
            title="Directory service",
            description=__doc__ or "",
            api=[
                tenants_api.router,
                auth.router,
                clients.router,
                vendors.router,
                users.router,
                components.router,
                api_keys.router,
                integrations.router,
                well_known,
            ],
            publishes=[
                TenantCreated,
                UserRegistered,
                UserUpdated,
                ClientOnboarded,
                ClientUpdated,
                SubscriptionChanged,
                VendorRegistered,
                ComponentRegistered,
                IntegrationCreated,
                IntegrationUpdated,
                IntegrationTokenRotated,
                IntegrationDeleted,
                ApiKeyIssued,
                ApiKeyRevoked,
            ],
            # Directory is the source of users: it checks its own table, it keeps no replica.
            replicate_users=False,
            principal_lookup=principal_row,
        )
    )
    key = settings.signing_key.get_secret_value() if settings.signing_key else None
    app.state.signer = TokenSigner(load_pem(key), settings.token_ttl_s) if key else None
    return app
