"""Scope of a risk word: negated, hypothetical, about fiction or news, or an idiom.

"jeg kommer ikke til å skade meg", "hvis han slår henne", "vi så en film om selvmord" and
"I could kill for a coffee" all contain a risk word that is not a risk. Both the phrase
rules and the concept frames ask the same questions here.
"""

from __future__ import annotations

import bisect
import re
from functools import cached_property

from .alternatives import Alternatives
from .prefilter import Gate

# Clause boundaries: punctuation, line breaks and the word "but" in every language
# ("[.!?;:\n]+|,|\s(?:men|but|fast|though|although|mens)\s"), written to begin with one set
# of characters so that the engine skips straight to the next candidate.
CLAUSE_BREAK = re.compile(
    r"[.!?;:\n,\s](?:(?<=[.!?;:\n])[.!?;:\n]*|(?<=,)|(?<=\s)(?:men|but|fast|though|although|mens)\s)"
)
SENTENCE_BREAK = re.compile(r"[.!?\n]+")
_WORD = re.compile(r"[\w'’]+")

NEGATIONS = frozenset(
    """ikke ikkje ikk ik itte inte int ej aldri aldrig aldrei never not no nei ingen inga inget
    ingenting nobody nothing dont don't don’t won't wont didn't didnt doesn't doesnt isn't isnt
    wasn't wasnt can't cant cannot hasn't hasnt haven't havent wouldn't wouldnt couldn't
    couldnt shouldn't shouldnt ain't aint nope""".split()
)
_SUBJECTS = frozenset(
    "jeg eg je æ jæ jag i du han hun ho hon vi me de dei dom he she we they".split()
)
_HYPOTHETICAL = frozenset("hvis viss dersom ifall if suppose supposing unless".split())
_HYPOTHETICAL_PHRASES = re.compile(
    r"\b(?:hva om|kva om|tenk om|tenk deg om|tänk om|vad om|hvad hvis|hvad nu hvis|what if|"
    r"i tilfelle|i fall|in case|just in case|what happens if|hva skjer hvis|hva gjør (?:jeg|vi|man) hvis|"
    # Questions about what the service would do: "kva skjer om eg ikkje skriv under".
    r"hva skjer om|hva skjer dersom|kva skjer om|kva skjer viss|kva skjer dersom|kva hender om|"
    r"hvad sker der,? hvis|hvad sker hvis|hvad sker der,? når|vad händer om|vad hander om|"
    r"vad händer ifall|vad händer när|what would happen if|what happens when|"
    r"hvis (?:jeg|jeg nu|man) skulle|om (?:jeg|eg|jag|man) skulle|viss eg skulle)\b",
)
# Fiction, news and "talking about" a topic make the phrase not about this family now.
NOT_REAL = re.compile(
    # (Whole words: "filmet ham" is filming someone, "låta mig gå" is letting go, "seriously".)
    r"\b(?:film|filmen|filmer|filmene|filmerne|filmene|films|movie\w*|serien|serier|serierna|series|"
    r"netflix|tv|tv-serie\w*|boka|boken|bogen|book|novel|roman|romanen|romaner|spill|spillet|spelet|"
    r"game|gaming|fortnite|minecraft|valorant|counter-?strike|cs ?go|overwatch|apex legends|"
    r"league of legends|among us|pubg|the last of us|breaking bad|"
    r"vassgevær\w*|vandpistol\w*|squirt ?gun\w*|toy gun\w*|lekepistol\w*|leikepistol\w*|"
    r"leksakspistol\w*|legetøjspistol\w*|"
    # Swedish "säng" (bed) typed without its accent is Norwegian "sang" (song): "hon gömmer
    # sig under sangen" is a child hiding under the bed, not a song.
    r"(?:sang|sangen)"
    r"(?<!under sang)(?<!under sangen)(?<!på sang)(?<!på sangen)(?<!pa sang)(?<!pa sangen)"
    r"(?<!ur sang)(?<!ur sangen)(?<!vid sang)(?<!vid sangen)(?<!bakom sang)(?<!bakom sangen)|"
    r"sange|sanger|sangtekst\w*|"
    r"låten|låtar|låtarna|"
    r"låttext\w*|song|songs|lyrics|"
    r"nyhet\w*|nyheder\w*|news|avis\w*|tidning\w*|newspaper|artikkel\w*|artikel\w*|article|"
    r"podcast\w*|youtube|tiktok-video|video\w*|"
    # Read in the paper or a comment section: "jag läste i GP om pappan som ...".
    r"läste i|laste i|læst i|laest i|leste i|lest i|las i|read in the|reading about|comments section|"
    r"kommentarfelt\w*|kommentarsfält\w*|kommentarspor\w*|"
    r"snakke\w* om|snakka om|prata\w* om|pratet om|talte om|talade om|snakket om|diskut\w* om|"
    r"lærte om|lærer om|lært om|undervisning om|tema\w*|temaet|talk(?:ed|ing)? about|learn(?:ed|ing|t)? about|"
    r"lesson about|read about|leste om|läste om|læste om|opplæring|kurs om|course about|"
    r"spøk\w*|tuller|tulla|tøys\w*|skämt\w*|joking|just kidding|jk|lol|haha\w*|hehe\w*|"
    # Courtrooms and hunting: "knuse dere i retten", "bury them in court", "på elgjakt med børsa".
    r"i retten|i nemnda|in court|rettssak\w*|legally|juridisk\w*|jakt|elgjakt|jaktvåpen\w*|jagt\w*|"
    r"jakten|hunting|skytebane\w*|the range|våpenskap\w*|våbenskab\w*|vapenskåp\w*|safety plan|"
    # Guns kept as the law asks, and the licences for them: "all my rifles are in a locked
    # safe", "bössan är inlåst hos brorsan", "I hold a shotgun certificate".
    r"gun safe\w*|gun cabinet\w*|locked safe|våpenkort\w*|våpenlisens\w*|"
    r"våbentilladelse\w*|vapenlicens\w*|jaktlag\w*|jaktlaget|jaktgevär\w*|jaktvapen|"
    r"shotgun certificate|firearms? certificate|firearms? licen[cs]e|i'm licensed|hunter education|"
    r"clay pigeon\w*|deer (?:gun )?season|dove hunting|skytterlag\w*|skyttarlag\w*|"
    r"vattenpistol\w*|vannpistol\w*|water ?pistol\w*|water ?gun\w*|täljkni\w*|smörkni\w*|"
    r"gun show|gun range|shooting range|skytteklubb\w*|skytteforening\w*|skyttelag\w*|julskytte\w*|"
    r"jagttegn\w*|jægertegn\w*|jegerprøve\w*|jägarexamen|jaktkort\w*|deer rifle|jeger|jegeren|"
    r"jæger|jægeren|jägare|jägaren|"
    # Fish, caught and killed: "slår fisken ihjel med en kølle", "slo den i hodet med klubba".
    r"fisk|fisken|fiske|fisket|fiskar|fiska|fiskade|fiskede|fisketur\w*|isfiske\w*|fishin|fished|"
    r"gädda|gäddan|gäddor|kveite\w*|torsk\w*|laks|laksen|lax|laxen|abborre\w*|aborre\w*|ørret\w*|"
    r"øret\w*|öring\w*|havbrasen|trout|troot|salmon|pike|haddock|"
    # Denying having said it: "jeg har aldrig påstået, at Tina slår børnene", "hon har inte
    # sagt något om att någon slår henne", "I never said that he hit them".
    r"(?:aldri|aldrig|aldrei|never|inte|ikke|ikkje|not) (?:har |have |has |hev )?(?:sagt|sagde|sa|sade|said|påstått|påstået|"
    r"påstod|påstått|claimed|skrevet|skrivit|skrive|written|wrote|meldt|reported)"
    r"(?:,? at|,? att|,? that|,? om att|,? noe om at|,? noget om at|,? något om att|,? anything about)|"
    # Asked whether ... and said no: "legen spurte om jeg tenker på å ta livet mitt og jeg sa
    # nei", "psykologen frågade om ja vill dö o ja sa nej". A yes stays a risk.
    r"(?:spurte|spurde|spurgte|frågade|fragade|asked)(?: meg| meg| mig| mej| me| henne| her| him| ham)? "
    r"(?:om|if|whether|about) [^.!?\n]{0,120}?(?:og|o|och|and|,) ?"
    r"(?:jeg|eg|ja|jag|i|hun|ho|hon|han|she|he|vi|me) (?:\w+ ){0,2}(?:nei|nej|no)|"
    # Games, play, the stage and poems: "drepe deg i fifa", "lekte politi og røvere", Macbeth.
    r"mario ?kart|sjakk\w*|schack\w*|skak|skakspil\w*|chess|uno|ludo|yatzy|monopol\w*|"
    r"brettspill\w*|brætspil\w*|sällskapsspel\w*|board ?games?|the competition|"
    r"fifa|call of duty|cod|gta|roblox|playstation|ps[45]|xbox|nintendo|headset|gamer\w*|"
    r"zombie\w*|gyser\w*|gyserfilm\w*|skrekkfilm\w*|skräckfilm\w*|horror|thriller\w*|krimi\w*|"
    r"fjernsyn\w*|tv-?en|teve|telly|teater\w*|teatr\w*|theat\w*|på scenen|on stage|"
    r"pjes\w*|pjäs\w*|skuespill\w*|skådespel\w*|macbeth|hamlet|dikt|dikte\w*|digt\w*|poem\w*|"
    r"poetry|novelle\w*|eventyr\w*|saga|sagan|fairy ?tale\w*|"
    r"lekte|leker|leka|leken|lekene|lekt|legede|legende|leget|playing|pretend\w*|late som|låtsas\w*|"
    r"på lek|for sjov|for fun|i spøk|på skämt|på kødd|kødd\w*|tull\w*|fleip\w*|spas|"
    r"politi og røvere|politi og tyver|cops and robbers|tjuv och polis|røvere|"
    # Sport, self-defence, drills, school work and lectures, slaughter and cartoons.
    r"selvforsvar\w*|sjølvforsvar\w*|självförsvar\w*|self-defen[cs]e|kampsport\w*|martial arts|"
    r"karate|judo|taekwondo|kickboxing|boksing|boksning|boxning|boxing|punch ?bag|boksesekk\w*|"
    r"bokse(?:sæk|säck)\w*|bryting|brottning|wrestling|paintball|laser ?tag|airsoft|nerf|"
    r"fallskjerm\w*|faldskærm\w*|fallskärm\w*|skydiv\w*|bungee|strikkhopp\w*|klippehopp\w*|"
    r"brannøving\w*|brannøvelse\w*|brandøvelse\w*|brandövning\w*|fire drill|"
    r"dokumentar\w*|dokumentär\w*|documentar\w*|uppsats\w*|essay\w*|stiloppgåve\w*|"
    r"særoppgave\w*|skoleoppgave\w*|skoleoppgåve\w*|school project|krle|rle|"
    r"foredrag\w*|föreläsning\w*|forelesning\w*|lecture\w*|seminar\w*|fagdag\w*|fagmøte\w*|"
    r"temadag\w*|workshop\w*|slakt\w*|slagt\w*|butcher\w*|tegnefilm\w*|teiknefilm\w*|"
    r"tecknad\w*|cartoon\w*|løvenes konge|løvernes konge|lejonkungen|lion king|disney|"
    r"kickboks\w*|referee|the ref|touchline|tackle|striker|goalkeeper|dommeren|domaren|"
    r"fotballkamp\w*|fodboldkamp\w*|fotbollsmatch\w*|football match|trampoline park|"
    r"trampolinepark\w*|wrestling meet|fisketur\w*|fishing|filleting|mackerel|makrell\w*|"
    r"got my buck|deer season|hjortejakt\w*|rådyrjakt\w*|älgjakt\w*|rypejakt\w*)\b",
)
_IDIOMS = re.compile(
    r"(?:denne|dette|den|det|den här|den där|den dar|denna|detta|this|that)\s+[\wæøåäö]+\s+"
    r"(?:tar|tek|tager) livet av (?:meg|mig|mej)|"
    r"(?:dør|døyr|dö|dör|doer|dor|die|dies) (?:hvis|viss|om|if) |"
    r"overdos\w* (?:av|af|of|med) (?:kaff\w*|coffee|sukker|socker|sugar|godteri|sjokolade\w*|choklad)|"
    r"(?:could|would|i'd|id) kill for|kill(?:ing)? (?:for a|time)|killing (?:me|it)|killed it|"
    r"dying (?:to|for|of)|die (?:of|from) (?:laughing|laughter|embarrassment|boredom)|bored to death|"
    r"scared to death|dead (?:tired|funny|good|easy)|drop dead gorgeous|over my dead body|"
    r"i'?m (?:so )?dead lol|hit (?:me|us|him|her) up|hits? (?:me|us) (?:that|with)|beat (?:me|us|them|him|her) (?:at|to|in)|"
    r"slår (?:meg|oss) at|slo (?:meg|oss) at|slår (?:meg|mig) som|slog (?:mig|mig som)|"
    r"sl(?:å|år|o|ått|og) (?:meg|mig|oss|os|seg|sig) (?:til ro|ned|sammen|løs|opp|igjennom|igennem)|"
    r"(?:drepe|dræbe|döda) for en|dør av latter|døde av latter|dø av (?:latter|skam|kjedsomhet)|"
    r"dø af grin|dö av skratt|döde av skratt|kjeder meg (?:i ?hjel|i hel)|kjeda meg i hel|"
    r"keder mig ihjel|tråkar ihjäl|frøs (?:meg )?(?:i ?hjel|i hel)|fryser (?:i ?hjel|i hel)|"
    r"(?:du|dere|det|denne|dette|den|han|hun|ungene|barna|jobben|skolen|this|that|you|the kids) "
    r"(?:tar|tek) livet av meg|(?:you|this|that|it|the kids|work)(?:'re| are| is)? killing me|"
    r"slå i ?hjel tiden|slå ihjel tiden|slå ihjäl tiden|kill two birds|shoot (?:myself|yourself) in the foot|"
    r"skyte (?:meg|seg) (?:selv )?i foten|"
    # Delight and shock: "så fine att jag kan dö", "holdt på å dø da jeg så regningen".
    r"(?:jeg|jag|eg|i|man) (?:kunne|kan|kunde|could|kan bare|could just) (?:have )?"
    r"(?:dø|dö|døy|die|døde|doe)\b|"
    r"(?:holdt på å|holdt på at|holdt paa at|var ved at|höll på att|heldt på å|nearly|almost) "
    r"(?:dø|dö|døy|doe|die|died|dødd|døydd)\w* (?:da|når|when|av|af|of|på|paa|over)\b|"
    # Things that die: a phone, a battery, a tooth, a plant.
    r"(?:mobil|telefon|batteri|lader|bil|pc|data|plant|tann|tand|tooth|phone|battery|laptop|"
    r"wifi|nett|router|printer|motor|car|planter)\w* (?:\w+ )?(?:er |is |har |has )?"
    r"(?:ved at |holder på å |about to |going to )?"
    r"(?:dø|dør|døde|døy|døydde|doe|doer|doede|dö|dör|dog|die|died|dies|dying|dead|død)\b|"
    # Fighting over something, being worn out by someone's jokes or questions.
    r"(?:hverandre|hinanden|kvarandre|varandra|each other)(?: i ?hjel| ihjäl| ihjel)? "
    r"(?:over|om|about)\b|"
    r"(?:slår|slaar|slå|slaa|slog|slo) (?:meg|mig|mej|oss|os) (?:i ?hjel|ihjäl) (?:med|af|av)\b|"
    r"(?:killing|kills) (?:me|us) with\b|"
    r"(?:killing|killed|kills) (?:everyone|everybody|us all)|"
    r"(?:could|would|i'd|id|ville|kunne|skulle|vilde|skulle) [\"'«“]?"
    r"(?:kill|drepe|drepa|dræbe|draebe|döda|doda|dø|dö)[\"'»”]? for\b|"
    # Everyday verbs that share a word with a method: taking the train, crossing the bridge,
    # hanging out, skipping dinner, cutting down, drowning in work, postponing a meeting,
    # turning things on and off, shooting someone a text, a flu shot, fireworks at New Year.
    r"(?:tar|tok|ta|tatt|med|tager|tog|taget|åker|åkte|tar|tog|take|took|taking|on the|by|catch|"
    r"caught|missed|miste|mistet|missade) (?:toget|tåget|train|trainet|t-banen|tunnelbanan|tube)|"
    r"(?:over|kjørte over|kørte over|körde över|drove over|across|under|gikk over|gick över) "
    r"(?:broen|brua|broa|bron|the bridge)|bridge (?:the|that) gap|"
    r"(?:henge|henger|hengte|hang|hænge|hænger|hængte|hänga|hänger|hängde|hang|hangs|hanging|hung) "
    r"(?:ut med|ud med|med|out|on|in there|around|up)\b|"
    r"(?:hopp|hoppe|hopper|hoppet|hoppa|hoppar|hoppade|jump|jumps|jumped|jumping) "
    r"(?:over (?:middag\w*|lunsj\w*|frokost\w*|timen|skolen|treningen|maten|et måltid|frokosten)|"
    r"över (?:lunchen|middagen|frukosten|maten|lektionen)|on a call|at the chance|on the trampoline|"
    r"på trampolinen|i bassenget|i poolen|in the pool|the queue|køen|kön|over (?:dinner|lunch|"
    r"breakfast|class|a meal))\b|"
    r"(?:kutt|kutte|kutter|kuttet|kutta|skære|skærer|skar|skära|skär|cut|cuts|cutting) "
    r"(?:ut|ned|ner|ud|down|back|out|off|ties|corners|class|school|kontakten|kontakt)\b|"
    r"(?:drukn|drukne|drukner|druknet|drunkna|drunknar|drown|drowning|drowned)\w* (?:i|in) "
    r"(?:arbeid|arbejde|arbete|work|papir\w*|paperwork|lekser|homework|mail\w*|e-post\w*|skjema\w*|"
    r"emails|forms|meetings|møter|möten)|"
    r"(?:skjut|skjuta|skjuter|sköt|skjutit|skyt|skyte|skyter|skjøt|skutt|skyde|skyder|skød) "
    r"(?:upp|opp|op|inn|ind|in|fart) |"
    r"(?:skyd|skyde|skyder|skød|skyte|skyter|skjøt|skjuta|skjuter|sköt)\w* (?:\w+ )?"
    r"(?:nytår|nyttår|nyår|nyåret|raketter|raketer|fyrværkeri|fyrverkeri|fyrverkerier)|"
    r"shoot (?:me|us|him|her|them) (?:a|an) (?:text|email|message|line|note|dm)|"
    r"(?:flu|booster|covid|tetanus) (?:shot|jab)\b|shot of |"
    r"kill (?:myself|yourself|himself|herself) (?:on|up) (?:that|the|this) |"
    r"sl(?:å|år|o|og|ått|agit|aa|aar|ogs) (?:opp|upp|op|av|af|fra|ihop|an)\b|"
    r"(?:dø|dør|døde|døy|døyr|dö|dör|doe|doer|die|dies|dying|died)\w* (?:av|af|of) "
    r"(?:grin|latter|skratt|skam|kedsomhed|kjedsomhet|leda|tristess|boredom|embarrassment|laughter|"
    r"laughing|shame|cringe|nysgerrighed|nysgjerrighet|nyfikenhet|curiosity)|"
    r"(?:død|døde|dead|died) (?:litt |a little )?(?:innvendig|inni meg|inside)|"
    r"kverk\w* (?:en|ei|et|to|tre|noen|a|the) (?:øl|flaske|pils|pizza|beer|bottle)|"
    r"(?:drepe|drepa|drep|dræbe|draebe|döda|kill)\w* (?:\w+ ){0,2}(?:med|with) "
    r"(?:rettssak\w*|retssag\w*|rättegång\w*|rettergang|lawsuits?|papir\w*|paperwork|byråkrati\w*|"
    r"bureaucracy|skjema\w*|forms|spørsmål|questions|kindness|kjærlighet|omsorg)|"
    # Worn out, bored or beaten: "jeg er død og borte", "det slår alt", "bored out of my mind".
    r"(?:død|daud|död|dead) og (?:borte|ferdig)|(?:helt|heilt) (?:død|daud|död) (?:i dag|etter|efter)|"
    r"(?:slår|slog|slo|beats|beat) (?:alt|alle|alla|allt|everything)\b|"
    r"(?:kjedelig|kjedeleg|kedelig|kedeligt|tråkig|tråkigt|boring|kjedsomt)\w* "
    r"(?:at|att|å|that|så) (?:\w+ ){0,3}(?:holdt|heldt|höll|var|nearly|almost)|"
    r"(?:holdt|heldt|höll) på (?:å|att|at) (?:dø|døy|dö)\w*\s*(?:💀|😂|😅|🤣|😩|😴|lol|haha)|"
    r"\b(?:stikkredd\w*|sprøyteskrekk\w*|sprutskräck\w*|nålefobi\w*).{0,60}|"
    r"(?:dreper|drep|dræber|dödar|killing) (?:meg|mig|mej|me) (?:på|paa|at|i) "
    r"(?:trening\w*|træning\w*|träning\w*|the gym|gymmet|crossfit|spinning)|"
    # A match won by a score: "di slog Vasa 6-2", "Dawgs beat Florida 34-3".
    r"\b(?:slog|slo|slått|slaaet|slagit|slagi|slår|beat|beats|thrashed|hammered|smashed|knuste|krossade) "
    r"(?:\w+ ){1,3}\d{1,3} ?[-–] ?\d{1,3}\b|"
    # Something that "kills me": "det slår mig ihjel at vente", "det här slår mig ihjel".
    r"(?:det|det her|det här|dette|detta|denne|denna) (?:\w+ )?(?:slår|slaar) (?:meg|mig|mej) "
    r"(?:i ?hjel|ihjäl)|"
    # Thought I would die: on a run, in a snowstorm, on a horse, at a parents' evening.
    r"(?:thought|trodde|trudde|troede|tænkte|tenkte) (?:i|jeg|eg|jag|ja|vi|we|me) "
    r"(?:was gonna|was going to|would|were gonna|were going to|skulle|skulde|kom til å|kom til at) "
    r"(?:die|dø|døy|dö|doe)\b|"
    r"(?:died|dying|die|dead) (?:laughing|of laughter)|literally died|"
    # A cut finger in the kitchen: "skar mig i fingeren da jeg skar løg", "cut her hand on a
    # can of beans". An arm, a wrist or a leg is not in this family.
    r"(?:skar|skåret|skåri|skär|kutta|kuttet|kutte|cut|cuts) (?:meg|mig|mej|seg|sig|myself|himself|"
    r"herself|her|his|my|their) (?:\w+ ){0,2}(?:i|on|in|på|pa) (?:\w+ )?"
    r"(?:finger\w*|fingr\w*|tommel\w*|tumm\w*|thumb|brødkniv\w*|brødkniv\w*|kniv\w*|knife|"
    r"can|tin|glass|papir\w*|paper)|"
    r"cut (?:my|her|his|their) (?:finger|fingers|thumb|hand) on\b|"
    # Hit by a ball or a car, an unborn baby kicking.
    r"(?:hit|struck|kicked|knocked|truffet|truffen|ramt|träffad|träffades) (?:by|av|af) "
    r"(?:(?:a|an|the|en|ei|et|ett) )?(?:car|ball|bus|bike|van|truck|horse|goat|cow|door|swing|puck|"
    r"football|bil|bilen|ball|ballen|bold|bolden|boll|bollen|sykkel|cykel|hest|hesten|häst|hästen)\b|"
    r"(?:baby|babyen|babyn|the baby) (?:\w+ )?(?:kicked|kicks|kicking|sparker|sparket|sparkar|sparkade)|"
    r"(?:sparker|sparket|sparkar|sparkade) (?:i|inni) (?:magen|maven)|"
    r"(?:skar|skære|skærer|skjære|skjærer|skjer|skär|skära|skuren|kutte|kutter|kutta|cut|cutting) "
    r"(?:\w+ )?(?:løg|løk|lauk|lök|onions?|brød|bröd|bread|kake|kaka|kage|tårta|tårtan|cake|kjøtt|kød|"
    r"kött|meat|grønnsak\w*|grønsak\w*|grøntsag\w*|grönsak\w*|vegetables|tomat\w*|agurk\w*|gurk\w*|"
    r"frukt|fruit|pizza|poteter|kartofler|potatis|potatoes)\b",
)


