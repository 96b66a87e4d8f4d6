"""Families of hard negatives and entity wordings, each family by several members.

The scope rules and lexicons are written as families (idioms of delight, things that die,
games and plays, settled past events, medicines by what they treat, Finnish street words)
so that wordings nobody listed are covered too; these tables hold members of each.
"""

from __future__ import annotations

import pytest

from gateway.core.classify import classify
from gateway.core.classify.concepts import CONTEXT_CONCEPTS
from gateway.core.classify.features import analyse
from gateway.core.classify.folding import lower_in_place
from gateway.core.classify.frames import concept_hits
from gateway.core.classify.risk import Thresholds, raises, risk_words
from gateway.core.classify.scope import message_context


def _risk_words_in_scope(text: str, word: str) -> list[bool]:
    """For each concept hit on ``word``: whether it stands in scope (not blocked)."""
    lower = lower_in_place(text)
    return [
        not h.blocked
        for h in concept_hits(text, lower)
        if lower[h.start : h.end].startswith(word) and h.concept not in CONTEXT_CONCEPTS
    ]


@pytest.mark.parametrize(
    ("text", "word"),
    [
        # Delight and shock.
        ("mina naglar e så fina att jag kan dö", "dö"),
        ("Jeg holdt på å dø da jeg så regningen fra advokaten", "dø"),
        ("I nearly died when I saw the bill", "died"),
        # Things that die.
        ("tandlægen siger tanden er ved at dø", "dø"),
        ("mobilen min døde midt i samtalen", "døde"),
        ("sorry, my phone died", "died"),
        # Fighting over something, worn out by jokes.
        ("naboerne er ved at slå hinanden ihjel over hækken", "ihjel"),
        ("han er ved at slå mig ihjel med sine vittigheder", "ihjel"),
        ("the timetable is killing everyone", "killing"),
        ("she said she would 'kill' for those children", "kill"),
        ("far kjem til å drepe henne med rettssaker", "drepe"),
        # Games, plays, poems, television.
        ("jeg skal drepe deg i fifa neste gang", "drepe"),
        ("Kacper råber 'jeg dræber dig' når han spiller Call of Duty", "dræber"),
        ("i Macbeth förekommer både mord och självmord på scenen", "självmord"),
        ("de lekte politi og røvere og han ble skutt", "skutt"),
        ("i gyserfilmen på fjernsynet ble hun drept", "drept"),
        # Everyday verbs that share a word with a method or with violence.
        ("jeg tar toget til Bergen i morgen", "toget"),
        ("vi kjørte over brua", "brua"),
        ("vi skal henge med venner i helga", "henge"),
        ("prøver å kutte ned på kaffen", "kutte"),
        ("jeg drukner i arbeid", "drukner"),
        ("kan vi skjuta upp mötet", "skjuta"),
        ("vi skyder nytår af med Mads", "skyder"),
        ("shoot me a text when you are free", "shoot"),
        ("she got her flu shot", "shot"),
        ("slå opp i boka", "slå"),
        ("jeg døde litt innvendig", "døde"),
        # Settled past events.
        ("For et år siden sa legen at alkohol ville drepe meg", "drepe"),
        ("the overdose in 2011 was an accident", "overdose"),
        ("det viste sig at moren bankede tæpper", "bank"),
        # A match won by a score, and board games.
        ("laget hans slo Molde 3-1 i går", "slo"),
        ("we beat the Rovers 2 - 0 on Saturday", "beat"),
        ("han sa han skulle drepe meg i sjakk", "drepe"),
        ("she says she'll murder me at mario kart", "murder"),
        # Something that "kills me", and thinking one would die.
        ("det her slår mig ihjel, al den venten", "ihjel"),
        ("I thought I was going to die on that hill", "die"),
        ("jeg trodde jeg skulle dø på den bakken", "dø"),
        # A cut finger in the kitchen.
        ("hun skar sig i tommelfingeren på brødkniven", "skar"),
        ("he cut his hand on a tin of tomatoes", "cut"),
        # Read in the paper; guns kept as the law asks.
        ("jeg leste i avisa om en far som slo barna sine", "slo"),
        ("the rifles are locked in a gun safe in the cellar", "rifles"),
        ("min man har sitt gevär hos jaktlaget", "gevär"),
        # Asked whether, and answered no.
        ("legen spurte om jeg har tanker om å ta livet mitt og jeg sa nei", "livet"),
        ("the nurse asked if she wanted to hurt herself and she said no", "hurt"),
        # Toy guns and video games by name.
        ('ella sa "pappa eg skal skyte deg" med vassgevær i parken', "skyte"),
        ("he shot me ten times with his squirt gun", "shot"),
        ("bro jeg dræbte hele holdet i valorant i går", "dræbte"),
        ("han sa han skulle drepe meg i counter-strike", "drepe"),
    ],
)
def test_families_of_hard_negatives_are_out_of_scope(text: str, word: str) -> None:
    in_scope = _risk_words_in_scope(text, word)
    assert in_scope, f"{word!r} should be a concept in {text!r}"
    assert not any(in_scope)


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("pappa slo meg med beltet i går", "slo"),
        ("han slår meg med beltet", "slår"),
        ("jeg skal drepe deg", "drepe"),
        ("I took all my pills and I want to die", "die"),
        ("the baby has not been fed for two days", "fed"),
        ("jeg står på brua og skal hoppe over rekkverket", "hoppe"),
        ("jeg skal legge meg foran toget", "toget"),
        ("han skjøt på oss", "skjøt"),
        ("we heard a shot outside", "shot"),
        ("I cut myself again", "cut"),
        ("han slo på henne", "slo"),
        ("Liva er ikke kommet hjem og mor svarer ikke", "ikke"),
        # Neighbours of the families above that stay risks.
        ("han slo henne i går kveld, hun er 4 år", "slo"),
        ("hun skar seg i armen igjen i natt", "skar"),
        ("legen spurte om jeg har tanker om å ta livet mitt og jeg sa ja", "livet"),
        ("hon gömmer sig under sangen och styvpappa slår henne", "slår"),
        ("jeg tror han kommer til å drepe meg", "drepe"),
        # A course elsewhere in the message leaves a real event in scope.
        ("Vi var på kurs i går. Stefaren slo henne i natt, hun er 4 år", "slo"),
    ],
)
def test_real_risks_stay_in_scope(text: str, word: str) -> None:
    assert any(_risk_words_in_scope(text, word))


