"""Static files and the theme stylesheet, served under ``/_authtuna``."""

from __future__ import annotations

from quart import Blueprint, Response, request
from werkzeug.exceptions import NotFound

from ...assets import static_dir, templates_dir
from .. import current

#: Also the template folder: an app's own ``templates/authtuna/...`` files are found first.
assets = Blueprint("authtuna", __name__, static_folder=str(static_dir()),
                   static_url_path="/_authtuna/static", template_folder=str(templates_dir()))

#: Longest file name a file system accepts; a longer one would make ``stat`` raise.
_NAME_MAX = 255


@assets.before_request
def _refuse_impossible_names() -> None:
    """404, not a 500, for a path no file can have (a segment too long for the OS)."""
    filename = (request.view_args or {}).get("filename", "")
    if any(len(part.encode()) > _NAME_MAX for part in str(filename).split("/")):
        raise NotFound()


@assets.get("/_authtuna/theme.css")
async def theme_css() -> Response:
    """The THEME palettes as CSS custom properties."""
    css = current.settings().theme.css()
    return Response(css, content_type="text/css; charset=utf-8",
                    headers={"Cache-Control": "public, max-age=300"})