# The idioms, fiction and past-event words, matched only where their words occur.
_IDIOM_MATCHES = Alternatives(_IDIOMS)
NOT_REAL_MATCHES = Alternatives(NOT_REAL)
_HYPOTHETICAL_MATCHES = Alternatives(_HYPOTHETICAL_PHRASES)


def breaks(pattern: re.Pattern[str], text: str) -> list[int]:
    return [m.end() for m in pattern.finditer(text)]


def start_of(breaks: list[int], position: int) -> int:
    i = bisect.bisect_right(breaks, position) - 1
    return breaks[i] if i >= 0 else 0


def inside_idiom(text: str, start: int, end: int) -> bool:
    """Whether an idiom overlaps the phrase; idioms are short, so look only nearby."""
    window_start = max(0, start - 30)
    for m in _IDIOM_MATCHES.finditer(text, window_start, min(len(text), end + 30)):
        if m.start() < end and start < m.end():
            return True
    return False


def _words_before(text: str, clause_start: int, start: int) -> list[str]:
    """The words between ``clause_start`` and ``start``; when there are more than four,
    only the last four are sure to be whole (a long clause is read from near its end)."""
    window_start = max(clause_start, start - 80)
    words = _WORD.findall(text[window_start:start])
    if window_start > clause_start and len(words) < 5:
        words = _WORD.findall(text[clause_start:start])
    return words


