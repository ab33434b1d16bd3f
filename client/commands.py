"""Client CLI commands: `mlledger runs`, `mlledger models`, `mlledger features get`,
`mlledger gate`, `mlledger push`, `mlledger sync` (HTTP only)."""

from __future__ import annotations

import json
import math
import sys
from datetime import UTC
from pathlib import Path
from typing import Any
from urllib.parse import quote

import click

from . import gates
from .client import Client, ClientSettings
from .client import sync as replay
from .errors import ApiError, GateBlocked, Unavailable


def _client(url: str | None, token: str | None, project: str | None) -> Client:
    return Client(url, token, project=project, retries=1, exit_timeout=0)


def _connection(f: Any) -> Any:
    f = click.option("--project", envvar="MLLEDGER_PROJECT", help="Project (local use).")(f)
    f = click.option("--token", envvar="MLLEDGER_TOKEN", help="Bearer token.")(f)
    f = click.option("--url", envvar="MLLEDGER_URL", help="Server URL.")(f)
    return click.option("--json", "as_json", is_flag=True, help="Print JSON.")(f)


def _fail(exc: Exception) -> None:
    raise click.ClickException(str(exc))


def _value(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.6g}" if math.isfinite(v) else str(v)
    return str(v)


def _table(rows: list[list[Any]], headers: list[str]) -> None:
    cells = [headers, *[[_value(c) for c in r] for r in rows]]
    widths = [max(len(str(r[i])) for r in cells) for i in range(len(headers))]
    for r in cells:
        click.echo("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())


@click.group()
def runs() -> None:
    """List, search and show runs."""


@runs.command("list")
@_connection
@click.option("--experiment", "-e", multiple=True, help="Only these experiments.")
@click.option(
    "--filter", "-f", "filter_", help="""e.g. 'metrics.auc > 0.9 and params.lr = "0.1"'"""
)
@click.option("--order-by", "-o", help="e.g. 'metrics.auc desc'")
@click.option("--limit", "-n", default=50, show_default=True)
def runs_list(url, token, project, as_json, experiment, filter_, order_by, limit) -> None:  # type: ignore[no-untyped-def]
    """Runs, newest first (or in --order-by order)."""
    with _client(url, token, project) as client:
        try:
            found = client.search_runs(
                filter_, experiments=list(experiment), order_by=order_by, limit=limit
            )
        except (ApiError, Unavailable) as exc:
            _fail(exc)
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    keys = sorted({m["key"] for r in found for m in r["metrics"]})[:6]
    rows = []
    for r in found:
        latest = {m["key"]: m["value"] for m in r["metrics"]}
        rows.append(
            [r["uuid"], r["experiment"], r["name"], r["state"], *[latest.get(k, "") for k in keys]]
        )
    _table(rows, ["RUN", "EXPERIMENT", "NAME", "STATE", *keys])


@runs.command("show")
@_connection
@click.argument("run")
def runs_show(url, token, project, as_json, run) -> None:  # type: ignore[no-untyped-def]
    """One run: params, tags, latest metrics, environment."""
    with _client(url, token, project) as client:
        try:
            found = client.get_run(run)
        except (ApiError, Unavailable) as exc:
            _fail(exc)
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    click.echo(f"run         {found['uuid']}  (execution {found['id']})")
    click.echo(f"experiment  {found['experiment']}")
    click.echo(f"name        {found['name']}")
    click.echo(f"state       {found['state']}")
    click.echo(f"started     {found['started_at']}")
    click.echo(f"ended       {found['ended_at'] or '-'}")
    click.echo(f"code        {found['code_version'] or '-'}")
    for title, mapping in (("params", found["params"]), ("tags", found["tags"])):
        if mapping:
            click.echo(f"{title}:")
            for k, v in sorted(mapping.items()):
                click.echo(f"  {k} = {v}")
    if found["metrics"]:
        click.echo("metrics (latest):")
        _table(
            [["  " + m["key"], m["value"], m["step"]] for m in found["metrics"]],
            ["  KEY", "VALUE", "STEP"],
        )


@click.group()
def models() -> None:
    """The model registry."""


@models.command("list")
@_connection
@click.option("--name-like", help="SQL LIKE pattern, any case.")
def models_list(url, token, project, as_json, name_like) -> None:  # type: ignore[no-untyped-def]
    with _client(url, token, project) as client:
        try:
            params = {"name_like": name_like} if name_like else None
            page = client.transport.call("GET", "/api/v1/models", params=params)
        except (ApiError, Unavailable) as exc:
            _fail(exc)
    if as_json:
        click.echo(json.dumps(page["items"], indent=2))
        return
    _table(
        [
            [
                m["name"],
                m["latest_version"],
                ", ".join(f"{a}→v{v}" for a, v in m["aliases"].items()),
            ]
            for m in page["items"]
        ],
        ["MODEL", "LATEST", "ALIASES"],
    )


@models.command("show")
@_connection
@click.argument("name")
def models_show(url, token, project, as_json, name) -> None:  # type: ignore[no-untyped-def]
    """A model with its versions, their runs, metrics and aliases."""
    with _client(url, token, project) as client:
        try:
            model = client.get_model(name)
            versions = client.transport.call("GET", f"/api/v1/models/{name}/versions")["items"]
        except (ApiError, Unavailable) as exc:
            _fail(exc)
    if as_json:
        click.echo(json.dumps({**model, "versions": versions}, indent=2))
        return
    click.echo(f"model  {model['name']}  ({model['latest_version']} versions)")
    if model["description"]:
        click.echo(model["description"])
    _table(
        [
            [
                v["version"],
                ", ".join(v["aliases"]) or "-",
                v["run_id"] or "-",
                " ".join(f"{k}={_value(x)}" for k, x in sorted(v["metrics"].items())) or "-",
                v["created_at"],
            ]
            for v in versions
        ],
        ["VERSION", "ALIASES", "RUN", "METRICS", "CREATED"],
    )


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
@_connection
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
    with _client(url, token, project) as client:
        try:
            got = client.features.get_online(
                entities, features=list(features) or None, feature_service=service
            )
        except (ApiError, Unavailable) as exc:
            _fail(exc)
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
    _table(rows, names)


@features.command("apply")
@_connection
@click.argument("repo", type=click.Path(exists=True, file_okay=False, path_type=Path))
def features_apply(url, token, project, as_json, repo: Path) -> None:  # type: ignore[no-untyped-def]
    """Register the Feast objects declared in REPO (a folder of Python files) on the server.

    The files are imported here, with Feast (which must be installed where this runs); the
    server gets their definitions, applies them declaratively (objects no longer in REPO are
    removed) and records changed views and sources in the lineage graph. Paths of file
    sources relative to REPO are sent as absolute paths: the server must see the same files
    (same host, a shared folder, or s3://) under its `features.data_roots`.
    """
    from .feast_repo import RepoError

    with _client(url, token, project) as client:
        try:
            result = client.features.apply(repo)
        except (RepoError, ApiError, Unavailable) as exc:
            _fail(exc)
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
@_connection
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
    with _client(url, token, project) as client:
        try:
            done = client.features.materialize(
                utc(start), utc(end), incremental=incremental, views=list(views) or None
            )
        except (ApiError, Unavailable) as exc:
            _fail(exc)
    if as_json:
        click.echo(json.dumps(done, indent=2))
        return
    click.echo(
        f"materialized {', '.join(done['feature_views'])} ({done['start']} to {done['end']}); "
        f"recorded as execution {done['execution_id']}"
    )


def _gate_options(f: Any) -> Any:
    """What every gate command takes: how long to wait, how to report, where the server is."""
    f = click.option("--project", envvar="MLLEDGER_PROJECT", help="Project (local use).")(f)
    f = click.option("--token", envvar="MLLEDGER_TOKEN", help="Bearer token.")(f)
    f = click.option("--url", envvar="MLLEDGER_URL", help="Server URL.")(f)
    f = click.option(
        "--junit", "junit_file", type=click.Path(dir_okay=False, path_type=Path), help="JUnit XML."
    )(f)
    f = click.option("--format", "as_format", type=click.Choice(["text", "json"]), default="text")(
        f
    )
    return click.option(
        "--timeout", default=600.0, show_default=True, help="Seconds --wait waits."
    )(f)


@click.group()
def gate() -> None:
    """CI gates. Exit code 0 passed, 1 blocked, 2 error (server unreachable, bad arguments,
    no verdict in time)."""


def _thresholds(default: float | None, per_feature: tuple[str, ...]) -> dict[str, Any] | None:
    features = {}
    for item in per_feature:
        name, sep, bound = item.rpartition("=")
        try:
            features[name] = float(bound)
        except ValueError:
            sep = ""
        if not sep or not name:
            raise click.BadParameter(f"{item!r} is not FEATURE=BOUND")
    if default is None and not features:
        return None
    return (
        {"default": default, "features": features}
        if default is not None
        else {"features": features}
    )


@gate.command("data")
@click.option("--dataset", required=True, help="NAME (latest version), NAME:VERSION or an id.")
@click.option("--wait", is_flag=True, help="Wait for a pending validation.")
@click.option(
    "--drift",
    type=click.FloatRange(0, 1, min_open=True),
    help="Drift bound for every feature (vs the previous version).",
)
@click.option(
    "--drift-feature",
    multiple=True,
    metavar="FEATURE=BOUND",
    help="A feature's own drift bound; repeatable.",
)
@click.option(
    "--skew",
    type=click.FloatRange(0, 1, min_open=True),
    help="Skew bound for every feature (vs --serving-dataset).",
)
@click.option(
    "--skew-feature",
    multiple=True,
    metavar="FEATURE=BOUND",
    help="A feature's own skew bound; repeatable.",
)
@click.option(
    "--serving-dataset", help="Serving data to measure skew against (NAME[:VERSION] or id)."
)
@click.option(
    "--environment", type=click.Choice(["TRAINING", "SERVING"]), help="Schema environment."
)
@click.option("--profile", help="Runner profile of the workers (default direct).")
@_gate_options
def gate_data(  # type: ignore[no-untyped-def]
    dataset,
    wait,
    drift,
    drift_feature,
    skew,
    skew_feature,
    serving_dataset,
    environment,
    profile,
    timeout,
    as_format,
    junit_file,
    url,
    token,
    project,
) -> None:
    """Did this dataset version pass its data gate? Requests the validation if none ran yet,
    or again when the options given differ from the last validation's.

    A Markdown summary is appended to $GITHUB_STEP_SUMMARY when it is set.
    """
    serving: int | str | None = serving_dataset
    if serving_dataset and serving_dataset.isascii() and serving_dataset.isdigit():
        serving = int(serving_dataset)
    options = {
        "drift": _thresholds(drift, drift_feature),
        "skew": _thresholds(skew, skew_feature),
        "serving_dataset": serving,
        "environment": environment,
        "profile": profile,
    }
    with _client(url, token, project) as client:
        try:
            verdict = gates.data_verdict(
                client.transport, dataset, wait=wait, timeout=timeout, options=options
            )
        except Exception as exc:
            sys.exit(gates.failure(exc))
    sys.exit(gates.report(verdict, as_format=as_format, junit_file=junit_file))


@gate.command("model")
@click.option("--model", required=True, help="Registered model name.")
@click.option("--version", "version", required=True, type=click.IntRange(1), help="Version.")
@click.option("--wait", is_flag=True, help="Validate and wait for pending training data.")
@_gate_options
def gate_model(model, version, wait, timeout, as_format, junit_file, url, token, project) -> None:  # type: ignore[no-untyped-def]
    """Could this model version be pushed? Blessed against the current incumbent (every
    threshold, every slice) and every training dataset passed its data gate.

    A Markdown summary is appended to $GITHUB_STEP_SUMMARY when it is set.
    """
    with _client(url, token, project) as client:
        try:
            verdict = gates.model_verdict(
                client.transport, model, version, wait=wait, timeout=timeout
            )
        except Exception as exc:
            sys.exit(gates.failure(exc))
    sys.exit(gates.report(verdict, as_format=as_format, junit_file=junit_file))


@click.command()
@click.option("--model", required=True, help="Registered model name.")
@click.option("--version", "version", type=click.IntRange(1), help="The version to push.")
@click.option("--to", "alias", default="production", show_default=True, help="Alias to move.")
@click.option("--rollback", is_flag=True, help="Back to the version before the last push.")
@click.option("--format", "as_format", type=click.Choice(["text", "json"]), default="text")
@click.option("--url", envvar="MLLEDGER_URL", help="Server URL.")
@click.option("--token", envvar="MLLEDGER_TOKEN", help="Bearer token.")
@click.option("--project", envvar="MLLEDGER_PROJECT", help="Project (local use).")
def push(model, version, alias, rollback, as_format, url, token, project) -> None:  # type: ignore[no-untyped-def]
    """Move an alias to a version — only if the version is blessed against the current
    incumbent and every dataset it was trained on passed its data gate.

    Exit code 0 pushed (or already there), 1 refused (the reasons are printed; the refusal is
    in the push log), 2 error (server unreachable, no such model or version, bad arguments).
    """
    if (version is None) == (not rollback):
        click.echo("error: give --version V, or --rollback", err=True)
        sys.exit(gates.ERROR)
    with _client(url, token, project) as client:
        try:
            entry = client.push_model(model, version, to=alias, rollback=rollback)
        except ApiError as exc:
            if not isinstance(exc, GateBlocked):
                sys.exit(gates.failure(exc))
            details = exc.details or {}
            if as_format == "json":
                click.echo(json.dumps({"pushed": False, "error": exc.message, **details}, indent=2))
            else:
                what = "rollback of" if rollback else f"push of v{version} to"
                click.echo(f"REFUSED: {what} {model} {alias}")
                for r in details.get("reasons", []):
                    click.echo(f"  {r.get('kind')}: {r.get('message')}")
            sys.exit(gates.BLOCKED)
        except Exception as exc:
            sys.exit(gates.failure(exc))
    if as_format == "json":
        click.echo(json.dumps({"pushed": True, **entry}, indent=2))
    elif entry["outcome"] == "unchanged":
        click.echo(f"{model} {alias} is already v{entry['version']}")
    else:
        was = entry["previous_version"]
        click.echo(
            f"{'rolled back' if entry['action'] == 'rollback' else 'pushed'} {model} "
            f"{alias}: {'(none)' if was is None else f'v{was}'} -> v{entry['version']}"
        )
    sys.exit(gates.PASSED)


def _json_file(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise click.BadParameter(f"{path}: {exc}") from exc


@models.command("gate")
@click.argument("name")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_connection
def models_gate(url, token, project, as_json, name, file) -> None:  # type: ignore[no-untyped-def]
    """Set model NAME's gate from a JSON FILE (thresholds, slicing_specs, min_slice_size,
    require_training_data)."""
    with _client(url, token, project) as client:
        try:
            gate = client.set_model_gate(name, _json_file(file))
        except (ApiError, Unavailable) as exc:
            _fail(exc)
    if as_json:
        click.echo(json.dumps(gate, indent=2))
    else:
        click.echo(f"{name}: gate revision {gate['revision']}")


@models.command("evaluate")
@click.argument("name")
@click.argument("version", type=click.IntRange(1))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_connection
def models_evaluate(url, token, project, as_json, name, version, file) -> None:  # type: ignore[no-untyped-def]
    """Submit version VERSION's evaluation from a JSON FILE ({"metrics": {...}, "slices":
    [...], "dataset": "eval:3", "example_count": n}) and print the blessing.

    Exit code 0 blessed, 1 not blessed.
    """
    body = _json_file(file)
    if not isinstance(body, dict):
        raise click.BadParameter(f"{file}: expected a JSON object")
    with _client(url, token, project) as client:
        try:
            done = client.transport.call(
                "POST",
                f"/api/v1/models/{quote(name, safe='')}/versions/{version}/evaluations",
                json=body,
            )
        except (ApiError, Unavailable) as exc:
            _fail(exc)
    if as_json:
        click.echo(json.dumps(done, indent=2))
    else:
        click.echo(f"{name} v{version}: {'BLESSED' if done['blessed'] else 'NOT BLESSED'}")
        for c in done["checks"]:
            verdict = "skip" if c.get("skipped") else ("pass" if c["passed"] else "FAIL")
            click.echo(f"  {verdict:4}  {c.get('slice') or ''}: {c['message']}")
    sys.exit(0 if done["blessed"] else 1)


@click.command()
@click.option(
    "--spool-dir",
    type=click.Path(path_type=Path),
    help="Default: MLLEDGER_SPOOL_DIR or ~/.mlledger/spool.",
)
@click.option("--token", envvar="MLLEDGER_TOKEN", help="Bearer token.")
def sync(spool_dir: Path | None, token: str | None) -> None:
    """Replay writes spooled while the server was unreachable, in order.

    Exit code 0 when everything was delivered, 1 when some writes still wait (the server is
    still unreachable) or were refused (kept in *.rejected files beside the spool).
    """
    directory = spool_dir or ClientSettings.from_env().spool_dir
    result = replay(directory, token=token)
    click.echo(
        f"delivered {result['delivered']}, pending {result['pending']}, "
        f"rejected {result['rejected']} ({directory})"
    )
    if result["pending"] or result["rejected"]:
        sys.exit(1)
