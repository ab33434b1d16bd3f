"""`mlledger features`: apply a Feast repo, materialize, read online values — over HTTP."""

from __future__ import annotations

import json
from datetime import UTC
from pathlib import Path

import click

from ..errors import ApiError, Unavailable
from ._shared import client_for, connection_options, fail, table


def _entity_option(
    _ctx: click.Context, _param: click.Parameter, given: tuple[str, ...]
) -> dict[str, list[int | str]]:
    entities: dict[str, list[int | str]] = {}
    for item in given:
        key, sep, values = item.partition("=")
        if not sep or not key or not values:
            raise click.BadParameter(f"{item!r} is not JOIN_KEY=VALUE[,VALUE...]")
        entities.setdefault(key, []).extend(
            int(v) if v.lstrip("-").isdigit() else v for v in values.split(",")
        )
    if not entities:
        raise click.BadParameter("give at least one --entity JOIN_KEY=VALUE[,VALUE...]")
    return entities


@click.group()
def features() -> None:
    """Feature definitions (Feast), materialization and online reads, over HTTP."""


@features.command("get")
@connection_options
@click.option(
    "--entity",
    "-e",
    "entities",
    multiple=True,
    callback=_entity_option,
    help="JOIN_KEY=VALUE[,VALUE...]; digits are integers. Repeat for composite keys.",
)
@click.option("--feature", "-f", "features", multiple=True, help="view:feature; repeatable.")
@click.option("--service", "-s", help="A feature service instead of --feature.")
def features_get(url, token, project, as_json, entities, features, service) -> None:  # type: ignore[no-untyped-def]
    """Online feature values, one line per entity — what a model server would be served.

    A value older than its view's TTL shows as `(outside max age)`, a missing one as
    `(not found)`.
    """
    if bool(features) == bool(service):
        raise click.UsageError("give --feature (one or more) or --service")
    with client_for(url, token, project) as client:
        try:
            got = client.features.get_online(
                entities, features=list(features) or None, feature_service=service
            )
        except (ApiError, Unavailable) as exc:
            fail(exc)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "values": got.values,
                    "statuses": got.statuses,
                    "event_timestamps": got.event_timestamps,
                },
                indent=2,
            )
        )
        return
    shown = {"NOT_FOUND": "(not found)", "OUTSIDE_MAX_AGE": "(outside max age)"}
    names = list(got.values)
    rows = [
        [shown.get(got.statuses[name][i], got.values[name][i]) for name in names]
        for i in range(len(got.values[names[0]]))
    ]
    table(rows, names)


@features.command("apply")
@connection_options
@click.argument("repo", type=click.Path(exists=True, file_okay=False, path_type=Path))
def features_apply(url, token, project, as_json, repo: Path) -> None:  # type: ignore[no-untyped-def]
    """Register the Feast objects declared in REPO (a folder of Python files) on the server.

    The files are imported here, with Feast (which must be installed where this runs); the
    server gets their definitions, applies them declaratively (objects no longer in REPO are
    removed) and records changed views and sources in the lineage graph. Paths of file
    sources relative to REPO are sent as absolute paths: the server must see the same files
    (same host, a shared folder, or s3://) under its `features.data_roots`.
    """
    from ..feast_repo import RepoError

    with client_for(url, token, project) as client:
        try:
            result = client.features.apply(repo)
        except (RepoError, ApiError, Unavailable) as exc:
            fail(exc)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    click.echo(
        f"applied to project {result['project']}: views {', '.join(result['feature_views'])}; "
        + (
            f"lineage recorded (execution {result['execution_id']})"
            if result["execution_id"]
            else "definitions unchanged"
        )
    )


@features.command("materialize")
@connection_options
@click.option("--start", type=click.DateTime(), help="Start of the window (UTC).")
@click.option("--end", type=click.DateTime(), help="End of the window (UTC); default now.")
@click.option(
    "--incremental", is_flag=True, help="From where the last materialization stopped to --end."
)
@click.option("--view", "views", multiple=True, help="Only these feature views.")
def features_materialize(url, token, project, as_json, start, end, incremental, views) -> None:  # type: ignore[no-untyped-def]
    """Load feature values into the online store (Redis, or SQLite in the embedded default)."""
    if incremental == (start is not None):
        raise click.UsageError("give either --start (with --end) or --incremental")
    utc = lambda d: d.replace(tzinfo=UTC) if d and d.tzinfo is None else d  # noqa: E731
    with client_for(url, token, project) as client:
        try:
            done = client.features.materialize(
                utc(start), utc(end), incremental=incremental, views=list(views) or None
            )
        except (ApiError, Unavailable) as exc:
            fail(exc)
    if as_json:
        click.echo(json.dumps(done, indent=2))
        return
    click.echo(
        f"materialized {', '.join(done['feature_views'])} ({done['start']} to {done['end']}); "
        f"recorded as execution {done['execution_id']}"
    )
