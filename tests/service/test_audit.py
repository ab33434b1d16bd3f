"""Every mutation leaves an audit row naming who did it, in the same transaction."""

from __future__ import annotations

from _support.helpers import LocalClient, new, run
from fastapi.testclient import TestClient
from sqlalchemy import select

from mlledger.service.app import create_app
from mlledger.service.domain import tokens
from mlledger.store.tables import AuditRow, ProjectRow


def audit(db, project: str) -> list[tuple[str, str, str, int | None]]:  # type: ignore[no-untyped-def]
    with db.read() as session:
        rows = session.execute(
            select(AuditRow.actor, AuditRow.action, AuditRow.entity_type, AuditRow.entity_id)
            .join(ProjectRow, ProjectRow.id == AuditRow.project_id)
            .where(ProjectRow.name == project)
            .order_by(AuditRow.id)
        ).all()
    return [tuple(r) for r in rows]


def test_mutations_are_audited_with_their_actor(client: TestClient, db, project_name):
    body = run(
        client,
        "train",
        [new("dataset", "d")],
        [new("model", "m")],
        contexts=[{"kind": "experiment", "name": "e"}],
    )
    client.patch(f"/api/v1/executions/{body['id']}", json={"state": "complete"})
    # A deduplicated log changes nothing, so it records nothing.
    fp = {"kind": "dataset", "name": "x", "fingerprint": "f"}
    client.post("/api/v1/artifacts", json=fp)
    client.post("/api/v1/artifacts", json=fp)
    actions = [(a, t) for _, a, t, _ in audit(db, project_name)]
    assert actions == [
        ("execution.create", "execution"),
        ("artifact.create", "artifact"),
        ("artifact.create", "artifact"),
        ("context.create", "context"),
        ("execution.update", "execution"),
        ("artifact.create", "artifact"),
    ]
    assert {actor for actor, *_ in audit(db, project_name)} == {"local"}


def test_token_identity_is_recorded(settings, db, project_name):
    settings.auth = "required"
    secret, token = tokens.create_for_project(
        db, project_name, name="ci-bot", scope="write", actor="test"
    )
    with LocalClient(create_app(settings, db=db)) as c:
        r = c.post(
            "/api/v1/artifacts",
            json={"kind": "dataset", "name": "d"},
            headers={"Authorization": f"Bearer {secret}"},
        )
    assert r.status_code == 201
    actor, action, _, entity = audit(db, project_name)[-1]
    assert (actor, action, entity) == (
        f"token:{token.id}:ci-bot",
        "artifact.create",
        r.json()["id"],
    )


def test_a_refused_write_leaves_no_audit_row(client: TestClient, db, project_name):
    before = audit(db, project_name)
    r = client.post(
        "/api/v1/executions",
        json={"kind": "run", "name": "r", "inputs": [{"artifact_id": 99999999}]},
    )
    assert r.status_code == 404
    assert audit(db, project_name) == before
