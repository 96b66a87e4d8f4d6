"""Tables of the domain (DESIGN.md, Domain). Alembic migrations are the source of the schema;
these models must match them (a test compares the two)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        datetime: DateTime(timezone=True),
    }


class User(Base):
    __tablename__ = "user_account"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))  # caseworker | team_lead | admin | auditor
    team: Mapped[str] = mapped_column(String(100))
    absent: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Minutes between notifications to this person (a digest); None: practice.digest_minutes.
    notify_digest_minutes: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]


class ApiToken(Base):
    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class Case(Base):
    __tablename__ = "case_file"
    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    team: Mapped[str] = mapped_column(String(100))
    caseworker_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | closed
    created_at: Mapped[datetime]


class Contact(Base):
    __tablename__ = "contact"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    role: Mapped[str] = mapped_column(String(50))
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20), index=True)  # E.164
    email: Mapped[str | None] = mapped_column(String(320), index=True)  # normalised
    language: Mapped[str] = mapped_column(String(5), default="nb")
    consent_sms: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_email: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_by: Mapped[str | None] = mapped_column(String(320))
    consent_at: Mapped[datetime | None]
    opted_out_sms: Mapped[bool] = mapped_column(Boolean, default=False)
    opted_out_email: Mapped[bool] = mapped_column(Boolean, default=False)
    verified: Mapped[bool] = mapped_column(Boolean, default=False)


class SealedOriginal(Base):
    __tablename__ = "sealed_blob"
    id: Mapped[int] = mapped_column(primary_key=True)
    key_id: Mapped[str] = mapped_column(String(40))
    nonce: Mapped[bytes] = mapped_column(LargeBinary)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]


class Message(Base):
    __tablename__ = "message"
    __table_args__ = (
        UniqueConstraint("channel", "provider_id", name="uq_message_channel_provider_id"),
        # Per-sender inbound rate limits count recent messages from one address.
        Index("ix_message_sender_created", "sender", "created_at"),
        # Intake: a sender's latest outbound per contact decides between several open cases.
        Index("ix_message_contact_direction_created", "contact_id", "direction", "created_at"),
        # Auto-replies and the relay look up what went to one address recently.
        Index("ix_message_recipient_direction_created", "recipient", "direction", "created_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    direction: Mapped[str] = mapped_column(String(3))  # in | out
    channel: Mapped[str] = mapped_column(String(10))  # sms | email
    provider_id: Mapped[str | None] = mapped_column(String(512))
    sender: Mapped[str] = mapped_column(String(320))
    recipient: Mapped[str] = mapped_column(String(320))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_file.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    subject: Mapped[str] = mapped_column(Text, default="")
    redacted_text: Mapped[str] = mapped_column(Text, default="")
    stripped: Mapped[dict[str, Any]] = mapped_column(
        default=dict
    )  # redacted quoted text / signature
    sealed_id: Mapped[int | None] = mapped_column(ForeignKey("sealed_blob.id"))
    # A sanitized HTML copy of an HTML e-mail, sealed like the original (it is not redacted).
    sealed_html_id: Mapped[int | None] = mapped_column(ForeignKey("sealed_blob.id"))
    classification: Mapped[dict[str, Any]] = mapped_column(default=dict)
    priority: Mapped[str] = mapped_column(String(10), default="normal")  # normal | urgent
    status: Mapped[str] = mapped_column(String(20))
    triage_reason: Mapped[str | None] = mapped_column(String(200))
    flags: Mapped[dict[str, Any]] = mapped_column(default=dict)
    email_message_id: Mapped[str | None] = mapped_column(String(512), index=True)
    in_reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("message.id"))
    segments: Mapped[int | None] = mapped_column(Integer)
    error_code: Mapped[str | None] = mapped_column(String(20))
    error_text: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class Attachment(Base):
    __tablename__ = "attachment"
    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("message.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(127))
    size: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str | None] = mapped_column(String(64))
    sealed_id: Mapped[int | None] = mapped_column(ForeignKey("sealed_blob.id"))
    verdict: Mapped[str] = mapped_column(String(10), default="kept")  # kept | blocked | pending
    reason: Mapped[str] = mapped_column(String(200), default="")
    source_url: Mapped[str | None] = mapped_column(String(1000))  # MMS media still to fetch


class QueueItem(Base):
    __tablename__ = "queue_item"
    __table_args__ = (
        Index("ix_queue_item_owner", "owner_kind", "owner_user_id", "owner_team", "state"),
        # A caseworker's queue also lists what they claimed from a team or the duty desk.
        Index("ix_queue_item_claimed_by_state", "claimed_by", "state"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("message.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_file.id"))
    owner_kind: Mapped[str] = mapped_column(String(10))  # user | team | duty | triage
    owner_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    owner_team: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(
        String(12), default="new"
    )  # new | claimed | done | journalled
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(String(200), default="")
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    journal_ref: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class OutboxJob(Base):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "state", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("message.id"), unique=True)
    channel: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(20), default="send")  # send | fetch_media
    state: Mapped[str] = mapped_column(
        String(10), default="pending"
    )  # pending | sending | sent | dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    # Which relay holds the lease (renewed while it sends); only it may record the outcome.
    lease_owner: Mapped[str | None] = mapped_column(String(40))
    # Set when an attempt went out and no answer came back: ask the provider before resending.
    unconfirmed_since: Mapped[datetime | None]
    # When the relay first began handing the content over (SMTP: just before DATA), written
    # before it does: a send whose answer was lost can have reached the provider only if set.
    handed_over_at: Mapped[datetime | None]


class InboundReceipt(Base):
    """A message taken in and committed before it is processed (DESIGN invariants 1 and 8).

    The sender is answered once this row is committed; a worker then parses the payload and
    stores the message through the intake, deleting the receipt in that same transaction.
    Channel-neutral: ``receipt_key`` is the channel's exactly-once key, the payload is the
    sealed original as received and ``details`` what the channel needs to process it.
    """

    __tablename__ = "inbound_receipt"
    __table_args__ = (
        UniqueConstraint("channel", "receipt_key", name="uq_inbound_receipt_channel_receipt_key"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(10))
    receipt_key: Mapped[str] = mapped_column(String(512))
    sender: Mapped[str] = mapped_column(String(320))
    recipient: Mapped[str] = mapped_column(String(320))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    key_id: Mapped[str] = mapped_column(String(40))
    nonce: Mapped[bytes] = mapped_column(LargeBinary)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Which instance is processing it and until when; an expired lease is taken over.
    lease_owner: Mapped[str | None] = mapped_column(String(40))
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class ReplyToken(Base):
    __tablename__ = "reply_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"))
    issued_to: Mapped[str] = mapped_column(String(320))  # normalised sender it is valid for
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class AuditEvent(Base):
    __tablename__ = "audit_event"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(32))  # ISO-8601 UTC, exactly as hashed
    actor: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """One row: the last appended (seq, hash); locked while appending, so the chain never forks."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class BlockedSender(Base):
    """Messages from a blocked address are stored and flagged, never queued or answered."""

    __tablename__ = "blocked_sender"
    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(320), unique=True)  # normalised
    reason: Mapped[str] = mapped_column(String(500))
    blocked_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime]


