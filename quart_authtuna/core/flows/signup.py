"""Sign-up that never reveals whether an email already has an account."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..db.models import User
from ..errors import IdentifierTaken
from ..identifiers import clean_email, clean_username
from ..types import FieldError
from .email_verification import send_verification

if TYPE_CHECKING:
    from ..service import AuthService


@dataclass(frozen=True, slots=True)
class SignupAccepted:
    """Always the same to the caller; ``user`` is set only when an account was created."""

    user: User | None


async def signup(svc: AuthService, username: str, email: str, password: str,
                 ip_address: str | None = None) -> SignupAccepted:
    """Create an unverified account and email a confirmation link.

    For an email that already has an account nothing is created: the owner gets a notice
    instead, and the caller sees the same result after the same work (one bcrypt hash).
    A taken username is reported, as usernames are public.
    """
    email = clean_email(email, svc.settings.email_domains)
    username = clean_username(username)
    svc.passwords.policy.enforce(password, username=username, email=email)
    existing = await svc.users.get_by_email(email)
    if existing is not None:
        await svc.passwords.hash(password)  # same cost as the path that creates an account
        svc.mail.send_later("account_exists", existing.email, username=existing.username,
                            login_url=svc.mail.link(f"{svc.settings.auth_prefix}/login"),
                            reset_url=svc.mail.link(f"{svc.settings.auth_prefix}/forgot-password"))
        return SignupAccepted(None)
    if await svc.users.get_by_username(username) is not None:
        raise IdentifierTaken(FieldError("username_taken", "That username is taken.", "username"))
    verified = not svc.settings.require_email_verification
    user = await svc.users.create(email, username, password, ip_address=ip_address,
                                  email_verified=verified)
    await svc.audit.log_event("USER_SIGNUP_COMPLETED", user.id, ip_address)
    if not verified:
        await send_verification(svc, user)
    return SignupAccepted(user)
