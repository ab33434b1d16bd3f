"""The graph's vocabulary, stated once: the kinds and states of artifacts, executions and
contexts, and the event types. The database's CHECK constraints (models/lineage.py), the REST
schemas' enums and GraphQL read these; adding an artifact kind is one line here, and a
migration for the constraint (a test fails until the two agree)."""

from __future__ import annotations

from typing import Literal, get_args

ArtifactKind = Literal[
    "dataset", "feature_view", "model", "schema", "statistics", "anomalies", "evaluation", "other"
]
ArtifactState = Literal["pending", "live", "deleted"]
ExecutionKind = Literal["run", "validation", "materialization", "evaluation", "push", "other"]
ExecutionState = Literal["running", "complete", "failed", "cached"]
ContextKind = Literal["experiment", "pipeline", "pipeline_run"]
EventType = Literal["INPUT", "OUTPUT"]

ARTIFACT_KINDS: tuple[str, ...] = get_args(ArtifactKind)
ARTIFACT_STATES: tuple[str, ...] = get_args(ArtifactState)
EXECUTION_KINDS: tuple[str, ...] = get_args(ExecutionKind)
EXECUTION_STATES: tuple[str, ...] = get_args(ExecutionState)
CONTEXT_KINDS: tuple[str, ...] = get_args(ContextKind)
EVENT_TYPES: tuple[str, ...] = get_args(EventType)
