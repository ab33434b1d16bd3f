"""The lineage explorer, served at /ui: a static build (`npm run build` in this folder, done by
scripts/bootstrap) that reads everything through /graphql."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

DIST = Path(__file__).parent / "dist"

NOT_BUILT = """<!doctype html><title>mlledger UI not built</title>
<h1>The lineage explorer has not been built</h1>
<p>This installation has no <code>ui/dist</code>. Build it with <code>scripts/bootstrap</code>
(or <code>cd ui &amp;&amp; npm ci &amp;&amp; npm run build</code>); the API and GraphQL work
without it.</p>"""


def mount(app: FastAPI) -> None:
    """Serve the build at /ui/ (and send / there); a clear page when it was never built."""
    if (DIST / "index.html").is_file():
        app.mount("/ui", StaticFiles(directory=DIST, html=True), name="ui")
    else:

        @app.get("/ui/{rest:path}", include_in_schema=False)
        def _not_built(rest: str) -> HTMLResponse:
            return HTMLResponse(NOT_BUILT, status_code=503)

    @app.get("/ui", include_in_schema=False)
    def _slash() -> RedirectResponse:
        return RedirectResponse("/ui/")
