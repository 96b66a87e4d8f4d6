"""Health information: diagnoses, medication and treatment, in nb, nn, da, sv and en.

A term ending in "*" also matches its inflections ("depresjon*" finds "depresjonen").
Acronyms are matched case-sensitively so that "add" and "bup" in ordinary words do not
count.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from .folding import lower_in_place
from .health_terms import (
    ACRONYMS,
    CONTRACEPTION,
    DIAGNOSES,
    HEALTH_SERVICES,
    INFLAMED_ORGANS,
    MEDICATION,
    MORE_CONDITIONS,
    MORE_DIAGNOSES,
    MORE_MEDICATION,
    MORE_TREATMENT,
    TREATMENT,
    WIDER_CONDITIONS,
    WIDER_MEDICATION,
)
from .model import Entity
from .prefilter import Gate
from .word_index import trie_pattern

_INFLECTION = r"[\w\-]*"
# Names that are the beginning of ordinary words or places ("Vivalla"): matched whole.
_EXACT_NAMES = frozenset({"vival"})


# Phones and foreign keyboards drop the Nordic letters: "mellemoerebetaendelse",
# "hjarnskakning", "fodselsdepresjon". Each term is also matched as written that way (æ
# always as "ae": "kraft" is not "kræft").
_DIGRAPHS = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "ä": "ae", "ö": "oe", "é": "e"})
_PLAIN = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "ä": "a", "ö": "o", "é": "e"})


def _without_diacritics(term: str) -> set[str]:
    return {term.translate(_DIGRAPHS), term.translate(_PLAIN)} - {term}


def _compile() -> re.Pattern[str]:
    # Multi-word terms live in the lists as separate words; rebuild known phrases first.
    phrases = [
        "panic attack*", "eating disorder*", "cerebral parese", "cerebral palsy", "downs syndrom",
        "down syndrome", "føtalt alkoholsyndrom", "personality disorder*",
        "intellectual disability", "sleeping pill*", "kognitiv terapi",
        "innlagt på sykehus", "innlagd på sjukehus", "indlagt på hospitalet", "inlagd på sjukhus",
        "admitted to hospital", "gp appointment",
    ]  # fmt: skip
    underscored = [
        t.replace("_", " ")
        for t in TREATMENT
        + MORE_DIAGNOSES
        + MEDICATION
        + MORE_MEDICATION
        + MORE_CONDITIONS
        + MORE_TREATMENT
        + WIDER_CONDITIONS
        + WIDER_MEDICATION
        + CONTRACEPTION
        + HEALTH_SERVICES
        if "_" in t
    ]
    phrases += [
        "hearing aid*", "stomach pump*", "alcohol treatment", "sickle cell",
        "psych ward", "psychiatric ward", "behavioral health unit", "behavioural health",
        "mental health team", "blood pressure", "blood clot*", "heart attack*", "atrial fibrillation",
        "post-traumatic stress*", "ear infection*", "breast cancer", "activated charcoal",
        "medisinsk kull", "aktivt kul",
    ]  # fmt: skip
    # The words of these phrases stand in the lists one by one; alone they are no term.
    # (Terms written with "_" are phrases already: their words stay terms of their own.)
    phrase_words = {w for p in phrases for w in p.split()}
    phrases += underscored
    # Medication names inflect too: "sobrilen", "alvedonen", "Keppraen".
    medication = [
        t if t.endswith("*") or t in phrase_words or t in _EXACT_NAMES else t + "*"
        for t in MEDICATION
    ]
    medication += [
        t if t.endswith("*") or "_" in t else t + "*" for t in MORE_MEDICATION + WIDER_MEDICATION
    ]
    all_terms = [
        *DIAGNOSES, *medication, *TREATMENT, *MORE_DIAGNOSES, *MORE_CONDITIONS, *MORE_TREATMENT,
        *WIDER_CONDITIONS, *CONTRACEPTION, *HEALTH_SERVICES,
    ]  # fmt: skip
    singles = [t for t in all_terms if t not in phrase_words and "_" not in t]
    terms = {t.lower() for t in set(phrases) | set(singles)}
    terms |= {v for t in terms if len(t.rstrip("*")) >= 6 for v in _without_diacritics(t)}
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


_FUNCTION_WORDS = (
    r"(?:the|a|an|this|that|these|those|his|her|my|your|our|their|its|any|no|of|with|"
    r"some|such|rare|new|same|other|what|which|or|and|serious|"
    # "the GP surgery" is the doctor's office; "personal injury" is a kind of claim.
    r"gp|doctor|doctors|dental|local|village|personal)"
)
# Compounds the lists cannot enumerate: "blindtarmsinflammation", "hjertesykdom",
# "astmamedisin", "mellemørebetændelse" (also typed without æøå).
HEALTH_COMPOUNDS = re.compile(
    r"(?<![\w\-])(?!bekr)[a-zæøåäöé]{2,}(?:betennelse|betennelsen|betændelse\w*|betaendelse\w*|inflammation\w*|"
    r"infeksjon\w*|infektion\w*|syndrom\w*|sykdom\w*|sjukdom\w*|sygdom\w*|kreft(?:en|a)?|kræft\w*|"
    r"cancer\w*|allergi\w*|psykiatri\w*|vaksine\w*|vaccin\w*|medisin(?:en|er|ene)?|medicin(?:en|er)?|"
    r"forstyrrelse\w*|forstyrring\w*|störning\w*|lidelse\w*|diagnose\w*|diagnos(?:en)?|"
    r"diabetes|terapi\w*|poliklinikk\w*|poliklinik\w*)(?![\w])"
    r"|(?<![\w])[a-z]+(?:-[a-z]+)? therapy(?![\w])"
    # "kidney infection", "panic disorder", "Down's syndrome", "Lyme disease": the word
    # before names the condition, unless it is only an article or a pronoun.
    rf"|(?<![\w'’])(?!{_FUNCTION_WORDS}\s)[a-z]{{2,}}(?:['’]s)? (?:infections?|disorders?|syndrome|disease|"
    # "lung cancer", "egg allergy", "knee surgery", "Bell's palsy". (Injuries are told
    # as what happened to a child, and stay visible.)
    r"cancer|allerg(?:y|ies)|surgery|transplant|palsy|tumou?rs?|deficiency|defects?)(?![\w])"
)
# Families that begin with a word of their own (a substance, a bone, "broken"): the
# message's words tell cheaply whether any can occur.
HEALTH_STARTS = re.compile(
    # Dependence and abuse of a substance or of gambling: "cannabisberoende",
    # "narkotikamissbruk", "amfetaminmisbruk", "spilleavhengighet".
    r"(?<![\w\-])(?:alkohol|drog|narkotika|cannabis|hasj|hasch|hash|amfetamin|kokain|heroin|opioid|"
    r"opiat|benzo|tablett|pille|piller|spel|spill|nikotin|rus|sprit|metamfetamin|subutex|morfin)"
    r"-?(?:missbruk|misbruk|misbrug|beroende|avhengighet|avhengnad|afhængighed|afhaengighed|"
    r"missbrukare|misbruger|abstinens)\w*(?![\w])"
    # Fractures by the bone: "armbrott", "beinbrudd", "håndleddsbrudd", "lårbensbrott".
    # Operations and injuries by the organ: "hjerteoperasjon", "knäoperation", "hjerneskade".
    r"|(?<![\w\-])(?:hjerte|hjärt|kne|knä|knæ|rygg|ryg|hofte|höft|mage|mave|øye|øjen|ögon|hjerne|"
    r"hjärn|tarm|hals|mandel|øre|öron|skulder|axel|bryst|bröst|lunge|lung|nyre|njur|lever|"
    r"blindtarm|brokk|bråck|galle|gall|polypp?)s?-?(?:operasjon|operation|operert|opereret|"
    r"opererad|kirurgi|skade|skada|skador)\w*(?![\w])"
    r"|(?<![\w\-])(?:arm|ben|bens|bein|beins|hånd|hand|fot|ankel|håndledds?|handleds?|lårbens?|lårbeins?|"
    r"kravebeins?|kraveben|nyckelbens?|ribbens?|revbens?|skalle|kjeve|käk|näs|nese|finger|fingre|tå|"
    r"hofte|höft|rygg|nakke|legg|underarms?|överarms?|overarms?|fotleds?|ankels?|kranie)"
    r"(?:brott|brudd|brud)(?:et|en|ene|a)?(?![\w])"
    # Injuries named in English: "broken collarbone", "sprained ankle", "fractured skull".
    r"|(?<![\w])(?:broken|fractured|sprained|dislocated|torn) (?:(?:left|right) )?"
    r"(?:arm|leg|wrist|ankle|collarbone|collar bone|nose|jaw|finger|toe|ribs?|hip|elbow|"
    r"shoulder|foot|hand|skull|knee|acl|cheekbone|eye socket)(?![\w])"
)
# Inflammations by the organ: "bronkitt", "konjunktivit", "tonsillitis", "gastroenteritten".
INFLAMMATIONS = re.compile(
    r"(?<![\w\-])(?:"
    # The organ with "it" is the word's beginning: a message with no word that begins so
    # is not searched ("ot" alone begins "other", "otit" begins no ordinary word).
    + trie_pattern(organ + "it" for organ in INFLAMED_ORGANS)
    + r")(?:is|t(?:en|er|ene|ar|ane)?|en|er|ar|erna|ter|terne|ten)?(?![\w])"
)
# Conditions, operations and examinations by their Greek and Latin endings:
# "fibromyalgi", "neuropathy", "tonsillectomy", "koloskopi", "scoliosis".
MEDICAL_ENDINGS = re.compile(
    r"(?<![\w\-])[a-zæøåäö]{3,}(?:ectomy|ectomies|otomy|oscopy|algia|plegia|pathy|osis|"
    r"ektomi|ektomien|skopi|skopien|algi|algien|plegi|pati|patien)(?![\w])"
)
# Ordinary and learned words with those endings.
_NOT_CONDITIONS = (
    "sympati", "empati", "apati", "antipati", "telepati", "homeopati", "sympathy", "empathy",
    "apathy", "antipathy", "telepathy", "homeopathy", "nostalgi", "nostalgia", "academia",
    "bohemia", "diagnosis", "prognosis", "hypnosis", "osmosis", "symbiosis", "metamorphosis",
    "apotheosis", "mitosis", "meiosis", "dichotomy", "sympatien", "empatien", "polemi",
    "alkymi", "mikroskopi", "teleskopi", "spektroskopi",
)  # fmt: skip
# Medicines by the endings of their generic names ("klonazepam", "enalapril",
# "omeprazol", "ondansetron", "montelukast"), which ordinary words do not have.
GENERIC_NAMES = re.compile(
    r"(?<![\w\-])(?!terap)[a-zæøåäö]{3,}(?:azepam|zolam|pril|sartan|olol|statin|prazole?|oxetine?|"
    r"triptan|cillin|mycin|cyclin|cycline|syklin|tidine?|afil|apine?|pramine?|profen|fenac|codone|"
    r"setron|lukast|sonide?|metason|methasone|ridone?|semid|dipine?)(?:e|en|er|et|erne|ene|s)?(?![\w])"
)
# A dose after a medication belongs to it: "Keppra 250 mg", "sertralin 50mg".
_DOSE = re.compile(
    r"(?:\s(?:xl|xr|er|sr|cr|la|uno|depot|retard|forte|zydis|mite|comp|novum|depottablett(?:er)?))?"
    r"\s?\d+(?:[.,]\d+)?\s?(?:mg|mcg|µg|ml|g|ie|iu|milligram|mikrogram|microgram|mikrog)\b"
)
# A word with a dose in milligrams after it is a medicine, named or not: "Xeljanz 5 mg".
_NAMED_DOSE = re.compile(
    r"(?<![\w\-])(?P<name>[a-zæøåäö][a-zæøåäö\-]{3,})\s?\d+(?:[.,]\d+)?\s?"
    r"(?:mg|mcg|µg|milligram|mikrogram|microgram)(?![\w])"
)
# Words that stand before a dose without naming a medicine.
_NOT_A_MEDICINE = frozenset(
    """
    tablett tabletter tabletten tablettene tabletterna tablet tablets pille piller pillen pillene
    pills kapsel kapsler kapslar capsule capsules dose dosen doser dosis dosage dosering dos
    daily dagleg daglig dagligen morning morgen morgon kveld kvelden kvällen aften evening night
    natt about around cirka omkring ungefär every hver hvert varje each total totalt more mere
    mer than enn end från fram till until with also også också then deretter sedan derefter only
    bare bara just took tok tog takes tager taken tatt taget given gitt givet fikk fick fått
    received increased økt ökat øget reduced redusert minskat nedsat lowered raised upped down
    dropped from over under less mindre styrke styrka strength extended release depot retard
    forte injection injeksjon injektion sprøyte spruta shot twice once times ganger gange gånger
    week weeks uke uker vecka veckor uge uger day days dag dager dagar dage hour hours timer
    timmar kilo weighs weighed veier väger vejer
    """.split()
)
# Lowercase "adhd" and "ptsd" are as telling as the capitals.
_LOWER_ACRONYMS = re.compile(r"(?<![\w\-])(?:adhd|ptsd|ptss|ocd)(?![\w])")


# The acronyms and compound endings are few fixed strings; most messages hold none of them.
_ACRONYM_GATE = Gate([HEALTH_ACRONYMS])
# The Greek and Latin endings and the generic names share the compounds' gate: one pass
# over the message looks for all of their strings, where asking for each in turn costs
# more than running the patterns on the few messages that hold one.
_LOWER_GATE = Gate([HEALTH_COMPOUNDS, _LOWER_ACRONYMS, MEDICAL_ENDINGS, GENERIC_NAMES])
_DOSE_GATE = Gate([_NAMED_DOSE])
_STARTS_GATE = Gate([HEALTH_STARTS], words=True)
_INFLAMMATION_GATE = Gate([INFLAMMATIONS], words=True)
# Each term begins a word: a message none of whose words begins like a term holds none.
_WORDS_GATE = Gate([HEALTH_WORDS], words=True)


# "fikk nesten hjerteinfarkt", "almost had a heart attack": a fright, not a diagnosis; and
# "jeg er ikke gravid", "not pregnant" tell of no pregnancy.
_FIGURATIVE = re.compile(
    r"(?:hjerteinfarkt|hjerteanfall|hjärtinfarkt|hjerteanfald|heart attack)\w*"
    r"|(?:gravid|pregnant)\b"
)
_FIGURATIVE_BEFORE = re.compile(
    r"(?:\b(?:nesten|nästan|næsten|nærmest|nermest|almost|nearly|practically|literally)\b[\w ]{0,20}"
    r"|\b(?:ikke|ikkje|ik|ikk|inte|int|ej|not|isn['’]t|aren['’]t|wasn['’]t)\s(?:\w+\s)?)$"
)

_FIGURATIVE_AFTER = re.compile(r"\s(?:nesten|nästan|næsten|almost)\b")


def _figurative(lower: str, start: int, end: int) -> bool:
    if not _FIGURATIVE.fullmatch(lower, start, end):
        return False
    return bool(
        _FIGURATIVE_BEFORE.search(lower[max(0, start - 40) : start])
        or _FIGURATIVE_AFTER.match(lower, end)
    )


# A condition is written with its degree and its kind: "alvorlig depresjon", "høgt
# blodtrykk", "terminal cancer"; "bipolar lidelse", "diabetes type 2", "methadone
# programme". The whole phrase is the health information.
_DEGREES = frozenset(
    """
    alvorlig alvorleg alvorlige svær svære svår svåra kraftig kronisk kroniske kroniska akutt
    akut akuta moderat dyp djup dyb severe chronic acute moderate terminal clinical klinisk
    generalisert generaliserad generaliseret generalized generalised høgt høyt højt högt lavt
    lågt high low postpartum paranoid early
    """.split()
)
# An adjective of a condition stands before it too: "astmatisk bronkit", "diabetic neuropathy".
_CONDITION_ADJECTIVE = ("isk", "iske", "iska", "ic", "ical")


def _degree_start(lower: str, start: int) -> int:
    """Where the degree or adjective written before the condition at ``start`` begins."""
    if start < 4 or lower[start - 1] != " ":
        return start
    before = lower.rfind(" ", max(0, start - 24), start - 1) + 1
    if before == 0 and start - 1 > 23:
        return start
    word = lower[before : start - 1]
    if word in _DEGREES or (
        len(word) >= 5 and word.endswith(_CONDITION_ADJECTIVE) and word.isalpha()
    ):
        return before
    return start


_HEAD_AFTER = re.compile(
    r"\s(?:lidelse|lidelsen|liding|lidinga|sjukdom|sjukdomen|sykdom|sykdommen|sygdom|sygdommen|"
    r"disorder|type\s?(?:1|2|i|ii|one|two|en|to|ett|två)|typ\s?(?:1|2|ett|två)|programme|program|"
    r"unit|group|team)(?![\w])"
)


def find_health(text: str) -> Iterator[Entity]:
    """Diagnoses, medication (with its dose) and treatment terms."""
    lower = lower_in_place(text)
    hits = list(HEALTH_WORDS.finditer(lower)) if _WORDS_GATE.open(lower) else []
    if _ACRONYM_GATE.open(text):
        hits += HEALTH_ACRONYMS.finditer(text)
    if _LOWER_GATE.open(lower):
        hits += [*HEALTH_COMPOUNDS.finditer(lower), *_LOWER_ACRONYMS.finditer(lower)]
        hits += (
            m for m in MEDICAL_ENDINGS.finditer(lower) if not m.group().endswith(_NOT_CONDITIONS)
        )
        hits += GENERIC_NAMES.finditer(lower)
    if _STARTS_GATE.open(lower):
        hits += HEALTH_STARTS.finditer(lower)
    if _INFLAMMATION_GATE.open(lower):
        hits += INFLAMMATIONS.finditer(lower)
    if _DOSE_GATE.open(lower):
        for m in _NAMED_DOSE.finditer(lower):
            if m.group("name") not in _NOT_A_MEDICINE:
                yield Entity(m.start(), m.end(), "HEALTH", "health.lexicon", 0.85)
    for m in hits:
        start, end = m.span()
        if _figurative(lower, start, end):
            continue
        dose = _DOSE.match(lower, end)
        if dose:
            end = dose.end()
        else:
            head = _HEAD_AFTER.match(lower, end)
            end = head.end() if head else end
        yield Entity(_degree_start(lower, start), end, "HEALTH", "health.lexicon", 0.85)
