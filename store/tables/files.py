"""The artifact store's names: a project's file paths and the content each holds (the bytes
live in the object store under the digest, store/files/objects.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UtcDateTime, utcnow


class FileRow(Base):
    __tablename__ = "artifact_file"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), primary_key=True
    )
    # `<experiment>/<run>/artifacts/model/MLmodel`: '/'-separated, no '.' or '..' segments.
    # Byte order on both databases ("C" on Postgres, SQLite's default), so a folder's files
    # are one range of the primary key: [folder + '/', folder + '0').
    path: Mapped[str] = mapped_column(
        String(1024).with_variant(String(1024, collation="C"), "postgresql"), primary_key=True
    )
    digest: Mapped[str] = mapped_column(String(64))  # hex sha256 of the bytes
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
