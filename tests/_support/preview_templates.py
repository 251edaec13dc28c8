"""Render every bundled page and email template to /tmp/preview and screenshot them with Chromium.

Not a test: a developer aid for checking the look of the templates without running the app.

    .venv/bin/python tests/_support/preview_templates.py            # render + screenshot
    .venv/bin/python tests/_support/preview_templates.py --no-shots # render HTML only
    .venv/bin/python tests/_support/preview_templates.py --save     # also copy PNGs to
                                                                    # tests/artifacts/ui-preview/
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Undefined, select_autoescape
from wtforms import BooleanField, EmailField, Form, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from quart_authtuna.web.redirects import safe_next

ROOT = Path(__file__).resolve().parents[2]
OUT = Path("/tmp/preview")
SAVE = ROOT / "tests" / "artifacts" / "ui-preview"
SIZES = {"desktop": (1280, 900), "mobile": (390, 844)}
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"


# ---- forms with the field names the views use ----------------------------------------

class LoginForm(Form):
    username_or_email = StringField("Username or email", [DataRequired()])
    password = PasswordField("Password", [DataRequired()])
    next = HiddenField()


class SignupForm(Form):
    username = StringField("Username", [DataRequired(), Length(min=3, max=32)])
    email = EmailField("Email", [DataRequired()])
    password = PasswordField("Password", [DataRequired(), Length(min=10)])
    accept = BooleanField("Email me about product updates")


class EmailForm(Form):
    email = EmailField("Email", [DataRequired()])


class ResetForm(Form):
    token = HiddenField()
    new_password = PasswordField("New password", [DataRequired()])


class ChangeForm(Form):
    current_password = PasswordField("Current password", [DataRequired()])
    new_password = PasswordField("New password", [DataRequired()])


class TokenForm(Form):
    token = HiddenField()


class ReauthForm(Form):
    password = PasswordField("Password", [DataRequired()])
    next = HiddenField()


def _with_errors(form: Form, **errors: list[str]) -> Form:
    for name, messages in errors.items():
        form[name].errors = list(messages)
    return form


# ---- environment ---------------------------------------------------------------------

def _load_theme_module() -> Any:
    """quart_authtuna.core.theme, loaded by path: it has no package imports, and this keeps the
    preview working while other modules of the package are mid-edit."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "_authtuna_theme_preview", ROOT / "quart_authtuna" / "core" / "theme.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up while building the class
    spec.loader.exec_module(module)
    return module


def _theme_files() -> tuple[Path, Path]:
    """The generated theme CSS (system mode) and a variant with the dark palette forced on."""
    theme = _load_theme_module()
    OUT.mkdir(parents=True, exist_ok=True)
    light = OUT / "theme.css"
    light.write_text(theme.Theme().css())
    dark = OUT / "theme-dark.css"
    dark.write_text(theme.Theme(mode="single", light=theme.DARK).css())
    return light, dark


def make_env(theme_url: str, strict: bool = False) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(ROOT / "templates")),
        autoescape=select_autoescape(["html", "htm", "xml"]),
        undefined=StrictUndefined if strict else Undefined,
    )
    static = ROOT / "static" / "authtuna"
    env.globals.update(
        url_for=lambda name, **kw: "/auth/" + name.rsplit(".", 1)[-1],
        authtuna_static=lambda path: (static / path).as_uri(),
        authtuna_theme_url=theme_url,
        authtuna_safe_next=safe_next,
    )
    return env


BASE = {"app_name": "Tuna Cloud"}


def pages() -> dict[str, tuple[str, Callable[[], dict[str, Any]]]]:
    """Preview name -> (template, context factory)."""
    return {
        "login": ("auth/login.html", lambda: {"form": LoginForm(next="/dashboard"),
                                              "passwordless_enabled": True}),
        "login-error": ("auth/login.html", lambda: {
            "form": LoginForm(username_or_email="alice@example.com"),
            "error": "That email and password don't match an account.",
        }),
        "signup": ("auth/signup.html", lambda: {"form": SignupForm(), "password_min_length": 10}),
        "signup-errors": ("auth/signup.html", lambda: {
            "form": _with_errors(
                SignupForm(username="al", email="alice@example"),
                username=["Usernames need at least 3 characters."],
                email=["Enter a valid email address."],
                password=["This password appears in a list of leaked passwords.",
                          "Use at least 10 characters."],
            ),
            "password_min_length": 10,
        }),
        "forgot_password": ("auth/forgot_password.html", lambda: {
            "form": EmailForm(),
            "notice": "If an account uses that address, a reset link is on its way.",
        }),
        "reset_password": ("auth/reset_password.html", lambda: {
            "form": ResetForm(token="abc"), "password_min_length": 10}),
        "reset_password-expired": ("auth/reset_password.html", lambda: {
            "form": _with_errors(ResetForm(token="abc"),
                                 token=["This reset link has expired. Ask for a new one."]),
        }),
        "change_password": ("auth/change_password.html", lambda: {
            "form": ChangeForm(), "password_min_length": 10}),
        "verify_email": ("auth/verify_email.html", lambda: {"form": TokenForm(token="t")}),
        "resend_verification": ("auth/resend_verification.html", lambda: {"form": EmailForm()}),
        "passwordless_request": ("auth/passwordless_request.html", lambda: {"form": EmailForm()}),
        "passwordless_confirm": ("auth/passwordless_confirm.html",
                                 lambda: {"form": TokenForm(token="t")}),
        "reauthenticate": ("auth/reauthenticate.html", lambda: {
            "form": ReauthForm(next="/settings"), "username": "alice"}),
        "message": ("auth/message.html", lambda: {
            "title": "Check your inbox",
            "message": "We sent a confirmation link to alice@example.com. "
                       "It expires in 24 hours.",
            "link_url": "/auth/login", "link_label": "Back to sign in",
        }),
        "error-403": ("errors/403.html", lambda: {"status": 403}),
        "error-404": ("errors/error.html", lambda: {
            "status": 404, "title": "Page not found",
            "message": "The page you were looking for doesn't exist or has moved.",
        }),
        "escaping": ("auth/message.html", lambda: {
            "app_name": "<b>Evil & Co</b>",
            "title": "<script>alert(1)</script>",
            "message": "<img src=x onerror=alert(1)>",
            "link_url": "javascript:alert(1)", "link_label": "<i>x</i>",
        }),
    }


