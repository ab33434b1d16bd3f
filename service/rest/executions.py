"""/api/v1/executions: an execution with its inputs, outputs and contexts in one transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from mlledger.store.metadata.contexts import NewContext
from mlledger.store.metadata.executions import NewExecution

from ..deps import DB, Caller
from ..domain import executions
from ..domain.executions import ArtifactRef, ExecutionRecord, RecordedExecution
from .artifacts import to_new
from .schemas import (
    ERRORS,
    ArtifactIn,
    ArtifactOut,
    ContextKind,
    ContextOut,
    Cursor,
    EntityOut,
    ExecutionKind,
    ExecutionState,
    Id,
    JsonObject,
    Name,
    PageOut,
    ShortText,
    Strict,
    at_least_one,
    exactly_one,
)

router = APIRouter(prefix="/executions", tags=["executions"], responses=ERRORS)

ExecutionId = Annotated[int, Path(ge=1, le=2**63 - 1)]
Label = Annotated[str, Field(min_length=1, max_length=128)]


class ArtifactRefIn(Strict):
    """One of: `artifact_id` (existing), `artifact` (new), `ref` (an earlier output's label)."""

    model_config = ConfigDict(
        json_schema_extra=exactly_one(("artifact_id",), ("artifact",), ("ref",))
    )

    artifact_id: Id | None = None
    artifact: ArtifactIn | None = None
    ref: Label | None = Field(
        None, description="Label of an output of an earlier execution in the same batch."
    )
    label: Label | None = Field(None, description="Names this new artifact for later `ref`s.")
    role: ShortText | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ArtifactRefIn:
        # Runs once per reference (thousands a batch): plain comparisons, no generator.
        unset = (self.artifact_id is None) + (self.artifact is None) + (self.ref is None)
        if unset != 2:
            raise ValueError("give exactly one of artifact_id, artifact or ref")
        return self

    def to_domain(self) -> ArtifactRef:
        return ArtifactRef(
            id=self.artifact_id,
            new=to_new(self.artifact) if self.artifact is not None else None,
            ref=self.ref,
            label=self.label,
            role=self.role,
        )


class ContextRefIn(Strict):
    """An existing context by `id`, or one by `kind` and `name` (created when missing)."""

    model_config = ConfigDict(json_schema_extra=exactly_one(("id",), ("kind", "name")))

    id: Id | None = None
    kind: ContextKind | None = None
    name: Name | None = None
    properties: JsonObject = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_form(self) -> ContextRefIn:
        by_name = self.kind is not None and self.name is not None
        if (self.id is not None) == by_name or (not by_name and (self.kind or self.name)):
            raise ValueError("give either id, or kind and name")
        return self

    def to_domain(self) -> NewContext | int:
        if self.id is not None:
            return self.id
        return NewContext(kind=self.kind, name=self.name, properties=self.properties)  # type: ignore[arg-type]


class ExecutionIn(Strict):
    kind: ExecutionKind
    name: Name
    state: ExecutionState = "running"
    params: JsonObject = Field(default_factory=dict)
    properties: JsonObject = Field(default_factory=dict)
    code_version: ShortText | None = None
    environment: JsonObject = Field(default_factory=dict)
    started_at: datetime | None = None
    ended_at: datetime | None = None
    inputs: list[ArtifactRefIn] = Field(default_factory=list, max_length=10_000)
    outputs: list[ArtifactRefIn] = Field(default_factory=list, max_length=10_000)
    contexts: list[ContextRefIn] = Field(default_factory=list, max_length=100)

    def to_domain(self) -> ExecutionRecord:
        return ExecutionRecord(
            execution=NewExecution(
                kind=self.kind,
                name=self.name,
                state=self.state,
                params=self.params,
                properties=self.properties,
                code_version=self.code_version,
                environment=self.environment,
                started_at=self.started_at,
                ended_at=self.ended_at,
            ),
            inputs=[r.to_domain() for r in self.inputs],
            outputs=[r.to_domain() for r in self.outputs],
            contexts=[c.to_domain() for c in self.contexts],
        )


class ExecutionBatchIn(Strict):
    executions: list[ExecutionIn] = Field(min_length=1, max_length=1000)


class EventsIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": ["inputs"], "properties": {"inputs": {"minItems": 1}}},
                {"required": ["outputs"], "properties": {"outputs": {"minItems": 1}}},
            ]
        }
    )

    inputs: list[ArtifactRefIn] = Field(default_factory=list, max_length=10_000)
    outputs: list[ArtifactRefIn] = Field(default_factory=list, max_length=10_000)


class ExecutionPatch(Strict):
    model_config = ConfigDict(json_schema_extra=at_least_one("state", "ended_at", "properties"))

    state: ExecutionState | None = None
    ended_at: datetime | None = None
    properties: JsonObject | None = Field(None, description="Merged into the existing ones.")

    @model_validator(mode="after")
    def _something(self) -> ExecutionPatch:
        if self.state is None and self.ended_at is None and self.properties is None:
            raise ValueError("give at least one of state, ended_at, properties")
        return self


