"""incidentctl: the one command for operating the platform (topics, migrations, serving,
bootstrap, waiting for health, signing keys) and for administering it through directory's API
(tenants, clients, users, vendors, components, integrations, API keys: see incidentctl.admin,
incidentctl.api_keys and incidentctl.integrations)."""

from __future__ import annotations

import asyncio
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
from incidentctl import admin, api_keys, audit, db, dlq, incidents, integrations
from incidentctl.services import service_settings

app = typer.Typer(help="Operate the incident-management platform.", no_args_is_help=True)
console = Console(stderr=True)
keys = typer.Typer(help="Directory's token-signing key pair (Ed25519).", no_args_is_help=True)

SIGNING_KEY_FILE = "signing-key.pem"
PUBLIC_KEY_FILE = "public-key.pem"


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
def serve(
    service: str,
    ssl_certfile: Annotated[
        Path | None,
        typer.Option(help="Serve HTTPS with this certificate (PEM, chain included); docs/tls.md."),
    ] = None,
    ssl_keyfile: Annotated[Path | None, typer.Option(help="The certificate's private key (PEM).")] = None,
) -> None:
    """Run one service (HTTP API, Kafka consumers and outbox relay) in the foreground."""
    import uvicorn

    if (ssl_certfile is None) != (ssl_keyfile is None):
        raise typer.BadParameter("give both --ssl-certfile and --ssl-keyfile, or neither")
    for path in (ssl_certfile, ssl_keyfile):
        if path is not None and not path.is_file():
            raise typer.BadParameter(f"{path} is not a file")
    settings = service_settings(service)
    uvicorn.run(
        f"{service}.main:create",
        factory=True,
        host=settings.host,
        port=settings.port,
        log_config=None,  # JSON logging is set up by the service itself
        proxy_headers=True,
        ssl_certfile=str(ssl_certfile) if ssl_certfile else None,
        ssl_keyfile=str(ssl_keyfile) if ssl_keyfile else None,
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


def _write(path: Path, text: str, mode: int) -> None:
    """Write atomically, the file created with ``mode`` from the start (never briefly readable)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(tmp, mode)  # the umask may have taken bits off
    os.replace(tmp, path)


@keys.command("generate")
def keys_generate(
    out_dir: Annotated[Path, typer.Option(help="Directory for signing-key.pem and public-key.pem.")] = Path(
        ".local/keys"
    ),
    force: Annotated[
        bool, typer.Option(help="Replace existing keys (every issued token stops working).")
    ] = False,
) -> None:
    """Write a signing key (0600, for DIRECTORY_SIGNING_KEY) and its public key (for
    AUTH_PUBLIC_KEY); keeps the keys already there unless --force."""
    from cryptography.hazmat.primitives import serialization

    from backbone.auth import generate_keypair, load_pem

    private_path, public_path = out_dir / SIGNING_KEY_FILE, out_dir / PUBLIC_KEY_FILE
    if private_path.exists() and not force:
        if public_path.exists():
            console.print(f"signing keys already in {out_dir}; kept (--force replaces them)")
            return
        # The signing key is there, its public half is not: derive it, keep the key.
        private = serialization.load_pem_private_key(load_pem(str(private_path)), password=None)
        public_pem = (
            private.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )
        _write(public_path, public_pem, 0o644)
        console.print(f"public key written to {public_path} (from the existing {private_path})")
        return
    private_pem, public_pem = generate_keypair()
    out_dir.mkdir(parents=True, exist_ok=True)
    _write(private_path, private_pem, 0o600)
    _write(public_path, public_pem, 0o644)
    console.print(f"signing key written to {private_path} (0600), public key to {public_path}")


app.add_typer(keys, name="keys")
app.add_typer(dlq.commands, name="dlq")
app.add_typer(db.commands, name="db")
app.add_typer(audit.commands, name="audit")
admin.register(app)
api_keys.register(app)
integrations.register(app)
incidents.register(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
