"""``incidentctl audit export|verify|rotate-key``: a tenant's transparency log taken out of the
platform and checked without it (docs/audit.md).

``export`` writes DIR/entries.jsonl (every entry, as ``GET /v1/audit?format=jsonl`` gives it),
DIR/checkpoints.jsonl (every signed checkpoint) and DIR/verifier-keys.txt (every key that signed
them). ``verify DIR`` needs nothing else: it rebuilds each leaf from the entry's fields, the tree
from the leaves, and compares the roots with every checkpoint whose signature verifies.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from fastapi.encoders import jsonable_encoder

from audit.domain import checkpoint
from audit.domain.log import LogCheck
from audit.views import log as views
from backbone.db import Database
from backbone.uow import UnitOfWork
from incidentctl.services import service_settings

commands = typer.Typer(help="A tenant's audit log: export, verify offline, rotate the signing key.")

ENTRIES, CHECKPOINTS, KEYS = "entries.jsonl", "checkpoints.jsonl", "verifier-keys.txt"


async def _export(tenant_id: UUID, out: Path) -> int:
    settings = service_settings("audit")
    db = Database.connect(settings.database_url, "audit", pool_size=1)
    count = 0
    try:
        async with UnitOfWork(db.sessions, source="incidentctl") as uow:
            with (out / ENTRIES).open("w") as f:
                async for entry in views.export(uow, tenant_id=tenant_id, where={}):
                    f.write(json.dumps(jsonable_encoder(entry), ensure_ascii=False) + "\n")
                    count += 1
            signed = await views.checkpoints(uow, tenant_id=tenant_id, after=0, limit=None)
            with (out / CHECKPOINTS).open("w") as f:
                for cp in signed:
                    f.write(json.dumps(jsonable_encoder(cp)) + "\n")
            keys = sorted({cp["verifier_key"] for cp in signed})
            (out / KEYS).write_text("".join(k + "\n" for k in keys))
    finally:
        await db.dispose()
    return count


@commands.command("export")
def export_command(
    tenant: Annotated[UUID, typer.Option(help="The tenant whose log to export.")],
    out: Annotated[Path, typer.Option(help="The directory to write (made if missing).")],
) -> None:
    """Write the tenant's entries, every checkpoint and every verifier key to a directory."""
    out.mkdir(parents=True, exist_ok=True)
    count = asyncio.run(_export(tenant, out))
    typer.echo(json.dumps({"entries": count, "out": str(out)}))


def _lines(path: Path) -> Iterator[dict[str, Any]]:
    with path.open() as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def verify_dir(directory: Path) -> dict[str, Any]:
    """The offline check of an export: {ok, checked, first_bad_index, reason}."""
    keys = [k.strip() for k in (directory / KEYS).read_text().splitlines() if k.strip()]
    names = {checkpoint.parse_verifier_key(k)[0] for k in keys}
    if len(names) != 1:
        raise typer.BadParameter(f"{KEYS} must hold the verifier keys of one log")
    (name,) = names
    notes = [(cp["note"], key) for cp in _lines(directory / CHECKPOINTS) for key in keys]
    check = LogCheck(checkpoint.signed_roots(notes, name))
    for entry in _lines(directory / ENTRIES):
        content = {k: v for k, v in entry.items() if k not in ("index", "leaf")}
        if not check.add(int(entry["index"]), content, base64.b64decode(entry["leaf"])):
            break
    finding = check.finish()
    return {
        "ok": finding.ok,
        "checked": finding.checked,
        "first_bad_index": finding.first_bad_index,
        "reason": finding.reason,
        "checkpoints": len({size for size, _ in check.checkpoints}),
    }


@commands.command("verify")
def verify_command(
    directory: Annotated[Path, typer.Argument(help="A directory written by `incidentctl audit export`.")],
) -> None:
    """Check an export offline: leaves, tree and signed checkpoints. Exit 1 when it does not hold."""
    result = verify_dir(directory)
    typer.echo(json.dumps(result))
    if not result["ok"]:
        raise typer.Exit(1)


@commands.command("rotate-key")
def rotate_key(
    out: Annotated[Path, typer.Option(help="The key file AUDIT_SIGNING_KEY names.")] = Path(
        ".local/keys/audit-signing-key.pem"
    ),
    only_if_missing: Annotated[
        bool, typer.Option(help="Keep an existing key (what `make up` does).")
    ] = False,
) -> None:
    """Write a new Ed25519 checkpoint-signing key; the old file is kept beside it. Restart audit to
    sign with it: every log gets a checkpoint under the new key, and the old verifier keys stay
    listed at GET /v1/audit/checkpoint/keys."""
    if out.exists():
        if only_if_missing:
            typer.echo(f"audit signing key kept: {out}")
            return
        n = 1
        while out.with_name(f"{out.name}.{n}.old").exists():
            n += 1
        out.rename(out.with_name(f"{out.name}.{n}.old"))
    out.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    out.touch(mode=0o600)
    out.write_bytes(pem)
    typer.echo(f"audit signing key written: {out} (restart audit to use it)")
