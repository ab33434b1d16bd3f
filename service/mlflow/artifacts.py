"""MLflow's proxied artifact routes (`/api/2.0/mlflow-artifacts/artifacts/...`): one request per
file, streamed both ways, stored by content in mlledger's artifact store."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from mlledger.store.errors import NotFound
from mlledger.store.files.objects import ObjectStore

from ..deps import DB, Caller
from ..domain import files
from .errors import ARTIFACTS_PREFIX

router = APIRouter(prefix=ARTIFACTS_PREFIX, include_in_schema=False)
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _objects(request: Request) -> ObjectStore:
    objects: ObjectStore = request.app.state.objects
    return objects


@router.put("/artifacts/{path:path}")
async def upload(path: str, request: Request, db: DB, who: Caller) -> dict[str, Any]:
    """The body is the file: spooled to disk while hashed, then kept under its digest."""
    who.require("write")
    objects = _objects(request)
    spool = await run_in_threadpool(objects.spool)
    try:
        async for chunk in request.stream():
            if chunk:
                spool.write(chunk)
    except BaseException:
        spool.discard()
        raise
    spooled = spool.close()
    try:
        await run_in_threadpool(files.keep, db, objects, who, path, spooled)
    finally:
        spooled.path.unlink(missing_ok=True)
    return {}


@router.get("/artifacts/{path:path}", response_model=None)
def download(path: str, request: Request, db: DB, who: Caller) -> Response:
    """The file's bytes, streamed; `Range: bytes=a-b` answers 206 with that part."""
    stored = files.get(db, who, path)
    objects = _objects(request)
    start, end, status = 0, stored.size, 200
    asked = request.headers.get("range")
    headers = {"Accept-Ranges": "bytes", "ETag": f'"{stored.digest}"'}
    if asked:
        m = _RANGE.match(asked.strip())
        first = last = None
        if m and (m[1] or m[2]):
            if m[1]:
                first = int(m[1])
                last = int(m[2]) + 1 if m[2] else stored.size
            else:  # the last n bytes
                first, last = max(0, stored.size - int(m[2])), stored.size
        if first is None or last is None or first >= stored.size or last <= first:
            return Response(
                status_code=416, headers={"Content-Range": f"bytes */{stored.size}", **headers}
            )
        start, end, status = first, min(last, stored.size), 206
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{stored.size}"
    headers["Content-Length"] = str(end - start)
    chunks: Iterator[bytes] = objects.read(stored.digest, start, end)
    return StreamingResponse(
        iterate_in_threadpool(chunks),
        status_code=status,
        media_type="application/octet-stream",
        headers=headers,
    )


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
