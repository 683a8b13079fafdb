"""incidentctl's admin commands: directory's HTTP API from the command line (its endpoints:
docs/architecture.md).

Every command exchanges an API key for a short-lived access token (``POST /v1/auth/token``),
calls one endpoint with it, and prints the JSON answer on stdout. A problem+json answer is
printed as ``error <status>: <detail>`` on stderr, with exit code 1.

The connection options belong to each command group and come before the command:

    incidentctl clients --url http://directory:8007 list

The API key is taken from ``--api-key``, else ``INCIDENTCTL_API_KEY``, else the ``api_key`` of
the credentials file that ``make up`` / ``incidentctl bootstrap`` writes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, NoReturn
from uuid import UUID

import httpx
import typer
from rich.console import Console

from contracts.enums import (
    ClientStatus,
    ClientType,
    Role,
    SubscriptionTier,
    UserStatus,
    VendorType,
)

DEFAULT_URL = "http://127.0.0.1:8007"
DEFAULT_CREDENTIALS = Path(".local/credentials.json")

stdout = Console(soft_wrap=True)


# --------------------------------------------------------------------------- the HTTP client


class ApiError(Exception):
    """A call to directory failed: an error answer (``status``) or no answer at all (None)."""

    def __init__(self, status: int | None, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail

    def __str__(self) -> str:
        return f"error {self.status}: {self.detail}" if self.status else f"error: {self.detail}"


def _detail(response: httpx.Response) -> str:
    """The ``detail`` of a problem document, else whatever the answer says."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        detail = body.get("detail") or body.get("title")
        if detail:
            return detail if isinstance(detail, str) else json.dumps(detail)
    return response.text.strip()[:500] or response.reason_phrase


class DirectoryClient:
    """Calls directory's API as the owner of an API key (the token is fetched once, on first use)."""

    def __init__(self, base_url: str, api_key: str, *, timeout: float = 15.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self._token: str | None = None

    def token(self) -> str:
        if self._token is None:
            body = self._send("POST", "/v1/auth/token", json={"api_key": self.api_key})
            self._token = str(body["access_token"])
        return self._token

    def request(self, method: str, path: str, json: Any = None) -> Any:
        return self.call(self.base_url, method, path, json=json)

    def call(self, base_url: str, method: str, path: str, *, json: Any = None, params: Any = None) -> Any:
        """One call to any service's API (``base_url``) with the token directory issued."""
        headers = {"Authorization": f"Bearer {self.token()}"}
        return self._send(method, path, json=json, headers=headers, base_url=base_url, params=params)

    def _send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        headers: dict[str, str] | None = None,
        base_url: str | None = None,
        params: Any = None,
    ) -> Any:
        base = (base_url or self.base_url).rstrip("/")
        try:
            response = httpx.request(
                method, f"{base}{path}", json=json, params=params, headers=headers, timeout=self.timeout
            )
        except httpx.HTTPError as exc:
            what = "directory" if base == self.base_url else "the service"
            raise ApiError(None, f"cannot reach {what} at {base}: {exc}") from exc
        if response.is_error:
            raise ApiError(response.status_code, _detail(response))
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise ApiError(response.status_code, f"the answer is not JSON: {response.text[:200]}") from exc


# --------------------------------------------------------------------------- connection options


@dataclass(frozen=True)
class Connection:
    url: str
    api_key: str | None
    credentials: Path

    def client(self) -> DirectoryClient:
        return DirectoryClient(self.url, self.api_key or _api_key_from(self.credentials))


def _api_key_from(credentials: Path) -> str:
    hint = "pass --api-key, set INCIDENTCTL_API_KEY, or run `make up` / `incidentctl bootstrap`"
    try:
        data = json.loads(credentials.read_text())
    except FileNotFoundError:
        fail(f"no API key: the credentials file {credentials} does not exist ({hint})")
    except (OSError, ValueError) as exc:
        fail(f"cannot read the credentials file {credentials}: {exc}")
    key = data.get("api_key") if isinstance(data, dict) else None
    if not isinstance(key, str) or not key:
        fail(f"the credentials file {credentials} holds no api_key ({hint})")
    return key


def fail(message: str) -> NoReturn:
    typer.echo(message if message.startswith("error") else f"error: {message}", err=True)
    raise typer.Exit(1)