EMAIL_CONTEXT: dict[str, dict[str, Any]] = {
    "verification": {"verification_link": "https://tuna.example/auth/verify-email?token=eyJhbGciOi.abc123"},
    "welcome": {"login_url": "https://tuna.example/auth/login"},
    "password_reset": {"reset_link": "https://tuna.example/auth/reset-password?token=Zm9vYmFy.xyz",
                       "expires_minutes": 30},
    "password_change": {"login_url": "https://tuna.example/auth/forgot-password"},
    "new_login": {"ip_address": "203.0.113.42", "device": "Firefox on macOS",
                  "region": "Lisbon, Portugal", "login_time": "12 March 2025, 09:41 UTC"},
    "session_flagged": {"ip_address": "203.0.113.42", "device": "Chrome on Windows",
                        "when": "2025-03-12 09:41 UTC"},
    "passwordless_login": {"login_link": "https://tuna.example/auth/passwordless/confirm?token=q1w2e3",
                           "expires_minutes": 15},
    "email_change_confirm": {"confirm_link": "https://tuna.example/ui/profile/email/confirm?token=c0nf1rm",
                             "new_email": "alice.new@example.org", "expires_minutes": 60},
    "email_change_notice": {"secure_url": "https://tuna.example/auth/forgot-password",
                            "new_email": "alice.new@example.org"},
    "email_changed": {"new_email": "alice.new@example.org", "changed_at": "2025-03-12 09:41 UTC",
                      "ip_address": "203.0.113.42"},
    "new_social_account_connected": {"provider_name": "GitHub"},
    "api_key_created": {"key_name": "Deploy bot", "key_type": "Secret key",
                        "scopes": "ProjectViewer:project:apollo",
                        "expires_at": "2026-03-12 09:41 UTC",
                        "created_at": "2025-03-12 09:41 UTC", "device": "Firefox on macOS",
                        "region": "Lisbon, Portugal", "ip_address": "203.0.113.42",
                        "secure_url": "https://tuna.example/auth/forgot-password"},
}


def screenshot(html: Path, png: Path, size: tuple[int, int]) -> None:
    profile = tempfile.mkdtemp(prefix="at-chromium-")
    try:
        subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--no-first-run", "--hide-scrollbars", f"--user-data-dir={profile}",
             "--allow-file-access-from-files", f"--screenshot={png}",
             f"--window-size={size[0]},{size[1]}", html.as_uri()],
            check=True, capture_output=True, timeout=120,
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-shots", action="store_true", help="render HTML only")
    parser.add_argument("--save", action="store_true",
                        help="copy PNGs to tests/artifacts/ui-preview")
    parser.add_argument("--only", nargs="*", help="preview names to render (default: all)")
    args = parser.parse_args(argv)

    light_css, dark_css = _theme_files()
    rendered: list[tuple[str, Path]] = []
    for variant, css in (("", light_css), ("dark-", dark_css)):
        env = make_env(css.as_uri(), strict=False)
        for name, (template, factory) in pages().items():
            if variant and name not in {"login", "signup-errors", "error-403", "reauthenticate"}:
                continue
            if args.only and name not in args.only:
                continue
            context = {**BASE, **factory()}
            out = OUT / f"{variant}{name}.html"
            out.write_text(env.get_template(f"authtuna/{template}").render(**context))
            rendered.append((f"{variant}{name}", out))

    env = make_env(light_css.as_uri(), strict=True)
    for name, extra in EMAIL_CONTEXT.items():
        if args.only and f"email-{name}" not in args.only:
            continue
        context = {**BASE, "username": "alice", **extra}
        subject = env.get_template(f"authtuna/email/{name}.subject.txt").render(**context)
        assert "\n" not in subject.strip(), f"{name} subject has more than one line"
        text = env.get_template(f"authtuna/email/{name}.txt").render(**context)
        (OUT / f"email-{name}.txt").write_text(f"Subject: {subject.strip()}\n\n{text}")
        for value in extra.values():
            if isinstance(value, str) and value.startswith("https://"):
                assert value in text, f"{name}.txt lacks the full link {value}"
        out = OUT / f"email-{name}.html"
        out.write_text(env.get_template(f"authtuna/email/{name}.html").render(**context))
        rendered.append((f"email-{name}", out))

    print(f"rendered {len(rendered)} pages to {OUT}")
    if args.no_shots:
        return 0
    if args.save:
        SAVE.mkdir(parents=True, exist_ok=True)
    for name, html in rendered:
        for label, size in SIZES.items():
            png = OUT / f"{name}-{label}.png"
            screenshot(html, png, size)
            if args.save:
                shutil.copy(png, SAVE / png.name)
    print(f"screenshots in {OUT}" + (f" and {SAVE}" if args.save else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
