"""`mlledger worker` (and, later, the gate commands that need the validator side): found
through the `mlledger.commands` entry point, so the client never imports this package."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option("--url", envvar="MLLEDGER_URL", help="Server URL.")
@click.option("--token", envvar="MLLEDGER_TOKEN", help="Bearer token (scope `worker`).")
@click.option("--project", envvar="MLLEDGER_PROJECT", help="Project (local use).")
@click.option("--once", is_flag=True, help="Stop when the queue is empty.")
@click.option(
    "--poll",
    default=0.25,
    show_default=True,
    type=click.FloatRange(0.05, 60),
    help="Seconds between looks at an empty queue (a new job waits up to this long).",
)
@click.option(
    "--data-root",
    "data_roots",
    multiple=True,
    envvar="MLLEDGER_WORKER_DATA_ROOTS",
    help="A folder or URL prefix (s3://bucket/data/) the worker may read; repeat for more. "
    "Default: the working directory. A dataset elsewhere fails its gate with the reason.",
)
@click.option(
    "--profiles",
    "profiles_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    envvar="MLLEDGER_WORKER_PROFILES",
    help="TOML file of runner profiles ([profiles.NAME] runner=..., options=[...]); "
    "`direct` (Beam's DirectRunner) is always there.",
)
def worker(
    url: str | None,
    token: str | None,
    project: str | None,
    once: bool,
    poll: float,
    data_roots: tuple[str, ...],
    profiles_file: Path | None,
) -> None:
    """Take validation jobs from the server and run TFDV on them (validator environment).

    Several workers may run at once; each job goes to one of them, and a job whose worker
    died goes to another after its lease runs out. Runners and the data a worker may read are
    its own configuration, never a job's (SECURITY.md).
    """
    from .reading import DataRoots, load_profiles

    try:
        profiles = load_profiles(profiles_file)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        import tensorflow_data_validation  # noqa: F401
    except ImportError as exc:
        raise click.ClickException(
            "the worker runs in the validator environment (TensorFlow Data Validation): "
            "scripts/bootstrap builds it in .venv-validator; run .venv-validator/bin/mlledger "
            f"worker ({exc})"
        ) from exc
    from .worker import main

    done = main(
        url,
        token,
        project,
        once=once,
        poll=poll,
        roots=DataRoots.of(list(data_roots)),
        profiles=profiles,
    )
    click.echo(f"{done} validation job(s) done")
