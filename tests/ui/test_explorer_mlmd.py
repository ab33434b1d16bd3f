"""A TFX run recorded through MLMD's gRPC API, by MLMD's real client, is ordinary lineage in the
explorer: Examples left of the Trainer, the Trainer left of its Model, and the run under its
pipeline."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from _support.explorer import CY, click_node
from _support.mlmd_client import run_mlmd
from _support.servers import Server

from mlledger.store.database import Database

TFX_RUN = """
examples = store.put_artifact_type(pb.ArtifactType(name="Examples"))
model = store.put_artifact_type(pb.ArtifactType(name="Model"))
gen = store.put_execution_type(pb.ExecutionType(name="tfx.components.CsvExampleGen"))
trainer = store.put_execution_type(pb.ExecutionType(name="Trainer"))
run = store.put_context_type(pb.ContextType(name="pipeline_run"))
ctx = pb.Context(type_id=run, name="taxi-2026-12-02")
_, [ex], [run_id] = store.put_execution(
    pb.Execution(type_id=gen, last_known_state=pb.Execution.COMPLETE),
    [(pb.Artifact(type_id=examples, uri="/tfx/taxi/CsvExampleGen/examples/1"),
      pb.Event(type=pb.Event.OUTPUT))],
    [ctx], reuse_context_if_already_exist=True)
t, [_, m], _ = store.put_execution(
    pb.Execution(type_id=trainer, last_known_state=pb.Execution.COMPLETE),
    [(pb.Artifact(id=ex), pb.Event(type=pb.Event.INPUT)),
     (pb.Artifact(type_id=model, uri="/tfx/taxi/Trainer/model/2"),
      pb.Event(type=pb.Event.OUTPUT))],
    [ctx], reuse_context_if_already_exist=True)
out({"examples": ex, "trainer": t, "model": m, "run": run_id})
"""


@pytest.fixture
def mlmd_server(db: Database, database_url: str, project: str, tmp_path: Path) -> Iterator[Server]:
    s = Server(database_url, tmp_path, {"MLLEDGER_MLMD__PROJECT": project}, grpc=True)
    s.start()
    yield s
    s.stop()


def test_a_tfx_run_written_through_mlmd_opens_as_lineage(  # type: ignore[no-untyped-def]
    browser: Any, mlmd_server: Server, project: str, shot
) -> None:
    ids = run_mlmd(TFX_RUN, mlmd_server.grpc_port)  # type: ignore[arg-type]
    context = browser.new_context(viewport={"width": 1500, "height": 950}, base_url=mlmd_server.url)
    context.add_init_script(
        f"try {{ localStorage.setItem('mlledger.project', {project!r}) }} catch {{}}"
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        model = f"artifact:{ids['model']}"
        page.goto(f"/ui/#/graph/{model}?depth=4")
        page.wait_for_selector("#graph canvas")
        cy = CY
        page.wait_for_function(f"{cy}.nodes().length === 4")  # gen, examples, trainer, model
        x = page.evaluate(f"id => {cy}.$id(id).position('x')", f"artifact:{ids['examples']}")
        trainer_x = page.evaluate(
            f"id => {cy}.$id(id).position('x')", f"execution:{ids['trainer']}"
        )
        model_x = page.evaluate(f"id => {cy}.$id(id).position('x')", model)
        assert x < trainer_x < model_x
        labels = page.evaluate(f"{cy}.nodes().map(n => n.data('label')).sort()")
        assert "CsvExampleGen" in labels  # TFX's module path, shortened to its component
        kinds = page.evaluate(f"{cy}.nodes().map(n => n.data('kind')).sort()")
        assert kinds.count("dataset") == 1 and kinds.count("model") == 1 and "run" in kinds
        page.wait_for_selector(f"#detail[data-node='{model}']")
        assert "/tfx/taxi/Trainer/model/2" in page.locator("#detail").inner_text()
        # The Trainer's details name the pipeline run it belongs to.
        trainer = f"execution:{ids['trainer']}"
        click_node(page, trainer)
        page.wait_for_selector(f"#detail[data-node='{trainer}']")
        assert "pipeline_run taxi-2026-12-02" in page.locator("#detail").inner_text()
        shot(page, "tfx-lineage")
        # The pipeline run is a context the REST API lists with both executions.
        runs = httpx.get(
            f"{mlmd_server.url}/api/v1/contexts/{ids['run']}",
            headers={"X-Mlledger-Project": project},
            timeout=30,
        )
        assert runs.status_code == 200 and runs.json()["kind"] == "pipeline_run"
    finally:
        context.close()
    assert not errors, f"JavaScript errors in the page: {errors}"
