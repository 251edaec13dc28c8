"""The one exception tree of quart-authtuna's core.

::

    AuthTunaError
    ├── ConfigurationError          settings that cannot run (lists every problem)
    ├── AuthenticationError
    │   ├── InvalidCredentials       generic: unknown user, wrong password, unusable hash
    │   ├── AccountSuspended
    │   ├── EmailNotVerified
    │   ├── SocialSignInFailed(reason) a provider sign-in that did not work (code = reason)
    │   ├── MfaRequired
    │   │   └── MfaPending(handle)   the facade's login: the second factor is next
    │   └── ReauthenticationRequired
    ├── AuthorizationError
    │   ├── PermissionDenied
    │   └── EscalationDenied         an RBAC change the actor may not make
    ├── InputError(errors)           semantic validation, one FieldError per problem
    │   ├── PasswordRejected
    │   └── IdentifierTaken
    ├── TokenError
    │   ├── TokenInvalid
    │   ├── TokenExpired
    │   └── TokenAlreadyUsed
    ├── RateLimited(retry_after)
    ├── DatabaseUnavailable(retry_after)  unreachable, refusing, or no free connection
    ├── NotFound
    └── ConflictError
        ├── UsernameTaken            sign-up link: the username was taken meanwhile
        └── AccountExists            sign-up link: the address got an account meanwhile

Core errors carry a stable ``code`` and no HTTP status: the web layer maps them.
"""

from __future__ import annotations

from collections.abc import Iterable

from .i18n import N_, gettext
from .types import FieldError


class AuthTunaError(Exception):
    """Base of every error raised by quart-authtuna."""

    code = "error"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.__doc__ or self.code)

    @property
    def message(self) -> str:
        """The message in the current locale (``args[0]`` keeps the original for logs)."""
        return gettext(str(self.args[0]))


class ConfigurationError(AuthTunaError):
    """The settings cannot be used as they are; ``problems`` lists each one."""

    code = "configuration"

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        listing = "\n  - ".join(self.problems)
        super().__init__(f"Invalid quart-authtuna configuration:\n  - {listing}")


class AuthenticationError(AuthTunaError):
    """The caller could not be authenticated."""

    code = "unauthenticated"


class InvalidCredentials(AuthenticationError):
    """Invalid username/email or password."""

    code = "invalid_credentials"


class AccountSuspended(AuthenticationError):
    """The account is suspended."""

    code = "account_suspended"


class EmailNotVerified(AuthenticationError):
    """Please confirm your email address first: we have sent you a new link."""

    code = "email_not_verified"


class SocialSignInFailed(AuthenticationError):
    """Signing in with the provider did not work. Please try again.

    ``code`` is the reason: ``access_denied``, ``provider_error``, ``state_invalid``,
    ``pkce_missing``, ``token_invalid``, ``provider_unavailable``,
    ``provider_response_invalid``, ``email_missing``, ``email_unverified``,
    ``link_required``, ``already_linked``, ``last_sign_in_method``, ``not_connected``.
    """

    code = "social_signin_failed"

    def __init__(self, reason: str, message: str | None = None) -> None:
        super().__init__(message)
        self.code = reason


class MfaRequired(AuthenticationError):
    """A second factor is needed to finish signing in."""

    code = "mfa_required"


class MfaPending(MfaRequired):
    """Raised by the facade's ``login``: ``handle`` resumes the sign-in at the second factor."""

    def __init__(self, handle: str, user_id: str) -> None:
        super().__init__(N_("Enter the code from your authenticator app to finish signing in."))
        self.handle = handle
        self.user_id = user_id


class ReauthenticationRequired(AuthenticationError):
    """This action needs a recent sign-in."""

    code = "reauthentication_required"


class AuthorizationError(AuthTunaError):
    """The authenticated caller may not do this."""

    code = "forbidden"


class PermissionDenied(AuthorizationError):
    """A required permission or role is missing."""

    code = "permission_denied"


class EscalationDenied(AuthorizationError):
    """The actor may not make this role or permission change."""

    code = "escalation_denied"


class InputError(AuthTunaError):
    """Input was well-formed but breaks a rule; ``errors`` holds one FieldError per problem."""

    code = "invalid_input"

    def __init__(self, errors: Iterable[FieldError] | FieldError, message: str | None = None):
        self.errors = [errors] if isinstance(errors, FieldError) else list(errors)
        super().__init__(message or "; ".join(e.message for e in self.errors) or self.code)

    @property
    def message(self) -> str:
        """Each field's message in the current locale, unless one message was given."""
        joined = "; ".join(e.message for e in self.errors)
        if str(self.args[0]) != joined:
            return gettext(str(self.args[0]))
        return "; ".join(gettext(e.message) for e in self.errors)


class PasswordRejected(InputError):
    """The password does not meet the password policy."""

    code = "password_rejected"


class IdentifierTaken(InputError):
    """That username or email cannot be used."""

    code = "identifier_taken"


class TokenError(AuthTunaError):
    """A single-use token could not be redeemed."""

    code = "token_invalid"


class TokenInvalid(TokenError):
    """The link or code is invalid or has already been used."""

    code = "token_invalid"


class TokenExpired(TokenError):
    """The link or code has expired."""

    code = "token_expired"


class TokenAlreadyUsed(TokenError):
    """The link or code has already been used."""

    code = "token_used"


class RateLimited(AuthTunaError):
    """Too many attempts; try again later."""

    code = "rate_limited"

    def __init__(self, retry_after: float, message: str | None = None) -> None:
        self.retry_after = max(0.0, float(retry_after))
        super().__init__(message or N_("Too many attempts. Please try again later."))


class DatabaseUnavailable(AuthTunaError):
    """The database cannot be reached now (down, refusing connections, or every pooled
    connection busy past DATABASE_POOL_TIMEOUT); nothing was changed. Try again later."""

    code = "unavailable"

    def __init__(self, retry_after: float, message: str | None = None) -> None:
        self.retry_after = max(0.0, float(retry_after))
        super().__init__(message or "The service is temporarily unavailable. Please try "
                         "again in a moment.")


class NotFound(AuthTunaError):
    """The requested object does not exist."""

    code = "not_found"


class ConflictError(AuthTunaError):
    """The change conflicts with the current state."""

    code = "conflict"


class UsernameTaken(ConflictError):
    """Someone took this username first: please sign up again with another username."""

    code = "username_taken"


class AccountExists(ConflictError):
    """This email address already has an account: sign in, or reset your password."""

    code = "account_exists"
