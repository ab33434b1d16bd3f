"""Many writers creating versions of one artifact name at once: distinct consecutive versions,
no errors, nothing lost — through the domain layer and through HTTP."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from _support.helpers import LocalClient

from mlledger.service.domain import artifacts, executions
from mlledger.service.domain.executions import ArtifactRef, ExecutionRecord
from mlledger.store.metadata.artifacts import NewArtifact
from mlledger.store.metadata.executions import NewExecution

WRITERS = 12
EACH = 10


def test_concurrent_versions_of_one_name(db, principal):
    def writer(w: int) -> list[int]:
        out = []
        for i in range(EACH):
            spec = NewArtifact(kind="dataset", name="shared", fingerprint=f"{w}-{i}")
            artifact, created = artifacts.create(db, principal, spec)
            assert created
            out.append(artifact.version)
        return out

    with ThreadPoolExecutor(WRITERS) as pool:
        versions = [v for vs in pool.map(writer, range(WRITERS)) for v in vs]
    assert sorted(versions) == list(range(1, WRITERS * EACH + 1))


def test_concurrent_batches_sharing_names_and_content(db, principal):
    """Each batch writes versions of two shared names and one fingerprinted shared artifact."""

    def writer(w: int) -> list[int]:
        record = ExecutionRecord(
            execution=NewExecution(kind="run", name=f"w{w}"),
            inputs=[
                ArtifactRef(new=NewArtifact(kind="dataset", name="same-data", fingerprint="sha:1"))
            ],
            outputs=[
                ArtifactRef(new=NewArtifact(kind="model", name="b")),
                ArtifactRef(new=NewArtifact(kind="model", name="a")),
            ],
        )
        (done,) = executions.record(db, principal, [record])
        return [done.inputs[0][0].id, done.outputs[0][0].version, done.outputs[1][0].version]

    with ThreadPoolExecutor(WRITERS) as pool:
        results = list(pool.map(writer, range(WRITERS * 2)))
    assert len({r[0] for r in results}) == 1  # one artifact for the same content
    assert sorted(r[1] for r in results) == list(range(1, WRITERS * 2 + 1))
    assert sorted(r[2] for r in results) == list(range(1, WRITERS * 2 + 1))


def test_concurrent_http_writers(app, project_name):
    def writer(w: int) -> list[int]:
        with LocalClient(app, headers={"X-Mlledger-Project": project_name}) as c:
            out = []
            for _ in range(5):
                r = c.post("/api/v1/artifacts", json={"kind": "dataset", "name": "http"})
                assert r.status_code == 201, r.text
                out.append(r.json()["version"])
            return out

    with ThreadPoolExecutor(8) as pool:
        versions = [v for vs in pool.map(writer, range(8)) for v in vs]
    assert sorted(versions) == list(range(1, 41))
