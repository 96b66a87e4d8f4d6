"""Risk signals in the way families write, with negation, hypotheticals, fiction and idiom."""

from __future__ import annotations

import pytest

from gateway.core.classify import classify


def risk_types(text: str) -> set[str]:
    return {r.type for r in classify(text).risks}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # nb
        ("Jeg skal drepe deg hvis dere tar ungene mine", {"THREAT"}),
        ("jeg vet hvor du bor", {"THREAT"}),
        ("jeg tar med kniv på kontoret i morgen", {"THREAT"}),
        ("jeg orker ikke mer jeg vil ta livet mitt", {"SELF_HARM"}),
        ("har tatt masse piller", {"SELF_HARM"}),
        ("datteren min kutter seg igjen", {"SELF_HARM"}),
        ("pappa slår meg og jeg tør ikke gå hjem", {"CHILD_AT_RISK"}),
        ("mamma er full og barna er alene hjemme", {"CHILD_AT_RISK"}),
        ("stefaren slo Ida i går hun har blåmerker", {"CHILD_AT_RISK"}),
        ("jeg skal legge ut navnet og adressen din på facebook", {"HARASSMENT"}),
        ("din jævla kjerring", {"HARASSMENT"}),
        ("jeg klarer ikke mer, har lyst til å dø", {"SELF_HARM"}),
        ("jeg hater deg og jeg skal finne deg", {"THREAT"}),
        ("eksen truet med å drepe meg i går", {"THREAT"}),
        # nn
        ("eg skal drepa deg", {"THREAT"}),
        ("eg orkar ikkje meir, eg vil døy", {"SELF_HARM"}),
        ("ungane er aleine heime", {"CHILD_AT_RISK"}),
        # da
        ("jeg slår dig ihjel", {"THREAT"}),
        ("jeg vil tage mit eget liv", {"SELF_HARM"}),
        ("far slår mig og jeg tør ikke gå hjem", {"CHILD_AT_RISK"}),
        ("jeg lægger dit navn ud på facebook", {"HARASSMENT"}),
        # sv
        ("jag ska döda dig", {"THREAT"}),
        ("jag vill ta livet av mig", {"SELF_HARM"}),
        ("pappa slår mig och jag vågar inte gå hem", {"CHILD_AT_RISK"}),
        ("jag vet var dina barn går i skolan", {"HARASSMENT"}),
        # en
        ("if you take my kids I'll kill you", {"THREAT"}),
        ("I know where you live", {"THREAT"}),
        ("i want to kill myself", {"SELF_HARM"}),
        ("I've taken all my pills", {"SELF_HARM"}),
        ("my stepdad beats me", {"CHILD_AT_RISK"}),
        ("the kids are home alone and mum is drunk", {"CHILD_AT_RISK"}),
        ("I'm going to post your name and address online", {"HARASSMENT"}),
        ("you stupid bitch", {"HARASSMENT"}),
        ("He threatened to kill me last night", {"THREAT"}),
        ("hon hotade att döda mig", {"THREAT"}),
    ],
)
def test_risks_are_raised(text: str, expected: set[str]) -> None:
    assert expected <= risk_types(text)


@pytest.mark.parametrize(
    "text",
    [
        # negation
        "jeg kommer ikke til å skade meg",
        "Han har aldri slått barna",
        "eg kjem ikkje til å skade meg",
        "han har aldrig slået børnene",
        "jag tänker inte skada mig själv",
        "I'm not going to hurt myself",
        "he doesn't hit the kids",
        # hypotheticals
        "hvis han slår henne igjen ringer jeg politiet",
        "om han slår henne igen ringer jag polisen",
        "what if someone hurts him at school?",
        # fiction, news, topic
        "Vi så en film om selvmord på skolen",
        "we talked about self harm in health class",
        "Læreren snakket om vold i timen",
        # idioms
        "I could kill for a coffee",
        "jeg kunne drept for en kaffe nå",
        "denne jobben tar livet av meg haha",
        "this heat is killing me",
        "I'm dying to see the kids",
        "jeg døde av latter",
        "hit me up when you're free",
        "vi har slått oss ned i Bergen nå",
        "jeg slår meg til ro med det",
        # ordinary messages
        "Barna er trygge hos mormor, alt er bra",
        "Takk for møtet i dag, vi ses neste uke",
        "Kan vi flytte møtet til torsdag?",
    ],
)
def test_negated_hypothetical_fictional_and_idiomatic_are_not_risks(text: str) -> None:
    assert risk_types(text) == set()


def test_risk_records_rule_confidence_and_evidence() -> None:
    text = "hei. jeg vil ta livet mitt i kveld"
    (risk,) = classify(text).risks
    assert risk.type == "SELF_HARM"
    assert risk.rule == "self_harm.nb.kill_myself"
    assert 0 < risk.confidence <= 1
    assert text[risk.start : risk.end] == "ta livet mitt"


def test_a_risk_never_changes_the_text() -> None:
    result = classify("pappa slår meg")
    assert result.urgent
    assert result.redacted == "pappa slår meg"
    assert result.labels == ["CHILD_AT_RISK"]


def test_negation_in_an_earlier_clause_does_not_hide_a_risk() -> None:
    assert risk_types("ingen bryr seg om meg jeg vil dø") == {"SELF_HARM"}
    assert risk_types("Ikke si det til mamma, men pappa slår meg") == {"CHILD_AT_RISK"}
