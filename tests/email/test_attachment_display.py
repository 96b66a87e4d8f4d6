"""Pictures shown to caseworkers lose their EXIF/GPS; the sealed original keeps it."""

from __future__ import annotations

import asyncio
import io
from email.message import EmailMessage

import pytest
from PIL import ExifTags, Image
from sqlalchemy import select

from gateway.attachments import AttachmentUnavailable, attachment_for_display
from gateway.runtime import Runtime
from gateway.sealing import SealedBlob
from gateway.server import RunningGateway
from gateway.storage.models import Attachment, SealedOriginal
from tests.email.conftest import SERVICE, deliver, smtp_port
from tests.helpers import PARENT_EMAIL, processed, seed_case

GPS = ExifTags.IFD.GPSInfo


def jpeg_with_gps() -> bytes:
    """A photo as a phone writes it: camera make and the place it was taken."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    gps = exif.get_ifd(GPS)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (59.0, 54.0, 42.5)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (10.0, 45.0, 3.0)
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 40)).save(out, format="JPEG", exif=exif)
    return out.getvalue()


def gps_of(data: bytes) -> dict[int, object]:
    with Image.open(io.BytesIO(data)) as image:
        return dict(image.getexif().get_ifd(GPS))


def mail_with(*attachments: tuple[bytes, str, str, str]) -> bytes:
    m = EmailMessage()
    m["From"] = f"Kari Nordmann <{PARENT_EMAIL}>"
    m["To"] = SERVICE
    m["Subject"] = "Bilder"
    m["Message-ID"] = "<pictures@example.org>"
    m.set_content("Her er bildet av rommet.")
    for data, maintype, subtype, name in attachments:
        m.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return m.as_bytes()


async def test_display_copy_has_no_gps_and_the_original_keeps_it(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    await seed_case(runtime)
    photo = jpeg_with_gps()
    assert gps_of(photo)  # the test photo really carries a location
    exe = b"MZ\x90\x00" + b"\x00" * 200
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    data = mail_with(
        (photo, "image", "jpeg", "rommet.jpg"),
        (exe, "application", "octet-stream", "faktura.pdf.exe"),
        (pdf, "application", "pdf", "brev.pdf"),
    )
    assert await asyncio.to_thread(deliver, smtp_port(gateway), data, sender=PARENT_EMAIL) == {}
    await processed(gateway)
    async with runtime.db.read() as s:
        rows = {a.filename: a for a in (await s.execute(select(Attachment))).scalars().all()}
        blob = await s.get(SealedOriginal, rows["rommet.jpg"].sealed_id)
    assert blob is not None
    sealed = runtime.keyring.open(
        SealedBlob(blob.key_id, blob.nonce, blob.ciphertext), b"attachment"
    )
    assert sealed == photo and gps_of(sealed)  # the sealed original is untouched

    name, ctype, shown = await attachment_for_display(
        runtime.db, runtime.keyring, rows["rommet.jpg"].id
    )
    assert (name, ctype) == ("rommet.jpg", "image/jpeg")
    assert gps_of(shown) == {}
    with Image.open(io.BytesIO(shown)) as image:
        assert image.size == (64, 48)
        assert not image.getexif()
    assert b"PhoneMaker" not in shown

    assert await attachment_for_display(runtime.db, runtime.keyring, rows["brev.pdf"].id) == (
        "brev.pdf",
        "application/pdf",
        pdf,
    )
    with pytest.raises(AttachmentUnavailable) as blocked:
        await attachment_for_display(runtime.db, runtime.keyring, rows["faktura.pdf.exe"].id)
    assert (blocked.value.code, blocked.value.http_status) == ("blocked", 403)
    with pytest.raises(AttachmentUnavailable) as missing:
        await attachment_for_display(runtime.db, runtime.keyring, 999_999)
    assert (missing.value.code, missing.value.http_status) == ("not_found", 404)


async def test_a_picture_that_cannot_be_cleaned_is_not_shown(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    await seed_case(runtime)
    broken = jpeg_with_gps()[:40]  # a JPEG header with EXIF, cut off before the pixels
    data = mail_with((broken, "image", "jpeg", "brutt.jpg"))
    assert await asyncio.to_thread(deliver, smtp_port(gateway), data, sender=PARENT_EMAIL) == {}
    await processed(gateway)
    async with runtime.db.read() as s:
        row = (await s.execute(select(Attachment))).scalar_one()
    if row.content_type.startswith("image/") and row.verdict == "kept":
        with pytest.raises(AttachmentUnavailable) as err:
            await attachment_for_display(runtime.db, runtime.keyring, row.id)
        assert (err.value.code, err.value.http_status) == ("not_displayable", 422)
    else:  # sniffing did not call it a picture: then it is shown as the bytes it is
        _, ctype, shown = await attachment_for_display(runtime.db, runtime.keyring, row.id)
        assert not ctype.startswith("image/") and shown == broken
