"""incidentctl's commands for users' API keys (list, revoke, rotate; issue one with
`users api-key`). Connection options as in incidentctl/admin.py; a new key is printed once."""

from __future__ import annotations

from typing import Annotated

import typer

from incidentctl.admin import call, group

api_keys = group("Users' API keys: list, revoke, rotate (issue one with `users api-key`).")

UserId = Annotated[str, typer.Argument(metavar="USER_ID")]
KeyId = Annotated[str, typer.Argument(metavar="KEY_ID")]


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


def register(app: typer.Typer) -> None:
    """Add the `api-keys` group to incidentctl."""
    app.add_typer(api_keys, name="api-keys")
