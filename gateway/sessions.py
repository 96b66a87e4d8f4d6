"""Signing in to the caseworker pages: argon2 passwords, sessions kept in the database, and a
slow-down after repeated failures.

- A password is stored only as its argon2 hash; hashing runs off the event loop.
- A session is a random token in an HttpOnly cookie; the database keeps its SHA-256, so ending
  a session (sign-out, deactivation, password reset, idle timeout, lifetime) works at once on
  every instance.
- Wrong e-mail and wrong password get the same answer. After ``max_failures`` failures for one
  account or from one address, sign-in pauses for ``lockout_minutes`` (doubling with each
  further failure, at most an hour); the pause is audited. Signing in and out are audited.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update

from gateway.accounts import Staff
from gateway.settings import SessionSettings
from gateway.storage.db import Database, Tx, as_utc, utcnow
from gateway.storage.models import SignInFailure, StaffLogin, User, WebSession

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Checked against when no account matches, so a wrong e-mail costs as long as a wrong
    password. Made on the first sign-in that needs it, off the event loop, not at import:
    argon2 takes 64 MiB for each hash, and at import that moment was serve's peak memory
    (167 MB against 105 MB once started)."""
    return _hasher.hash(secrets.token_urlsafe(16))


MIN_PASSWORD = 12
MAX_PASSWORD = 1024
MAX_PAUSE = timedelta(hours=1)
# last_seen_at is written at most this often, so a polling page does not write on every poll.
TOUCH_EVERY = timedelta(seconds=60)


class PasswordRefused(ValueError):
    """A new password that is not accepted; the message says why, for the person setting it."""


