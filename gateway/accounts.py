"""Staff accounts and API tokens. A token is shown once and stored only as its SHA-256."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from gateway.storage.db import Database, Tx, as_utc, utcnow
from gateway.storage.models import ApiToken, User

ROLES = ("caseworker", "team_lead", "admin", "auditor")


class AccountError(ValueError):
    pass


@dataclass(frozen=True)
class Staff:
    """The authenticated caller, as the API's permission checks see them."""

    id: int
    email: str
    name: str
    role: str
    team: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def add_user(tx: Tx, *, email: str, name: str, role: str, team: str, actor: str) -> User:
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    if "@" not in email:
        raise AccountError(f"expected a work e-mail address, got {email!r}")
    email = email.strip().lower()
    exists = (await tx.session.execute(select(User.id).where(User.email == email))).first()
    if exists:
        raise AccountError(f"a user with e-mail {email} already exists")
    user = User(
        email=email, name=name, role=role, team=team, absent=False, active=True, created_at=utcnow()
    )
    tx.session.add(user)
    await tx.session.flush()
    tx.audit(actor, "user.added", f"user:{user.id}", role=role, team=team)
    return user


MAX_TOKEN_DAYS = 366


async def create_token(
    tx: Tx, *, user_email: str, actor: str, days: int = 90, label: str = ""
) -> tuple[str, datetime]:
    """A new API token for the user; returns (token, expires_at). The token is not stored."""
    user = (
        await tx.session.execute(select(User).where(User.email == user_email.strip().lower()))
    ).scalar_one_or_none()
    if user is None:
        raise AccountError(f"no user with e-mail {user_email}")
    if not user.active:
        raise AccountError(f"user {user.email} is deactivated")
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise AccountError(f"a token lives 1 to {MAX_TOKEN_DAYS} days, got {days}")
    token = "cgw_" + secrets.token_urlsafe(32)
    expires = utcnow() + timedelta(days=days)
    tx.session.add(
        ApiToken(
            user_id=user.id,
            token_hash=hash_token(token),
            label=label,
            created_at=utcnow(),
            expires_at=expires,
        )
    )
    await tx.session.flush()
    tx.audit(actor, "token.created", f"user:{user.id}", expires_at=expires.isoformat(), label=label)
    return token, expires


async def revoke_tokens(
    tx: Tx, *, actor: str, token_id: int | None = None, user_email: str | None = None
) -> int:
    """Revoke one token (by id) or every live token of a user; returns how many were revoked."""
    query = select(ApiToken).where(ApiToken.revoked_at.is_(None))
    if token_id is not None:
        query = query.where(ApiToken.id == token_id)
    elif user_email is not None:
        user = (
            await tx.session.execute(select(User).where(User.email == user_email.strip().lower()))
        ).scalar_one_or_none()
        if user is None:
            raise AccountError(f"no user with e-mail {user_email}")
        query = query.where(ApiToken.user_id == user.id)
    else:
        raise AccountError("name a token id or a user")
    tokens = (await tx.session.execute(query)).scalars().all()
    now = utcnow()
    for tok in tokens:
        tok.revoked_at = now
        tx.audit(actor, "token.revoked", f"user:{tok.user_id}", token_id=tok.id)
    return len(tokens)


async def authenticate(db: Database, token: str) -> Staff | None:
    """The active staff member a valid, unexpired, unrevoked token belongs to."""
    if not token:
        return None
    async with db.read() as s:
        row = (
            await s.execute(
                select(ApiToken, User)
                .join(User, User.id == ApiToken.user_id)
                .where(ApiToken.token_hash == hash_token(token))
            )
        ).first()
    if row is None:
        return None
    tok, user = row
    if tok.revoked_at is not None or not user.active:
        return None
    expires = as_utc(tok.expires_at)
    if expires is not None and expires <= utcnow():
        return None
    return Staff(user.id, user.email, user.name, user.role, user.team)
