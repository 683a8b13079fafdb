"""Attachment routes: upload (multipart, streamed to disk), list and download.

The upload is read only after the caller is authenticated and the incident found, and it is
read as it streams in: each chunk of the file part is hashed and written to a temporary file,
counted against TRIAGE_ATTACHMENT_MAX_BYTES (413 past it), never held in memory whole. The
route's body cap (the attachment limit plus room for the multipart framing) applies before
anything, authentication included. On any failure the temporary file is removed and no row is
written.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import quote
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

import triage.views.attachment as views
from backbone.app import RuntimeDep, UowDep
from backbone.problems import NotFound, Problem, Unprocessable
from triage.adapters.storage import ContentStore, ContentWriter, TooLarge
from triage.config import Settings
from triage.entrypoints.deps import Commenter, Viewer
from triage.handlers import attachment as handlers
from triage.views import incident as incident_views

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

# Room for the multipart framing around the file (boundaries, part headers, comment_id).
FRAMING_BYTES = 64 * 1024
MAX_FIELD_BYTES = 100  # a non-file field (comment_id is a UUID)
MAX_PARTS = 8
MAX_FILENAME = 255

_UPLOAD_SCHEMA = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {
                    "file": {"type": "string", "format": "binary", "description": "The content."},
                    "comment_id": {
                        "type": "string",
                        "format": "uuid",
                        "description": "The comment it belongs to.",
                    },
                },
                "required": ["file"],
            }
        }
    },
}


class ContentTooLarge(Problem):
    status, title = 413, "Content too large"


class UnsupportedMediaType(Problem):
    status, title = 415, "Unsupported media type"


class AttachmentOut(BaseModel):
    id: UUID
    incident_id: UUID
    comment_id: UUID | None
    filename: str
    mime_type: str
    size_bytes: int
    uploaded_by: UUID | None
    created_at: datetime


def clean_filename(name: str | None) -> str:
    """The uploader's name as shown and offered back: no path, no control characters."""
    name = (name or "").replace("/", "_").replace("\\", "_")
    name = "".join(c for c in name if unicodedata.category(c) != "Cc").strip()
    return name[-MAX_FILENAME:] or "attachment"


def content_disposition(filename: str) -> str:
    """RFC 6266: an ASCII ``filename`` for old clients and the exact name in ``filename*``
    (RFC 8187, UTF-8 percent-encoded), so any name is a valid (Latin-1) header."""
    name = clean_filename(filename)
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\' else "_" for c in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


@dataclass
class _Upload:
    """The multipart body as the parser reports it; file data goes to ``writer``."""

    writer: ContentWriter
    mime_types: list[str]
    filename: str | None = None
    mime: str | None = None
    fields: dict[str, bytearray] = field(default_factory=dict)
    pending: list[bytes] = field(default_factory=list)  # file chunks not yet written
    parts: int = 0
    complete: bool = False  # the closing boundary came
    _headers: dict[bytes, bytes] = field(default_factory=dict)
    _header: bytes = b""
    _value: bytes = b""
    _target: str | None = None  # "file", a field's name, or None (ignored)

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._data,
            "on_end": self._end,
        }

    def _end(self) -> None:
        self.complete = True

    def _begin(self) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise Unprocessable(f"body: more than {MAX_PARTS} parts", field="body")
        self._headers, self._target = {}, None

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._header.lower()] = self._value
        self._header, self._value = b"", b""

    def _headers_finished(self) -> None:
        disposition, options = parse_options_header(
            self._headers.get(b"content-disposition", b"").decode("latin-1")
        )
        name = options.get(b"name", b"").decode("utf-8", "replace")
        if disposition != b"form-data" or not name:
            return
        if name != "file":
            if name in self.fields:
                raise Unprocessable(f"{name}: given more than once", field=name)
            self.fields[name] = bytearray()
            self._target = name
            return
        if self.mime is not None:
            raise Unprocessable("file: give one file", field="file")
        media, _ = parse_options_header(self._headers.get(b"content-type", b"").decode("latin-1"))
        mime = media.decode("latin-1") or "application/octet-stream"
        if mime not in self.mime_types:
            raise UnsupportedMediaType(f"file: type {mime} is not accepted")
        self.mime = mime
        self.filename = options.get(b"filename", b"").decode("utf-8", "replace")
        self._target = "file"

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self._target == "file":
            self.writer.count(end - start)
            self.pending.append(data[start:end])
        elif self._target is not None:
            value = self.fields[self._target]
            value += data[start:end]
            if len(value) > MAX_FIELD_BYTES:
                raise Unprocessable(
                    f"{self._target}: longer than {MAX_FIELD_BYTES} bytes", field=self._target
                )


