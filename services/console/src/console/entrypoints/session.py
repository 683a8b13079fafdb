"""Sign-in and sign-out: an API key exchanged at directory for an access token, which is kept
only in an HttpOnly, SameSite=Strict cookie (Secure over https); never in a URL, a page or the
browser's storage (docs/adr/0014-web-console.md "Sessions")."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from console.adapters.api import ApiError
from console.domain.session import COOKIE, cookie_secure
from console.entrypoints.deps import ApiDep, FormDep, render, settings_of

router = APIRouter()
LOGIN_COOKIE = "console_login"  # the sign-in form's own anti-forgery value (no session yet)


def _safe_next(value: str | None) -> str:
    """Only a path of this console: never another site (an open redirect)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/incidents"
    return value


def _scheme(request: Request) -> str:
    return request.url.scheme


def _login_page(request: Request, next_path: str, error: str = "", status_code: int = 200) -> Response:
    nonce = secrets.token_urlsafe(24)
    expired = request.query_params.get("expired") == "1"
    response = render(
        request,
        "login.html",
        {"next": next_path, "login_token": nonce, "error": error, "expired": expired},
        status_code=status_code,
    )
    response.set_cookie(
        LOGIN_COOKIE,
        nonce,
        httponly=True,
        samesite="strict",
        secure=cookie_secure(settings_of(request).cookie_secure, _scheme(request)),
        path="/login",
        max_age=3600,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/login")
async def login_form(request: Request) -> Response:
    return _login_page(request, _safe_next(request.query_params.get("next")))


@router.post("/login")
async def login(
    request: Request,
    api: ApiDep,
    api_key: Annotated[str, Form(max_length=200)] = "",
    login_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    next_path = _safe_next(next)
    expected = request.cookies.get(LOGIN_COOKIE) or ""
    if not expected or not hmac.compare_digest(expected, login_token):
        return _login_page(request, next_path, "The form expired; please sign in again.", 400)
    if not api_key.strip():
        return _login_page(request, next_path, "Enter your API key.", 422)
    try:
        token = await api.exchange(api_key.strip())
    except ApiError as exc:
        message = "That API key was not accepted." if exc.status in (401, 403, 422) else exc.detail
        return _login_page(request, next_path, message, 401 if exc.status in (401, 403, 422) else 503)
    settings = settings_of(request)
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=cookie_secure(settings.cookie_secure, _scheme(request)),
        path="/",
    )
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
async def logout(request: Request, form: FormDep) -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response
