"""Generate MLMD's protobuf and gRPC modules for the service environment, at build time.

MLMD publishes no .proto files on PyPI, and its wheel's generated code is for protobuf 4 (the
service runs protobuf 6). The wheel does carry each .proto's descriptor (the serialized
FileDescriptorProto its `_pb2` module registers): this reads those descriptors out of the
wheel pinned by hash in requirements/mlmd.lock — without importing anything from it — and
has grpcio-tools' protoc generate fresh modules from them, under mlledger's own module path
(`mlledger.service.mlmd.proto`). Message and service names stay MLMD's (`ml_metadata.*`), so
the wire is MLMD's exactly.

    .venv/bin/python scripts/mlmd_protos.py   # scripts/bootstrap runs it when stale
"""

from __future__ import annotations

import ast
import hashlib
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from importlib.metadata import version as tools_version
from pathlib import Path

from google.protobuf import any_pb2, descriptor_pb2, field_mask_pb2, struct_pb2

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements" / "mlmd.lock"
OUT = ROOT / "service" / "mlmd" / "proto"
CACHE = ROOT / ".venv" / "mlmd-wheel"
SOURCES = [
    "ml_metadata/proto/metadata_store.proto",
    "ml_metadata/proto/metadata_store_service.proto",
]
OURS = "mlledger/service/mlmd/proto/"
WELL_KNOWN = [any_pb2, struct_pb2, descriptor_pb2, field_mask_pb2]


def pinned() -> tuple[str, set[str]]:
    """ml-metadata's version and its wheels' sha256 hashes, from the lock."""
    text = LOCK.read_text()
    found = re.search(r"^ml-metadata==(\S+)((?:\s*\\\s*--hash=sha256:[0-9a-f]+)+)", text, re.M)
    if found is None:
        raise SystemExit(f"{LOCK} pins no ml-metadata")
    return found[1], set(re.findall(r"sha256:([0-9a-f]{64})", found[2]))


def wheel(version: str, hashes: set[str]) -> Path:
    """The pinned wheel, downloaded once and checked against the lock's hashes."""
    CACHE.mkdir(parents=True, exist_ok=True)
    for have in CACHE.glob(f"ml_metadata-{version}-*.whl"):
        if hashlib.sha256(have.read_bytes()).hexdigest() in hashes:
            return have
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check",
         "--no-deps", "--only-binary", ":all:", "--python-version", "3.11",
         "--platform", "manylinux2014_x86_64", "-d", str(CACHE), f"ml-metadata=={version}"],
        check=True,
    )  # fmt: skip
    for have in CACHE.glob(f"ml_metadata-{version}-*.whl"):
        if hashlib.sha256(have.read_bytes()).hexdigest() in hashes:
            return have
    raise SystemExit(f"no ml-metadata {version} wheel matching {LOCK}'s hashes")


def descriptor(source: str) -> descriptor_pb2.FileDescriptorProto:
    """The FileDescriptorProto a generated module registers (`AddSerializedFile(b'...')`)."""
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "AddSerializedFile"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, bytes)
        ):
            return descriptor_pb2.FileDescriptorProto.FromString(node.args[0].value)
    raise SystemExit("no serialized descriptor in a generated module of the wheel")


def ours(name: str) -> str:
    return OURS + name.rsplit("/", 1)[1] if name in SOURCES else name


def generate(path: Path) -> None:
    files = descriptor_pb2.FileDescriptorSet()
    for module in WELL_KNOWN:
        module.DESCRIPTOR.CopyToProto(files.file.add())
    with zipfile.ZipFile(path) as archive:
        for name in SOURCES:
            module = name.replace(".proto", "_pb2.py")
            proto = descriptor(archive.read(module).decode())
            assert proto.name == name, (proto.name, name)
            proto.name = ours(proto.name)
            deps = [ours(d) for d in proto.dependency]
            del proto.dependency[:]
            proto.dependency.extend(deps)
            files.file.append(proto)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "set.pb").write_bytes(files.SerializeToString())
        subprocess.run(
            [sys.executable, "-m", "grpc_tools.protoc", f"--descriptor_set_in={work / 'set.pb'}",
             f"--python_out={work}", f"--pyi_out={work}", f"--grpc_python_out={work}",
             *(ours(s) for s in SOURCES)],
            check=True,
        )  # fmt: skip
        OUT.mkdir(parents=True, exist_ok=True)
        for made in (work / OURS).iterdir():
            shutil.copy(made, OUT / made.name)


def main() -> None:
    version, hashes = pinned()
    stamp = OUT / ".source"
    want = (
        f"ml-metadata {version} {sorted(hashes)[0]} grpcio-tools {tools_version('grpcio-tools')}\n"
    )
    if stamp.exists() and stamp.read_text() == want:
        return
    generate(wheel(version, hashes))
    (OUT / "__init__.py").write_text(
        '"""MLMD messages and service: made by scripts/mlmd_protos.py, not kept in git."""\n'
    )
    stamp.write_text(want)


if __name__ == "__main__":
    main()
