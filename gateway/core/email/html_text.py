"""HTML mail for caseworkers: readable text (paragraphs, links, quotes) and a safe copy."""

from __future__ import annotations

import re
from collections.abc import Callable

import nh3
from selectolax.lexbor import LexborHTMLParser, LexborNode

# Their content is never something the family wrote for the caseworker to read.
_SKIPPED = {
    "script",
    "style",
    "head",
    "title",
    "noscript",
    "template",
    "iframe",
    "object",
    "embed",
    "svg",
    "math",
    "select",
    "button",
    "-comment",
}
_BLOCKS = {
    "p",
    "div",
    "section",
    "article",
    "header",
    "footer",
    "main",
    "aside",
    "nav",
    "table",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "tr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "pre",
    "address",
    "figure",
    "figcaption",
    "center",
    "form",
    "fieldset",
    "li",
}
_PARAGRAPHS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "pre"}
# Outlook marks the start of quoted history with a rule; rendering it as the separator
# line Outlook uses in plain text lets the same history detection work for both.
OUTLOOK_SEPARATOR = "_" * 32
_SPACES = re.compile(r"[ \t\r\n\f\u00a0\u200b]+")
_SAFE_IMAGE_DATA = re.compile(r"^data:image/(png|jpeg|gif|webp);base64,", re.I)


class _TextBuilder:
    """Collects lines, each prefixed with "> " per enclosing blockquote."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.current: list[str] = []
        self.current_depth = 0
        self.quote_depth = 0
        self.word_paragraphs = False

    def text(self, value: str) -> None:
        if not value:
            return
        if not self.current:
            self.current_depth = self.quote_depth
            value = value.lstrip(" ")
            if not value:
                return
        self.current.append(value)

    def newline(self) -> None:
        line = "".join(self.current).rstrip(" ")
        self.lines.append("> " * self.current_depth + line if line else self.blank())
        self.current = []

    def block(self) -> None:
        if self.current:
            self.newline()

    def paragraph(self) -> None:
        self.block()
        if self.lines and self.lines[-1].strip(" >"):
            self.lines.append(self.blank())

    def blank(self) -> str:
        return ("> " * self.quote_depth).rstrip()

    def result(self) -> str:
        self.block()
        lines = [line.rstrip() for line in self.lines]
        # Blank quote lines (">") at either end carry nothing.
        while lines and not lines[-1].strip("> "):
            lines.pop()
        while lines and not lines[0].strip("> "):
            lines.pop(0)
        text = "\n".join(lines)
        return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def html_to_text(html: str) -> str:
    """Plain text of an HTML body, keeping paragraphs, list items, links and quote levels."""
    tree = LexborHTMLParser(html)
    root = tree.body or tree.root
    if root is None:
        return ""
    out = _TextBuilder()
    # Outlook desktop (Word) writes every line as a margin-less <p class=MsoNormal> and
    # blank lines as empty paragraphs; there a <p> is a line, not a paragraph.
    out.word_paragraphs = "MsoNormal" in html
    # Iterative walk with explicit exit markers: hostile HTML can nest thousands deep.
    stack: list[tuple[LexborNode, bool]] = [(root, False)]
    while stack:
        node, leaving = stack.pop()
        tag = node.tag or ""
        if leaving:
            _leave(tag, node, out)
            continue
        if node.is_text_node:
            out.text(_SPACES.sub(" ", node.text_content or ""))
            continue
        if tag in _SKIPPED or (not node.is_element_node and tag != "html"):
            continue
        _enter(tag, out)
        stack.append((node, True))
        children: list[LexborNode] = []
        child = node.first_child
        while child is not None:
            children.append(child)
            child = child.next
        stack.extend((c, False) for c in reversed(children))
    return out.result()


def _enter(tag: str, out: _TextBuilder) -> None:
    if tag == "br":
        out.newline()
    elif tag == "hr":
        out.block()
        out.text(OUTLOOK_SEPARATOR)
        out.newline()
    elif tag == "blockquote":
        out.paragraph()
        out.quote_depth += 1
    elif tag == "p" and out.word_paragraphs:
        out.block()
    elif tag in _PARAGRAPHS:
        out.paragraph()
    elif tag in _BLOCKS:
        out.block()
        if tag == "li":
            out.text("- ")
    elif tag == "td" or tag == "th":
        out.text(" ")


def _leave(tag: str, node: LexborNode, out: _TextBuilder) -> None:
    if tag == "a":
        href = (node.attributes.get("href") or "").strip()
        label = (node.text(deep=True) or "").strip()
        if href.lower().startswith(("http://", "https://")) and href != label:
            out.text(f" ({href})")
        elif href.lower().startswith("mailto:") and href[7:] != label:
            out.text(f" ({href[7:]})")
    elif tag == "blockquote":
        out.paragraph()
        out.quote_depth = max(0, out.quote_depth - 1)
    elif tag == "p" and out.word_paragraphs:
        if out.current:
            out.block()
        elif out.lines and out.lines[-1].strip(" >"):
            out.lines.append(out.blank())  # an empty Word paragraph is a blank line
    elif tag in _PARAGRAPHS:
        out.paragraph()
    elif tag in _BLOCKS:
        out.block()


def _attribute_filter(tag: str, attr: str, value: str) -> str | None:
    """Links only to the web or mail; images only from the message itself (no tracking)."""
    lowered = value.strip().lower()
    if attr == "href":
        return value if lowered.startswith(("http://", "https://", "mailto:")) else None
    if attr == "src":
        if lowered.startswith("cid:") or _SAFE_IMAGE_DATA.match(lowered):
            return value
        return None  # remote images would tell the sender when a caseworker reads the mail
    return value


_FILTER: Callable[[str, str, str], str | None] = _attribute_filter


def sanitize_html(html: str) -> str:
    """A copy of the HTML safe to show a caseworker: no scripts, styles or remote content.

    Inline ``cid:`` images stay, so the web view can link them to their attachment part.
    """
    return nh3.clean(
        html,
        clean_content_tags={"script", "style", "title", "noscript", "template"},
        url_schemes={"http", "https", "mailto", "cid", "data"},
        attribute_filter=_FILTER,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
