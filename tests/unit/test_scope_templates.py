"""Scope templates for route guards: ``org:{org_id}/team:{team_id}`` filled from the path."""

from __future__ import annotations

import pytest

from quart_authtuna.core.rbac.scopes import fill_scope_template, template_fields

TEMPLATE = "org:{org_id}/team:{team_id}"


def test_fields_and_filling() -> None:
    assert template_fields(TEMPLATE) == ("org_id", "team_id")
    assert fill_scope_template(TEMPLATE, {"org_id": "a1", "team_id": 7}) == "org:a1/team:7"


@pytest.mark.parametrize("bad", ["org:{}", "org:{0}", "org:{org_id!r}", "org:{org_id:>4}",
                                 "org:{org_id", "org:x", "{a}//{b}", "global/{a}"])
def test_malformed_templates_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        template_fields(bad)


@pytest.mark.parametrize("value", ["", "a/b", "x/../y", "a b", "a\x00"])
def test_values_that_could_reach_another_scope_are_refused(value: str) -> None:
    with pytest.raises(ValueError):
        fill_scope_template(TEMPLATE, {"org_id": value, "team_id": "t"})


def test_a_missing_value_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        fill_scope_template(TEMPLATE, {"org_id": "a"})
