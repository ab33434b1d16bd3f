"""Dataset fingerprints: same content, same fingerprint; Parquet metadata; remote URIs by ETag."""

from __future__ import annotations

import subprocess
from pathlib import Path

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mlledger.client import fingerprint


def test_same_bytes_same_fingerprint_wherever_they_are(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "x.csv").write_text("1,2\n")
    (tmp_path / "b" / "x.csv").write_text("1,2\n")
    a = fingerprint.of(tmp_path / "a" / "x.csv")
    assert a.fingerprint == fingerprint.of(str(tmp_path / "b" / "x.csv")).fingerprint
    assert a.uri == (tmp_path / "a" / "x.csv").resolve().as_uri()
    assert fingerprint.of(a.uri).fingerprint == a.fingerprint  # file:// URIs too
    (tmp_path / "b" / "x.csv").write_text("1,3\n")
    assert fingerprint.of(tmp_path / "b" / "x.csv").fingerprint != a.fingerprint


def test_the_definition_is_sha256sums(tmp_path: Path) -> None:
    """What the README says, checked with the coreutils tool: a file is its sha256; a folder
    is the sha256 of `sha256sum`'s lines for its files, in path order."""
    d = tmp_path / "data"
    (d / "part").mkdir(parents=True)
    (d / "b.csv").write_bytes(b"b")
    (d / "part" / "a.csv").write_bytes(b"a")
    (d / "part-2").mkdir()  # '-' sorts before '/': byte order of paths, not of parts
    (d / "part-2" / "c.csv").write_bytes(b"c")
    one = subprocess.run(["sha256sum", "b.csv"], cwd=d, capture_output=True, text=True)
    assert fingerprint.of(d / "b.csv").fingerprint == "sha256:" + one.stdout.split()[0]
    listing = subprocess.run(
        "find . -type f | sed 's|^./||' | LC_ALL=C sort | xargs sha256sum | sha256sum",
        shell=True,
        cwd=d,
        capture_output=True,
        text=True,
    )
    assert fingerprint.of(d).fingerprint == "sha256:" + listing.stdout.split()[0]


def test_directories_hash_names_and_bytes(tmp_path: Path) -> None:
    d = tmp_path / "model"
    d.mkdir()
    (d / "w.bin").write_bytes(b"w")
    first = fingerprint.of(d)
    assert first.properties == {"size_bytes": 1, "files": 1}
    (d / "w.bin").rename(d / "v.bin")
    assert fingerprint.of(d).fingerprint != first.fingerprint


def test_parquet_schema_and_rows(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"id": [1, 2, 3], "name": ["a", "b", "c"]}), path)
    fp = fingerprint.of(path)
    assert fp.properties["num_rows"] == 3
    assert fp.properties["schema"] == {"id": "int64", "name": "string"}
    assert fp.properties["format"] == "parquet"


def test_remote_uris_use_fsspec_metadata_without_reading_the_data() -> None:
    fs = fsspec.filesystem("memory")
    fs.pipe("/bucket/data/part-0.parquet", b"x" * 10)
    fs.pipe("/bucket/data/part-1.parquet", b"y" * 20)
    first = fingerprint.of("memory://bucket/data")
    assert first.fingerprint.startswith("meta-sha256:")
    assert first.properties == {"size_bytes": 30, "files": 2}
    assert fingerprint.of("memory://bucket/data").fingerprint == first.fingerprint
    fs.pipe("/bucket/data/part-1.parquet", b"y" * 21)
    assert fingerprint.of("memory://bucket/data").fingerprint != first.fingerprint


def test_missing_paths_raise() -> None:
    with pytest.raises(FileNotFoundError):
        fingerprint.of("/no/such/file.parquet")
