"""`mlledger runs` and `mlledger models` (list, show; a model's gate and evaluations)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import click

from ..errors import ApiError, Unavailable
from ._shared import cell, client_for, connection_options, fail, table


@click.group()
def runs() -> None:
    """List, search and show runs."""


@runs.command("list")
@connection_options
@click.option("--experiment", "-e", multiple=True, help="Only these experiments.")
@click.option(
    "--filter", "-f", "filter_", help="""e.g. 'metrics.auc > 0.9 and params.lr = "0.1"'"""
)
@click.option("--order-by", "-o", help="e.g. 'metrics.auc desc'")
@click.option("--limit", "-n", default=50, show_default=True)
def runs_list(url, token, project, as_json, experiment, filter_, order_by, limit) -> None:  # type: ignore[no-untyped-def]
    """Runs, newest first (or in --order-by order)."""
    with client_for(url, token, project) as client:
        try:
            found = client.search_runs(
                filter_, experiments=list(experiment), order_by=order_by, limit=limit
            )
        except (ApiError, Unavailable) as exc:
            fail(exc)
    if as_json:
        click.echo(json.dumps([r.raw for r in found], indent=2))
        return
    keys = sorted({m.key for r in found for m in r.metrics})[:6]
    rows = []
    for r in found:
        latest = {m.key: m.value for m in r.metrics}
        rows.append([r.uuid, r.experiment, r.name, r.state, *[latest.get(k, "") for k in keys]])
    table(rows, ["RUN", "EXPERIMENT", "NAME", "STATE", *keys])


@runs.command("show")
@connection_options
@click.argument("run")
def runs_show(url, token, project, as_json, run) -> None:  # type: ignore[no-untyped-def]
    """One run: params, tags, latest metrics, environment."""
    with client_for(url, token, project) as client:
        try:
            found = client.get_run(run)
        except (ApiError, Unavailable) as exc:
            fail(exc)
    if as_json:
        click.echo(json.dumps(found.raw, indent=2))
        return
    ended = found.ended_at.isoformat() if found.ended_at else "-"
    click.echo(f"run         {found.uuid}  (execution {found.id})")
    click.echo(f"experiment  {found.experiment}")
    click.echo(f"name        {found.name}")
    click.echo(f"state       {found.state}")
    click.echo(f"started     {found.started_at.isoformat()}")
    click.echo(f"ended       {ended}")
    click.echo(f"code        {found.code_version or '-'}")
    for title, mapping in (("params", found.params), ("tags", found.tags)):
        if mapping:
            click.echo(f"{title}:")
            for k, v in sorted(mapping.items()):
                click.echo(f"  {k} = {v}")
    if found.metrics:
        click.echo("metrics (latest):")
        table(
            [["  " + m.key, m.value, m.step] for m in found.metrics],
            ["  KEY", "VALUE", "STEP"],
        )


@click.group()
def models() -> None:
    """The model registry."""


@models.command("list")
@connection_options
@click.option("--name-like", help="SQL LIKE pattern, any case.")
def models_list(url, token, project, as_json, name_like) -> None:  # type: ignore[no-untyped-def]
    with client_for(url, token, project) as client:
        try:
            params = {"name_like": name_like} if name_like else None
            page = client.transport.call("GET", "/api/v1/models", params=params)
        except (ApiError, Unavailable) as exc:
            fail(exc)
    if as_json:
        click.echo(json.dumps(page["items"], indent=2))
        return
    table(
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
@connection_options
@click.argument("name")
def models_show(url, token, project, as_json, name) -> None:  # type: ignore[no-untyped-def]
    """A model with its versions, their runs, metrics and aliases."""
    with client_for(url, token, project) as client:
        try:
            model = client.get_model(name)
            versions = client.transport.call("GET", f"/api/v1/models/{name}/versions")["items"]
        except (ApiError, Unavailable) as exc:
            fail(exc)
    if as_json:
        click.echo(json.dumps({**model.raw, "versions": versions}, indent=2))
        return
    click.echo(f"model  {model.name}  ({model.latest_version} versions)")
    if model.description:
        click.echo(model.description)
    table(
        [
            [
                v["version"],
                ", ".join(v["aliases"]) or "-",
                v["run_id"] or "-",
                " ".join(f"{k}={cell(x)}" for k, x in sorted(v["metrics"].items())) or "-",
                v["created_at"],
            ]
            for v in versions
        ],
        ["VERSION", "ALIASES", "RUN", "METRICS", "CREATED"],
    )


def _json_file(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise click.BadParameter(f"{path}: {exc}") from exc


@models.command("gate")
@click.argument("name")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@connection_options
def models_gate(url, token, project, as_json, name, file) -> None:  # type: ignore[no-untyped-def]
    """Set model NAME's gate from a JSON FILE (thresholds, slicing_specs, min_slice_size,
    require_training_data)."""
    with client_for(url, token, project) as client:
        try:
            gate = client.set_model_gate(name, _json_file(file))
        except (ApiError, Unavailable) as exc:
            fail(exc)
    if as_json:
        click.echo(json.dumps(gate.raw, indent=2))
    else:
        click.echo(f"{name}: gate revision {gate.revision}")


@models.command("evaluate")
@click.argument("name")
@click.argument("version", type=click.IntRange(1))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@connection_options
def models_evaluate(url, token, project, as_json, name, version, file) -> None:  # type: ignore[no-untyped-def]
    """Submit version VERSION's evaluation from a JSON FILE ({"metrics": {...}, "slices":
    [...], "dataset": "eval:3", "example_count": n}) and print the blessing.

    Exit code 0 blessed, 1 not blessed.
    """
    body = _json_file(file)
    if not isinstance(body, dict):
        raise click.BadParameter(f"{file}: expected a JSON object")
    with client_for(url, token, project) as client:
        try:
            done = client.transport.call(
                "POST",
                f"/api/v1/models/{quote(name, safe='')}/versions/{version}/evaluations",
                json=body,
            )
        except (ApiError, Unavailable) as exc:
            fail(exc)
    if as_json:
        click.echo(json.dumps(done, indent=2))
    else:
        click.echo(f"{name} v{version}: {'BLESSED' if done['blessed'] else 'NOT BLESSED'}")
        for c in done["checks"]:
            verdict = "skip" if c.get("skipped") else ("pass" if c["passed"] else "FAIL")
            click.echo(f"  {verdict:4}  {c.get('slice') or ''}: {c['message']}")
    sys.exit(0 if done["blessed"] else 1)


@models.command("download")
@click.argument("name")
@click.argument("target", type=click.Path(file_okay=False, path_type=Path))
@click.option("--alias", "-a", help="The version an alias points at, e.g. production.")
@click.option("--version", "-v", "version", type=click.IntRange(1), help="A version number.")
@connection_options
def models_download(url, token, project, as_json, name, target, alias, version) -> None:  # type: ignore[no-untyped-def]
    """Fetch model NAME's files (by --alias or --version) from the server's artifact store into
    TARGET, checking each file's sha256. The version must have been logged with upload."""
    if (alias is None) == (version is None):
        raise click.UsageError("give exactly one of --alias and --version")
    with client_for(url, token, project) as client:
        try:
            folder = client.download_model(name, target, alias=alias, version=version)
        except (ApiError, Unavailable) as exc:
            fail(exc)
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    if as_json:
        click.echo(json.dumps({"model": name, "folder": str(folder), "files": len(files)}))
    else:
        which = f"@{alias}" if alias else f"v{version}"
        click.echo(f"{name}{which}: {len(files)} files in {folder}")
