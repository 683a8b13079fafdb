"""What every page needs: the API client, the signed-in user (from the session cookie, checked
against triage's /v1/me on each request), the anti-forgery check of posted forms, and rendering
with the common context (docs/adr/0014-web-console.md)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote
from uuid import UUID, uuid4

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from console.adapters.api import Api, ApiError
from console.config import Settings
from console.domain.session import COOKIE, CSRF_FIELD, CSRF_HEADER, Me, csrf_ok, csrf_token


class SignIn(Exception):
    """No session, or one the platform no longer accepts: back to the sign-in page."""

    def __init__(self, next_path: str, reason: str = "") -> None:
        super().__init__(reason)
        self.next_path = next_path
        self.reason = reason


class Forged(Exception):
    """A post without the session's anti-forgery token."""


def api_of(request: Request) -> Api:
    api: Api = request.app.state.api
    return api


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


ApiDep = Annotated[Api, Depends(api_of)]


@dataclass(frozen=True)
class Session:
    token: str
    me: Me

    @property
    def csrf(self) -> str:
        return csrf_token(self.token)


def _here(request: Request) -> str:
    path = request.url.path
    return path + ("?" + request.url.query if request.url.query else "")


async def session_of(request: Request) -> Session:
    token = request.cookies.get(COOKIE)
    if not token:
        raise SignIn(_here(request))
    try:
        me = Me.of(await api_of(request).get("triage", "/v1/me", token))
    except ApiError as exc:
        if exc.status == 401:
            raise SignIn(_here(request), "Your session has ended; sign in again.") from exc
        raise
    return Session(token, me)


SessionDep = Annotated[Session, Depends(session_of)]


async def form_of(request: Request, session: SessionDep) -> dict[str, str]:
    """A posted form, once its anti-forgery token matches the session's."""
    form = await request.form()
    sent = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER)
    if not csrf_ok(session.token, sent if isinstance(sent, str) else None):
        raise Forged()
    return {k: v for k, v in form.items() if isinstance(v, str)}


FormDep = Annotated[dict[str, str], Depends(form_of)]


def sign_in_url(next_path: str, reason: str = "") -> str:
    url = "/login?next=" + quote(next_path, safe="")
    return url + ("&expired=1" if reason else "")


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    session: Session | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    templates: Jinja2Templates = request.app.state.templates
    settings = settings_of(request)
    base = {
        "me": session.me if session else None,
        "csrf": session.csrf if session else "",
        "poll_s": settings.poll_interval_s,
        "path": request.url.path,
    }
    return templates.TemplateResponse(request, template, {**base, **context}, status_code=status_code)


def uuid_or_404(value: str, what: str) -> str:
    """A path's id, or the same 404 the service would give for an unknown one."""
    try:
        return str(UUID(value))
    except ValueError as exc:
        raise ApiError(404, f"no {what} {value[:40]!r}") from exc


async def act(
    send: Awaitable[Any], what: str, done_url: str, page: Callable[[str, int], Awaitable[Response]]
) -> Response:
    """A form's action at a service: back to the page on success (303, so a reload sends
    nothing again); a refusal shows the page again with the service's reason and status."""
    try:
        await send
    except ApiError as exc:
        if exc.status == 401:
            raise
        return await page(f"Could not {what}: {exc.detail}", exc.page_status)
    return RedirectResponse(done_url, status_code=303)


def no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def form_page(
    request: Request, template: str, context: dict[str, Any], session: Session, error: str, status_code: int
) -> Response:
    """A page of action forms: the refusal to show (if any), a fresh idempotency key for its
    forms (a resubmitted form is sent once), never cached."""
    context = {**context, "error": error, "form_key": str(uuid4())}
    return no_store(render(request, template, context, session=session, status_code=status_code))
