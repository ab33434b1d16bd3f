"""The artifact routes MLflow's UI and older clients use, addressed by run, model version or
logged model instead of by store path: `/api/2.0/mlflow/artifacts/list`, `/get-artifact`,
`/model-versions/get-artifact`, `upload-artifact`, and a logged model's directories and files.
They read and write the same artifact store as `/api/2.0/mlflow-artifacts` (a run's files are
under `<experiment>/<run>/artifacts`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from mlledger.store.errors import InvalidArgument

from ..deps import DB, Caller
from ..domain import files, logged_models, runs
from ..domain.principal import Principal
from ..uploads import file_response, objects_of, spool_body
from .errors import PREFIX
from .lookup import model_of, wire_experiment_of

router = APIRouter(include_in_schema=False)

Path = Annotated[str, Query(max_length=1024)]
RunRef = Annotated[str, Query(max_length=64)]


def _relative(path: str) -> str:
    """A path inside the folder it is asked of: MLflow's server answers "Invalid path" (its
    clients and tests match the words) for one that climbs out or is absolute."""
    parts = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]
    if path.startswith(("/", "\\")) or ".." in parts or any(ord(c) < 32 for c in path):
        raise InvalidArgument("Invalid path")  # the whole answer, as MLflow gives it
    return "/".join(parts)


def _run_folder(db: Any, who: Principal, run_id: str, run_uuid: str) -> str:
    ref = run_id or run_uuid
    if not ref:
        raise InvalidArgument("Request must specify run_uuid.")
    run = runs.get(db, who, ref).run
    return f"{wire_experiment_of(run)}/{run.uuid}/artifacts"


def _listing(db: Any, who: Principal, root: str, path: str) -> list[dict[str, Any]]:
    """The entries directly in `root/path`, named relative to `root` (as MLflow lists)."""
    folder = f"{root}/{path}" if path else root
    out = []
    for entry in files.listing(db, who, folder):
        item: dict[str, Any] = {"path": entry.path[len(root) + 1 :], "is_dir": entry.is_dir}
        if entry.size is not None:
            item["file_size"] = entry.size
        out.append(item)
    return out


def _file(db: Any, who: Principal, request: Request, folder: str, path: str) -> Response:
    if not path:
        raise InvalidArgument("Request must specify path.")
    stored = files.get(db, who, f"{folder}/{path}")
    return file_response(objects_of(request), stored, request.headers.get("range"))


@router.get(PREFIX + "/artifacts/list")
def list_run_artifacts(
    db: DB,
    who: Caller,
    run_id: RunRef = "",
    run_uuid: RunRef = "",
    path: Path = "",
    page_token: Annotated[str, Query(max_length=40)] = "",
) -> dict[str, Any]:
    relative = _relative(path)
    root = _run_folder(db, who, run_id, run_uuid)
    return {"root_uri": f"mlflow-artifacts:/{root}", "files": _listing(db, who, root, relative)}


@router.get("/get-artifact", response_model=None)
def get_run_artifact(
    request: Request,
    db: DB,
    who: Caller,
    run_id: RunRef = "",
    run_uuid: RunRef = "",
    path: Path = "",
) -> Response:
    relative = _relative(path)
    return _file(db, who, request, _run_folder(db, who, run_id, run_uuid), relative)


@router.get("/model-versions/get-artifact", response_model=None)
def get_model_version_artifact(
    request: Request,
    db: DB,
    who: Caller,
    name: Annotated[str, Query(max_length=256)] = "",
    version: Annotated[str, Query(max_length=20)] = "",
    path: Path = "",
) -> Response:
    relative = _relative(path)
    if not name or not (version.isascii() and version.isdigit()):
        raise InvalidArgument("Request must specify name and version.")
    _, folder, _ = files.of_model(db, who, name, version=int(version))
    return _file(db, who, request, folder, relative)


@router.post(PREFIX + "/upload-artifact")
async def upload_run_artifact(
    request: Request, db: DB, who: Caller, run_uuid: RunRef = "", path: Path = ""
) -> dict[str, Any]:
    """The UI's upload: the body is the file, kept under the run's artifacts."""
    if not run_uuid:
        raise InvalidArgument("Request must specify run_uuid.")
    if not path:
        raise InvalidArgument("Request must specify path.")
    relative = _relative(path)
    who.require("write")
    folder = await run_in_threadpool(_run_folder, db, who, run_uuid, "")
    spooled = await spool_body(request)
    try:
        if spooled.size == 0:
            raise InvalidArgument("Request must specify data.")
        await run_in_threadpool(
            files.keep, db, objects_of(request), who, f"{folder}/{relative}", spooled
        )
    finally:
        spooled.path.unlink(missing_ok=True)
    return {}


def _model_folder(db: Any, who: Principal, model_id: str) -> str:
    artifact = logged_models.get(db, who, model_of(model_id))
    folder = files.folder_of(artifact.uri)
    if folder is None:  # a model logged with its URI only: nothing of it is stored here
        raise InvalidArgument(f"logged model {model_id} keeps its files at {artifact.uri!r}")
    return folder


@router.get(PREFIX + "/logged-models/{model_id}/artifacts/directories")
def list_logged_model_artifacts(
    model_id: str, db: DB, who: Caller, artifact_directory_path: Path = ""
) -> dict[str, Any]:
    relative = _relative(artifact_directory_path)
    root = _model_folder(db, who, model_id)
    return {"root_uri": f"mlflow-artifacts:/{root}", "files": _listing(db, who, root, relative)}


@router.get(PREFIX + "/logged-models/{model_id}/artifacts/files", response_model=None)
def get_logged_model_artifact(
    model_id: str, request: Request, db: DB, who: Caller, artifact_file_path: Path = ""
) -> Response:
    relative = _relative(artifact_file_path)
    return _file(db, who, request, _model_folder(db, who, model_id), relative)
