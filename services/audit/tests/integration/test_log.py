"""The transparency log as served by the RUNNING audit service, over the real Kafka broker and
PostgreSQL: Go's sumdb/note and sumdb/tlog (built from the Go module proxy) verify its
checkpoints and proofs, and `incidentctl audit verify` agrees; a superuser's edit, deletion or
re-hash is named by GET /v1/audit/verify and by the offline verifier; redeliveries add nothing."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from sqlalchemy import delete, select, update

from audit.adapters.orm import entries, hashes
from audit.config import Settings as AuditSettings
from audit.domain import checkpoint, tlog
from audit.domain.log import leaf
from audit.main import create as create_audit
from audit.views.log import content_of
from backbone.db import Database
from backbone.testing import Stack, eventually, publish, send, serving
from contracts.enums import VendorType
from contracts.envelope import Envelope
from contracts.events import VendorRegistered
from incidentctl.audit import CHECKPOINTS, ENTRIES, KEYS, verify_dir

pytestmark = pytest.mark.integration


@dataclass
class Env:
    stack: Stack
    client: httpx.AsyncClient
    producer: AIOKafkaProducer
    db: Database
    notes: dict[UUID, list[str]] = field(default_factory=dict)

    def auth(self, tenant_id: UUID) -> dict[str, str]:
        return self.stack.auth(tenant_id=tenant_id, role="system_administrator")

    async def get(self, tenant_id: UUID, path: str, **params: Any) -> httpx.Response:
        response = await self.client.get(path, headers=self.auth(tenant_id), params=params)
        assert response.status_code == 200, response.text
        return response

    async def vendors(self, tenant_id: UUID, count: int, name: str = "Acme Hosting") -> list[Envelope]:
        sent = []
        for i in range(count):
            event = VendorRegistered(
                vendor_id=uuid4(),
                tenant_id=tenant_id,
                vendor_name=f"{name} {i}",
                vendor_email="support@acme.example",
                vendor_phone="+1 555 010 9988",
                vendor_type=VendorType.CLOUD_PROVIDER,
            )
            sent.append(await publish(self.producer, self.stack.topic_prefix, event, tenant_id=tenant_id))
        return sent

    async def signed(self, tenant_id: UUID, size: int) -> str:
        """The latest checkpoint once it covers ``size`` entries."""
        verifier = (await self.get(tenant_id, "/v1/audit/checkpoint/key")).text

        async def covered() -> str | None:
            response = await self.client.get("/v1/audit/checkpoint", headers=self.auth(tenant_id))
            if response.status_code != 200:
                return None
            return response.text if checkpoint.open_note(response.text, verifier).size == size else None

        note: str = await eventually(covered, what=f"a checkpoint of size {size}")
        return note

    async def export(self, tenant_id: UUID, out: Path) -> Path:
        """What `incidentctl audit export` writes, taken from the API."""
        lines = (await self.get(tenant_id, "/v1/audit", format="jsonl")).text
        signed = (await self.get(tenant_id, "/v1/audit/checkpoints", limit=1000)).json()
        _write_export(out, lines, signed)
        return out


def _write_export(out: Path, lines: str, signed: list[dict[str, Any]]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / ENTRIES).write_text(lines)
    (out / CHECKPOINTS).write_text("".join(json.dumps(c) + "\n" for c in signed))
    (out / KEYS).write_text("".join(k + "\n" for k in sorted({c["verifier_key"] for c in signed})))


@pytest.fixture(scope="module")
async def env(stack: Stack) -> AsyncIterator[Env]:
    pem = Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    settings = stack.settings(AuditSettings, signing_key=pem.decode(), checkpoint_interval_s=0.2)
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap_servers, enable_idempotence=True)
    await producer.start()
    db = Database.connect(stack.database_url, "audit", pool_size=1)  # the superuser's connection
    try:
        async with serving(create_audit(settings)) as client:
            yield Env(stack, client, producer, db)
    finally:
        await producer.stop()
        await db.dispose()


def b64d(text: str) -> bytes:
    return base64.b64decode(text)


async def test_go_verifies_what_the_running_service_serves_and_the_offline_verifier_agrees(
    env: Env, go_verifier: Any, tmp_path: Path
) -> None:
    tenant = uuid4()
    sent = await env.vendors(tenant, 5)
    # A type the contracts do not define yet, and a redelivery: one entry, and one.
    unknown = Envelope(
        type="future.widget.created.v2",
        source="future",
        subject="w-1",
        tenantid=tenant,
        data={"owner_email": "jane@corp.example"},
    )
    for _ in range(2):
        await env.producer.send_and_wait(
            env.stack.topic_prefix + "intake.events", unknown.model_dump_json().encode(), key=b"w-1"
        )
    await send(env.producer, env.stack.topic_prefix, sent[0])
    first = await env.signed(tenant, 6)
    await env.vendors(tenant, 4)
    second = await env.signed(tenant, 10)
    listed = (await env.get(tenant, "/v1/audit", limit=1000)).json()
    assert [e["index"] for e in listed] == list(range(10))
    (widget,) = [e for e in listed if e["event_type"] == "future.widget.created.v2"]  # other topic: any place
    assert widget["data"] == {"owner_email": "j***@corp.example"}
    vendor = next(e for e in listed if e["event_type"] == "vendor.registered.v1")
    assert vendor["data"]["vendor_name"].startswith("Acme Hosting ") and vendor["action"] == "create"

    verifier = (await env.get(tenant, "/v1/audit/checkpoint/key")).text
    inclusion = []
    for note, size in ((0, 6), (1, 10)):
        for index in range(size):
            proof = (await env.get(tenant, "/v1/audit/proofs/inclusion", index=index, size=size)).json()
            assert b64d(proof["leaf"]) == leaf(
                {k: v for k, v in listed[index].items() if k not in ("index", "leaf")}
            )
            inclusion.append({"note": note, "index": index, "proof": proof["proof"]})
    step = (await env.get(tenant, "/v1/audit/proofs/consistency", **{"from": 6, "to": 10})).json()
    result = go_verifier(
        {
            "verifier": verifier,
            "notes": [first, second],
            "leaves": {str(e["index"]): e["leaf"] for e in listed},
            "inclusion": inclusion,
            "consistency": [{"from_note": 0, "to_note": 1, "proof": step["proof"]}],
        },
    )
    assert [n["ok"] for n in result["notes"]] == [True, True], result
    assert [n["size"] for n in result["notes"]] == [6, 10]
    assert all(v["ok"] for v in result["inclusion"]) and len(result["inclusion"]) == 16, result
    assert result["consistency"][0]["ok"] is True, result

    offline = verify_dir(await env.export(tenant, tmp_path / "export"))
    assert (offline["ok"], offline["checked"], offline["first_bad_index"]) == (True, 10, None)
    online = (await env.get(tenant, "/v1/audit/verify")).json()
    assert online == {"ok": True, "checked": 10, "first_bad_index": None, "reason": None}


async def test_a_superusers_edit_is_named_online_and_offline(env: Env, tmp_path: Path) -> None:
    tenant = uuid4()
    await env.vendors(tenant, 7)
    await env.signed(tenant, 7)
    async with env.db.sessions() as session, session.begin():
        await session.execute(
            update(entries)
            .where(entries.c.tenant_id == tenant, entries.c.leaf_index == 3)
            .values(data={"vendor_name": "Forged"})
        )
    online = (await env.get(tenant, "/v1/audit/verify")).json()
    assert (online["ok"], online["first_bad_index"]) == (False, 3)
    offline = verify_dir(await env.export(tenant, tmp_path / "export"))
    assert (offline["ok"], offline["first_bad_index"]) == (False, 3)


async def test_deleting_the_last_entries_is_detected(env: Env, tmp_path: Path) -> None:
    tenant = uuid4()
    await env.vendors(tenant, 6)
    await env.signed(tenant, 6)
    async with env.db.sessions() as session, session.begin():
        await session.execute(delete(entries).where(entries.c.tenant_id == tenant, entries.c.leaf_index >= 4))
    online = (await env.get(tenant, "/v1/audit/verify")).json()
    assert (online["ok"], online["checked"], online["first_bad_index"]) == (False, 4, 4)
    offline = verify_dir(await env.export(tenant, tmp_path / "export"))
    assert (offline["ok"], offline["first_bad_index"]) == (False, 4)


async def test_after_a_rewrite_no_consistency_proof_joins_the_signed_checkpoints(
    env: Env, go_verifier: Any
) -> None:
    """A superuser rewrites entry 2 and re-hashes everything (leaf and every stored hash): the
    tree is self-consistent again, but the proof it serves no longer joins the checkpoints
    signed before the rewrite."""
    tenant = uuid4()
    await env.vendors(tenant, 4)
    old = await env.signed(tenant, 4)
    await env.vendors(tenant, 3)
    new = await env.signed(tenant, 7)
    async with env.db.sessions() as session, session.begin():
        rows = (
            await session.execute(
                select(entries).where(entries.c.tenant_id == tenant).order_by(entries.c.leaf_index)
            )
        ).all()
        frontier, rewritten = tlog.Frontier(), {}
        for row in rows:
            content = content_of(row)
            if row.leaf_index == 2:
                content = {**content, "data": {"vendor_name": "Rewritten"}}
                await session.execute(
                    update(entries)
                    .where(entries.c.tenant_id == tenant, entries.c.leaf_index == 2)
                    .values(data=content["data"], leaf=leaf(content))
                )
            rewritten.update(frontier.append(leaf(content)))
        for index, h in rewritten.items():
            await session.execute(
                update(hashes)
                .where(hashes.c.tenant_id == tenant, hashes.c.hash_index == index)
                .values(hash=h)
            )
    # The log goes on; the signer signs the rewritten tree.
    await env.vendors(tenant, 2)
    newer = await env.signed(tenant, 9)
    step = (await env.get(tenant, "/v1/audit/proofs/consistency", **{"from": 4, "to": 9})).json()
    verifier = (await env.get(tenant, "/v1/audit/checkpoint/key")).text
    result = go_verifier(
        {
            "verifier": verifier,
            "notes": [old, new, newer],
            "leaves": {},
            "inclusion": [],
            "consistency": [{"from_note": 0, "to_note": 2, "proof": step["proof"]}],
        },
    )
    assert result["consistency"][0]["ok"] is False, result
    with pytest.raises(tlog.ProofError):
        tlog.verify_consistency(
            [b64d(h) for h in step["proof"]],
            4,
            checkpoint.open_note(old, verifier).root,
            9,
            checkpoint.open_note(newer, verifier).root,
        )
    online = (await env.get(tenant, "/v1/audit/verify")).json()
    assert online["ok"] is False and online["first_bad_index"] is not None and online["first_bad_index"] <= 2


async def test_a_dead_lettered_event_leaves_an_entry_without_its_payload(env: Env) -> None:
    """A message no consumer can take (here: audit's own, an envelope without its source) goes
    to the DLQ; audit records what, which service and why in the message's tenant's log, and
    nothing of the message's data."""
    tenant, event_id = uuid4(), uuid4()
    broken = {"id": str(event_id), "type": "vendor.registered.v1", "subject": "v-1", "tenantid": str(tenant),
              "data": {"vendor_password": "hunter2-secret", "vendor_email": "x@example.org"}}  # fmt: skip
    topic = f"{env.stack.topic_prefix}directory.events"
    await env.producer.send_and_wait(topic, json.dumps(broken).encode(), key=str(tenant).encode())

    async def recorded() -> list[dict[str, Any]] | None:
        response = await env.client.get(
            "/v1/audit", headers=env.auth(tenant), params={"event_type": "event.dead_lettered"}
        )
        found: list[dict[str, Any]] = response.json() if response.status_code == 200 else []
        return found or None

    items = await eventually(recorded, what="the dead letter's entry")
    assert len(items) == 1
    entry = items[0]
    assert entry["action"] == "execute"
    assert entry["subject"] == str(event_id)
    assert entry["data"]["service"] == "audit"
    assert entry["data"]["event_type"] == "vendor.registered.v1"
    assert entry["data"]["event_id"] == str(event_id)
    assert entry["data"]["error_type"] == "ValidationError"
    assert entry["data"]["dlq_topic"] == "audit.dlq"
    text = json.dumps(entry)
    assert "hunter2" not in text and "x@example.org" not in text
    # In the tree like any entry: the log still verifies.
    await env.signed(tenant, 1)
    assert (await env.get(tenant, "/v1/audit/verify")).json()["ok"] is True
