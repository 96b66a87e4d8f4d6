"""The fixture corpus: real-looking mail from each client and language, with what a
caseworker must see (new text), what must be set aside, and each attachment's verdict."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from gateway.core.email import ParsedEmail, attachment_payloads, parse_email

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "email"
TRUSTED = "mx.barnevern.example.no"


@dataclass(frozen=True)
class Expected:
    """What one fixture must parse to. Texts are compared exactly where given."""

    new_text: str | None = None
    new_contains: tuple[str, ...] = ()
    new_lacks: tuple[str, ...] = ()
    quoted_starts: str | None = None
    signature: str = ""
    forwarded: bool = False
    auto_submitted: bool = False
    bounce: bool = False
    attachments: tuple[tuple[str, str], ...] = ()  # (filename, verdict)
    language: str | None = None
    defects_contain: tuple[str, ...] = ()
    extra: dict[str, object] = field(default_factory=dict)


_IPHONE_TEXT = (
    "Takk for beskjed. Sofie gleder seg til å begynne.\n\nSendt fra min iPhone\n\n"
    "> Den 3. nov. 2026 kl. 10:12 skrev Barnevernstjenesten "
    "<case.ab12cd34@barnevern.example.no>:\n> \n> Hei Ingrid,\n"  # no byte-order mark
    "> Skolen starter mandag 9. november kl. 08.30.\n> Hilsen Barnevernstjenesten\n"
)

CORPUS: dict[str, Expected] = {
    # Hotmail / Outlook.com quote the earlier message under a header block that starts with Date.
    "hotmail_date_first_nb.eml": Expected(
        new_text="Hei, romjulen passer best for oss. Kan Emil bli hentet den 27. klokka 12?\n\n"
        "Lise",
        quoted_starts="Date: Mon, 23 Nov 2026 10:15:42 +0100\nSubject: Samvær i julen",
        new_lacks=("Hvilke dager passer",),
    ),
    "outlook_com_date_first_en.eml": Expected(
        new_text="Thursday at 3 is fine. I will bring the school report.\n\nMark",
        quoted_starts="> Date: Mon, 23 Nov 2026 14:20:00 +0100 (CET)",
        new_lacks=("can we visit",),
    ),
    "gmail_nb_reply.eml": Expected(
        new_text="Hei!\n\nVi kan komme på torsdag kl. 14. Ola har time hos tannlegen på onsdag, "
        "så det passer dårlig.\n\nHilsen Kari",
        quoted_starts="tir. 3. nov. 2026 kl. 10:12 skrev Barnevernstjenesten <",
        language="nb",
        extra={
            "from_addr": "kari.nordmann@gmail.com",
            "in_reply_to": "<Zx9q2Lr8Tn0aB@barnevern.example.no>",
            "references": ("<Zx9q2Lr8Tn0aB@barnevern.example.no>",),
        },
    ),
    "gmail_en_wrapped_attribution.eml": Expected(
        new_text="Hi,\n\nFriday works for us. Could you come after 3 pm? Emma is at school until "
        "then.\n\nThanks,\nJames",
        quoted_starts="On Tue, Nov 3, 2026 at 4:40 PM Child Welfare Service <",
        language="en",
        extra={
            "references": (
                "<first0001@barnevern.example.no>",
                "<aa11bb22cc33@barnevern.example.no>",
            )
        },
    ),
    "gmail_sv_signature.eml": Expected(
        new_text="Hej!\n\nVi kommer båda två på torsdag. Elsa vill gärna vara med.",
        signature="--\nErik Johansson\n070-123 45 67",
        quoted_starts="Den mån 9 nov. 2026 kl 14:22 skrev Socialtjänsten <",
        language="sv",
    ),
    "gmail_da_reply.eml": Expected(
        new_text="Hej,\n\nMin søster vil gerne deltage i netværksmødet. Er det i orden?\n\nMvh Sofie",
        quoted_starts="tor. 19. nov. 2026 kl. 10.05 skrev Socialforvaltningen",
    ),
    "outlook_desktop_nb.eml": Expected(
        new_text="Hei,\n\nJeg kan dessverre ikke møte 12. november. Kan vi flytte møtet til uken "
        "etter?\n\nMed vennlig hilsen\nPer Hansen",
        quoted_starts="Fra: Barnevernstjenesten <post@barnevern.example.no>\nSendt: onsdag",
        language="nb",
    ),
    "outlook_web_en_html_only.eml": Expected(
        new_text="I have sent the school report by post today.\nThe doctor's letter is here: "
        "doctor's letter (https://docs.example.com/s/abc123)",
        quoted_starts="________________________________\nFrom: Child Welfare Service",
        new_lacks=("Dear Sarah", "margin-top"),
    ),
    "outlook_desktop_da_html_only.eml": Expected(
        new_text="Hej,\n\nJeg har læst handleplanen. Jeg er ikke enig i punkt 3 om samvær hver "
        "anden weekend.\n\nVenlig hilsen\nLars Mikkelsen",
        quoted_starts="Fra: Socialforvaltningen <post@barnevern.example.no>\nSendt: 19. november",
        language="da",
    ),
    "outlook_mobile_nb.eml": Expected(
        new_text="Ok, vi sees på mandag. Jeg tar med min kulturtolk.",
        signature="Hent Outlook for Android<https://aka.ms/AAb9ysg>",
        quoted_starts="___________________________________\nFra: Barnevernstjenesten",
    ),
    "outlook_sv_original_message.eml": Expected(
        new_text="Hej,\n\nDet går bra med hembesök på tisdag. Jag är hemma hela dagen.\n\n"
        "Vänliga hälsningar\nAnna",
        quoted_starts="-----Ursprungligt meddelande-----\nFrån: Socialtjänsten",
        language="sv",
    ),
    "iphone_nb.eml": Expected(
        new_text="Takk for beskjed. Sofie gleder seg til å begynne.",
        signature="Sendt fra min iPhone",
        quoted_starts="> Den 3. nov. 2026 kl. 10:12 skrev Barnevernstjenesten",
        extra={"text": _IPHONE_TEXT},
    ),
    "apple_mail_da.eml": Expected(
        new_text="Hej,\n\nJeg kan ikke hente Lukas fredag, men lørdag morgen går fint. Hvad "
        "siger I til det?\n\nVenlig hilsen\nMette",
        quoted_starts="Den 6. nov. 2026 kl. 15.47 skrev Socialforvaltningen",
        language="da",
    ),
    "android_nn.eml": Expected(
        new_text="Hei. Eg kan ikkje kome på måndag, men tysdag passar fint. Kva tid passar for "
        "dykk?",
        signature="Sendt frå Samsung Galaxy-smarttelefonen min.",
        quoted_starts="-------- Opprinneleg melding --------\nFrå: Barnevernstenesta",
        language="nn",
    ),
    "interleaved_en.eml": Expected(
        new_contains=(
            "> 1. Can you come on Thursday?\n\nYes, after 2 pm.",
            "> 2. Will Mia join us?\n\nNo, she has a school trip that day.",
            "> 3. Do you need an interpreter?\n\nNo thanks.",
        ),
        quoted_starts="> Kind regards,",
    ),
    "forwarded_gmail_nb.eml": Expected(
        new_contains=(
            "Se under. Dette fikk jeg fra skolen i går.",
            "---------- Videresendt melding ---------",
            "Ola har vært borte fra skolen tre dager denne uken uten melding.",
        ),
        forwarded=True,
    ),
    "forwarded_outlook_en.eml": Expected(
        new_contains=(
            "Please see the letter below from the clinic.",
            "Your son has an appointment on 20 November at 09:00.",
        ),
        forwarded=True,
    ),
    "nested_multipart_forward_attached.eml": Expected(
        new_contains=(
            "I am forwarding the school's letter as an attachment.",
            "Subject: Letter from the school",
            "Dear Mr Walker, please find the letter attached.",
        ),
        forwarded=True,
        attachments=(
            ("attachment-5.png", "kept"),
            ("Letter from the school.eml", "kept"),
            ("timetable.pdf", "kept"),
        ),
    ),
    "html_only_nb_tracking.eml": Expected(
        new_contains=(
            "Hei,\n\nJeg lurer på om samværet i jula er bestemt.",
            "samværsavtale (https://kommune.example.no/samvaer)",
            "- Julaften hos meg\n- Første juledag hos far",
        ),
        new_lacks=("sporing", "font-family", "open.gif", "javascript", "Melding"),
        language="nb",
    ),
    "broken_charset_declared_utf8_latin1.eml": Expected(
        new_text="Hei,\n\nJeg møter på fredag. Sønnen min blir med.\n\nBjørn",
        defects_contain=("charset-wrong",),
        extra={"subject": "Angående møtet"},
    ),
    "missing_charset_8bit_utf8.eml": Expected(
        new_contains=("Hvornår kan jeg få kopi af referatet fra mødet?",),
        defects_contain=("charset-missing",),
        language="da",
    ),
    "unknown_charset_label.eml": Expected(
        new_contains=("När får vi svar om bostaden? Vi väntar fortfarande.",),
        defects_contain=("charset-wrong",),
    ),
    "windows1252_smart_quotes.eml": Expected(
        new_text="I don’t agree with the report – it says we “refused” the visit, but we asked "
        "to move it.",
    ),
    "hostile_headers.eml": Expected(
        new_text="Se vedlegg.",
        attachments=(("fdp.exe", "blocked"), ("notat .txt", "kept")),
        defects_contain=("date-unparseable", "from-has-several-addresses"),
        extra={
            "subject": "Hei Bcc: attacker@evil.example injected body",
            "from_addr": "kari.nordmann@example.no",
            "references": ("<a@x>", "<b@y>", "<ours-1@barnevern.example.no>"),
        },
    ),
    "exe_renamed_pdf.eml": Expected(
        new_text="Vedlagt følger faktura. Betal innen fem dager.",
        attachments=(("faktura.pdf", "blocked"), ("kvittering.pdf", "kept")),
    ),
    "macro_docm_and_docx.eml": Expected(
        attachments=(
            ("skjema.docm", "blocked"),
            ("søknad.docx", "kept"),
            ("rapport.docx", "blocked"),  # a macro document renamed .docx
        ),
    ),
    "archives.eml": Expected(
        attachments=(
            ("bilder.zip", "kept"),
            ("vis_bilder.zip", "blocked"),
            ("oppdatering.js", "blocked"),
        ),
    ),
    "inline_images_apple.eml": Expected(
        new_text="Her er bilde av rommet til Sofie, slik dere ba om.\n\nIngrid",
        attachments=(("rommet.jpeg", "kept"),),
    ),
    "winmail_dat.eml": Expected(
        new_text="Vedlagt er avtalen signert av begge foreldrene.",
        attachments=(("winmail.dat", "kept"),),
    ),
    "auto_reply_outlook_nb.eml": Expected(auto_submitted=True),
    "vacation_sv_subject_only.eml": Expected(auto_submitted=True),
    "mailing_list_newsletter.eml": Expected(auto_submitted=True),
    "dsn_bounce_postfix.eml": Expected(
        auto_submitted=True,
        bounce=True,
        extra={"bounced_message_ids": ("<R7xQ2v9LmK3pN8sT4wZ1@barnevern.example.no>",)},
    ),
    "dsn_delayed.eml": Expected(auto_submitted=True, bounce=False),
    "bounce_exchange_no_report.eml": Expected(
        auto_submitted=True,
        bounce=True,
        extra={"bounced_message_ids": ("<Ex4mpl3B0unc3@barnevern.example.no>",)},
    ),
    "auth_results_forged.eml": Expected(
        new_text="Hei, jeg har fått nytt kontonummer. Send pengene hit i stedet.",
    ),
}


def parse_fixture(name: str) -> ParsedEmail:
    return parse_email((FIXTURES / name).read_bytes(), trusted_authserv_id=TRUSTED)


def test_every_fixture_file_has_an_expectation() -> None:
    on_disk = {p.name for p in FIXTURES.glob("*.eml")}
    assert on_disk == set(CORPUS)


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_fixture_parses_as_expected(name: str) -> None:
    expected = CORPUS[name]
    parsed = parse_fixture(name)

    if expected.new_text is not None:
        assert parsed.new_text == expected.new_text
    for fragment in expected.new_contains:
        assert fragment in parsed.new_text
    for fragment in expected.new_lacks:
        assert fragment not in parsed.new_text
    if expected.quoted_starts is not None:
        assert parsed.quoted_text.startswith(expected.quoted_starts)
    else:
        assert parsed.quoted_text == ""
    assert parsed.signature == expected.signature
    assert parsed.forwarded is expected.forwarded
    assert parsed.auto_submitted is expected.auto_submitted
    assert parsed.bounce is expected.bounce
    assert [(a.filename, a.verdict) for a in parsed.attachments] == list(expected.attachments)
    if expected.language is not None:
        assert parsed.language_hint == expected.language
    for defect in expected.defects_contain:
        assert any(defect in d for d in parsed.defects), parsed.defects
    for attribute, value in expected.extra.items():
        assert getattr(parsed, attribute) == value
    assert not parsed.over_limits


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_quoted_history_and_signature_never_leak_into_new_text(name: str) -> None:
    parsed = parse_fixture(name)
    if parsed.quoted_text and not parsed.forwarded:
        last_quoted_line = parsed.quoted_text.strip().splitlines()[-1]
        assert last_quoted_line not in parsed.new_text.splitlines()[-1:]
    if parsed.signature:
        assert parsed.signature.splitlines()[0] not in parsed.new_text


def test_blocked_attachments_say_why() -> None:
    reasons = {a.filename: a.reason for a in parse_fixture("macro_docm_and_docx.eml").attachments}
    assert "macro" in reasons["skjema.docm"]
    assert "vbaProject.bin" in reasons["rapport.docx"]
    exe = parse_fixture("exe_renamed_pdf.eml").attachments[0]
    assert exe.content_type == "application/x-msdownload"
    assert exe.declared_type == "application/pdf"
    assert "executable" in exe.reason


def test_inline_image_is_linked_to_its_part_and_kept_in_the_safe_html() -> None:
    parsed = parse_fixture("inline_images_apple.eml")
    (image,) = parsed.attachments
    assert image.inline
    assert image.content_id == "7E1A2B3C-4D5E-4F60-8192-A3B4C5D6E7F8@home"
    assert image.content_type == "image/jpeg"
    assert parsed.html_sanitized is not None
    assert f'src="cid:{image.content_id}"' in parsed.html_sanitized


def test_winmail_dat_is_flagged() -> None:
    (tnef,) = parse_fixture("winmail_dat.eml").attachments
    assert tnef.content_type == "application/ms-tnef"
    assert "winmail.dat" in tnef.reason


def test_html_copy_has_no_script_tracking_pixel_or_javascript_link() -> None:
    html = parse_fixture("html_only_nb_tracking.eml").html_sanitized
    assert html is not None
    assert "<script" not in html
    assert "t.webmail.example.net" not in html
    assert "javascript:" not in html
    assert 'href="https://kommune.example.no/samvaer"' in html


def test_trusted_authentication_results_win_over_forged_ones() -> None:
    parsed = parse_fixture("auth_results_forged.eml")
    assert parsed.sender_auth.to_json() == {"dkim": "fail", "spf": "fail", "dmarc": "fail"}
    untrusted = parse_email((FIXTURES / "auth_results_forged.eml").read_bytes())
    assert untrusted.sender_auth.to_json() == {"dkim": "none", "spf": "none", "dmarc": "none"}


def test_genuine_gmail_results_pass() -> None:
    auth = parse_fixture("gmail_nb_reply.eml").sender_auth
    assert (auth.dkim, auth.spf, auth.dmarc) == ("pass", "pass", "pass")


def test_crlf_line_endings_parse_the_same() -> None:
    raw = (FIXTURES / "outlook_desktop_nb.eml").read_bytes()
    crlf = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    assert parse_email(crlf).new_text == parse_email(raw).new_text


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_attachment_payloads_match_the_parsed_descriptions(name: str) -> None:
    raw = (FIXTURES / name).read_bytes()
    payloads = attachment_payloads(raw)
    assert [info for info, _ in payloads] == list(parse_email(raw).attachments)
    for info, data in payloads:
        assert info.size == len(data)
        assert info.sha256 == hashlib.sha256(data).hexdigest()


def test_the_exe_payload_is_the_executable_itself() -> None:
    payloads = attachment_payloads((FIXTURES / "exe_renamed_pdf.eml").read_bytes())
    (exe, exe_bytes), (pdf, pdf_bytes) = payloads
    assert (exe.verdict, pdf.verdict) == ("blocked", "kept")
    assert exe_bytes.startswith(b"MZ")
    assert pdf_bytes.startswith(b"%PDF-")