@pytest.mark.parametrize(
    ("text", "context"),
    [
        ("Legen sa det var helt greitt, han er ok", "reassured"),
        ("For the avoidance of doubt, the matter was investigated", "correction"),
        ("det viste seg å være fjernsynet", "handled"),
        ("jeg skal ta deg i fifa haha", "laughter"),
        ("hun får sertralin 50 mg", "medical"),
        # A course, lesson or prevention programme about the risk.
        ("Vi inviterer til kurs i forebygging av selvskading for ansatte", "training"),
        ("Hele personalet har været på kursus i opsporing af omsorgssvigt", "training"),
        ("Melvin har gått en kurs om första hjälpen för psykisk hälsa", "training"),
        ("The practice is closed for a training day on self-harm in young people", "training"),
        ("kayden learnt at school today about stranger danger", "training"),
        ("guled siger de har lart i skolen om vold i familien", "training"),
        # A professional or a witness explains what looked like a risk.
        ("Inget tyder på misshandel, förklaringen stämmer med skadans läge", "explained"),
        ("The bruises are consistent with his condition; no safeguarding concerns", "explained"),
        ("Tilbakemelding: ingen bekymring etter helsesamtalen", "explained"),
        ("Han har en känd blödarsjuka, diagnosen är bekräftad", "explained"),
        ("Viggo faldt fra klatrestativet, det var et uheld som pædagogen så", "explained"),
        # A question asked while nothing has happened.
        ("bara undrar rent allmänt, inget har hänt", "asking"),
        ("nowt has happened just want to know where i stand", "asking"),
        ("Eit spørsmål om framtida, ikkje noko akutt", "asking"),
        ("Just a question, no need to worry", "asking"),
    ],
)
def test_message_context_is_a_feature(text: str, context: str) -> None:
    assert context in message_context(lower_in_place(text))
    assert "c:" + context in analyse(text).features


