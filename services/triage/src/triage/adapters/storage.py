"""Attachment content on disk (TRIAGE_ATTACHMENTS_DIR), addressed by the sha256 of the content:
the uploader's filename never becomes a path, identical uploads share one file, and a file is
written completely (to a temporary name, then renamed) before any row refers to it. File I/O
runs in a worker thread, off the event loop. An upload streams through ``ContentWriter``: hashed
and counted as it is written, never held in memory whole."""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

CHUNK = 1024 * 1024


class TooLarge(Exception):
    pass


class ContentStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        if len(key) != 64 or any(c not in "0123456789abcdef" for c in key):
            raise ValueError("not a content key")
        return self.root / key[:2] / key

    def writer(self, max_bytes: int) -> ContentWriter:
        """An upload written as it streams in (see ContentWriter)."""
        return ContentWriter(self, max_bytes)

    def _remove(self, key: str, written_before: float) -> bool:
        path = self.path(key)
        try:
            if path.stat().st_mtime >= written_before:
                return False  # (re)written just now: an upload of the same content may be committing
            path.unlink()
        except FileNotFoundError:
            return False
        return True

    async def remove(self, key: str, written_before: float) -> bool:
        """Delete the content of ``key`` unless it was written at or after ``written_before``
        (a POSIX timestamp); whether it was deleted."""
        return await asyncio.to_thread(self._remove, key, written_before)

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self.path(key).is_file)

    async def read(self, key: str) -> AsyncIterator[bytes]:
        f = await asyncio.to_thread(self.path(key).open, "rb")
        try:
            while chunk := await asyncio.to_thread(f.read, CHUNK):
                yield chunk
        finally:
            f.close()


class ContentWriter:
    """One upload: ``write`` chunks as they arrive (TooLarge past ``max_bytes``), then
    ``finish`` moves the complete file to its content key, or ``discard`` removes it. Nothing
    half-written is ever under a content key."""

    def __init__(self, store: ContentStore, max_bytes: int) -> None:
        self.store = store
        self.max_bytes = max_bytes
        self.size = 0
        self._digest = hashlib.sha256()
        self._tmp: Path | None = None
        self._out: BinaryIO | None = None
        self.created: Path | None = None  # the content file, when this upload created it

    def count(self, n: int) -> None:
        """Counts bytes about to be written; TooLarge once past the limit (before writing)."""
        self.size += n
        if self.size > self.max_bytes:
            raise TooLarge(f"larger than {self.max_bytes} bytes")

    def _write(self, chunks: list[bytes]) -> None:
        if self._out is None:
            self.store.root.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.store.root, prefix=".upload-")
            self._tmp, self._out = Path(tmp), os.fdopen(fd, "wb")
        for chunk in chunks:
            self._digest.update(chunk)
            self._out.write(chunk)

    async def write(self, chunks: list[bytes]) -> None:
        """Writes chunks already counted with ``count``."""
        if chunks:
            await asyncio.to_thread(self._write, chunks)

    def _finish(self) -> tuple[str, int]:
        self._write([])  # an empty file is a file too
        assert self._out is not None and self._tmp is not None
        self._out.close()
        key = self._digest.hexdigest()
        target = self.store.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        existed = target.exists()
        os.replace(self._tmp, target)
        self._tmp = None
        self.created = None if existed else target
        return key, self.size

    async def finish(self) -> tuple[str, int]:
        """The complete content under its key: (key, size)."""
        return await asyncio.to_thread(self._finish)

    def _discard(self) -> None:
        if self._out is not None:
            self._out.close()
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)
        if self.created is not None:  # finished, but the row never committed
            self.created.unlink(missing_ok=True)

    async def discard(self) -> None:
        """Undo: the temporary file, and the content file if this upload created it."""
        await asyncio.to_thread(self._discard)
