"""Frozen domain entities returned by every store function.

ORM rows never leave the store: callers get these immutable values, so a transport cannot
lazy-load by accident (the N+1 the GraphQL dataloaders exist to prevent) or mutate a row
outside the unit of work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

T = TypeVar("T")

Scope = Literal["read", "write", "admin", "worker"]
NodeType = Literal["artifact", "execution"]
Direction = Literal["upstream", "downstream", "both"]


@dataclass(frozen=True, slots=True)
class Project:
    id: int
    name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Artifact:
    id: int
    project_id: int
    kind: str
    name: str
    version: int
    uri: str | None
    fingerprint: str | None
    properties: dict[str, Any]
    state: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Execution:
    id: int
    project_id: int
    kind: str
    name: str
    state: str
    params: dict[str, Any]
    properties: dict[str, Any]
    code_version: str | None
    environment: dict[str, Any]
    started_at: datetime
    ended_at: datetime | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Event:
    execution_id: int
    artifact_id: int
    type: Literal["INPUT", "OUTPUT"]
    role: str | None


@dataclass(frozen=True, slots=True)
class Context:
    id: int
    project_id: int
    kind: str
    name: str
    properties: dict[str, Any]
    created_at: datetime
    deleted_at: datetime | None = None  # a deleted experiment keeps its runs and lineage


@dataclass(frozen=True, slots=True)
class Token:
    id: int
    project_id: int
    project_name: str
    name: str
    prefix: str
    scope: Scope
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class LineageNode:
    type: NodeType
    id: int
    kind: str
    name: str
    version: int | None
    state: str
    depth: int

    @property
    def key(self) -> str:
        return node_key(self.type, self.id)


@dataclass(frozen=True, slots=True)
class LineageEdge:
    source: str
    target: str
    type: Literal["INPUT", "OUTPUT"]


@dataclass(frozen=True, slots=True)
class LineageGraph:
    root: str
    nodes: list[LineageNode] = field(default_factory=list)
    edges: list[LineageEdge] = field(default_factory=list)
    truncated: bool = False


def node_key(node_type: str, node_id: int) -> str:
    """The graph-wide id of a node: `artifact:12`, `execution:7`."""
    return f"{node_type}:{node_id}"


@dataclass(frozen=True, slots=True)
class Run:
    """A training run: an execution of kind `run` in an experiment context."""

    id: int  # the execution id: the run's node in the lineage graph
    uuid: str
    project_id: int
    experiment: str
    experiment_id: int
    name: str
    state: str
    params: dict[str, str]
    tags: dict[str, str]
    code_version: str | None
    environment: dict[str, Any]
    started_at: datetime
    ended_at: datetime | None
    deleted_at: datetime | None = None  # deleted runs stay in the graph; search skips them
    killed: bool = False  # ended by its caller (MLflow's KILLED); its state is `failed`


@dataclass(frozen=True, slots=True)
class LatestMetric:
    key: str
    value: float
    step: int
    timestamp: int


@dataclass(frozen=True, slots=True)
class MetricHistory:
    """Points of one series in step order; when downsampled, one point per step bucket with the
    bucket's mean in `values` and its extremes in `mins`/`maxs`, so spikes stay visible."""

    key: str
    steps: list[int]
    timestamps: list[int]
    values: list[float]
    total: int
    downsampled: bool
    mins: list[float] | None = None
    maxs: list[float] | None = None


@dataclass(frozen=True, slots=True)
class PackedHistory:
    """A MetricHistory's columns as little-endian bytes (int64 steps and timestamps, float64
    values, then mins and maxs when downsampled), for a transport that sends them as they are
    (building 300,000 Python numbers to pack them again cost a third of a 100,000-point read)."""

    key: str
    total: int
    downsampled: bool
    columns: list[bytes]


@dataclass(frozen=True, slots=True)
class RegisteredModel:
    id: int
    project_id: int
    name: str
    description: str | None
    tags: dict[str, str]
    latest_version: int
    aliases: dict[str, int]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ModelVersion:
    id: int
    model: str
    version: int
    artifact_id: int
    run_id: int | None
    description: str | None
    tags: dict[str, str]
    metrics: dict[str, float]
    aliases: list[str]
    created_at: datetime
    stage: str = "None"  # MLflow's deprecated stage


# Data gates (store/data_gates/) and the model registry's gates, evaluations, pushes.


@dataclass(frozen=True, slots=True)
class Gate:
    dataset_id: int
    status: str  # pending passed failed error
    reasons: list[dict[str, Any]]
    job_id: int | None
    statistics_id: int | None
    schema_id: int | None
    anomalies_id: int | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    project_id: int
    dataset_id: int
    state: str
    options: dict[str, Any]
    profile: str
    attempts: int
    max_attempts: int
    worker: str | None
    lease_expires_at: datetime | None
    error: str | None
    execution_id: int | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


@dataclass(frozen=True, slots=True)
class ModelGate:
    model_id: int
    revision: int
    config: dict[str, Any]
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Evaluation:
    """An evaluation of one version and its blessing."""

    id: int
    model_version_id: int
    artifact_id: int
    execution_id: int
    dataset_id: int | None
    baseline_version: int | None
    gate_revision: int
    blessed: bool
    metrics: dict[str, Any]
    checks: list[dict[str, Any]]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Standing:
    """What the registry knows of a model artifact that is a version: its newest evaluation's
    blessing (None: never evaluated) and the outcome of the newest push of it (None: never)."""

    blessed: bool | None
    last_push: str | None


@dataclass(frozen=True, slots=True)
class Push:
    id: int
    model: str
    alias: str
    action: str  # push rollback
    version: int | None
    previous_version: int | None
    outcome: str  # pushed refused unchanged
    reasons: list[dict[str, Any]]
    evaluation_id: int | None
    execution_id: int | None
    actor: str
    created_at: datetime