def is_negated(text: str, clause_start: int, start: int, end: int) -> bool:
    """A negation inside the phrase, or among the four words before it in the same clause.

    A subject pronoun after the negation starts a new clause even without punctuation:
    in "orkar ikkje meir eg vil ta livet mitt" the "ikkje" belongs to "orkar".
    """
    words = [w.lower() for w in _words_before(text, clause_start, start)[-4:]]
    words += [w.lower() for w in _WORD.findall(text[start:end])]
    negated = False
    for word in words:
        if word in NEGATIONS:
            negated = True
        elif word in _SUBJECTS:
            negated = False
    return negated


def is_hypothetical(text: str, clause_start: int, start: int, *, phrases: bool = True) -> bool:
    """An "if" three words or fewer before the phrase ("if he hits her"), in the same clause.

    Further away it is usually a conditional threat ("if you take my kids I'll kill you"),
    which stays a threat. ``phrases=False`` says the text holds no "what if" phrase at all.
    """
    before = _words_before(text, clause_start, start)
    if any(w.lower() in _HYPOTHETICAL for w in before[-4:]):
        return True
    # "om" is "if" at the head of a clause (sv, nb, da) and "about" elsewhere.
    if before and before[0].lower() == "om" and len(before) <= 4:
        return True
    return phrases and _HYPOTHETICAL_MATCHES.search(text, clause_start, start) is not None


