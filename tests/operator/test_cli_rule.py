"""The one rule, in-process: known failures become their line, anything else one line too."""

from __future__ import annotations

import argparse

import pytest

from gateway import cli
from gateway.command_errors import CommandError, explain
from gateway.sealing import SealingError
from gateway.settings import Settings


def _failing(exc: BaseException) -> object:
    def run(_args: argparse.Namespace) -> int:
        raise exc

    return run


@pytest.mark.parametrize(
    ("exc", "code", "line"),
    [
        (CommandError("database not migrated: run `case-gateway migrate`"), 2, "not migrated"),
        (SealingError("crypto.key_file: /x is a directory"), 2, "sealing keys: crypto.key_file"),
        (RuntimeError("boom\nsecond line"), 70, "unexpected error (RuntimeError: boom)"),
    ],
)
def test_every_failure_is_one_line(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    exc: BaseException,
    code: int,
    line: str,
) -> None:
    monkeypatch.delenv("CASE_GATEWAY_TRACEBACK", raising=False)
    parser = cli.build_parser
    monkeypatch.setattr(
        cli,
        "build_parser",
        lambda: _with_func(parser(), "migrate", _failing(exc)),
    )
    assert cli.main(["migrate"]) == code
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and line in err and "Traceback" not in err


def _with_func(
    parser: argparse.ArgumentParser, command: str, fn: object
) -> argparse.ArgumentParser:
    """The real parser, with ``command`` running ``fn`` instead of its own function."""
    original = parser.parse_args

    def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
        args = original(argv)
        if args.command == command:
            args.func = fn
        return args

    parser.parse_args = parse_args  # type: ignore[method-assign]
    return parser


def test_a_traceback_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASE_GATEWAY_TRACEBACK", "1")
    parser = cli.build_parser
    monkeypatch.setattr(
        cli, "build_parser", lambda: _with_func(parser(), "migrate", _failing(KeyError("x")))
    )
    with pytest.raises(KeyError):
        cli.main(["migrate"])


def test_port_in_use_names_the_setting() -> None:
    settings = Settings()
    exc = OSError(
        98, "error while attempting to bind on address ('127.0.0.1', 8025): address in use"
    )
    exc.errno = 98
    line = explain(exc, settings)
    assert line is not None and "127.0.0.1:8025" in line and "smtp.port" in line