@pytest.mark.parametrize(
    "text",
    [
        "jeg vil drepe deg",
        "han slo henne i går kveld, hun er 4 år",
        "I have taken all my pills",
        "mamma er full og vi er alene hjemme",
    ],
)
def test_ordinary_risk_messages_say_nothing_that_settles_them(text: str) -> None:
    contexts = set(message_context(lower_in_place(text)))
    assert not contexts & {"training", "explained", "asking"}


def test_words_after_a_negation_are_features_of_their_own() -> None:
    features = analyse("I would never lay a finger on my kids. I will hurt you").features
    assert {"n:lay", "n:finger"} <= features
    assert "w:finger" not in features
    # The clause break ends the negation's reach.
    assert "w:hurt" in features


def test_risk_words_say_whether_a_risk_word_stands() -> None:
    assert risk_words(analyse("jeg skal drepe deg")) == "in_scope"
    assert risk_words(analyse("kan vi flytte møtet til fredag eller mandag neste uke?")) == "none"
    assert risk_words(analyse("jeg har aldri slått barna")) == "out_of_scope"


def test_a_short_message_without_risk_word_or_target_is_left_to_rules() -> None:
    # Keywords and plain remarks: too few words for the model to judge alone.
    for text in ("STOP", "kan vi flytte møtet til fredag?", "Samme melding, levert flere ganger"):
        assert risk_words(analyse(text)) == "too_short"
        assert not raises(0.99, "too_short", False, Thresholds(0.3, 0.1, 0.1))
    # Addressed to someone, a short message is still the model's to judge.
    assert risk_words(analyse("du kommer til å angre")) == "none"


def test_thresholds_depend_on_what_backs_the_model() -> None:
    t = Thresholds(risk_word=0.3, no_risk_word=0.6, rule=0.1)
    assert raises(0.4, "in_scope", False, t)
    assert not raises(0.4, "none", False, t)
    assert raises(0.7, "none", False, t)
    assert not raises(0.9, "out_of_scope", False, t)
    assert raises(0.2, "out_of_scope", True, t)
    assert not raises(0.05, "in_scope", True, t)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hun tar Elvanse 30 mg om morgenen", "Elvanse 30 mg"),
        ("han har fått Lamictal og Trileptal", "Lamictal"),
        ("hon äter Xanor och Theralen", "Xanor"),
        ("she is on co-codamol and Naproxen", "co-codamol"),
        ("Levaxin 50 mikrogram hver dag", "Levaxin 50 mikrogram"),
        ("he takes Concerta and guanfacine", "guanfacine"),
        ("hun har hypotyreose", "hypotyreose"),
        ("diagnosed with gestational diabetes", "gestational diabetes"),
        ("Ho har i tillegg diabetes type 2", "diabetes type 2"),
        ("han har en tilknytningsforstyrrelse", "tilknytningsforstyrrelse"),
        ("hun er gravid i uke 12", "er gravid"),
        ("vi venter barn i mai", "venter barn"),
        ("hon har fått Eliquis för förmaksflimmer", "Eliquis"),
        ("han går i traumebehandling og på LAR", "traumebehandling"),
        ("hun har alkoholavhengighet og jernmangel", "alkoholavhengighet"),
        ("Burana 400 mg vid behov", "Burana 400 mg"),
        ("Flovent 44 mcg and albuterol", "Flovent 44 mcg"),
        ("han har skoliose", "skoliose"),
    ],
)
def test_health_lexicon_families(text: str, expected: str) -> None:
    found = [text[e.start : e.end] for e in classify(text).entities if e.type == "HEALTH"]
    assert expected in found


