"""Families of entities written as the families and solicitors write them: conditions named
by a structure rather than a word list, US addresses with the state in full, numbers typed
with en dashes, and health words used as a figure of speech."""

from __future__ import annotations

import pytest

from gateway.core.classify import find_entities


def spans(text: str) -> list[tuple[str, str]]:
    return [(e.type, text[e.start : e.end]) for e in find_entities(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("urgent care said she has a kidney infection", [("HEALTH", "kidney infection")]),
        ("he was diagnosed with panic disorder in May", [("HEALTH", "panic disorder")]),
        ("our son has Down's syndrome", [("HEALTH", "Down's syndrome")]),
        ("hon har cannabisberoende och går på behandlingshem", [
            ("HEALTH", "cannabisberoende"), ("HEALTH", "behandlingshem"),
        ]),
        ("faren har amfetaminmisbruk", [("HEALTH", "amfetaminmisbruk")]),
        ("han fekk beinbrudd på trening", [("HEALTH", "beinbrudd")]),
        ("Leo fick armbrott i skolan", [("HEALTH", "armbrott")]),
        ("she has a sprained ankle and a broken collarbone", [
            ("HEALTH", "sprained ankle"), ("HEALTH", "broken collarbone"),
        ]),
        ("mom takes Wellbutrin XL 150mg", [("HEALTH", "Wellbutrin XL 150mg")]),
        ("he is diabetic and asthmatic", [("HEALTH", "diabetic"), ("HEALTH", "asthmatic")]),
        ("she had a TBI and now PPD", [("HEALTH", "TBI"), ("HEALTH", "PPD")]),
        ("hon har panikångest och laktosintolerans", [
            ("HEALTH", "panikångest"), ("HEALTH", "laktosintolerans"),
        ]),
    ],
)  # fmt: skip
def test_health_families(text: str, expected: list[tuple[str, str]]) -> None:
    assert spans(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "fikk nesten hjerteinfarkt da skolen ringte",
        "mormor fikk hjerteinfarkt nesten",
        "i almost died of a heart attack lol",
        "nei jeg er ikke gravid, det var en trend",
        "she is not pregnant",
        "the disease of the week on tv",
        "the lawyer said this disorder is in the file",
        "et innbrudd og et lovbrudd, sa politiet",
        "han var oberoende och det var ett maktmissbruk",
    ],
)
def test_figures_of_speech_and_look_alikes_are_not_health(text: str) -> None:
    assert [t for t, _ in spans(text) if t == "HEALTH"] == []


def test_a_heart_attack_that_happened_is_health() -> None:
    assert spans("farfar hadde hjerteinfarkt i fjor") == [("HEALTH", "hjerteinfarkt")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Address: 1029 Kenwood Ave\nDayton, Ohio 45405",
            "1029 Kenwood Ave\nDayton, Ohio 45405",
        ),
        (
            "Our address: 902 North Washington Boulevard, Suite 300, Tulsa, Oklahoma 74103",
            "902 North Washington Boulevard, Suite 300, Tulsa, Oklahoma 74103",
        ),
        ("her dad's place at 1150 W 42nd Street in Chicago", "1150 W 42nd Street"),
        ("we live at 2210 Old Mill Pike, Lexington, KY 40511", "2210 Old Mill Pike, Lexington, KY 40511"),
        ("bor i Hjällbo, Hjällbo Torget 3", "Hjällbo Torget 3"),
        ("Kyrkoesplanaden 10, Vasa", "Kyrkoesplanaden 10"),
        ("Tunet på Fosshaugane 7 no", "Fosshaugane 7"),
        ("fekk plass!! 6100 Volda here i come", "6100 Volda"),
    ],
)  # fmt: skip
def test_address_families(text: str, expected: str) -> None:
    assert spans(text) == [("POSTAL_ADDRESS", expected)]


@pytest.mark.parametrize(
    "text",
    [
        "Dayton, Ohio 95405",  # a ZIP of the west coast is not one of Ohio's
        "Julia 7 år og Natalia 9 år",
        "Han er 7 år. Lars Haugen 45 år",
    ],
)
def test_address_look_alikes(text: str) -> None:
    assert [t for t, _ in spans(text) if t == "POSTAL_ADDRESS"] == []


def test_ssn_after_the_word_social_and_with_en_dashes() -> None:
    assert spans("her social is 536904399") == [("US_SSN", "536904399")]
    assert spans("SSN 536–90–4399") == [("US_SSN", "536–90–4399")]


def test_nhs_numbers_named_a_sentence_before() -> None:
    text = "We need the children's NHS numbers. Poppy: 564 703 1609; Finn: 452 728 8776."
    assert spans(text) == [("GB_NHS", "564 703 1609"), ("GB_NHS", "452 728 8776")]


