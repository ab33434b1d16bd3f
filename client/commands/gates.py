"""`mlledger gate data|model` and `mlledger push`: what CI asks, with exit codes."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from .. import gates
from ..errors import ApiError, GateBlocked
from ._shared import client_for


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
    with client_for(url, token, project) as client:
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
    with client_for(url, token, project) as client:
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
    with client_for(url, token, project) as client:
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
        click.echo(json.dumps({"pushed": True, **entry.raw}, indent=2))
    elif entry.outcome == "unchanged":
        click.echo(f"{model} {alias} is already v{entry.version}")
    else:
        was = entry.previous_version
        click.echo(
            f"{'rolled back' if entry.action == 'rollback' else 'pushed'} {model} "
            f"{alias}: {'(none)' if was is None else f'v{was}'} -> v{entry.version}"
        )
    sys.exit(gates.PASSED)
