"""The readiness probe reports the database and the real Redis."""

from __future__ import annotations

from _support.helpers import LocalClient
from fastapi.testclient import TestClient

from mlledger.service.app import create_app


def test_health_with_database_and_redis(client: TestClient):
    body = client.get("/api/v1/health").json()
    assert body["status"] == "ok" and body["database"] == "ok" and body["redis"] == "ok"


def test_health_reports_a_redis_that_is_down(settings, db):
    settings.redis_url = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    with LocalClient(create_app(settings, db=db)) as c:
        r = c.get("/api/v1/health")
    assert r.status_code == 503
    assert r.json()["status"] == "degraded" and r.json()["redis"].startswith("error")
