"""incidentctl: the one command for operating the platform (topics, migrations, serving,
bootstrap, waiting for health)."""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import time
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console

from backbone.settings import ServiceSettings
from contracts.topics import SERVICES

app = typer.Typer(help="Operate the incident-management platform.", no_args_is_help=True)
console = Console(stderr=True)


def service_settings(service: str) -> ServiceSettings:
    if service not in SERVICES:
        raise typer.BadParameter(f"unknown service {service!r}; one of {', '.join(SERVICES)}")
    settings: ServiceSettings = importlib.import_module(f"{service}.config").Settings()
    return settings


@app.command()
def topics() -> None:
    """Create every Kafka topic that is missing (idempotent)."""
    from backbone.kafka import create_topics

    s = ServiceSettings()
    created = asyncio.run(create_topics(s.kafka_bootstrap_servers, prefix=s.kafka_topic_prefix))
    console.print(
        f"topics: {len(created)} created" + (f" ({', '.join(created)})" if created else ", all present")
    )


@app.command()
def migrate(
    services: Annotated[list[str] | None, typer.Argument(help="Services; all if none.")] = None,
) -> None:
    """Upgrade each service's schema to the newest migration."""
    from backbone.migrations import upgrade

    for service in services or list(SERVICES):
        settings = service_settings(service)
        started = time.perf_counter()
        upgrade(service, settings.database_url)
        console.print(f"migrated {service} ({time.perf_counter() - started:.1f}s)")


@app.command()
def serve(service: str) -> None:
    """Run one service (HTTP API, Kafka consumers and outbox relay) in the foreground."""
    import uvicorn

    settings = service_settings(service)
    uvicorn.run(
        f"{service}.main:create",
        factory=True,
        host=settings.host,
        port=settings.port,
        log_config=None,  # JSON logging is set up by the service itself
        proxy_headers=True,
    )


@app.command()
def wait(
    timeout: Annotated[float, typer.Option(help="Seconds to wait in all.")] = 120.0,
    services: Annotated[list[str] | None, typer.Argument()] = None,
) -> None:
    """Wait until every service answers /readyz, printing each as it comes up."""
    pending = {s: f"http://127.0.0.1:{service_settings(s).port}" for s in services or SERVICES}
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=2) as client:
        while pending and time.monotonic() < deadline:
            for name, url in list(pending.items()):
                try:
                    if client.get(f"{url}/readyz").status_code == 200:
                        console.print(f"  ready  {name:<14} {url}  (docs {url}/docs)")
                        del pending[name]
                except httpx.HTTPError:
                    pass
            time.sleep(0.5)
    if pending:
        console.print(f"[red]not ready after {timeout:.0f}s: {', '.join(pending)}[/red] (see make logs)")
        raise typer.Exit(1)


@app.command()
def bootstrap(
    directory_url: Annotated[str, typer.Option(help="Base URL of the directory service.")] = "",
    out: Annotated[Path, typer.Option(help="Where to write the credentials JSON.")] = Path(
        ".local/credentials.json"
    ),
    slug: str = "default",
    name: str = "Default tenant",
) -> None:
    """Create the first tenant and its admin on an empty system; write {tenant_slug, api_key}."""
    url = directory_url or f"http://127.0.0.1:{service_settings('directory').port}"
    if out.exists():
        console.print(f"credentials already in {out}; nothing to do")
        return
    response = httpx.post(f"{url}/v1/bootstrap", json={"slug": slug, "name": name}, timeout=10)
    if response.status_code == 409:
        console.print(
            "[yellow]the system is already bootstrapped and no credentials file exists;[/yellow] "
            "create an API key with an admin's key instead"
        )
        raise typer.Exit(1)
    response.raise_for_status()
    body = response.json()
    out.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # a secret: owner-only
    with os.fdopen(fd, "w") as f:
        json.dump({"tenant_slug": body["tenant_slug"], "api_key": body["api_key"]}, f, indent=2)
    console.print(f"bootstrap tenant {body['tenant_slug']!r} created; credentials in {out}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
