"""Operator-editable templates: loading, rendering with fallback, and what check-config reports."""

from __future__ import annotations

import pytest

from gateway.core.templates import (
    FAMILY_KINDS,
    KINDS,
    LANGUAGES,
    PLACEHOLDERS_BY_KIND,
    TYPICAL_VALUES,
    TemplateError,
    TemplateSet,
    load_templates,
    render,
    render_message,
    validate_templates,
)

from .conftest import TEMPLATE_DIR


def test_every_language_ships_every_kind() -> None:
    names = {f"{p.parent.name}/{p.name}" for p in TEMPLATE_DIR.glob("*/*.txt")}
    assert names == {f"{lang}/{kind}.txt" for lang in LANGUAGES for kind in KINDS}


def test_shipped_templates_are_clean(shipped_templates: TemplateSet) -> None:
    assert [str(issue) for issue in validate_templates(shipped_templates)] == []


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", FAMILY_KINDS)
def test_shipped_family_templates_have_subject_and_body(
    shipped_templates: TemplateSet, kind: str, language: str
) -> None:
    rendered = render_message(shipped_templates, kind, language, TYPICAL_VALUES)
    assert rendered.subject
    assert "{" not in rendered.body
    assert rendered.body == rendered.body.strip()


def test_out_of_hours_carries_hours_and_emergency_numbers(shipped_templates: TemplateSet) -> None:
    values = dict(TYPICAL_VALUES, opening_hours="man-fre 08.00-15.30", emergency_numbers="112")
    for language in LANGUAGES:
        body = render(shipped_templates, "out_of_hours", language, values)
        assert "man-fre 08.00-15.30" in body
        assert "112" in body


SMALL = load_templates(
    {
        "nb/receipt.txt": "Subject: Mottatt\nTakk, {service_name} har mottatt meldingen.\n",
        "en/receipt.txt": "Thank you, {service_name} has your message.\r\n",
        "nb/out_of_hours.txt": "Stengt. Ring {emergency_numbers}. Bruk {{ og }} fritt.",
    }
)


def test_render_substitutes_and_strips_the_final_newline() -> None:
    values = {"service_name": "Barneverntjenesten"}
    assert (
        render(SMALL, "receipt", "en", values) == "Thank you, Barneverntjenesten has your message."
    )
    rendered = render_message(SMALL, "receipt", "nb", values)
    assert rendered.subject == "Mottatt"
    assert rendered.body == "Takk, Barneverntjenesten har mottatt meldingen."


def test_render_falls_back_to_the_default_language() -> None:
    values = {"service_name": "Socialtjänsten"}
    assert render(SMALL, "receipt", "sv", values) == "Takk, Socialtjänsten har mottatt meldingen."
    assert render(SMALL, "receipt", "sv", values, default_language="en").startswith("Thank you")


def test_render_keeps_literal_braces() -> None:
    assert render(SMALL, "out_of_hours", "nb", {"emergency_numbers": "112"}) == (
        "Stengt. Ring 112. Bruk { og } fritt."
    )


def test_render_without_any_template_names_it() -> None:
    with pytest.raises(TemplateError, match="unknown_sender"):
        render(SMALL, "unknown_sender", "sv", {})


def test_render_refuses_a_missing_value() -> None:
    with pytest.raises(
        TemplateError, match=r"nb/receipt.txt: no value for placeholder \{service_name\}"
    ):
        render(SMALL, "receipt", "nb", {})


@pytest.mark.parametrize(
    "text",
    ["{service_name.__class__}", "{values[0]}", "{service_name!r}", "{service_name:>40}"],
)
def test_render_never_looks_inside_values(text: str) -> None:
    templates = load_templates({"nb/receipt.txt": text})
    with pytest.raises(TemplateError):
        render(templates, "receipt", "nb", {"service_name": "x", "values": "y"})


