"""Health information: diagnoses, medication and treatment, in nb, nn, da, sv and en.

A term ending in "*" also matches its inflections ("depresjon*" finds "depresjonen").
Acronyms are matched case-sensitively so that "add" and "bup" in ordinary words do not
count.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from .folding import lower_in_place
from .model import Entity
from .word_index import trie_pattern

DIAGNOSES = """
autisme* autism* autistisk* asperger* depresjon* depression* depressiv* deprimert* deprimeret*
deprimerad* depressed angst* ångest* anxiety panikklidelse* panikangst* panic attack* panikkanfall*
bipolar* schizofreni* schizophreni* psykose* psychosis psychotic psykotisk* spiseforstyrrelse*
spiseforstyrring* spiseforstyrring* anoreksi* anorexi* anorexia bulimi* bulimia ätstörning*
eating disorder* epilepsi* epilepsy epileptisk* diabetes diabetiker* astma* asthma kreft* cancer*
kræft* hepatitt* hepatitis tvangslidelse* tourette* cerebral parese cerebral palsy downs syndrom
down syndrome dysleksi* dyslexi* dyslexia føtalt alkoholsyndrom rusavhengig* rusavhengnad*
rusproblem* alkoholiker* alkoholist* alcoholic* alcoholism addiction addicted avhengighet*
afhængig* missbruk* missbrukare* misbrug* stofmisbrug* narkoman* borderline
personlighetsforstyrrelse* personlighetsforstyrring* personlighedsforstyrrelse* personlighetsstörning*
personality disorder* gravid graviditet* pregnant pregnancy abort* abortion* miscarriage*
spontanabort* hjernerystelse* concussion selvskading* sjølvskading* selvskade* självskad*
self-harm* selvmordsforsøk* sjølvmordsforsøk* selvmordsforsøg* självmordsförsök* suicide attempt*
overdose* overdos* fosterskadet* utviklingshemm* udviklingshæm* intellectual disability
""".split()
MEDICATION = """
ritalin concerta medikinet elvanse strattera intuniv sertralin* sertraline zoloft cipralex
escitalopram fluoxetin* prozac sobril vival valium diazepam xanax rivotril imovane zopiklon*
melatonin circadin lamictal lamotrigin* abilify seroquel quetiapin* zyprexa olanzapin* risperdal
risperidon* litium lithium insulin ventoline metadon* methadone subutex buprenorfin* suboxone
paralgin tramadol oxycodone oxycontin lyrica pregabalin antidepressiva antidepressant*
sovemedisin* sovetablett* sovepille* sleeping pill* sömntablett* sovepiller sovetabletter
antipsykotika antipsychotic* lykkepille* sobril neuroleptika
""".split()
TREATMENT = """
psykiater* psykiatrist psychiatrist* psykolog* psychologist* psykiatrisk* psychiatric* psykiatri
barnepsykiatri* børnepsykiatri* barnpsykiatri* child psychiatry rusbehandling* avrusning* detox
rehab kjemoterapi cellegift kemoterapi chemotherapy dialyse dialysis samtaleterapi
kognitiv terapi terapeut* therapist* therapy behandlingshjem* behandlingsinstitusjon*
metadonprogram* lar-program* innlagt på sykehus innlagd på sjukehus indlagt på hospitalet
inlagd på sjukhus admitted to hospital sectioned tvangsinnlagt* tvangsinnlagd* tvangsindlagt*
tvångsvård* legevakt* skadestue* akutmottag* fastlege* helsesøster* helsesykepleier*
sundhedsplejerske* skolsköterska* gp appointment
""".split()
ACRONYMS = "ADHD ADD OCD HIV AIDS BUP DPS PTSD PTSS CAMHS FASD FAS LAR CBT BUP-klinikken".split()


_INFLECTION = r"[\w\-]*"


def _compile() -> re.Pattern[str]:
    # Multi-word terms live in the lists as separate words; rebuild known phrases first.
    phrases = [
        "panic attack*", "eating disorder*", "cerebral parese", "cerebral palsy", "downs syndrom",
        "down syndrome", "føtalt alkoholsyndrom", "personality disorder*", "suicide attempt*",
        "intellectual disability", "sleeping pill*", "child psychiatry", "kognitiv terapi",
        "innlagt på sykehus", "innlagd på sjukehus", "indlagt på hospitalet", "inlagd på sjukhus",
        "admitted to hospital", "gp appointment",
    ]  # fmt: skip
    phrase_words = {w for p in phrases for w in p.split()}
    singles = [t for t in DIAGNOSES + MEDICATION + TREATMENT if t not in phrase_words]
    terms = {t.lower() for t in set(phrases) | set(singles)}
    bases = {t.rstrip("*") for t in terms}
    tails = {t.rstrip("*"): _INFLECTION for t in terms if t.endswith("*")}
    return re.compile(rf"(?<![\w\-])(?:{trie_pattern(bases, tails)})(?![\w])")


# Matching lower-cased text with a case-sensitive pattern is about twice as fast as
# a case-insensitive pattern; acronyms are matched on the original text.
HEALTH_WORDS = _compile()
HEALTH_ACRONYMS = re.compile(
    r"(?<![\w\-])(?:"
    + "|".join(re.escape(a) for a in sorted(ACRONYMS, key=len, reverse=True))
    + r")(?![\w])"
)


def find_health(text: str) -> Iterator[Entity]:
    """Diagnoses, medication and treatment terms."""
    words = HEALTH_WORDS.finditer(lower_in_place(text))
    for pattern_hits in (words, HEALTH_ACRONYMS.finditer(text)):
        for m in pattern_hits:
            yield Entity(m.start(), m.end(), "HEALTH", "health.lexicon", 0.85)
