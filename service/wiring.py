"""What the server builds once per process, on first use or in the background.

Importing Feast (with pandas and pyarrow) takes about four seconds, and strawberry with the
GraphQL schema half a second, beside the 1.5 s the rest of the server needs to start. So the
composition root hands out `Lazy` holders for those two: the REST API answers at once, they load
on a background thread right after start-up, and a request that needs one before it is ready
waits for it instead of failing.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .settings import Settings

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send

    from .domain.feature_backends import FeatureBackends

T = TypeVar("T")

log = logging.getLogger(__name__)


def feature_backends(settings: Settings, redis_client: Any) -> FeatureBackends:
    """Feast engines per project, the registry snapshot cache, the generation mark that tells
    every process of an apply, and the Redis client of the online fast path (a RedisCluster
    when so configured)."""
    from mlledger.store.features.engine import EngineConfig, Engines
    from mlledger.store.features.generation import Generations
    from mlledger.store.features.online import FeastOnline, RedisOnline, Snapshots
    from mlledger.store.features.served import ServedLog
    from mlledger.validation.reading import DataRoots

    from .domain.feature_backends import FeatureBackends

    cfg = settings.features
    if settings.redis_url and cfg.redis_cluster:
        from redis.cluster import RedisCluster

        redis_client = RedisCluster.from_url(settings.redis_url)
    generations = Generations(redis_client, settings.home / "features")
    return FeatureBackends(
        engines=Engines(
            EngineConfig(
                database_url=settings.resolved_database_url,
                redis_url=settings.redis_url,
                home=settings.home,
                redis_cluster=cfg.redis_cluster,
                registry_cache_seconds=cfg.registry_cache_seconds,
            )
        ),
        snapshots=Snapshots(cfg.registry_cache_seconds),
        generations=generations,
        reader=FeastOnline() if redis_client is None else RedisOnline(redis_client, generations),
        redis=redis_client,
        datasets=settings.home / "datasets",
        data_roots=DataRoots.of(
            cfg.data_roots, owner="this server", setting="setting `features.data_roots`"
        ),
        max_entities=cfg.max_entities,
        served=ServedLog(
            settings.home / "served",
            cfg.served_sample_rate,
            flush_seconds=cfg.served_flush_seconds,
        )
        if cfg.served_sample_rate > 0
        else None,
    )


def graphql_app(settings: Settings) -> ASGIApp:
    """Strawberry's router for /graphql (GraphiQL on GET), callable as an ASGI app."""
    from strawberry.fastapi import GraphQLRouter

    from .graphql.context import get_context
    from .graphql.schema import build_schema

    return GraphQLRouter(build_schema(settings), path="/graphql", context_getter=get_context)


class Lazy(Generic[T]):
    """A `T` built by the first caller of `get` (others wait for it)."""

    def __init__(self, name: str, build: Callable[[], T]) -> None:
        self.name = name
        self._build = build
        self._built: T | None = None
        self._lock = threading.Lock()
        self.failed: str | None = None  # what a background load met

    def get(self) -> T:
        built = self._built
        if built is None:
            with self._lock:
                if self._built is None:
                    self._built = self._build()
                    self.failed = None
                built = self._built
        return built

    @property
    def loaded(self) -> T | None:
        """The thing if it was built, without building it."""
        return self._built

    @property
    def state(self) -> str:
        """For the health answer: `ready`, `loading`, or the error a background load met."""
        if self._built is not None:
            return "ready"
        return self.failed or "loading"


class LazyASGI:
    """A route's ASGI app, built on first use: the route itself exists from the start."""

    def __init__(self, lazy: Lazy[ASGIApp]) -> None:
        self.lazy = lazy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = self.lazy.loaded
        if app is None:
            import asyncio

            app = await asyncio.to_thread(self.lazy.get)
        await app(scope, receive, send)


def load_in_background(*holders: Lazy[Any]) -> threading.Thread:
    """Build each holder in turn on one daemon thread, then freeze the heap: everything alive
    by then (Feast, pandas, pyarrow, the schemas: ~250k objects) lives as long as the process,
    and frozen, a full collection no longer rescans it — otherwise ~200 ms paused in the middle
    of some request, where the online read's p99 is a few ms."""

    def load() -> None:
        for holder in holders:
            try:
                holder.get()
            except Exception as exc:  # a request will raise it again, where it is seen
                log.exception("loading the %s failed", holder.name)
                holder.failed = f"error: {type(exc).__name__}"
        gc.collect()
        gc.freeze()

    thread = threading.Thread(target=load, name="mlledger-load", daemon=True)
    thread.start()
    return thread