class EventArtifactOut(BaseModel):
    role: str | None
    artifact: ArtifactOut


class ExecutionOut(EntityOut):
    id: int
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


class ExecutionDetailOut(ExecutionOut):
    inputs: list[EventArtifactOut]
    outputs: list[EventArtifactOut]
    contexts: list[ContextOut]

    @classmethod
    def of_recorded(cls, r: RecordedExecution) -> ExecutionDetailOut:
        return cls(
            **ExecutionOut.of(r.execution).model_dump(),
            inputs=[
                EventArtifactOut(role=role, artifact=ArtifactOut.of(a)) for a, role in r.inputs
            ],
            outputs=[
                EventArtifactOut(role=role, artifact=ArtifactOut.of(a)) for a, role in r.outputs
            ],
            contexts=[ContextOut.of(c) for c in r.contexts],
        )


class ExecutionBatchOut(BaseModel):
    executions: list[ExecutionDetailOut]


@router.post("", operation_id="createExecution", status_code=201, response_model=ExecutionDetailOut)
def create_execution(body: ExecutionIn, db: DB, who: Caller) -> ExecutionDetailOut:
    """Record an execution with its inputs, outputs and contexts in one transaction."""
    (recorded,) = executions.record(db, who, [body.to_domain()])
    return ExecutionDetailOut.of_recorded(recorded)


class ExecutionIdsOut(BaseModel):
    id: int
    inputs: list[int]
    outputs: list[int]


class ExecutionBatchIdsOut(BaseModel):
    executions: list[ExecutionIdsOut]


@router.post(
    "/batch",
    operation_id="createExecutions",
    status_code=201,
    response_model=ExecutionBatchOut | ExecutionBatchIdsOut,
)
def create_executions(
    body: ExecutionBatchIn,
    db: DB,
    who: Caller,
    view: Annotated[
        Literal["full", "ids"],
        Query(description="`ids`: only execution and artifact ids, for high-volume writers."),
    ] = "full",
) -> Response:
    """Record up to 1,000 executions in one transaction; a later one may consume an earlier
    one's new output by `ref` to its `label`. All or nothing. Results are in request order."""
    recorded = executions.record(db, who, [e.to_domain() for e in body.executions])
    out: ExecutionBatchOut | ExecutionBatchIdsOut
    if view == "ids":
        out = ExecutionBatchIdsOut(
            executions=[
                ExecutionIdsOut(
                    id=r.execution.id,
                    inputs=[a.id for a, _ in r.inputs],
                    outputs=[a.id for a, _ in r.outputs],
                )
                for r in recorded
            ]
        )
    else:
        out = ExecutionBatchOut(executions=[ExecutionDetailOut.of_recorded(r) for r in recorded])
    # Built from validated entities already: skip FastAPI's second validation pass, which costs
    # tens of milliseconds on a 1,000-execution batch. The schema stays in `response_model`.
    return Response(out.model_dump_json(), status_code=201, media_type="application/json")


@router.get("/{execution_id}", operation_id="getExecution", response_model=ExecutionDetailOut)
def get_execution(execution_id: ExecutionId, db: DB, who: Caller) -> ExecutionDetailOut:
    return ExecutionDetailOut.of_recorded(executions.get(db, who, execution_id))


@router.patch("/{execution_id}", operation_id="updateExecution", response_model=ExecutionOut)
def update_execution(
    execution_id: ExecutionId, body: ExecutionPatch, db: DB, who: Caller
) -> ExecutionOut:
    """Change state (running -> complete | failed | cached); an ended execution is final."""
    return ExecutionOut.of(
        executions.update(
            db,
            who,
            execution_id,
            state=body.state,
            ended_at=body.ended_at,
            properties=body.properties,
        )
    )


@router.post(
    "/{execution_id}/events",
    operation_id="addExecutionEvents",
    response_model=ExecutionDetailOut,
)
def add_events(
    execution_id: ExecutionId, body: EventsIn, db: DB, who: Caller
) -> ExecutionDetailOut:
    """Add inputs or outputs to a running execution (e.g. the model a run produced)."""
    recorded = executions.add_events(
        db,
        who,
        execution_id,
        [r.to_domain() for r in body.inputs],
        [r.to_domain() for r in body.outputs],
    )
    return ExecutionDetailOut.of_recorded(recorded)


@router.get("", operation_id="listExecutions", response_model=PageOut[ExecutionOut])
def list_executions(
    db: DB,
    who: Caller,
    kind: ExecutionKind | None = None,
    name: Annotated[str | None, Query(max_length=256)] = None,
    state: ExecutionState | None = None,
    context_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Cursor = None,
) -> PageOut[ExecutionOut]:
    """Newest first."""
    page = executions.list_page(
        db,
        who,
        kind=kind,
        name=name,
        state=state,
        context_id=context_id,
        limit=limit,
        cursor=cursor,
    )
    return PageOut(items=[ExecutionOut.of(e) for e in page.items], next_cursor=page.next_cursor)
