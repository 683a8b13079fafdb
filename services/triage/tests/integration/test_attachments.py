"""Attachments through the HTTP API over the real stack: content stored under the configured
directory by its sha256 (never the uploader's filename), metadata in the database, size and
type limits, and scope checks on download (004 incident_attachments)."""

from __future__ import annotations

import hashlib
from uuid import uuid4

import pytest

from backbone.testing import assert_problem
from contracts.enums import Role
from triage.testing import Tenant

pytestmark = pytest.mark.integration


async def test_upload_list_and_download(tenant: Tenant) -> None:
    t = tenant
    client_id = uuid4()
    incident = await t.report(client_id=client_id)
    path = f"/v1/incidents/{incident}/attachments"
    content = b"ERROR pool exhausted\n" * 100
    comment = (
        await t.post(f"/v1/incidents/{incident}/comments", {"body": "logs attached", "is_internal": False})
    ).json()
    uploaded = await t.client.post(
        path,
        files={"file": ("../../etc/passwd", content, "text/plain")},
        data={"comment_id": comment["id"]},
        headers=t.auth(Role.TECHNICAL_SUPPORT),
    )
    assert uploaded.status_code == 201, uploaded.text
    meta = uploaded.json()
    assert (meta["mime_type"], meta["size_bytes"], meta["comment_id"]) == (
        "text/plain",
        len(content),
        comment["id"],
    )
    assert "/" not in meta["filename"]
    # Stored by content hash under the configured directory; nothing named after the upload.
    digest = hashlib.sha256(content).hexdigest()
    assert (t.t.attachments_dir / digest[:2] / digest).read_bytes() == content
    assert not list(t.t.attachments_dir.rglob("passwd"))

    listed = (await t.client.get(path, headers=t.auth(Role.EXECUTIVE))).json()
    assert [a["id"] for a in listed] == [meta["id"]]
    contact = t.auth(Role.CLIENT_CONTACT, client_id=client_id)
    download = await t.client.get(f"{path}/{meta['id']}", headers=contact)
    assert download.status_code == 200 and download.content == content
    assert download.headers["content-type"].startswith("text/plain")
    assert "attachment" in download.headers["content-disposition"]
    # Out of scope or another tenant: absent.
    assert_problem(
        await t.client.get(f"{path}/{meta['id']}", headers=t.auth(Role.CLIENT_CONTACT, client_id=uuid4())),
        404,
    )
    assert_problem(await t.client.get(f"{path}/{meta['id']}", headers=Tenant(t.t, uuid4()).auth()), 404)
    assert_problem(await t.client.get(f"{path}/{uuid4()}", headers=t.auth()), 404)
    # A file on an internal comment is staff-only.
    note = (await t.post(f"/v1/incidents/{incident}/comments", {"body": "internal dump"})).json()
    assert note["is_internal"] is True
    hidden = await t.client.post(
        path,
        files={"file": ("dump.json", b"{}", "application/json")},
        data={"comment_id": note["id"]},
        headers=t.auth(),
    )
    assert hidden.status_code == 201
    hidden_id = hidden.json()["id"]
    assert [a["id"] for a in (await t.client.get(path, headers=contact)).json()] == [meta["id"]]
    assert_problem(await t.client.get(f"{path}/{hidden_id}", headers=contact), 404)
    assert (await t.client.get(f"{path}/{hidden_id}", headers=t.auth(Role.EXECUTIVE))).content == b"{}"
    event, _ = await t.events(incident, "incident.attachment_added.v1")
    assert (event["attachment_id"], event["size_bytes"]) == (meta["id"], len(content))


async def test_limits_and_refusals(tenant: Tenant) -> None:
    t = tenant
    incident = await t.report()
    path = f"/v1/incidents/{incident}/attachments"
    # The test service allows 64 KiB.
    too_big = await t.client.post(
        path, files={"file": ("big.txt", b"x" * (64 * 1024 + 1), "text/plain")}, headers=t.auth()
    )
    assert_problem(too_big, 413)
    exe = await t.client.post(
        path, files={"file": ("tool.exe", b"MZ", "application/x-msdownload")}, headers=t.auth()
    )
    assert_problem(exe, 415)
    assert_problem(await t.client.post(path, headers=t.auth()), 422)  # no file
    unknown_comment = await t.client.post(
        path,
        files={"file": ("a.txt", b"a", "text/plain")},
        data={"comment_id": str(uuid4())},
        headers=t.auth(),
    )
    assert_problem(unknown_comment, 422)
    forbidden = await t.client.post(
        path, files={"file": ("a.txt", b"a", "text/plain")}, headers=t.auth(Role.EXECUTIVE)
    )
    assert_problem(forbidden, 403)
    elsewhere = await t.client.post(
        f"/v1/incidents/{uuid4()}/attachments",
        files={"file": ("a.txt", b"a", "text/plain")},
        headers=t.auth(),
    )
    assert_problem(elsewhere, 404)
    assert (await t.client.get(path, headers=t.auth())).json() == []
    assert await t.events(incident, "incident.attachment_added.v1") == []
    # Exactly at the limit is fine.
    at_limit = await t.client.post(
        path, files={"file": ("max.bin", b"y" * (64 * 1024), "application/zip")}, headers=t.auth()
    )
    assert at_limit.status_code == 201, at_limit.text
