"""AuthService: the public facade (upstream's names) and the composition root.

It builds every collaborator once and hands each one only what it uses; nothing below it
receives the service itself.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from .admin_queries import AdminQueries
from .admin_stats import AdminStats
from .audit_queries import AuditQueries
from .broadcast.choice import make_broadcaster
from .cleanup import Cleanup
from .crypto.cookie_codec import CookieCodec
from .crypto.fernet import Encryptor
from .crypto.passwords import PasswordHasher
from .crypto.pii import PiiCipher
from .db import pii_events, schema_setup
from .db.models import User
from .db.unit_of_work import AfterCommit, UnitOfWork
from .defaults import provision_defaults
from .device_trust import DeviceTrust
from .emailed_links import EmailedLinks
from .errors import MfaPending
from .flows import Flows
from .flows.account_deletion import AccountDeletion
from .flows.admin_permissions import AdminPermissions
from .flows.admin_roles import AdminRoles
from .flows.admin_users import AdminUsers
from .flows.api_keys import ApiKeys
from .flows.data_export import DataExport
from .flows.email_change import EmailChange
from .flows.email_verification import EmailVerification
from .flows.first_factor import FirstFactor
from .flows.invitations import Invitations
from .flows.login import PasswordLogin, Reauthentication
from .flows.logout import Logout
from .flows.magic_link import MagicLink
from .flows.mfa_challenge import MfaChallenge
from .flows.org_manager import OrganizationManager
from .flows.orgs import Organizations
from .flows.overview import AccountOverview
from .flows.passkey_login import PasskeyLogin
from .flows.passkey_signup import PasskeySignup
from .flows.passkeys import Passkeys
from .flows.passwords import Passwords
from .flows.profile import Profile
from .flows.recovery_login import RecoveryLogin
from .flows.results import MfaChallenged
from .flows.security_activity import SecurityActivity
from .flows.signup import Signup
from .flows.sso_login import SocialSignIn
from .flows.teams import Teams
from .flows.totp import Totp
from .flows.user_sessions import UserSessions
from .health import HealthCheck
from .links import LinkBuilder, PrefixLinks
from .lockout import LoginGate
from .mail import Mailer
from .mail_quota import MailQuota
from .managers.api_key_cache import PrincipalCache
from .managers.api_keys import ApiKeyManager
from .managers.audit import AuditManager
from .managers.mfa import MFAManager
from .managers.orgs import OrganizationStore
from .managers.passkeys import PasskeyManager
from .managers.pending_signups import PendingSignups
from .managers.permissions import PermissionManager
from .managers.roles import RoleManager
from .managers.sessions import IssuedSession, SessionManager
from .managers.social import SocialAccountManager
from .managers.tokens import IssuedToken, TokenManager
from .managers.users import UserManager
from .rbac.checker import RbacChecker
from .redis_state import make_state
from .revocation import Broadcaster, Revocation
from .role_queries import RoleQueries
from .sessions.cache import SessionCache
from .sessions.validator import SessionValidator
from .settings import Settings
from .settings_values import warn_inert
from .sso.client import SocialClient
from .sso.providers import configured_providers
from .types import Clock, RequestMeta, system_clock
from .why_denied import WhyDenied


class AuthService:
    """Everything the core can do, for one configuration and one database.

    Arguments:
        settings: resolved settings; development mode fills in ephemeral secrets. Settings
            that do nothing yet but were set each log a warning here.
        clock: returns epoch seconds; tests inject a controllable one.
        links: builds the absolute links put in emails (the web layer passes url_for's).
        broadcaster: carries revocations to other processes (REVOCATION_BROADCASTER's by
            default).
    """

    def __init__(self, settings: Settings, *, clock: Clock = system_clock,
                 links: LinkBuilder | None = None, broadcaster: Broadcaster | None = None
                 ) -> None:
        s = self.settings = settings.checked()
        warn_inert(s, logging.getLogger("quart_authtuna"))  # inert settings that were set
        self.clock = clock  # replaceable: collaborators read the time through self.now
        clock = self.now
        db = self.db = UnitOfWork(s, sender=self)
        self.passwords = PasswordHasher(s)
        self.encryptor = Encryptor(s)
        self.pii = PiiCipher(s, self.encryptor)
        self.audit = AuditManager(db, clock, s)
        self.rbac = RbacChecker(db, clock, s)
        self.session_cache = SessionCache(s.session_cache_size)
        self.api_key_cache = PrincipalCache()
        self.revocation = Revocation(db, self.session_cache, self.rbac, self.api_key_cache,
                                     broadcaster or make_broadcaster(s))
        self.rbac.epoch = self.revocation.epoch  # grants read under a live channel hold
        self.health = HealthCheck(db, self.revocation.broadcaster)
        self.mail = Mailer(s, links or PrefixLinks(s), db=db, clock=clock,
                           encryptor=self.encryptor)
        state = make_state(db, s, clock)  # STATE_BACKEND: the database or Redis
        self.throttle, self.challenges, self._close_state = (state.throttle, state.challenges,
                                                             state.close)
        self.devices = DeviceTrust(s, clock)
        self.mail_quota = MailQuota(self.throttle, s, self.devices)
        self.tokens = TokenManager(db, clock, s, self.audit)
        self.emailed_links = EmailedLinks(self.tokens, self.challenges)
        self.sessions = SessionManager(db, clock, s, self.audit, self.revocation)
        self.users = UserManager(db, clock, s, self.audit, self.passwords, self.rbac,
                                 self.sessions, self.revocation, self.emailed_links)
        self.roles = RoleManager(db, clock, self.audit, self.rbac, self.revocation)
        self.permissions = PermissionManager(db, self.audit, self.rbac)
        mfa_store = MFAManager(db, clock, self.encryptor, self.passwords)
        passkey_store = PasskeyManager(db, clock, s, self.audit, self.challenges)
        #: Upstream's ``mfa`` and ``passkeys`` names are the journeys over those tables.
        self.mfa = Totp(db, s, mfa_store, self.sessions, self.throttle, self.audit, self.mail,
                        self.revocation)
        self.passkeys = Passkeys(db, passkey_store, self.audit, self.mail)
        self.api_keys = ApiKeyManager(db, clock, s, self.audit, self.passwords, self.rbac,
                                      self.revocation, self.api_key_cache)
        self.session_validator = SessionValidator(
            db, clock, s, self.audit, self.rbac, self.revocation, self.session_cache,
            CookieCodec(s, self.encryptor), self.mail)
        self.admin_queries = AdminQueries(db, clock)
        self.why_denied = WhyDenied(db)
        self.admin_stats = AdminStats(db, clock)
        self.audit_queries = AuditQueries(db, clock, s, self.audit)
        self.role_queries = RoleQueries(db)
        self.flows = self._build_flows()
        #: Upstream's OrganizationManager names over the organization, team and invitation flows.
        self.organizations = OrganizationManager(self.flows.organizations, self.flows.teams,
                                                 self.flows.invitations)
        self.cleanup = Cleanup(db, clock, s)
        self._background: asyncio.Task[None] | None = None

    def _build_flows(self) -> Flows:
        db, s = self.db, self.settings
        first = FirstFactor(db, self.now, s, self.sessions, self.challenges, self.throttle,
                            self.devices, self.audit, self.mail)
        pending = PendingSignups(db, self.now, s)
        orgs = OrganizationStore(self.now)
        verification = EmailVerification(db, s, self.users, pending, self.tokens, self.audit,
                                         self.mail, self.mail_quota, self.revocation)
        passwords = Passwords(db, self.now, s, self.users, self.passwords, self.tokens,
                              self.sessions, self.emailed_links, self.throttle,
                              self.mail_quota, self.audit, self.mail)
        return Flows(
            first_factor=first,
            password_login=PasswordLogin(db, s, self.users, self.passwords,
                                         LoginGate(self.throttle, self.devices), self.audit,
                                         verification, first),
            reauthenticate=Reauthentication(db, self.now, self.users, self.passwords,
                                            self.throttle, self.audit, self.revocation,
                                            self.passkeys.store, self.sessions),
            magic_link=MagicLink(db, s, self.users, self.tokens, self.audit, self.mail,
                                 self.mail_quota, first),
            passkey_login=PasskeyLogin(self.passkeys.store, self.throttle, first),
            mfa_challenge=MfaChallenge(self.challenges, self.mfa, self.passkeys.store, first),
            logout=Logout(self.sessions),
            signup=Signup(db, s, self.users, pending, self.passwords, self.audit, self.mail,
                          self.mail_quota, verification),
            email_verification=verification,
            passwords=passwords,
            user_sessions=UserSessions(db, self.sessions),
            api_keys=ApiKeys(s, self.api_keys, self.users, self.mail, db),
            security_activity=SecurityActivity(self.audit),
            account_deletion=AccountDeletion(db, self.users, self.sessions, self.revocation,
                                             self.mail, self.pii, self.now),
            account_overview=AccountOverview(db, self.now),
            profile=Profile(db, self.throttle, self.audit, self.revocation),
            email_change=EmailChange(db, s, self.users, self.tokens, self.emailed_links,
                                     self.throttle, self.mail_quota, self.audit, self.mail,
                                     self.revocation, self.now),
            admin_users=AdminUsers(db, self.rbac, self.audit, self.users, self.roles,
                                   self.sessions, self.api_keys, self.mfa.store, self.tokens,
                                   verification, passwords, self.mail, self.revocation),
            admin_permissions=AdminPermissions(db, self.permissions),
            passkey_signup=PasskeySignup(db, s, self.users, pending, self.passkeys.store,
                                         self.mfa.store, self.audit, self.mail, first),
            recovery_login=RecoveryLogin(db, self.users, self.mfa.store,
                                         LoginGate(self.throttle, self.devices), self.audit,
                                         first),
            admin_roles=AdminRoles(db, self.rbac, self.roles),
            data_export=DataExport(db, self.now, self.throttle, self.audit),
            sso=SocialSignIn(db, s, configured_providers(s),
                             SocialClient(s.sso_http_timeout, self.now),
                             SocialAccountManager(self.now, self.encryptor), self.users,
                             self.challenges, self.audit, self.mail, first),
            organizations=Organizations(db, self.now, orgs, self.roles, self.rbac, self.audit,
                                        self.revocation),
            teams=Teams(db, self.now, orgs, self.roles, self.rbac, self.audit, self.revocation),
            invitations=Invitations(db, self.now, s, orgs, self.roles, self.rbac, self.users,
                                    first, self.audit, self.mail, self.mail_quota,
                                    self.revocation),
        )

    # ---- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Open the engine; create tables and seed defaults when AUTO_CREATE_DATABASE (else
        refuse a database without tables: see :mod:`.db.schema_setup`)."""
        if self.db.started:
            return
        self.db.open()
        pii_events.attach(self.db.engine, self.pii)
        try:
            await schema_setup.prepare(self.db, self.settings, self.provision_defaults)
            await self.revocation.broadcaster.start()
            await self.mail.start()
        except BaseException:
            await self.close()
            raise

    def serve_background(self) -> None:
        """Start what a serving app runs beside its requests: the cleanup schedule, when
        CLEANUP_ENABLED (the mail sender runs from :meth:`start`)."""
        if self.settings.cleanup_enabled and self._background is None:
            self._background = asyncio.get_running_loop().create_task(
                self.cleanup.run_forever())

    async def create_all(self) -> None:
        """Create missing tables (and the schema, when DATABASE_SCHEMA is set)."""
        await self.db.create_all()

    async def provision_defaults(self) -> bool:
        """Seed upstream's roles, permissions and system users (idempotent)."""
        return await provision_defaults(self.db, self.now, self.settings, self.passwords,
                                        self.audit, self.revocation)

    async def rewrap_pii_keys(self) -> int:
        """After prepending a new FERNET_KEY: re-wrap every user's data key under it, so the
        old key can then be dropped (PII mode). Returns how many keys were re-wrapped."""
        return await pii_events.rewrap_keys(self.db, self.pii)

    async def close(self) -> None:
        """Stop the cleanup schedule and the mail sender (unsent mail stays in the outbox),
        stop listening, then dispose of the engine's connections."""
        task, self._background = self._background, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await self.mail.close()
        await self.revocation.broadcaster.close()
        await self._close_state()
        await self.db.close()

    async def __aenter__(self) -> AuthService:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def engine(self) -> AsyncEngine:
        return self.db.engine

    @asynccontextmanager
    async def transaction(self, session: AsyncSession | None = None
                          ) -> AsyncIterator[AsyncSession]:
        """One unit of work (joins ``session`` when given)."""
        async with self.db.transaction(session) as tx:
            yield tx

    def after_commit(self, session: AsyncSession, callback: AfterCommit) -> None:
        self.db.after_commit(session, callback)

    def now(self) -> float:
        return self.clock()

    # ---- facade journeys (upstream names and shapes) -----------------------------------

    async def login(self, username_or_email: str, password: str,
                    ip_address: str | None = None, region: str = "Unknown",
                    device: str = "Unknown", *, fingerprint: str = ""
                    ) -> tuple[User, IssuedSession]:
        """Upstream's ``login``: ``(user, session)``, or MfaPending for a second factor."""
        meta = RequestMeta(ip_address=ip_address, region=region, device=device,
                           fingerprint=fingerprint)
        result = await self.flows.password_login(username_or_email, password, meta)
        if isinstance(result, MfaChallenged):
            raise MfaPending(result.handle, result.user_id)
        return result.user, result.session

    async def change_password(self, user: User | str, current_password: str,
                              new_password: str, ip_address: str | None = None,
                              current_session_id: str | None = None) -> User:
        user_id = user if isinstance(user, str) else user.id
        done = await self.flows.passwords.change(user_id, current_password, new_password,
                                                 RequestMeta(ip_address=ip_address),
                                                 current_session_id)
        return done.user

    async def request_password_reset(self, email: str, ip_address: str | None = None
                                     ) -> IssuedToken | None:
        return await self.flows.passwords.request_reset(email, RequestMeta(ip_address=ip_address))

    async def reset_password(self, token_id: str, new_password: str,
                             ip_address: str | None = None) -> User:
        done = await self.flows.passwords.reset(token_id, new_password,
                                                RequestMeta(ip_address=ip_address))
        return done.user