def test_without_nhs_the_same_number_is_a_phone() -> None:
    assert spans("Poppy: 564 703 1609") == [("PHONE", "564 703 1609")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A medicine the lists do not name, by the dose after it.
        ("she takes Xeljanz 5 mg every morning", [("HEALTH", "Xeljanz 5 mg")]),
        # Generic names by their endings.
        ("han fikk ondansetron og montelukast", [("HEALTH", "ondansetron"), ("HEALTH", "montelukast")]),
        ("enalaprilen og omeprazol", [("HEALTH", "enalaprilen"), ("HEALTH", "omeprazol")]),
        # Written without the Nordic letters.
        ("hon fick hjarnskakning", [("HEALTH", "hjarnskakning")]),
        ("han har typ 1-diabetes och fick feberkramp", [
            ("HEALTH", "1-diabetes"), ("HEALTH", "feberkramp"),
        ]),
        ("fodselsdepresjon etter fodselen", [("HEALTH", "fodselsdepresjon"), ("HEALTH", "fodselen")]),
    ],
)  # fmt: skip
def test_medicines_by_dose_and_ending_and_terms_without_nordic_letters(
    text: str, expected: list[tuple[str, str]]
) -> None:
    assert spans(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "ta 2 tabletter 500 mg hver dag, dosen er 20mg",
        "In April she was performing; cholesterol fine; the corridor",
        "terapin går bra",
        "det krævede kraft",
        "psykosocial oppfølging og psykososialt arbeid",
        "Diabetessykepleieren sier det er trygt",
    ],
)
def test_dose_and_ending_look_alikes(text: str) -> None:
    assert [t for t, _ in spans(text) if t == "HEALTH"] == []


def test_us_number_with_the_area_code_in_brackets_and_no_space() -> None:
    assert spans("office (614)555-0147 ext. 12") == [("PHONE", "(614)555-0147")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Inflammations named by the organ, in each language's ending.
        ("Emma har bronkitt igjen", "bronkitt"),
        ("han fick konjunktivit på förskolan", "konjunktivit"),
        ("hun har fået gastroenteritis", "gastroenteritis"),
        ("she had tonsillitis all winter", "tonsillitis"),
        # Greek and Latin endings of conditions and procedures.
        ("mor har fibromyalgi", "fibromyalgi"),
        ("he was diagnosed with scoliosis", "scoliosis"),
        ("hon ska på koloskopi", "koloskopi"),
        ("her dad has diabetic neuropathy", "diabetic neuropathy"),
        # Operations by the organ.
        ("hjerteoperasjonen gikk fint", "hjerteoperasjonen"),
        ("hon väntar på en knäoperation", "knäoperation"),
        # The word before names the illness.
        ("his grandmother has lung cancer", "lung cancer"),
        ("she has an egg allergy", "egg allergy"),
        ("dad is off after knee surgery", "knee surgery"),
        # The degree and the kind belong to the condition.
        ("hun har alvorlig depresjon", "alvorlig depresjon"),
        ("far har høgt blodtrykk", "høgt blodtrykk"),
        ("mamma har bipolär sjukdom", "bipolär sjukdom"),
        ("Ho har diabetes type 2", "diabetes type 2"),
        ("his mother has terminal cancer", "terminal cancer"),
        ("he is on the methadone programme", "methadone programme"),
        # Services whose patients are known by the service alone.
        ("han går på beroendemottagningen", "beroendemottagningen"),
        ("han har time på BUP-klinikken i morgen", "BUP-klinikken"),
        # Contraception, in each language.
        ("hun har fått p-stav", "p-stav"),
        ("hun tok en angrepille", "angrepille"),
        ("hun købte dagen-efter-piller", "dagen-efter-piller"),
        ("she got a Nexplanon put in", "Nexplanon"),
        # Illegal drugs.
        ("faren bruker kokain", "kokain"),
        ("han har tagit amfetamin", "amfetamin"),
        ("her boyfriend was using methamphetamine", "methamphetamine"),
        # Medicines sold in the five countries.
        ("Wilma fick Kåvepenin", "Kåvepenin"),
        ("I gave him Tylenol", "Tylenol"),
        ("hun har fået Pamol", "Pamol"),
        ("mor har begynt på Voxra", "Voxra"),
    ],
)
def test_health_families_by_kind(text: str, expected: str) -> None:
    assert [s for t, s in spans(text) if t == "HEALTH"] == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "Dear Ms Adeyemi, thank you for your letter",
        "jeg har stor sympati for situasjonen",
        "she showed real empathy",
        "the diagnosis is in the report",
        "the appointment is at the GP surgery",
        "my client has a personal injury claim",
        "Psykologen ser ingen grunn til uro",
        "the expert psychologist is available that week",
        "hun går til terapeut hver uke",
        "the school nurse called about lice",
        # Psychiatric services by their common names, as families and caseworkers name them
        # all day: most writers leave them visible.
        "han har time på BUP i morgen",
        "ny tid hos psykiatrin på tisdag",
        "hon var på psykakuten i natt",
    ],
)
def test_professions_look_alikes_and_injuries_are_not_health(text: str) -> None:
    assert [t for t, _ in spans(text) if t == "HEALTH"] == []
