"""The GDPR export's answer, shared by the settings page and the admin's user page."""

from __future__ import annotations

import json
import re

from quart import Response
from quart.typing import ResponseReturnValue

from ...core.flows.results import DataExported
from ..forms.base import AuthTunaForm
from ..respond import finished

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


async def download(form: AuthTunaForm, done: DataExported) -> ResponseReturnValue:
    """A browser gets ``authtuna-export-<username>.json`` to save; an API client the envelope."""
    name = _UNSAFE.sub("_", done.username)[:40] or "account"
    body = json.dumps(done.data, indent=2, sort_keys=True, default=str)
    attachment = Response(body, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="authtuna-export-{name}.json"',
        "Cache-Control": "no-store"})
    return finished(form, attachment, done.data)
