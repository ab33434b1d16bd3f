"""The one configuration object of the server, read from `MLLEDGER_*` environment variables.

Built once by the CLI or `create_app_from_env` and passed down; no other module reads the
environment. Every field is documented in docs/configuration.md — a test fails when one is not.
Nested sections use a double underscore: `MLLEDGER_LINEAGE__MAX_NODES=5000`.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServerSettings(BaseModel):
    host: str = Field("127.0.0.1", description="Address `mlledger serve` binds.")
    port: int = Field(8080, ge=0, le=65535, description="Port `mlledger serve` listens on.")
    workers: int = Field(1, ge=1, le=64, description="Worker processes of `mlledger serve`.")
    max_request_bytes: int = Field(
        16 * 1024 * 1024, ge=1024, description="Request bodies larger than this get HTTP 413."
    )
    access_log: bool = Field(
        True, description="Log every request (uvicorn's access log); off saves ~0.05 ms a request."
    )


class LineageSettings(BaseModel):
    default_depth: int = Field(3, ge=1, description="Depth of a lineage query that names none.")
    max_depth: int = Field(
        100, ge=1, le=100, description="Largest depth a lineage query may ask for."
    )
    max_nodes: int = Field(
        10_000,
        ge=1,
        le=30_000,
        description="Nodes a lineage answer holds at most (then truncated).",
    )


class GraphQLSettings(BaseModel):
    max_depth: int = Field(12, ge=2, description="Deepest selection nesting a query may use.")
    max_complexity: int = Field(
        250_000,
        ge=10,
        description="Largest cost of a query: fields times the bounds of the lists above them "
        "(one full lineage answer of `lineage.max_nodes` nodes fits; two do not).",
    )
    max_page: int = Field(500, ge=1, description="Largest `first` a GraphQL connection accepts.")
    max_root_fields: int = Field(
        20, ge=1, description="Root fields (aliases included) one GraphQL request may ask for."
    )
    timeout_seconds: float = Field(
        10.0, gt=0, description="Time budget of one GraphQL execution; past it, an error."
    )
    max_concurrent: int = Field(
        1,
        ge=1,
        description="GraphQL executions at once per service process; others wait their turn "
        "(more would share the same cores and slow every other request).",
    )
    max_request_bytes: int = Field(
        256 * 1024, ge=1024, description="GraphQL request bodies larger than this get HTTP 413."
    )


class FeatureSettings(BaseModel):
    redis_cluster: bool = Field(
        False, description="Treat `redis_url` as a Redis Cluster (online features)."
    )
    registry_cache_seconds: float = Field(
        30.0,
        ge=0,
        description="How long the online path trusts its registry snapshot before re-reading.",
    )
    max_entities: int = Field(
        1000, ge=1, description="Most entity rows one online request may ask for."
    )
    served_sample_rate: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Share of online requests whose served vectors are logged to Parquet under "
        "`home/served` (for the skew check); 0 turns the log off.",
    )
    served_flush_seconds: float = Field(
        30.0, gt=0, description="How often the served-vector log is written out."
    )
    data_roots: list[str] = Field(
        default_factory=list,
        validate_default=True,
        description="Folders (and URL prefixes such as `s3://bucket/features/`) that feature "
        "sources applied over HTTP may point into; a source elsewhere is refused. Default: the "
        "working directory the server started in. JSON list in the environment: "
        '`MLLEDGER_FEATURES__DATA_ROOTS=\'["/data", "s3://bucket/f/"]\'`.',
    )

    @field_validator("data_roots")
    @classmethod
    def _roots(cls, roots: list[str]) -> list[str]:
        # Resolved once, when the settings are read: a later change of directory moves nothing.
        return [r if "://" in r else os.path.realpath(os.path.expanduser(r)) for r in roots] or [
            os.getcwd()
        ]


class ArtifactSettings(BaseModel):
    root: str | None = Field(
        None,
        description="Where uploaded artifacts' bytes live, content-addressed: a folder, or any "
        "fsspec URL (`s3://bucket/prefix`; credentials as fsspec/boto find them). Default: "
        "`home/artifacts`.",
    )
    max_upload_bytes: int = Field(
        5 * 1024**3,
        ge=1024,
        description="Largest file one artifact upload may hold (uploads stream; the JSON "
        "request limit does not apply to them).",
    )


class MlmdSettings(BaseModel):
    port: int | None = Field(
        None,
        ge=0,
        le=65535,
        description="Port of the MLMD gRPC listener (`ml_metadata.MetadataStoreService`, what TFX "
        "and Kubeflow Pipelines write through); unset: no listener. `mlledger serve --grpc-port`.",
    )
    host: str = Field(
        "127.0.0.1",
        description="Address the MLMD listener binds; any other than loopback needs mutual TLS "
        "(`tls_key`, `tls_cert`, `client_ca`), since MLMD's client carries no token.",
    )
    project: str = Field(
        "default",
        pattern=r"^[A-Za-z0-9._-]{1,128}$",
        description="Project everything written through the MLMD listener belongs to (MLMD's "
        "client config has no header to name one).",
    )
    threads: int = Field(8, ge=1, le=256, description="RPCs the MLMD listener runs at once.")
    max_message_bytes: int = Field(
        64 * 1024 * 1024, ge=1024, description="Largest gRPC message the MLMD listener takes."
    )
    tls_key: str | None = Field(None, description="PEM private key of the listener (TLS).")
    tls_cert: str | None = Field(None, description="PEM certificate chain of the listener (TLS).")
    client_ca: str | None = Field(
        None,
        description="PEM CA bundle: clients must present a certificate it signed (mutual TLS, "
        "MLMD's `ssl_config.client_key`).",
    )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MLLEDGER_", env_nested_delimiter="__", extra="ignore"
    )

    home: Path = Field(
        Path(".mlledger"),
        description="Folder of the embedded default; its SQLite database lives here. A relative "
        "path is taken from the working directory when the settings are read (and stays that "
        "folder if the process changes directory later).",
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the metadata database; default SQLite under `home`. "
        "Postgres: `postgresql+psycopg://user:pass@host/db`.",
    )
    redis_url: str | None = Field(
        None, description="Redis URL (`redis://host:6379/0`); checked by the readiness probe."
    )
    auth: Literal["auto", "required"] = Field(
        "auto",
        description="`auto`: anonymous requests are accepted only while the server is bound to "
        "loopback; `required`: every request needs a bearer token.",
    )
    default_project: str = Field(
        "default", description="Project of anonymous local requests without `X-Mlledger-Project`."
    )
    db_pool_size: int = Field(10, ge=1, description="Connections kept per service process.")
    server: ServerSettings = Field(default_factory=ServerSettings)  # type: ignore[arg-type]
    lineage: LineageSettings = Field(default_factory=LineageSettings)  # type: ignore[arg-type]
    graphql: GraphQLSettings = Field(default_factory=GraphQLSettings)  # type: ignore[arg-type]
    features: FeatureSettings = Field(default_factory=FeatureSettings)  # type: ignore[arg-type]
    artifacts: ArtifactSettings = Field(default_factory=ArtifactSettings)  # type: ignore[arg-type]
    mlmd: MlmdSettings = Field(default_factory=MlmdSettings)  # type: ignore[arg-type]

    @field_validator("home")
    @classmethod
    def _absolute(cls, home: Path) -> Path:
        # Feast joins its repo path with relative paths, and `features apply` changes
        # directory into the repo: a relative home would be joined twice.
        return home.expanduser().absolute()

    @property
    def is_embedded(self) -> bool:
        """The zero-configuration default: SQLite under `home`."""
        return self.database_url is None

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.home / 'mlledger.db').as_posix()}"

    @property
    def artifact_root(self) -> str:
        return self.artifacts.root or str(self.home / "artifacts")

    @property
    def anonymous_allowed(self) -> bool:
        """Anonymous access only on a loopback-bound server in `auto` mode (DESIGN.md)."""
        return self.auth == "auto" and is_loopback(self.server.host)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
