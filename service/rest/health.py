"""/api/v1/health: readiness of the service and what it depends on; no token needed."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from mlledger import __version__

router = APIRouter(tags=["health"])


class HealthOut(BaseModel):
    status: Literal["ok", "degraded"]
    version: str
    database: str
    redis: str
    features: str = Field(
        description="`ready`, or `loading` while Feast loads after start-up (feature requests "
        "wait for it; nothing else does)"
    )


@router.get(
    "/health",
    operation_id="health",
    response_model=HealthOut,
    responses={503: {"model": HealthOut, "description": "A dependency is down"}},
)
def health(request: Request, response: Response) -> HealthOut:
    state = request.app.state
    database, redis = state.db.ping(), "ok"
    if state.redis is None:
        redis = "not configured"
    else:
        try:
            state.redis.ping()
        except Exception as exc:
            redis = f"error: {type(exc).__name__}"
    ok = database == "ok" and redis in ("ok", "not configured")
    if not ok:
        response.status_code = 503
    return HealthOut(
        status="ok" if ok else "degraded",
        version=__version__,
        database=database,
        redis=redis,
        features=state.features.state,
    )
