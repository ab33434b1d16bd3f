"""Bytes by their sha256, under a root that is a local folder or any fsspec URL (`s3://bucket/
prefix`): the same content uploaded twice is stored once, and an object never changes once
written (its key is its digest), so readers need no locks.

An upload is spooled to a local temporary file while it is hashed (its digest is known only
at the end, and an S3 object cannot be renamed), then copied under `sha256/ab/cd/<digest>`
unless that object exists already.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Spooled:
    """An upload on local disk, hashed: what `ObjectStore.keep` stores."""

    path: Path
    digest: str  # hex sha256
    size: int


class Spool:
    """Write an upload's chunks to a local temporary file, hashing them as they come."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=folder, prefix="upload-")
        self._file = os.fdopen(fd, "wb")
        self._path = Path(name)
        self._hash = hashlib.sha256()
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self._file.write(chunk)
        self._hash.update(chunk)
        self.size += len(chunk)

    def close(self) -> Spooled:
        self._file.close()
        return Spooled(self._path, self._hash.hexdigest(), self.size)

    def discard(self) -> None:
        self._file.close()
        self._path.unlink(missing_ok=True)


class ObjectStore:
    def __init__(self, root: str) -> None:
        import fsspec

        self.root = root
        if "://" in root:
            self.fs, base = fsspec.core.url_to_fs(root)
            self._base = base.rstrip("/")
            self.local = False
            # Uploads for a remote root are spooled in the system's temporary folder.
            self.spool_folder = Path(tempfile.gettempdir()) / "mlledger-uploads"
        else:
            self.fs = fsspec.filesystem("file")
            self._base = os.path.realpath(os.path.expanduser(root))
            self.local = True
            # Beside the objects, so that keeping one is a rename on the same filesystem.
            self.spool_folder = Path(self._base) / "tmp"

    def key(self, digest: str) -> str:
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError(f"not a sha256 digest: {digest!r}")
        return f"{self._base}/sha256/{digest[:2]}/{digest[2:4]}/{digest}"

    def spool(self) -> Spool:
        return Spool(self.spool_folder)

    def keep(self, spooled: Spooled) -> None:
        """Store the spooled upload under its digest (unless it is there) and drop the spool."""
        key = self.key(spooled.digest)
        try:
            if self.local:
                Path(key).parent.mkdir(parents=True, exist_ok=True)
                if not os.path.exists(key):
                    os.replace(spooled.path, key)  # atomic: readers see all of it or none
            elif not self.fs.exists(key):
                self.fs.put_file(str(spooled.path), key)
        finally:
            spooled.path.unlink(missing_ok=True)

    def put_bytes(self, data: bytes) -> str:
        spool = self.spool()
        try:
            spool.write(data)
        except BaseException:
            spool.discard()
            raise
        spooled = spool.close()
        self.keep(spooled)
        return spooled.digest

    def exists(self, digest: str) -> bool:
        return bool(self.fs.exists(self.key(digest)))

    def open(self, digest: str) -> IO[bytes]:
        """The object for reading (seekable: ranges are read from where they start)."""
        handle: Any = self.fs.open(self.key(digest), "rb")
        return handle  # type: ignore[no-any-return]

    def read(self, digest: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """The bytes [start, end) in chunks, for a streamed download."""
        with self.open(digest) as handle:
            handle.seek(start)
            left = None if end is None else end - start
            while left is None or left > 0:
                chunk = handle.read(CHUNK if left is None else min(CHUNK, left))
                if not chunk:
                    return
                if left is not None:
                    left -= len(chunk)
                yield chunk
