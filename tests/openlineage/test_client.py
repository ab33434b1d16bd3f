"""The real `openlineage-python` client (its HTTP transport, gzip on and off, an mlledger token
as OPENLINEAGE_API_KEY would send it) against a real token-requiring `mlledger serve`; every
event it sends validates against the OpenLineage spec's own JSON schemas (2-0-2)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from _support.servers import Server
from jsonschema import Draft202012Validator
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    column_lineage_dataset,
    error_message_run,
    parent_run,
    schema_dataset,
)
from openlineage.client.serde import Serde
from openlineage.client.transport.http import (
    ApiKeyTokenProvider,
    HttpCompression,
    HttpConfig,
    HttpTransport,
)
from referencing import Registry, Resource

from mlledger.service.domain import tokens

ROOT = Path(__file__).resolve().parents[2]
PRODUCER = "https://github.com/apache/airflow/tree/providers-openlineage/2.0.0"


def _spec_folder() -> Path:
    for base in (ROOT.parent / "shared", Path("/work/shared")):
        if (base / "openlineage-spec" / "OpenLineage.json").exists():
            return base / "openlineage-spec"
    raise AssertionError("the OpenLineage spec schemas (../shared/openlineage-spec) are missing")


@pytest.fixture(scope="module")
def spec() -> Draft202012Validator:
    """The spec's schema with every facet's, resolved offline by their `$id`s."""
    folder = _spec_folder()
    documents = [
        json.loads(p.read_text())
        for p in [folder / "OpenLineage.json", *folder.glob("facets/*.json")]
    ]
    registry = Registry().with_resources((d["$id"], Resource.from_contents(d)) for d in documents)
    return Draft202012Validator(documents[0], registry=registry)


@pytest.fixture(scope="module")
def secured(db, database_url, tmp_path_factory) -> Iterator[tuple[Server, str, str]]:  # type: ignore[no-untyped-def]
    project = f"ol-{uuid.uuid4().hex[:8]}"
    secret, _ = tokens.create_for_project(db, project, name="airflow", scope="write", actor="test")
    s = Server(database_url, tmp_path_factory.mktemp("ol"), env={"MLLEDGER_AUTH": "required"})
    s.start()
    yield s, secret, project
    s.stop()


def _client(url: str, token: str, compression: HttpCompression | None) -> OpenLineageClient:
    config = HttpConfig(
        url=url, auth=ApiKeyTokenProvider({"apiKey": token}), compression=compression, timeout=30
    )
    return OpenLineageClient(transport=HttpTransport(config))


def _api(server: Server, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=f"{server.url}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=60
    )


@pytest.mark.parametrize("compression", [None, HttpCompression.GZIP])
def test_an_airflow_task_through_the_real_client(
    secured: tuple[Server, str, str], spec: Draft202012Validator, compression: Any
) -> None:
    server, token, _ = secured
    client = _client(server.url, token, compression)
    dag_run, task_run = str(uuid.uuid4()), str(uuid.uuid4())
    tag = uuid.uuid4().hex[:6]
    parent = parent_run.ParentRunFacet(
        run=parent_run.Run(runId=dag_run), job=parent_run.Job(namespace="airflow", name=f"dag{tag}")
    )
    job = Job(namespace="airflow", name=f"dag{tag}.load")
    orders = InputDataset(namespace="postgres://db:5432", name=f"shop.public.orders{tag}")
    schema = schema_dataset.SchemaDatasetFacet(
        fields=[schema_dataset.SchemaDatasetFacetFields(name="total", type="double")]
    )
    columns = column_lineage_dataset.ColumnLineageDatasetFacet(
        fields={
            "total": column_lineage_dataset.Fields(
                inputFields=[
                    column_lineage_dataset.InputField(
                        namespace=orders.namespace, name=orders.name, field="amount"
                    )
                ]
            )
        }
    )
    out = OutputDataset(
        namespace="file", name=f"/data/totals{tag}.parquet",
        facets={"schema": schema, "columnLineage": columns},
    )  # fmt: skip
    sent = [
        RunEvent(eventType=RunState.START, eventTime="2026-12-01T10:00:00.000Z",
                 run=Run(runId=task_run, facets={"parent": parent}), job=job, producer=PRODUCER,
                 inputs=[orders], outputs=[out]),
        RunEvent(eventType=RunState.COMPLETE, eventTime="2026-12-01T10:04:00.000Z",
                 run=Run(runId=task_run, facets={"parent": parent}), job=job, producer=PRODUCER,
                 inputs=[orders], outputs=[out]),
    ]  # fmt: skip
    for e in sent:
        spec.validate(Serde.to_dict(e))
        client.emit(e)
    client.emit(sent[1])  # a producer's retry: stored once
    with _api(server, token) as api:
        events = api.get("/lineage/events", params={"run_id": task_run}).json()["items"]
        assert [e["event_type"] for e in events] == ["COMPLETE", "START"]
        found = api.get("/lineage/datasets", params={"namespace": "file", "name": out.name}).json()
        assert found["columns"]["total"][0]["field"] == "amount"
        written = found["artifact"]
        runs = api.get("/executions", params={"limit": 1000}).json()["items"]
        mine = [r for r in runs if r["properties"].get("openlineage", {}).get("run_id") == task_run]
        assert len(mine) == 1 and mine[0]["state"] == "complete"
        up = api.get(f"/lineage/artifact/{written['id']}", params={"direction": "upstream"}).json()
        assert orders.name in {n["name"].rsplit("/", 1)[-1] for n in up["nodes"]}


def test_a_failed_run_and_a_wrong_token(
    secured: tuple[Server, str, str], spec: Draft202012Validator
) -> None:
    server, token, _ = secured
    run = str(uuid.uuid4())
    failed = RunEvent(
        eventType=RunState.FAIL, eventTime="2026-12-01T10:00:00Z", producer=PRODUCER,
        run=Run(runId=run, facets={"errorMessage": error_message_run.ErrorMessageRunFacet(
            message="division by zero", programmingLanguage="python")}),
        job=Job(namespace="spark", name="nightly.totals"),
    )  # fmt: skip
    spec.validate(Serde.to_dict(failed))
    _client(server.url, token, HttpCompression.GZIP).emit(failed)
    with _api(server, token) as api:
        listed = api.get("/lineage/events", params={"run_id": run}).json()["items"]
        assert listed[0]["event_type"] == "FAIL"
    with pytest.raises(Exception, match="401"):
        _client(server.url, "mlt_not_a_token", None).emit(failed)


def test_impact_from_the_command_line(secured: tuple[Server, str, str]) -> None:
    from click.testing import CliRunner

    from mlledger.client.commands.lineage import impact

    server, token, _ = secured
    tag = uuid.uuid4().hex[:6]
    table = InputDataset(namespace="postgres://db:5432", name=f"shop.public.raw{tag}")
    out = OutputDataset(namespace="file", name=f"/data/features{tag}.parquet")
    event = RunEvent(eventType=RunState.COMPLETE, eventTime="2026-12-01T10:00:00Z", producer=PRODUCER,
                     run=Run(runId=str(uuid.uuid4())), job=Job(namespace="airflow", name=f"etl{tag}"),
                     inputs=[table], outputs=[out])  # fmt: skip
    _client(server.url, token, None).emit(event)
    with _api(server, token) as api:  # a model trained on what the job wrote
        run = api.post("/runs", json={"experiment": f"e{tag}"}).json()["uuid"]
        used = {"kind": "dataset", "name": f"file:///data/features{tag}.parquet"}
        seen = api.get("/artifacts", params={"name": used["name"]}).json()["items"][0]
        api.post(
            f"/runs/{run}/inputs", json={"artifact": {**used, "fingerprint": seen["fingerprint"]}}
        ).raise_for_status()
        model = {"kind": "model", "name": f"m{tag}", "fingerprint": f"f{tag}"}
        api.post(
            f"/models/m{tag}/versions", json={"artifact": model, "run": run}
        ).raise_for_status()
    args = ["--url", server.url, "--token", token]
    shown = CliRunner().invoke(impact, [*args, table.namespace, table.name])
    assert shown.exit_code == 0, shown.output
    assert f"m{tag}" in shown.output and "gated" in shown.output
    as_json = CliRunner().invoke(impact, [*args, "--json", f"file:///data/features{tag}.parquet"])
    assert json.loads(as_json.output)["models"][0]["model"] == f"m{tag}"
    missing = CliRunner().invoke(impact, [*args, "no-such-dataset"])
    assert missing.exit_code != 0 and "no artifact is named" in missing.output
