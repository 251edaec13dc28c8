"""PII mode at the persistence edge: code reads and writes ``user.email`` as plain text.

Before a ``users`` row is written, a changed email is sealed with the user's data key (made,
wrapped and stored on first use) into ``email_encrypted``, and ``email`` is stored empty;
after the write, and whenever a row is loaded, the object holds the plain address again. Audit
addresses are sealed the same way (``ENCRYPT_AUDIT_IP``), and social accounts keep no provider
profile. Everything here is a no-op on an engine without an enabled cipher, so several
services (PII on or off) share the models.
"""

from __future__ import annotations

import time
import weakref
from typing import Any

from sqlalchemy import event, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapper, QueryContext, object_session
from sqlalchemy.orm.attributes import get_history, set_committed_value

from ..crypto.pii import PiiCipher
from ..identifiers import canonical_email
from .base import new_id
from .models import AuditEvent, EncryptionKey, SocialAccount, User
from .pii_index import PII_ATTRIBUTE, cipher_of
from .unit_of_work import UnitOfWork

_PLAIN: weakref.WeakKeyDictionary[User, str] = weakref.WeakKeyDictionary()


def attach(engine: AsyncEngine, cipher: PiiCipher) -> None:
    """Let this engine's statements and loads use ``cipher``."""
    setattr(engine.sync_engine.dialect, PII_ATTRIBUTE, cipher)


async def rewrap_keys(db: UnitOfWork, cipher: PiiCipher, batch: int = 500) -> int:
    """Re-wrap every live data key under the first FERNET_KEY (after a rotation, before the
    old key is dropped); returns how many were re-wrapped. Small batches, one transaction
    each, so no table stays locked for long."""
    done, last = 0, ""
    while True:
        async with db.transaction() as tx:
            rows = (await tx.execute(select(EncryptionKey.id, EncryptionKey.key_ciphertext)
                                     .where(EncryptionKey.id > last,
                                            EncryptionKey.deleted_at.is_(None))
                                     .order_by(EncryptionKey.id).limit(batch))).all()
            for key_id, wrapped in rows:
                fresh = cipher.rewrap(wrapped)
                if fresh is not None and fresh != wrapped:
                    await tx.execute(update(EncryptionKey).where(EncryptionKey.id == key_id)
                                     .values(key_ciphertext=fresh))
                    done += 1
        if len(rows) < batch:
            return done
        last = rows[-1][0]


def _enabled(connection: Connection) -> PiiCipher | None:
    cipher = cipher_of(connection.dialect)
    return cipher if isinstance(cipher, PiiCipher) and cipher.enabled else None


def _seal_email(connection: Connection, target: User, *, updating: bool) -> None:
    cipher = _enabled(connection)
    if cipher is None or not target.email or (
            updating and not get_history(target, "email").has_changes()):
        return
    wrapped = target.__dict__.get("email_key_wrapped") if target.email_key_id else None
    if wrapped is None and target.email_key_id:
        wrapped = connection.scalar(select(EncryptionKey.key_ciphertext)
                                    .where(EncryptionKey.id == target.email_key_id))
    key = cipher.open_key(wrapped)
    if key is None:
        wrapped, key = cipher.new_key()
        key_id = new_id()
        connection.execute(insert(EncryptionKey).values(
            id=key_id, key_ciphertext=wrapped, created_at=time.time()))
        target.email_key_id = key_id
        set_committed_value(target, "email_key_wrapped", wrapped)
    _PLAIN[target] = target.email
    target.email_encrypted = cipher.seal(key, target.email)
    target.email = ""


@event.listens_for(User, "before_insert")
def _before_insert(mapper: Mapper[Any], connection: Connection, target: User) -> None:
    _seal_email(connection, target, updating=False)


@event.listens_for(User, "before_update")
def _before_update(mapper: Mapper[Any], connection: Connection, target: User) -> None:
    _seal_email(connection, target, updating=True)


@event.listens_for(User, "after_insert")
@event.listens_for(User, "after_update")
def _after_write(mapper: Mapper[Any], connection: Connection, target: User) -> None:
    plain = _PLAIN.pop(target, None)
    if plain is not None:
        set_committed_value(target, "email", plain)


@event.listens_for(User, "load")
def _user_loaded(target: User, context: QueryContext) -> None:
    _open_email(target, context)


@event.listens_for(User, "refresh")
def _user_refreshed(target: User, context: QueryContext | None, attrs: Any) -> None:
    _open_email(target, context)


def _cipher_for(target: object, context: QueryContext | None) -> object:
    session = context.session if context is not None else object_session(target)
    return cipher_of(session.get_bind().dialect) if session is not None else None


def _open_email(target: User, context: QueryContext | None) -> None:
    blob = target.__dict__.get("email_encrypted")
    if blob is None or target.__dict__.get("email"):
        return  # a plain row (PII mode off when it was written): nothing to open
    cipher = _cipher_for(target, context)
    if not isinstance(cipher, PiiCipher):
        return
    plain = cipher.open(cipher.open_key(target.__dict__.get("email_key_wrapped")), blob)
    if plain is not None:
        set_committed_value(target, "email", plain)
        set_committed_value(target, "email_canonical", canonical_email(plain))


@event.listens_for(AuditEvent, "before_insert")
def _seal_ip(mapper: Mapper[Any], connection: Connection, target: AuditEvent) -> None:
    cipher = _enabled(connection)
    if cipher is not None and cipher.seal_audit_ip and target.ip_address:
        target.ip_address_encrypted = cipher.seal_ip(target.ip_address)
        target.ip_address = None


@event.listens_for(SocialAccount, "before_insert")
@event.listens_for(SocialAccount, "before_update")
def _drop_profile(mapper: Mapper[Any], connection: Connection, target: SocialAccount) -> None:
    """The provider's profile (its email, name, picture) is personal data nothing reads:
    PII mode does not keep it (upstream kept the plain email there)."""
    if _enabled(connection) is not None and target.extra_data:
        target.extra_data = {}


@event.listens_for(AuditEvent, "load")
def _audit_loaded(target: AuditEvent, context: QueryContext) -> None:
    blob = target.__dict__.get("ip_address_encrypted")
    if blob is None or target.__dict__.get("ip_address"):
        return
    cipher = _cipher_for(target, context)
    if isinstance(cipher, PiiCipher):
        set_committed_value(target, "ip_address", cipher.open_ip(blob))
