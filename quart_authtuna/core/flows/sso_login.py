"""Social sign-in: start at a provider, come back, and apply the linking policy.

=====================================  ==================================================
Callback finds                          Outcome
=====================================  ==================================================
identity linked to a user               that user signs in through the shared first-factor
                                        step (MFA applies; a suspended user is refused)
not linked, started from settings       linked to the signed-in user (connect; fresh login)
not linked, a local account has the     refused (``link_required``): sign in to it first,
same email                              then connect; with SSO_LINK_VERIFIED_EMAIL on and
                                        both emails verified, linked and signed in
not linked, new email                   an account (email verified), or a username form
                                        when the provider's name is taken or unusable
provider email missing or unverified    refused (except for an identity already linked)
=====================================  ==================================================

``state`` is a challenge bound to the browser, single-use and expiring; it carries the
``nonce``, the PKCE verifier and the safe ``next``. Every link mails
``new_social_account_connected`` and writes an audit row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..challenges import ChallengeStore
from ..crypto.tokens import random_token
from ..db.models import User
from ..db.unit_of_work import UnitOfWork
from ..errors import AccountSuspended, NotFound, SocialSignInFailed, TokenError
from ..i18n import N_, gettext
from ..identifiers import USERNAME_MAX, canonical_username, username_problems
from ..mail import Mailer
from ..managers.audit import AuditManager
from ..managers.social import SocialAccountManager
from ..managers.users import UserManager
from ..settings import Settings
from ..signals import social_account_connected, social_account_disconnected, social_signed_in
from ..sso.client import ProviderIdentity, SocialClient
from ..sso.providers import Provider
from ..types import RequestMeta
from .first_factor import FirstFactor
from .results import (
    SignInResult,
    SocialConnected,
    SocialDisconnected,
    SocialReturned,
    SocialUsernameNeeded,
)

STATE, SIGNUP = "oauth_state", "sso_signup"
STATE_TTL, SIGNUP_TTL = 600.0, 900.0
_STALE = N_("This sign-in link is no longer valid: it expired, was used, or was started in "
            "another browser. Please start again.")


@dataclass(frozen=True, slots=True)
class Connection:
    """A provider on the settings page, and the user's link to it (None: not connected)."""

    provider: Provider
    subject: str | None
    created_at: float | None


