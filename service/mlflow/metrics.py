"""MLflow's metric history routes: a run's series as MLflow's client pages it and as MLflow's
charts sample it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from mlledger.store.errors import InvalidArgument

from ..deps import DB, Caller
from ..domain import run_metrics
from . import messages, wire
from .errors import PREFIX

router = APIRouter(prefix=PREFIX, include_in_schema=False)

HISTORY_PAGE = 1_000_000  # points a get-history answer may hold; MLflow's server sends all


@router.get("/metrics/get-history")
def get_metric_history(
    db: DB,
    who: Caller,
    metric_key: Annotated[str, Query(min_length=1, max_length=messages.KEY)],
    run_id: Annotated[str, Query(max_length=64)] = "",
    run_uuid: Annotated[str, Query(max_length=64)] = "",
    max_results: Annotated[int | None, Query(ge=1, le=HISTORY_PAGE)] = None,
    page_token: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    ref = run_id or run_uuid
    if not ref:
        raise InvalidArgument("run_id is required")
    if page_token and not (page_token.isascii() and page_token.isdigit()):
        raise InvalidArgument(f"page_token {page_token!r} is not one this server gave")
    found = run_metrics.history(db, who, ref, metric_key, max_points=HISTORY_PAGE)
    start = int(page_token or 0)
    end = len(found.steps) if max_results is None else min(len(found.steps), start + max_results)
    points = [
        {"key": metric_key, "value": wire.number(v), "timestamp": t, "step": s}
        for s, t, v in zip(
            found.steps[start:end],
            found.timestamps[start:end],
            found.values[start:end],
            strict=True,
        )
    ]
    out: dict[str, Any] = {"metrics": points}
    if end < len(found.steps):
        out["next_page_token"] = str(end)
    return wire.json(out)


BULK_RUNS = 100  # MLflow's limits on the charts' requests
BULK_POINTS = 25_000
INTERVAL_POINTS = 2_500
_DOCS = "See the API docs for more information about request parameters."


def _series(db: Any, who: Any, ref: str, key: str, **window: Any) -> list[dict[str, Any]]:
    """One run's points of `key` in MLflow's shape, by step then time (as MLflow orders)."""
    found = run_metrics.history(db, who, ref, key, max_points=HISTORY_PAGE, **window)
    points = [
        {"key": key, "value": wire.number(v), "timestamp": t, "step": s, "run_id": ref}
        for s, t, v in zip(found.steps, found.timestamps, found.values, strict=True)
    ]
    points.sort(key=lambda p: (p["step"], p["timestamp"]))
    return points


@router.get("/metrics/get-history-bulk")
def get_metric_history_bulk(
    db: DB,
    who: Caller,
    run_id: Annotated[list[Annotated[str, Query(max_length=64)]], Query()] = [],  # noqa: B006
    metric_key: Annotated[str, Query(max_length=messages.KEY)] = "",
    max_results: Annotated[int, Query(ge=1, le=BULK_POINTS)] = BULK_POINTS,
) -> Response:
    """Several runs' histories of one metric (the UI's comparison charts): by run id, each
    run's points by step, at most `max_results` in all."""
    if not run_id:
        raise InvalidArgument("GetMetricHistoryBulk request must specify at least one run_id.")
    if len(run_id) > BULK_RUNS:
        raise InvalidArgument(
            f"GetMetricHistoryBulk request cannot specify more than {BULK_RUNS} run_ids. "
            f"Received {len(run_id)} run_ids."
        )
    if not metric_key:
        raise InvalidArgument("GetMetricHistoryBulk request must specify a metric_key.")
    points: list[dict[str, Any]] = []
    for ref in sorted(set(run_id)):
        points += _series(db, who, ref, metric_key)
        if len(points) >= max_results:
            break
    return wire.json({"metrics": points[:max_results]})


@router.get("/metrics/get-history-bulk-interval")
def get_metric_history_bulk_interval(
    db: DB,
    who: Caller,
    run_ids: Annotated[list[Annotated[str, Query(max_length=64)]], Query()] = [],  # noqa: B006
    metric_key: Annotated[str, Query(max_length=messages.KEY)] = "",
    start_step: Annotated[int | None, Query(ge=-(2**63), le=2**63 - 1)] = None,
    end_step: Annotated[int | None, Query(ge=-(2**63), le=2**63 - 1)] = None,
    max_results: Annotated[int, Query(ge=-(2**31), le=2**31)] = 320,
) -> Response:
    """What MLflow's charts draw: the runs' points at up to `max_results` steps spread evenly
    over every step the runs logged in the window, plus each run's last step, so a line ends
    where the run did. The steps are shared, so the runs' points line up."""
    if not run_ids:
        raise InvalidArgument(f"Missing value for required parameter 'run_ids'. {_DOCS}")
    if len(run_ids) > BULK_RUNS:
        raise InvalidArgument(
            f"GetMetricHistoryBulkInterval request must specify at most {BULK_RUNS} run_ids. "
            f"Received {len(run_ids)} run_ids."
        )
    if not metric_key:
        raise InvalidArgument(f"Missing value for required parameter 'metric_key'. {_DOCS}")
    if not 1 <= max_results <= INTERVAL_POINTS:
        raise InvalidArgument(f"max_results must be between 1 and {INTERVAL_POINTS}.")
    if (start_step is None) != (end_step is None):
        raise InvalidArgument(
            "If either start step or end step are specified, both must be specified."
        )
    if start_step is not None and end_step is not None and start_step > end_step:
        raise InvalidArgument("end_step must be greater than start_step. ")
    window = {"min_step": start_step, "max_step": end_step}
    series = {ref: _series(db, who, ref, metric_key, **window) for ref in dict.fromkeys(run_ids)}
    steps = sorted({p["step"] for points in series.values() for p in points})
    if len(steps) <= max_results:
        chosen = set(steps)
    else:
        chosen = {steps[i * len(steps) // max_results] for i in range(max_results)}
        chosen.add(steps[-1])
    for points in series.values():
        if points:
            chosen.add(points[-1]["step"])
    return wire.json(
        {"metrics": [p for points in series.values() for p in points if p["step"] in chosen]}
    )
