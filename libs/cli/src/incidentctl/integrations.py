"""incidentctl's commands for monitoring integrations: create (prints the token once), update,
rotate the token, delete. Connection options as in incidentctl/admin.py."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import typer

from contracts.enums import IntegrationKind
from incidentctl.admin import call, changes, fields, group

IntegrationId = Annotated[str, typer.Argument(metavar="ID")]

# --------------------------------------------------------------------------- integrations

integrations = group("Monitoring integrations (alert sources and their tokens).")


def rule_value(text: str) -> bool | int | str:
    """An impact rule's target: true/false as booleans, digits as an integer, else the text."""
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    if text.isdigit():
        return int(text)
    return text


def impact_rule(text: str) -> dict[str, Any]:
    """'label=value1,value2:fact=to' (no values: any value of the label) as an impact rule."""
    matcher, sep, assignment = text.rpartition(":")
    label, _, values = matcher.partition("=")
    fact, eq, to = assignment.partition("=")
    if not (sep and label.strip() and fact.strip() and eq and to.strip()):
        raise typer.BadParameter(
            f"{text!r} is not 'label=value1,value2:fact=to'", param_hint="'--impact-rule'"
        )
    return {
        "label": label.strip(),
        "values": [v.strip() for v in values.split(",") if v.strip()],
        "fact": fact.strip(),
        "to": rule_value(to.strip()),
    }


def integration_fields(ctx: typer.Context, *path: str) -> dict[str, Any]:
    """``fields`` with the repeatable --grouping-label and --impact-rule as the API's lists."""
    body = fields(ctx, "grouping_label", "impact_rule_text", *path)
    if labels := ctx.params.get("grouping_label"):
        body["grouping_labels"] = list(labels)
    if rules := ctx.params.get("impact_rule_text"):
        body["impact_rules"] = [impact_rule(text) for text in rules]
    return body


@integrations.command("create")
def integrations_create(
    ctx: typer.Context,
    kind: Annotated[IntegrationKind, typer.Option()],
    name: Annotated[str, typer.Option()],
    client_id: Annotated[UUID | None, typer.Option(help="The client its alerts are about.")] = None,
    default_component_id: Annotated[UUID | None, typer.Option()] = None,
    grouping_label: Annotated[
        list[str] | None, typer.Option(help="Alerts alike in these labels are one incident (repeatable).")
    ] = None,
    impact_rule_text: Annotated[
        list[str] | None,
        typer.Option(
            "--impact-rule",
            help="'label=value1,value2:fact=to', e.g. 'severity=critical:business_critical=true' "
            "(repeatable; no values: any value).",
        ),
    ] = None,
    auto_resolve: Annotated[
        bool, typer.Option(help="Resolve an incident once all its alerts have resolved.")
    ] = True,
    rate_limit_per_s: Annotated[
        float | None, typer.Option(help="Alerts/s accepted from Events v2 and generic senders.")
    ] = None,
    rate_limit_burst: Annotated[
        int | None, typer.Option(help="Alerts accepted at once above the rate.")
    ] = None,
) -> None:
    """Create an integration; prints its token (for events_v2 the routing_key), shown once."""
    body = {"grouping_labels": [], "impact_rules": [], **integration_fields(ctx)}
    call(ctx, "POST", "/v1/integrations", body)


@integrations.command("update")
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
    body = changes(integration_fields(ctx, "integration_id"))
    call(ctx, "PATCH", f"/v1/integrations/{integration_id}", body)


@integrations.command("rotate")
def integrations_rotate(ctx: typer.Context, integration_id: IntegrationId) -> None:
    """Give an integration a new token, printed once; intake refuses the old one within seconds."""
    call(ctx, "POST", f"/v1/integrations/{integration_id}/rotate-token")


@integrations.command("delete")
def integrations_delete(ctx: typer.Context, integration_id: IntegrationId) -> None:
    """Delete an integration: its token is refused from now on."""
    call(ctx, "DELETE", f"/v1/integrations/{integration_id}")


def register(app: typer.Typer) -> None:
    """Add the `integrations` group to incidentctl."""
    app.add_typer(integrations, name="integrations")
