"""Server commands of the `mlledger` CLI: serve, db upgrade, token create.

Registered through the `mlledger.commands` entry point (see client/_cli.py). Flags override the
settings object, which is otherwise read from MLLEDGER_* variables.
"""

from __future__ import annotations

import os
import sys

import click

from .settings import Settings


def commands() -> list[click.Command]:
    return [serve, db, token]


def _engine(settings: Settings):  # type: ignore[no-untyped-def]
    from mlledger.store.database import create_db_engine

    return create_db_engine(settings.resolved_database_url)


@click.command()
@click.option("--host", help="Address to bind (default 127.0.0.1; another address needs tokens).")
@click.option("--port", type=int, help="Port (default 8080).")
@click.option("--workers", type=int, help="Worker processes (default 1).")
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Start the API, GraphQL and UI server."""
    import uvicorn

    from mlledger import migrations

    # Flags become environment variables so that worker processes build the same settings.
    for flag, value in (("HOST", host), ("PORT", port), ("WORKERS", workers)):
        if value is not None:
            os.environ[f"MLLEDGER_SERVER__{flag}"] = str(value)
    try:
        settings = Settings()
    except Exception as exc:
        raise click.ClickException(f"invalid configuration: {exc}") from exc
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
    s = settings.server
    url = f"http://{'127.0.0.1' if s.host in ('0.0.0.0', '::') else s.host}:{s.port}"
    auth = "anonymous local access" if settings.anonymous_allowed else "bearer tokens required"
    click.echo(f"mlledger {settings.resolved_database_url.split('://')[0]} database, {auth}")
    click.echo(f"mlledger serving at {url}  (API docs {url}/docs, GraphQL {url}/graphql)")
    sys.stdout.flush()
    uvicorn.run(
        "mlledger.service.app:create_app_from_env",
        factory=True,
        host=s.host,
        port=s.port,
        workers=s.workers,
        log_level="info",
        proxy_headers=False,
    )


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
    "--scope", type=click.Choice(["read", "write", "admin"]), default="write", show_default=True
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
            scope=scope,
            actor="cli",  # type: ignore[arg-type]
        )
    finally:
        database.dispose()
    click.echo(secret)
