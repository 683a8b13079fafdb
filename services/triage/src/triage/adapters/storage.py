"""Attachment content on disk (TRIAGE_ATTACHMENTS_DIR), addressed by the sha256 of the content:
the uploader's filename never becomes a path, identical uploads share one file, and a file is
written completely (to a temporary name, then renamed) before any row refers to it. File I/O
runs in a worker thread, off the event loop."""

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

    def _put(self, source: BinaryIO, max_bytes: int) -> tuple[str, int]:
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := source.read(CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise TooLarge(f"larger than {max_bytes} bytes")
                    digest.update(chunk)
                    out.write(chunk)
            key = digest.hexdigest()
            target = self.path(key)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, target)
            return key, size
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    async def put(self, source: BinaryIO, max_bytes: int) -> tuple[str, int]:
        """Store the content; its (key, size). TooLarge past ``max_bytes`` (nothing kept)."""
        return await asyncio.to_thread(self._put, source, max_bytes)

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self.path(key).is_file)

    async def read(self, key: str) -> AsyncIterator[bytes]:
        f = await asyncio.to_thread(self.path(key).open, "rb")
        try:
            while chunk := await asyncio.to_thread(f.read, CHUNK):
                yield chunk
        finally:
            f.close()
