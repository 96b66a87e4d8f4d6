"""Which attachments a caseworker may open, and safe names for all of them."""

from __future__ import annotations

import posixpath
import re
import unicodedata
from dataclasses import dataclass

from gateway.core.email import sniffing

# Run code when opened on a caseworker's PC.
EXECUTABLE_EXTENSIONS = frozenset(
    "exe com scr pif cpl msi msp mst dll sys drv ocx bat cmd ps1 psm1 psd1 vbs vbe js jse "
    "wsf wsh wsc hta jar lnk reg inf scf sh bash csh ksh py pyw pl rb php app dmg pkg deb "
    "rpm apk appx appxbundle msix msixbundle iso img vhd vhdx chm url application gadget "
    "msc xll xla ws sct settingcontent-ms library-ms appref-ms diagcab".split()
)
# Office documents that may hold macros.
MACRO_EXTENSIONS = frozenset("docm dotm xlsm xltm xlam xlsb pptm potm ppam ppsm sldm".split())
# Archives we cannot look inside; they could hold anything.
OPAQUE_ARCHIVE_EXTENSIONS = frozenset("rar 7z ace arj cab lzh lha z xz bz2 zst".split())
_OPAQUE_ARCHIVE_TYPES = {
    "application/x-rar-compressed",
    "application/vnd.rar",
    "application/x-7z-compressed",
    "application/x-ace-compressed",
    "application/vnd.ms-cab-compressed",
    "application/x-xz",
    "application/x-bzip2",
    "application/x-lzip",
    "application/x-compress",
    "application/zstd",
    "application/x-unix-archive",
    "application/x-rpm",
    "application/x-deb",
    "application/x-nintendo-nes-rom",
}
_EXECUTABLE_TYPES = {
    "application/x-msdownload",
    "application/x-executable",
    "application/x-mach-binary",
    "application/x-elf",
    "application/x-shockwave-flash",
    "application/java-archive",
    "text/x-script",
    "application/x-sh",
    "application/vnd.microsoft.portable-executable",
}
_CONTROL_OR_FORMAT = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$", re.I)
_EXTENSION_FOR_TYPE = {
    "application/pdf": "pdf",
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/heic": "heic",
    "image/webp": "webp",
    "text/plain": "txt",
    "text/html": "html",
    "message/rfc822": "eml",
    "application/ms-tnef": "dat",
}
MAX_FILENAME_CHARS = 150
_UNSAFE_IN_NAMES = str.maketrans({ch: "_" for ch in '";*?<>|'})
# Types a browser may show inline; anything else is offered for download as opaque bytes.
INLINE_IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
_RFC5987_SAFE = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$&+-.^_`|~"
)


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """A Content-Disposition value for ``filename`` by RFC 6266 with RFC 5987 encoding.

    ``filename=`` carries a plain ASCII fallback (no quotes, backslashes or controls) and
    ``filename*=`` the exact name percent-encoded as UTF-8, so no name can add parameters.
    """
    fallback = (
        "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\%;' else "_" for ch in filename).strip()
        or "attachment"
    )
    encoded = "".join(
        ch if ch in _RFC5987_SAFE else "".join(f"%{b:02X}" for b in ch.encode("utf-8"))
        for ch in filename
    )
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


def served_content_type(content_type: str) -> str:
    """What an attachment is served as: an allowlisted picture type, else opaque bytes."""
    lowered = content_type.split(";", 1)[0].strip().lower()
    return lowered if lowered in INLINE_IMAGE_TYPES else "application/octet-stream"


def redact_filename(filename: str, language: str = "nb") -> str:
    """The name with identity numbers, phone numbers and addresses in it replaced.

    Names are often built from ids ("pass_01017012345.pdf"), so the separators a word
    detector would stop at are read as spaces; the extension is kept.
    """
    from gateway.core.classify import classify
    from gateway.core.classify.placeholders import placeholder

    stem, dot, ext = filename.rpartition(".")
    if not dot or not stem:
        stem, ext = filename, ""
    spaced = stem.translate(_SEPARATORS_AS_SPACES)
    found = sorted(classify(spaced, language=language).entities, key=lambda e: e.start)
    if not found:
        return filename
    out: list[str] = []
    pos = 0
    for entity in found:
        if entity.start < pos:
            continue
        out.append(stem[pos : entity.start])
        out.append(placeholder(entity.type, language))
        pos = entity.end
    out.append(stem[pos:])
    return "".join(out) + (f".{ext}" if ext else "")


_SEPARATORS_AS_SPACES = str.maketrans("_-+", "   ")


@dataclass(frozen=True)
class Verdict:
    """The policy's answer for one attachment."""

    verdict: str  # "kept" | "blocked"
    reason: str


KEPT = Verdict("kept", "ok")


def sanitize_filename(raw: str | None, part_index: int, sniffed_type: str) -> str:
    """A filename safe to show and to offer for download.

    No directories, no CR/LF or other control and bidi-override characters (which can
    make "cod.exe" look like "exe.doc"), no leading dots, bounded length, never empty.
    """
    name = (raw or "").replace("\\", "/")
    name = posixpath.basename(name.rstrip("/"))
    name = "".join(
        " " if unicodedata.category(ch) in _CONTROL_OR_FORMAT else ch
        for ch in unicodedata.normalize("NFC", name)
    )
    # Quotes and separators could end a header parameter when the name is offered for
    # download ('notes.html"; x=".txt'); the rest are not allowed in Windows names.
    name = name.translate(_UNSAFE_IN_NAMES)
    name = " ".join(name.split()).strip(" .")
    if _WINDOWS_RESERVED.match(name):
        name = f"_{name}"
    if len(name) > MAX_FILENAME_CHARS:
        stem, dot, ext = name.rpartition(".")
        keep_ext = dot and 0 < len(ext) <= 10
        name = (
            (stem[: MAX_FILENAME_CHARS - len(ext) - 1] + "." + ext)
            if keep_ext
            else (name[:MAX_FILENAME_CHARS])
        )
    if not name:
        ext = _EXTENSION_FOR_TYPE.get(sniffed_type, "bin")
        name = f"attachment-{part_index}.{ext}"
    return name


def extension(filename: str) -> str:
    """Last extension, lower-case, without the dot ("" when there is none)."""
    stem, dot, ext = filename.rpartition(".")
    return ext.lower() if dot and stem else ""


def judge_attachment(
    data: bytes, filename: str, declared_type: str, sniffed_type: str, max_bytes: int
) -> Verdict:
    """Block executables, scripts, macro documents and archives holding them; keep the rest."""
    if len(data) > max_bytes:
        return Verdict("blocked", f"over size limit ({max_bytes} bytes)")
    ext = extension(filename)
    if sniffed_type in _EXECUTABLE_TYPES:
        return Verdict("blocked", f"executable content ({sniffed_type})")
    if ext in EXECUTABLE_EXTENSIONS:
        return Verdict("blocked", f"executable or script file type (.{ext})")
    if ext in MACRO_EXTENSIONS:
        return Verdict("blocked", f"macro-enabled document (.{ext})")
    if filename.lower() == "winmail.dat" or sniffed_type == "application/ms-tnef":
        return Verdict("kept", "winmail.dat: Outlook TNEF wrapper, contents not inspected")
    if sniffed_type == "application/x-ole-storage" or sniffed_type == "application/msword":
        if sniffing.ole_has_macros(data):
            return Verdict("blocked", "macro document (VBA project in Office file)")
    if sniffed_type in ("text/html", "image/svg+xml") or ext in ("html", "htm", "svg", "xhtml"):
        if sniffing.has_active_markup(data):
            return Verdict("blocked", "script in HTML or SVG attachment")
    if sniffed_type == "application/pdf" and b"/Launch" in data:
        return Verdict("blocked", "PDF with a launch action")
    archive_verdict = _judge_archive(data, ext, sniffed_type, depth=0)
    if archive_verdict is not None:
        return archive_verdict
    return _mismatch_note(declared_type, sniffed_type)


def _judge_archive(data: bytes, ext: str, sniffed_type: str, depth: int) -> Verdict | None:
    if sniffed_type in _OPAQUE_ARCHIVE_TYPES or (
        ext in OPAQUE_ARCHIVE_EXTENSIONS and sniffed_type == "application/octet-stream"
    ):
        return Verdict("blocked", f"archive that cannot be inspected ({sniffed_type})")
    contents: sniffing.ArchiveContents | None = None
    if sniffed_type == "application/zip" or data[:4] == b"PK\x03\x04":
        contents = sniffing.zip_contents(data)
    elif sniffed_type == "application/x-tar":
        contents = sniffing.tar_contents(data)
    elif sniffed_type == "application/gzip":
        inner = sniffing.gunzip_head(data)
        if inner is None:
            return Verdict("blocked", "damaged compressed file")
        inner_type = sniffing.sniff_content_type(inner)
        if inner_type in _EXECUTABLE_TYPES:
            return Verdict("blocked", f"compressed executable ({inner_type})")
        return _judge_archive(inner, "", inner_type, depth + 1) if depth < 2 else None
    if contents is None:
        return None
    if not contents.readable:
        return Verdict("blocked", "damaged archive that cannot be inspected")
    if contents.encrypted:
        return Verdict("blocked", "encrypted archive that cannot be inspected")
    for name in contents.names:
        lowered = name.lower()
        if lowered.endswith("vbaproject.bin"):
            return Verdict("blocked", "macro document (vbaProject.bin)")
        member_ext = extension(posixpath.basename(lowered))
        if member_ext in EXECUTABLE_EXTENSIONS or member_ext in MACRO_EXTENSIONS:
            return Verdict(
                "blocked", f"archive holding an executable or macro file (.{member_ext})"
            )
        if member_ext in OPAQUE_ARCHIVE_EXTENSIONS:
            return Verdict(
                "blocked", f"archive holding an archive that cannot be inspected (.{member_ext})"
            )
    for _name, nested in contents.nested:
        found = _judge_archive(nested, "zip", sniffing.sniff_content_type(nested), depth + 1)
        if found is not None and found.verdict == "blocked":
            return Verdict("blocked", f"nested {found.reason}")
    return None


def _mismatch_note(declared_type: str, sniffed_type: str) -> Verdict:
    """Harmless content kept; a wrong declared type is noted for the caseworker."""
    declared = declared_type.lower()
    generic = {"application/octet-stream", "application/x-empty", ""}
    if declared in generic or sniffed_type in generic or declared == sniffed_type:
        return KEPT
    if declared.split("/")[0] == sniffed_type.split("/")[0] == "text":
        return KEPT
    if "openxmlformats" in declared and sniffed_type in ("application/zip",):
        return KEPT
    return Verdict("kept", f"declared {declared}, content is {sniffed_type}")
