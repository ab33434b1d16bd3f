"""Fill a database with N runs of one experiment, in bulk, the same runs for every contender:
mlledger on Postgres (SQL `generate_series`, ~10 s per 100,000 runs), mlledger on SQLite
(executemany from Python), and MLflow's tables on Postgres (SQL, as its `log_batch` would have
written them). So search is measured on identical rows without spending hours logging them
through each API, and the answers can be compared run by run.

Run g (1..N) is named `run-g` and has: params optimizer (adam/sgd/rmsprop by g % 3), depth
(1 + g % 8), lr (0.1/0.01/0.001 by (g / 3) % 3); tag team (risk/growth/ops/core by g % 4);
state failed when g % 10 = 0; started g seconds after the first; latest metrics auc, loss, f1,
recall, precision, each uniform in [0, 1) from the md5 of "run-g:key" (`metric_value`), which
SQL and Python compute alike. mlledger's fills include what its write path keeps for search
(`run_field`, `metric_latest.experiment_id`).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, text
from sqlalchemy.engine import Connection

METRICS = ("auc", "loss", "f1", "recall", "precision")
OPTIMIZERS = ("adam", "sgd", "rmsprop")
LRS = ("0.1", "0.01", "0.001")
TEAMS = ("risk", "growth", "ops", "core")
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def metric_value(name: str, key: str) -> float:
    return int(hashlib.md5(f"{name}:{key}".encode()).hexdigest()[:8], 16) / 2**32


def _value_sql(name: str, key: str) -> str:
    """metric_value in Postgres."""
    return f"(('x' || substr(md5({name} || ':' || {key}), 1, 8))::bit(32)::bigint / 4294967296.0)"


def _run(g: int) -> dict[str, object]:
    return {
        "name": f"run-{g}",
        "params": {
            "optimizer": OPTIMIZERS[g % 3],
            "depth": str(1 + g % 8),
            "lr": LRS[(g // 3) % 3],
        },
        "team": TEAMS[g % 4],
        "failed": g % 10 == 0,
        "started": EPOCH + timedelta(seconds=g),
    }


def fill_mlledger(conn: Connection, project_id: int, experiment_id: int, runs: int) -> None:
    if conn.dialect.name == "postgresql":
        _fill_mlledger_postgres(conn, project_id, experiment_id, runs)
    else:
        _fill_mlledger_sqlite(conn, project_id, experiment_id, runs)


def _fill_mlledger_postgres(conn: Connection, project_id: int, experiment_id: int, n: int) -> None:
    conn.execute(
        text(
            """
            WITH made AS (
              INSERT INTO execution (project_id, kind, name, state, params, properties,
                                     environment, started_at, ended_at, created_at)
              SELECT :p, 'run', 'run-' || g,
                     CASE WHEN g % 10 = 0 THEN 'failed' ELSE 'complete' END,
                     jsonb_build_object(
                       'optimizer', (ARRAY['adam','sgd','rmsprop'])[1 + g % 3],
                       'depth', (1 + g % 8)::text,
                       'lr', (ARRAY['0.1','0.01','0.001'])[1 + (g / 3) % 3]),
                     '{}', '{}',
                     :epoch + make_interval(secs => g),
                     :epoch + make_interval(secs => g) + interval '10 minutes',
                     now()
              FROM generate_series(1, :n) AS g
              ORDER BY g
              RETURNING id, name
            )
            INSERT INTO run (execution_id, project_id, uuid, experiment_id, tags)
            SELECT id, :p, md5(name || CAST(:p AS text)), :e,
                   jsonb_build_object('team', (ARRAY['risk','growth','ops','core'])
                                              [1 + CAST(substr(name, 5) AS int) % 4])
            FROM made
            """
        ),
        {"p": project_id, "e": experiment_id, "n": n, "epoch": EPOCH},
    )
    conn.execute(
        text(
            f"""
            INSERT INTO metric_latest (execution_id, key, experiment_id, step, "timestamp", value)
            SELECT r.execution_id, k, r.experiment_id, 100, 1700000000000,
                   {_value_sql("e.name", "k")}
            FROM run AS r JOIN execution AS e ON e.id = r.execution_id
                 CROSS JOIN unnest(CAST(:keys AS text[])) AS k
            WHERE r.project_id = :p AND r.experiment_id = :e
            """
        ),
        {"p": project_id, "e": experiment_id, "keys": list(METRICS)},
    )
    for section, source, join in (
        ("params", "e.params", "JOIN execution AS e ON e.id = r.execution_id"),
        ("tags", "r.tags", ""),
    ):  # search's copy of params and tags (run_field), as the write path keeps it
        conn.execute(
            text(
                "INSERT INTO run_field (execution_id, section, key, experiment_id, head, value) "
                f"SELECT r.execution_id, '{section}', f.key, r.experiment_id, left(f.value, 200), "
                f"f.value FROM run AS r {join}, jsonb_each_text({source}) AS f "
                "WHERE r.project_id = :p AND r.experiment_id = :e"
            ),
            {"p": project_id, "e": experiment_id},
        )
    for table in ("run_field", "execution", "run", "metric_latest"):
        conn.execute(text(f"ANALYZE {table}"))


def _fill_mlledger_sqlite(conn: Connection, project_id: int, experiment_id: int, n: int) -> None:
    from mlledger.store.tables import ExecutionRow, LatestMetricRow, RunFieldRow, RunRow

    first = (conn.execute(text("SELECT coalesce(max(id), 0) FROM execution")).scalar() or 0) + 1
    now = datetime.now(UTC)
    for start in range(1, n + 1, 50_000):
        gs = range(start, min(n, start + 49_999) + 1)
        made = [_run(g) for g in gs]
        ids = [first + g - 1 for g in gs]
        conn.execute(
            insert(ExecutionRow),
            [
                {
                    "id": i,
                    "project_id": project_id,
                    "kind": "run",
                    "name": r["name"],
                    "state": "failed" if r["failed"] else "complete",
                    "params": r["params"],
                    "properties": {},
                    "environment": {},
                    "started_at": r["started"],
                    "ended_at": r["started"] + timedelta(minutes=10),  # type: ignore[operator]
                    "created_at": now,
                }
                for i, r in zip(ids, made, strict=True)
            ],
        )
        conn.execute(
            insert(RunRow),
            [
                {
                    "execution_id": i,
                    "project_id": project_id,
                    "uuid": hashlib.md5(f"{r['name']}{project_id}".encode()).hexdigest(),
                    "experiment_id": experiment_id,
                    "tags": {"team": r["team"]},
                }
                for i, r in zip(ids, made, strict=True)
            ],
        )
        conn.execute(
            insert(LatestMetricRow),
            [
                {
                    "execution_id": i,
                    "key": k,
                    "experiment_id": experiment_id,
                    "step": 100,
                    "timestamp": 1_700_000_000_000,
                    "value": metric_value(str(r["name"]), k),
                }
                for i, r in zip(ids, made, strict=True)
                for k in METRICS
            ],
        )
        conn.execute(
            insert(RunFieldRow),
            [
                {
                    "execution_id": i,
                    "section": section,
                    "key": k,
                    "experiment_id": experiment_id,
                    "head": v[:200],
                    "value": v,
                }
                for i, r in zip(ids, made, strict=True)
                for section, fields in (
                    ("params", r["params"]),
                    ("tags", {"team": r["team"]}),
                )
                for k, v in fields.items()  # type: ignore[attr-defined]
            ],
        )
    conn.execute(text("ANALYZE"))


def fill_mlflow(conn: Connection, experiment_id: int, n: int) -> None:
    """MLflow 3.x's tables: runs, params, tags (the team and the run name, as MLflow's client
    writes it), latest_metrics (what its search reads) and one metrics row per latest value."""
    epoch_ms = int(EPOCH.timestamp() * 1000)
    conn.execute(
        text(
            """
            INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id,
                              status, start_time, end_time, source_version, lifecycle_stage,
                              artifact_uri, experiment_id)
            SELECT md5('run-' || g), 'run-' || g, 'LOCAL', '', '', 'bench',
                   CASE WHEN g % 10 = 0 THEN 'FAILED' ELSE 'FINISHED' END,
                   :epoch + g * 1000, :epoch + g * 1000 + 600000, '', 'active',
                   '/tmp/mlflow-search-bench/' || md5('run-' || g), :e
            FROM generate_series(1, :n) AS g
            """
        ),
        {"e": experiment_id, "n": n, "epoch": epoch_ms},
    )
    conn.execute(
        text(
            """
            INSERT INTO params (key, value, run_uuid)
            SELECT p.key, p.value, md5('run-' || g)
            FROM generate_series(1, :n) AS g,
                 LATERAL (VALUES ('optimizer', (ARRAY['adam','sgd','rmsprop'])[1 + g % 3]),
                                 ('depth', (1 + g % 8)::text),
                                 ('lr', (ARRAY['0.1','0.01','0.001'])[1 + (g / 3) % 3]))
                         AS p(key, value)
            """
        ),
        {"n": n},
    )
    conn.execute(
        text(
            """
            INSERT INTO tags (key, value, run_uuid)
            SELECT t.key, t.value, md5('run-' || g)
            FROM generate_series(1, :n) AS g,
                 LATERAL (VALUES ('team', (ARRAY['risk','growth','ops','core'])[1 + g % 4]),
                                 ('mlflow.runName', 'run-' || g)) AS t(key, value)
            """
        ),
        {"n": n},
    )
    for table in ("latest_metrics", "metrics"):
        conn.execute(
            text(
                f"""
                INSERT INTO {table} (key, value, timestamp, step, is_nan, run_uuid)
                SELECT k, {_value_sql("('run-' || g)", "k")}, 1700000000000, 100, false,
                       md5('run-' || g)
                FROM generate_series(1, :n) AS g CROSS JOIN unnest(CAST(:keys AS text[])) AS k
                """
            ),
            {"n": n, "keys": list(METRICS)},
        )
    for table in ("runs", "params", "tags", "latest_metrics", "metrics"):
        conn.execute(text(f"ANALYZE {table}"))
