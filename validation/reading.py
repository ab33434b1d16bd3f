"""What a validation worker may read, and how its runners are configured.

Both are the worker's own configuration, never part of a job: a job names a dataset URI and a
runner profile, and the worker decides whether it may read that URI and what the profile
means. So a caller who can queue jobs cannot make a worker read `/etc/shadow` or import an
arbitrary Beam runner (SECURITY.md). Light on purpose: no TensorFlow here, so the checks run
(and are tested) before any heavy import.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

DIRECT = "direct"


class DataError(Exception):
    """The data cannot be validated at all (missing, empty, corrupt, or not the worker's to
    read): the gate's error, with this message as its reason."""


@dataclass(frozen=True)
class Profile:
    """A named runner: the Beam runner and its pipeline options, set by the operator."""

    name: str
    runner: str = "DirectRunner"
    options: tuple[str, ...] = ()


def load_profiles(path: Path | None) -> dict[str, Profile]:
    """`direct` (Beam's DirectRunner) plus the profiles of a TOML file:

    [profiles.flink]
    runner = "FlinkRunner"
    options = ["--flink_master=flink:8081", "--environment_type=LOOPBACK"]
    """
    profiles = {DIRECT: Profile(DIRECT)}
    if path is None:
        return profiles
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"cannot read the profiles file {path}: {exc}") from exc
    for name, spec in (data.get("profiles") or {}).items():
        if not isinstance(spec, dict):
            raise ValueError(f"profile {name!r} in {path} is not a table")
        runner = spec.get("runner", "DirectRunner")
        options = spec.get("options", [])
        if not isinstance(runner, str) or not (
            isinstance(options, list) and all(isinstance(o, str) for o in options)
        ):
            raise ValueError(f"profile {name!r}: runner is a string, options a list of strings")
        unknown = set(spec) - {"runner", "options"}
        if unknown:
            raise ValueError(f"profile {name!r}: unknown keys {sorted(unknown)}")
        profiles[name] = Profile(name, runner, tuple(options))
    return profiles


@dataclass(frozen=True)
class DataRoots:
    """The folders and URL prefixes a process may read (default: its working directory): the
    validation worker's datasets, and the server's feature sources (`features.data_roots`).

    A local path is resolved (symlinks and `..` included) before it is compared, and every
    file of a directory dataset is checked too, so a link inside a root cannot lead out of it.
    A remote URL (`s3://bucket/prefix/`) must start with a configured remote root and hold
    no `..` segment.
    """

    local: tuple[str, ...]
    remote: tuple[str, ...] = field(default=())
    owner: str = "this worker"  # who refuses, and how its roots are set: for the message
    setting: str = "`mlledger worker --data-root`"

    @classmethod
    def of(
        cls,
        roots: list[str] | tuple[str, ...],
        *,
        owner: str = "this worker",
        setting: str = "`mlledger worker --data-root`",
    ) -> DataRoots:
        local: list[str] = []
        remote: list[str] = []
        for root in roots or [os.getcwd()]:
            parts = urlsplit(root)
            if parts.scheme in ("", "file"):
                path = unquote(parts.path) if parts.scheme == "file" else root
                local.append(os.path.realpath(path))
            else:
                remote.append(root if root.endswith("/") else root + "/")
        return cls(tuple(local), tuple(remote), owner, setting)

    def describe(self) -> str:
        return ", ".join([*self.local, *self.remote]) or "nothing"

    def resolve(self, uri: str) -> str:
        """The path or URL to read for `uri`.

        Raises:
            DataError: the URI is outside every root, or of a scheme no root allows.
        """
        parts = urlsplit(uri)
        if parts.scheme in ("", "file"):
            if parts.scheme == "file" and parts.netloc not in ("", "localhost"):
                raise self._refused(uri, "a file URI on another host")
            if parts.query or parts.fragment:
                raise self._refused(uri, "a file URI with a query or fragment")
            path = unquote(parts.path) if parts.scheme == "file" else uri
            if "\x00" in path:
                raise self._refused(uri, "a NUL character in the path")
            real = os.path.realpath(path)
            if not self._inside(real):
                raise self._refused(uri, "outside the data roots")
            if os.path.isdir(real):
                for folder, _, files in os.walk(real):
                    for name in files:
                        if not self._inside(os.path.realpath(os.path.join(folder, name))):
                            raise self._refused(uri, f"{name} links outside the data roots")
            return real
        if ".." in parts.path.split("/") or parts.query or parts.fragment:
            raise self._refused(uri, "a remote URI with '..', a query or a fragment")
        if not any(uri.startswith(root) for root in self.remote):
            raise self._refused(uri, f"no data root allows {parts.scheme}:// here")
        return uri

    def _inside(self, real: str) -> bool:
        return any(
            real == root or real.startswith(root.rstrip(os.sep) + os.sep) for root in self.local
        )

    def _refused(self, uri: str, why: str) -> DataError:
        return DataError(
            f"{self.owner} may not read {uri!r} ({why}); it reads only under "
            f"{self.describe()} ({self.setting})"
        )
