"""AuthService: the facade that owns the engine, the managers and the units of work."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from blinker import NamedSignal
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from .challenges import ChallengeStore
from .crypto.fernet import Encryptor
from .crypto.passwords import PasswordHasher
from .db.base import Base
from .db.engine import make_engine, make_sessionmaker
from .defaults import provision_defaults
from .flows import login as login_flow
from .flows import passwords as password_flows
from .mail import Mailer
from .managers.api_keys import ApiKeyManager
from .managers.audit import AuditManager
from .managers.mfa import MFAManager
from .managers.passkeys import PasskeyManager
from .managers.permissions import PermissionManager
from .managers.roles import RoleManager
from .managers.sessions import SessionManager
from .managers.tokens import TokenManager
from .managers.users import UserManager
from .rbac.checker import RbacChecker
from .sessions.cache import SessionCache
from .sessions.validator import SessionValidator
from .settings import Settings
from .throttle import Throttle
from .types import Clock, system_clock

_AFTER_COMMIT = "authtuna_after_commit"


class AuthService:
    """Everything the core can do, for one configuration and one database.

    Arguments:
        settings: resolved settings; development mode fills in ephemeral secrets.
        clock: returns epoch seconds; tests inject a controllable one.
    """

    def __init__(self, settings: Settings, *, clock: Clock = system_clock) -> None:
        self.settings = settings.checked()
        self.clock = clock
        self.passwords = PasswordHasher(self.settings)
        self.encryptor = Encryptor(self.settings)
        self.rbac = RbacChecker(self)
        self.audit = AuditManager(self)
        self.users = UserManager(self)
        self.roles = RoleManager(self)
        self.permissions = PermissionManager(self)
        self.sessions = SessionManager(self)
        self.tokens = TokenManager(self)
        self.mfa = MFAManager(self)
        self.challenges = ChallengeStore(self)
        self.passkeys = PasskeyManager(self)
        self.api_keys = ApiKeyManager(self)
        self.mail = Mailer(self)
        self.throttle = Throttle(self)
        self.session_cache = SessionCache()
        self.session_validator = SessionValidator(self, self.session_cache)
        self._engine: AsyncEngine | None = None
        self._sessionmaker: async_sessionmaker[AsyncSession] | None = None

    # ---- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Open the engine; create tables and seed defaults when AUTO_CREATE_DATABASE."""
        if self._engine is not None:
            return
        self._engine = make_engine(self.settings)
        self._sessionmaker = make_sessionmaker(self._engine)
        try:
            if self.settings.auto_create_database:
                await self.create_all()
                await provision_defaults(self)
        except BaseException:
            await self.close()
            raise

    async def create_all(self) -> None:
        """Create missing tables (and the schema, when DATABASE_SCHEMA is set)."""
        async with self.engine.begin() as conn:
            schema = self.settings.database_schema
            if schema and conn.dialect.name == "postgresql":
                await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            await conn.run_sync(Base.metadata.create_all)

    async def close(self) -> None:
        """Finish background mail, then dispose of the engine's connections."""
        await self.mail.drain()
        if self._engine is not None:
            await self._engine.dispose()
        self._engine = self._sessionmaker = None

    async def __aenter__(self) -> AuthService:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            raise RuntimeError("AuthService.start() has not been awaited")
        return self._engine

    # ---- units of work -----------------------------------------------------------------

    @asynccontextmanager
    async def transaction(self, session: AsyncSession | None = None) -> AsyncIterator[AsyncSession]:
        """Join ``session`` if given, else open, commit and close one unit of work.

        Callbacks registered with :meth:`after_commit` run once the outermost unit commits.
        """
        if session is not None:
            yield session
            return
        if self._sessionmaker is None:
            raise RuntimeError("AuthService.start() has not been awaited")
        async with self._sessionmaker() as own:
            async with own.begin():
                yield own
            for callback in own.info.pop(_AFTER_COMMIT, []):
                await callback()

    def after_commit(self, session: AsyncSession, callback: Callable[[], Awaitable[Any]]) -> None:
        """Run ``callback`` after ``session`` commits (dropped on rollback)."""
        session.info.setdefault(_AFTER_COMMIT, []).append(callback)

    def emit(self, session: AsyncSession, signal: NamedSignal, **kwargs: Any) -> None:
        """Send ``signal`` (sender: this service) once ``session`` commits."""

        async def send() -> None:
            await signal.send_async(self, _sync_wrapper=_call_sync, **kwargs)

        self.after_commit(session, send)

    def now(self) -> float:
        return self.clock()

    # ---- facade flows (upstream names) -------------------------------------------------

    login = login_flow.login
    change_password = password_flows.change_password
    request_password_reset = password_flows.request_password_reset
    reset_password = password_flows.reset_password


def _call_sync(func: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    """Let plain (sync) receivers listen to signals sent with ``send_async``."""

    async def inner(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return inner