# Reported past or handled events and feelings, not a risk now.
_PAST_HANDLED = re.compile(
    r"\b(?:for (?:mange )?år siden|for \w+ år sidan|da jeg var liten|da eg var liten|när jag var liten|"
    r"da jeg var barn|years ago|when i was (?:a kid|little|young)|for længe siden|för länge sedan|"
    r"for (?:et|ett|ei|en|eit|\w+|\d+|mange|flere|fleire|flera|nogle|några) "
    r"(?:år|måneder|månader|månadar|måneders|uker|veker|uger|veckor) (?:siden|sidan|sedan)|"
    r"\w+ (?:years|months|weeks) ago|as a (?:teenager|child|kid)|som (?:tenåring|tonåring|teenager|barn)|"
    r"(?:i|in|från|fra|frå|since|sedan|sidan|siden|back in) (?:19|20)\d\d|"
    r"i fjor|i fjol|sidste år|förra året|last year|"
    r"viste seg|viste sig|synte seg|visade sig|turned out|"
    r"(?:was|were|has been|have been) investigated|no further action|henlagt|henlagd|nedlagt|"
    r"utrett och avslutat|preskriber\w*|avtjänat|avsonet|afsonet|served (?:my|his|her) time)\b"
)

# What a whole message says about itself: it tells of a game, a joke, a past and handled
# event, a reassuring doctor, or corrects the record. The model reads these as features
# ("c:handled"), so a risk word in a message that is plainly settled weighs less.
MESSAGE_CONTEXT: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("not_real", NOT_REAL),
    ("handled", _PAST_HANDLED),
    (
        "reassured",
        re.compile(
            r"\b(?:ikke farlig\w*|ikkje farleg\w*|inte farlig\w*|ikke i fare|ikkje i fare|inte i fara|"
            r"not in (?:any )?danger|nothing to worry about|no cause for concern|ingen fare|ingen fara|"
            r"helt normal\w*|heilt normal\w*|completely normal|perfectly normal|quite normal|"
            r"helt greit\w*|heilt greit\w*|helt fint|helt okej|helt ok|all normal|allt va normalt|"
            r"(?:er|is|är|e) (?:ok|okay|fine|fin|bra|frisk|rask|stabil|stable|safe|trygg|tryg)\b|"
            r"medically stable|fully recovered|har det godt|har det bra|mår bra|mår fint|doing (?:well|fine|great)|"
            r"god uke|good week|go veke|er glad igen|er glad igjen|glad again|happy again|"
            r"nobody'?s in danger|no ?one is in danger|no concerns|nowt to worry|no harm (?:done|came)|"
            r"ingen kom til skade|ingen kom till skada|ingen skadde|inga skador|ikke noget at bekymre|"
            r"inget att oroa|ingenting å bekymre|ingenting å uroe|ingenting å uroa)",
        ),
    ),
    (
        "correction",
        re.compile(
            r"\b(?:for ordens skyld|for ordens skuld|for the record|for the avoidance of doubt|for completeness|"
            r"for context|to clarify|clarify|presiser\w*|berigtig\w*|korriger\w*|rette opp|rettes|"
            r"i referatet|in the (?:notes|statement|records|report|minutes)|i journalen|i papperen|"
            r"i er bedömning|i rapporten|the reference|refers to|viser til|henviser til|hänvisar till)",
        ),
    ),
    (
        "asking",
        re.compile(
            r"\b(?:jeg bare spør|bare spør|eg berre spør|berre spør|spørger bare|jeg spørger bare|"
            r"jag bara frågar|bara frågar|bara undrar|ja bara undrar|just asking|only asking|"
            r"asking (?:generally|in general|for a friend)|spør generelt|spør (?:på generelt grunnlag|"
            r"for en venn)|frågar för en kompis|hypotetisk\w*|hypothetical\w*|"
            r"(?:nuværende|nåværende) tidspunkt|rent teoretisk|purely theoretical|"
            # Nothing has happened; a question for later: "bara undrar rent allmänt, inget har
            # hänt", "nowt has happened just want to know where i stand", "ikkje noko akutt".
            r"inget har hänt|ingenting har hänt|inget har hänt|ingenting har skjedd|"
            r"ikke noe har skjedd|ikkje noko har skjedd|ingenting er skjedd|intet er sket|"
            r"der er ikke sket noget|nothing(?:'s| has) happened|nowt(?:'s| has) happened|"
            r"just (?:a question|wondering|want to know where i stand)|want to know where i stand|"
            r"bare et spørsmål|berre eit spørsmål|bare et spørgsmål|et spørgsmål bare|"
            r"et sp(?:ø|o)rgsm(?:å|a)l bare|bara en fråga|en fråga bara|rent allmänt|"
            r"på generelt grunnlag|generelt spørsmål|generelt spørgsmål|in theory|i teorien|i teorin|"
            r"ikke noe akutt|ikkje noko akutt|ikke noget akut|inget akut|inte akut|nothing urgent|"
            r"not urgent|no need to (?:worry|panic)|before anyone (?:panics|asks|worries))\b",
        ),
    ),
    (
        # A course, a lesson, a training day or a programme about the risk itself: "kurs i
        # forebygging av selvskading", "Mental Health First Aid", "SISO-materialet", a
        # "suicide prevention unit", what a child learnt at school about abuse or strangers.
        "training",
        re.compile(
            r"\b(?:kurs|kurset|kursa|kursene|kurser|kurserne|kursus|kurset|kursdag\w*|kursplan\w*|"
            r"course|courses|training|trainings|training day|module|webinar\w*|e-?learning|"
            r"lesson|lessons|lektion\w*|undervisning\w*|utbildning\w*|uddannelse\w*|opplæring\w*|"
            r"opplæringa|kompetanse\w*|kompetens\w*|førstehjelp\w*|førstehjælp\w*|"
            r"första hjälpen|forsta hjalpen|first aid|mhfa|pshe|rse|sex ed\w*|seksualundervisning\w*|"
            r"sexualundervisning\w*|forebygg\w*|forebyggelse\w*|forebyggende|förebygg\w*|"
            r"prevention|preventing|prevent|awareness|stranger danger|"
            r"l(?:æ|ae|a)rt (?:i|på|pa) skolen|lært (?:i|på) skulen|lärt sig (?:i|på) skolan|"
            r"learn(?:ed|t) (?:at|in) school|(?:at|in) school (?:about|today about)|"
            r"(?:på|pa|i) skolen om|i skolan om|på skolan om|at school about|"
            r"signs of|tegn på|tegn pa|tecken på|warning signs|varselstegn\w*|varningstecken)\b",
        ),
    ),
    (
        # A professional or a witness explains what looked like a risk: a diagnosis behind the
        # bruises, an accident somebody saw, an assessment that finds no concern ("Inget tyder
        # på misshandel", "no safeguarding concerns", "consistent with his condition").
        "explained",
        re.compile(
            r"\b(?:ingen bekymring\w*|ingen grunn til bekymring|ikke grunn til bekymring|"
            r"ingen grund til bekymring|ingen oro|ingen kvarstående oro|ingen anledning till oro|"
            r"ingen grund till oro|no (?:safeguarding )?concerns?|no safeguarding|not a safeguarding|"
            r"no ongoing concern\w*|inget tyder på|ingenting tyder på|ikke noe som tyder på|"
            r"ikkje noko som tyder på|intet der tyder på|intet tyder på|ingen tegn på|ingen teikn på|"
            r"ingen tecken på|nothing to suggest|nothing suggests|no (?:evidence|signs?|indication) of|"
            r"consistent with|in keeping with|forenlig med|foreneligt med|förenlig med|"
            r"stämmer med|stemmer med|passer med|"
            r"forklarer|forklarar|förklarar|forklarede|forklarte|förklarade|explains|explained by|"
            r"witnessed|vitne\w*|vittne\w*|så det skje|saw it happen|"
            r"ulykke\w*|uhell\w*|uheld\w*|olycka\w*|olyckshändelse\w*|accident\w*|"
            r"by accident|ved et uhell|ved et uheld|av misstag|"
            r"diagnose\w*|diagnos\w*|diagnosis|diagnosed)\b",
        ),
    ),
    (
        "complaint",
        re.compile(
            r"\b(?:klage\w*|klaga\w*|klag\b|klager|överklag\w*|overklag\w*|anke|anken|anket|ankesak\w*|"
            r"statsforvalter\w*|fylkesmann\w*|sivilombud\w*|ombudsman\w*|folketingets ombudsmand|"
            r"ankestyrelsen|förvaltningsrätt\w*|förvaltningsdomstol\w*|"
            r"tilsynet|tilsyn\w*|formal complaint|complaint\w*|appeal\w*|tribunal|judicial review|"
            r"\bmp\b|councillor|state representative|congress\w*|senator|the press|journalist\w*|pressen|avisen|avisa|\bvg\b|dagbladet|"
            r"aftonbladet|expressen|ekstra bladet|"
            r"advokat\w*|solicitor\w*|lawyer\w*|attorney\w*|jurist\w*)\b",
        ),
    ),
    (
        "laughter",
        re.compile(
            r"haha|hehe|lol\b|😂|😅|🤣|💀|😜|😝|😆|🙃|:d\b|xd\b|skämt|spøk|joke|kidding|tuller|fleip"
        ),
    ),
    (
        "medical",
        re.compile(
            r"\b(?:lege|legen|legevakt\w*|læge|lægen|laege\w*|läkare\w*|läkaren|doctor|gp|dentist|"
            r"tandlæge\w*|tannlege\w*|tandläkare\w*|sykehus\w*|sjukehus\w*|hospital\w*|sjukhus\w*|"
            r"skadestue\w*|nurse|sykepleier\w*|midwife|jordmor|jordemor|barnmorska|helsesøster|"
            r"skolhälsovård\w*|prescribed|resept\w*|recept\w*|dose\w*|dosering\w*|mg)\b",
        ),
    ),
)


