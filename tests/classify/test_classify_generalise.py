"""Risk signals and entities on wording the phrase rules were never written for."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

from gateway.core.classify import classify
from gateway.core.classify.addresses import (
    gb_postcode_area_valid,
    nordic_postcode_valid,
    us_zip_matches_state,
)
from gateway.core.classify.features import analyse
from gateway.core.classify.normalise import fold
from gateway.core.classify.risk import load_model


def spans(text: str, type_: str) -> list[str]:
    return [text[e.start : e.end] for e in classify(text).entities if e.type == type_]


def risk_types(text: str) -> set[str]:
    return {r.type for r in classify(text).risks}


def test_folding_reads_missing_diacritics_and_old_spelling_alike() -> None:
    assert fold("sjølvmord") == fold("sjolvmord")
    assert fold("dræbe") == fold("draebe")
    assert fold("blåmärken") == fold("blamarken") == fold("blaamarken")


@pytest.mark.parametrize(
    ("text", "concepts"),
    [
        ("kommer på kontoret med øksa i morgen", {"STAFF", "WEAPON", "NOW"}),
        ("har tatt alle sovepillene", {"INTAKE", "METHOD"}),
        ("han dreper deg", {"KILL", "YOU"}),  # "dreper" found through the stem of "drepe"
        ("jag står på bron", {"POSITION", "HEIGHT"}),
    ],
)
def test_concepts_are_found_in_any_inflection(text: str, concepts: set[str]) -> None:
    found = {h.concept for h in analyse(text).concepts}
    assert concepts <= found


def test_a_stem_does_not_swallow_another_word() -> None:
    # "spår" (track) stems to "spar"; "sparkes" (be fired) is not a method of self-harm.
    found = {h.concept for h in analyse("dere burde sparkes alle sammen").concepts}
    assert "METHOD" not in found and "HEIGHT" not in found


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Jeg står på Elgeseter bru. Si til barna at mamma er lei seg", "SELF_HARM"),
        ("har svelget et helt glass med sovepiller", "SELF_HARM"),
        ("kommer på kontoret med øksa i morgen, da får dere se", "THREAT"),
        ("har en hagle og jeg vet hvor saksbehandleren bor", "THREAT"),
        ("babyen har ikke fått mat på to dager og mora er rusa", "CHILD_AT_RISK"),
        ("I'm on the bridge. Sorry for everything. Tell my kids I loved them", "SELF_HARM"),
    ],
)
def test_must_never_miss_wordings_are_raised(text: str, expected: str) -> None:
    assert expected in risk_types(text)


@pytest.mark.parametrize(
    "text",
    [
        "hvis han slår henne igjen ringer jeg politiet",
        "jeg har aldri slått barna mine og kommer aldri til å gjøre det",
        "I could kill for a coffee right now",
    ],
)
def test_negated_hypothetical_and_idiomatic_stay_quiet(text: str) -> None:
    assert risk_types(text) == set()


def test_every_flag_says_why() -> None:
    result = classify("har tatt alle pillene mine. takk for alt, si til ungene at jeg elsker dem")
    assert result.risks
    for risk in result.risks:
        assert risk.rule
        assert risk.rule.startswith(("frame.", "model.")) or "." in risk.rule
        assert 0 < risk.confidence <= 1


def test_model_ships_with_the_package_and_loads_without_scikit_learn() -> None:
    model = load_model()
    assert model is not None
    assert set(model.types) == {"THREAT", "SELF_HARM", "CHILD_AT_RISK", "HARASSMENT"}
    assert all(0 < t < 1 for t in model.thresholds.values())
    code = (
        "import sys; sys.modules['sklearn'] = None; "
        "from gateway.core.classify import classify; "
        "print(bool(classify('har tatt alle sovepillene mine').risks))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
    assert importlib.util.find_spec("gateway.core.classify") is not None


@pytest.mark.parametrize(
    ("code", "valid"),
    [("6800", True), ("0000", False), ("422 48", True), ("00099", False), ("68600", True)],
)
def test_nordic_postcodes_are_checked_against_the_shipped_list(code: str, valid: bool) -> None:
    assert nordic_postcode_valid(code) is valid


def test_uk_and_us_postcodes_are_checked() -> None:
    assert gb_postcode_area_valid("SW1A 1AA")
    assert not gb_postcode_area_valid("QQ1 1AA")
    assert us_zip_matches_state("85210", "AZ")
    assert not us_zip_matches_state("85210", "NY")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("adressen er Øyrane 4 B, 6800 Førde", "Øyrane 4 B, 6800 Førde"),
        ("Fosshaugane 7\n6856 Sogndal", "Fosshaugane 7\n6856 Sogndal"),
        ("bor på egeparken 14, 5240 odense no", "egeparken 14, 5240 odense no"),
        (
            "Selma Lagerlöfs torg 4, 422 48 Hisings Backa",
            "Selma Lagerlöfs torg 4, 422 48 Hisings Backa",
        ),
        ("1840 S Lewis St, Mesa AZ 85210", "1840 S Lewis St, Mesa AZ 85210"),
    ],
)
def test_addresses_by_structure(text: str, expected: str) -> None:
    assert spans(text, "POSTAL_ADDRESS") == [expected]


@pytest.mark.parametrize(
    "text", ["i 2019 Trondheim var det bra", "det kostet kr 4500 Totalt", "Rom 1205 Etasje"]
)
def test_numbers_before_a_word_are_not_addresses(text: str) -> None:
    assert spans(text, "POSTAL_ADDRESS") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hun tar Keppra 250 mg morgen og kveld", "Keppra 250 mg"),
        ("han fikk blindtarmsinflammation i natt", "blindtarmsinflammation"),
        ("mellemoerebetaendelse igen", "mellemoerebetaendelse"),
    ],
)
def test_health_terms_with_doses_and_compounds(text: str, expected: str) -> None:
    assert expected in spans(text, "HEALTH")


def test_bekreftelse_is_not_cancer() -> None:
    assert spans("takk for bekreftelsen", "HEALTH") == []


@pytest.mark.parametrize(
    "text",
    [
        "sort code 20-45-77 acc no 41387209",
        "clearing 8214-9 konto 4 381 227-6",
    ],
)
def test_domestic_bank_accounts_with_their_separators(text: str) -> None:
    found = spans(text, "BANK_ACCOUNT")
    assert len(found) == 1 and found[0][-1].isdigit()


def test_uk_mobile_numbers_in_any_grouping() -> None:
    assert spans("ring 07700 900 418 i kveld", "PHONE") == ["07700 900 418"]
    assert spans("call +44 7911 342 087", "PHONE") == ["+44 7911 342 087"]


def test_jsonl_keeps_its_contract_and_adds_why() -> None:
    line = json.dumps({"id": 7, "text": "har tatt alle sovepillene mine"})
    out = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "classify", "--jsonl"],
        input=line + "\n",
        capture_output=True,
        text=True,
        check=True,
    )
    record = json.loads(out.stdout)
    assert set(record) >= {"id", "entities", "risks", "redacted"}
    assert record["risks"][0]["type"] == "SELF_HARM"
    assert isinstance(record["risks"][0]["why"], list)
