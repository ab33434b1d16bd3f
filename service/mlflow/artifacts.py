"""MLflow's proxied artifact routes (`/api/2.0/mlflow-artifacts/artifacts/...`): one request per
file, streamed both ways, stored by content in mlledger's artifact store."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from mlledger.store.errors import NotFound

from ..deps import DB, Caller
from ..domain import files
from ..uploads import file_response, objects_of, spool_body
from .errors import ARTIFACTS_PREFIX

router = APIRouter(prefix=ARTIFACTS_PREFIX, include_in_schema=False)


@router.put("/artifacts/{path:path}")
async def upload(path: str, request: Request, db: DB, who: Caller) -> dict[str, Any]:
    """The body is the file: spooled to disk while hashed, then kept under its digest."""
    who.require("write")
    spooled = await spool_body(request)
    try:
        await run_in_threadpool(files.keep, db, objects_of(request), who, path, spooled)
    finally:
        spooled.path.unlink(missing_ok=True)
    return {}


@router.get("/artifacts/{path:path}", response_model=None)
def download(path: str, request: Request, db: DB, who: Caller) -> Response:
    """The file's bytes, streamed (`Range` reads answer 206)."""
    stored = files.get(db, who, path)
    return file_response(objects_of(request), stored, request.headers.get("range"))


@router.get("/artifacts")
def listing(
    db: DB, who: Caller, path: Annotated[str, Query(max_length=1024)] = ""
) -> dict[str, Any]:
    """The files and folders directly in `path`, by their names (as MLflow's server lists)."""
    found = files.listing(db, who, path)
    out = []
    for entry in found:
        item: dict[str, Any] = {"path": entry.path.rsplit("/", 1)[-1], "is_dir": entry.is_dir}
        if entry.size is not None:
            item["file_size"] = entry.size
        out.append(item)
    return {"files": out}


@router.delete("/artifacts/{path:path}")
def delete(path: str, db: DB, who: Caller) -> dict[str, Any]:
    if not files.remove(db, who, path):
        raise NotFound(f"no artifact at {path!r}", details={"path": path})
    return {}
