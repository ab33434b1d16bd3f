"""Fill an mlledger database with N runs of one experiment, in bulk (SQL `generate_series`,
a few seconds per 100,000 runs): 3 params, 1 tag and 5 latest metrics each, as the tracking
API would have written them — so search is measured on realistic rows without spending an
hour logging them through the API.

Also fills what the write path keeps for search (`run_field`, `metric_latest.experiment_id`).

Each run: params optimizer (adam/sgd/rmsprop), depth (1..8), lr (0.1/0.01/0.001); tag team
(risk/growth/ops/core); metrics auc, loss, f1, recall, precision uniform in [0, 1).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

METRICS = ("auc", "loss", "f1", "recall", "precision")


def fill(conn: Connection, project_id: int, experiment_id: int, runs: int, *, seed: float) -> None:
    conn.execute(text("SELECT setseed(:s)"), {"s": seed})
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
                     now() - make_interval(secs => :n - g),
                     now() - make_interval(secs => :n - g) + interval '10 minutes',
                     now()
              FROM generate_series(1, :n) AS g
              RETURNING id
            )
            INSERT INTO run (execution_id, project_id, uuid, experiment_id, tags)
            SELECT id, :p, md5(id::text || CAST(:p AS text)), :e,
                   jsonb_build_object('team', (ARRAY['risk','growth','ops','core'])[1 + id % 4])
            FROM made
            """
        ),
        {"p": project_id, "e": experiment_id, "n": runs},
    )
    conn.execute(
        text(
            """
            INSERT INTO metric_latest (execution_id, key, experiment_id, step, "timestamp", value)
            SELECT r.execution_id, k, r.experiment_id, 100, 1700000000000, random()
            FROM run AS r CROSS JOIN unnest(CAST(:keys AS text[])) AS k
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
    conn.execute(text("ANALYZE run_field"))
    conn.execute(text("ANALYZE execution"))
    conn.execute(text("ANALYZE run"))
    conn.execute(text("ANALYZE metric_latest"))
