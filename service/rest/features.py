"""/api/v1/features: online values, point-in-time training sets, push, the registered views."""

from __future__ import annotations

from datetime import UTC, datetime
from types import ModuleType
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import FileResponse
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)

from ..deps import DB, Caller
from .schemas import ERRORS, ArtifactOut, ErrorOut, Name, Strict, exactly_one

if TYPE_CHECKING:
    from ..domain.feature_backends import FeatureBackends

router = APIRouter(prefix="/features", tags=["features"], responses=ERRORS)

# `view:feature`; the excluded characters spelled out (controls, spaces, NEL, NBSP): `\s`
# means different sets to JSON Schema's regex, Python's and pydantic's Rust engine.
FeatureRef = Annotated[
    str,
    Field(
        min_length=3,
        max_length=512,
        pattern=r"^[^:\x00-\x20\x7f-\xa0]+:[^:\x00-\x20\x7f-\xa0]+$",
    ),
]
EntityValue = StrictInt | StrictStr
Column = Annotated[list[Any], Field(max_length=1_000_000)]


def service_of(request: Request) -> FeatureBackends:
    return request.app.state.features.get()  # type: ignore[no-any-return]


def feature_cases() -> ModuleType:
    """The feature use cases, imported on first use: they bring Feast, pandas and pyarrow
    (about four seconds), which the rest of the API does not wait for (service/wiring.py)."""
    from ..domain import features

    return features


class Selection(Strict):
    model_config = ConfigDict(json_schema_extra=exactly_one(("features",), ("feature_service",)))

    features: (
        Annotated[
            list[FeatureRef],
            Field(min_length=1, max_length=1000, json_schema_extra={"uniqueItems": True}),
        ]
        | None
    ) = None
    feature_service: Annotated[str, Field(min_length=1, max_length=256)] | None = None

    @model_validator(mode="after")
    def _one(self) -> Selection:
        if (self.features is None) == (self.feature_service is None):
            raise ValueError("give exactly one of features and feature_service")
        if self.features is not None and len(set(self.features)) != len(self.features):
            twice = sorted({f for f in self.features if self.features.count(f) > 1})
            raise ValueError(f"features named twice: {', '.join(twice)}")
        return self


class HistoricalIn(Selection):
    entity_rows: Annotated[
        dict[Annotated[str, Field(max_length=256)], Column], Field(min_length=2)
    ] = Field(description="Columns: the join keys and event_timestamp (ISO 8601), plus any labels.")
    name: Name = Field("training-set", description="Dataset artifact name of the result.")
    full_feature_names: bool = False


class TrainingSetOut(BaseModel):
    artifact: ArtifactOut
    execution_id: int
    rows: int
    columns: list[str]
    download: str


@router.post(
    "/historical",
    operation_id="getHistoricalFeatures",
    status_code=201,
    response_model=TrainingSetOut,
)
def get_historical(body: HistoricalIn, request: Request, db: DB, who: Caller) -> TrainingSetOut:
    """A point-in-time correct training set. Every entity row is kept (nulls where no value is
    inside the TTL); the Parquet file is recorded as a dataset artifact with lineage to the
    feature views and their sources."""
    ts = feature_cases().get_historical(
        db,
        who,
        service_of(request),
        entity_rows=body.entity_rows,
        features=body.features,
        feature_service=body.feature_service,
        name=body.name,
        full_feature_names=body.full_feature_names,
    )
    return TrainingSetOut(
        artifact=ArtifactOut.of(ts.artifact),
        execution_id=ts.execution_id,
        rows=ts.rows,
        columns=ts.columns,
        download=f"/api/v1/features/datasets/{ts.artifact.id}",
    )


@router.get(
    "/datasets/{artifact_id}",
    operation_id="downloadTrainingSet",
    response_class=FileResponse,
    responses={200: {"content": {"application/vnd.apache.parquet": {}}}},
)
def download(
    artifact_id: Annotated[int, Path(ge=1, le=2**63 - 1)], request: Request, db: DB, who: Caller
) -> FileResponse:
    """The Parquet file of a training set built by `POST /features/historical`."""
    path = feature_cases().training_set_file(db, who, service_of(request), artifact_id)
    return FileResponse(path, media_type="application/vnd.apache.parquet", filename=path.name)


class FeaturePushIn(Strict):
    push_source: Annotated[str, Field(min_length=1, max_length=256)]
    rows: Annotated[dict[Annotated[str, Field(max_length=256)], Column], Field(min_length=1)] = (
        Field(description="Columns: join keys, event_timestamp and feature values.")
    )


class FeaturePushOut(BaseModel):
    pushed: int


@router.post("/push", operation_id="pushFeatures", response_model=FeaturePushOut)
def push(body: FeaturePushIn, request: Request, db: DB, who: Caller) -> FeaturePushOut:
    """Write fresh values to the online store (Feast's push)."""
    n = feature_cases().push(db, who, service_of(request), source=body.push_source, rows=body.rows)
    return FeaturePushOut(pushed=n)


class ViewOut(BaseModel):
    name: str
    join_keys: list[str]
    features: list[str]
    ttl_seconds: float


