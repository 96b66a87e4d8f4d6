"""The e-mail parser under hostile shapes: deep nesting, parameter floods, quote ladders.

Each example has a deadline (hypothesis): before the fixes a few thousand nested tags or
RFC 2231 sections took seconds, growing with the square of their number. The deadline is
generous for a loaded machine; the shapes are what would exceed it by minutes.
"""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.core.email import EmailLimits, parse_email
from gateway.core.email.limits import header_parameter_count

HEAD = (
    b"From: Kari <kari@example.no>\r\nTo: post@barnevern.example.no\r\n"
    b"Subject: hei\r\nMIME-Version: 1.0\r\n"
)
FUZZ = settings(
    max_examples=40,
    deadline=timedelta(seconds=5),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@st.composite
def nested_html(draw: st.DrawFn) -> bytes:
    tags = draw(st.lists(st.sampled_from(["div", "blockquote", "span", "b", "table", "font", "a"]),
                         min_size=1, max_size=4))  # fmt: skip
    depth = draw(st.integers(1, 30_000))
    closed = draw(st.booleans())
    text = draw(st.sampled_from(["x", "Hei!", "On Mon, Kari wrote:", "> sitat", ""]))
    opening = "".join(f"<{tags[i % len(tags)]}>{text}\n" for i in range(depth))
    closing = (
        "".join(f"</{tags[i % len(tags)]}>\n" for i in reversed(range(depth))) if closed else ""
    )
    html = f"<html><body>\n{opening}{closing}</body></html>\n"
    return HEAD + b"Content-Type: text/html; charset=utf-8\r\n\r\n" + html.encode()


@st.composite
def parameter_flood(draw: st.DrawFn) -> bytes:
    count = draw(st.integers(1, 20_000))
    sections = draw(st.booleans())
    name = draw(st.sampled_from(["filename", "name", "boundary", "x"]))
    params = "".join(
        f";\r\n {name}*{i}*=%41%42" if sections else f";\r\n {name}{i}=ab" for i in range(count)
    )
    return (
        HEAD + b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
        b"Content-Type: text/plain\r\n\r\nhei\r\n--b\r\n"
        b"Content-Type: application/octet-stream\r\nContent-Disposition: attachment"
        + params.encode()
        + b"\r\n\r\nAAAA\r\n--b--\r\n"
    )


@st.composite
def quote_ladder(draw: st.DrawFn) -> bytes:
    lines = draw(st.integers(1, 50_000))
    marker = draw(st.sampled_from(["> ", ">", "From: x", "-- ", "x:", ""]))
    grow = draw(st.booleans())
    body = "\n".join((marker * (i % 200 + 1) if grow else marker) + "tekst" for i in range(lines))
    return HEAD + b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + body.encode() + b"\r\n"


@st.composite
def nested_multipart(draw: st.DrawFn) -> bytes:
    depth = draw(st.integers(1, 400))
    out = [HEAD]
    for i in range(depth):
        out.append(f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n'.encode())
    out.append(b"Content-Type: text/plain\r\n\r\nbunnen\r\n")
    for i in reversed(range(depth)):
        out.append(f"--b{i}--\r\n".encode())
    return b"".join(out)


@FUZZ
@given(st.one_of(nested_html(), parameter_flood(), quote_ladder(), nested_multipart()))
def test_hostile_shapes_parse_within_the_deadline(raw: bytes) -> None:
    parsed = parse_email(raw, limits=EmailLimits())
    # Either parsed, or kept whole as over the limits: never an exception, never stuck.
    assert parsed.over_limits or parsed.defects is not None
    if header_parameter_count(raw) > EmailLimits().max_header_params:
        assert parsed.over_limits


@FUZZ
@given(st.binary(max_size=20_000), st.integers(0, 3))
def test_arbitrary_bytes_parse_within_the_deadline(noise: bytes, where: int) -> None:
    raw = [noise, HEAD + noise, HEAD + b"\r\n" + noise, noise + HEAD][where]
    parse_email(raw)
