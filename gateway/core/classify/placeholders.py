"""Typed placeholders that replace sensitive spans, in the language of the service."""

from __future__ import annotations

_NATIONAL_ID_TYPES = ("NO_FNR", "DK_CPR", "SE_PNR", "FI_HETU", "GB_NINO", "US_SSN")

PLACEHOLDERS: dict[str, dict[str, str]] = {
    "nb": {
        "NO_FNR": "FØDSELSNUMMER", "DK_CPR": "PERSONNUMMER", "SE_PNR": "PERSONNUMMER",
        "FI_HETU": "PERSONNUMMER", "GB_NINO": "PERSONNUMMER", "US_SSN": "PERSONNUMMER",
        "GB_NHS": "PASIENTNUMMER", "IBAN": "KONTONUMMER", "BANK_ACCOUNT": "KONTONUMMER",
        "PAYMENT_CARD": "KORTNUMMER", "PHONE": "TELEFON", "EMAIL": "E-POST",
        "POSTAL_ADDRESS": "ADRESSE", "HEALTH": "HELSEOPPLYSNING", "PERSON_NAME": "NAVN",
    },
    "nn": {
        "NO_FNR": "FØDSELSNUMMER", "DK_CPR": "PERSONNUMMER", "SE_PNR": "PERSONNUMMER",
        "FI_HETU": "PERSONNUMMER", "GB_NINO": "PERSONNUMMER", "US_SSN": "PERSONNUMMER",
        "GB_NHS": "PASIENTNUMMER", "IBAN": "KONTONUMMER", "BANK_ACCOUNT": "KONTONUMMER",
        "PAYMENT_CARD": "KORTNUMMER", "PHONE": "TELEFON", "EMAIL": "E-POST",
        "POSTAL_ADDRESS": "ADRESSE", "HEALTH": "HELSEOPPLYSING", "PERSON_NAME": "NAMN",
    },
    "da": {
        "NO_FNR": "PERSONNUMMER", "DK_CPR": "CPR-NUMMER", "SE_PNR": "PERSONNUMMER",
        "FI_HETU": "PERSONNUMMER", "GB_NINO": "PERSONNUMMER", "US_SSN": "PERSONNUMMER",
        "GB_NHS": "PATIENTNUMMER", "IBAN": "KONTONUMMER", "BANK_ACCOUNT": "KONTONUMMER",
        "PAYMENT_CARD": "KORTNUMMER", "PHONE": "TELEFON", "EMAIL": "E-MAIL",
        "POSTAL_ADDRESS": "ADRESSE", "HEALTH": "HELBREDSOPLYSNING", "PERSON_NAME": "NAVN",
    },
    "sv": {
        "NO_FNR": "PERSONNUMMER", "DK_CPR": "PERSONNUMMER", "SE_PNR": "PERSONNUMMER",
        "FI_HETU": "PERSONNUMMER", "GB_NINO": "PERSONNUMMER", "US_SSN": "PERSONNUMMER",
        "GB_NHS": "PATIENTNUMMER", "IBAN": "KONTONUMMER", "BANK_ACCOUNT": "KONTONUMMER",
        "PAYMENT_CARD": "KORTNUMMER", "PHONE": "TELEFON", "EMAIL": "E-POST",
        "POSTAL_ADDRESS": "ADRESS", "HEALTH": "HÄLSOUPPGIFT", "PERSON_NAME": "NAMN",
    },
    "en": {
        **dict.fromkeys(_NATIONAL_ID_TYPES, "NATIONAL ID"),
        "GB_NHS": "NHS NUMBER", "IBAN": "BANK ACCOUNT", "BANK_ACCOUNT": "BANK ACCOUNT",
        "PAYMENT_CARD": "PAYMENT CARD", "PHONE": "PHONE", "EMAIL": "EMAIL",
        "POSTAL_ADDRESS": "ADDRESS", "HEALTH": "HEALTH", "PERSON_NAME": "NAME",
    },
}  # fmt: skip


def placeholder(entity_type: str, language: str) -> str:
    """``[FØDSELSNUMMER]``-style placeholder; unknown languages fall back to English."""
    table = PLACEHOLDERS.get(language.split("-")[0].lower(), PLACEHOLDERS["en"])
    return "[" + table.get(entity_type, entity_type.replace("_", " ")) + "]"
