"""`mlledger impact DATASET`: every model version downstream of a dataset, with its gate
status and pushes — "which models does this broken upstream table feed?"."""

from __future__ import annotations

import json

import click

from ..errors import ApiError, Unavailable
from ._shared import client_for, connection_options, fail, table


@click.command()
@connection_options
@click.argument("dataset")
@click.argument("name", required=False)
def impact(url, token, project, as_json, dataset, name) -> None:  # type: ignore[no-untyped-def]
    """DATASET is an artifact id, an artifact name (`file:///data/orders.parquet`), or
    OpenLineage's NAMESPACE followed by NAME (`postgres://db:5432 shop.public.orders`)."""
    with client_for(url, token, project) as client:
        try:
            if name is not None:
                params = {"namespace": dataset, "name": name}
            elif dataset.isdigit():
                params = {"artifact_id": dataset}
            else:
                found = client.transport.call(
                    "GET", "/api/v1/artifacts", params={"name": dataset, "limit": 1}
                )["items"]
                if not found:
                    raise click.ClickException(f"no artifact is named {dataset!r}")
                params = {"artifact_id": str(found[0]["id"])}
            answer = client.transport.call("GET", "/api/v1/lineage/impact", params=params)
        except (ApiError, Unavailable) as exc:
            fail(exc)
    if as_json:
        click.echo(json.dumps(answer, indent=2))
        return
    shown = answer["dataset"]
    click.echo(f"{shown['name']} (versions {', '.join(map(str, answer['versions_walked']))})")
    rows = [
        [
            m["model"],
            m["version"],
            ",".join(m["aliases"]) or "-",
            m["status"] or "-",
            "yes" if m["gated"] else "no",
            m["pushes"][0]["outcome"] if m["pushes"] else "-",
        ]
        for m in answer["models"]
    ]
    if rows:
        table(rows, ["model", "version", "aliases", "status", "gated", "last push"])
    else:
        click.echo("no model version is downstream")
    for a in answer["unregistered_models"]:
        click.echo(f"unregistered model artifact {a['name']} v{a['version']} (id {a['id']})")
    if answer["truncated"]:
        click.echo("the walk was cut at its node limit: there may be more", err=True)
