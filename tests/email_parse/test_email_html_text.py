"""HTML-only mail as text a caseworker can read, and the sanitized copy for display."""

from __future__ import annotations

import pytest

from gateway.core.email.html_text import html_to_text, sanitize_html

TEXT_CASES = [
    ("paragraphs", "<p>Hei,</p><p>Vi kommer.</p>", "Hei,\n\nVi kommer."),
    ("line breaks", "Hei<br>Vi kommer<br/>i morgen", "Hei\nVi kommer\ni morgen"),
    ("divs are lines", "<div>Hei</div><div>Vi kommer</div>", "Hei\nVi kommer"),
    (
        "link keeps its address",
        '<a href="https://a.example/x">skjema</a>',
        "skjema (https://a.example/x)",
    ),
    (
        "bare link shown once",
        '<a href="https://a.example/x">https://a.example/x</a>',
        "https://a.example/x",
    ),
    ("mailto", '<a href="mailto:kari@example.no">Kari</a>', "Kari (kari@example.no)"),
    ("javascript link text only", '<a href="javascript:alert(1)">klikk</a>', "klikk"),
    ("script and style dropped", "<style>p{}</style><script>alert(1)</script><p>Hei</p>", "Hei"),
    ("head dropped", "<html><head><title>Tittel</title></head><body>Hei</body></html>", "Hei"),
    (
        "images give no text",
        '<p>Hei<img src="https://t.example/p.gif" width="1" height="1"></p>',
        "Hei",
    ),
    ("list items", "<ul><li>En</li><li>To</li></ul>", "- En\n- To"),
    ("blockquote quoted", "<p>Ja.</p><blockquote><p>Kan du?</p></blockquote>", "Ja.\n\n> Kan du?"),
    ("nested blockquote", "<blockquote>a<blockquote>b</blockquote></blockquote>", "> a\n>\n> > b"),
    ("hr is outlook separator", "Ok<hr>From: X", "Ok\n" + "_" * 32 + "\nFrom: X"),
    ("entities and nbsp", "S&oslash;nn&nbsp;&amp;&nbsp;datter", "Sønn & datter"),
    ("whitespace collapsed", "<p>  Hei \n\n  der  </p>", "Hei der"),
    (
        "word paragraphs are lines",
        "<p class=MsoNormal>Hei</p><p class=MsoNormal>&nbsp;</p><p class=MsoNormal>Linje</p>"
        "<p class=MsoNormal>Mvh</p>",
        "Hei\n\nLinje\nMvh",
    ),
    ("table cells", "<table><tr><td>Navn</td><td>Kari</td></tr></table>", "Navn Kari"),
    ("empty", "", ""),
]


@pytest.mark.parametrize(
    ("html", "text"), [c[1:] for c in TEXT_CASES], ids=[c[0] for c in TEXT_CASES]
)
def test_html_to_text(html: str, text: str) -> None:
    assert html_to_text(html) == text


@pytest.mark.parametrize(
    ("html", "present", "absent"),
    [
        ("<p onclick='x()'>Hei</p>", "<p>Hei</p>", "onclick"),
        ("<script>alert(1)</script>Hei", "Hei", "alert"),
        ("<style>body{}</style>Hei", "Hei", "body{}"),
        ('<img src="https://t.example/p.gif">', "<img", "t.example"),
        ('<img src="cid:bilde1@x">', 'src="cid:bilde1@x"', "https"),
        ('<a href="javascript:alert(1)">x</a>', "x</a>", "javascript"),
        ('<a href="data:text/html,<script>">x</a>', "x</a>", "data:"),
        ('<a href="https://kommune.example.no">x</a>', 'href="https://kommune.example.no"', "xx"),
        ("<iframe src='https://evil.example'></iframe>Hei", "Hei", "iframe"),
        ("<!-- sporings-id 123 -->Hei", "Hei", "sporings-id"),
    ],
)
def test_sanitized_html(html: str, present: str, absent: str) -> None:
    clean = sanitize_html(html)
    assert present in clean
    assert absent not in clean


def test_links_open_without_referrer() -> None:
    clean = sanitize_html('<a href="https://kommune.example.no">x</a>')
    assert 'rel="noopener noreferrer nofollow"' in clean
