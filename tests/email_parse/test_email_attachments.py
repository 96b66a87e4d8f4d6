"""Attachment policy: sniffed types, blocked executables/scripts/macros/archives, safe
names, and pictures shown to caseworkers without their location."""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from gateway.core.email import display_copy
from gateway.core.email.attachment_policy import judge_attachment, sanitize_filename
from gateway.core.email.sniffing import sniff_content_type

EXE = b"MZ\x90\x00\x03" + b"\x00" * 59 + b"PE\x00\x00"
PDF = b"%PDF-1.4\n1 0 obj\n<</Type/Catalog>>\nendobj\ntrailer\n<</Root 1 0 R>>\n%%EOF\n"
LIMIT = 25 * 1024 * 1024


def zipped(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def tarred(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


def jpeg(exif: Image.Exif | None = None, size: tuple[int, int] = (40, 20)) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", size, (10, 200, 30))
    image.save(out, "JPEG", exif=exif.tobytes() if exif is not None else b"")
    return out.getvalue()


def gps_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "Apple"
    exif[0x0112] = 6  # rotated 90 degrees
    exif[0x8825] = {1: "N", 2: (59.0, 54.0, 41.3), 3: "E", 4: (10.0, 45.0, 12.9)}
    return exif


# (case, data, filename, declared type, verdict, words in the reason)
VERDICTS = [
    ("exe renamed pdf", EXE, "faktura.pdf", "application/pdf", "blocked", "executable"),
    ("exe by name", b"hello", "setup.exe", "application/octet-stream", "blocked", ".exe"),
    ("double extension", b"x = 1", "bilde.jpg.vbs", "image/jpeg", "blocked", ".vbs"),
    ("shell script", b"#!/bin/sh\nrm -rf ~\n", "notes.txt", "text/plain", "blocked", "executable"),
    ("batch file", b"@echo off\ndel *.*\n", "les_meg.txt", "text/plain", "blocked", "executable"),
    ("powershell", b"Write-Host 1", "x.ps1", "text/plain", "blocked", ".ps1"),
    (
        "macro document by name",
        zipped({"word/document.xml": b"<w/>"}),
        "a.xlsm",
        "",
        "blocked",
        ".xlsm",
    ),
    (
        "macro renamed docx",
        zipped({"word/vbaProject.bin": b"x"}),
        "a.docx",
        "",
        "blocked",
        "vbaProject",
    ),
    (
        "legacy doc with vba",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600 + "_VBA_PROJECT".encode("utf-16-le"),
        "brev.doc",
        "application/msword",
        "blocked",
        "macro",
    ),
    (
        "zip holding exe",
        zipped({"a/b.exe": EXE}),
        "bilder.zip",
        "application/zip",
        "blocked",
        ".exe",
    ),
    (
        "zip in zip holding script",
        zipped({"inner.zip": zipped({"run.js": b"x"})}),
        "pakke.zip",
        "application/zip",
        "blocked",
        "nested",
    ),
    ("tar holding script", tarred({"x/run.sh": b"#!"}), "a.tar", "", "blocked", ".sh"),
    ("gzip of an exe", gzip.compress(EXE), "a.gz", "application/gzip", "blocked", "executable"),
    (
        "rar cannot be inspected",
        b"Rar!\x1a\x07\x00" + b"\x00" * 40,
        "a.rar",
        "",
        "blocked",
        "cannot",
    ),
    ("damaged zip", b"PK\x03\x04garbage", "a.zip", "application/zip", "blocked", "damaged"),
    ("html with script", b"<html><script>x</script></html>", "side.html", "", "blocked", "script"),
    (
        "svg with handler",
        b'<svg onload="x()"></svg>',
        "bilde.svg",
        "image/svg+xml",
        "blocked",
        "script",
    ),
    (
        "pdf with launch",
        PDF + b"/Launch /F (cmd.exe)",
        "a.pdf",
        "application/pdf",
        "blocked",
        "launch",
    ),
    ("too large", b"x" * 11, "a.txt", "text/plain", "blocked", "size"),
    ("plain pdf", PDF, "vedtak.pdf", "application/pdf", "kept", "ok"),
    ("photo", jpeg(), "IMG_2041.JPG", "image/jpeg", "kept", "ok"),
    (
        "zip of photos",
        zipped({"a.jpg": jpeg(), "b.jpg": jpeg()}),
        "bilder.zip",
        "application/zip",
        "kept",
        "ok",
    ),
    ("plain docx", zipped({"word/document.xml": b"<w/>"}), "søknad.docx", "", "kept", "ok"),
    ("text note", b"Hei, dette er et notat.", "notat.txt", "text/plain", "kept", "ok"),
    ("pdf declared as jpeg", PDF, "skann.jpg", "image/jpeg", "kept", "declared image/jpeg"),
    ("winmail", b"\x78\x9f\x3e\x22" + b"\x00" * 30, "winmail.dat", "", "kept", "winmail"),
]


@pytest.mark.parametrize(
    ("data", "filename", "declared", "verdict", "reason_words"),
    [case[1:] for case in VERDICTS],
    ids=[case[0] for case in VERDICTS],
)
def test_attachment_verdicts(
    data: bytes, filename: str, declared: str, verdict: str, reason_words: str
) -> None:
    limit = 10 if "size" in reason_words else LIMIT
    judged = judge_attachment(data, filename, declared, sniff_content_type(data), limit)
    assert judged.verdict == verdict
    assert reason_words in judged.reason


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\kari\\Desktop\\vedtak.pdf", "vedtak.pdf"),
        ("faktura\u202efdp.exe", "faktura fdp.exe"),  # right-to-left override removed
        ("brev\r\nBcc: x.pdf", "brev Bcc: x.pdf"),
        ("nul\x00byte.txt", "nul byte.txt"),
        ("...hidden", "hidden"),
        ("CON.txt", "_CON.txt"),
        ("  rapport .pdf. ", "rapport .pdf"),
        ("", "attachment-3.pdf"),
        (None, "attachment-3.pdf"),
        ("../", "attachment-3.pdf"),
        ("s\u00f8knad.pdf", "søknad.pdf"),
    ],
)
def test_filenames_are_sanitized(raw: str | None, expected: str) -> None:
    assert sanitize_filename(raw, 3, "application/pdf") == expected


