"""The OpenAPI 3.1 document of authtuna's routes, built by quart-schema, served as JSON only.

At ``init_app`` the schemas of :data:`.schemas.ROUTES` are attached to the views with
quart-schema's ``document_*`` decorators (they describe; nothing is validated twice), and
the document is served at ``OPENAPI_PATH`` (default ``AUTH_PREFIX/openapi.json``).

The app's own QuartSchema, if it has one, is left as it is. Its document lists authtuna's
routes with these schemas too when pydantic or msgspec is installed (quart-schema converts
models only through them); without either, authtuna's views are hidden from it so that its
document still builds. Pages without a JSON face and static files are always hidden from it.

Without one, none is installed on the app: ``QuartSchema.init_app`` would replace the app's
JSON provider, wrap every response, and serve doc pages that load CDN scripts. Authtuna's
document comes from a QuartSchema that is never attached (no UI pages) and a provider that
converts our dataclasses itself and describes each method of a route on its own.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable
from dataclasses import is_dataclass
from typing import Any, cast, get_args

from quart import Quart, Response, jsonify
from quart_schema import (
    QuartSchema,
    document_querystring,
    document_request,
    document_response,
    hide,
    operation_id,
    tag_blueprint,
)
from quart_schema.openapi import QUART_SCHEMA_HIDDEN_ATTRIBUTE, OpenAPIProvider
from werkzeug.routing import Rule

from .. import __version__
from ..core.settings import Settings
from .cookies import cookie_name
from .guards import authtuna_blueprint
from .schemas import ROUTES, Failed, NoInput, Op
from .schemas.json_schema import description, model_schema

#: Blueprint → tag of its routes in the document, with the tag's description.
AREAS: dict[str, tuple[str, str]] = {
    "authtuna_auth": ("auth", "Sign-in, sign-up, email verification, passwords, magic links."),
    "authtuna_mfa": ("mfa", "TOTP, recovery codes and the second step of a sign-in."),
    "authtuna_sso": ("sso", "Social sign-in: to the provider and back, and a new person's "
                     "username."),
    "authtuna_passkeys": ("passkeys", "WebAuthn registration and sign-in (JSON only)."),
    "authtuna_passkey_signup": ("passkeys", ""),
    "authtuna_ui": ("account", "The signed-in user's own account: dashboard, profile, "
                    "sessions, API keys, activity, deletion."),
    "authtuna_account": ("account", ""),
    "authtuna_admin": ("admin", "User administration; needs admin:access:panel."),
    "authtuna_health": ("health", "For load balancers, no sign-in (HEALTHZ_ENABLED)."),
}
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_HTML = {"text/html": {"schema": {"type": "string"}}}
_INTRO = (
    "Every route answers HTML forms (with CSRF) and JSON on the same path. A JSON request "
    "sends `Content-Type: application/json` (or `Accept: application/json`) from the same "
    "origin; answers use the envelope `{status, data, meta?}` or `{status, errors}`.")


def install(app: Quart, settings: Settings) -> None:
    """Describe authtuna's views and serve the document (call after the blueprints)."""
    rules = [r for r in app.url_map.iter_rules() if _area(r.endpoint)]
    convertible = any(importlib.util.find_spec(m) for m in ("pydantic", "msgspec"))
    for endpoint in {r.endpoint for r in rules}:
        view = app.view_functions[endpoint]
        json_face = _describe(view, endpoint, [r for r in rules if r.endpoint == endpoint])
        setattr(view, QUART_SCHEMA_HIDDEN_ATTRIBUTE, not (convertible and json_face))
    for endpoint in ("authtuna.static", "authtuna.theme_css"):  # files, not API
        hide(getattr(app.view_functions[endpoint], "__func__", app.view_functions[endpoint]))
    for name, (tag, _) in AREAS.items():
        if name in app.blueprints:
            tag_blueprint(cast(Any, app.blueprints[name]), [tag])
    provider = AuthTunaOpenAPI(app, _extension(settings, app))
    document: dict[str, Any] = {}

    @hide
    async def openapi_document() -> Response:
        if not document:
            document.update(provider.schema())
        return jsonify(document)

    blueprint = authtuna_blueprint("authtuna_openapi", __name__)
    path = settings.openapi_path or f"{settings.auth_prefix}/openapi.json"
    blueprint.add_url_rule(path, "document", openapi_document)
    app.register_blueprint(blueprint)
    app.extensions["authtuna_openapi"] = provider


def _area(endpoint: str) -> bool:
    return endpoint.partition(".")[0] in AREAS


def _describe(view: Any, endpoint: str, rules: Iterable[Rule]) -> bool:
    """quart-schema's decorators on ``view``: one set per function, so the body of its write
    and the answers of all its methods (a foreign provider shows them on every method).
    False for a view that serves pages only."""
    ops = [ROUTES[k] for r in rules for m in sorted(r.methods or ())
           if (k := f"{m} {endpoint}") in ROUTES]
    area, _, name = endpoint.partition(".")
    operation_id(f"{area.removeprefix('authtuna_')}_{name}")(view)
    for op in ops:
        if op.request is not None:
            document_request(op.request)(view)
        if op.query is not None:
            document_querystring(op.query)(view)
        for status, model in op.responses.items():
            document_response(model, status)(view)
    return any(op.responses for op in ops)