class StaffNotification(Base):
    """One staff notification to send: where, and about which case; never any content.

    Rows due for the same address are sent together as one digest when the person has a
    digest period; ``carried_by`` names the row whose send covered this one.
    """

    __tablename__ = "staff_notification"
    __table_args__ = (Index("ix_staff_notification_due", "state", "send_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("message.id"), index=True)
    target: Mapped[str] = mapped_column(String(20))  # owner | duty_desk | team_lead
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    channel: Mapped[str] = mapped_column(String(10))  # email | sms
    address: Mapped[str] = mapped_column(String(320))  # a work address or the on-call phone
    case_ref: Mapped[str | None] = mapped_column(String(64))
    source_channel: Mapped[str] = mapped_column(String(10))  # channel the family used
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    send_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(10), default="pending")  # pending|sending|sent|dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    carried_by: Mapped[int | None] = mapped_column(Integer)
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class SmsStatusEvent(Base):
    """One Twilio delivery callback; several share a MessageSid, so (sid, status) is the key."""

    __tablename__ = "sms_status_event"
    __table_args__ = (UniqueConstraint("sid", "status", name="uq_sms_status_event_sid_status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    sid: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))  # as Twilio sent it
    message_id: Mapped[int] = mapped_column(ForeignKey("message.id"), index=True)
    error_code: Mapped[str | None] = mapped_column(String(20))
    received_at: Mapped[datetime]


class AccessLogEntry(Base):
    """Who read which case content, and when (reads are not state changes, so not chained)."""

    __tablename__ = "access_log"
    __table_args__ = (Index("ix_access_log_case", "case_ref", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(40))  # case.thread | message.read | attachment.read
    subject: Mapped[str] = mapped_column(String(200))
    case_ref: Mapped[str | None] = mapped_column(String(64))


class SealingKeyRecord(Base):
    """A key that sealed blobs in this database: its id and fingerprint, never the key itself.

    ``serve`` and ``check-config`` refuse to start when one of these is missing from the key
    file, or is there with other bytes (a replaced key), so a lost key is noticed at start-up.
    """

    __tablename__ = "sealing_key"
    key_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    first_used_at: Mapped[datetime]


class StaffLogin(Base):
    """How a member of staff signs in to the pages: an argon2 password hash (never the password)
    and the language of their pages. API tokens stay in ``api_token``."""

    __tablename__ = "staff_login"
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    password_set_at: Mapped[datetime | None]
    language: Mapped[str | None] = mapped_column(String(5))  # None: service.language


class WebSession(Base):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored, so a
    copy of the database signs nobody in. Ended by signing out, deactivation, a password reset,
    the idle timeout or the absolute lifetime."""

    __tablename__ = "web_session"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(20))  # sign_out | expired | ...


class SignInFailure(Base):
    """Failed sign-ins counted per account (``account:<email>``) and per address
    (``address:<ip>``), for the slow-down after repeated failures."""

    __tablename__ = "sign_in_failure"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(400), unique=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]


class AuditPending(Base):
    """An audit event committed with the transaction that caused it, not yet in the chain.

    On PostgreSQL writers only insert here; one sequencer at a time (an advisory lock) moves
    these into ``audit_event`` with their seq and hash, in batches, shortly after commit. On
    SQLite writers are serialised anyway and chain their events in their own transaction.
    """

    __tablename__ = "audit_pending"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[str] = mapped_column(String(32))  # when it happened, ISO-8601 UTC, as hashed
    actor: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class DirectoryVersion(Base):
    """One row, bumped in the same transaction as any change to cases, contacts, users or
    blocked senders; processes that cache those for intake compare it once per batch."""

    __tablename__ = "directory_version"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(Integer, default=0)


class RiskFeedback(Base):
    """A caseworker's or team lead's verdict on a message's risk signals, for retraining.

    ``verdict`` is ``missed_risk`` (the classifier should have raised ``risk_types``) or
    ``not_a_risk`` (what it raised was a false alarm). The latest verdict on a message counts.
    """

    __tablename__ = "risk_feedback"
    __table_args__ = (Index("ix_risk_feedback_message", "message_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("message.id"))
    verdict: Mapped[str] = mapped_column(String(20))  # missed_risk | not_a_risk
    risk_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    note: Mapped[str | None] = mapped_column(Text)
    marked_by: Mapped[str] = mapped_column(String(320))
    marked_at: Mapped[datetime]
