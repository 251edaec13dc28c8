"""Pages, form errors, flow messages, dates and mails in the viewer's language.

Every HTML page an authtuna blueprint serves with GET is fetched in English and in German
(``Accept-Language``) by an admin and by a visitor; no English sentence of the English page
may appear unchanged on the German one. Every mail is rendered in both locales likewise.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from quart import Quart

from quart_authtuna.core import AuthService, i18n
from quart_authtuna.core.defaults import DEFAULT_ROLES
from quart_authtuna.core.mail import default_renderer
from tests._support.clock import FakeClock
from tests._support.i18n_check import TEMPLATES
from tests._support.preview_templates import EMAIL_CONTEXT
from tests._support.web import ORIGIN
from tests.conftest import PASSWORD

DE = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}
EN = {"Accept-Language": "en-GB,en;q=0.8"}
#: Routes that are not pages: assets, downloads, JSON-only ceremonies, the sign-out post.
NOT_PAGES = re.compile(r"static|theme|openapi|export|authtuna_passkeys\.|logout|"
                       r"recovery_codes_download|healthz|sso\.(login|callback)")
#: The same in both languages: names, data, codes.
ALLOWED = {"AuthTuna", "Passkeys", "Admin", "Status", "Details", "Code", "Name", "IP", "2FA",
           "UTC", "E-Mail", "Dashboard", "global", "Filter", "Export CSV", "Export JSON",
           *(description for _, description, _ in DEFAULT_ROLES.values())}


class _Text(HTMLParser):
    """The text a person reads: text nodes and the attributes shown or spoken."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pieces: set[str] = set()
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._skip += tag in ("script", "style", "code", "pre", "option", "datalist")
        for name, value in attrs:
            if name in ("title", "placeholder", "aria-label", "alt", "data-label") and value:
                self.handle_data(value)

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("script", "style", "code", "pre", "option", "datalist")

    def handle_data(self, data: str) -> None:
        text = " ".join(data.split())
        if not self._skip and re.search(r"[A-Za-z]{2}", text):
            self.pieces.add(text)


def sentences(html: str) -> set[str]:
    parser = _Text()
    parser.feed(html)
    return parser.pieces


def english_left(en: str, de: str, data: set[str]) -> set[str]:
    """English text of ``en`` still on ``de`` (not data, not a name)."""
    same = sentences(en) & sentences(de)
    return {s for s in same if s not in ALLOWED and s not in data
            and not any(d in s for d in data if len(d) > 3) and "@" not in s
            and not re.fullmatch(r"[\w:./\-]+(, [\w:./\-]+)*", s)}


def _pages(app: Quart, user_id: str) -> list[str]:
    paths = []
    for rule in app.url_map.iter_rules():
        endpoint = rule.endpoint
        if not endpoint.startswith("authtuna") or "GET" not in rule.methods:
            continue
        if NOT_PAGES.search(endpoint):
            continue
        if set(rule.arguments) - {"user_id", "role_name"}:
            continue
        paths.append(rule.rule.replace("<user_id>", user_id).replace("<role_name>", "Moderator"))
    return sorted(set(paths))


async def _signed_in(app: Any, username: str, headers: dict[str, str]) -> Any:
    client = app.test_client()
    response = await client.post("/auth/login", headers={**headers, "Origin": ORIGIN},
                                 json={"username_or_email": username, "password": PASSWORD})
    assert response.status_code == 200, await response.get_data(as_text=True)
    return client


async def test_every_page_is_german_for_a_german_browser(
        app: Any, svc: AuthService, make_user: Any, clock: FakeClock) -> None:
    admin = await make_user("zelda", roles=(("SuperAdmin", "global"),))
    target = await make_user("tobias")
    await svc.audit.log_event("LOGIN_SUCCESS", target.id, "198.51.100.7")
    # Accept-Language is bound into the session fingerprint: one browser per language.
    admins = {lang: await _signed_in(app, "zelda", headers) for lang, headers in
              (("en", EN), ("de", DE))}
    visitor = app.test_client()
    # A session's device is described when it starts and stored as data (test client: no UA).
    data = {"zelda", "tobias", admin.email, target.email, admin.id, target.id,
            "Unknown browser on Unknown system", "<local>", "Moderator"}
    checked, failures = [], {}
    for path in _pages(app.app, target.id):
        for en_client, de_client in ((visitor, visitor), (admins["en"], admins["de"])):
            en = await en_client.get(path, headers=EN)
            if en.status_code != 200 or "text/html" not in en.content_type:
                continue
            de = await de_client.get(path, headers=DE)
            assert de.status_code == 200
            en_html, de_html = await en.get_data(as_text=True), await de.get_data(as_text=True)
            assert '<html lang="de"' in de_html and '<html lang="en"' in en_html, path
            left = english_left(en_html, de_html, data)
            if left:
                failures[path] = sorted(left)
            checked.append(path)
    assert len(set(checked)) >= 30, checked
    assert not failures, f"English left on German pages: {failures}"


