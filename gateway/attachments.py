"""Attachments as caseworkers see them: pictures without EXIF/GPS, the sealed original untouched.

``attachment_for_display`` is what the API calls to show an attachment. It never returns a
blocked attachment, nor an image it could not re-encode safely (that could still carry where
the family lives). The original, with all its metadata, stays sealed; revealing it is a
separate, audited act.
"""

from __future__ import annotations

from gateway.core.email import display_copy
from gateway.sealing import Keyring, SealedBlob, SealingError
from gateway.storage.db import Database
from gateway.storage.models import Attachment, SealedOriginal


class AttachmentUnavailable(Exception):
    """The attachment cannot be shown; ``code`` is stable, ``message`` is for people."""

    def __init__(self, code: str, message: str, http_status: int) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.http_status = http_status


async def attachment_for_display(
    db: Database, keyring: Keyring, attachment_id: int
) -> tuple[str, str, bytes]:
    """(filename, content_type, bytes) of the display copy of one attachment.

    Raises :class:`AttachmentUnavailable`: ``not_found`` (404), ``blocked`` (403: blocked by
    policy, e.g. an executable), ``pending`` (409: MMS media not fetched yet) or
    ``not_displayable`` (422: a picture that cannot be shown without its metadata).
    The filename was sanitized at intake; the content type was sniffed from the bytes.
    """
    async with db.read() as s:
        row = await s.get(Attachment, attachment_id)
        if row is None:
            raise AttachmentUnavailable("not_found", f"No attachment {attachment_id}.", 404)
        if row.verdict == "blocked":
            raise AttachmentUnavailable(
                "blocked", f"This attachment was blocked: {row.reason or 'by policy'}.", 403
            )
        blob = await s.get(SealedOriginal, row.sealed_id) if row.sealed_id is not None else None
        if row.verdict == "pending" or blob is None:
            raise AttachmentUnavailable("pending", "This attachment has not been fetched yet.", 409)
        filename, content_type = row.filename, row.content_type
        sealed = SealedBlob(blob.key_id, blob.nonce, blob.ciphertext)
    try:
        original = keyring.open(sealed, b"attachment")
    except SealingError as exc:
        raise AttachmentUnavailable(
            "not_displayable", "This attachment cannot be opened with the current keys.", 422
        ) from exc
    if content_type.lower().startswith("video/"):
        # Videos keep where and when they were filmed in their metadata; we do not rewrite
        # them, so they are seen only through the audited reveal of the original.
        raise AttachmentUnavailable(
            "reveal_only",
            "Videos are shown only by revealing the original (their metadata may say where "
            "they were filmed).",
            422,
        )
    shown = display_copy(original, content_type)
    if content_type.lower().startswith("image/") and not shown:
        raise AttachmentUnavailable(
            "not_displayable",
            "This picture cannot be shown safely without its metadata; ask for the original.",
            422,
        )
    return filename, content_type, shown
