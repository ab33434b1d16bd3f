"""`MLFLOW_TRACKING_URI=http://host:8080/projects/<p>`: MLflow's client keeps a tracking URI's
path for every call (artifacts included), so a project named in the path reaches the MLflow
routes as if sent with `X-Mlledger-Project: <p>` — checked then like the header (a token of
another project is refused), and the only way an anonymous local caller picks a project, since
MLflow's client sends no headers of ours."""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Receive, Scope, Send

from .errors import ARTIFACTS_PREFIX, PREFIX

_PATH = re.compile(
    r"^/projects/(?P<project>[^/]{1,128})(?P<rest>(?:"
    + re.escape(PREFIX)
    + "|"
    + re.escape(ARTIFACTS_PREFIX)
    + r")/.*)$"
)


class ProjectPrefix:
    """Pure ASGI middleware: rewrites `/projects/<p>/api/2.0/mlflow…` before routing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/projects/"):
            m = _PATH.match(scope["path"])
            if m is not None:
                headers = [(k, v) for k, v in scope["headers"] if k != b"x-mlledger-project"]
                headers.append((b"x-mlledger-project", m.group("project").encode("latin-1")))
                rest = m.group("rest")
                scope = {**scope, "path": rest, "raw_path": rest.encode(), "headers": headers}
        await self.app(scope, receive, send)
