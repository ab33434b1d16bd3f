"""A real headless Chromium (Debian's, driven by Playwright) on the real server's /ui, with
lineage seeded through the REST API the way training code and CI would write it."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from _support.servers import Server, clean_env

SHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "ui"
VALIDATOR = Path(__file__).resolve().parents[2] / ".venv-validator" / "bin" / "mlledger"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    executable = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if executable is None:
        pytest.fail("no chromium: scripts/test installs Debian's chromium package")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(
    browser: Any, server: Server, project: str, request: pytest.FixtureRequest
) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1500, "height": 950}, base_url=server.url)
    context.add_init_script(
        f"try {{ localStorage.setItem('mlledger.project', {project!r}) }} catch {{}}"
    )
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"{request.node.name}-end.png"), full_page=True)
    context.close()
    assert not errors, f"JavaScript errors in the page: {errors}"


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Any:
    """Save a screenshot as tests/artifacts/ui/<test>-<name>.png."""

    def save(page: Any, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{request.node.name}-{name}.png"), full_page=True)

    return save


def validate(server: Server, project: str, api: httpx.Client, dataset_id: int) -> None:
    """The dataset's data gate, decided by a real worker in the validator environment."""
    api.post("/validation/jobs", json={"dataset": dataset_id}).raise_for_status()
    env = clean_env()
    env |= {"MLLEDGER_URL": server.url, "MLLEDGER_PROJECT": project, "TF_CPP_MIN_LOG_LEVEL": "3"}
    subprocess.run(
        [str(VALIDATOR), "worker", "--once", "--data-root", tempfile.gettempdir()],
        env=env,
        check=True,
        capture_output=True,
    )
    assert api.get(f"/datasets/{dataset_id}/gate").json()["status"] == "passed"


@pytest.fixture
def seeded(server: Server, project: str, api: httpx.Client, tmp_path: Path) -> dict[str, Any]:
    """Two runs of `churn` reading one validated dataset, each writing a model version; a gate;
    v1 blessed and pushed, v2 evaluated worse and refused."""
    train = tmp_path / "churn-train.parquet"
    rng = np.random.default_rng(0)
    pd.DataFrame(
        {"tenure": rng.integers(0, 72, 500), "country": rng.choice(["DE", "FR"], 500)}
    ).to_parquet(train)
    out: dict[str, Any] = {"runs": [], "versions": []}
    for i, (lr, final) in enumerate(((0.1, 0.31), (0.3, 0.42))):
        run = api.post(
            "/runs",
            json={"experiment": "churn", "name": f"lr-{lr}", "params": {"lr": lr, "depth": 6}},
        ).json()
        data = api.post(
            f"/runs/{run['uuid']}/inputs",
            json={
                "artifact": {
                    "kind": "dataset",
                    "name": "churn-train",
                    "uri": train.as_uri(),
                    "fingerprint": "sha256:train",
                    "properties": {"format": "parquet"},
                }
            },
        ).json()
        n = 60
        losses = [final + (1 - final) * (0.93**s) for s in range(n)]
        api.post(
            f"/runs/{run['uuid']}/metrics",
            json={
                "keys": ["loss"] * n + ["auc"] * n,
                "values": losses + [1 - x / 2 for x in losses],
                "steps": list(range(n)) * 2,
                "timestamps": [1_700_000_000_000 + s for s in range(n)] * 2,
            },
        ).raise_for_status()
        api.patch(f"/runs/{run['uuid']}", json={"state": "complete"}).raise_for_status()
        version = api.post(
            "/models/churn/versions",
            json={
                "run": run["uuid"],
                "artifact": {"kind": "model", "name": "churn", "fingerprint": f"m{i}"},
                "metrics": {"auc": 1 - final / 2},
            },
        ).json()
        out["runs"].append(run)
        out["versions"].append(version)
        out["dataset"] = data
    validate(server, project, api, out["dataset"]["id"])
    api.put(
        "/models/churn/gate",
        json={
            "thresholds": [
                {
                    "metric": "auc",
                    "value_threshold": {"lower_bound": 0.7},
                    "change_threshold": {"direction": "HIGHER_IS_BETTER", "absolute": 0.0},
                }
            ],
            "slicing_specs": [{"feature_keys": ["country"]}],
        },
    ).raise_for_status()
    for v, auc in ((1, 0.85), (2, 0.79)):
        api.post(
            f"/models/churn/versions/{v}/evaluations",
            json={
                "metrics": {"auc": auc},
                "slices": [
                    {"slice": {"country": "DE"}, "metrics": {"auc": auc}},
                    {"slice": {"country": "FR"}, "metrics": {"auc": auc - 0.02}},
                ],
            },
        ).raise_for_status()
        api.post("/models/churn/pushes", json={"version": v})
    api.close()
    return out