async def test_form_errors_and_flow_messages_follow_the_locale(
        client: Any, make_user: Any) -> None:
    await make_user("hanna")
    page = await client.get("/auth/login", headers=DE)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"',
                      await page.get_data(as_text=True))
    assert token is not None
    refused = await client.post("/auth/login", headers={**DE, "Origin": ORIGIN}, form={
        "csrf_token": token.group(1), "username_or_email": "hanna", "password": "wrong"})
    html = await refused.get_data(as_text=True)
    assert "Benutzername/E-Mail oder Passwort ist falsch." in html
    empty = await client.post("/auth/signup", headers={**DE, "Origin": ORIGIN}, form={
        "csrf_token": token.group(1), "username": "", "email": "", "password": ""})
    assert "Dieses Feld ist erforderlich." in await empty.get_data(as_text=True)
    api = await client.post("/auth/signup", headers={**DE, "Origin": ORIGIN}, json={
        "username": "x!", "email": "not-an-address", "password": "short"})
    messages = [e["message"] for e in (await api.get_json())["errors"]]
    assert messages == ["Geben Sie eine gültige E-Mail-Adresse ein."]


async def test_dates_are_written_as_the_viewer_reads_them(
        app: Any, svc: AuthService, make_user: Any, clock: FakeClock) -> None:
    await make_user("zelda", roles=(("SuperAdmin", "global"),))
    target = await make_user("tobias")
    clients = {lang: await _signed_in(app, "zelda", h) for lang, h in (("en", EN), ("de", DE))}
    day = i18n.format_datetime(target.created_at, "de")
    assert re.fullmatch(r"\d\d\.\d\d\.\d{4}, \d\d:\d\d UTC", day)
    german = await (await clients["de"].get(f"/admin/users/{target.id}", headers=DE)
                    ).get_data(as_text=True)
    english = await (await clients["en"].get(f"/admin/users/{target.id}", headers=EN)
                     ).get_data(as_text=True)
    assert day in german and i18n.format_datetime(target.created_at, "en") in english


@pytest.mark.settings(LOCALES=["en"])
async def test_locales_limit_what_accept_language_can_pick(client: Any) -> None:
    html = await (await client.get("/auth/login", headers=DE)).get_data(as_text=True)
    assert '<html lang="en"' in html and "Sign in" in html


async def test_the_application_can_choose_the_locale(app: Any, client: Any) -> None:
    app.app.extensions["authtuna"].locale_selector(lambda: "de")
    html = await (await client.get("/auth/login", headers=EN)).get_data(as_text=True)
    assert '<html lang="de"' in html and "Anmelden" in html


async def test_a_mail_is_written_in_the_language_of_the_request_that_sent_it(
        client: Any, svc: AuthService) -> None:
    await client.post("/auth/signup", headers={**DE, "Origin": ORIGIN}, json={
        "username": "greta", "email": "greta@example.com",
        "password": "correct horse battery staple"})
    await svc.mail.drain()
    mail = svc.mail.outbox.last("verification", "greta@example.com")
    assert mail is not None
    assert mail.subject == "Bestätigen Sie Ihre E-Mail-Adresse für AuthTuna"
    assert "Hallo greta," in mail.text and 'lang="de"' in mail.html


def test_every_mail_has_a_sample_context() -> None:
    """A new mail needs an entry in preview_templates.EMAIL_CONTEXT, so the next test
    renders it in both languages."""
    kinds = {p.name.split(".")[0] for p in (TEMPLATES / "authtuna" / "email").glob(
        "*.subject.txt")}
    assert kinds == set(EMAIL_CONTEXT), kinds ^ set(EMAIL_CONTEXT)


@pytest.mark.parametrize("kind", sorted(EMAIL_CONTEXT))
async def test_every_mail_is_german_in_german(kind: str) -> None:
    render = default_renderer()
    context = {"app_name": "Tuna Cloud", "username": "alice", **EMAIL_CONTEXT[kind]}
    rendered = {}
    for locale in ("en", "de"):
        token = i18n.use_locale(locale)
        try:
            rendered[locale] = [await render(f"email/{kind}.{part}",
                                             {**context, "authtuna_locale": locale})
                                for part in ("subject.txt", "txt", "html")]
        finally:
            i18n.reset_locale(token)
    data = {str(v) for v in context.values()}
    (en_subject, en_text, en_html), (de_subject, de_text, de_html) = rendered["en"], rendered["de"]
    assert en_subject.strip() != de_subject.strip()
    left = english_left(en_html, de_html, data)
    def words(line: str) -> bool:  # two words of its own, besides the data it shows
        for value in sorted(data, key=len, reverse=True):
            line = line.replace(value, "")
        return bool(re.search(r"[A-Za-z]{2,}\W+[A-Za-z]{2,}", line))

    lines = {line.strip() for line in en_text.splitlines() if words(line)}
    left |= {line for line in lines if line in {d.strip() for d in de_text.splitlines()}}
    assert not left, f"{kind}: English left in the German mail: {sorted(left)}"