@dataclass(frozen=True, slots=True)
class SocialSignIn:
    """The social sign-in journeys (begin, callback, username, connect, disconnect)."""

    _db: UnitOfWork
    _settings: Settings
    providers: dict[str, Provider]
    _client: SocialClient
    _accounts: SocialAccountManager
    _users: UserManager
    _challenges: ChallengeStore
    _audit: AuditManager
    _mail: Mailer
    _first_factor: FirstFactor

    def provider(self, name: str) -> Provider:
        found = self.providers.get(name)
        if found is None:
            raise NotFound(N_("No such sign-in provider."))
        return found

    def callback_url(self, provider: Provider) -> str:
        s = self._settings
        return provider.redirect_uri or f"{s.api_base_url.rstrip('/')}{s.auth_prefix}/" \
            f"{provider.name}/callback"

    async def begin(self, name: str, binding: str, next_url: str, *,
                    connect_user: str | None = None) -> str:
        """The provider's authorization URL; ``connect_user`` links instead of signing in."""
        provider = self.provider(name)
        state, nonce, verifier = random_token(32), random_token(24), random_token(48)
        url = await self._client.authorization_url(provider, self.callback_url(provider),
                                                   state=state, nonce=nonce, verifier=verifier)
        await self._challenges.create(
            STATE, user_id=connect_user, ttl=STATE_TTL, binding=binding, handle=state,
            data={"provider": name, "nonce": nonce, "verifier": verifier, "next": next_url,
                  "connect": connect_user})
        return url

    async def complete(self, name: str, params: dict[str, str], binding: str,
                       meta: RequestMeta, signed_in_user: str | None) -> SocialReturned:
        """The callback: one use of ``state``, the code exchange, then the linking policy."""
        provider = self.provider(name)
        try:
            row = await self._challenges.consume(params.get("state") or "-", STATE,
                                                 binding=binding)
        except TokenError as exc:
            raise SocialSignInFailed("state_invalid", _STALE) from exc
        data: dict[str, Any] = dict(row.data)
        if data.get("provider") != name:
            raise SocialSignInFailed("state_invalid", _STALE)
        if params.get("error"):
            reason = "access_denied" if params["error"] == "access_denied" else "provider_error"
            raise SocialSignInFailed(reason, gettext(
                "Signing in with %(provider)s was cancelled or refused.")
                % {"provider": provider.display_name})
        if not data.get("verifier") or not data.get("nonce"):
            raise SocialSignInFailed("pkce_missing", _STALE)
        if not params.get("code"):
            raise SocialSignInFailed("provider_error", gettext("%(provider)s sent no code.")
                                     % {"provider": provider.display_name})
        identity = await self._client.identity(
            provider, self.callback_url(provider), code=params["code"],
            verifier=str(data["verifier"]), nonce=str(data["nonce"]))
        next_url = str(data.get("next") or "/")
        connect = data.get("connect")
        if connect:
            if connect != signed_in_user:
                raise SocialSignInFailed("state_invalid", _STALE)
            return SocialReturned(await self._connect(str(connect), identity, meta), next_url)
        return SocialReturned(await self._sign_in(provider, identity, meta, binding), next_url)

    async def _sign_in(self, provider: Provider, identity: ProviderIdentity, meta: RequestMeta,
                       binding: str) -> SignInResult | SocialUsernameNeeded:
        async with self._db.transaction() as tx:
            found = await self._account_for(tx, provider, identity, meta, binding)
        if isinstance(found, SocialUsernameNeeded):
            return found
        if found is None:
            raise SocialSignInFailed("link_required", gettext(
                "An account with this email address already exists. Sign in to it first, "
                "then connect %(provider)s from your settings.")
                % {"provider": provider.display_name})
        return await self._first_factor.finished(found, meta, f"sso:{provider.name}")

    async def _account_for(self, tx: AsyncSession, provider: Provider,
                           identity: ProviderIdentity, meta: RequestMeta, binding: str
                           ) -> User | SocialUsernameNeeded | None:
        """The user to sign in, a username form, or None (link refused, audited)."""
        linked = await self._accounts.find(tx, identity.provider, identity.subject)
        if linked is not None:
            user = await tx.get(User, linked.user_id)
            if user is None or not user.is_active:
                raise AccountSuspended()
            self._accounts.used(linked, identity.token)
            self._signed_in(tx, user, identity, meta)
            return user
        email = _checked_email(provider, identity)
        local = await self._users.get_by_email(email, tx)
        if local is not None:
            if not (self._settings.sso_link_verified_email and local.email_verified):
                self._audit.record(tx, "SOCIAL_LINK_REFUSED", user_id=local.id,
                                   ip_address=meta.ip_address,
                                   details={"provider": provider.name})
                return None
            if not local.is_active:
                raise AccountSuspended()
            await self._link(tx, local, identity, meta)
            self._signed_in(tx, local, identity, meta)
            return local
        username = suggested_username(identity)
        if username_problems(username) or await self._users.get_by_username(
                username, tx) is not None:
            return await self._username_needed(tx, identity, username, binding)
        return await self._create(tx, identity, username, meta)

    async def choose_username(self, handle: str, binding: str, username: str,
                              meta: RequestMeta) -> SignInResult:
        """Finish a sign-up that needed a username; the handle is used once, on success."""
        try:
            row = await self._challenges.get(handle, SIGNUP, binding=binding)
        except TokenError as exc:
            raise SocialSignInFailed("state_invalid", _STALE) from exc
        d = dict(row.data)
        identity = ProviderIdentity(d["provider"], d["subject"], d["email"], True, d["name"],
                                    "")
        provider = self.provider(identity.provider)
        async with self._db.transaction() as tx:
            if await self._accounts.find(tx, identity.provider, identity.subject) is not None:
                raise SocialSignInFailed("state_invalid", _STALE)
            user = await self._create(tx, identity, username, meta)
            try:
                await self._challenges.consume(handle, SIGNUP, binding=binding, session=tx)
            except TokenError as exc:
                raise SocialSignInFailed("state_invalid", _STALE) from exc
        return await self._first_factor.finished(user, meta, f"sso:{provider.name}")

    async def pending_username(self, handle: str, binding: str) -> SocialUsernameNeeded:
        """The pending sign-up behind ``handle`` (for its form)."""
        try:
            row = await self._challenges.get(handle, SIGNUP, binding=binding)
        except TokenError as exc:
            raise SocialSignInFailed("state_invalid", _STALE) from exc
        return SocialUsernameNeeded(handle, str(row.data["provider"]),
                                    str(row.data["suggestion"]))

    async def _username_needed(self, tx: AsyncSession, identity: ProviderIdentity,
                               suggestion: str, binding: str) -> SocialUsernameNeeded:
        handle = random_token(32)
        await self._challenges.create(
            SIGNUP, user_id=None, ttl=SIGNUP_TTL, binding=binding, handle=handle, session=tx,
            data={"provider": identity.provider, "subject": identity.subject,
                  "email": identity.email, "name": identity.name,
                  "suggestion": suggestion if not username_problems(suggestion) else ""})
        return SocialUsernameNeeded(handle, identity.provider, suggestion)

    async def _create(self, tx: AsyncSession, identity: ProviderIdentity, username: str,
                      meta: RequestMeta) -> User:
        assert identity.email is not None
        first, _, last = identity.name.partition(" ")
        user = await self._users.create(identity.email, username, ip_address=meta.ip_address,
                                        email_verified=identity.email_verified,
                                        first_name=first[:80] or None, last_name=last[:80] or None,
                                        session=tx)
        await self._link(tx, user, identity, meta)
        self._signed_in(tx, user, identity, meta)
        await self._mail.enqueue("welcome", user.email, session=tx, username=user.username,
                                 login_url=self._mail.link("login"))
        return user

    async def _connect(self, user_id: str, identity: ProviderIdentity, meta: RequestMeta
                       ) -> SocialConnected:
        name = self.provider(identity.provider).display_name
        async with self._db.transaction() as tx:
            linked = await self._accounts.find(tx, identity.provider, identity.subject)
            if linked is not None and linked.user_id == user_id:
                return SocialConnected(user_id, identity.provider, False)
            if linked is not None:
                raise SocialSignInFailed("already_linked", gettext(
                    "This %(provider)s account is connected to another account.")
                    % {"provider": name})
            if any(a.provider == identity.provider for a in await self._accounts.for_user(
                    tx, user_id)):
                raise SocialSignInFailed("already_linked", gettext(
                    "Another %(provider)s account is connected: disconnect it first.")
                    % {"provider": name})
            user = await tx.get(User, user_id)
            if user is None or not user.is_active:
                raise AccountSuspended()
            await self._link(tx, user, identity, meta)
        return SocialConnected(user_id, identity.provider, True)

    async def _link(self, tx: AsyncSession, user: User, identity: ProviderIdentity,
                    meta: RequestMeta) -> None:
        """The link, its audit row, its signal and its notice mail, all in ``tx``."""
        profile = {"email": identity.email, "name": identity.name,
                   "username": identity.username_hint}
        self._accounts.link(tx, user.id, identity.provider, identity.subject, identity.token,
                            profile)
        self._audit.record(tx, "SOCIAL_ACCOUNT_CONNECTED", user_id=user.id,
                           ip_address=meta.ip_address, details={"provider": identity.provider})
        self._db.emit(tx, social_account_connected, user_id=user.id, provider=identity.provider)
        display = self.provider(identity.provider).display_name
        await self._mail.enqueue("new_social_account_connected", user.email, session=tx,
                                 username=user.username, provider_name=display)

    def _signed_in(self, tx: AsyncSession, user: User, identity: ProviderIdentity,
                   meta: RequestMeta) -> None:
        self._audit.record(tx, "SOCIAL_LOGIN", user_id=user.id, ip_address=meta.ip_address,
                           details={"provider": identity.provider})
        self._db.emit(tx, social_signed_in, user_id=user.id, provider=identity.provider)

    async def connections(self, user_id: str) -> list[Connection]:
        async with self._db.transaction() as tx:
            linked = {a.provider: a for a in await self._accounts.for_user(tx, user_id)}
        return [Connection(p, getattr(linked.get(n), "provider_user_id", None),
                           getattr(linked.get(n), "created_at", None))
                for n, p in self.providers.items()]

    async def disconnect(self, user_id: str, name: str, meta: RequestMeta
                         ) -> SocialDisconnected:
        """Unlink the provider, unless it is the last way to sign in."""
        provider = self.provider(name)
        async with self._db.transaction() as tx:
            if await self._accounts.other_ways_in(tx, user_id, name) == 0:
                raise SocialSignInFailed("last_sign_in_method", (
                    f"{provider.display_name} is your only way to sign in: set a password or "
                    "add a passkey before disconnecting it."))
            if not await self._accounts.unlink(tx, user_id, name):
                raise SocialSignInFailed("not_connected",
                                         f"{provider.display_name} is not connected.")
            self._audit.record(tx, "SOCIAL_ACCOUNT_DISCONNECTED", user_id=user_id,
                               ip_address=meta.ip_address, details={"provider": name})
            self._db.emit(tx, social_account_disconnected, user_id=user_id, provider=name)
        return SocialDisconnected(user_id, name)


def _checked_email(provider: Provider, identity: ProviderIdentity) -> str:
    if not identity.email:
        raise SocialSignInFailed("email_missing", gettext(
            "%(provider)s did not share an email address, so we cannot create or find your "
            "account.") % {"provider": provider.display_name})
    if not identity.email_verified:
        raise SocialSignInFailed("email_unverified", gettext(
            "Your %(provider)s email address is not verified. Verify it there, then try again.")
            % {"provider": provider.display_name})
    return identity.email


def suggested_username(identity: ProviderIdentity) -> str:
    """The provider's username, else its name, else the email's local part, made tidy."""
    for raw in (identity.username_hint, identity.name.replace(" ", "."),
                (identity.email or "").partition("@")[0]):
        name = re.sub(r"[^\w.-]+", "", raw)[:USERNAME_MAX].strip("._-")
        if name and canonical_username(name):
            return name
    return ""
