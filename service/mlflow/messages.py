"""MLflow's request messages (service.proto), as pydantic models: lenient where MLflow's
client is (unknown fields ignored, int64 as numbers or strings, `run_uuid` beside `run_id`),
strict where mlledger must be (MLflow's own size limits, which its server enforces too)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

KEY = 250  # MLflow's limits: keys, param values, tag values, run and experiment names
PARAM_VALUE = 6000
TAG_VALUE = 8000
NAME = 256  # the experiment's context name column
MAX_BATCH_METRICS = 1000
MAX_BATCH_PARAMS = 100
MAX_BATCH_TAGS = 100
MAX_SEARCH_RESULTS = 50_000

Key = Annotated[str, Field(min_length=1, max_length=KEY)]
Millis = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]
ExperimentIds = Annotated[list[Annotated[str, Field(max_length=20)]], Field(max_length=100)]


class Message(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Tag(Message):
    key: Key
    value: Annotated[str, Field(max_length=TAG_VALUE)] = ""


class Param(Message):
    key: Key
    value: Annotated[str, Field(max_length=PARAM_VALUE)] = ""


class Metric(Message):
    key: Key
    value: float
    timestamp: Millis
    step: Millis = 0
    model_id: Annotated[str, Field(max_length=64)] = ""  # MLflow 3 re-sends a run's with it
    dataset_name: Annotated[str, Field(max_length=NAME)] = ""  # the data it was measured on
    dataset_digest: Annotated[str, Field(max_length=200)] = ""


class ByRun(Message):
    """MLflow's client sends the run as `run_id` and, for older servers, `run_uuid` too; either
    names it, and a request with neither is missing its `run_id`, as MLflow's server says."""

    run_id: Annotated[str, Field(min_length=1, max_length=64)]

    @model_validator(mode="before")
    @classmethod
    def _either(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("run_id") and data.get("run_uuid"):
            return {**data, "run_id": data["run_uuid"]}
        return data

    @property
    def run(self) -> str:
        return self.run_id


class CreateExperiment(Message):
    name: Annotated[str, Field(min_length=1, max_length=NAME)]
    artifact_location: str = ""
    tags: list[Tag] = []


class ExperimentRef(Message):
    experiment_id: Annotated[str, Field(min_length=1, max_length=20)]


class UpdateExperiment(ExperimentRef):
    new_name: Annotated[str, Field(min_length=1, max_length=NAME)]


class SetExperimentTag(ExperimentRef):
    key: Key
    value: Annotated[str, Field(max_length=TAG_VALUE)] = ""


class DeleteExperimentTag(ExperimentRef):
    key: Key


class SearchExperiments(Message):
    max_results: Annotated[int, Field(ge=1, le=MAX_SEARCH_RESULTS)] = 1000
    page_token: Annotated[str, Field(max_length=40)] = ""
    filter: Annotated[str, Field(max_length=4000)] = ""
    order_by: list[Annotated[str, Field(max_length=300)]] = []
    view_type: str | int = "ACTIVE_ONLY"


class SearchDatasets(Message):
    experiment_ids: Annotated[
        list[Annotated[str, Field(max_length=20)]], Field(max_length=1000)
    ] = []


class CreateRun(Message):
    experiment_id: Annotated[str, Field(max_length=20)] = "0"
    user_id: Annotated[str, Field(max_length=KEY)] = ""
    run_name: Annotated[str, Field(max_length=NAME)] = ""
    start_time: Millis | None = None
    tags: list[Tag] = []


class UpdateRun(ByRun):
    status: str | None = None
    end_time: Millis | None = None
    run_name: Annotated[str, Field(max_length=NAME)] | None = None


class LogMetric(ByRun):
    key: Key
    value: float
    timestamp: Millis
    step: Millis = 0
    model_id: Annotated[str, Field(max_length=64)] = ""
    dataset_name: Annotated[str, Field(max_length=NAME)] = ""
    dataset_digest: Annotated[str, Field(max_length=200)] = ""


class LogParam(ByRun):
    key: Key
    value: Annotated[str, Field(max_length=PARAM_VALUE)] = ""


class SetTag(ByRun):
    key: Key
    value: Annotated[str, Field(max_length=TAG_VALUE)] = ""


class DeleteTag(ByRun):
    key: Key


class LogBatch(ByRun):
    metrics: Annotated[list[Metric], Field(max_length=MAX_BATCH_METRICS)] = []
    params: Annotated[list[Param], Field(max_length=MAX_BATCH_PARAMS)] = []
    tags: Annotated[list[Tag], Field(max_length=MAX_BATCH_TAGS)] = []


class SearchRuns(Message):
    experiment_ids: Annotated[
        list[Annotated[str, Field(max_length=20)]], Field(max_length=100)
    ] = []
    filter: Annotated[str, Field(max_length=4000)] = ""
    run_view_type: str | int = "ACTIVE_ONLY"
    max_results: Annotated[int, Field(ge=1, le=MAX_SEARCH_RESULTS)] = 1000
    order_by: Annotated[list[Annotated[str, Field(max_length=300)]], Field(max_length=20)] = []
    page_token: Annotated[str, Field(max_length=40)] = ""


class CreateLoggedModel(Message):
    experiment_id: Annotated[str, Field(max_length=20)] = "0"
    name: Annotated[str, Field(max_length=NAME)] = ""  # none: the server names it
    model_type: Annotated[str, Field(max_length=NAME)] = ""
    source_run_id: Annotated[str, Field(max_length=64)] = ""
    params: Annotated[list[Param], Field(max_length=MAX_BATCH_PARAMS * 10)] = []
    tags: Annotated[list[Tag], Field(max_length=MAX_BATCH_TAGS)] = []


class FinalizeLoggedModel(Message):
    status: str | int = "LOGGED_MODEL_READY"


class LoggedModelTags(Message):
    tags: Annotated[list[Tag], Field(max_length=MAX_BATCH_TAGS)] = []


class LoggedModelParams(Message):
    params: Annotated[list[Param], Field(max_length=MAX_BATCH_PARAMS * 10)] = []


class DatasetFilter(Message):
    dataset_name: Annotated[str, Field(min_length=1, max_length=NAME)]
    dataset_digest: Annotated[str, Field(max_length=200)] = ""


class ModelOrder(Message):
    field_name: Annotated[str, Field(min_length=1, max_length=KEY)]
    ascending: bool = True


class SearchLoggedModels(Message):
    experiment_ids: Annotated[
        list[Annotated[str, Field(max_length=20)]], Field(max_length=100)
    ] = []
    filter: Annotated[str, Field(max_length=4000)] = ""
    datasets: Annotated[list[DatasetFilter], Field(max_length=100)] = []
    order_by: Annotated[list[ModelOrder], Field(max_length=10)] = []
    max_results: Annotated[int, Field(ge=1, le=MAX_SEARCH_RESULTS)] = 100
    page_token: Annotated[str, Field(max_length=20)] = ""


class ModelOutput(Message):
    model_id: Annotated[str, Field(max_length=64)]
    step: Millis = 0


class LogOutputs(ByRun):
    models: Annotated[list[ModelOutput], Field(max_length=100)] = []


class RegisteredModelRef(Message):
    name: Annotated[str, Field(min_length=1, max_length=NAME)]


class RenameRegisteredModel(RegisteredModelRef):
    new_name: Annotated[str, Field(min_length=1, max_length=NAME)]


class CreateRegisteredModel(RegisteredModelRef):
    tags: Annotated[list[Tag], Field(max_length=MAX_BATCH_TAGS)] = []
    description: Annotated[str, Field(max_length=TAG_VALUE * 8)] = ""


class UpdateRegisteredModel(RegisteredModelRef):
    description: Annotated[str, Field(max_length=TAG_VALUE * 8)] | None = None


class RegisteredModelTag(RegisteredModelRef):
    key: Key
    value: Annotated[str, Field(max_length=TAG_VALUE)] = ""


class RegisteredModelTagRef(RegisteredModelRef):
    key: Key


class AliasRef(RegisteredModelRef):
    alias: Annotated[str, Field(min_length=1, max_length=KEY)]


class SetAlias(AliasRef):
    version: Annotated[str, Field(min_length=1, max_length=20)]


class CreateModelVersion(RegisteredModelRef):
    source: Annotated[str, Field(max_length=4000)] = ""
    run_id: Annotated[str, Field(max_length=64)] = ""
    tags: Annotated[list[Tag], Field(max_length=MAX_BATCH_TAGS)] = []
    description: Annotated[str, Field(max_length=TAG_VALUE * 8)] = ""
    model_id: Annotated[str, Field(max_length=64)] = ""


class VersionRef(RegisteredModelRef):
    version: Annotated[str, Field(min_length=1, max_length=20)]


class TransitionStage(VersionRef):
    stage: Annotated[str, Field(min_length=1, max_length=20)]
    archive_existing_versions: bool = False


class UpdateModelVersion(VersionRef):
    description: Annotated[str, Field(max_length=TAG_VALUE * 8)] | None = None


class ModelVersionTag(VersionRef):
    key: Key
    value: Annotated[str, Field(max_length=TAG_VALUE)] = ""


class ModelVersionTagRef(VersionRef):
    key: Key


class GetLatestVersions(RegisteredModelRef):
    stages: Annotated[list[str], Field(max_length=10)] = []


class Dataset(Message):
    name: Annotated[str, Field(min_length=1, max_length=NAME)]
    digest: Annotated[str, Field(min_length=1, max_length=200)]
    source_type: Annotated[str, Field(max_length=200)] = ""
    source: Annotated[str, Field(max_length=65_536)] = ""
    schema_: Annotated[str, Field(max_length=1_048_576, alias="schema")] = ""
    profile: Annotated[str, Field(max_length=65_536)] = ""


class DatasetInput(Message):
    tags: Annotated[list[Tag], Field(max_length=MAX_BATCH_TAGS)] = []
    dataset: Dataset


class ModelInput(Message):
    model_id: Annotated[str, Field(max_length=64)]


class LogInputs(ByRun):
    datasets: Annotated[list[DatasetInput], Field(max_length=1000)] = []
    models: Annotated[list[ModelInput], Field(max_length=100)] = []
