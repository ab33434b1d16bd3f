"""`MLFLOW_TRACKING_URI=http://host:8080/projects/<p>`: MLflow's client keeps a tracking URI's
path for every call (artifacts included), so a project named in the path reaches the MLflow
routes as if sent with `X-Mlledger-Project: <p>` — checked then like the header (a token of
another project is refused), and the only way an anonymous local caller picks a project, since
MLflow's client sends no headers of ours."""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Receive, Scope, Send

from .errors import AJAX_PREFIX, ARTIFACTS_PREFIX, PREFIX, UI_PATHS

_PATH = re.compile(
    r"^(?:/projects/(?P<project>[^/]{1,128}))?/+(?P<rest>(?:"
    + "|".join(re.escape(p.lstrip("/")) for p in (PREFIX, ARTIFACTS_PREFIX, AJAX_PREFIX))
    + r")/.*|"
    + "|".join(re.escape(p.lstrip("/")) for p in UI_PATHS)
    + r")$"
)


class ProjectPrefix:
    """Pure ASGI middleware: rewrites `/projects/<p>/api/2.0/mlflow…` (and MLflow's UI paths:
    `/ajax-api/2.0/mlflow/…` is the API, `//get-artifact` one route) before routing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            m = _PATH.match(scope["path"])
            if m is not None:
                rest = "/" + m.group("rest")
                if rest.startswith(AJAX_PREFIX + "/"):
                    rest = PREFIX + rest[len(AJAX_PREFIX) :]
                headers = scope["headers"]
                if m.group("project") is not None:
                    headers = [(k, v) for k, v in headers if k != b"x-mlledger-project"]
                    headers.append((b"x-mlledger-project", m.group("project").encode("latin-1")))
                if rest != scope["path"] or headers is not scope["headers"]:
                    scope = {**scope, "path": rest, "raw_path": rest.encode(), "headers": headers}
        await self.app(scope, receive, send)
