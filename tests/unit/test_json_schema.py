"""Dataclass → JSON Schema conversion used by the OpenAPI provider (no pydantic needed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import pytest
from jsonschema import Draft202012Validator

from quart_authtuna.web.schemas.envelope import Ok, Paged
from quart_authtuna.web.schemas.json_schema import component_name, model_schema


@dataclass
class Node:
    """A tree node."""

    name: str
    kind: Literal["leaf", "branch"] = "leaf"
    children: list[Node] = field(default_factory=list)
    weight: float | None = None
    extra: dict[str, Any] | None = None


@dataclass
class Named(Node):
    label: str = ""


def _validator(model: Any) -> Draft202012Validator:
    schema = model_schema(model)
    defs = schema.pop("$defs")
    return Draft202012Validator({**schema, "components": {"schemas": defs}})


def test_a_dataclass_becomes_a_referenced_object_with_its_required_fields() -> None:
    schema = model_schema(Node)
    assert schema["$ref"] == "#/components/schemas/Node"
    node = schema["$defs"]["Node"]
    assert node["required"] == ["name"]
    assert node["description"] == "A tree node."
    assert node["properties"]["kind"] == {"enum": ["leaf", "branch"]}
    assert node["properties"]["weight"] == {"anyOf": [{"type": "number"}, {"type": "null"}]}
    assert node["properties"]["children"]["items"] == {"$ref": "#/components/schemas/Node"}


def test_values_are_checked_against_the_schema() -> None:
    validator = _validator(Node)
    assert validator.is_valid({"name": "a", "children": [{"name": "b", "kind": "branch"}]})
    assert not validator.is_valid({"name": "a", "kind": "twig"})
    assert not validator.is_valid({"kind": "leaf"})
    assert not validator.is_valid({"name": "a", "children": [{"weight": 1}]})


def test_inherited_fields_and_no_generated_signature_as_description() -> None:
    named = model_schema(Named)["$defs"]["Named"]
    assert list(named["properties"]) == ["name", "kind", "children", "weight", "extra", "label"]
    assert "description" not in named  # dataclass's own "Named(name: str, ...)" is not one


def test_generic_envelopes_are_filled_in_and_named_after_their_arguments() -> None:
    assert component_name(Ok[Node]) == "Ok_Node"
    assert component_name(Ok[list[Node]]) == "Ok_ListNode"
    assert component_name(Ok[dict[str, Any]]) == "Ok_Object"
    ok = model_schema(Ok[Node])["$defs"]["Ok_Node"]
    assert ok["properties"]["data"] == {"$ref": "#/components/schemas/Node"}
    validator = _validator(Paged[Node])
    assert validator.is_valid({"status": 200, "data": [{"name": "a"}],
                               "meta": {"next_cursor": None}})
    assert not validator.is_valid({"status": 200, "data": [{"name": 1}],
                                   "meta": {"next_cursor": None}})


def test_a_type_without_a_schema_is_refused() -> None:
    with pytest.raises(TypeError):
        model_schema(set[str])
