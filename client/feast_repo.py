"""A Feast repo read where it lives, for `mlledger features apply`.

A repo is Python code, and the server runs no code it is sent: so, as `feast apply` does, the
caller's own process imports the repo's files with Feast and sends what they declare as Feast's
Registry proto in JSON. Feast is the user's library here, imported only by this command (the
training-code client never needs it); paths of file sources relative to the repo are made
absolute, as Feast resolves them against the repo folder.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


class RepoError(Exception):
    """The repo cannot be read: not a folder, a file that fails to import, nothing declared."""


@contextmanager
def _importable(repo: Path) -> Iterator[None]:
    """Feast imports repo files as modules relative to the working directory, as its CLI does;
    modules of an earlier read are dropped so edited files are read again."""
    before = Path.cwd()
    path = str(repo)
    os.chdir(repo)
    sys.path.insert(0, path)
    loaded = set(sys.modules)
    try:
        yield
    finally:
        os.chdir(before)
        if path in sys.path:
            sys.path.remove(path)
        for name in set(sys.modules) - loaded:
            file = getattr(sys.modules.get(name), "__file__", None)
            if file and str(file).startswith(path):
                del sys.modules[name]


def _absolute(source: Any, repo: Path) -> None:
    options = getattr(source, "file_options", None)
    uri = getattr(options, "uri", None)
    if options is not None and uri and "://" not in uri and not Path(uri).is_absolute():
        options.uri = str((repo / uri).resolve())


def registry_of(repo: Path) -> dict[str, Any]:
    """The Feast objects `repo` declares, as the JSON of Feast's Registry proto.

    Raises:
        RepoError: with the reason, for the command to print (never a traceback).
    """
    try:
        from feast.repo_operations import parse_repo
        from google.protobuf import json_format
    except ImportError as exc:
        raise RepoError(
            "reading a Feast repo needs Feast where the command runs: `pip install feast` "
            f"(or `mlledger[server]`) ({exc})"
        ) from exc
    repo = repo.resolve()
    if not repo.is_dir():
        raise RepoError(f"{repo} is not a directory of feature definitions")
    with _importable(repo):
        try:
            contents = parse_repo(repo)
        except Exception as exc:  # the user's Python files: any error is theirs to see
            text = (str(exc).strip().splitlines() or [""])[0][:1000]
            raise RepoError(f"cannot load {repo}: {type(exc).__name__}: {text}") from exc
    if not contents.feature_views and not contents.entities:
        raise RepoError(f"{repo} declares no Feast entities or feature views")
    for source in contents.data_sources:
        _absolute(source, repo)
        _absolute(getattr(source, "batch_source", None), repo)
    for view in contents.feature_views:
        for inner in (view.batch_source, view.stream_source):
            _absolute(inner, repo)
            _absolute(getattr(inner, "batch_source", None), repo)
    registry: dict[str, Any] = json_format.MessageToDict(contents.to_registry_proto())
    # A `Project` object in the repo names a Feast project; here the project is the client's
    # (`--project` / the token's), so it is not sent.
    registry.pop("projects", None)
    return registry