# Most messages hold none of the words a context needs; each pattern runs only when they do.
_CONTEXT_GATES = tuple(Gate([pattern], words=True) for _, pattern in MESSAGE_CONTEXT)
_CONTEXT_MATCHES = tuple(Alternatives(pattern) for _, pattern in MESSAGE_CONTEXT)
_PAST_MATCHES = Alternatives(_PAST_HANDLED)


def message_context(lower: str) -> list[str]:
    """Names of the message-level contexts present in the lower-cased message."""
    return [
        name
        for (name, _pattern), gate, matches in zip(
            MESSAGE_CONTEXT, _CONTEXT_GATES, _CONTEXT_MATCHES, strict=True
        )
        if gate.open(lower) and matches.search(lower)
    ]


# Quoted words are someone else's, reported: «ta livet av», "knuse" dykk, "kill" for.
# Families and lawyers also quote the real threat, so quoting is a feature, not a block.
_QUOTED = re.compile(r"«[^»\n]{1,80}»|\"[^\"\n]{1,80}\"|“[^”\n]{1,80}”|”[^”\n]{1,80}”")


# A quoted threat in a message that laughs, or that says the two made up at once ("de var
# gode venner igen efter fem minutter", "we r besties again"), was said in play.
_LAUGHTER = re.compile(
    r"haha|hehe|lol\b|lmao|lmfao|😂|😅|🤣|💀|🙈|🙄|skämt|spøk|joke|kidding|tuller|fleip|"
    # Laughing together, not one man laughing as he threatens.
    r"\b(?:vi|we|de|dei|dom|both|alla|all|begge|båda|everyone)(?: all| alla| both| begge| båda)? "
    r"(?:skrattade|skratta|lo|laughed)\b|"
    r"\b(?:skrattade|lo|laughed) (?:båda|begge|both|alla|all|together|sammen|tillsammans|åt det|"
    r"about it|it off)\b|"
    r"\b(?:gode|bedste|bästa|beste|best) (?:venner|vänner|vener|friends) (?:igen|igjen|att|again)\b|"
    r"\b(?:venner|vänner|vener|friends|besties) (?:igen|igjen|again)\b|"
    r"\b(?:fortfarande|framleis|fremdeles|stadig|still) (?:vänner|vener|venner|friends)\b|"
    r"\b(?:int|inte|ikke|ikkje|not) (?:på riktigt|paa riktigt|på ordentlig|really)\b|"
    # Quoted words the writer disowns as a figure of speech or corrects as misquoted: "det er
    # bare et uttrykk", "jag menade det bildligt", "I referatet står ... Det er feil".
    r"\b(?:bare|berre|bara|blot|just|only) (?:et|eit|ett|an|a) (?:uttrykk|udtryk|uttryck|expression)\b|"
    r"\b(?:et|eit|ett|an) (?:uttrykk|udtryk|uttryck|expression) (?:hun|han|ho|hon|she|he) (?:bruker|bruger|brukar|uses)\b|"
    r"figure of speech|\b(?:bildligt|billedligt|biletleg|figuratively|not literally|ikke bokstavelig\w*|"
    r"ikkje bokstaveleg\w*|inte bokstavligt|ikke på ekte|ikkje på ekte|ikke noe alvorlig|ikkje noko alvorleg|"
    r"inget allvarligt|nothing serious)\b|"
    # Or as mere talk, the way people say it: "det er bare prat", "det er bare sådan mødre
    # siger", "just banter", "en talemåte".
    r"(?<!ikke )(?<!ikkje )(?<!inte )(?<!int )(?<!ik )(?<!not )(?<!n't )(?<!wasnt )(?<!isnt )"
    r"\b(?:bare|berre|bara|blot|kun|just|only|all) (?:prat|snakk|snak|snack|banter|talk)\b|"
    r"\b(?:det er bare|det e berre|det er berre|det är bara|it'?s just) (?:sånn|sådan|så|slik|how|what) "
    r"(?:\w+ ){1,2}(?:sier|siger|säger|seier|seie|say|says)\b|"
    r"\b(?:talemåde\w*|talemåte\w*|talesätt\w*|turn of phrase|manner of speaking)\b|"
    r"\b(?:det er feil|det er ikke korrekt|det er ikke riktig|det er ikkje rett|det er ikke sant|det er ikkje sant|"
    r"det stämmer inte|det är inte sant|that is not correct|that's not correct|that is incorrect|"
    r"that's not true|that is not true|not what (?:i|he|she) said)\b"
)


