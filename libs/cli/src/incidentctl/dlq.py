"""``incidentctl dlq list|replay SERVICE``: a service's dead-letter topic from the command line.
Reading and republishing are backbone.dlq's; see
docs/adr/0009-fault-classification-replay-and-parking.md."""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict
from typing import Annotated, NoReturn

import typer

from backbone.dlq import describe, read, replay
from incidentctl.services import service_settings

commands = typer.Typer(help="A service's dead-letter topic: list and replay.", no_args_is_help=True)


def _dlq_of(service: str) -> tuple[str, str]:
    settings = service_settings(service)
    return settings.kafka_bootstrap_servers, settings.dlq_topic


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


@commands.command("list")
def list_command(service: Annotated[str, typer.Argument(help="The service whose DLQ to read.")]) -> None:
    """Print the DLQ's messages as JSON lines (offset, event type and id, error, attempts, time)."""
    bootstrap, topic = _dlq_of(service)
    try:
        records = asyncio.run(read(bootstrap, topic))
    except LookupError as exc:
        _fail(str(exc))
    for record in records:
        typer.echo(json.dumps(asdict(describe(record))))


@commands.command("replay")
def replay_command(
    service: Annotated[str, typer.Argument(help="The service whose DLQ to replay.")],
    offset: Annotated[list[int] | None, typer.Option(help="A DLQ offset to replay (repeatable).")] = None,
    replay_all: Annotated[bool, typer.Option("--all", help="Replay every message in the DLQ.")] = False,
) -> None:
    """Republish dead-lettered messages to their original topic, to be handled again."""
    if bool(offset) == replay_all:
        raise typer.BadParameter("give --offset N (repeatable) or --all")
    bootstrap, topic = _dlq_of(service)
    try:
        replayed = asyncio.run(replay(bootstrap, topic, service, None if replay_all else set(offset or ())))
    except LookupError as exc:
        _fail(str(exc))
    for dead in replayed:
        typer.echo(
            json.dumps({"replayed": dead.offset, "event_id": dead.event_id, "to": dead.original_topic})
        )
