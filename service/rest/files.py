"""The artifact store over mlledger's API: upload and download files by path, and a model
version's files by number or alias — what `mlledger models download` and model servers fetch."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from mlledger.store.errors import NotFound
from mlledger.store.files.paths import StoredFile

from ..deps import DB, Caller
from ..domain import files
from ..uploads import file_response, objects_of, spool_body
from .models import AliasPath, ModelPath, VersionPath
from .schemas import ERRORS

router = APIRouter(tags=["files"], responses=ERRORS)

FilePath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=1024,
        description="'/'-separated names (none '.', '..' or empty).",
        pattern=r"^[^\x00-\x1f\\]+$",
    ),
]
_BYTES = {
    "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    "description": "The file (206 with the part a `Range` header asks for).",
}


class FileOut(BaseModel):
    path: str
    size: int
    sha256: str

    @classmethod
    def of(cls, f: StoredFile, folder: str = "") -> FileOut:
        return cls(
            path=f.path[len(folder) + 1 :] if folder else f.path, size=f.size, sha256=f.digest
        )


class ModelFilesOut(BaseModel):
    model: str
    version: int
    folder: str
    files: list[FileOut]


@router.put(
    "/files/{path:path}",
    operation_id="uploadFile",
    response_model=FileOut,
    openapi_extra={
        "requestBody": {
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            }
        }
    },
)
async def upload(
    path: FilePath,
    request: Request,
    db: DB,
    who: Caller,
    x_mlledger_sha256: Annotated[
        str | None,
        Header(
            description="The bytes' sha256 as the sender computed it: a body that arrives "
            "with another is refused (400) and nothing is kept.",
            pattern=r"^[0-9a-fA-F]{64}$",
        ),
    ] = None,
) -> FileOut:
    """Store the body as the file at `path` in the caller's project, by content (the same
    bytes under two paths are stored once). Streams: the JSON request limit does not apply."""
    who.require("write")
    spooled = await spool_body(request, x_mlledger_sha256)
    try:
        stored = await run_in_threadpool(files.keep, db, objects_of(request), who, path, spooled)
    finally:
        spooled.path.unlink(missing_ok=True)
    return FileOut.of(stored)


@router.get(
    "/files/{path:path}",
    operation_id="downloadFile",
    response_class=Response,
    responses={200: _BYTES, 206: _BYTES, 416: {"description": "The range is past the end."}},
)
def download(path: FilePath, request: Request, db: DB, who: Caller) -> Response:
    return file_response(
        objects_of(request), files.get(db, who, path), request.headers.get("range")
    )


def _listing(found: Any, folder: str, files_: list[StoredFile]) -> ModelFilesOut:
    return ModelFilesOut(
        model=found.model,
        version=found.version,
        folder=folder,
        files=[FileOut.of(f, folder) for f in files_],
    )


@router.get(
    "/models/{name}/versions/{number}/files",
    operation_id="listModelVersionFiles",
    response_model=ModelFilesOut,
)
def version_files(name: ModelPath, number: VersionPath, db: DB, who: Caller) -> ModelFilesOut:
    """The files of a version logged with upload (409 for one logged by URI only)."""
    return _listing(*files.of_model(db, who, name, version=number))


@router.get(
    "/models/{name}/aliases/{alias}/files",
    operation_id="listModelAliasFiles",
    response_model=ModelFilesOut,
)
def alias_files(name: ModelPath, alias: AliasPath, db: DB, who: Caller) -> ModelFilesOut:
    """The files of the version the alias points at (e.g. `production`)."""
    return _listing(*files.of_model(db, who, name, alias=alias))


def _one(listing: tuple[Any, str, list[StoredFile]], path: str) -> StoredFile:
    _, folder, found = listing
    wanted = f"{folder}/{path.strip('/')}"
    for f in found:
        if f.path == wanted:
            return f
    raise NotFound(f"the model has no file {path!r}", details={"path": path})


@router.get(
    "/models/{name}/versions/{number}/files/{path:path}",
    operation_id="downloadModelVersionFile",
    response_class=Response,
    responses={200: _BYTES, 206: _BYTES, 416: {"description": "The range is past the end."}},
)
def version_file(
    name: ModelPath, number: VersionPath, path: FilePath, request: Request, db: DB, who: Caller
) -> Response:
    stored = _one(files.of_model(db, who, name, version=number), path)
    return file_response(objects_of(request), stored, request.headers.get("range"))


@router.get(
    "/models/{name}/aliases/{alias}/files/{path:path}",
    operation_id="downloadModelAliasFile",
    response_class=Response,
    responses={200: _BYTES, 206: _BYTES, 416: {"description": "The range is past the end."}},
)
def alias_file(
    name: ModelPath, alias: AliasPath, path: FilePath, request: Request, db: DB, who: Caller
) -> Response:
    stored = _one(files.of_model(db, who, name, alias=alias), path)
    return file_response(objects_of(request), stored, request.headers.get("range"))