@router.get("/views", operation_id="listFeatureViews", response_model=list[ViewOut])
def list_views(request: Request, db: DB, who: Caller) -> list[ViewOut]:
    """The project's feature views, as of the last apply (from any process)."""
    return [
        ViewOut(
            name=v.name,
            join_keys=list(v.join_keys),
            features=list(v.features),
            ttl_seconds=v.ttl_seconds,
        )
        for v in feature_cases().views(db, who, service_of(request))
    ]


_KINDS = ("entities", "dataSources", "featureViews", "featureServices")
_LIST = {"type": "array", "maxItems": 10_000, "items": {"type": "object"}}
REGISTRY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    # Protobuf's JSON accepts each field by its JSON name and by its proto name.
    "properties": {
        name: _LIST
        for kind in _KINDS
        for name in (kind, "".join(f"_{c.lower()}" if c.isupper() else c for c in kind))
    },
}


class DefinitionsIn(Strict):
    registry: dict[str, Any] = Field(
        json_schema_extra=REGISTRY_SCHEMA,
        description="Feast's Registry proto in JSON (what `mlledger features apply` sends): "
        "entities, data_sources (file and push), feature_views and feature_services. Objects "
        "of the project that are not in it are removed. On-demand and stream views, "
        "transformations and custom sources are refused: they carry code.",
    )
    source: Annotated[str, Field(min_length=1, max_length=1024)] | None = Field(
        None, description="Where the definitions came from (the repo), for the lineage record."
    )

    @model_validator(mode="after")
    def _shallow(self) -> DefinitionsIn:
        if _depth(self.registry) > MAX_DEPTH:
            raise ValueError(f"registry is nested deeper than {MAX_DEPTH} levels")
        return self


MAX_DEPTH = 32


def _depth(value: Any, level: int = 0) -> int:
    if level > MAX_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level + 1)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level + 1)
    return level


class AppliedOut(BaseModel):
    project: str
    feature_views: list[str]
    entities: list[str]
    feature_services: list[str]
    execution_id: int | None = Field(
        description="The `features apply` execution recorded in the lineage graph; null when "
        "the definitions did not change."
    )


UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {"model": ErrorOut, "description": "The online store does not answer"}
}


@router.put(
    "/definitions",
    operation_id="applyFeatureDefinitions",
    response_model=AppliedOut,
    responses=UNAVAILABLE,
)
def apply_definitions(body: DefinitionsIn, request: Request, db: DB, who: Caller) -> AppliedOut:
    """Register the project's Feast definitions (declarative, like `feast apply`). File
    sources must be absolute paths or URLs under the server's `features.data_roots`. Every
    server process serves the new definitions from its next request."""
    applied = feature_cases().apply(db, who, service_of(request), body.registry, body.source)
    return AppliedOut(**applied)


# pandas' timestamps end in 2262; before 1970 no feature store has data.
Moment = Annotated[
    datetime,
    Field(ge=datetime(1970, 1, 1, tzinfo=UTC), le=datetime(2262, 1, 1, tzinfo=UTC)),
]


class MaterializeIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {"required": ["start"], "properties": {"incremental": {"const": False}}},
                {
                    "required": ["incremental"],
                    "properties": {"incremental": {"const": True}},
                    "not": {"required": ["start"]},
                },
            ]
        }
    )

    start: Moment | None = Field(None, description="Start of the window (ISO 8601; UTC if naive).")
    end: Moment | None = Field(None, description="End of the window; default now.")
    incremental: bool = Field(
        False, description="From where the last materialization stopped, instead of `start`."
    )
    views: (
        Annotated[
            list[Annotated[str, Field(min_length=1, max_length=256)]],
            Field(min_length=1, max_length=1000, json_schema_extra={"uniqueItems": True}),
        ]
        | None
    ) = Field(None, description="Only these feature views (default: every online view).")

    @field_validator("start", "end", mode="after")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return value.replace(tzinfo=UTC) if value and value.tzinfo is None else value

    @model_validator(mode="after")
    def _window(self) -> MaterializeIn:
        if self.incremental == (self.start is not None):
            raise ValueError("give either start (with end) or incremental: true")
        if self.views is not None and len(set(self.views)) != len(self.views):
            raise ValueError("views named twice")
        return self


class MaterializedOut(BaseModel):
    execution_id: int
    feature_views: list[str]
    start: str = Field(description="ISO 8601, or `incremental`.")
    end: str


@router.post(
    "/materialize",
    operation_id="materializeFeatures",
    response_model=MaterializedOut,
    responses=UNAVAILABLE,
)
def materialize(body: MaterializeIn, request: Request, db: DB, who: Caller) -> MaterializedOut:
    """Load values from the sources into the online store (Feast's materialization), recorded
    as an execution reading the views and their sources."""
    end = body.end or datetime.now(UTC)
    execution = feature_cases().materialize(
        db, who, service_of(request), start=body.start, end=end, views=body.views
    )
    return MaterializedOut(
        execution_id=execution.id,
        feature_views=execution.params["feature_views"],
        start=execution.params["start"],
        end=execution.params["end"],
    )
