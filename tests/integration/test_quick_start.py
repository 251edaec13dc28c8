"""The README's quick start, as a newcomer runs it: the wheel in a fresh virtualenv, exactly
the README's ``app.py`` under Hypercorn, sign-up with the link read from the console, the
signed-in page; then a restart, after which the same account still signs in."""

from __future__ import annotations

import re
import stat
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2
import pytest

from tests._support.live_server import free_port
from tests._support.snippets import quick_start_code
from tests._support.web import CSRF_RE
from tests._support.wheel import build_wheel, install_in_fresh_venv

PASSWORD = "a long passphrase of my own"


class Browser:
    """Plain HTTP with a cookie jar that keeps Secure cookies on http://localhost, as
    browsers do (localhost is a secure context)."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, **kwargs: object) -> httpx2.Response:
        url = path if path.startswith("http") else self.origin + path
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if method == "POST":
            headers["Origin"] = self.origin
        response = httpx2.request(method, url, headers=headers, timeout=30, **kwargs)  # type: ignore[arg-type]
        for line in response.headers.get_list("set-cookie"):
            name, _, rest = line.partition("=")
            value = rest.split(";", 1)[0]
            if value and "Max-Age=0" not in line:
                self.cookies[name] = value
            else:
                self.cookies.pop(name, None)
        return response

    def submit(self, path: str, data: dict[str, str]) -> httpx2.Response:
        """GET the form's page, then POST it with the page's CSRF token."""
        page = self.request("GET", path)
        match = CSRF_RE.search(page.text)
        assert match, f"no csrf_token on {path} ({page.status_code})"
        return self.request("POST", path, data={**data, "csrf_token": match[1] or match[2]})

    def sign_in(self, username: str) -> httpx2.Response:
        answer = self.submit("/auth/login?next=/", {"username_or_email": username,
                                                    "password": PASSWORD, "next": "/"})
        assert answer.status_code in (302, 303), answer.text
        assert answer.headers["location"].endswith("/"), answer.headers
        return self.request("GET", "/")


@contextmanager
def hypercorn(python: Path, env: dict[str, str], project: Path, console: Path,
              port: int) -> Iterator[None]:
    """``hypercorn app:app`` in ``project``, its stderr (the console) appended to a file."""
    with console.open("ab") as err:
        server = subprocess.Popen(
            [python, "-m", "hypercorn", "app:app", "--bind", f"127.0.0.1:{port}"],
            cwd=project, env=env, stdout=err, stderr=err)
    try:
        for _ in range(300):
            try:
                httpx2.get(f"http://127.0.0.1:{port}/auth/login", timeout=1)
                break
            except httpx2.TransportError:
                assert server.poll() is None, console.read_text()
                time.sleep(0.1)
        yield
    finally:
        server.terminate()
        server.wait(timeout=30)


def link_from_console(console: Path, path: str, timeout: float = 15) -> str:
    """The first link to ``path`` printed on the console (mail goes out in the background)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.search(r"https?://\S+" + re.escape(path) + r"\?token=\S+", console.read_text())
        if found:
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"no {path} link on the console:\n{console.read_text()}")


@pytest.mark.slow
def test_readme_quick_start_from_the_wheel(tmp_path: Path) -> None:
    python, env = install_in_fresh_venv(build_wheel(tmp_path / "dist"), tmp_path / "venv")
    project = tmp_path / "project"
    project.mkdir()
    (project / "app.py").write_text(quick_start_code())
    port = free_port()
    origin = f"http://localhost:{port}"
    env["AUTHTUNA_API_BASE_URL"] = origin  # the README serves on 5000; the test on a free port
    console = tmp_path / "console.txt"
    browser = Browser(origin)

    with hypercorn(python, env, project, console, port):
        guarded = browser.request("GET", "/")
        assert guarded.status_code == 302
        assert guarded.headers["location"].startswith("/auth/login")
        assert "Create one" in browser.request("GET", "/auth/login").text
        answer = browser.submit("/auth/signup", {"username": "ada", "email": "ada@example.com",
                                                 "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        assert "Check your email" in answer.text
        link = link_from_console(console, "/auth/verify")
        assert link.startswith(origin + "/auth/verify?token=")
        confirmed = browser.submit(link.removeprefix(origin), {"token": link.split("=", 1)[1]})
        assert confirmed.status_code == 200, confirmed.text
        home = browser.sign_in("ada")
        assert home.status_code == 200
        assert home.text == "Hello ada, you are signed in."

    text = console.read_text()
    secrets_file = project / "instance" / "authtuna-dev-secrets.json"
    assert f"Stand-in secrets are kept in {secrets_file}\n" in text, text
    assert "Development email (not sent: EMAIL_ENABLED is off)" in text
    assert "To: ada@example.com" in text
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    assert not [p for p in (tmp_path / "venv").rglob("*dev-secrets*")], "inside the package"
    stored = secrets_file.read_text()

    # Restart: same secrets, so the old session cookie and the password still work.
    with hypercorn(python, env, project, console, port):
        assert browser.request("GET", "/").text == "Hello ada, you are signed in."
        browser.cookies.clear()
        assert browser.sign_in("ada").text == "Hello ada, you are signed in."
    assert secrets_file.read_text() == stored
    print("\n--- what a newcomer sees on the console ---\n" + console.read_text())
