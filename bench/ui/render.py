"""First render of a large lineage neighbourhood in the explorer, in headless Chromium.

Seeds one dataset read by N runs, each writing a model (2N + 1 nodes, all within depth 2 of the
dataset), through the batch REST API of a real `mlledger serve`; then opens
`/ui/#/graph/artifact:<dataset>?depth=2` in Debian's Chromium (driven by Playwright) several
times and reads the page's own performance marks: the GraphQL request, and request → dagre
layout → first frame drawn ("first render"). Also: a click that expands one node.

    bench/ui/run.sh [--runs 1000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
from playwright.sync_api import sync_playwright

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seed(api: httpx.Client, runs: int) -> int:
    data = api.post("/artifacts", json={"kind": "dataset", "name": "wide", "fingerprint": "w"})
    dataset = int(data.json()["id"])
    for start in range(0, runs, 1000):
        batch = [
            {
                "kind": "run",
                "name": f"run-{i}",
                "state": "complete",
                "inputs": [{"artifact_id": dataset, "role": "train"}],
                "outputs": [{"artifact": {"kind": "model", "name": f"model-{i}"}, "role": "model"}],
            }
            for i in range(start, min(runs, start + 1000))
        ]
        api.post("/executions/batch?view=ids", json={"executions": batch}).raise_for_status()
    return dataset


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=1000)
    p.add_argument("--repeat", type=int, default=7)
    a = p.parse_args()
    home = Path(tempfile.mkdtemp(prefix="uibench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLLEDGER_")}
    env |= {"MLLEDGER_HOME": str(home)}
    mll = [sys.executable, "-m", "mlledger.client"]
    subprocess.run([*mll, "db", "upgrade"], env=env, check=True, capture_output=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [*mll, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{url}/api/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        with httpx.Client(base_url=f"{url}/api/v1", timeout=120) as api:
            dataset = seed(api, a.runs)
        first, fetch, expand = [], [], []
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=shutil.which("chromium"), args=ARGS)
            for _ in range(a.repeat):
                page = browser.new_page(viewport={"width": 1500, "height": 950})
                page.goto(f"{url}/ui/#/graph/artifact:{dataset}?depth=2")
                page.wait_for_function(
                    "performance.getEntriesByName('mlledger:graph').length > 0", timeout=60_000
                )
                first.append(
                    page.evaluate("performance.getEntriesByName('mlledger:graph')[0].duration")
                )
                fetch.append(
                    page.evaluate(
                        "performance.getEntriesByName('mlledger:graph-fetch')[0].duration"
                    )
                )
                nodes = page.evaluate("document.getElementById('graph')._cyreg.cy.nodes().length")
                # A click on a model: its details shown (timed in the page, to the panel's
                # update; the expansion that follows adds nothing new here).
                cy = "document.getElementById('graph')._cyreg.cy"
                target = page.evaluate(f"{cy}.nodes('[kind = \"model\"]')[0].id()")
                expand.append(
                    page.evaluate(
                        """async ([, id]) => {
                          const cy = document.getElementById('graph')._cyreg.cy;
                          const panel = document.getElementById('detail');
                          const start = performance.now();
                          cy.$id(id).emit('tap');
                          while (panel.dataset.node !== id) {
                            await new Promise((r) => setTimeout(r, 5));
                          }
                          return performance.now() - start;
                        }""",
                        [cy, target],
                    )
                )
                page.close()
            version = browser.version
            browser.close()
    finally:
        server.terminate()
        server.wait()
    pct = lambda xs, q: float(np.percentile(np.array(xs), q))  # noqa: E731
    print(
        f"{nodes} nodes ({a.runs} runs reading one dataset), depth 2, Chromium {version}, "
        f"{a.repeat} page loads"
    )
    print("| | p50 | max |")
    print("|---|---|---|")
    print(f"| GraphQL lineage request | {pct(fetch, 50):.0f} ms | {max(fetch):.0f} ms |")
    print(
        f"| first render (request + layout + first frame) | {pct(first, 50):.0f} ms | "
        f"{max(first):.0f} ms |"
    )
    print(f"| click on a node → details shown | {pct(expand, 50):.0f} ms | {max(expand):.0f} ms |")


if __name__ == "__main__":
    main()
