"""``incidentctl db roles``: each service's database roles, through backbone.roles
(docs/adr/0008-database-roles.md)."""

from __future__ import annotations

import asyncio
import os
from typing import Annotated

import typer

from backbone.roles import DEFAULT_PREFIX, ensure_service_roles
from backbone.settings import ServiceSettings
from contracts.topics import SERVICES

commands = typer.Typer(help="The services' database roles (least privilege).", no_args_is_help=True)


@commands.command("roles")
def roles_command(
    services: Annotated[list[str] | None, typer.Argument(help="Services; all if none.")] = None,
    prefix: Annotated[
        str, typer.Option(envvar="DATABASE_ROLE_PREFIX", help="Role names are <prefix><service>.")
    ] = DEFAULT_PREFIX,
) -> None:
    """Create or update each service's login and owner roles, its schema's owner and the
    grants (idempotent), connecting as DATABASE_URL's administrator. Each login role's password
    comes from <SERVICE>_DATABASE_PASSWORD; the service then runs with DATABASE_URL naming that
    role. Run it after `incidentctl migrate`."""
    admin_url = ServiceSettings().database_url
    chosen = services or list(SERVICES)
    unknown = sorted(set(chosen) - set(SERVICES))
    missing = [s for s in chosen if not os.environ.get(f"{s.upper()}_DATABASE_PASSWORD")]
    if unknown:
        raise typer.BadParameter(f"unknown services {', '.join(unknown)}; one of {', '.join(SERVICES)}")
    if missing:
        typer.echo(f"error: set {', '.join(f'{s.upper()}_DATABASE_PASSWORD' for s in missing)}", err=True)
        raise typer.Exit(1)
    for service in chosen:
        password = os.environ[f"{service.upper()}_DATABASE_PASSWORD"]
        roles = asyncio.run(ensure_service_roles(admin_url, service, password, prefix))
        typer.echo(f"roles {service}: {roles.login} (login), {roles.owner} (owns schema {service})", err=True)
