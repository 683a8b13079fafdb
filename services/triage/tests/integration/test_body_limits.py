"""Request-body caps and attachment streaming over the real stack: a body over its route's cap is
refused with a 413 problem before anything (authentication included) reads it, whether it
declares its length or streams without one; an upload is refused while it streams in, leaving
no temporary file and no row; downloads name any file safely (RFC 6266)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import quote, unquote
from uuid import uuid4

import pytest

from backbone.testing import assert_problem
from contracts.enums import Role
from triage.entrypoints.attachment import clean_filename, content_disposition
from triage.testing import Tenant, Triage

pytestmark = pytest.mark.integration

MIB = 1024 * 1024
LIMIT = 64 * 1024  # the attachment limit of the test service (conftest)


class Chunks:
    """A request body that counts how much of it the server pulled."""

    def __init__(self, chunks: int, size: int, head: bytes = b"", tail: bytes = b"") -> None:
        self.chunks, self.size, self.head, self.tail = chunks, size, head, tail
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self.head:
            yield self.head
        for _ in range(self.chunks):
            self.pulled += 1
            yield b"x" * self.size
        if self.tail:
            yield self.tail


def multipart(boundary: str, filename: str = "big.txt") -> tuple[bytes, bytes]:
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: text/plain\r\n\r\n"
    ).encode()
    return head, f"\r\n--{boundary}--\r\n".encode()


async def test_an_unauthenticated_50_mb_body_is_413_before_anything_reads_it(tenant: Tenant) -> None:
    incident = uuid4()
    for path in (f"/v1/incidents/{incident}/comments", f"/v1/incidents/{incident}/attachments"):
        body = Chunks(50, MIB)
        r = await tenant.client.post(
            path, content=body, headers={"Content-Length": str(50 * MIB), "Content-Type": "application/json"}
        )
        assert_problem(r, 413)
        assert r.json()["limit"] in (MIB, LIMIT + 64 * 1024)
        assert "exceeds the limit" in r.json()["detail"]
        assert body.pulled == 0, path  # refused by its declared length: nothing was read


async def test_a_chunked_body_over_the_cap_is_413_as_it_streams_in(tenant: Tenant) -> None:
    incident = await tenant.report()
    body = Chunks(50, 64 * 1024, head=b'{"body": "', tail=b'"}')
    r = await tenant.client.post(
        f"/v1/incidents/{incident}/comments",
        content=body,
        headers={**tenant.auth(), "Content-Type": "application/json"},
    )
    assert_problem(r, 413)
    assert r.json()["limit"] == MIB
    assert body.pulled <= MIB // (64 * 1024) + 1  # stopped once past the cap
    assert (await tenant.client.get(f"/v1/incidents/{incident}/comments", headers=tenant.auth())).json() == []


async def test_an_upload_over_the_limit_stops_while_streaming_and_leaves_nothing(
    tenant: Tenant, triage: Triage
) -> None:
    incident = await tenant.report()
    path = f"/v1/incidents/{incident}/attachments"
    boundary = uuid4().hex
    head, tail = multipart(boundary)
    # Under the route's cap (the limit plus framing) but over the attachment limit: the file
    # part is refused while it is written, without a Content-Length to go by.
    body = Chunks(20, 4096, head=head, tail=tail)
    r = await tenant.client.post(
        path,
        content=body,
        headers={**tenant.auth(), "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert_problem(r, 413)
    assert body.pulled <= LIMIT // 4096 + 1
    # Past the route's cap too (streamed, no length): refused by the cap.
    body = Chunks(64, 4096, head=head, tail=tail)
    r = await tenant.client.post(
        path,
        content=body,
        headers={**tenant.auth(), "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert_problem(r, 413)
    # No temporary file, no content file, no row, no event.
    assert [
        p.name for p in triage.attachments_dir.rglob("*") if p.is_file() and p.name.startswith(".upload-")
    ] == []
    assert (await tenant.client.get(path, headers=tenant.auth())).json() == []
    assert await tenant.events(incident, "incident.attachment_added.v1") == []

    # A broken body (cut off mid-part) is a 422 and leaves nothing either.
    r = await tenant.client.post(
        path,
        content=head + b"partial",
        headers={**tenant.auth(), "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert_problem(r, 422)
    assert [p for p in triage.attachments_dir.rglob(".upload-*")] == []
    assert (await tenant.client.get(path, headers=tenant.auth())).json() == []

    # A streamed upload within the limit is stored whole.
    body = Chunks(8, 4096, head=head, tail=tail)
    r = await tenant.client.post(
        path,
        content=body,
        headers={**tenant.auth(), "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["size_bytes"] == 8 * 4096


@pytest.mark.parametrize(
    ("sent", "stored", "ascii_name"),
    [
        ("отчёт 📎.pdf", "отчёт 📎.pdf", "_____ _.pdf"),
        # Quotes (escaped in the part header) are kept in the name but never reach the header raw.
        ('say \\"hi\\".pdf', 'say "hi".pdf', "say _hi_.pdf"),
    ],
)
async def test_a_download_names_any_file_safely(
    tenant: Tenant, sent: str, stored: str, ascii_name: str
) -> None:
    incident = await tenant.report()
    path = f"/v1/incidents/{incident}/attachments"
    boundary = uuid4().hex
    # Sent raw, as a browser sends the name (UTF-8).
    raw = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{sent}"\r\n'
        f"Content-Type: application/pdf\r\n\r\n%PDF-1.4\r\n--{boundary}--\r\n"
    ).encode()
    r = await tenant.client.post(
        path,
        content=raw,
        headers={**tenant.auth(), "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["filename"] == stored
    download = await tenant.client.get(f"{path}/{r.json()['id']}", headers=tenant.auth(Role.EXECUTIVE))
    assert download.status_code == 200, download.text
    assert download.content == b"%PDF-1.4"
    assert download.headers["content-disposition"] == (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(stored, safe='')}"
    )
    assert unquote(download.headers["content-disposition"].split("UTF-8''")[1]) == stored


def test_a_name_with_line_breaks_or_quotes_makes_one_header_line() -> None:
    header = content_disposition('a"b\r\nSet-Cookie: x=1\\.txt')
    assert header == (
        "attachment; filename=\"a_bSet-Cookie: x=1_.txt\"; filename*=UTF-8''a%22bSet-Cookie%3A%20x%3D1_.txt"
    )
    assert clean_filename("../\r\n..\\x\x00") == ".._.._x"
    assert clean_filename("\r\n") == "attachment"
