"""The `mlledger` command line.

Every command is an entry point of the `mlledger.commands` group (pyproject.toml), imported only
when it runs: a client command such as `mlledger gate data` (client/commands/, base install)
never pays for the server's imports (about two seconds), `mlledger serve` not for the HTTP
client's, and with only the base install a server command says which extra to add instead of
crashing.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points
from typing import Any

import click

from mlledger import __version__

PLUGIN_GROUP = "mlledger.commands"


class _Commands(click.Group):
    """The entry points' commands by name, each loaded on first use."""

    def _plugins(self) -> dict[str, EntryPoint]:
        found: dict[str, EntryPoint] | None = getattr(self, "_found", None)
        if found is None:
            found = {ep.name: ep for ep in entry_points(group=PLUGIN_GROUP)}
            self._found = found
        return found

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self._plugins()))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            return command
        ep = self._plugins().get(cmd_name)
        if ep is None:
            return None
        try:
            loaded = ep.load()
        except ImportError as exc:
            loaded = _unavailable(ep, exc.name or str(exc))
        self.add_command(loaded, cmd_name)
        return loaded  # type: ignore[no-any-return]


def _unavailable(ep: EntryPoint, missing: str) -> click.Command:
    extra = ep.extras[0] if ep.extras else "server"

    def explain(**_: Any) -> None:
        raise click.ClickException(
            f"`mlledger {ep.name}` needs `pip install 'mlledger[{extra}]'` (missing: {missing})"
        )

    return click.Command(
        ep.name,
        callback=explain,
        help=f"Needs `pip install 'mlledger[{extra}]'`.",
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    )


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mlledger")
def main() -> None:
    """mlledger: ML metadata, lineage, experiment tracking, gates and features."""
