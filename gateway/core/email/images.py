"""Images as shown to caseworkers: EXIF (GPS, camera, times) removed; the sealed original keeps it."""

from __future__ import annotations

import io

from PIL import Image, ImageOps

# Larger images are not re-encoded for display; they could exhaust memory when decoded.
MAX_DISPLAY_PIXELS = 60_000_000
_FORMATS = {"JPEG", "PNG", "GIF", "WEBP", "TIFF", "BMP"}


def display_copy(data: bytes, content_type: str) -> bytes:
    """A copy of an image without EXIF or other metadata; non-images come back unchanged.

    The picture is re-encoded from its pixels (turned upright first, because the rotation
    lives in the EXIF we drop). An image that cannot be decoded safely gives b"", so a
    caseworker is never shown bytes that might still carry a location.
    """
    if not content_type.lower().startswith("image/"):
        return data
    try:
        # Opening reads only the header; the size is checked before any pixels are decoded.
        with Image.open(io.BytesIO(data)) as image:
            fmt = image.format or ""
            width, height = image.size
            if fmt not in _FORMATS or width * height > MAX_DISPLAY_PIXELS:
                return b""
            return _reencode(image, fmt)
    except Exception:  # Pillow raises many types on hostile input; showing nothing is safe
        return b""


def _reencode(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "GIF" and getattr(image, "is_animated", False):
        loop = image.info.get("loop", 0)
        image.info.clear()  # comments and XMP would otherwise be written back
        image.save(out, format="GIF", save_all=True, loop=loop)
        return out.getvalue()
    upright = ImageOps.exif_transpose(image) or image
    clean = Image.new(upright.mode, upright.size)
    if upright.mode == "P":
        clean.putpalette(upright.getpalette() or [])
    clean.paste(upright)
    if "transparency" in image.info and fmt in ("PNG", "GIF"):
        clean.info["transparency"] = image.info["transparency"]
    options: dict[str, object] = {}
    if fmt == "JPEG":
        options = {"quality": 90}
        if clean.mode not in ("RGB", "L", "CMYK"):
            clean = clean.convert("RGB")
    icc = image.info.get("icc_profile")
    if icc and fmt in ("JPEG", "PNG", "WEBP", "TIFF"):
        options["icc_profile"] = icc
    clean.save(out, format=fmt, **options)
    return out.getvalue()
