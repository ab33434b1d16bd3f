"""Content fingerprints: the same data logged twice is one artifact version.

The one definition, used by the client and by the server (a training set it writes): a local
file is `sha256:` + the sha256 of its bytes (what `sha256sum` prints); a directory is
`sha256:` + the sha256 of its manifest, one line per file in path order, `<sha256>  <relative
path>\n` (what `sha256sum` prints for each file, so `find . -type f | sort | xargs sha256sum |
sha256sum` reproduces it from the folder). Parquet also reports schema and row count when
pyarrow is installed (`pip install 'mlledger[data]'`). Remote URIs (s3://, gs://, https://...)
are fingerprinted from size and ETag/checksum via fsspec (`meta-sha256:`), without downloading
the data.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse


@dataclass(frozen=True, slots=True)
class Fingerprint:
    uri: str
    fingerprint: str
    properties: dict[str, Any] = field(default_factory=dict)


def of(location: str | os.PathLike[str]) -> Fingerprint:
    """Fingerprint a local path or a remote URI.

    Raises:
        FileNotFoundError: a local path that does not exist.
        ImportError: a remote URI without fsspec installed.
    """
    text = os.fspath(location)
    scheme = urlparse(text).scheme
    if scheme and scheme != "file" and len(scheme) > 1:  # len>1: not a Windows drive letter
        return _remote(text)
    path = Path(urlparse(text).path if scheme == "file" else text).expanduser().resolve()
    if not path.exists():
        raise FileNotFoundError(f"{text}: no such file or directory")
    files = [path]
    if path.is_dir():  # in byte order of the relative path, as `LC_ALL=C sort` orders lines
        files = sorted(
            (p for p in path.rglob("*") if p.is_file()),
            key=lambda p: p.relative_to(path).as_posix().encode(),
        )
    size = sum(f.stat().st_size for f in files)
    if path.is_dir():
        manifest = "".join(f"{file_sha256(f)}  {f.relative_to(path).as_posix()}\n" for f in files)
        digest = hashlib.sha256(manifest.encode()).hexdigest()
    else:
        digest = file_sha256(path)
    properties: dict[str, Any] = {"size_bytes": size, "files": len(files)}
    parquet = [f for f in files if f.suffix == ".parquet"]
    if parquet:
        properties.update(_parquet(parquet))
    return Fingerprint(path.as_uri(), f"sha256:{digest}", properties)


def file_sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _parquet(files: list[Path]) -> dict[str, Any]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        return {"format": "parquet"}
    rows = 0
    schema = None
    for f in files:
        meta = pq.read_metadata(f)
        rows += meta.num_rows
        schema = schema or meta.schema.to_arrow_schema()
    assert schema is not None
    return {
        "format": "parquet",
        "num_rows": rows,
        "schema": {name: str(schema.field(name).type) for name in schema.names},
    }


def _remote(uri: str) -> Fingerprint:
    try:
        import fsspec
    except ImportError as exc:
        raise ImportError(
            f"fingerprinting {uri} needs fsspec (and its filesystem, e.g. s3fs): "
            "pip install 'mlledger[data]'"
        ) from exc
    fs, path = fsspec.core.url_to_fs(uri)
    entries = fs.find(path, detail=True) if fs.isdir(path) else {path: fs.info(path)}
    summary = []
    size = 0
    for name in sorted(entries):
        info = entries[name]
        tag = next(
            (
                str(info[k])
                for k in ("ETag", "etag", "md5Hash", "md5", "checksum", "crc32c", "mtime")
                if info.get(k)
            ),
            "",
        )
        size += int(info.get("size") or 0)
        summary.append([name, info.get("size"), tag])
    digest = hashlib.sha256(json.dumps(summary, default=str).encode()).hexdigest()
    return Fingerprint(uri, f"meta-sha256:{digest}", {"size_bytes": size, "files": len(summary)})
