"""Reading authtuna's OpenAPI document in tests: which routes it lacks, and whether a real
answer matches the schema documented for it."""

from __future__ import annotations

import re
from typing import Any

from jsonschema import Draft202012Validator
from quart import Quart

#: Blueprints that are not authtuna's API: static files and the theme, the document itself.
NOT_API = {"authtuna", "authtuna_openapi"}
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
_PARAM = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def operations(app: Quart) -> list[tuple[str, str, str]]:
    """``(METHOD, endpoint, /openapi/{path})`` of every authtuna route in the url map."""
    found = []
    for rule in app.url_map.iter_rules():
        area = rule.endpoint.partition(".")[0]
        if not area.startswith("authtuna") or area in NOT_API:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((method, rule.endpoint, _PARAM.sub(r"{\1}", rule.rule)))
    return sorted(found)


def gaps(app: Quart, document: dict[str, Any]) -> list[str]:
    """What the document lacks, one line per route and method (empty when complete)."""
    lines = []
    for method, endpoint, path in operations(app):
        operation = document["paths"].get(path, {}).get(method.lower())
        if operation is None:
            lines.append(f"{method} {endpoint} ({path}): not in the document")
            continue
        missing = []
        ok = {k: v for k, v in operation.get("responses", {}).items() if k.startswith("2")}
        if not ok or not all(v.get("content") for v in ok.values()):
            missing.append("a 2xx response schema")
        if method in WRITES and "application/json" not in operation.get(
                "requestBody", {}).get("content", {}):
            missing.append("a JSON request body schema")
        if missing:
            lines.append(f"{method} {endpoint} ({path}): missing {' and '.join(missing)}")
    return lines


def stale(app: Quart, routes: dict[str, Any]) -> list[str]:
    """ROUTES keys whose route and method no longer exist."""
    live = {f"{method} {endpoint}" for method, endpoint, _ in operations(app)}
    return sorted(set(routes) - live)


def mismatches(document: dict[str, Any], path: str, method: str, status: int,
               body: Any) -> list[str]:
    """Where a real JSON answer departs from the schema documented for it."""
    responses = document["paths"][path][method.lower()]["responses"]
    response = responses.get(str(status)) or responses["default"]
    schema = response["content"]["application/json"]["schema"]
    validator = Draft202012Validator({**schema, "components": document["components"]})
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(body)]


class AnswerChecker:
    """Calls routes as a JSON client and checks each answer against the document."""

    def __init__(self, client: Any, document: dict[str, Any], headers: dict[str, str]):
        self.client, self.document, self.headers = client, document, headers
        self.checked: list[str] = []

    async def __call__(self, method: str, url: str, path: str | None = None,
                       **kwargs: Any) -> Any:
        """``path`` is the documented path when ``url`` has values in it."""
        response = await self.client.open(url, method=method, headers=self.headers, **kwargs)
        body = await response.get_json()
        problems = mismatches(self.document, path or url, method, response.status_code, body)
        assert not problems, (method, url, response.status_code, problems, body)
        self.checked.append(f"{method} {path or url} {response.status_code}")
        return body
