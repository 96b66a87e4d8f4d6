"""Our own limits on a message's shape, checked before and after the library parses it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message

from gateway.core.email.model import EmailLimits

_CONTENT_TYPE_LINE = re.compile(rb"(?im)^content-type[ \t]*:")
_DELIMITER_LINE = re.compile(rb"(?m)^--[^\r\n]")
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_HEADER_FIELD = re.compile(rb"^[!-9;-~]{1,76}:")


@dataclass(frozen=True)
class PartAt:
    """One MIME part with its nesting depth (the top-level message is depth 0)."""

    part: Message
    depth: int
    index: int
    parent_type: str


def header_bytes(raw: bytes) -> int:
    """Size of the top-level header block (everything before the first empty line)."""
    match = _HEADER_END.search(raw)
    return match.start() if match else len(raw)


def raw_shape_problem(raw: bytes, limits: EmailLimits) -> str | None:
    """A defect string when the raw bytes are plainly over a limit, before parsing them.

    Parsing a message nested thousands deep makes the library recurse; counting the
    part headers first means such a message is never handed to it.
    """
    size = header_bytes(raw)
    if size > limits.max_header_bytes:
        return f"over-limit: header block is {size} bytes (limit {limits.max_header_bytes})"
    # Every part normally declares its type; allow twice the part limit for stray lines
    # in bodies before calling a message over it. The exact count is checked after parsing.
    declared = len(_CONTENT_TYPE_LINE.findall(raw))
    if declared > 2 * limits.max_parts + 10:
        return f"over-limit: {declared} content-type headers (part limit {limits.max_parts})"
    # Parts need not declare a type, but each one starts with a "--boundary" line.
    delimiters = len(_DELIMITER_LINE.findall(raw))
    if delimiters > 4 * limits.max_parts + 50:
        return f"over-limit: {delimiters} boundary lines (part limit {limits.max_parts})"
    params = header_parameter_count(raw)
    if params > limits.max_header_params:
        return f"over-limit: {params} header parameters (limit {limits.max_header_params})"
    return None


def header_parameter_count(raw: bytes) -> int:
    """How many ";"-separated parameters the header blocks hold, in one pass over the lines.

    A header block is the top one and whatever follows a "--" line for as long as the lines
    look like header fields or their continuations; body text is not counted.
    """
    count = 0
    in_header = True
    for line in raw.split(b"\n"):
        if in_header:
            if not line.strip():
                in_header = False
            elif line[:1] in (b" ", b"\t") or _HEADER_FIELD.match(line):
                count += line.count(b";")
            else:
                in_header = False
        elif line.startswith(b"--"):
            in_header = True
    return count


def parts_with_depth(msg: Message, *, into_messages: bool = True) -> Iterator[PartAt]:
    """Every part, depth first in document order, without recursion.

    With ``into_messages=False`` an attached message (message/rfc822) is yielded but its
    own parts are not: they belong to the forwarded message, not to this one.
    """
    stack: list[tuple[Message, int, str]] = [(msg, 0, "")]
    index = 0
    while stack:
        part, depth, parent_type = stack.pop()
        yield PartAt(part, depth, index, parent_type)
        index += 1
        descend = into_messages or depth == 0 or not part.get_content_type().startswith("message/")
        if part.is_multipart() and descend:
            children = part.get_payload()
            if isinstance(children, list):
                own_type = part.get_content_type()
                stack.extend(
                    (child, depth + 1, own_type)
                    for child in reversed(children)
                    if isinstance(child, Message)
                )


def parsed_shape_problem(msg: Message, limits: EmailLimits) -> str | None:
    """A defect string when the parsed tree is deeper or wider than our limits."""
    count = 0
    for found in parts_with_depth(msg):
        count += 1
        if found.depth > limits.max_mime_depth:
            return f"over-limit: MIME depth over {limits.max_mime_depth}"
        if count > limits.max_parts:
            return f"over-limit: more than {limits.max_parts} MIME parts"
    return None
