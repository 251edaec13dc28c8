"""ApiKeyManager: issue, list, revoke and validate API keys (HMAC-SHA256 under the pepper)."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from ..crypto.passwords import PasswordHasher
from ..crypto.tokens import random_alphanumeric
from ..db.models import ApiKey, ApiKeyScope, Permission, Role, RolePermission, User, UserRole
from ..db.unit_of_work import UnitOfWork
from ..errors import (
    AccountSuspended,
    DatabaseUnavailable,
    EscalationDenied,
    InputError,
    NotFound,
)
from ..i18n import N_
from ..rbac.checker import RbacChecker
from ..rbac.grants import Grants
from ..rbac.scopes import GLOBAL, validate_scope
from ..revocation import Revocation
from ..settings import Settings
from ..types import Clock, FieldError
from .api_key_cache import PUBLIC, ApiKeyPrincipal, PrincipalCache, WriteThrottle
from .audit import AuditManager

logger = logging.getLogger("quart_authtuna")

SECRET, MASTER, TEST = "SECRET", "MASTER", "TEST"
KEY_TYPES = {"secret": SECRET, "publishable": PUBLIC, "public": PUBLIC, "master": MASTER,
             "test": TEST}
TEST_PREFIX = "test"
ID_LENGTH, SECRET_LENGTH = 28, 64
DEFAULT_VALID_SECONDS = 365 * 86_400
MAX_VALID_SECONDS = 3 * 365 * 86_400
MAX_PLAINTEXT_LENGTH = 256
_DUMMY_DIGEST = "0" * 64


@dataclass(frozen=True, slots=True)
class IssuedApiKey:
    """A new key: the stored row and the plaintext, shown once and never stored."""

    row: ApiKey
    plaintext: str
    scopes: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        """The public part before the dot (the row's primary key)."""
        return self.row.id


def parse_scopes(scopes: Iterable[str]) -> list[tuple[str, str]]:
    """``"Role"`` means ``(Role, global)``; ``"Role:scope"`` splits on the first colon."""
    if isinstance(scopes, str):
        raise TypeError("pass an iterable of scope strings, not a single string")
    pairs: list[tuple[str, str]] = []
    errors: list[FieldError] = []
    for item in scopes:
        role, _, scope = str(item).strip().partition(":")
        scope = scope or GLOBAL
        try:
            if not role:
                raise ValueError("missing role name")
            validate_scope(scope)
        except ValueError:
            errors.append(FieldError("invalid_scope", f"{item!r} is not Role or Role:scope.",
                                     "scopes"))
            continue
        if (role, scope) not in pairs:
            pairs.append((role, scope))
    if errors:
        raise InputError(errors)
    return pairs


def _refuse(code: str, message: str, param: str) -> InputError:
    return InputError(FieldError(code, message, param))


class ApiKeyManager:
    """Upstream ``APIKEYManager`` names: create_key, get_all_keys_for_user, delete_key,
    validate_key.

    Validated keys are cached in-process for min(10 s, SESSION_DB_VERIFICATION_INTERVAL),
    keyed by the HMAC digest (never the plaintext). Entries are dropped at once when the key
    is deleted, and when its user's grants or account change (see :mod:`..revocation`).
    """

    def __init__(
        self, db: UnitOfWork, clock: Clock, settings: Settings, audit: AuditManager,
        passwords: PasswordHasher, rbac: RbacChecker, revocation: Revocation,
        cache: PrincipalCache,
    ) -> None:
        self._db = db
        self._clock = clock
        self._settings = settings
        self._audit = audit
        self._passwords = passwords
        self._rbac = rbac
        self._revocation = revocation
        self.cache = cache
        self._writes = WriteThrottle()

    # ---- issuing -----------------------------------------------------------------------

    async def create_key(
        self, user_id: str, name: str, key_type: str = "secret", scopes: Iterable[str] = (),
        valid_seconds: float = DEFAULT_VALID_SECONDS, creator_session_is_api_key: bool = False,
        *, creator_grants: Grants | None = None, ip_address: str | None = None,
        session: AsyncSession | None = None,
    ) -> IssuedApiKey:
        """Issue a key; the plaintext is returned once and only its HMAC is stored.

        ``creator_session_is_api_key`` must be True when the request creating the key was
        itself authenticated by an API key: master keys are then refused. ``creator_grants``
        (the creating key's grants) additionally limits the new key's scopes to roles that
        key carries, so a key can never mint a wider one.
        """
        kind = KEY_TYPES.get(str(key_type).lower())
        if kind is None:
            raise _refuse("invalid_key_type", "Key type must be secret, publishable, master "
                          "or test.", "key_type")
        if kind == MASTER and creator_session_is_api_key:
            raise EscalationDenied(N_("Master keys cannot be created by a request signed with an "
                                   "API key."))
        clean_name = (name or "").strip()
        if not clean_name or len(clean_name) > 100:
            raise _refuse("invalid_name", "Give the key a name of 1 to 100 characters.", "name")
        if valid_seconds is None or not valid_seconds > 0:
            raise _refuse("invalid_validity", "A key must be valid for a positive number of "
                          "seconds.", "valid_seconds")
        lifetime = min(float(valid_seconds), float(MAX_VALID_SECONDS))
        wanted = parse_scopes(scopes)
        self._check_scope_rules(kind, wanted, creator_grants)
        settings, now = self._settings, self._clock()
        async with self._db.transaction(session) as tx:
            user = await tx.scalar(select(User).where(User.id == user_id).with_for_update())
            if user is None:
                raise NotFound(N_("User not found."))
            if not user.is_active:
                raise AccountSuspended()
            await self._check_limits(tx, user_id, kind, now)
            role_ids = await self._held_role_ids(tx, user_id, wanted)
            prefix = {SECRET: settings.api_key_prefix_secret,
                      MASTER: settings.api_key_prefix_master,
                      PUBLIC: settings.api_key_prefix_publishable, TEST: TEST_PREFIX}[kind]
            key_id = f"{prefix}_{random_alphanumeric(ID_LENGTH)}"
            plaintext = f"{key_id}.{random_alphanumeric(SECRET_LENGTH)}"
            row = ApiKey(id=key_id, hashed_key=self._passwords.hmac_digest(plaintext),
                         user_id=user_id, key_type=kind, name=clean_name, created_at=now,
                         last_used_at=None, expires_at=now + lifetime)
            tx.add(row)
            await tx.flush()
            tx.add_all(ApiKeyScope(api_key_id=key_id, user_id=user_id, role_id=role_ids[role],
                                   scope=scope) for role, scope in wanted)
            labels = tuple(f"{role}:{scope}" for role, scope in wanted)
            self._audit.record(tx, "API_KEY_CREATED", user_id=user_id, actor_id=user_id,
                                   ip_address=ip_address,
                                   details={"key_id": key_id, "name": clean_name,
                                            "key_type": kind, "scopes": list(labels),
                                            "expires_at": row.expires_at})
        return IssuedApiKey(row, plaintext, labels)

    def _check_scope_rules(self, kind: str, wanted: list[tuple[str, str]],
                           creator_grants: Grants | None) -> None:
        if kind in (PUBLIC, MASTER) and wanted:
            raise _refuse("scopes_not_allowed", "Publishable and master keys take no scopes.",
                          "scopes")
        limit = self._settings.max_scopes_per_secret_key
        if kind == SECRET and limit and len(wanted) > limit:
            raise _refuse("too_many_scopes", f"A secret key may have at most {limit} scopes.",
                          "scopes")
        if creator_grants is not None:
            for role, scope in wanted:
                if not creator_grants.has_role(role, scope):
                    raise EscalationDenied(f"The requesting key does not carry {role} in "
                                           f"{scope}.")

    async def _check_limits(self, tx: AsyncSession, user_id: str, kind: str, now: float) -> None:
        """Unexpired keys count towards MAX_API_KEYS_PER_USER and MAX_MASTER_KEYS_PER_USER."""
        settings = self._settings
        live = (ApiKey.user_id == user_id,
                or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > now))
        rows = (await tx.execute(select(ApiKey.key_type, func.count()).where(*live)
                                 .group_by(ApiKey.key_type))).all()
        counts = {key_type: int(n) for key_type, n in rows}
        if sum(counts.values()) >= settings.max_api_keys_per_user:
            raise _refuse("key_limit_reached", f"You may hold at most "
                          f"{settings.max_api_keys_per_user} API keys.", "key_type")
        if kind == MASTER and counts.get(MASTER, 0) >= settings.max_master_keys_per_user:
            raise _refuse("master_key_limit_reached", f"You may hold at most "
                          f"{settings.max_master_keys_per_user} master keys.", "key_type")

    async def _held_role_ids(self, tx: AsyncSession, user_id: str,
                             wanted: list[tuple[str, str]]) -> dict[str, int]:
        """Role ids for ``wanted``; each (role, scope) must be a user_roles row of the user."""
        if not wanted:
            return {}
        names = {role for role, _ in wanted}
        held = set((await tx.execute(
            select(Role.name, UserRole.scope, Role.id)
            .join(UserRole, UserRole.role_id == Role.id)
            .where(UserRole.user_id == user_id, Role.name.in_(names)))).all())
        ids = {name: role_id for name, _, role_id in held}
        pairs = {(name, scope) for name, scope, _ in held}
        missing = [FieldError("scope_not_held", f"You do not hold {role} in {scope}.", "scopes")
                   for role, scope in wanted if (role, scope) not in pairs]
        if missing:
            raise InputError(missing)
        return ids

    # ---- listing and revoking ------------------------------------------------------------

    async def get_all_keys_for_user(self, user_id: str) -> Sequence[ApiKey]:
        """The user's keys, newest first (rows only: no plaintext exists any more)."""
        async with self._db.transaction() as tx:
            return (await tx.scalars(select(ApiKey).where(ApiKey.user_id == user_id)
                                     .order_by(ApiKey.created_at.desc(), ApiKey.id))).all()

    async def available_scopes(self, user_id: str) -> list[tuple[str, str, tuple[str, ...]]]:
        """(role, scope, permissions) for each role the user holds: what a new key may carry."""
        stmt = (select(Role.name, UserRole.scope, Permission.name)
                .join(UserRole, UserRole.role_id == Role.id)
                .outerjoin(RolePermission, RolePermission.role_id == Role.id)
                .outerjoin(Permission, Permission.id == RolePermission.permission_id)
                .where(UserRole.user_id == user_id))
        async with self._db.transaction() as tx:
            rows = (await tx.execute(stmt)).all()
        found: dict[tuple[str, str], set[str]] = {}
        for role, scope, permission in rows:
            found.setdefault((role, scope), set()).update([permission] if permission else [])
        return [(role, scope, tuple(sorted(perms)))
                for (role, scope), perms in sorted(found.items())]

    async def get_key_scopes(self, key_id: str) -> list[tuple[str, str]]:
        """(role, scope) pairs the key still carries (revoked roles are gone by cascade)."""
        async with self._db.transaction() as tx:
            rows = (await tx.execute(select(Role.name, ApiKeyScope.scope)
                                     .join(Role, Role.id == ApiKeyScope.role_id)
                                     .where(ApiKeyScope.api_key_id == key_id))).all()
        return sorted((name, scope) for name, scope in rows)

    async def delete_key(self, key_id: str, user_id: str | None = None, *,
                         ip_address: str | None = None, actor_id: str | None = None,
                         session: AsyncSession | None = None) -> None:
        """Revoke a key (it stops working in this process at once); with ``user_id``, only
        that user's key (another user's key is reported as not found). ``actor_id``: who
        revoked it, when not the owner (an admin)."""
        async with self._db.transaction(session) as tx:
            row = await tx.get(ApiKey, key_id)
            if row is None or (user_id is not None and row.user_id != user_id):
                raise NotFound(N_("API key not found."))
            await tx.delete(row)
            self._audit.record(tx, "API_KEY_DELETED", user_id=row.user_id,
                                   actor_id=actor_id or user_id, ip_address=ip_address,
                                   details={"key_id": key_id, "name": row.name})
            self._revocation.api_key_revoked(tx, key_id)

    # ---- validation --------------------------------------------------------------------

    async def validate_key(self, plaintext: str | None) -> ApiKeyPrincipal | None:
        """The key's principal, or None (unknown, wrong secret, expired, suspended user).

        One HMAC and a dict lookup while cached; otherwise two queries (key with its user,
        then the key's grants) and, at most once a minute per key, one ``last_used_at`` write.
        """
        if not isinstance(plaintext, str) or len(plaintext) > MAX_PLAINTEXT_LENGTH:
            return None
        key_id, dot, secret = plaintext.partition(".")
        if not dot or not key_id or not secret or len(key_id) > 64:
            return None
        digest = self._passwords.hmac_digest(plaintext)
        now = self._clock()
        ttl = min(10.0, self._settings.session_db_verification_interval)
        principal = self.cache.get(digest, now, ttl)
        if principal is not None:
            await self._touch(None, principal.key_id, now)
            return principal
        generation = self.cache.generation
        async with self._db.transaction() as tx:
            principal = await self._load(tx, key_id, digest, now)
        if principal is not None and generation == self.cache.generation:
            self.cache.put(digest, principal, now)
        return principal

    async def _load(self, tx: AsyncSession, key_id: str, digest: str, now: float
                    ) -> ApiKeyPrincipal | None:
        found = (await tx.execute(select(ApiKey, User).join(User, User.id == ApiKey.user_id)
                                  .where(ApiKey.id == key_id))).first()
        stored = found[0].hashed_key if found is not None else _DUMMY_DIGEST
        if not hmac.compare_digest(stored.encode(), digest.encode()) or found is None:
            return None
        key, user = found
        if not user.is_active or (key.expires_at is not None and now >= key.expires_at):
            return None
        grants = await self.effective_grants(key, tx)
        if key.last_used_at is not None:
            self._writes.seed(key.id, key.last_used_at)
        await self._touch(tx, key.id, now)
        return ApiKeyPrincipal(
            key_id=key.id, user_id=user.id, key_type=key.key_type, grants=grants,
            expires_at=key.expires_at, name=key.name, username=user.username,
            email=user.email, email_verified=user.email_verified,
            mfa_enabled=user.mfa_enabled)

    async def effective_grants(self, key: ApiKey, session: AsyncSession | None = None
                               ) -> Grants:
        """MASTER: the user's live grants. PUBLIC: none. SECRET/TEST: the key's (role, scope)
        pairs the user still holds, with those roles' permissions at exactly those scopes."""
        if key.key_type == MASTER:
            return await self._rbac.grants_for(key.user_id, session)
        if key.key_type not in (SECRET, TEST):
            return Grants.EMPTY
        stmt = (
            select(Role.name, ApiKeyScope.scope, Role.level, Permission.name)
            .select_from(ApiKeyScope)
            .join(UserRole, and_(UserRole.user_id == ApiKeyScope.user_id,
                                 UserRole.role_id == ApiKeyScope.role_id,
                                 UserRole.scope == ApiKeyScope.scope))
            .join(Role, Role.id == ApiKeyScope.role_id)
            .outerjoin(RolePermission, RolePermission.role_id == Role.id)
            .outerjoin(Permission, Permission.id == RolePermission.permission_id)
            .where(ApiKeyScope.api_key_id == key.id, ApiKeyScope.user_id == key.user_id))
        async with self._db.transaction(session) as tx:
            return Grants.from_rows((await tx.execute(stmt)).all())

    async def _touch(self, tx: AsyncSession | None, key_id: str, now: float) -> None:
        """Write ``last_used_at`` at most once a minute per key (in this process and, through
        the WHERE clause, across processes)."""
        if not self._writes.due(key_id, now):
            return
        stmt = (update(ApiKey).where(ApiKey.id == key_id, or_(
            ApiKey.last_used_at.is_(None),
            ApiKey.last_used_at <= now - WriteThrottle.INTERVAL)).values(last_used_at=now))
        if tx is not None:
            await tx.execute(stmt)
            return
        try:
            async with self._db.transaction() as own:
                await own.execute(stmt)
        except (SQLAlchemyError, DatabaseUnavailable) as exc:  # best effort: a busy
            # database must not refuse the key
            logger.warning("api key last_used_at update failed: %s", type(exc).__name__)
