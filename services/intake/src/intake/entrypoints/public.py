"""The public report form (004 "Public Intake"): ``GET /public/{tenant_slug}/report`` and
``POST /v1/public/{tenant_slug}/incidents``, no sign-in. See docs/reports.md.

The submission endpoint takes the form (``application/x-www-form-urlencoded``, answered with
HTML: a redirect to the confirmation page, or the form again with its errors) and JSON
(``application/json``, answered with JSON). Anti-abuse, in this order: an unknown tenant is the
same 404 as any unknown page; requests another site's page sent are refused (Origin,
Sec-Fetch-Site); submissions are rate limited per tenant and client address (X-Forwarded-For
only from INTAKE_TRUSTED_PROXIES), and per tenant in all; the body is
capped; the form must carry its anti-forgery token and cookie; a filled honeypot is answered
like a success and nothing is written.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import parse_qs, quote
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from backbone.app import UowDep
from backbone.idempotency import respond_once
from backbone.problems import Forbidden, Problem, Unprocessable, problem_response
from contracts.envelope import new_id
from intake.config import Settings
from intake.domain import reports as rules
from intake.domain.limits import MAX_BODY_BYTES
from intake.entrypoints.reports import ReportAccepted
from intake.handlers import reports as handlers

Slug = Annotated[str, Path(min_length=1, max_length=63)]

templates = Environment(
    loader=PackageLoader("intake", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)

LABELS = {
    "title": "Title",
    "description": "Description",
    "category": "Category",
    "name": "Your name",
    "email": "Email",
    "phone": "Phone",
    "organization": "Organization",
}
LIMITS = {
    "title": rules.MAX_TITLE,
    "description": rules.MAX_DESCRIPTION,
    "name": rules.MAX_NAME,
    "email": rules.MAX_EMAIL,
    "phone": rules.MAX_PHONE,
    "organization": rules.MAX_ORGANIZATION,
}
FORM_CONTENT = "application/x-www-form-urlencoded"
COOKIE = "intake_report_csrf"

pages = APIRouter(tags=["public"], max_body_size=MAX_BODY_BYTES)
api = APIRouter(prefix="/v1", tags=["public"], max_body_size=MAX_BODY_BYTES)


class UnsupportedMediaType(Problem):
    status, title = 415, "Unsupported media type"


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.runtime.settings
    return settings


def _secret(request: Request) -> bytes:
    """The configured secret, or one made per process (see INTAKE_PUBLIC_FORM_SECRET)."""
    configured = _settings(request).public_form_secret
    if configured is not None:
        return configured.get_secret_value().encode()
    state = request.app.state
    if not hasattr(state, "public_form_secret"):
        state.public_form_secret = secrets.token_bytes(32)
    secret: bytes = state.public_form_secret
    return secret


def _not_found() -> StarletteHTTPException:
    # The very exception an unknown route raises, so the answer cannot tell the two apart.
    return StarletteHTTPException(status_code=404, detail="Not Found")


async def _tenant(uow: UowDep, slug: str) -> handlers.PublicTenant:
    tenant = await handlers.public_tenant(uow, slug)
    if tenant is None:
        raise _not_found()
    return tenant


def _form_url(slug: str) -> str:
    return f"/public/{quote(slug)}/report"


def _action(slug: str) -> str:
    return f"/v1/public/{quote(slug)}/incidents"


def _html(
    request: Request,
    template: str,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **ctx: Any,
) -> HTMLResponse:
    nonce = secrets.token_urlsafe(16)
    body = templates.get_template(template).render(csp_nonce=nonce, **ctx)
    response = HTMLResponse(body, status_code=status_code, headers=headers)
    # Nothing external, no script at all; the one inline style carries the nonce.
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; style-src 'nonce-{nonce}'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Not no-referrer: under it a browser sends "Origin: null" with the form, failing the origin check.
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    return response


def _form(
    request: Request,
    slug: str,
    tenant: handlers.PublicTenant,
    now: datetime,
    *,
    status_code: int = 200,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """The form page, with a fresh anti-forgery token (issued ``now``) and its cookie."""
    nonce = secrets.token_urlsafe(24)
    token = rules.form_token(_secret(request), tenant.id, nonce, now)
    response = _html(
        request,
        "report_form.html",
        status_code=status_code,
        headers=headers,
        tenant_name=tenant.name,
        action=_action(slug),
        csrf_token=token,
        values={k: v for k, v in (values or {}).items() if k in LABELS},
        errors=errors or {},
        notice=notice,
        labels=LABELS,
        limits=LIMITS,
    )
    response.set_cookie(
        COOKIE,
        nonce,
        max_age=_settings(request).public_form_token_ttl_s,
        path=_action(slug),
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )
    return response


@pages.get("/public/{tenant_slug}/report", response_class=HTMLResponse)
async def report_form(tenant_slug: Slug, request: Request, uow: UowDep) -> HTMLResponse:
    """The public report form of a tenant: plain HTML, works without JavaScript."""
    return _form(request, tenant_slug, await _tenant(uow, tenant_slug), uow.now)


@pages.get("/public/{tenant_slug}/report/submitted", response_class=HTMLResponse)
async def report_submitted(
    tenant_slug: Slug, request: Request, uow: UowDep, reference: Annotated[UUID, Query()]
) -> HTMLResponse:
    """The confirmation page after a submission, showing its reference. It looks nothing up, so
    it shows any well-formed reference the same way (and reveals nothing)."""
    tenant = await _tenant(uow, tenant_slug)
    return _html(
        request,
        "report_submitted.html",
        tenant_name=tenant.name,
        reference=str(reference),
        form_url=_form_url(tenant_slug),
    )


_REQUEST_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": rules.PublicReport.model_json_schema()},
        FORM_CONTENT: {
            "schema": {
                **rules.PublicReport.model_json_schema(),
                "description": "The HTML form: also needs csrf_token (from the form page) and its cookie.",
            }
        },
    },
}


class _Reject(Exception):
    """A refusal of the HTML form: the form again, with a message, and this status."""

    def __init__(self, status_code: int, notice: str, headers: dict[str, str] | None = None) -> None:
        self.status_code, self.notice, self.headers = status_code, notice, headers


def _single_values(body: bytes) -> dict[str, str]:
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=50)
    except (UnicodeDecodeError, ValueError) as exc:
        raise Unprocessable("the form data is not valid UTF-8 url-encoded data", field="body") from exc
    repeated = [k for k, v in parsed.items() if len(v) > 1]
    if repeated:
        raise Unprocessable(f"{repeated[0]}: given more than once", field=repeated[0])
    return {k: v[0] for k, v in parsed.items()}


@api.post(
    "/public/{tenant_slug}/incidents",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ReportAccepted,
    openapi_extra={"requestBody": _REQUEST_BODY},
    responses={
        303: {"description": "Form submitted: to the confirmation page."},
        413: {"description": "The body exceeds 512 KB."},
        415: {"description": "Neither JSON nor the form's encoding."},
        429: {"description": "Too many submissions from this address, or to this tenant; see Retry-After."},
    },
)
async def submit_report(tenant_slug: Slug, request: Request, uow: UowDep) -> Response:
    """A report from anyone, no sign-in (004 "Public Intake"). JSON answers 202
    {status, incident_id}; the form answers 303 to its confirmation page. No anti-forgery token
    is needed for JSON: a browser sends JSON to another origin only after a CORS preflight,
    which this service never grants. Accepts an Idempotency-Key header (JSON)."""
    tenant = await _tenant(uow, tenant_slug)
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    is_form = media == FORM_CONTENT
    try:
        return await _submit(request, uow, tenant_slug, tenant, media, is_form)
    except _Reject as reject:
        try:
            values = _single_values(await request.body())
        except Unprocessable:
            values = {}
        return _form(
            request,
            tenant_slug,
            tenant,
            uow.now,
            status_code=reject.status_code,
            values=values,
            notice=reject.notice,
            headers=reject.headers,
        )


async def _submit(
    request: Request, uow: UowDep, slug: str, tenant: handlers.PublicTenant, media: str, is_form: bool
) -> Response:
    settings = _settings(request)
    host = request.headers.get("host", "").lower()
    if not rules.same_origin(request.headers.get("origin"), request.headers.get("sec-fetch-site"), host):
        raise Forbidden("reports are accepted from this service's own form only")

    now = uow.now
    window = timedelta(seconds=settings.public_rate_window_s)
    peer = request.client.host if request.client else "unknown"
    address = rules.client_address(
        peer, request.headers.getlist("x-forwarded-for"), settings.trusted_networks
    )
    client_key = rules.address_key(_secret(request), tenant.id, rules.rate_subject(address))
    hits = await handlers.count_public_submission(uow, tenant.id, client_key, now, window)
    # The tenant's budget counts only what its address's limit lets through, so one noisy
    # address cannot spend it for everyone else.
    tenant_hits = 0
    if hits <= settings.public_rate_limit:
        tenant_hits = await handlers.count_public_submission(
            uow, tenant.id, rules.TENANT_BUDGET_KEY, now, window
        )
    # Counted in its own transaction: refused and invalid attempts count too.
    await uow.commit()
    if hits > settings.public_rate_limit or tenant_hits > settings.public_rate_limit_tenant:
        wait = rules.retry_after(now, window)
        headers = {"Retry-After": str(wait)}
        whom = "this address" if hits > settings.public_rate_limit else "anyone right now"
        message = f"too many reports from {whom}; try again in {wait} seconds"
        if is_form:
            raise _Reject(429, message[0].upper() + message[1:] + ".", headers)
        refused = problem_response(429, "Too many requests", message, request.url.path)
        refused.headers.update(headers)
        return refused

    if media not in (FORM_CONTENT, "application/json"):
        raise UnsupportedMediaType(f"send application/json or {FORM_CONTENT}, not {media or 'nothing'}")
    body = await request.body()
    if is_form:
        fields: dict[str, Any] = dict(_single_values(body))
        token = fields.pop(rules.CSRF_FIELD, "")
        why = rules.check_form_token(
            _secret(request),
            token,
            tenant_id=tenant.id,
            cookie_nonce=request.cookies.get(COOKIE),
            now=now,
            ttl=timedelta(seconds=settings.public_form_token_ttl_s),
        )
        if why is not None:
            raise _Reject(403, why[0].upper() + why[1:] + ". Nothing was sent; please submit again.")
    else:
        try:
            fields = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise Unprocessable(f"body: not valid JSON ({exc})", field="body") from exc
        if not isinstance(fields, dict):
            raise Unprocessable("body: must be a JSON object", field="body")

    if rules.honeypot_filled(fields):
        # Answered like a success, so a bot learns nothing; nothing is written.
        return _accepted(slug, new_id(), is_form)

    try:
        report = rules.PublicReport.model_validate(fields)
    except ValidationError as exc:
        if is_form:
            errors = {e.field: e.message for e in rules.field_errors(exc)}
            return _form(
                request,
                slug,
                tenant,
                now,
                status_code=422,
                values={k: v for k, v in fields.items() if isinstance(v, str)},
                errors=errors,
            )
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False, include_context=False)]
        ) from exc

    if is_form:
        incident_id = await handlers.submit_public_report(uow, tenant.id, report, now)
        await uow.commit()
        return _accepted(slug, incident_id, is_form)

    async def accept() -> tuple[int, BaseModel]:
        incident_id = await handlers.submit_public_report(uow, tenant.id, report, now)
        return 202, ReportAccepted(incident_id=incident_id)

    return await respond_once(request, uow, f"{tenant.id}/public/{client_key[:32]}", accept)


def _accepted(slug: str, incident_id: UUID, is_form: bool) -> Response:
    if is_form:
        # Post/Redirect/Get: reloading the confirmation page never sends the report again.
        return RedirectResponse(
            f"{_form_url(slug)}/submitted?reference={incident_id}", status_code=status.HTTP_303_SEE_OTHER
        )
    return JSONResponse(jsonable_encoder(ReportAccepted(incident_id=incident_id)), status_code=202)
