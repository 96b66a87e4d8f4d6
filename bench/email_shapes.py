"""Parsing hostile e-mail shapes against a bare baseline measured in the same run.

For each shape (nested <div>s, nested <blockquote>s, RFC 2231 filename sections) and two
sizes, the time of ``parse_email`` is divided by the time of parsing a plain-text message of
the same size. Linear parsing keeps the ratio about the same when the size doubles; a
quadratic path makes it double too.

    python bench/email_shapes.py [--size 900000]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gateway.core.email import parse_email

HEAD = b"From: a@example.no\r\nTo: post@barnevern.example.no\r\nSubject: x\r\nMIME-Version: 1.0\r\n"


def plain(size: int) -> bytes:
    line = b"Hei, dette er en vanlig linje i en lang melding.\r\n"
    return HEAD + b"Content-Type: text/plain\r\n\r\n" + line * (size // len(line))


def nested(tag: str) -> Callable[[int], bytes]:
    def make(size: int) -> bytes:
        unit = len(f"<{tag}>x\r\n</{tag}>\r\n")
        n = size // unit
        html = f"<{tag}>x\r\n" * n + f"</{tag}>\r\n" * n
        return HEAD + b"Content-Type: text/html\r\n\r\n" + html.encode()

    return make


def sections(size: int) -> bytes:
    n = size // 20
    params = "".join(f";\r\n filename*{i}*=%41%42" for i in range(n))
    return (
        HEAD + b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
        b"Content-Type: text/plain\r\n\r\nhei\r\n--b\r\nContent-Type: application/octet-stream\r\n"
        b"Content-Disposition: attachment" + params.encode() + b"\r\n\r\nAAAA\r\n--b--\r\n"
    )


def timed(raw: bytes) -> float:
    start = time.perf_counter()
    parse_email(raw)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=900_000)
    args = parser.parse_args()
    shapes = {"nested div": nested("div"), "nested blockquote": nested("blockquote")}
    shapes["rfc2231 sections"] = sections
    for size in (args.size, 2 * args.size):
        base = min(timed(plain(size)) for _ in range(3))
        print(f"size {size} bytes: plain-text baseline {base * 1000:.1f} ms")
        for name, make in shapes.items():
            took = min(timed(make(size)) for _ in range(2))
            print(f"  {name:<20} {took * 1000:8.1f} ms   ratio {took / base:6.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
