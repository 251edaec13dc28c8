"""Placeholder demo app: one page, no database; the real demo arrives with the web layer."""

from __future__ import annotations

from jinja2 import FileSystemLoader
from quart import Quart, render_template

import quart_authtuna
from quart_authtuna.assets import static_dir, templates_dir


def create_app() -> Quart:
    """A Quart app serving the bundled placeholder page at ``/``."""
    app = Quart(__name__, static_folder=str(static_dir()), static_url_path="/static")
    app.jinja_loader = FileSystemLoader(str(templates_dir()))

    @app.get("/")
    async def index() -> str:
        return await render_template(
            "authtuna/placeholder.html",
            title="quart-authtuna demo",
            version=quart_authtuna.__version__,
        )

    return app
