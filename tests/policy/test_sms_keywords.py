"""Opt-out keywords count only as the whole body: "stop hitting my son" is a message."""

from __future__ import annotations

import pytest

from gateway.core.sms import count_segments, keyword_command, keyword_reply

KEYWORD_TABLE = [
    # Twilio's standard and advanced opt-out words
    ("STOP", "stop"),
    ("stop", "stop"),
    ("  Stop  ", "stop"),
    ("STOP.", "stop"),
    ("Stop!!", "stop"),
    ("stop all", "stop"),
    ("STOPALL", "stop"),
    ("Unsubscribe", "stop"),
    ("cancel", "stop"),
    ("END", "stop"),
    ("quit", "stop"),
    ("opt-out", "stop"),
    ("Opt out", "stop"),
    ("OPTOUT", "stop"),
    ("revoke", "stop"),
    # Norwegian, Swedish, Danish, Finnish
    ("Stopp", "stop"),
    ("stopp!", "stop"),
    ("STOPPA", "stop"),
    ("Avslutt", "stop"),
    ("avsluta.", "stop"),
    ("Avmeld", "stop"),
    ("meld av", "stop"),
    ("Afmeld", "stop"),
    ("AFMELD", "stop"),
    ("Avregistrera", "stop"),
    ("lopeta", "stop"),
    # opting in again
    ("START", "start"),
    ("start.", "start"),
    ("Yes", "start"),
    ("unstop", "start"),
    ("Start igjen", "start"),
    ("start  IGEN!", "start"),
    ("Starta", "start"),
    ("Meld på", "start"),
    ("tilmeld", "start"),
    # help
    ("HELP", "help"),
    ("help?", "help"),
    ("Hjelp", "help"),
    ("hjelp!", "help"),
    ("Hjælp", "help"),
    ("HJÄLP", "help"),
    ("info", "help"),
    # messages, not commands
    ("stop hitting my son", None),
    ("Stopp å ringe meg på jobb", None),
    ("Kan dere stoppe møtet i morgen?", None),
    ("Jeg vil ikke stoppe samarbeidet", None),
    ("STOP STOP", None),
    ("stopp. Det holder", None),
    ("please stop", None),
    ("Hjelp meg, han er her nå", None),
    ("Ja", None),
    ("Yes please, Tuesday works", None),
    ("Starter på ny skole mandag", None),
    ("", None),
    ("   ", None),
    ("...", None),
]


@pytest.mark.parametrize(
    ("body", "command"), KEYWORD_TABLE, ids=[repr(b) for b, _ in KEYWORD_TABLE]
)
def test_keyword_command(body: str, command: str | None) -> None:
    assert keyword_command(body) == command


@pytest.mark.parametrize("command", ["stop", "start", "help"])
@pytest.mark.parametrize("language", ["nb", "nn", "da", "sv", "en"])
def test_keyword_reply_fits_one_gsm_sms(command: str, language: str) -> None:
    segments = count_segments(keyword_reply(command, language))
    assert segments.encoding == "GSM-7"
    assert segments.count == 1


@pytest.mark.parametrize("command", ["stop", "start", "help"])
def test_keyword_reply_differs_by_language(command: str) -> None:
    texts = {keyword_reply(command, lang) for lang in ("nb", "nn", "da", "sv", "en")}
    assert len(texts) == 5


def test_stop_confirmation_tells_how_to_come_back() -> None:
    assert "START" in keyword_reply("stop", "nb")
    assert "START" in keyword_reply("stop", "en")


def test_unknown_language_falls_back_to_default() -> None:
    assert keyword_reply("stop", "fi") == keyword_reply("stop", "nb")
    assert keyword_reply("stop", "fi", default_language="en") == keyword_reply("stop", "en")


def test_unknown_command_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown keyword"):
        keyword_reply("pause", "nb")