class SignInRefused(Exception):
    """``reason`` is ``wrong`` (one generic answer) or ``paused`` (slow-down after failures)."""

    def __init__(self, reason: str, retry_after: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


@dataclass(frozen=True)
class SignedIn:
    token: str  # for the cookie; never stored
    csrf: str
    staff: Staff


@dataclass(frozen=True)
class SessionView:
    """The member of staff behind a valid session, with the page language and CSRF token."""

    staff: Staff
    csrf: str
    language: str | None
    session_id: int


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise PasswordRefused(f"a password has at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise PasswordRefused(f"a password has at most {MAX_PASSWORD} characters")
    if not password.strip():
        raise PasswordRefused("a password is not only spaces")


async def _login_row(tx: Tx, user_id: int) -> StaffLogin:
    row = await tx.session.get(StaffLogin, user_id)
    if row is None:
        row = StaffLogin(user_id=user_id)
        tx.session.add(row)
    return row


async def end_sessions(tx: Tx, user_id: int, reason: str) -> int:
    """End every live session of a user (deactivation, password reset); returns how many."""
    result = await tx.session.execute(
        update(WebSession)
        .where(WebSession.user_id == user_id, WebSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def set_password(db: Database, *, email: str, password: str, actor: str) -> User:
    """Set (or reset) a password; every session of that person ends. Audited, never logged."""
    check_new_password(password)
    hashed = await asyncio.to_thread(_hasher.hash, password)
    async with db.transaction() as tx:
        user = (
            await tx.session.execute(select(User).where(User.email == email.strip().lower()))
        ).scalar_one_or_none()
        if user is None:
            raise PasswordRefused(f"no user with e-mail {email}")
        if not user.active:
            raise PasswordRefused(f"user {user.email} is deactivated")
        row = await _login_row(tx, user.id)
        row.password_hash = hashed
        row.password_set_at = utcnow()
        ended = await end_sessions(tx, user.id, "password_reset")
        tx.audit(actor, "user.password_set", f"user:{user.id}", sessions_ended=ended)
    return user


async def set_language(db: Database, staff: Staff, language: str | None) -> None:
    async with db.transaction() as tx:
        row = await _login_row(tx, staff.id)
        row.language = language
        tx.audit(staff.email, "user.language_set", f"user:{staff.id}", language=language)


def _pause(failures: int, rules: SessionSettings) -> timedelta:
    over = failures - rules.max_failures
    return min(timedelta(minutes=rules.lockout_minutes) * (2**over), MAX_PAUSE)


async def _failure_rows(tx: Tx, keys: list[str]) -> dict[str, SignInFailure]:
    rows = (
        (await tx.session.execute(select(SignInFailure).where(SignInFailure.key.in_(keys))))
        .scalars()
        .all()
    )
    return {r.key: r for r in rows}


async def sign_in(
    db: Database, rules: SessionSettings, *, email: str, password: str, address: str
) -> SignedIn:
    """Check the password and open a session, or raise :class:`SignInRefused`."""
    email = email.strip().lower()[:320]
    keys = [f"account:{email}", f"address:{address}"[:400]]
    now = utcnow()
    async with db.read() as s:
        paused = (
            (
                await s.execute(
                    select(SignInFailure.locked_until).where(
                        SignInFailure.key.in_(keys), SignInFailure.locked_until.is_not(None)
                    )
                )
            )
            .scalars()
            .all()
        )
        until = max((u for u in (as_utc(p) for p in paused) if u and u > now), default=None)
        row = (
            await s.execute(
                select(User, StaffLogin.password_hash)
                .outerjoin(StaffLogin, StaffLogin.user_id == User.id)
                .where(User.email == email)
            )
        ).first()
    if until is not None:
        raise SignInRefused("paused", int((until - now).total_seconds()) + 1)
    user, hashed = (row[0], row[1]) if row is not None else (None, None)
    ok = await asyncio.to_thread(_verify, hashed, password)
    ok = ok and hashed is not None and user is not None and user.active
    if not ok:
        await _record_failure(db, rules, keys, email, address, user)
        raise SignInRefused("wrong")
    assert user is not None
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    async with db.transaction() as tx:
        for r in (await _failure_rows(tx, keys[:1])).values():
            await tx.session.delete(r)
        session = WebSession(
            token_hash=_hash_token(token),
            user_id=user.id,
            csrf_token=csrf,
            created_at=now,
            last_seen_at=now,
        )
        tx.session.add(session)
        await tx.session.flush()
        tx.audit(user.email, "user.signed_in", f"user:{user.id}", session=session.id)
    return SignedIn(token, csrf, Staff(user.id, user.email, user.name, user.role, user.team))


def _verify(hashed: str | None, password: str) -> bool:
    try:
        return bool(_hasher.verify(hashed or _dummy_hash(), password))
    except (VerificationError, InvalidHashError):
        return False


async def _record_failure(
    db: Database,
    rules: SessionSettings,
    keys: list[str],
    email: str,
    address: str,
    user: User | None,
) -> None:
    now = utcnow()
    async with db.transaction() as tx:
        rows = await _failure_rows(tx, keys)
        for key in keys:
            row = rows.get(key)
            if row is None:
                row = SignInFailure(key=key, failures=0, last_failure_at=now)
                tx.session.add(row)
            last = as_utc(row.last_failure_at)
            if last is not None and now - last > MAX_PAUSE:
                row.failures = 0  # an old run of failures is forgiven after a quiet hour
            row.failures += 1
            row.last_failure_at = now
            if row.failures >= rules.max_failures:
                pause = _pause(row.failures, rules)
                row.locked_until = now + pause
                kind = key.split(":", 1)[0]
                tx.audit(
                    "sign-in",
                    "sign_in.paused",
                    f"user:{user.id}" if kind == "account" and user else kind,
                    failures=row.failures,
                    minutes=int(pause.total_seconds() // 60),
                    # The address is recorded for the data-protection officer; the e-mail only
                    # when it names an account (a mistyped address is nobody's data).
                    address=address if kind == "address" else None,
                )
        if user is not None:
            tx.audit(user.email, "user.sign_in_failed", f"user:{user.id}")


async def session_for(
    db: Database, rules: SessionSettings, token: str, *, touch: bool = True
) -> SessionView | None:
    """The live session a cookie names, or None (unknown, ended, idle, too old, deactivated).

    ``touch=False`` for requests a page makes by itself (the queue's live update), so an open
    tab nobody uses still reaches the idle timeout."""
    if not token:
        return None
    now = utcnow()
    async with db.read() as s:
        row = (
            await s.execute(
                select(WebSession, User, StaffLogin.language)
                .join(User, User.id == WebSession.user_id)
                .outerjoin(StaffLogin, StaffLogin.user_id == User.id)
                .where(WebSession.token_hash == _hash_token(token))
            )
        ).first()
    if row is None:
        return None
    session, user, language = row
    if session.ended_at is not None:
        return None
    expired = None
    if not user.active:
        expired = "deactivated"
    elif now - (as_utc(session.created_at) or now) > timedelta(hours=rules.lifetime_hours):
        expired = "lifetime"
    elif now - (as_utc(session.last_seen_at) or now) > timedelta(minutes=rules.idle_minutes):
        expired = "idle"
    if expired is not None:
        async with db.transaction() as tx:
            await tx.session.execute(
                update(WebSession)
                .where(WebSession.id == session.id, WebSession.ended_at.is_(None))
                .values(ended_at=now, end_reason=expired)
            )
        return None
    if touch and now - (as_utc(session.last_seen_at) or now) > TOUCH_EVERY:
        async with db.transaction() as tx:
            await tx.session.execute(
                update(WebSession).where(WebSession.id == session.id).values(last_seen_at=now)
            )
    return SessionView(
        Staff(user.id, user.email, user.name, user.role, user.team),
        session.csrf_token,
        language,
        session.id,
    )


async def sign_out(db: Database, view: SessionView) -> None:
    async with db.transaction() as tx:
        await tx.session.execute(
            update(WebSession)
            .where(WebSession.id == view.session_id, WebSession.ended_at.is_(None))
            .values(ended_at=utcnow(), end_reason="sign_out")
        )
        tx.audit(
            view.staff.email, "user.signed_out", f"user:{view.staff.id}", session=view.session_id
        )
