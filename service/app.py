"""The composition root: `create_app(settings)` builds engines, stores and routers once."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from starlette.routing import Route

from mlledger import __version__, ui
from mlledger.store.database import Database, create_db_engine
from mlledger.store.files.objects import ObjectStore

from . import errors
from .auth import Authenticator
from .decompress import DecompressBody
from .limits import AuthenticateFirst, BodySizeLimit, RefuseNul
from .mlflow import artifacts as mlflow_artifacts
from .mlflow import browse as mlflow_browse
from .mlflow import experiments as mlflow_experiments
from .mlflow import metrics as mlflow_metrics
from .mlflow import models as mlflow_models
from .mlflow import registry as mlflow_registry
from .mlflow import runs as mlflow_runs
from .mlflow.prefix import ProjectPrefix
from .openlineage import routes as openlineage_routes
from .rest import (
    artifacts,
    contexts,
    data_gates,
    executions,
    features,
    files,
    health,
    lineage,
    model_gates,
    models,
    online,
    pushes,
    runs,
    tokens,
)
from .rest.openapi import tighten
from .settings import Settings
from .wiring import Lazy, LazyASGI, feature_backends, graphql_app, load_in_background


def create_app(settings: Settings, *, db: Database | None = None) -> FastAPI:
    """Build the ASGI app. The database must already be at the migration head
    (`mlledger db upgrade`); nothing is created or migrated here."""
    owns_db = db is None
    db = db or Database(
        create_db_engine(settings.resolved_database_url, pool_size=settings.db_pool_size)
    )
    redis_client = None
    if settings.redis_url:
        import redis

        redis_client = redis.Redis.from_url(settings.redis_url, socket_timeout=2)

    feature_wiring = Lazy("feature store", lambda: feature_backends(settings, redis_client))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        if feature_wiring.loaded is not None and feature_wiring.loaded.served is not None:
            feature_wiring.loaded.served.close()
        if owns_db:
            db.dispose()
        if redis_client is not None:
            redis_client.close()

    app = FastAPI(
        title="mlledger",
        version=__version__,
        description="ML metadata, lineage and experiment tracking.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.db = db
    app.state.redis = redis_client
    app.state.authenticator = Authenticator(db, settings)
    app.state.features = feature_wiring

    errors.install(app)
    for module in (
        artifacts,
        executions,
        contexts,
        lineage,
        runs,
        models,
        model_gates,
        pushes,
        features,
        tokens,
        data_gates,
        files,
        health,
    ):
        app.include_router(module.router, prefix="/api/v1")
    app.include_router(openlineage_routes.router, prefix="/api/v1")  # OpenLineage's transport
    app.state.objects = ObjectStore(settings.artifact_root)
    app.include_router(mlflow_experiments.router)  # MLflow's own paths: /api/2.0/mlflow/...
    app.include_router(mlflow_runs.router)
    app.include_router(mlflow_metrics.router)
    app.include_router(mlflow_models.router)
    app.include_router(mlflow_registry.router)
    app.include_router(mlflow_browse.router)
    app.include_router(mlflow_artifacts.router)  # and /api/2.0/mlflow-artifacts/...
    app.state.graphql = Lazy("GraphQL schema", lambda: graphql_app(settings))
    app.router.routes.append(
        Route("/graphql", LazyASGI(app.state.graphql), methods=["GET", "POST"])
    )

    @app.get("/", include_in_schema=False)
    def _root() -> RedirectResponse:
        return RedirectResponse("/ui/")

    ui.mount(app)
    # First of all routes: the online read is the hot path (see online.online_route).
    app.router.routes.insert(0, online.online_route())
    app.openapi = _documented(app, online.document_online)  # type: ignore[method-assign]

    # Outermost last: the declared size, then the caller, and only then is a body read.
    app.add_middleware(RefuseNul)
    app.add_middleware(DecompressBody, max_bytes=settings.server.max_request_bytes)
    app.add_middleware(
        AuthenticateFirst, authenticator=app.state.authenticator, routes=app.router.routes
    )
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.server.max_request_bytes,
        graphql_max_bytes=settings.graphql.max_request_bytes,
        upload_max_bytes=settings.artifacts.max_upload_bytes,
    )
    app.add_middleware(ProjectPrefix)
    return app


def _documented(app: FastAPI, add: Callable[[dict[str, Any]], dict[str, Any]]):  # type: ignore[no-untyped-def]
    """`app.openapi` plus the operations of routes FastAPI does not describe itself."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = tighten(add(generate()))
        return app.openapi_schema

    return openapi


def create_app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` worker processes: settings from MLLEDGER_* variables."""
    app = create_app(Settings())
    # GraphQL executions resolve in threads (graphql/schema.py); with Python's default 5 ms GIL
    # switch interval, each hop of the event loop could wait that long behind one of them.
    # 1 ms keeps `/health` and the REST routes answering while a large query resolves.
    sys.setswitchinterval(0.001)
    # Feast loads while the rest of the API already answers (service/wiring.py).
    load_in_background(app.state.graphql, app.state.features)
    return app
