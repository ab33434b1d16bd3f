"""Experiment tracking: a run is an execution of kind `run`; these tables hold what only runs have.

Metrics are the high-volume table: points are stored in chunks of packed columns, a row per
batch and key. Timestamps are integer milliseconds since the epoch (as in MLflow). In the
latest-value table NULL stands for NaN, which SQLite cannot store as a number.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, Id, Json, UtcDateTime, utcnow


class RunRow(Base):
    """The run side of an execution: its client-chosen id, experiment and tags.

    `uuid` is chosen by the client, so a run can be created, logged to and ended while the server
    is unreachable (the client spools and replays by uuid), and several processes of one job can
    attach to the same run by agreeing on it.
    """

    __tablename__ = "run"
    __table_args__ = (
        UniqueConstraint("project_id", "uuid"),
        Index(
            "ix_run_project_id_experiment_id_execution_id",
            "project_id",
            "experiment_id",
            "execution_id",
        ),
    )

    execution_id: Mapped[int] = mapped_column(
        ForeignKey("execution.id", ondelete="CASCADE"), primary_key=True
    )
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    uuid: Mapped[str] = mapped_column(String(64))
    experiment_id: Mapped[int] = mapped_column(ForeignKey("context.id", ondelete="CASCADE"))
    tags: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    # Deleted runs stay in the graph (a model may come from one); search leaves them out.
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # Ended by its caller (MLflow's KILLED): a `failed` execution that did not fail.
    killed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class MetricChunkRow(Base):
    """Up to 10,000 points of one series, as packed columns (store/tracking/chunks.py says why
    and how). No foreign key to `execution`: the domain resolves the run inside the same
    transaction before inserting, and executions are never deleted."""

    __tablename__ = "metric_chunk"
    __table_args__ = (
        # A history read is one range scan of a series' chunks.
        Index("ix_metric_chunk_execution_id_key_first_step", "execution_id", "key", "first_step"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    execution_id: Mapped[int] = mapped_column(Id)
    key: Mapped[str] = mapped_column(String(250))
    first_step: Mapped[int] = mapped_column(BigInteger)
    last_step: Mapped[int] = mapped_column(BigInteger)
    points: Mapped[int] = mapped_column(Integer)
    step_bytes: Mapped[bytes] = mapped_column(LargeBinary)
    timestamp_bytes: Mapped[bytes] = mapped_column(LargeBinary)
    value_bytes: Mapped[bytes] = mapped_column(LargeBinary)


class LatestMetricRow(Base):
    """The point with the highest (step, timestamp) per run and key: what search filters and
    orders by, kept current by an upsert in the same transaction as each batch."""

    __tablename__ = "metric_latest"
    __table_args__ = (
        Index("ix_metric_latest_key_value_execution", "key", "value", "execution_id"),
        # Search ordered by a metric walks this index from its end: a page of an experiment's
        # best runs reads a page of index entries, however many runs the experiment has. The
        # run's id last makes a metric's range index-only (a filter joins it to the runs
        # without a table row per entry) and orders a value's ties as search pages them.
        Index(
            "ix_metric_latest_experiment_key_value_execution",
            "experiment_id",
            "key",
            "value",
            "execution_id",
        ),
    )

    execution_id: Mapped[int] = mapped_column(
        ForeignKey("execution.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    # The run's experiment, copied from `run` (which never changes it) for the index above.
    experiment_id: Mapped[int | None] = mapped_column(Id, nullable=True)
    step: Mapped[int] = mapped_column(BigInteger)
    timestamp: Mapped[int] = mapped_column(BigInteger)
    value: Mapped[float | None] = mapped_column(Float(precision=53), nullable=True)


class IdempotencyKeyRow(Base):
    """A client write that has been applied, with what it answered.

    Inserted in the same transaction as the write itself, so a retried request either finds the
    key (and gets the stored answer) or the first attempt never committed.
    """

    __tablename__ = "idempotency_key"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    operation: Mapped[str] = mapped_column(String(64))
    response: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


HEAD = 200  # characters of a value kept in the index (a btree entry has a size limit)


class RunFieldRow(Base):
    """A run's params and tags as rows, written in the same transaction as the JSON they copy,
    for search: `params.optimizer = "adam"` becomes a semi-join on an index with statistics
    the planner can trust (it has none for a JSON extraction), so it chooses between walking a
    metric's order and reading the matching runs first by how many there really are."""

    __tablename__ = "run_field"
    __table_args__ = (
        Index(
            "ix_run_field_experiment_section_key_head", "experiment_id", "section", "key", "head"
        ),
        # The probe "does this run have params.depth = 3" while walking a metric's order:
        # answered from the index alone (the primary key's would visit the table for `head`),
        # which made a two-param filter ordered by a metric at 1M runs ~40% faster.
        Index(
            "ix_run_field_execution_section_key_head",
            "execution_id",
            "section",
            "key",
            "head",
            "experiment_id",
        ),
    )

    execution_id: Mapped[int] = mapped_column(
        ForeignKey("execution.id", ondelete="CASCADE"), primary_key=True
    )
    section: Mapped[str] = mapped_column(String(8), primary_key=True)  # params | tags
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    experiment_id: Mapped[int] = mapped_column(Id)
    head: Mapped[str] = mapped_column(String(HEAD))  # value[:HEAD]: what the index holds
    value: Mapped[str] = mapped_column(String(6000))
