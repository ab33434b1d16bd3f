"""Building Feast's `FeatureStore` for an mlledger project.

Each mlledger project is one Feast project. The registry lives beside the metadata: Feast's SQL
registry in its own `feast` schema of the Postgres database (so its tables never meet ours), or
a file registry under the home directory in the embedded default. The online store is Redis
when `redis_url` is set (Redis Cluster by configuration), else Feast's SQLite store.
"""

from __future__ import annotations

import fcntl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from feast import FeatureStore, RepoConfig
from sqlalchemy import create_engine, text

from mlledger.store.features.registry import ProjectFeatureStore


@dataclass(frozen=True, slots=True)
class EngineConfig:
    database_url: str
    redis_url: str | None
    home: Path
    redis_cluster: bool = False
    registry_cache_seconds: float = 30.0


def redis_connection_string(url: str, cluster: bool) -> str:
    """`redis://:pw@host:port/db` in Feast's `host:port,db=N,password=...` form."""
    parsed = urlparse(url)
    parts = [f"{parsed.hostname or '127.0.0.1'}:{parsed.port or 6379}"]
    if not cluster and parsed.path.strip("/"):
        parts.append(f"db={parsed.path.strip('/')}")
    if parsed.password:
        parts.append(f"password={parsed.password}")
    if parsed.scheme == "rediss":
        parts.append("ssl=true")
    return ",".join(parts)


def _ensure_feast_schema(url: str) -> None:
    """Feast's tables live in their own schema. Made whenever a project's store is built
    (once per project and process; idempotent): a cache by URL would go stale when the
    database behind the URL is dropped and made again, as a test session does."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE SCHEMA IF NOT EXISTS feast"))
    finally:
        engine.dispose()


def repo_config(cfg: EngineConfig, project: str) -> RepoConfig:
    """Feast's configuration for one Feast project (`project` is already Feast's name for
    it: store/features/names.py)."""
    data = cfg.home / "features"
    data.mkdir(parents=True, exist_ok=True)
    if cfg.database_url.startswith("postgresql"):
        _ensure_feast_schema(cfg.database_url)
        registry: dict[str, object] = {
            "registry_type": "sql",
            "path": cfg.database_url,
            "cache_ttl_seconds": int(cfg.registry_cache_seconds),
            "sqlalchemy_config_kwargs": {
                "connect_args": {"options": "-csearch_path=feast"},
                "pool_pre_ping": True,
            },
        }
    else:
        registry = {
            "registry_type": "file",
            "path": str(data / "registry.db"),
            "cache_ttl_seconds": int(cfg.registry_cache_seconds),
        }
    if cfg.redis_url:
        online: dict[str, object] = {
            "type": "redis",
            "redis_type": "redis_cluster" if cfg.redis_cluster else "redis",
            "connection_string": redis_connection_string(cfg.redis_url, cfg.redis_cluster),
        }
    else:
        online = {"type": "sqlite", "path": str(data / "online.db")}
    return RepoConfig(
        project=project,
        provider="local",
        registry=registry,
        online_store=online,
        offline_store={"type": "file"},
        entity_key_serialization_version=3,
        repo_path=data,
    )


@contextmanager
def applying(cfg: EngineConfig) -> Iterator[None]:
    """One apply at a time across the service's processes on this host: the embedded default
    keeps every project's definitions in one registry file, which two concurrent applies would
    each rewrite from a stale copy (and Feast's SQL registry meets itself in unique keys)."""
    folder = cfg.home / "features"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "apply.lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class Engines:
    """One FeatureStore per project, built on first use (building one reads the registry)."""

    def __init__(self, cfg: EngineConfig) -> None:
        self.cfg = cfg
        self._stores: dict[str, FeatureStore] = {}
        self._lock = threading.Lock()

    def get(self, project: str) -> FeatureStore:
        """The store of a Feast project name (store/features/names.py)."""
        with self._lock:
            store = self._stores.get(project)
            if store is None:
                store = ProjectFeatureStore(config=repo_config(self.cfg, project))
                self._stores[project] = store
            return store
