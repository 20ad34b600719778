"""The inspector console: `/` serves the page, `/static/...` its scripts, styles and dictionaries.

The page itself needs no key (it holds no data); every call it makes goes through the `/v1` API,
which asks for one. There is no build step, so the static files keep their names from release to
release: browsers must revalidate them (`no-cache` + ETag) instead of caching them blindly, or an
upgraded server would run yesterday's script. `/static/limits.json` is made here, not stored:
the longest text the server keeps per field (storage/fields.py), so the page never accepts more.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from counterscan.serve.storage.fields import MAX_LEN

STATIC_DIR = Path(__file__).resolve().parents[2] / "static"
LIMITS_FILE = "limits.json"  # /static/limits.json, made from the server's own limits

# Everything the page loads comes from this server; nothing inline, nothing third-party.
# Images: thumbnails are fetched with the key and shown as blob: URLs, heat maps as data: URLs.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
CONSOLE_HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


class ConsoleStaticFiles(StaticFiles):
    """StaticFiles that adds the console's cache and security headers to every answer."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        if path == LIMITS_FILE:
            response: Response = JSONResponse({"max_len": MAX_LEN})
        else:
            response = await super().get_response(path, scope)
        response.headers.update(CONSOLE_HEADERS)
        return response


router = APIRouter(include_in_schema=False)
router.mount("/static", ConsoleStaticFiles(directory=STATIC_DIR), name="console-static")


@router.get("/")
def console_page() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html", headers=CONSOLE_HEADERS)


@router.get("/console")
def console_alias() -> RedirectResponse:
    """Old bookmarks and guesses land on the page too."""
    return RedirectResponse("/", status_code=308)