def _extension(settings: Settings, app: Quart) -> QuartSchema:
    """A QuartSchema that only carries the document's metadata (never ``init_app``-ed)."""
    tags = [{"name": tag, "description": text} for name, (tag, text) in AREAS.items()
            if name in app.blueprints and text]
    return QuartSchema(
        openapi_path=None, redoc_ui_path=None, scalar_ui_path=None, swagger_ui_path=None,
        info={"title": f"{settings.app_name} authentication API", "version": __version__,
              "description": _INTRO},
        tags=cast(Any, tags),
        security_schemes={
            "session": {"type": "apiKey", "in_": "cookie",
                        "name": cookie_name(settings.session_token_name, settings)},
            "apiKey": {"type": "http", "scheme": "bearer"}},
        security=[{"session": []}, {"apiKey": []}, {}])


class AuthTunaOpenAPI(OpenAPIProvider):
    """quart-schema's provider, limited to authtuna's routes, each method described from
    :data:`.schemas.ROUTES`, with our own dataclass conversion (no pydantic needed)."""

    def generate_rules(self) -> Iterable[Rule]:
        rules = [r for r in self._app.url_map.iter_rules()
                 if _area(r.endpoint) and not r.websocket]
        return sorted(rules, key=lambda r: (r.rule, r.endpoint))

    def build_paths(self, rule: Rule) -> tuple[dict[str, Any], dict[str, Any]]:
        paths, components = super().build_paths(rule)
        path_params = [self.build_path_parameter(name, converter)
                       for name, converter in rule._converters.items()]
        for item in paths.values():
            for method, shared in item.items():
                op = ROUTES.get(f"{method.upper()} {rule.endpoint}")
                operation = {k: v for k, v in shared.items()
                             if k not in ("requestBody", "responses", "parameters")}
                item[method] = operation
                parameters = list(path_params)
                operation["responses"] = self._responses(op, components)
                if op is not None and op.query is not None:
                    query, defs = self.build_querystring_parameters(op.query)
                    parameters += query
                    components.update(defs)
                if op is not None and op.request is not None and method.upper() in _WRITES:
                    operation["requestBody"] = self._request_body(op, components)
                if parameters:
                    operation["parameters"] = parameters
        return paths, components

    def _responses(self, op: Op | None, components: dict[str, Any]) -> dict[str, Any]:
        responses: dict[str, Any] = {}
        for status, model in (op.responses if op else {}).items():
            responses[str(status)], defs = self.build_response_object(model, None)
            components.update(defs)
        if op is not None and op.download:
            responses["200"] = {"description": "A file (Content-Disposition: attachment).",
                                "content": {op.download: {"schema": {"type": "string"}}}}
        if op is not None and op.page:
            page = responses.setdefault("200", {"description": "", "content": {}})
            page["content"] = {**page["content"], **_HTML}
            page["description"] = page["description"] or "The page, for browsers."
        failed, defs = self.build_response_object(Failed, None)
        components.update(defs)
        responses["default"] = failed
        return responses

    def _request_body(self, op: Op, components: dict[str, Any]) -> dict[str, Any]:
        schema = self._convert(op.request, components)
        content: dict[str, Any] = {"application/json": {"schema": schema}}
        if op.form:
            csrf = {"type": "object", "required": ["csrf_token"],
                    "properties": {"csrf_token": {"type": "string"}}}
            content["application/x-www-form-urlencoded"] = {"schema": {"allOf": [schema, csrf]}}
        return {"required": op.request is not NoInput, "content": content}

    @staticmethod
    def _convert(model: Any, components: dict[str, Any]) -> dict[str, Any]:
        schema = model_schema(model)
        components.update(schema.pop("$defs", {}))
        return schema

    def build_request_body(self, model: Any, source: Any) -> tuple[dict[str, Any],
                                                                    dict[str, Any]]:
        defs: dict[str, Any] = {}
        return {"content": {"application/json": {"schema": self._convert(model, defs)}}}, defs

    def build_response_object(self, model: Any, headers_model: Any
                              ) -> tuple[dict[str, Any], dict[str, Any]]:
        defs: dict[str, Any] = {}
        schema = self._convert(model, defs)
        data = get_args(model)[:1] or (model,)
        return {"description": description(data[0]) if is_dataclass(data[0]) else "",
                "content": {"application/json": {"schema": schema}}}, defs

    def build_querystring_parameters(self, model: Any) -> tuple[list[dict[str, Any]],
                                                                dict[str, Any]]:
        defs: dict[str, Any] = {}
        ref = self._convert(model, defs)["$ref"].rpartition("/")[2]
        shape = defs.pop(ref)
        required = set(shape.get("required", ()))
        return [{"name": name, "in": "query", "required": name in required,
                 "schema": _not_null(schema)} for name, schema in shape["properties"].items()], defs

    def build_headers_parameters(self, model: Any) -> tuple[list[dict[str, Any]],
                                                            dict[str, Any]]:
        return [], {}  # no authtuna route documents headers


def _not_null(schema: dict[str, Any]) -> dict[str, Any]:
    """``X | None`` → ``X``: an absent query parameter is the None, never ``null``."""
    kept = [s for s in schema.get("anyOf", ()) if s != {"type": "null"}]
    return kept[0] if len(kept) == 1 else schema
