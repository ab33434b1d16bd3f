"""Files over HTTP, for every transport that carries them (mlledger's `/api/v1/files`, MLflow's
`mlflow-artifacts`): a request body spooled to disk while hashed, and a stored file streamed
back with `Range` support. The bytes go to the artifact store (store/files/objects.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from fastapi import Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from mlledger.store.errors import InvalidArgument
from mlledger.store.files.objects import ObjectStore, Spooled
from mlledger.store.files.paths import StoredFile

# Paths whose bodies are files: streamed to disk under the upload limit, never parsed (so the
# JSON limit and the NUL check of JSON bodies do not apply to them).
UPLOAD_PREFIXES = (
    "/api/v1/files/",
    "/api/2.0/mlflow-artifacts/artifacts/",
    "/api/2.0/mlflow/upload-artifact",
)
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def is_upload_path(path: str) -> bool:
    return path.startswith(UPLOAD_PREFIXES)


def objects_of(request: Request) -> ObjectStore:
    objects: ObjectStore = request.app.state.objects
    return objects


async def spool_body(request: Request, expected_sha256: str | None = None) -> Spooled:
    """The body on local disk with its digest. Raises InvalidArgument when the caller said
    which sha256 to expect and the bytes that arrived have another (nothing is kept)."""
    spool = await run_in_threadpool(objects_of(request).spool)
    try:
        async for chunk in request.stream():
            if chunk:
                spool.write(chunk)
    except BaseException:
        spool.discard()
        raise
    spooled = spool.close()
    if expected_sha256 is not None and expected_sha256.lower() != spooled.digest:
        spooled.path.unlink(missing_ok=True)
        raise InvalidArgument(
            f"the upload's sha256 is {spooled.digest}, not the {expected_sha256} it was sent as "
            "(the bytes were changed on the way; send them again)",
            details={"received": spooled.digest, "expected": expected_sha256},
        )
    return spooled


def file_response(objects: ObjectStore, stored: StoredFile, asked: str | None) -> Response:
    """The file's bytes, streamed; `Range: bytes=a-b`, `a-` or `-n` answers 206 with that
    part, a range past the end 416."""
    start, end, status = 0, stored.size, 200
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