def laughs_outside_quotes(lower: str, quotes: list[tuple[int, int]]) -> bool:
    """Whether the message laughs (or says the two made up) in its own words: laughter
    inside the quote is part of what was said ("... de som skrattade åt mig")."""
    for m in _LAUGHTER.finditer(lower):
        if not any(s <= m.start() and m.end() <= e for s, e in quotes):
            return True
    return False


def joking_quote(text: str, lower: str, start: int, end: int) -> bool:
    """Whether ``start:end`` sits in quotation marks in a message that laughs or says the
    two made up: "jag ska döda dig" skrek hon, sen skrattade vi."""
    if not ('"' in text or "«" in text or "“" in text or "”" in text):
        return False
    quotes = [(m.start(), m.end()) for m in _QUOTED.finditer(text)]
    if not any(s < start and end < e for s, e in quotes):
        return False
    return laughs_outside_quotes(lower, quotes)


# Each message is asked once whether it holds any word these patterns need; most hold none.
_IDIOM_GATE = Gate([_IDIOMS], words=True)
_NOT_REAL_GATE = Gate([NOT_REAL], words=True)
_PAST_GATE = Gate([_PAST_HANDLED], words=True)
_HYPOTHETICAL_GATE = Gate([_HYPOTHETICAL_PHRASES], words=True)


