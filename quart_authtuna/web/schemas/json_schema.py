"""Dataclasses → JSON Schema (2020-12, as OpenAPI 3.1 uses), without pydantic or msgspec.

quart-schema turns models into schemas only through pydantic or msgspec; neither is a
dependency of ours, so our OpenAPI provider converts our own dataclasses here. The types
understood are the ones the schemas use: ``str int float bool None Any``, ``list[X]``,
``tuple[X, ...]``, ``dict[str, X]``, ``X | Y``, ``Literal[...]``, nested dataclasses and
parametrised generic dataclasses (``Ok[UserData]``). Nested dataclasses become
``$ref``\\ s into ``$defs``, which quart-schema moves to ``components/schemas``.
"""

from __future__ import annotations

import dataclasses
import inspect
import types
import typing
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

REF = "#/components/schemas/{name}"
_SCALARS: dict[Any, dict[str, Any]] = {
    str: {"type": "string"}, int: {"type": "integer"}, float: {"type": "number"},
    bool: {"type": "boolean"}, type(None): {"type": "null"}, Any: {}, object: {},
}


def model_schema(model: Any) -> dict[str, Any]:
    """The schema of ``model`` with every dataclass it uses in ``$defs`` (a ``$ref`` at top)."""
    defs: dict[str, dict[str, Any]] = {}
    schema = _schema(model, defs, {})
    if defs:
        schema["$defs"] = defs
    return schema


def component_name(model: Any) -> str:
    """``UserData``; a parametrised generic is named after its arguments: ``Ok_UserData``."""
    origin, args = get_origin(model), get_args(model)
    if origin is None:
        return str(model.__name__)
    return "_".join([origin.__name__, *(_arg_name(a) for a in args)])


def _arg_name(arg: Any) -> str:
    if get_origin(arg) is dict:
        return "Object"
    if get_origin(arg) in (list, tuple):
        return "List" + _arg_name(get_args(arg)[0])
    if dataclasses.is_dataclass(arg) or dataclasses.is_dataclass(get_origin(arg)):
        return component_name(arg)
    return getattr(arg, "__name__", "Any").capitalize()


def _schema(tp: Any, defs: dict[str, dict[str, Any]], bound: dict[Any, Any]) -> dict[str, Any]:
    if isinstance(tp, TypeVar):
        return _schema(bound.get(tp, Any), defs, bound)
    if tp in _SCALARS:
        return dict(_SCALARS[tp])
    origin, args = get_origin(tp), get_args(tp)
    if origin is Literal:
        return {"enum": list(args)}
    if origin in (Union, types.UnionType):
        return {"anyOf": [_schema(a, defs, bound) for a in args]}
    if origin in (list, tuple) and (origin is list or args[-1:] == (Ellipsis,)):
        return {"type": "array", "items": _schema(args[0] if args else Any, defs, bound)}
    if origin is dict:
        return {"type": "object",
                "additionalProperties": _schema(args[1] if args else Any, defs, bound)}
    if dataclasses.is_dataclass(tp) or dataclasses.is_dataclass(origin):
        name = component_name(tp)
        if name not in defs:
            defs[name] = {}  # placeholder: a model may refer to itself
            defs[name] = _object(tp, defs, bound)
        return {"$ref": REF.format(name=name)}
    raise TypeError(f"No JSON Schema for {tp!r}")


def _object(tp: Any, defs: dict[str, dict[str, Any]], bound: dict[Any, Any]
            ) -> dict[str, Any]:
    cls = get_origin(tp) or tp
    params = getattr(cls, "__parameters__", ())
    bound = {**bound, **dict(zip(params, get_args(tp), strict=False))}
    hints = typing.get_type_hints(cls)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for f in dataclasses.fields(cls):
        properties[f.name] = _schema(hints[f.name], defs, bound)
        if f.metadata.get("doc"):
            properties[f.name]["description"] = f.metadata["doc"]
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            required.append(f.name)
    schema: dict[str, Any] = {"type": "object", "title": component_name(tp),
                              "properties": properties}
    if required:
        schema["required"] = required
    if doc := description(cls):
        schema["description"] = doc
    return schema


def description(cls: Any) -> str:
    """The docstring of a dataclass ("" for none: not the signature dataclass writes)."""
    doc = inspect.getdoc(cls) or ""
    return "" if doc.startswith(f"{getattr(cls, '__name__', '')}(") else doc
