"""What the responder commands share (``incidentctl incidents …``, ``incidentctl sla …``):
the connection to the platform's public APIs, incident references, output and waiting.

A responder acts with their own API key, exchanged at directory for an access token like every
other client (docs/architecture.md "The outside contract"); the key comes from ``--api-key``,
``INCIDENTCTL_API_KEY`` or the credentials file, as for the admin commands. Incidents live at
triage and their clocks at sla: each service has its own URL (``--triage-url`` /
``INCIDENTCTL_TRIAGE_URL``, ``--sla-url`` / ``INCIDENTCTL_SLA_URL``), defaulting to the ports
``make up`` serves them on.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar
from uuid import UUID

import typer
from rich.console import Console

from incidentctl.admin import (
    DEFAULT_CREDENTIALS,
    DEFAULT_URL,
    ApiError,
    ApiKeyOption,
    CredentialsOption,
    DirectoryClient,
    UrlOption,
    _api_key_from,
    fail,
)

DEFAULT_TRIAGE_URL = "http://127.0.0.1:8002"
DEFAULT_SLA_URL = "http://127.0.0.1:8003"

stdout = Console(soft_wrap=True)
stderr = Console(stderr=True)

T = TypeVar("T")

TriageUrlOption = Annotated[
    str, typer.Option("--triage-url", envvar="INCIDENTCTL_TRIAGE_URL", help="Base URL of triage.")
]
SlaUrlOption = Annotated[
    str, typer.Option("--sla-url", envvar="INCIDENTCTL_SLA_URL", help="Base URL of sla.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the API's JSON (for scripts).")]


@dataclass
class Platform:
    """The responder's session: one token (fetched on first use) for every service."""

    directory_url: str
    triage_url: str
    sla_url: str
    api_key: str | None
    credentials: Path
    _client: DirectoryClient | None = None

    @property
    def client(self) -> DirectoryClient:
        if self._client is None:
            key = self.api_key or _api_key_from(self.credentials)
            self._client = DirectoryClient(self.directory_url, key)
        return self._client

    def triage(self, method: str, path: str, *, json: Any = None, params: Any = None) -> Any:
        return self._call(self.triage_url, method, path, json=json, params=params)

    def sla(self, method: str, path: str, *, params: Any = None) -> Any:
        return self._call(self.sla_url, method, path, params=params)

    def _call(self, base: str, method: str, path: str, *, json: Any = None, params: Any = None) -> Any:
        try:
            return self.client.call(base, method, path, json=json, params=params)
        except ApiError as exc:
            fail(str(exc))

    def incident(self, reference: str) -> dict[str, Any]:
        """The incident a reference names: its id, or its reference code (``INC-000123``,
        ``inc-123`` or ``123``). Another client's or tenant's incident is unknown (404)."""
        try:
            incident_id = UUID(reference)
        except ValueError:
            code = reference_code(reference)
            found = self.triage("GET", "/v1/incidents", params={"q": code, "limit": 500})
            for row in found:
                if row["reference_code"] == code:
                    return dict(row)
            fail(f"error 404: no incident {code}")
        return dict(self.triage("GET", f"/v1/incidents/{incident_id}"))

    def me(self) -> str:
        """The caller's user id, as triage sees it."""
        return str(self.triage("GET", "/v1/me")["user_id"])


_REFERENCE = re.compile(r"(?i)^(?:inc-?)?0*(\d{1,12})$")


def reference_code(reference: str) -> str:
    """``inc-42``, ``42`` and ``INC-000042`` name the same incident: ``INC-000042``."""
    match = _REFERENCE.match(reference.strip())
    if match is None:
        raise typer.BadParameter(f"{reference!r} is neither an incident id nor a reference like INC-000123")
    return f"INC-{int(match.group(1)):06d}"


def connect(
    ctx: typer.Context,
    url: UrlOption = DEFAULT_URL,
    triage_url: TriageUrlOption = DEFAULT_TRIAGE_URL,
    sla_url: SlaUrlOption = DEFAULT_SLA_URL,
    api_key: ApiKeyOption = None,
    credentials: CredentialsOption = DEFAULT_CREDENTIALS,
) -> None:
    """Connection options (before the command: `incidentctl incidents --triage-url U list`)."""
    ctx.obj = Platform(url, triage_url, sla_url, api_key, credentials)


def group(help_text: str) -> typer.Typer:
    return typer.Typer(help=help_text, no_args_is_help=True, callback=connect)


def platform(ctx: typer.Context) -> Platform:
    found: Platform = ctx.obj
    return found


def print_json(data: Any) -> None:
    stdout.print_json(json.dumps(data))


def age(value: str | None, now: datetime | None = None) -> str:
    """How long ago an ISO time was, shortly: ``42s``, ``5m``, ``3h``, ``2d``."""
    if not value:
        return ""
    seconds = ((now or datetime.now(UTC)) - datetime.fromisoformat(value)).total_seconds()
    return minutes(seconds / 60)


def minutes(value: float | None) -> str:
    """A span of minutes, shortly, negative when past (``-3m``)."""
    if value is None:
        return ""
    sign, value = ("-" if value < 0 else ""), abs(value)
    if value < 1:
        return f"{sign}{int(value * 60)}s"
    if value < 120:
        return f"{sign}{int(value)}m"
    if value < 48 * 60:
        return f"{sign}{int(value // 60)}h{int(value % 60):02d}m"
    return f"{sign}{int(value // 1440)}d{int(value % 1440 // 60)}h"


def wait_for(what: str, probe: Callable[[], T | None], timeout: float, interval: float = 0.5) -> T | None:
    """Poll ``probe`` under a spinner until it returns something, or ``timeout`` seconds pass
    (then None: the caller says what did not happen)."""
    deadline = time.monotonic() + timeout
    with stderr.status(f"waiting for {what}…"):
        while True:
            found = probe()
            if found is not None:
                return found
            if time.monotonic() >= deadline:
                return None
            time.sleep(interval)


def warn(message: str) -> None:
    stderr.print(f"[yellow]warning:[/yellow] {message}", highlight=False)
