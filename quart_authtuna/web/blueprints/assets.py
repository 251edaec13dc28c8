"""Static files and the theme stylesheet, served under ``/_authtuna``."""

from __future__ import annotations

from quart import Blueprint, Response, current_app

from ...assets import static_dir, templates_dir

#: Also the template folder: an app's own ``templates/authtuna/...`` files are found first.
assets = Blueprint("authtuna", __name__, static_folder=str(static_dir()),
                   static_url_path="/_authtuna/static", template_folder=str(templates_dir()))


@assets.get("/_authtuna/theme.css")
async def theme_css() -> Response:
    """The THEME palettes as CSS custom properties."""
    css = current_app.extensions["authtuna"].settings.theme.css()
    return Response(css, content_type="text/css; charset=utf-8",
                    headers={"Cache-Control": "public, max-age=300"})
