"""Server commands of the `mlledger` CLI: serve, db upgrade, token create.

Registered through the `mlledger.commands` entry point (see client/_cli.py). Flags override the
settings object, which is otherwise read from MLLEDGER_* variables.
"""

from __future__ import annotations

import http.client
import os
import sys
import threading
import time
from urllib.parse import urlsplit

import click

from .settings import Settings


def _engine(settings: Settings):  # type: ignore[no-untyped-def]
    from mlledger.store.database import create_db_engine

    return create_db_engine(settings.resolved_database_url)


@click.command()
@click.option("--host", help="Address to bind (default 127.0.0.1; another address needs tokens).")
@click.option("--port", type=int, help="Port (default 8080).")
@click.option("--workers", type=int, help="Worker processes (default 1).")
@click.option("--access-log/--no-access-log", default=None, help="Log every request (default on).")
@click.option(
    "--grpc-port",
    type=int,
    help="Also serve MLMD's gRPC API (TFX, Kubeflow Pipelines) on this port (0: any free one).",
)
def serve(
    host: str | None,
    port: int | None,
    workers: int | None,
    access_log: bool | None,
    grpc_port: int | None,
) -> None:
    """Start the API, GraphQL and UI server (and MLMD's gRPC listener, with --grpc-port)."""
    import uvicorn

    from mlledger import migrations

    # Flags become environment variables so that worker processes build the same settings.
    for flag, value in (
        ("HOST", host),
        ("PORT", port),
        ("WORKERS", workers),
        ("ACCESS_LOG", None if access_log is None else str(access_log).lower()),
    ):
        if value is not None:
            os.environ[f"MLLEDGER_SERVER__{flag}"] = str(value)
    if grpc_port is not None:
        os.environ["MLLEDGER_MLMD__PORT"] = str(grpc_port)
    try:
        settings = Settings()
    except Exception as exc:
        raise click.ClickException(f"invalid configuration: {exc}") from exc
    if settings.mlmd.port is not None:
        _check_mlmd(settings)  # before the database: a settings mistake is named first
    if settings.is_embedded and not (settings.home / "mlledger.db").exists():
        # Zero configuration means zero steps: the embedded database is made at the head.
        settings.home.mkdir(parents=True, exist_ok=True)
        engine = _engine(settings)
        try:
            migrations.upgrade(engine)
        finally:
            engine.dispose()
        click.echo(
            f"mlledger created {settings.home / 'mlledger.db'} at revision {migrations.head()}"
        )
    engine = _engine(settings)
    try:
        at, head = migrations.current(engine), migrations.head()
    finally:
        engine.dispose()
    if at != head:
        raise click.ClickException(
            f"the database at {engine.url.render_as_string(hide_password=True)} is at revision "
            f"{at or 'none'}, not {head}; run `mlledger db upgrade` first"
        )
    if settings.mlmd.port is not None:
        _start_mlmd(settings)
    s = settings.server
    address = "127.0.0.1" if s.host in ("0.0.0.0", "::") else s.host
    url = f"http://{f'[{address}]' if ':' in address else address}:{s.port}"
    auth = "anonymous local access" if settings.anonymous_allowed else "bearer tokens required"
    click.echo(f"mlledger {settings.resolved_database_url.split('://')[0]} database, {auth}")
    sys.stdout.flush()
    _announce_when_answering(
        url,
        f"mlledger serving at {url}  (lineage explorer {url}/ui/, API docs {url}/docs, "
        f"GraphQL {url}/graphql)",
    )
    uvicorn.run(
        "mlledger.service.app:create_app_from_env",
        factory=True,
        host=s.host,
        port=s.port,
        workers=s.workers,
        log_level="info",
        access_log=s.access_log,
        proxy_headers=False,
    )


_LISTENERS: list[object] = []


def _check_mlmd(settings: Settings) -> None:
    """The MLMD listener's TLS settings hold together and their files can be read."""
    from .mlmd.server import ConfigurationError, credentials

    try:
        credentials(settings.mlmd)
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from exc


def _start_mlmd(settings: Settings) -> None:
    """MLMD's gRPC listener, on threads of this process (the supervisor when there are
    workers), before the HTTP server starts; it lives as long as the process does."""
    from mlledger.store.database import Database

    from .mlmd.server import ConfigurationError, build

    database = Database(_engine(settings))
    try:
        server, bound = build(database, settings.mlmd, settings.lineage.max_nodes)
    except ConfigurationError as exc:
        database.dispose()
        raise click.ClickException(str(exc)) from exc
    _LISTENERS.append(server)  # a grpc.Server stops when it is collected
    m = settings.mlmd
    secure = "mutual TLS" if m.client_ca else ("TLS" if m.tls_cert else "plaintext, loopback")
    click.echo(f"mlledger MLMD gRPC at {m.host}:{bound} (project {m.project!r}, {secure})")
    sys.stdout.flush()


def _announce_when_answering(url: str, line: str) -> threading.Thread:
    """Print `line` once the server answers `/api/v1/health` (whatever its verdict), so a
    script may wait for the URL instead of polling; the workers start behind uvicorn.run."""
    parsed = urlsplit(url)

    def wait() -> None:
        while True:
            conn = http.client.HTTPConnection(parsed.hostname or "", parsed.port, timeout=5)
            try:
                conn.request("GET", "/api/v1/health")
                conn.getresponse().read()
            except OSError:
                time.sleep(0.02)
                continue
            finally:
                conn.close()
            click.echo(line)
            sys.stdout.flush()
            return

    thread = threading.Thread(target=wait, name="mlledger-announce", daemon=True)
    thread.start()
    return thread


@click.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Migrate the metadata database to a revision (idempotent)."""
    from mlledger import migrations

    settings = Settings()
    engine = _engine(settings)
    try:
        migrations.upgrade(engine, revision)
        click.echo(f"database at revision {migrations.current(engine)}")
    finally:
        engine.dispose()


@click.group()
def token() -> None:
    """API token commands (run on the server host: they use the database directly)."""


@token.command("create")
@click.option("--project", required=True, help="Project the token is bound to (created if new).")
@click.option(
    "--scope",
    type=click.Choice(["read", "write", "admin", "worker"]),
    default="write",
    show_default=True,
)
@click.option("--name", default="cli", show_default=True, help="A label for the audit log.")
def token_create(project: str, scope: str, name: str) -> None:
    """Create a token and print it (once: only its hash is stored)."""
    from mlledger.store.database import Database

    from .auth import PROJECT_NAME
    from .domain import tokens

    if not PROJECT_NAME.match(project):
        raise click.BadParameter("1-128 letters, digits, '.', '_' or '-'", param_hint="--project")
    settings = Settings()
    database = Database(_engine(settings))
    try:
        secret, _ = tokens.create_for_project(
            database,
            project,
            name=name,
            scope=scope,  # type: ignore[arg-type]  # click.Choice holds it to the Literal
            actor="cli",  # type: ignore[arg-type]
        )
    finally:
        database.dispose()
    click.echo(secret)