UrlOption = Annotated[
    str, typer.Option("--url", envvar="INCIDENTCTL_URL", help="Base URL of the directory service.")
]
ApiKeyOption = Annotated[
    str | None,
    typer.Option(
        "--api-key",
        envvar="INCIDENTCTL_API_KEY",
        show_envvar=True,
        help="API key to act with; default: the api_key of --credentials.",
    ),
]
CredentialsOption = Annotated[
    Path,
    typer.Option("--credentials", help="JSON file with an api_key (written by `incidentctl bootstrap`)."),
]


def connect(
    ctx: typer.Context,
    url: UrlOption = DEFAULT_URL,
    api_key: ApiKeyOption = None,
    credentials: CredentialsOption = DEFAULT_CREDENTIALS,
) -> None:
    """Connection options of a command group (before the command: `incidentctl users --url U list`)."""
    ctx.obj = Connection(url, api_key, credentials)


def call(ctx: typer.Context, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """One authenticated call; prints the JSON answer, or the error and exits 1."""
    connection: Connection = ctx.obj
    try:
        answer = connection.client().request(method, path, json=body)
    except ApiError as exc:
        fail(str(exc))
    stdout.print_json(data=answer)
    return answer


def given(**fields: Any) -> dict[str, Any]:
    """The fields that were given (not None), as JSON values."""
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if value is None:
            continue
        if isinstance(value, Enum):
            value = value.value
        elif isinstance(value, UUID):
            value = str(value)
        elif isinstance(value, datetime):
            value = value.date().isoformat()
        out[name] = value
    return out


def fields(ctx: typer.Context, *path: str) -> dict[str, Any]:
    """The command's options that were given, as the request's fields: each option's parameter
    is named as the API names the field; ``path`` names the arguments that go in the URL."""
    return given(**{name: value for name, value in ctx.params.items() if name not in path})


def changes(body: dict[str, Any]) -> dict[str, Any]:
    """An update's fields: refused before any call when none is given."""
    if not body:
        raise typer.BadParameter("give at least one field to change")
    return body


def group(help_text: str) -> typer.Typer:
    return typer.Typer(help=help_text, no_args_is_help=True, callback=connect)


def token(
    url: UrlOption = DEFAULT_URL,
    api_key: ApiKeyOption = None,
    credentials: CredentialsOption = DEFAULT_CREDENTIALS,
) -> None:
    """Print an access token for the API key (curl -H "Authorization: Bearer $(incidentctl token)")."""
    try:
        access = Connection(url, api_key, credentials).client().token()
    except ApiError as exc:
        fail(str(exc))
    typer.echo(access)


Date = Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], help="YYYY-MM-DD")]


# --------------------------------------------------------------------------- tenants

tenants = group("Tenants (platform operators only).")


@tenants.command("create")
def tenants_create(
    ctx: typer.Context,
    slug: Annotated[str, typer.Option(help="Short name used in URLs, e.g. acme.")],
    name: Annotated[str, typer.Option(help="Display name.")],
    admin_email: Annotated[str | None, typer.Option(help="E-mail of the tenant's first admin.")] = None,
) -> None:
    """Create a tenant and its admin; prints the admin's API key (shown once)."""
    call(ctx, "POST", "/v1/tenants", fields(ctx))


# --------------------------------------------------------------------------- clients

clients = group("Clients and their subscriptions.")
ClientId = Annotated[UUID, typer.Argument(metavar="ID")]


@clients.command("create")
def clients_create(
    ctx: typer.Context,
    client_name: Annotated[str, typer.Option("--name", help="Client name.")],
    registration_number: Annotated[str, typer.Option(help="Company registration number (unique).")],
    contact_email: Annotated[str, typer.Option()],
    client_type: Annotated[ClientType, typer.Option("--type")],
    country: Annotated[str | None, typer.Option()] = None,
    industry: Annotated[str | None, typer.Option()] = None,
    status: Annotated[ClientStatus | None, typer.Option()] = None,
    account_manager_id: Annotated[UUID | None, typer.Option(help="User id of the account manager.")] = None,
) -> None:
    """Onboard a client."""
    call(ctx, "POST", "/v1/clients", fields(ctx))


@clients.command("list")
def clients_list(ctx: typer.Context) -> None:
    """List the tenant's clients."""
    call(ctx, "GET", "/v1/clients")


