"""`mlledger worker` (and, later, the gate commands that need the validator side): found
through the `mlledger.commands` entry point, so the client never imports this package."""

from __future__ import annotations

import click


@click.command()
@click.option("--url", envvar="MLLEDGER_URL", help="Server URL.")
@click.option("--token", envvar="MLLEDGER_TOKEN", help="Bearer token (write scope).")
@click.option("--project", envvar="MLLEDGER_PROJECT", help="Project (local use).")
@click.option("--once", is_flag=True, help="Stop when the queue is empty.")
@click.option(
    "--poll",
    default=0.25,
    show_default=True,
    type=click.FloatRange(0.05, 60),
    help="Seconds between looks at an empty queue (a new job waits up to this long).",
)
def worker(
    url: str | None, token: str | None, project: str | None, once: bool, poll: float
) -> None:
    """Take validation jobs from the server and run TFDV on them (validator environment).

    Several workers may run at once; each job goes to one of them, and a job whose worker
    died goes to another after its lease runs out.
    """
    try:
        import tensorflow_data_validation  # noqa: F401
    except ImportError as exc:
        raise click.ClickException(
            "the worker runs in the validator environment (TensorFlow Data Validation): "
            "scripts/bootstrap builds it in .venv-validator; run .venv-validator/bin/mlledger "
            f"worker ({exc})"
        ) from exc
    from .worker import main

    done = main(url, token, project, once=once, poll=poll)
    click.echo(f"{done} validation job(s) done")


def commands() -> list[click.Command]:
    return [worker]
