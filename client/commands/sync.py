"""`mlledger sync`: replay what the spool holds."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..client import ClientSettings
from ..client import sync as replay


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
