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
# HTML parsers check the stack of open elements on every tag, so a document nested N deep
# costs N² (0.9 MB of nested <div>s took 13 s). Tags deeper than this are dropped before
# parsing; their text stays. Real mail rarely nests beyond a few dozen levels.
MAX_HTML_DEPTH = 100
# Quote levels shown as "> " prefixes; deeper quotes are shown at this level.
MAX_QUOTE_MARKS = 20
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9:-]{0,40})(?:\s[^<>]*)?(/?)>")
# Elements that never hold others, or that the parser closes on its own when the next
# one starts; counting them as nesting would drop ordinary paragraphs and table cells.
_NOT_NESTING = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
    "source", "track", "wbr", "p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup",
    "thead", "tbody", "tfoot", "colgroup", "caption", "rp", "rt",
}  # fmt: skip
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
        marks = "> " * min(self.current_depth, MAX_QUOTE_MARKS)
        self.lines.append(marks + line if line else self.blank())
        self.current = []

    def block(self) -> None:
        if self.current:
            self.newline()

    def paragraph(self) -> None:
        self.block()
        if self.lines and self.lines[-1].strip(" >"):
            self.lines.append(self.blank())

    def blank(self) -> str:
        return ("> " * min(self.quote_depth, MAX_QUOTE_MARKS)).rstrip()

    def result(self) -> str:
        self.block()
        lines = [line.rstrip() for line in self.lines]
        # Blank quote lines (">") at either end carry nothing.
        while lines and not lines[-1].strip("> "):
            lines.pop()
        first = 0
        while first < len(lines) and not lines[first].strip("> "):
            first += 1
        text = "\n".join(lines[first:])
        return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def cap_nesting(html: str, max_depth: int = MAX_HTML_DEPTH) -> str:
    """``html`` with every tag nested deeper than ``max_depth`` removed, in one linear pass.

    Depth is counted from the tags as written (not as a browser would repair them), which is
    enough to bound the parser's work; text is never removed.
    """
    if html.count("<") <= max_depth:
        return html
    out: list[str] = []
    depth = 0
    pos = 0
    for match in _TAG.finditer(html):
        closing, name, self_closing = match.group(1), match.group(2).lower(), match.group(3)
        if self_closing or name in _NOT_NESTING:
            continue
        if closing:
            drop = depth > max_depth
            depth = max(0, depth - 1)
        else:
            depth += 1
            drop = depth > max_depth
        if drop:
            out.append(html[pos : match.start()])
            out.append(" ")
            pos = match.end()
    if not out:
        return html
    out.append(html[pos:])
    return "".join(out)


def html_to_text(html: str) -> str:
    """Plain text of an HTML body, keeping paragraphs, list items, links and quote levels."""
    tree = LexborHTMLParser(cap_nesting(html))
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
        cap_nesting(html),
        clean_content_tags={"script", "style", "title", "noscript", "template"},
        url_schemes={"http", "https", "mailto", "cid", "data"},
        attribute_filter=_FILTER,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