async def _receive(request: Request, upload: _Upload) -> None:
    media, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if media != b"multipart/form-data" or not boundary:
        raise Unprocessable("file: send multipart/form-data with a file part", field="file")
    parser = MultipartParser(boundary, upload.callbacks())
    try:
        async for chunk in request.stream():
            parser.write(chunk)
            chunks, upload.pending = upload.pending, []
            await upload.writer.write(chunks)
        parser.finalize()
    except TooLarge as exc:
        raise ContentTooLarge(f"file: {exc}", limit=upload.writer.max_bytes) from exc
    except MultipartParseError as exc:
        raise Unprocessable(f"body: not valid multipart/form-data ({exc})", field="body") from exc
    if not upload.complete:  # cut off: whatever came is not the whole file
        raise Unprocessable("body: the multipart body ends before its closing boundary", field="body")
    if upload.mime is None:
        raise Unprocessable("file: field required", field="file")


def _comment_id(upload: _Upload) -> UUID | None:
    raw = upload.fields.get("comment_id")
    if raw is None or not raw.strip():
        return None
    try:
        return UUID(raw.decode("ascii").strip())
    except (UnicodeDecodeError, ValueError) as exc:
        raise Unprocessable("comment_id: not a valid UUID", field="comment_id") from exc


def _settings(runtime: RuntimeDep) -> Settings:
    settings = runtime.settings
    assert isinstance(settings, Settings)
    return settings


async def add_attachment(
    incident_id: UUID, request: Request, caller: Commenter, uow: UowDep, runtime: RuntimeDep
) -> JSONResponse:
    """Attach a file (multipart `file`, optional `comment_id`). Needs
    `incidents.comments.manage`. The type must be allowed (415) and the size within the limit
    (413); see TRIAGE_ATTACHMENT_MIME_TYPES and TRIAGE_ATTACHMENT_MAX_BYTES."""
    settings = _settings(runtime)
    # Before reading anything: the incident must be there for the caller.
    if await incident_views.get_incident(uow, caller, incident_id) is None:
        raise NotFound(f"no incident {incident_id}")
    writer = ContentStore(settings.attachments_dir).writer(settings.attachment_max_bytes)
    upload = _Upload(writer, settings.attachment_mime_types)
    try:
        await _receive(request, upload)
        comment_id = _comment_id(upload)
        key, size = await writer.finish()
        assert upload.mime is not None
        row = await handlers.add_attachment(
            uow, caller, incident_id, storage_key=key, filename=clean_filename(upload.filename),
            mime_type=upload.mime, size_bytes=size, comment_id=comment_id,
        )  # fmt: skip
        await uow.commit()
    except BaseException:
        await writer.discard()
        raise
    return JSONResponse(AttachmentOut.model_validate(row).model_dump(mode="json"), status_code=201)


async def list_attachments(incident_id: UUID, caller: Viewer, uow: UowDep) -> list[AttachmentOut]:
    """The incident's attachments (metadata), oldest first."""
    return [AttachmentOut.model_validate(r) for r in await views.attachments(uow, caller, incident_id)]


async def download_attachment(
    incident_id: UUID, attachment_id: UUID, caller: Viewer, uow: UowDep, runtime: RuntimeDep
) -> StreamingResponse:
    """The attachment's content, to those who may see the incident."""
    row = await views.attachment(uow, caller, incident_id, attachment_id)
    store = ContentStore(_settings(runtime).attachments_dir)
    if not await store.exists(row["storage_key"]):
        raise NotFound(f"the content of attachment {attachment_id} is gone")
    return StreamingResponse(
        store.read(row["storage_key"]),
        media_type=row["mime_type"],
        headers={
            "Content-Disposition": content_disposition(row["filename"]),
            "Content-Length": str(row["size_bytes"]),
            "X-Content-Type-Options": "nosniff",
        },
    )


def router(settings: Settings) -> APIRouter:
    """The routes; the upload's body cap follows the configured attachment limit."""
    api = APIRouter(prefix="/v1", tags=["incidents"])
    api.add_api_route(
        "/incidents/{incident_id}/attachments",
        add_attachment,
        methods=["POST"],
        response_model=AttachmentOut,
        status_code=201,
        openapi_extra={"requestBody": _UPLOAD_SCHEMA},
        responses={
            413: {"description": "The file is over the limit."},
            415: {"description": "Type not accepted."},
        },
        max_body_size=settings.attachment_max_bytes + FRAMING_BYTES,
    )
    api.add_api_route(
        "/incidents/{incident_id}/attachments",
        list_attachments,
        methods=["GET"],
        response_model=list[AttachmentOut],
    )
    api.add_api_route(
        "/incidents/{incident_id}/attachments/{attachment_id}",
        download_attachment,
        methods=["GET"],
        response_class=StreamingResponse,
    )
    return api
