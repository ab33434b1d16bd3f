"""The `mlledger` command line.

Client commands live here and need only the base install. Server commands (`serve`, `db`,
`token`, `worker`) are contributed through the `mlledger.commands` entry-point group by
`mlledger.service.cli`, so this module never imports the server; with only the base install
they explain which extra to add.
"""

from __future__ import annotations

from importlib.metadata import entry_points

import click

from mlledger import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mlledger")
def main() -> None:
    """mlledger: ML metadata, lineage, experiment tracking, gates and features."""


def _register_client_commands() -> None:
    from .commands import features_get, gate, models, push, runs, sync

    main.add_command(gate)
    main.add_command(push)
    main.add_command(runs)
    main.add_command(models)
    main.add_command(sync)
    # `features apply|materialize` come from the server plugin; `get` needs only HTTP.
    features = main.commands.get("features")
    if not isinstance(features, click.Group):
        features = click.Group("features", help="Online feature values from the server.")
        main.add_command(features)
    features.add_command(features_get)


def _load_plugins() -> None:
    for ep in entry_points(group="mlledger.commands"):
        try:
            commands = ep.load()()
        except ImportError as exc:
            missing = exc.name or str(exc)
            _add_unavailable(ep.name, missing)
            continue
        for command in commands:
            main.add_command(command)


def _add_unavailable(group: str, missing: str) -> None:
    @main.command(
        name=f"{group}-commands",
        help=f"Server commands (serve, db, token) need `pip install 'mlledger[{group}]'`.",
    )
    def _explain() -> None:
        raise click.ClickException(
            f"the {group} commands need `pip install 'mlledger[{group}]'` (missing: {missing})"
        )


_load_plugins()
_register_client_commands()
