"""Cutting bodies into new text, quoted history and signature, client by client, and the
"when unsure, keep" cases where nothing may be cut."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.core.email.quoting import split_body

# (case, body, subject, expected new text, expected quoted start or "", expected signature)
CUT_CASES = [
    (
        "hotmail Date/Subject/From/To",
        "Ja, det går fint.\n\nDate: Mon, 23 Nov 2026 10:15:42 +0100\nSubject: Møte\n"
        "From: post@barnevern.example.no\nTo: kari@hotmail.com\n\nHei Kari",
        "RE: Møte",
        "Ja, det går fint.",
        "Date: Mon, 23 Nov 2026",
        "",
    ),
    (
        "outlook.com Dato/Fra/Til/Emne in Norwegian",
        "Greit.\n\nDato: 23. november 2026 kl. 10:15\nFra: Barnevernet <post@example.no>\n"
        "Til: Kari\nEmne: Møte\n\nHei",
        "SV: Møte",
        "Greit.",
        "Dato: 23. november 2026",
        "",
    ),
    (
        "outlook da Fra/Sendt/Til/Emne",
        "Tak, vi ses.\n\nFra: Kommunen <post@kommune.example.dk>\nSendt: 3. november 2026 "
        "10:12\nTil: Mette <mette@example.dk>\nEmne: Møde\n\nHej Mette",
        "SV: Møde",
        "Tak, vi ses.",
        "Fra: Kommunen",
        "",
    ),
    (
        "outlook nn Frå/Sendt/Til/Emne with underscore separator",
        "Takk, det passar.\n\n________________________________\nFrå: Barnevernstenesta "
        "<post@example.no>\nSendt: tysdag 3. november 2026 10:12\nTil: Sigrid\nEmne: Møte\n\nHei",
        "SV: Møte",
        "Takk, det passar.",
        "________________________________\nFrå: Barnevernstenesta",
        "",
    ),
    (
        "outlook sv Från/Skickat/Till/Ämne",
        "Det går bra.\n\nFrån: Socialtjänsten <st@example.se>\nSkickat: den 3 november 2026 "
        "10:12\nTill: Anna\nÄmne: Möte\n\nHej Anna",
        "SV: Möte",
        "Det går bra.",
        "Från: Socialtjänsten",
        "",
    ),
    (
        "outlook bold markers from html conversion",
        "Fine by me.\n\n*From:* Service <post@example.no>\n*Sent:* Tuesday, 3 November 2026 "
        "10:12\n*To:* Sarah\n*Subject:* Visit\n\nDear Sarah",
        "RE: Visit",
        "Fine by me.",
        "*From:* Service",
        "",
    ),
    (
        "outlook desktop nb Opprinnelig melding",
        "Ok.\n\n-----Opprinnelig melding-----\nFra: Barnevernet\nSendt: 3. november 2026\n\nHei",
        "SV: x",
        "Ok.",
        "-----Opprinnelig melding-----",
        "",
    ),
    (
        "samsung en original message",
        "On my way.\n\nSent from my Galaxy\n\n-------- Original message --------\nFrom: Service "
        "<post@example.no>\nDate: 03/11/2026 10:12 (GMT+01:00)\nTo: Tom\nSubject: Visit\n\nHi",
        "Re: Visit",
        "On my way.",
        "-------- Original message --------",
        "Sent from my Galaxy",
    ),
    (
        "thunderbird nb",
        "Vi kommer.\n\nDen 03.11.2026 10:12, skrev Barnevernet:\n> Kan dere komme?\n",
        "Re: Møte",
        "Vi kommer.",
        "Den 03.11.2026 10:12, skrev Barnevernet:",
        "",
    ),
    (
        "short attribution without date but with address",
        "Ja.\n\nBarnevernet <post@example.no> skrev:\n> Passer torsdag?",
        "Re: Møte",
        "Ja.",
        "Barnevernet <post@example.no> skrev:",
        "",
    ),
    (
        "iphone sv",
        "Vi kommer.\n\nSkickat från min iPhone\n\n> 3 nov. 2026 kl. 10:12 skrev Socialtjänsten "
        "<st@example.se>:\n>\n> Hej",
        "Re: Möte",
        "Vi kommer.",
        "> 3 nov. 2026 kl. 10:12 skrev",
        "Skickat från min iPhone",
    ),
    (
        "outlook for android",
        "Ok, takk.\n\nHent Outlook for Android",
        "Re: x",
        "Ok, takk.",
        "",
        "Hent Outlook for Android",
    ),
    (
        "sent from my ipad en",
        "See you then.\n\nSent from my iPad",
        "Re: x",
        "See you then.",
        "",
        "Sent from my iPad",
    ),
    (
        "dash dash signature",
        "Takk for sist.\n\n-- \nKari Nordmann\nTlf 400 00 000\n",
        "",
        "Takk for sist.",
        "",
        "--\nKari Nordmann\nTlf 400 00 000",
    ),
]


@pytest.mark.parametrize(
    ("body", "subject", "new_text", "quoted_start", "signature"),
    [case[1:] for case in CUT_CASES],
    ids=[case[0] for case in CUT_CASES],
)
def test_history_and_signature_are_cut(
    body: str, subject: str, new_text: str, quoted_start: str, signature: str
) -> None:
    split = split_body(body, subject)
    assert split.new_text == new_text
    assert split.quoted_text.startswith(quoted_start)
    assert bool(split.quoted_text) is bool(quoted_start)
    assert split.signature == signature
    assert not split.forwarded


# Nothing here is history or a signature with certainty: all of it stays new text.
KEEP_CASES = [
    (
        "a family's own Date: line is not a quoted header block",
        "Date: tomorrow at 10\nFrom: me and the kids\nSee you then",
        "",
    ),
    ("one header-like line", "Fra: mamma\nJeg kommer på møtet.", ""),
    ("from and to only", "From: Dad\nTo: the caseworker\nI will be late.", ""),
    ("skrev without a quote after", "Mamma skrev:\nHun kommer i morgen kl. 10:00.", ""),
    ("wrote followed by prose", "On Monday at 10:00 the teacher wrote:\nShe was absent.", ""),
    ("long text after dashes", "Innledning\n--\n" + "\n".join(f"Punkt {i}" for i in range(20)), ""),
    ("bottom posted answer", "> Kan du komme?\n\nJa, jeg kommer.", ""),
    ("only quoted lines", "> Kan du komme?\n> Hilsen barnevernet", ""),
    ("only a mobile signature", "Sendt fra min iPhone", ""),
    ("sent with the post", "Jeg har sendt papirene.\n\nSendt med posten i går.", ""),
    ("sent from school", "Hun kom hjem i dag.\nSent from school at 12.", ""),
    ("fra in running text", "Jeg fikk brev fra skolen.\nFra: rektor\nSendt: i går", "SV: x"),
]


@pytest.mark.parametrize(
    ("body", "subject"), [case[1:] for case in KEEP_CASES], ids=[c[0] for c in KEEP_CASES]
)
def test_when_unsure_everything_is_kept(body: str, subject: str) -> None:
    split = split_body(body, subject)
    for line in body.splitlines():
        assert line.rstrip() in split.new_text
    assert split.quoted_text == ""


FORWARD_CASES = [
    ("apple en", "FYI\n\nBegin forwarded message:\n\nFrom: School\nSubject: Absence\n\nText"),
    ("apple nb", "Se dette\n\nStart på videresendt melding:\n\nFra: Skolen\nEmne: x\n\nTekst"),
    ("gmail sv", "Titta\n\n---------- Vidarebefordrat meddelande ---------\nFrån: Skolan\n\nText"),
    ("gmail da", "Se\n\n---------- Videresendt meddelelse ---------\nFra: Skolen\n\nTekst"),
    ("gmail en", "See\n\n---------- Forwarded message ---------\nFrom: School\n\nText"),
]


@pytest.mark.parametrize("body", [c[1] for c in FORWARD_CASES], ids=[c[0] for c in FORWARD_CASES])
def test_forwarded_messages_keep_the_forwarded_part(body: str) -> None:
    split = split_body(body, "Fwd: x")
    assert split.forwarded
    assert split.new_text == body
    assert split.quoted_text == ""


def test_outlook_forward_is_recognised_by_its_subject() -> None:
    body = "Se under.\n\nFra: Skolen\nSendt: 3. november 2026\nTil: Kari\nEmne: Fravær\n\nTekst"
    assert split_body(body, "VS: Fravær").forwarded
    assert not split_body(body, "SV: Fravær").forwarded


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(
                [
                    "> quoted",
                    ">",
                    "",
                    "-- ",
                    "Sendt fra min iPhone",
                    "Fra: X",
                    "Sendt: i dag 10:12",
                    "Til: Y",
                    "Emne: Z",
                    "________________________________",
                    "Den 3. nov. 2026 kl. 10:12 skrev A <a@b.no>:",
                    "-----Original Message-----",
                    "Begin forwarded message:",
                    "Hei, vi kommer.",
                ]
            ),
            st.text(max_size=40),
        ),
        max_size=30,
    ),
    st.sampled_from(["", "Re: x", "VS: x", "Fwd: y"]),
)
def test_split_never_invents_or_loses_text(lines: list[str], subject: str) -> None:
    body = "\n".join(lines)
    split = split_body(body, subject)

    def nonblank(text: str) -> list[str]:
        normalised = text.replace("\r\n", "\n").replace("\r", "\n")
        return sorted(line.rstrip() for line in normalised.split("\n") if line.strip())

    # The three parts are a partition of the body's lines: nothing invented, nothing lost.
    parts = "\n".join([split.new_text, split.quoted_text, split.signature])
    assert nonblank(parts) == nonblank(body)


def test_a_pasted_quote_above_the_answer_does_not_pull_in_the_attribution() -> None:
    body = (
        "> Møtet er flyttet\n\nDet passer fint for oss.\n\n"
        "Den 3. nov. 2026 kl. 10:12 skrev Barnevernet <post@example.no>:\n\n> Hei\n> Hilsen oss"
    )
    split = split_body(body, "Re: Møte")
    assert split.new_text == "> Møtet er flyttet\n\nDet passer fint for oss."
    assert split.quoted_text.startswith("Den 3. nov. 2026 kl. 10:12 skrev Barnevernet")


def test_an_enormous_body_is_kept_whole() -> None:
    from gateway.core.email.quoting import MAX_SPLIT_CHARS

    body = "Hei\n" * (MAX_SPLIT_CHARS // 4) + "Den 3. nov. 2026 kl. 10:12 skrev A <a@b.no>:\n> x"
    split = split_body(body, "Re: x")
    assert split.quoted_text == ""
    assert split.new_text.endswith("> x")
