"""incidentctl's commands for credentials: users' API keys (list, revoke, rotate) and
integrations after creation (update, rotate the token, delete). Connection options as in
incidentctl/admin.py; a new key or token is printed once."""

from __future__ import annotations

from typing import Annotated

import typer

from incidentctl import admin
from incidentctl.admin import call, given, group

api_keys = group("Users' API keys: list, revoke, rotate (issue one with `users api-key`).")

UserId = Annotated[str, typer.Argument(metavar="USER_ID")]
KeyId = Annotated[str, typer.Argument(metavar="KEY_ID")]
IntegrationId = Annotated[str, typer.Argument(metavar="ID")]


@api_keys.command("list")
def api_keys_list(ctx: typer.Context, user_id: UserId) -> None:
    """List a user's keys (ids, prefixes, dates; never a secret)."""
    call(ctx, "GET", f"/v1/users/{user_id}/api-keys")


@api_keys.command("revoke")
def api_keys_revoke(ctx: typer.Context, user_id: UserId, key_id: KeyId) -> None:
    """Revoke a key: it buys no access token from now on."""
    call(ctx, "DELETE", f"/v1/users/{user_id}/api-keys/{key_id}")


@api_keys.command("rotate")
def api_keys_rotate(ctx: typer.Context, user_id: UserId, key_id: KeyId) -> None:
    """Replace a key: prints the new key (shown once); the old one is revoked."""
    call(ctx, "POST", f"/v1/users/{user_id}/api-keys/{key_id}/rotate")


def integrations_update(
    ctx: typer.Context,
    integration_id: IntegrationId,
    name: Annotated[str | None, typer.Option()] = None,
    grouping_label: Annotated[
        list[str] | None, typer.Option(help="Replaces the grouping labels (repeatable).")
    ] = None,
    impact_rule_text: Annotated[
        list[str] | None,
        typer.Option(
            "--impact-rule", help="Replaces the impact rules: 'label=value1,value2:fact=to' (repeatable)."
        ),
    ] = None,
    auto_resolve: Annotated[bool | None, typer.Option("--auto-resolve/--no-auto-resolve")] = None,
    rate_limit_per_s: Annotated[float | None, typer.Option()] = None,
    rate_limit_burst: Annotated[int | None, typer.Option()] = None,
) -> None:
    """Change the given fields of an integration (the others stay; the token stays)."""
    body = given(
        name=name,
        grouping_labels=list(grouping_label) if grouping_label else None,
        impact_rules=[admin.impact_rule(t) for t in impact_rule_text] if impact_rule_text else None,
        auto_resolve=auto_resolve,
        rate_limit_per_s=rate_limit_per_s,
        rate_limit_burst=rate_limit_burst,
    )
    if not body:
        raise typer.BadParameter("give at least one field to change")
    call(ctx, "PATCH", f"/v1/integrations/{integration_id}", body)


def integrations_rotate(ctx: typer.Context, integration_id: IntegrationId) -> None:
    """Give an integration a new token, printed once; intake refuses the old one within seconds."""
    call(ctx, "POST", f"/v1/integrations/{integration_id}/rotate-token")


def integrations_delete(ctx: typer.Context, integration_id: IntegrationId) -> None:
    """Delete an integration: its token is refused from now on."""
    call(ctx, "DELETE", f"/v1/integrations/{integration_id}")


def register(app: typer.Typer) -> None:
    """Add the credential commands: an `api-keys` group, and three commands to `integrations`."""
    app.add_typer(api_keys, name="api-keys")
    admin.integrations.command("update")(integrations_update)
    admin.integrations.command("rotate")(integrations_rotate)
    admin.integrations.command("delete")(integrations_delete)