@clients.command("update")
def clients_update(
    ctx: typer.Context,
    client_id: ClientId,
    client_name: Annotated[str | None, typer.Option("--name")] = None,
    registration_number: Annotated[str | None, typer.Option()] = None,
    contact_email: Annotated[str | None, typer.Option()] = None,
    client_type: Annotated[ClientType | None, typer.Option("--type")] = None,
    country: Annotated[str | None, typer.Option()] = None,
    industry: Annotated[str | None, typer.Option()] = None,
    status: Annotated[ClientStatus | None, typer.Option()] = None,
    account_manager_id: Annotated[UUID | None, typer.Option()] = None,
) -> None:
    """Change the given fields of a client (the others stay)."""
    call(ctx, "PATCH", f"/v1/clients/{client_id}", changes(fields(ctx, "client_id")))


@clients.command("subscribe")
def clients_subscribe(
    ctx: typer.Context,
    client_id: ClientId,
    tier: Annotated[SubscriptionTier, typer.Option()],
    contractual_p1: Annotated[
        bool, typer.Option("--contractual-p1", help="The contract makes every incident of it P1.")
    ] = False,
    valid_from: Date = None,
    valid_until: Date = None,
) -> None:
    """Set (or replace) a client's subscription tier."""
    call(ctx, "POST", f"/v1/clients/{client_id}/subscription", fields(ctx, "client_id"))


# --------------------------------------------------------------------------- users

users = group("Users, their roles and API keys.")
UserId = Annotated[UUID, typer.Argument(metavar="ID")]


@users.command("create")
def users_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option()],
    email: Annotated[str, typer.Option()],
    role: Annotated[Role, typer.Option()],
    department: Annotated[str | None, typer.Option()] = None,
    client_id: Annotated[UUID | None, typer.Option(help="The client of a client_contact.")] = None,
    vendor_id: Annotated[UUID | None, typer.Option(help="The vendor of a vendor_contact.")] = None,
    timezone: Annotated[str | None, typer.Option(help="IANA name, e.g. Europe/Berlin.")] = None,
) -> None:
    """Register a user."""
    call(ctx, "POST", "/v1/users", fields(ctx))


@users.command("list")
def users_list(ctx: typer.Context) -> None:
    """List the tenant's users."""
    call(ctx, "GET", "/v1/users")


@users.command("update")
def users_update(
    ctx: typer.Context,
    user_id: UserId,
    role: Annotated[Role | None, typer.Option()] = None,
    status: Annotated[UserStatus | None, typer.Option()] = None,
    name: Annotated[str | None, typer.Option()] = None,
    email: Annotated[str | None, typer.Option()] = None,
    department: Annotated[str | None, typer.Option()] = None,
    timezone: Annotated[str | None, typer.Option()] = None,
    client_id: Annotated[UUID | None, typer.Option()] = None,
    vendor_id: Annotated[UUID | None, typer.Option()] = None,
) -> None:
    """Change the given fields of a user (e.g. --status inactive refuses them everywhere)."""
    call(ctx, "PATCH", f"/v1/users/{user_id}", changes(fields(ctx, "user_id")))


@users.command("api-key")
def users_api_key(ctx: typer.Context, user_id: UserId) -> None:
    """Issue an API key to a user; the key is shown once."""
    call(ctx, "POST", f"/v1/users/{user_id}/api-keys")


# --------------------------------------------------------------------------- vendors, components

vendors = group("Vendors (external service providers).")


@vendors.command("create")
def vendors_create(
    ctx: typer.Context,
    vendor_name: Annotated[str, typer.Option("--name")],
    vendor_email: Annotated[str, typer.Option("--email")],
    vendor_phone: Annotated[str, typer.Option("--phone")],
    vendor_type: Annotated[VendorType, typer.Option("--type")],
) -> None:
    """Register a vendor."""
    call(ctx, "POST", "/v1/vendors", fields(ctx))


components = group("Components (a client's infrastructure).")


@components.command("create")
def components_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option()],
    client_id: Annotated[UUID, typer.Option()],
    vendor_id: Annotated[UUID | None, typer.Option(help="The vendor that runs it.")] = None,
    component_type: Annotated[str | None, typer.Option("--type", help="e.g. database, api.")] = None,
    environment: Annotated[str | None, typer.Option(help="e.g. production.")] = None,
    business_critical: Annotated[bool, typer.Option("--business-critical")] = False,
) -> None:
    """Register a component of a client."""
    call(ctx, "POST", "/v1/components", fields(ctx))


def register(app: typer.Typer) -> None:
    """Add the admin commands to incidentctl."""
    app.command("token")(token)
    app.add_typer(tenants, name="tenants")
    app.add_typer(clients, name="clients")
    app.add_typer(users, name="users")
    app.add_typer(vendors, name="vendors")
    app.add_typer(components, name="components")
