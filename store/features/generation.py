"""The mark an apply leaves so that every process sees new definitions at once.

Each service process keeps a snapshot of the Feast registry (the online path resolves features
from it without a database round trip), and Feast caches the registry too. After an apply the
other processes must not serve from the old ones, so the apply moves a per-project generation,
kept where every process that shares the online store can see it cheaply:

- with Redis, a key beside the features, read in the same pipelined round trip as the values;
- in the embedded default, a file under `home/features`, whose identity (inode and mtime) one
  `stat` reads.

A process whose snapshot was taken at another generation re-reads the registry first.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path
from typing import Any

PREFIX = b"mlledger:features:generation:"


class Generations:
    def __init__(self, redis: Any | None, folder: Path) -> None:
        self.redis = redis
        self.folder = folder

    def key(self, project: str) -> bytes:
        """The Redis key of a Feast project's generation."""
        return PREFIX + project.encode()

    def current(self, project: str) -> str | None:
        """The generation now (None before the first apply that marked one)."""
        if self.redis is not None:
            raw = self.redis.get(self.key(project))
            return raw.decode() if raw is not None else None
        try:
            st = os.stat(self._file(project))
        except FileNotFoundError:
            return None
        return f"{st.st_ino}:{st.st_mtime_ns}"

    def of_reply(self, raw: bytes | None) -> str | None:
        """The generation from the value the online pipeline read at `key`."""
        return raw.decode() if raw is not None else None

    def bump(self, project: str) -> None:
        if self.redis is not None:
            self.redis.incr(self.key(project))
            return
        # A new file replacing the old one: a new inode, seen by the next `stat` anywhere.
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".generation-")
        with os.fdopen(fd, "w") as f:
            f.write(uuid.uuid4().hex)
        os.replace(tmp, self._file(project))

    def _file(self, project: str) -> Path:
        return self.folder / f"{project}.generation"