def test_long_filenames_keep_their_extension() -> None:
    name = sanitize_filename("a" * 400 + ".pdf", 1, "application/pdf")
    assert len(name) <= 150
    assert name.endswith(".pdf")


@given(st.text(max_size=300))
def test_any_filename_becomes_safe(raw: str) -> None:
    name = sanitize_filename(raw, 7, "text/plain")
    assert name
    assert "/" not in name and "\\" not in name
    assert not any(ord(ch) < 32 or ch in "\u202e\u200b\x7f" for ch in name)
    assert len(name) <= 150
    assert not name.startswith(".")


@given(st.binary(max_size=2048), st.text(max_size=30), st.text(max_size=30))
def test_judging_any_bytes_never_crashes(data: bytes, filename: str, declared: str) -> None:
    judged = judge_attachment(data, filename, declared, sniff_content_type(data), LIMIT)
    assert judged.verdict in ("kept", "blocked")


def test_display_copy_removes_gps_and_turns_the_picture_upright() -> None:
    original = jpeg(gps_exif(), size=(40, 20))
    assert Image.open(io.BytesIO(original)).getexif().get(0x8825) is not None

    shown = display_copy(original, "image/jpeg")

    with Image.open(io.BytesIO(shown)) as image:
        assert not image.getexif()
        assert b"Exif" not in shown
        assert image.size == (20, 40)  # the EXIF rotation is applied before it is dropped


def test_display_copy_strips_png_text_chunks() -> None:
    from PIL.PngImagePlugin import PngInfo

    meta = PngInfo()
    meta.add_text("Location", "59.9, 10.7")
    out = io.BytesIO()
    Image.new("P", (8, 8)).save(out, "PNG", pnginfo=meta)
    shown = display_copy(out.getvalue(), "image/png")
    assert b"59.9" in out.getvalue()
    assert b"59.9" not in shown
    assert Image.open(io.BytesIO(shown)).size == (8, 8)


@pytest.mark.parametrize(
    ("data", "content_type", "expected"),
    [
        (PDF, "application/pdf", PDF),  # not an image: unchanged
        (b"not really a jpeg", "image/jpeg", b""),  # cannot be decoded: nothing shown
        (b"", "image/png", b""),
    ],
)
def test_display_copy_of_non_images_and_broken_images(
    data: bytes, content_type: str, expected: bytes
) -> None:
    assert display_copy(data, content_type) == expected
