"""What every client command shares: the connection options, the client, tables."""

from __future__ import annotations

import math
from typing import Any

import click

from ..client import Client


def client_for(url: str | None, token: str | None, project: str | None) -> Client:
    return Client(url, token, project=project, retries=1, exit_timeout=0)


def connection_options(f: Any) -> Any:
    f = click.option("--project", envvar="MLLEDGER_PROJECT", help="Project (local use).")(f)
    f = click.option("--token", envvar="MLLEDGER_TOKEN", help="Bearer token.")(f)
    f = click.option("--url", envvar="MLLEDGER_URL", help="Server URL.")(f)
    return click.option("--json", "as_json", is_flag=True, help="Print JSON.")(f)


def fail(exc: Exception) -> None:
    raise click.ClickException(str(exc))


def cell(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.6g}" if math.isfinite(v) else str(v)
    return str(v)


def table(rows: list[list[Any]], headers: list[str]) -> None:
    cells = [headers, *[[cell(c) for c in r] for r in rows]]
    widths = [max(len(str(r[i])) for r in cells) for i in range(len(headers))]
    for r in cells:
        click.echo("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
