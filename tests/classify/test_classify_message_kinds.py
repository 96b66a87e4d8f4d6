"""What a whole message says about itself, by families: a course or a lesson about the risk,
a professional or a witness who explains what looked like one, a question asked while
nothing has happened; and threats disowned as mere talk, toy guns and video games.

Each family is written by several members in several languages, so that wordings nobody
listed are covered too; the neighbours that stay risks are checked beside them.
"""

from __future__ import annotations

import pytest

from gateway.core.classify import classify
from gateway.core.classify.concepts import CONTEXT_CONCEPTS
from gateway.core.classify.features import analyse
from gateway.core.classify.folding import lower_in_place
from gateway.core.classify.frames import concept_hits
from gateway.core.classify.scope import message_context


def _in_scope(text: str, word: str) -> list[bool]:
    lower = lower_in_place(text)
    return [
        not h.blocked
        for h in concept_hits(text, lower)
        if lower[h.start : h.end].startswith(word) and h.concept not in CONTEXT_CONCEPTS
    ]


@pytest.mark.parametrize(
    ("text", "context"),
    [
        ("Vi inviterer til kurs i forebygging av selvskading for ansatte", "training"),
        ("Hele personalet har været på kursus i opsporing af omsorgssvigt", "training"),
        ("Melvin har gått en kurs om första hjälpen för psykisk hälsa", "training"),
        ("The practice is closed for a training day on self-harm in young people", "training"),
        ("kayden learnt at school today about stranger danger", "training"),
        ("guled siger de har lart i skolen om vold i familien", "training"),
        ("Inget tyder på misshandel, förklaringen stämmer med skadans läge", "explained"),
        ("The bruises are consistent with his condition; no safeguarding concerns", "explained"),
        ("Tilbakemelding: ingen bekymring etter helsesamtalen", "explained"),
        ("Han har en känd blödarsjuka, diagnosen är bekräftad", "explained"),
        ("Viggo faldt fra klatrestativet, det var et uheld som pædagogen så", "explained"),
        ("bara undrar rent allmänt, inget har hänt", "asking"),
        ("nowt has happened just want to know where i stand", "asking"),
        ("Eit spørsmål om framtida, ikkje noko akutt", "asking"),
        ("Just a question, no need to worry", "asking"),
    ],
)
def test_what_a_message_says_about_itself_is_a_feature(text: str, context: str) -> None:
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
def test_ordinary_risk_messages_carry_none_of_these(text: str) -> None:
    contexts = set(message_context(lower_in_place(text)))
    assert not contexts & {"training", "explained", "asking"}


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ('ella sa "pappa eg skal skyte deg" med vassgevær i parken', "skyte"),
        ("he shot me ten times with his squirt gun", "shot"),
        ("bro jeg dræbte hele holdet i valorant i går", "dræbte"),
        ("han sa han skulle drepe meg i counter-strike", "drepe"),
    ],
)
def test_toy_guns_and_video_games_are_out_of_scope(text: str, word: str) -> None:
    in_scope = _in_scope(text, word)
    assert in_scope and not any(in_scope)


@pytest.mark.parametrize(
    "text",
    [
        'faren min sier alltid at han skal "banke vettet inn" i roger. det er bare prat',
        'min mor siger "jeg slår dig" når jeg ik rydder op, det er bare sådan mødre siger',
        'the coach said "ill strangle you" if he missed again, just banter',
        'morfar sa "jag skjuter dig" till katten, det är ett talesätt han har',
    ],
)
def test_a_quoted_threat_disowned_as_mere_talk_raises_no_threat(text: str) -> None:
    assert "THREAT" not in {r.type for r in classify(text).risks}


@pytest.mark.parametrize(
    "text",
    [
        # Mere talk named about someone else's words does not undo a threat in the writer's own.
        'Han sa "jeg dreper deg" til saksbehandleren. Han mente det, det var ikke bare prat',
        'He wrote "I\'ll kill you" to the social worker and he has a gun',
        # A course elsewhere in the message leaves a real event in scope.
        "Vi var på kurs i går. Stefaren slo henne i natt, hun er 4 år og har blåmerker",
    ],
)
def test_neighbours_that_stay_risks(text: str) -> None:
    assert classify(text).risks
