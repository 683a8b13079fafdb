"""HTTP routes of sign-in: tokens and the keys that verify them (JWKS)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from backbone.app import Strict, UowDep
from directory.entrypoints.deps import signer_of
from directory.handlers import api_keys

router = APIRouter(prefix="/v1")


# --------------------------------------------------------------------------- auth


class TokenRequest(Strict):
    api_key: str = Field(min_length=1, max_length=200)


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int


@router.post("/auth/token", response_model=TokenOut, tags=["auth"])
async def token(body: TokenRequest, request: Request, uow: UowDep) -> Any:
    """Exchange an API key for a short-lived signed access token (JWT, EdDSA)."""
    signer = signer_of(request)
    access = await api_keys.exchange_api_key(uow, signer, body.api_key)
    return {"access_token": access, "expires_in": signer.ttl_s}


@router.get("/auth/jwks", tags=["auth"])
async def jwks(request: Request) -> dict[str, Any]:
    """The public key(s) tokens are signed with (RFC 7517), for verifiers outside the platform."""
    return signer_of(request).jwks()
