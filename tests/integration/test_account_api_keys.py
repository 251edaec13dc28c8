"""/ui/settings API keys: scopes to choose from, create (shown once), list, use, revoke."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from werkzeug.datastructures import MultiDict

from quart_authtuna.core import AuthService
from tests._support.web import csrf_token, submit

JSON = {"Accept": "application/json"}
Make = Callable[..., Awaitable[Any]]
Login = Callable[..., Awaitable[Any]]


async def viewer(svc: AuthService, make_user: Make, name: str) -> Any:
    """A user holding ProjectViewer (projects:read) at project:apollo."""
    await svc.roles.create("ProjectViewer", level=10)
    await svc.permissions.get_or_create("projects:read")
    await svc.roles.add_permission_to_role("ProjectViewer", "projects:read")
    return await make_user(name, roles=(("ProjectViewer", "project:apollo"),))


async def post_form(client: Any, path: str, data: dict[str, Any]) -> Any:
    """A browser form post where list values become repeated fields (checkboxes)."""
    pairs = [(k, v) for k, vs in data.items() for v in (vs if isinstance(vs, list) else [vs])]
    token = await csrf_token(client, "/ui/settings")
    return await client.post(path, form=MultiDict([*pairs, ("csrf_token", token)]))


async def create_key(client: Any, face: str, **fields: Any) -> tuple[Any, str]:
    """POST a new key; the response and the plaintext it shows once."""
    data = {"name": "Deploy", "key_type": "secret", "scopes": ["ProjectViewer:project:apollo"],
            **fields}
    if face == "json":
        response = await submit(client, "/ui/settings/api-keys", data, face="json")
        assert response.status_code == 201, await response.get_data(as_text=True)
        return response, (await response.get_json())["data"]["api_key"]["plaintext"]
    response = await post_form(client, "/ui/settings/api-keys", data)
    html = await response.get_data(as_text=True)
    assert response.status_code == 200, html
    assert "no-store" in response.headers["Cache-Control"]
    match = re.search(r'id="new-api-key" value="([^"]+)"', html)
    assert match, html
    return response, match.group(1)


async def test_available_scopes_are_the_roles_held(client: Any, svc: AuthService,
                                                  make_user: Make, login: Login) -> None:
    await viewer(svc, make_user, "vera")
    await login("vera")
    response = await client.get("/ui/settings/available-scopes", headers=JSON)
    scopes = (await response.get_json())["data"]["scopes"]
    assert {"role_name": "ProjectViewer", "scope": "project:apollo",
            "display": "ProjectViewer:project:apollo",
            "permissions": ["projects:read"]} in scopes
    assert {s["display"] for s in scopes} == {"ProjectViewer:project:apollo", "User:global"}
    page = await (await client.get("/ui/settings")).get_data(as_text=True)
    assert 'value="ProjectViewer:project:apollo"' in page and "No API keys yet." in page


async def test_create_use_list_and_revoke(client: Any, app: Any, svc: AuthService, face: str,
                                          make_user: Make, login: Login) -> None:
    await viewer(svc, make_user, "kim")
    await login("kim")
    _, plaintext = await create_key(client, face)
    api = app.test_client()
    bearer = {"Authorization": f"Bearer {plaintext}", **JSON}
    assert (await api.get("/projects/apollo", headers=bearer)).status_code == 200
    assert (await api.get("/projects/zeus", headers=bearer)).status_code == 403

    keys = (await (await client.get("/ui/settings/api-keys", headers=JSON)).get_json())["data"]
    assert len(keys) == 1 and keys[0]["name"] == "Deploy" and keys[0]["last_used_at"]
    assert "plaintext" not in keys[0] and plaintext not in str(keys)
    page = await (await client.get("/ui/settings")).get_data(as_text=True)
    assert "Deploy" in page and plaintext not in page

    key_id = keys[0]["id"]
    if face == "json":
        revoked = await client.delete(f"/ui/settings/api-keys/{key_id}", json={},
                                      headers={"Origin": "http://localhost", **JSON})
        assert revoked.status_code == 200
        assert (await revoked.get_json())["data"] == {"id": key_id, "revoked": True}
    else:
        revoked = await submit(client, f"/ui/settings/api-keys/{key_id}/delete", {},
                               page="/ui/settings")
        assert revoked.status_code == 302 and "done=key_revoked" in revoked.headers["Location"]
    assert (await api.get("/projects/apollo", headers=bearer)).status_code == 401
    assert (await (await client.get("/ui/settings/api-keys", headers=JSON)).get_json()
            )["data"] == []


async def test_prefix_names_and_html_expiry(client: Any, svc: AuthService, make_user: Make,
                                            login: Login) -> None:
    await make_user("pia")
    await login("pia")
    _, plaintext = await create_key(client, "html", key_type="pk", scopes=[], valid_days="30")
    assert plaintext.startswith("pk_")
    keys = await svc.flows.api_keys.list((await svc.users.get_by_username("pia")).id)
    assert keys[0].key_type == "PUBLIC"
    assert keys[0].expires_at - keys[0].created_at == 30 * 86_400


async def test_refusals_leave_nothing_behind(client: Any, app: Any, svc: AuthService, face: str,
                                             make_user: Make, login: Login) -> None:
    await viewer(svc, make_user, "owner")
    await make_user("thief")
    owner = app.test_client()
    await submit(owner, "/auth/login", {"username_or_email": "owner",
                                        "password": "correct horse battery staple"})
    _, plaintext = await create_key(owner, "json")
    key_id = plaintext.partition(".")[0]
    await login("thief")
    if face == "json":
        stolen = await client.delete(f"/ui/settings/api-keys/{key_id}", json={},
                                     headers={"Origin": "http://localhost", **JSON})
    else:
        stolen = await submit(client, f"/ui/settings/api-keys/{key_id}/delete", {},
                              page="/ui/settings")
    assert stolen.status_code == 404
    bearer = {"Authorization": f"Bearer {plaintext}", **JSON}
    assert (await app.test_client().get("/projects/apollo", headers=bearer)).status_code == 200

    wanted = {"name": "x", "key_type": "secret", "scopes": ["ProjectViewer:project:apollo"]}
    not_held = (await submit(client, "/ui/settings/api-keys", wanted, face="json")
                if face == "json" else await post_form(client, "/ui/settings/api-keys", wanted))
    assert not_held.status_code == 400
    if face == "html":
        assert "You do not hold ProjectViewer" in await not_held.get_data(as_text=True)
    nameless = await submit(client, "/ui/settings/api-keys", {"name": "", "scopes": []},
                            page="/ui/settings", face=face)
    assert nameless.status_code == 400
    thief = await svc.users.get_by_username("thief")
    assert await svc.flows.api_keys.list(thief.id) == []


async def test_a_key_cannot_manage_keys(client: Any, app: Any, svc: AuthService,
                                        make_user: Make, login: Login) -> None:
    await make_user("max")
    await login("max")
    _, plaintext = await create_key(client, "json", key_type="master", scopes=[])
    bearer = {"Authorization": f"Bearer {plaintext}", **JSON, "Origin": "http://localhost"}
    api = app.test_client()
    assert (await api.get("/ui/settings/api-keys", headers=bearer)).status_code == 403
    created = await api.post("/ui/settings/api-keys", json={"name": "more"}, headers=bearer)
    assert created.status_code == 403