class Scope:
    """Answers "is this span blocked?" for one message, computing its breaks once."""

    def __init__(self, text: str, lower: str) -> None:
        self.text = text
        self.lower = lower
        self.quotes = (
            [(m.start(), m.end()) for m in _QUOTED.finditer(text)]
            if ('"' in text or "«" in text or "“" in text or "”" in text)
            else []
        )
        self._idioms: list[tuple[int, int]] | None = None
        self._not_real: dict[int, bool] = {}

    # Clause and sentence breaks are only needed once a risk word is judged.
    @cached_property
    def clauses(self) -> list[int]:
        return breaks(CLAUSE_BREAK, self.lower)

    @cached_property
    def sentences(self) -> list[int]:
        return breaks(SENTENCE_BREAK, self.lower)

    def joking_quote(self, start: int, end: int) -> bool:
        """Quoted words in a message that laughs ("jeg skal ta livet av deg" sa mormor 😂)."""
        return bool(self.quotes) and self.quoted(start, end) and self._laughs

    @cached_property
    def _laughs(self) -> bool:
        return laughs_outside_quotes(self.lower, self.quotes)

    def quoted(self, start: int, end: int) -> bool:
        """Whether the span sits inside quotation marks: reported, not said now."""
        return any(s < start and end < e for s, e in self.quotes)

    def sentence_bounds(self, start: int, end: int) -> tuple[int, int]:
        """Where the sentence around ``start:end`` begins and ends."""
        sentence_start = start_of(self.sentences, start)
        i = bisect.bisect_right(self.sentences, end)
        return sentence_start, self.sentences[i] if i < len(self.sentences) else len(self.lower)

    def negated(self, start: int, end: int) -> bool:
        return is_negated(self.text, start_of(self.clauses, start), start, end)

    @cached_property
    def _hypothetical_phrases(self) -> bool:
        return _HYPOTHETICAL_GATE.open(self.lower)

    @cached_property
    def _fiction_or_past(self) -> tuple[bool, bool]:
        return _NOT_REAL_GATE.open(self.lower), _PAST_GATE.open(self.lower)

    def hypothetical(self, start: int) -> bool:
        return is_hypothetical(
            self.lower,
            start_of(self.clauses, start),
            start,
            phrases=self._hypothetical_phrases,
        )

    def not_real(self, start: int, end: int) -> bool:
        """Fiction, news, a game, a joke, or a past event told as past (kept per sentence)."""
        fiction, past = self._fiction_or_past
        if not (fiction or past):
            return False
        s, e = self.sentence_bounds(start, end)
        known = self._not_real.get(s)
        if known is None:
            known = bool(
                (fiction and NOT_REAL_MATCHES.search(self.lower, s, e))
                or (past and _PAST_MATCHES.search(self.lower, s, e))
            )
            self._not_real[s] = known
        return known

    def idiom(self, start: int, end: int) -> bool:
        """Whether an idiom overlaps the span; the idioms are found once per message."""
        if self._idioms is None:
            self._idioms = (
                [(m.start(), m.end()) for m in _IDIOM_MATCHES.finditer(self.lower)]
                if _IDIOM_GATE.open(self.lower)
                else []
            )
        return any(s < end and start < e for s, e in self._idioms)

    def blocked(self, start: int, end: int, *, negation: bool = True) -> bool:
        """Whether the span is negated, hypothetical, not real or inside an idiom."""
        return (
            self.idiom(start, end)
            or self.joking_quote(start, end)
            or (negation and self.negated(start, end))
            or self.hypothetical(start)
            or self.not_real(start, end)
        )
