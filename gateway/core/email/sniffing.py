"""What an attachment really is, judged from its bytes rather than its name or header."""

from __future__ import annotations

import io
import re
import tarfile
import zipfile
import zlib
from dataclasses import dataclass

import filetype

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
TNEF_MAGIC = b"\x78\x9f\x3e\x22"
# Names of the VBA storage inside legacy Office files, as UTF-16LE directory entries.
_OLE_MACRO_MARKERS = ("_VBA_PROJECT".encode("utf-16-le"), "Macros".encode("utf-16-le"))
_SCRIPT_TEXT = re.compile(
    rb"(?i)^\s*(@echo\s+off|#!|<\?php|<job\b|<package\b|<hta:application|"
    rb"wscript\.|createobject\(|powershell(\.exe)?\s+-|set\s+\w+\s*=\s*createobject)"
)
_ACTIVE_MARKUP = re.compile(rb"(?i)<script\b|\bon[a-z]{3,20}\s*=|javascript:")
# Bounds for looking inside archives: names only, and one nested level read at most this big.
MAX_NESTED_READ = 10 * 1024 * 1024
MAX_ARCHIVE_MEMBERS = 2000


@dataclass(frozen=True)
class ArchiveContents:
    """Member names of an archive, and what could not be looked at."""

    names: tuple[str, ...]
    encrypted: bool
    nested: tuple[tuple[str, bytes], ...]
    readable: bool


def sniff_content_type(data: bytes) -> str:
    """A MIME type from the leading bytes, with our own checks before ``filetype``'s."""
    head = data[:4096]
    if head.startswith(b"MZ"):
        return "application/x-msdownload"
    if head.startswith(b"\x7fELF"):
        return "application/x-executable"
    if head[:4] in (
        b"\xfe\xed\xfa\xce",
        b"\xfe\xed\xfa\xcf",
        b"\xce\xfa\xed\xfe",
        b"\xcf\xfa\xed\xfe",
    ):
        return "application/x-mach-binary"
    if head.startswith(TNEF_MAGIC):
        return "application/ms-tnef"
    if head.startswith(b"#!"):
        return "text/x-script"
    if head.startswith(OLE_MAGIC):
        return "application/x-ole-storage"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    try:
        guess = filetype.guess(head)
    except Exception:  # filetype should not raise, but a sniffer must never crash intake
        guess = None
    if guess is not None:
        return str(guess.mime)
    return _sniff_text(head)


def _sniff_text(head: bytes) -> str:
    if not head:
        return "application/x-empty"
    if b"\x00" in head and not (head.startswith((b"\xff\xfe", b"\xfe\xff"))):
        return "application/octet-stream"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # a multi-byte character cut at the end is fine
            controls = sum(1 for b in head if b < 9 or 13 < b < 32)
            if controls > len(head) // 20:
                return "application/octet-stream"
    lowered = head.lstrip().lower()
    if lowered.startswith((b"<!doctype html", b"<html")) or b"<body" in lowered[:1024]:
        return "text/html"
    if b"<svg" in lowered[:1024]:
        return "image/svg+xml"
    if lowered.startswith(b"<?xml"):
        return "application/xml"
    if _SCRIPT_TEXT.match(head):
        return "text/x-script"
    return "text/plain"


def has_active_markup(data: bytes) -> bool:
    """True when HTML or SVG carries script, event handlers or javascript: links."""
    return bool(_ACTIVE_MARKUP.search(data[: 2 * 1024 * 1024]))


def ole_has_macros(data: bytes) -> bool:
    """True when a legacy Office (OLE) file carries a VBA project."""
    return any(marker in data for marker in _OLE_MACRO_MARKERS)


def zip_contents(data: bytes) -> ArchiveContents:
    """Names in a zip (OOXML documents are zips too), from the directory only: no inflating."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()[:MAX_ARCHIVE_MEMBERS]
            names = tuple(info.filename for info in infos)
            encrypted = any(info.flag_bits & 0x1 for info in infos)
            nested: list[tuple[str, bytes]] = []
            for info in infos:
                if (
                    info.filename.lower().endswith((".zip", ".jar"))
                    and not info.flag_bits & 0x1
                    and info.file_size <= MAX_NESTED_READ
                ):
                    with archive.open(info) as member:
                        nested.append((info.filename, member.read(MAX_NESTED_READ)))
            return ArchiveContents(names, encrypted, tuple(nested), True)
    except Exception:  # corrupt or hostile archives are reported, never raised
        return ArchiveContents((), False, (), False)


def tar_contents(data: bytes) -> ArchiveContents:
    """Names in an uncompressed tar."""
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
            names = tuple(member.name for member in archive.getmembers()[:MAX_ARCHIVE_MEMBERS])
        return ArchiveContents(names, False, (), True)
    except Exception:
        return ArchiveContents((), False, (), False)


def gunzip_head(data: bytes, limit: int = MAX_NESTED_READ) -> bytes | None:
    """At most ``limit`` bytes of a gzip stream, so a small bomb cannot fill memory."""
    try:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        return inflater.decompress(data, limit)
    except zlib.error:
        return None
