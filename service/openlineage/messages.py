"""OpenLineage's events (spec 2-0-2) as pydantic models: lenient where producers are (facets
of any version and unknown fields kept as sent, a run id that is not a UUID, a time without a
zone), strict on what the graph is built from (names, the event's kind)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from mlledger.store.errors import InvalidArgument

from ..domain.openlineage import LineageEvent
from ..domain.openlineage_datasets import Dataset

Facets = Annotated[dict[str, Any], Field(max_length=1000)]
Name = Annotated[str, Field(min_length=1, max_length=1024)]
EVENT_TYPES = ("START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER")


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class JobIn(Open):
    namespace: Name
    name: Name
    facets: Facets = {}


class RunIn(Open):
    runId: Annotated[str, Field(min_length=1, max_length=256)]
    facets: Facets = {}


class DatasetIn(Open):
    namespace: Name
    name: Name
    facets: Facets = {}
    inputFacets: Facets = {}
    outputFacets: Facets = {}


class LineageEventIn(Open):
    """A RunEvent (run and job), a JobEvent (job, no run) or a DatasetEvent (dataset only)."""

    eventTime: Annotated[str, Field(min_length=1, max_length=64)]
    producer: Annotated[str, Field(max_length=4096)] = ""
    schemaURL: Annotated[str, Field(max_length=4096)] = ""
    eventType: Annotated[str, Field(max_length=16)] | None = None
    run: RunIn | None = None
    job: JobIn | None = None
    inputs: Annotated[list[DatasetIn], Field(max_length=1000)] = []
    outputs: Annotated[list[DatasetIn], Field(max_length=1000)] = []
    dataset: DatasetIn | None = None


def event_time(text: str) -> datetime:
    """ISO 8601, with `Z`, an offset, or none (read as UTC, as producers that omit it mean)."""
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidArgument(
            f"eventTime {text[:64]!r} is not an ISO 8601 date-time", details={"field": "eventTime"}
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _dataset(d: DatasetIn, io: str) -> Dataset:
    return Dataset(d.namespace, d.name, dict(d.facets), dict(getattr(d, io)))


def to_event(body: LineageEventIn, raw: dict[str, Any] | None = None) -> LineageEvent:
    """The domain's event, or InvalidArgument naming the field that makes it none of the
    three kinds. `raw` is the event as it arrived, when the caller has it (it is kept)."""
    if raw is None:
        raw = body.model_dump(mode="json", by_alias=True, exclude_unset=True)
    when = event_time(body.eventTime)
    kind = body.eventType.upper() if body.eventType else None
    if kind is not None and kind not in EVENT_TYPES:
        raise InvalidArgument(
            f"eventType {body.eventType!r} is not one of {', '.join(EVENT_TYPES)}",
            details={"field": "eventType"},
        )
    if body.run is not None:
        if body.job is None:
            raise InvalidArgument(
                "a RunEvent names its job: job is missing", details={"field": "job"}
            )
        if body.dataset is not None:
            raise InvalidArgument(
                "an event is a run's, a job's or a dataset's: dataset beside run",
                details={"field": "dataset"},
            )
        event_kind = "run"
    elif body.job is not None:
        if body.dataset is not None:
            raise InvalidArgument(
                "a JobEvent has no dataset (a DatasetEvent has no job)",
                details={"field": "dataset"},
            )
        event_kind = "job"
    elif body.dataset is not None:
        if body.inputs or body.outputs:
            raise InvalidArgument(
                "a DatasetEvent has no inputs or outputs (they belong to a job or run)",
                details={"field": "inputs" if body.inputs else "outputs"},
            )
        event_kind = "dataset"
    else:
        raise InvalidArgument("the event names no run, job or dataset", details={"field": "run"})
    return LineageEvent(
        kind=event_kind,
        event_type=kind,
        event_time=when,
        producer=body.producer,
        body=raw,
        run_id=body.run.runId if body.run else None,
        run_facets=dict(body.run.facets) if body.run else {},
        job=(body.job.namespace, body.job.name) if body.job else None,
        job_facets=dict(body.job.facets) if body.job else {},
        inputs=[_dataset(d, "inputFacets") for d in body.inputs],
        outputs=[_dataset(d, "outputFacets") for d in body.outputs],
        dataset=_dataset(body.dataset, "inputFacets") if body.dataset else None,
    )