@pytest.mark.parametrize(
    "text",
    [
        "saksbehandlingen tar tid",
        "jeg ringer behandleren i morgen",
        "the pill box is empty",
        "jeg bekræfter aftalen",
        "vi bor i Vivalla",
        "hun har selvmordstanker",  # a risk, not a health detail
        "hon är sjukskriven i två veckor",
    ],
)
def test_health_lexicon_leaves_ordinary_words(text: str) -> None:
    assert not [e for e in classify(text).entities if e.type == "HEALTH"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mannerheimintie 12 B 7, 00100 Helsinki", "Mannerheimintie 12 B 7, 00100 Helsinki"),
        ("vi bor på Koulukatu 5 i Vasa", "Koulukatu 5"),
        ("Storgatan 12 B 5, 65100 Vasa", "Storgatan 12 B 5, 65100 Vasa"),
        (
            "Rådhusgatan 40 A, lgh 1102, 652 25 Karlstad",
            "Rådhusgatan 40 A, lgh 1102, 652 25 Karlstad",
        ),
    ],
)
def test_finnish_streets_and_flat_numbers(text: str, expected: str) -> None:
    found = [text[e.start : e.end] for e in classify(text).entities if e.type == "POSTAL_ADDRESS"]
    assert expected in found


def test_surnames_that_end_like_street_words_are_not_addresses() -> None:
    assert not classify("Kalle Ranta 7 år och Ola Haugen 9 år").entities


@pytest.mark.parametrize(
    ("text", "type_", "span"),
    [
        ("fnr 12.08.72 44405", "NO_FNR", "12.08.72 44405"),
        ("fnr 12 08 72 44405", "NO_FNR", "12 08 72 44405"),
        ("iban no9386011117947", "IBAN", "no9386011117947"),
        ("cpr 01 02 03 1234", "DK_CPR", "01 02 03 1234"),
    ],
)
def test_identifiers_with_unusual_separators(text: str, type_: str, span: str) -> None:
    assert (type_, span) in [(e.type, text[e.start : e.end]) for e in classify(text).entities]


def test_a_date_before_an_amount_stays_a_date() -> None:
    assert not classify("møte 12.08.72 44405 kr").entities


@pytest.mark.parametrize(
    "text",
    [
        'Ella skrek "jeg dreper deg" til broren over siste pølsa, fem minutter etter var de venner igjen',
        'my lad shouted "I\'ll kill you" at his mate over the controller, we all laughed about it',
        'hon sa "jag ska döda dig" när jag tog hennes kaffe, vi är fortfarande vänner',
        # Disowned as mere talk, the way people say it.
        'faren min sier alltid at han skal "banke vettet inn" i roger. det er bare prat',
        'min mor siger "jeg slår dig" når jeg ik rydder op, det er bare sådan mødre siger',
        'the coach said "ill strangle you" if he missed again, just banter',
        'morfar sa "jag skjuter dig" till katten, det är ett talesätt han har',
    ],
)
def test_a_quoted_threat_said_in_play_raises_no_threat(text: str) -> None:
    assert "THREAT" not in {r.type for r in classify(text).risks}


@pytest.mark.parametrize(
    "text",
    [
        'Han skrattade och sa "jag ska döda dig" när han gick',
        'He laughed and said "I\'ll kill you" as he left the office',
        'Faren ropte "jeg dreper deg" til saksbehandleren i resepsjonen',
        # Laughter inside the quote is part of what was said.
        'Han skrev "jag ska döda dig, du och alla som skrattade"',
        # Mere talk denied: "it was not just talk".
        'Han sa "jeg dreper deg" til saksbehandleren. Han mente det, det var ikke bare prat',
    ],
)
def test_a_quoted_threat_with_one_man_laughing_stays_a_threat(text: str) -> None:
    assert "THREAT" in {r.type for r in classify(text).risks}
