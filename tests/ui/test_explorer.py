"""The lineage explorer in a real headless Chromium against the real server: search a model,
open its lineage, expand a dataset, open a run and its metric chart, compare two runs, deep
links, and readable errors (no server, a token needed). Screenshots land in
tests/artifacts/ui/."""

from __future__ import annotations

import re

import httpx
from _support.explorer import click_node, graph_size
from _support.servers import Server


def test_search_a_model_and_open_its_lineage_then_expand_a_dataset(page, seeded, shot) -> None:  # type: ignore[no-untyped-def]
    page.goto("/ui/")
    page.fill("#search-text", "chur")
    page.select_option("#search-kind", "registered_model")
    page.click("#search-form button")
    page.get_by_role("link", name="churn").click()
    assert re.search(r"#/model/churn$", page.url)
    # The model: versions with their blessing, the threshold table, the push history.
    page.wait_for_selector("table.pushes")
    versions = page.locator("table.versions tbody tr")
    assert versions.count() == 2
    assert "blessed" in versions.nth(1).inner_text() and "refused" in versions.nth(0).inner_text()
    thresholds = page.locator("table.thresholds")
    assert "country=FR" in thresholds.inner_text() and "≥ 0.7" in thresholds.inner_text()
    pushes = page.locator("table.pushes").inner_text()
    assert "refused" in pushes and "pushed" in pushes
    # From the model, its training data's verdicts (validations sit downstream of datasets).
    training = page.locator("table.training-data").inner_text()
    assert "churn-train" in training and "passed" in training
    shot(page, "model")

    # Lineage of version 1: left to right from the dataset through the run to the model.
    versions.nth(1).get_by_role("link", name="lineage").click()
    page.wait_for_selector("#graph canvas")
    model_node = f"artifact:{seeded['versions'][0]['artifact_id']}"
    assert page.locator("#graph").get_attribute("data-root") == model_node
    cy = "document.getElementById('graph')._cyreg.cy"
    positions = page.evaluate(
        f"""() => Object.fromEntries({cy}.nodes().map(n => [n.data('kind'), n.position('x')]))"""
    )
    assert positions["dataset"] < positions["run"] < positions["model"]
    assert page.evaluate(f"{cy}.$id('{model_node}').data('status')") == "blessed"
    page.wait_for_selector(f"#detail[data-node='{model_node}']")
    assert "blessed" in page.locator("#detail").inner_text()  # the root's details

    dataset = f"artifact:{seeded['dataset']['id']}"
    before = graph_size(page)
    click_node(page, dataset)
    page.wait_for_function(f"{cy}.nodes().length > {before}")
    # The second run (which read the same dataset) and its model came into view.
    kinds = page.evaluate(f"{cy}.nodes().map(n => n.data('label'))")
    assert "lr-0.3" in kinds
    page.wait_for_selector(f"#detail[data-node='{dataset}']")
    assert "churn-train" in page.locator("#detail h2").inner_text()
    assert "passed" in page.locator("#detail").inner_text()  # its data gate
    assert page.locator("#detail table.statistics").count() == 1
    assert "sel=" + dataset.replace(":", "%3A") in page.url or f"sel={dataset}" in page.url
    shot(page, "graph-expanded")

    # Collapse takes the expansion back; a path is highlighted between two nodes.
    page.click("#collapse")
    page.wait_for_function(f"{cy}.nodes().length === {before}")
    click_node(page, dataset)
    page.wait_for_function(f"{cy}.nodes().length > {before}")
    click_node(page, model_node)
    page.wait_for_function(f"{cy}.$id('{model_node}').selected()")
    page.click("#path-button")
    click_node(page, f"execution:{seeded['runs'][1]['id']}")  # the other run
    # model ← run 1 ← dataset → run 2
    page.wait_for_function(f"{cy}.$('.path').nodes().length === 4")
    assert "path" in page.locator("#graph-info").inner_text()
    page.click("#fit")
    shot(page, "graph-path")

    # A deep link to that node and view opens the same place in a fresh page.
    url = page.url
    page.goto("about:blank")
    page.goto(url)
    page.wait_for_selector("#graph canvas")
    page.wait_for_selector(f"#detail[data-node='{model_node}']")  # the selection came along


def test_open_a_run_with_its_metric_chart_and_compare_two_runs(page, seeded, shot) -> None:  # type: ignore[no-untyped-def]
    first, second = seeded["runs"]
    asked: list[str] = []
    page.on("request", lambda r: r.url.endswith("/graphql") and asked.append(r.url))
    page.goto(f"/ui/#/run/{first['id']}")
    page.wait_for_selector(".charts .uplot")
    assert len(asked) == 3  # the run; its curves and its experiment's runs, at once
    charts = page.locator(".charts .uplot")
    assert charts.count() == 2  # loss and auc
    assert page.locator("table.metrics").inner_text().count("loss") == 1
    assert "lr" in page.locator("table.kv").first.inner_text()
    shot(page, "run")

    page.locator(f"input[data-run='{second['id']}']").check()
    asked.clear()
    page.click("#compare-button")
    page.wait_for_selector(".overlay .uplot")
    assert len(asked) == 2  # both runs in one document, every curve of both in one more
    params = page.locator("table.compare-params")
    assert "lr-0.1" in params.inner_text() and "lr-0.3" in params.inner_text()
    assert params.locator("tr.differs").count() == 1  # lr differs, depth does not
    overlay = page.locator(".overlay .uplot").first
    assert overlay.locator(".u-legend .u-series").count() == 3  # step + two runs
    shot(page, "compare")


def test_readable_errors_when_the_server_is_gone_or_wants_a_token(  # type: ignore[no-untyped-def]
    browser, db, database_url, tmp_path, shot
) -> None:
    # `db`: the schema is in place, whichever test this worker ran first.
    server = Server(database_url, tmp_path, env={"MLLEDGER_AUTH": "required"})
    server.start()
    context = browser.new_context(base_url=server.url)
    page = context.new_page()
    try:
        page.goto("/ui/")
        page.wait_for_selector("dialog#settings[open]")
        assert "token" in page.locator("#settings-why").inner_text().lower()
        shot(page, "token-prompt")
        page.click("#settings-cancel")
        server.stop()
        page.fill("#search-text", "churn")
        page.click("#search-form button")
        banner = page.locator("#banner")
        banner.wait_for(state="visible")
        assert "Cannot reach the mlledger server" in banner.inner_text()
        shot(page, "unreachable")
    finally:
        context.close()
        server.stop()


def test_a_run_logged_through_mlflow_says_so(page, server, project) -> None:  # type: ignore[no-untyped-def]
    mlflow_api = f"{server.url}/projects/{project}/api/2.0/mlflow"
    made = httpx.post(
        f"{mlflow_api}/runs/create",
        json={
            "experiment_id": "0",
            "run_name": "from-mlflow",
            "tags": [{"key": "mlflow.source.name", "value": "train.py"}],
        },
    ).json()["run"]["info"]
    httpx.post(f"{mlflow_api}/runs/update", json={"run_id": made["run_id"], "status": "KILLED"})
    page.goto(f"/ui/#/run/{made['run_id']}")
    page.wait_for_selector("h1")
    assert "killed" in page.locator("h1 small").inner_text()
    assert "logged through MLflow's client (train.py)" in page.locator("p.muted").first.inner_text()