@pytest.mark.parametrize(
    "name", ["receipt.txt", "nb/receipt.md", "nb/sub/receipt.txt", "/receipt.txt"]
)
def test_load_refuses_odd_names(name: str) -> None:
    with pytest.raises(TemplateError, match="expected a name like"):
        load_templates({name: "Hei"})


def _only(kind: str, text: str) -> TemplateSet:
    return load_templates({f"nb/{kind}.txt": text})


def _issues(kind: str, text: str) -> list[tuple[str, str]]:
    issues = validate_templates(_only(kind, text), languages=["nb"], kinds=[kind])
    return [(issue.severity, issue.message) for issue in issues]


VALIDATION = [
    ("receipt", "Takk, vi har mottatt meldingen. Hilsen {service_name}", [], None),
    ("receipt", "Takk {navn}, vi har mottatt meldingen.", ["error"], "unknown placeholder {navn}"),
    ("receipt", "Takk, {service_name har mottatt meldingen.", ["error"], "unbalanced braces"),
    ("receipt", "Takk, service_name} har mottatt meldingen.", ["error"], "unbalanced braces"),
    ("receipt", "Subject: Mottatt {\nTakk.", ["error"], "subject: unbalanced braces"),
    ("receipt", "Subject: Mottatt\n\n", ["error"], "empty"),
    ("receipt", "Takk for meldingen 😊 Hilsen {service_name}", ["warning"], "UCS-2"),
    ("receipt", "Takk – vi svarer snart. {service_name}", ["warning"], "UCS-2"),
    ("receipt", "Vi har “mottatt” meldingen. {service_name}", ["warning"], "UCS-2"),
    (
        "out_of_hours",
        "Vi er stengt. " * 8 + "Åpningstid {opening_hours}. Ring {emergency_numbers}.",
        ["warning"],
        "about 2 SMS",
    ),
    ("receipt", "Takk 😊 " * 12, ["warning", "warning"], "SMS"),
    (
        "staff_notification",
        "Ny melding fra {sender}: {body}",
        ["error", "error"],
        "unknown placeholder",
    ),
    ("staff_notification", "Ny melding i sak {case_ref} ({channel}{urgency}). {link}", [], None),
    (
        "staff_notification_triage",
        "Ny melding i sak {case_ref}",
        ["error"],
        "unknown placeholder {case_ref}",
    ),
    # staff notifications are not family SMS: no length warnings
    ("staff_notification", "Ny melding i sak {case_ref} " * 20 + "{link} 😊", [], None),
]


@pytest.mark.parametrize(("kind", "text", "severities", "words"), VALIDATION)
def test_validate_templates(kind: str, text: str, severities: list[str], words: str | None) -> None:
    issues = _issues(kind, text)
    assert sorted(severity for severity, _ in issues) == sorted(severities)
    if words is not None:
        assert any(words in message for _, message in issues), issues


def test_missing_kind_for_a_language_is_an_error(shipped_templates: TemplateSet) -> None:
    partial = TemplateSet(
        {key: t for key, t in shipped_templates.templates.items() if key != ("da", "out_of_hours")}
    )
    issues = validate_templates(partial)
    assert [(i.severity, i.language, i.kind, i.message) for i in issues] == [
        ("error", "da", "out_of_hours", "missing")
    ]
    assert str(issues[0]) == "error: da/out_of_hours.txt: missing"


def test_allowed_placeholders_as_one_collection() -> None:
    templates = _only("receipt", "Hei {fornavn}, takk fra {service_name}")
    issues = validate_templates(
        templates,
        allowed_placeholders={"service_name", "fornavn"},
        languages=["nb"],
        kinds=["receipt"],
    )
    assert issues == []


def test_staff_kinds_cannot_ask_for_content() -> None:
    for kind in ("staff_notification", "staff_notification_triage", "staff_digest"):
        assert not PLACEHOLDERS_BY_KIND[kind] & {"body", "text", "sender", "name", "phone", "email"}
