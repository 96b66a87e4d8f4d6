"""Staff accounts and API tokens. A token is shown once and stored only as its SHA-256."""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from gateway.storage.db import Database, Tx, as_utc, utcnow
from gateway.storage.models import ApiToken, User

ROLES = ("caseworker", "team_lead", "admin", "auditor")
# Roles that read case content; an admin or auditor account never becomes one (invariant 9).
CONTENT_ROLES = ("caseworker", "team_lead")


class AccountError(ValueError):
    pass


class AccountForbidden(AccountError):
    """The change is well formed but nobody may make it this way (answered 403)."""


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


_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9][A-Za-z0-9.-]{0,251}")
_DOMAIN_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def check_email(email: str) -> str:
    """A work e-mail address, trimmed and lower-cased, or AccountError naming the problem."""
    value = email.strip(" ").lower()
    if not _EMAIL.fullmatch(value):
        raise AccountError(f"expected a work e-mail address like ola@example.no, got {email!r}")
    domain = value.rsplit("@", 1)[1]
    labels = domain.split(".")
    if len(labels) < 2 or not all(_DOMAIN_LABEL.fullmatch(label) for label in labels):
        raise AccountError(f"expected a work e-mail address like ola@example.no, got {email!r}")
    return value


def check_label(what: str, value: str, max_length: int = 200) -> str:
    """A one-line name (person, team, case ref): no control characters or line breaks."""
    text = value.strip()
    if not text:
        raise AccountError(f"{what} must not be empty")
    if len(text) > max_length:
        raise AccountError(f"{what} must be at most {max_length} characters")
    if any(unicodedata.category(ch) in _NOT_IN_LABELS for ch in text):
        raise AccountError(f"{what} must be one line without control characters")
    return text


# Control, format (bidi overrides), surrogates, private use, unassigned, line/paragraph breaks.
_NOT_IN_LABELS = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def check_user_change(actor: Staff, user: User, changes: Mapping[str, object]) -> None:
    """Raise AccountForbidden when ``actor`` may not make ``changes`` to ``user``.

    Nobody changes their own role or team (an admin could otherwise make itself a
    caseworker and read); an admin or auditor account never becomes a content role: the
    person gets a second account instead, so every read of content is by a content role.
    """
    role = changes.get("role")
    team = changes.get("team")
    if user.id == actor.id and (
        (role is not None and role != user.role) or (team is not None and team != user.team)
    ):
        raise AccountForbidden("You cannot change your own role or team; ask another admin.")
    if role in CONTENT_ROLES and user.role not in CONTENT_ROLES:
        raise AccountForbidden(
            f"A {user.role} account cannot become a {role}; add a separate account for the "
            "person's casework."
        )


async def add_user(tx: Tx, *, email: str, name: str, role: str, team: str, actor: str) -> User:
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    email = check_email(email)
    name = check_label("name", name)
    team = check_label("team", team, 100)
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
    tx: Tx, *, user_email: str, actor: str | Staff, days: int = 90, label: str = ""
) -> tuple[str, datetime]:
    """A new API token for the user; returns (token, expires_at). The token is not stored.

    ``actor`` is the signed-in member of staff asking (a ``Staff``), or the name of a tool
    on the host (the CLI). Over the API, tokens for a content role are made only by that
    person themselves: an admin minting one could read as the caseworker.
    """
    user = (
        await tx.session.execute(select(User).where(User.email == user_email.strip().lower()))
    ).scalar_one_or_none()
    if user is None:
        raise AccountError(f"no user with e-mail {user_email}")
    if not user.active:
        raise AccountError(f"user {user.email} is deactivated")
    if isinstance(actor, Staff):
        if user.role in CONTENT_ROLES and actor.id != user.id:
            raise AccountForbidden(
                f"Tokens for a {user.role} are made by that person after signing in, or on the "
                "host with `case-gateway tokens create`."
            )
        actor_name, via = actor.email, "api"
    else:
        actor_name, via = actor, "host"
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
    tx.audit(
        actor_name,
        "token.created",
        f"user:{user.id}",
        expires_at=expires.isoformat(),
        label=label,
        via=via,
        role=user.role,
    )
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
