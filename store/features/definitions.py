"""Feature definitions: a directory of Python files declaring Feast objects, applied with
Feast's own declarative apply (objects removed from the directory are removed from the
registry), and described for the lineage graph."""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from feast import FeatureStore, FeatureView
from feast.repo_contents import RepoContents
from feast.repo_operations import apply_total_with_repo_instance, parse_repo

from ..errors import InvalidArgument, MlledgerError


@contextmanager
def _importable(repo: Path) -> Iterator[None]:
    """Feast imports repo files as modules relative to the working directory, as its CLI does;
    modules of an earlier apply are dropped so edited files are read again."""
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
            module = sys.modules.get(name)
            if getattr(module, "__file__", None) and str(module.__file__).startswith(path):
                del sys.modules[name]


def load(repo: Path) -> RepoContents:
    """The Feast objects a directory declares.

    Raises:
        InvalidArgument: not a directory, a file that fails to import, or nothing declared.
    """
    repo = repo.resolve()
    if not repo.is_dir():
        raise InvalidArgument(f"{repo} is not a directory of feature definitions")
    with _importable(repo):
        try:
            contents = parse_repo(repo)
        except Exception as exc:  # a user's Python file: any error is theirs to see
            raise InvalidArgument(f"cannot load feature definitions from {repo}: {exc}") from exc
    if not contents.feature_views and not contents.entities:
        raise InvalidArgument(f"{repo} declares no Feast entities or feature views")
    return contents


def apply(store: FeatureStore, repo: Path) -> RepoContents:
    """Register the repo's definitions.

    Raises:
        InvalidArgument: the repo's code does not import, or Feast refuses its definitions
            (the message says which and why: the user's mistake, not the server's).
    """
    try:
        contents = load(repo)
        with _importable(repo.resolve()):
            apply_total_with_repo_instance(
                store, store.project, store.registry, contents, skip_source_validation=False
            )
    except MlledgerError:
        raise
    except Exception as exc:  # user code and Feast's own validation: any exception type
        text = (str(exc).strip().splitlines() or [""])[0][:1000]
        raise InvalidArgument(
            f"the feature repo {repo} could not be applied: {type(exc).__name__}: {text}",
            details={"repo": str(repo), "error": type(exc).__name__},
        ) from exc
    store.refresh_registry()
    return contents


@dataclass(frozen=True, slots=True)
class Described:
    """What the lineage graph records of a Feast object."""

    kind: str  # feature_view | dataset (a source)
    name: str
    uri: str | None
    fingerprint: str
    properties: dict[str, Any] = field(default_factory=dict)


def _digest(message: Any) -> str:
    """Hash of the definition alone: Feast stamps `meta` (created/updated times) into every
    proto it builds, so those are cleared first — the same definition hashes the same."""
    copy = type(message)()
    copy.CopyFrom(message)
    _clear_meta(copy)
    return "sha256:" + hashlib.sha256(copy.SerializeToString(deterministic=True)).hexdigest()


def _clear_meta(message: Any) -> None:
    for descriptor, value in message.ListFields():
        if descriptor.message_type is None:
            continue
        if descriptor.name == "meta":
            message.ClearField("meta")
        elif descriptor.is_repeated:
            if not descriptor.message_type.GetOptions().map_entry:
                for item in value:
                    _clear_meta(item)
        else:
            _clear_meta(value)


def source_name(source: Any) -> str:
    return f"source:{source.name}"


def describe_source(source: Any) -> Described:
    path = getattr(source, "path", None)
    uri = None
    if path:
        uri = path if "://" in path else Path(path).resolve().as_uri()
    return Described(
        kind="dataset",
        name=source_name(source),
        uri=uri,
        fingerprint=_digest(source.to_proto()),
        properties={
            "feast_source": type(source).__name__,
            "timestamp_field": getattr(source, "timestamp_field", None),
        },
    )


def describe_view(view: FeatureView) -> Described:
    spec = view.to_proto().spec
    return Described(
        kind="feature_view",
        name=view.name,
        uri=None,
        fingerprint=_digest(spec),
        properties={
            "entities": list(view.entities),
            "features": {f.name: str(f.dtype) for f in view.features},
            "ttl_seconds": int(view.ttl.total_seconds()) if view.ttl else 0,
            "online": view.online,
            "source": view.batch_source.name if view.batch_source else None,
            "tags": dict(view.tags),
        },
    )


def sources_of(view: FeatureView) -> list[Any]:
    found = []
    if view.stream_source is not None:
        found.append(view.stream_source)
    if view.batch_source is not None:
        found.append(view.batch_source)
    return found
