"""SMS rules: segment counting, opt-out keywords, Twilio statuses and error codes, backoff.

Pure functions over strings and numbers. The Twilio webhooks and the relay sender call these
to decide what a message costs, what a family's keyword means, whether a delivery callback
moves a message forward, and whether a failed send is worth retrying.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

# --- Segments ---------------------------------------------------------------------------

# GSM 03.38 default alphabet (the escape character 0x1B itself is not a user character).
GSM7_BASIC: Final = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Extension table: each is sent as ESC + character, so it costs two septets.
GSM7_EXTENSION: Final = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE: Final = 160
GSM7_MULTI: Final = 153  # 7 septets go to the concatenation header
UCS2_SINGLE: Final = 70
UCS2_MULTI: Final = 67
MAX_SMS_BODY: Final = 1600  # Twilio refuses longer bodies (error 21617)


@dataclass(frozen=True)
class Segments:
    """What a body costs: its encoding, its length in encoding units, and how many SMS."""

    encoding: str  # "GSM-7" | "UCS-2"
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    count: int
    per_segment: int  # units that fit in one segment at this count (160/153 or 70/67)


def is_gsm7(body: str) -> bool:
    """True when every character of ``body`` is in the GSM-7 alphabet or its extension."""
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in body)


def _unit_costs(body: str, gsm: bool) -> list[int]:
    if gsm:
        return [2 if ch in GSM7_EXTENSION else 1 for ch in body]
    # UCS-2 on the wire is UTF-16: characters outside the BMP (emoji) are surrogate pairs.
    return [2 if ord(ch) > 0xFFFF else 1 for ch in body]


def split_segments(body: str) -> list[str]:
    """Split ``body`` the way a handset reassembles it.

    An extension escape (two septets) or a surrogate pair (two UTF-16 units) is never cut
    across segments, so a segment can be one unit short of full.
    """
    gsm = is_gsm7(body)
    costs = _unit_costs(body, gsm)
    single, multi = (GSM7_SINGLE, GSM7_MULTI) if gsm else (UCS2_SINGLE, UCS2_MULTI)
    if sum(costs) <= single:
        return [body] if body else []
    parts: list[str] = []
    start = used = 0
    for i, cost in enumerate(costs):
        if used + cost > multi:
            parts.append(body[start:i])
            start, used = i, 0
        used += cost
    parts.append(body[start:])
    return parts


def count_segments(body: str) -> Segments:
    """Count the SMS segments ``body`` needs; an empty body needs none."""
    gsm = is_gsm7(body)
    units = sum(_unit_costs(body, gsm))
    single, multi = (GSM7_SINGLE, GSM7_MULTI) if gsm else (UCS2_SINGLE, UCS2_MULTI)
    count = len(split_segments(body))
    return Segments(
        encoding="GSM-7" if gsm else "UCS-2",
        units=units,
        count=count,
        per_segment=single if count <= 1 else multi,
    )


class SmsBodyError(ValueError):
    """An outbound SMS body that cannot be sent; the message says why, for the caseworker."""


def check_outbound_body(body: str) -> Segments:
    """Refuse bodies Twilio would refuse, else return their segment count."""
    if not body.strip():
        raise SmsBodyError("The SMS is empty; write a message before sending.")
    if len(body) > MAX_SMS_BODY:
        raise SmsBodyError(
            f"The SMS is {len(body)} characters; at most {MAX_SMS_BODY} can be sent. "
            "Shorten it or send it by e-mail."
        )
    return count_segments(body)


# --- Keywords ---------------------------------------------------------------------------

# Twilio's default and Advanced Opt-Out keywords plus what Nordic senders and operators use.
_STOP_WORDS: Final = (
    "STOP|STOPALL|STOP ALL|UNSUBSCRIBE|CANCEL|END|QUIT|OPTOUT|OPT-OUT|OPT OUT|REVOKE|"
    "STOPP|STOPPA|AVSLUTT|AVSLUTA|AVMELD|MELD AV|AFMELD|AFMELD ALLE|AVREGISTRERA|LOPETA"
)
_START_WORDS: Final = (
    "START|YES|UNSTOP|OPTIN|OPT-IN|OPT IN|START IGJEN|START IGEN|STARTA|MELD PÅ|TILMELD|ALOITA"
)
_HELP_WORDS: Final = "HELP|INFO|HJELP|HJÆLP|HJÄLP|APUA"
_KEYWORDS: Final[dict[str, str]] = {
    **dict.fromkeys(_STOP_WORDS.split("|"), "stop"),
    **dict.fromkeys(_START_WORDS.split("|"), "start"),
    **dict.fromkeys(_HELP_WORDS.split("|"), "help"),
}
_TRAILING_PUNCTUATION = re.compile(r"[\s.!?,;:]+$")


def keyword_command(body: str) -> str | None:
    """Return "stop", "start" or "help" when the whole body is such a keyword, else None.

    Only the whole body counts, so "stop hitting my son" stays a message to the caseworker.
    The message is stored and routed either way; the keyword only changes consent.
    """
    text = _TRAILING_PUNCTUATION.sub("", body.strip())
    return _KEYWORDS.get(" ".join(text.upper().split()))


# Confirmations are kept GSM-7 and within one segment (tested).
_KEYWORD_REPLIES: Final[dict[str, dict[str, str]]] = {
    "stop": {
        "nb": "Du er meldt av og får ikke flere SMS fra oss. Send START for å melde deg på igjen. Du kan fortsatt kontakte oss på e-post eller telefon.",
        "nn": "Du er meld av og får ikkje fleire SMS frå oss. Send START for å melde deg på att. Du kan framleis kontakte oss på e-post eller telefon.",
        "da": "Du er afmeldt og får ikke flere SMS fra os. Send START for at tilmelde dig igen. Du kan stadig kontakte os på e-mail eller telefon.",
        "sv": "Du är avregistrerad och får inga fler sms från oss. Skicka START för att börja igen. Du kan fortfarande kontakta oss via e-post eller telefon.",
        "en": "You are unsubscribed and will get no more SMS from us. Send START to subscribe again. You can still contact us by e-mail or phone.",
    },
    "start": {
        "nb": "Du er meldt på igjen og kan få SMS fra oss. Send STOP for å melde deg av.",
        "nn": "Du er meld på att og kan få SMS frå oss. Send STOP for å melde deg av.",
        "da": "Du er tilmeldt igen og kan få SMS fra os. Send STOP for at afmelde dig.",
        "sv": "Du är registrerad igen och kan få sms från oss. Skicka STOP för att avregistrera dig.",
        "en": "You are subscribed again and can get SMS from us. Send STOP to unsubscribe.",
    },
    "help": {
        "nb": "Dette er tjenestens SMS-nummer. Svar på denne SMS-en for å skrive til oss. Send STOP for å melde deg av. Ved akutt fare: ring 112.",
        "nn": "Dette er SMS-nummeret til tenesta. Svar på denne SMS-en for å skrive til oss. Send STOP for å melde deg av. Ved akutt fare: ring 112.",
        "da": "Dette er tjenestens SMS-nummer. Svar på denne SMS for at skrive til os. Send STOP for at afmelde dig. Ved akut fare: ring 112.",
        "sv": "Detta är tjänstens sms-nummer. Svara på detta sms för att skriva till oss. Skicka STOP för att avregistrera dig. Vid akut fara: ring 112.",
        "en": "This is the service's SMS number. Reply to this SMS to write to us. Send STOP to unsubscribe. In an emergency call 112.",
    },
}


def keyword_reply(command: str, language: str, *, default_language: str = "nb") -> str:
    """The confirmation for a keyword command in ``language`` (else the default language)."""
    try:
        texts = _KEYWORD_REPLIES[command]
    except KeyError:
        raise ValueError(f"unknown keyword command {command!r}") from None
    return texts.get(language) or texts[default_language]


# --- Delivery status --------------------------------------------------------------------

_TWILIO_STATUS: Final[dict[str, str]] = {
    "accepted": "queued",
    "scheduled": "queued",
    "queued": "queued",
    "sending": "sending",
    "sent": "sent",
    "delivered": "delivered",
    "partially_delivered": "sent",  # some segments arrived; wait for a final callback
    "read": "read",
    "undelivered": "undelivered",
    "failed": "failed",
    "canceled": "canceled",
}

# Higher rank wins. The failures share delivered's rank: a late "sent" never undoes them,
# and a "failed" arriving after "delivered" does not overturn a confirmed delivery.
STATUS_RANK: Final[dict[str, int]] = {
    "queued": 0,
    "sending": 1,
    "sent": 2,
    "delivered": 3,
    "undelivered": 3,
    "failed": 3,
    "canceled": 3,
    "read": 4,
}
FINAL_STATUSES: Final = frozenset({"read", "undelivered", "failed", "canceled"})


def map_twilio_status(status: str) -> str:
    """Map a Twilio MessageStatus to ours; unknown statuses raise ValueError."""
    try:
        return _TWILIO_STATUS[status.strip().lower()]
    except KeyError:
        raise ValueError(f"unknown Twilio message status {status!r}") from None


def status_moves_forward(current: str | None, new: str) -> bool:
    """Whether a callback with ``new`` should replace ``current`` (callbacks come out of order)."""
    if new not in STATUS_RANK:
        raise ValueError(f"unknown message status {new!r}")
    if current is None:
        return True
    if current in FINAL_STATUSES:
        return False
    return STATUS_RANK[new] > STATUS_RANK[current]


# --- Errors and retries -----------------------------------------------------------------


@dataclass(frozen=True)
class ErrorExplanation:
    """A Twilio error code explained: whether resending can help, and what to tell the caseworker."""

    code: int | None
    permanent: bool
    opted_out: bool
    text_for_caseworker: str


# code -> (permanent, text). Permanent means resending the same SMS cannot help.
_TWILIO_ERRORS: Final[dict[int, tuple[bool, str]]] = {
    20003: (
        False,
        "The service's SMS account refused our credentials; the operator must fix the configuration. Sending will be retried.",
    ),
    20429: (False, "The SMS provider asked us to slow down; sending will be retried."),
    20500: (False, "The SMS provider had an internal error; sending will be retried."),
    20503: (False, "The SMS provider was unavailable; sending will be retried."),
    21211: (True, "The phone number is not a valid number. Check the contact's number."),
    21408: (
        True,
        "Sending SMS to this country is not enabled for the service; contact the operator.",
    ),
    21602: (True, "The SMS was empty."),
    21606: (True, "The service's sender number cannot send SMS; contact the operator."),
    21610: (
        True,
        "The family has unsubscribed from SMS (they sent STOP). Reach them another way; they can send START to receive SMS again.",
    ),
    21611: (False, "Too many SMS are waiting at the provider; sending will be retried."),
    21612: (True, "The phone number cannot receive SMS from the service. Use another channel."),
    21614: (
        True,
        "The phone number is not a mobile number. Use another channel or check the number.",
    ),
    21617: (True, "The SMS was too long (over 1600 characters)."),
    30001: (False, "The provider's queue was full; sending will be retried."),
    30002: (True, "The service's SMS account is suspended; contact the operator."),
    30003: (
        True,
        "The phone could not be reached (switched off or out of coverage for a long time). Try again later or use another channel.",
    ),
    30004: (True, "The SMS was blocked by the recipient or their carrier. Use another channel."),
    30005: (True, "The phone number is unknown or no longer in use. Check the contact's number."),
    30006: (
        True,
        "The number is a landline or its carrier cannot receive SMS. Use another channel.",
    ),
    30007: (
        True,
        "The recipient's carrier filtered the SMS. Use another channel and tell the operator.",
    ),
    30008: (False, "Delivery failed for an unknown reason; sending will be retried."),
    30009: (False, "Part of the SMS was lost on the way; sending will be retried."),
    30010: (True, "The SMS cost more than the service allows; contact the operator."),
    30019: (True, "The SMS was too long for the recipient's carrier. Shorten it."),
    30022: (False, "The service sent too many SMS at once; sending will be retried."),
}
_OPTED_OUT_CODES: Final = frozenset({21610})


def explain_error(code: int | str | None) -> ErrorExplanation:
    """Explain a Twilio ErrorCode (as received: int, numeric string, empty or None)."""
    if code is None or (isinstance(code, str) and not code.strip()):
        return ErrorExplanation(None, False, False, "No error was reported.")
    try:
        number = int(code)
    except ValueError:
        return ErrorExplanation(None, False, False, f"The SMS provider reported error {code!r}.")
    known = _TWILIO_ERRORS.get(number)
    if known is None:
        return ErrorExplanation(
            number,
            False,
            False,
            f"The SMS provider reported error {number}; sending will be retried.",
        )
    permanent, text = known
    return ErrorExplanation(number, permanent, number in _OPTED_OUT_CODES, text)


def classify_send_failure(http_status: int | None, error_code: int | None) -> str:
    """Decide "retry" or "dead" for a failed send; None status means a timeout or lost connection."""
    if error_code is not None and error_code in _TWILIO_ERRORS:
        return "dead" if _TWILIO_ERRORS[error_code][0] else "retry"
    if http_status is None or http_status in (408, 429) or http_status >= 500:
        return "retry"
    if 400 <= http_status < 500:
        return "dead"
    # A 2xx/3xx reported as a failure is unexpected; retrying is safe thanks to idempotency keys.
    return "retry"


def retry_delay(
    attempt: int, *, base: float = 5.0, cap: float = 900.0, jitter: float = 0.5
) -> float:
    """Seconds to wait before ``attempt`` (1 = first retry): capped exponential backoff.

    ``jitter`` in [0, 1) is injected (the shell draws it) so the result is deterministic; the
    delay lies between half and all of the capped exponential, so retries spread out but
    never exceed ``cap``.
    """
    if attempt < 1:
        raise ValueError("attempt starts at 1")
    if not 0.0 <= jitter < 1.0:
        raise ValueError("jitter must be in [0, 1)")
    # Cap the exponent first so a large attempt number cannot overflow a float.
    exponential = min(cap, base * 2.0 ** min(attempt - 1, 64))
    return exponential / 2.0 + exponential / 2.0 * jitter
