"""The phrase table behind the risk signals, one row per way families write it.

Rows are grouped by signal and language (nb, nn, da, sv, en). A pattern matches the core
phrase; the modifiers around it (negation, hypotheticals, fiction, idiom) are judged in
``risk.py``. Patterns are written for informal, misspelt, unpunctuated text: optional
words are allowed between subject and verb so that "jeg kommer ikke til å skade meg" is
found and then recognised as negated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ME = r"(?:meg|mæ|mei|mig|me)"


def gap(n: int) -> str:
    """Between zero and ``n`` whole words, for the slack informal writing needs."""
    return rf"(?:\s+\S+){{0,{n}}}?\s+"


@dataclass(frozen=True)
class RiskRule:
    """One phrase that signals a risk; ``negated_by_design`` rows already contain a negation.

    ``triggers`` are lower-case word beginnings of which every match contains at least
    one; a message without any of them skips the pattern (most messages carry no risk).
    """

    type: str
    name: str
    triggers: tuple[str, ...]
    pattern: re.Pattern[str]
    confidence: float
    negated_by_design: bool = False


def _rule(
    type_: str,
    name: str,
    triggers: str,
    pattern: str,
    confidence: float = 0.9,
    negated: bool = False,
) -> RiskRule:
    compiled = re.compile(rf"(?<![\w])(?:{pattern})(?![\w])", re.I)
    return RiskRule(type_, name, tuple(triggers.split()), compiled, confidence, negated)


_I_NB = r"(?:jeg|jæ|je|eg|æ)"
_I_DA = r"(?:jeg|ja)"
_I_SV = r"(?:jag|ja)"
_I_EN = r"(?:i|im|i'm|i’m|ill|i'll|i’ll|iam)"
_YOU_NB = r"(?:deg|dæ|dei|dykk|dere|dokker|dåkker|han|ham|ho|henne|saksbehandler\w*|barnevern\w*|dere alle|kontoret)"
_YOU_DA = r"(?:dig|jer|ham|hende|sagsbehandler\w*|kommunen)"
_YOU_SV = r"(?:dig|er|honom|henne|handläggar\w*|socialsekreterar\w*|soc)"
_YOU_EN = r"(?:you|u|ya|her|him|them|y'all|the social worker|your \w+|that \w+)"
_KIDS_NB = r"(?:meg|mæ|oss|henne|ham|mamma|mora|mor|moren|barna|ungene|ongane|sønnen|sonen|datteren|dattera|dotter[a]?|guttene|jentene|gutten|jenta|lillebror|lillesøster|veslebror|babyen|minsten|broren min|søstera mi|søsteren min)"
_KIDS_DA = r"(?:mig|os|hende|ham|mor|moren|børnene|ungerne|sønnen|datteren|drengen|pigen|lillebror|lillesøster|babyen|min bror|min søster)"
_KIDS_SV = r"(?:mig|oss|henne|honom|mamma|mamman|barnen|ungarna|sonen|dottern|pojken|flickan|lillebror|lillasyster|bebisen|min bror|min syster)"
_KIDS_EN = r"(?:me|us|her|him|(?:my )?(?:mum|mom|mother)|my (?:son|daughter|kids|children|baby|brother|sister|boy|girl)|the (?:kids|children|baby|boy|girl)|them)"
_HIT_NB = r"(?:slår|slo|slått|slår til|sparker|sparka|sparket|dunker|dunka|banker|banka|kveler|kvelte|kvælte|lugger|lugga|rister|rista|ristet|klyper|kløyp|brant|brenner|dytta|dytter|kasta|kastet|sleit|slengte)"
_HIT_DA = r"(?:slår|slog|sparker|sparkede|banker|bankede|tæsker|tæskede|kvæler|kvalte|ryster|rystede|nev|skubber|skubbede|brændte)"
_HIT_SV = r"(?:slår|slog|sparkar|sparkade|bankar|bankade|stryper|ströp|skakar|skakade|nyper|knuffar|knuffade|brände|misshandlar|misshandlade)"
_HIT_EN = r"(?:hits|hit|hitting|beat|beats|beating|punched|punches|kicks|kicked|slapped|slaps|choked|chokes|strangled|burned|burnt|shook|shakes|smacked|smacks|whacked|thrown|threw)"

# A capitalised word after a hitting verb is usually a child's name ("sparket Ida").
_NAMED = r"(?-i:[A-ZÆØÅÄÖ][a-zæøåäöé]+)"
_KIDS_NB = rf"(?:{_KIDS_NB}|{_NAMED})"
_KIDS_DA = rf"(?:{_KIDS_DA}|{_NAMED})"
_KIDS_SV = rf"(?:{_KIDS_SV}|{_NAMED})"
_KIDS_EN = rf"(?:{_KIDS_EN}|{_NAMED})"

THREAT = "THREAT"
SELF_HARM = "SELF_HARM"
CHILD = "CHILD_AT_RISK"
HARASS = "HARASSMENT"

RULES: tuple[RiskRule, ...] = (
    # --- THREAT: violence against staff or others
    _rule(
        THREAT,
        "threat.nb.will_hurt_you",
        "drep slå skad stikk knivstikk skyt bank kvel livet brenn",
        rf"{_I_NB}{gap(5)}(?:drepe|drepa|drep|dreper|slå|slår|skade|skader|skada|knivstikke|knivstikker|stikke|stikker|skyte|skyter|skyta|banke|banker|kvele|kveler|ta livet av|tar livet av|brenne){gap(1)}{_YOU_NB}",
    ),
    _rule(
        THREAT,
        "threat.nb.kill_you",
        "drep stikker knivstikker skyter hjel ihjel hel",
        r"(?:dreper|drep|drepe|knivstikker|skyter|slår ihjel|slå i hjel|slår i hel) (?:deg|dere|dykk|dokker)",
    ),
    _rule(
        THREAT,
        "threat.nb.know_where_you_live",
        "bor bur",
        r"(?:vet|veit|vett|finner ut|finne ut|finna ut) (?:hvor|kor|ka|hvar) (?:du|dere|dokker|de) (?:bor|bur)",
    ),
    _rule(
        THREAT,
        "threat.nb.you_will_pay",
        "få faa skal ska kommer kjem",
        r"(?:du|dere|dokker|dykk|de) (?:skal|ska|kommer til å|kjem til å|vil) (?:få|faa) (?:juling|bank|svi|unngjelde|betale for det|som fortjent)|(?:jeg|eg) (?:skal|ska|kommer til å|kjem til å) (?:finne|ta|ta igjen) (?:deg|dere|dykk)",
    ),
    _rule(
        THREAT,
        "threat.nb.you_are_dead",
        "død daud ferdig",
        r"(?:du|dere|dokker) (?:er|e) (?:død|døde|daud|daude|ferdig|ferdige)",
    ),
    _rule(
        THREAT,
        "threat.nb.arson_weapon",
        "tenne fyr brenne sprenge kniv gevær våpen pistol øks hagle",
        r"(?:tenne på|sette fyr på|brenne ned|sprenge)(?:\s+\S+){0,2}\s+(?:kontoret|huset|barnevernet|kontora|bygget)|(?:ta med|kommer med|har med) (?:meg )?(?:kniv|gevær|våpen|pistol|øks|hagle)",
    ),
    _rule(
        THREAT,
        "threat.da.will_hurt_you",
        "slå dræb stikk skyd tæv bank kvæl skade skader brænd",
        rf"{_I_DA}{gap(5)}(?:slå|slår|dræbe|dræber|stikke|stikker|skyde|skyder|tæve|tæver|banke|banker|kvæle|kvæler|skade|skader|brænde){gap(1)}{_YOU_DA}",
    ),
    _rule(
        THREAT,
        "threat.da.know_where_you_live",
        "bor",
        r"(?:ved|finder ud af) (?:hvor|hvad) (?:du|i) bor",
    ),
    _rule(
        THREAT,
        "threat.da.you_are_dead",
        "død få",
        r"(?:du|i) (?:er|bliver) (?:død|døde|en død mand)|du (?:skal|kommer til at) få (?:tæsk|bank|klø)",
    ),
    _rule(
        THREAT,
        "threat.sv.will_hurt_you",
        "död slå skad hugg knivhugg skjut spö mörd stryp bränn",
        rf"{_I_SV}{gap(5)}(?:döda|dödar|slå|slår|skada|skadar|knivhugga|hugga|skjuta|skjuter|spöa|mörda|mördar|strypa|bränna){gap(1)}{_YOU_SV}",
    ),
    _rule(
        THREAT,
        "threat.sv.know_where_you_live",
        "bor",
        r"(?:vet|tar reda på) (?:var|vart) (?:du|ni) bor",
    ),
    _rule(
        THREAT,
        "threat.sv.you_are_dead",
        "död få",
        r"(?:du|ni) (?:är|e) (?:död|döda)|du (?:ska|kommer att) få (?:stryk|spö|ångra dig)",
    ),
    _rule(
        THREAT,
        "threat.nordic.threatened_to",
        "truet truer truga trugar truede truer hotade hotar hotat",
        r"(?:truet|truer|truga|trugar|truede|truer|hotade|hotar|hotat) (?:med å|med at|att|med att) (?:drepe|drepa|slå|skade|skada|dræbe|døde|döda|slå ihjäl|slå ihjel|skyte|skyde|skjuta|stikke|knivstikke)",
    ),
    _rule(
        THREAT,
        "threat.weapon.nordic",
        "kniv gevär pistol yxa bøsse",
        r"(?:ta med|tage|tar med|komma med) (?:mig |mej )?(?:en )?(?:kniv|gevär|pistol|yxa|bøsse)",
    ),
    _rule(
        THREAT,
        "threat.en.will_hurt_you",
        "kill hurt stab shoot beat smash batter strangle murder burn knife glass",
        rf"{_I_EN}{gap(5)}(?:kill|hurt|stab|shoot|beat|smash|batter|strangle|murder|burn|knife|glass){gap(1)}{_YOU_EN}",
    ),
    _rule(
        THREAT,
        "threat.en.know_where_you_live",
        "where",
        r"(?:know|find out|found out|knows) where (?:you|u|ya) (?:live|live at)",
    ),
    _rule(
        THREAT,
        "threat.en.you_are_dead",
        "dead watch regret pay threat",
        r"threat(?:ened|ens|ening)? to (?:kill|hurt|stab|shoot|beat|strangle|burn) (?:me|us|her|him|the kids|my \w+)|(?:you're|youre|you are|ur|u r) (?:dead|a dead (?:man|woman))|watch your back|you(?:'ll| will) (?:regret|pay for) (?:this|it)",
    ),
    _rule(
        THREAT,
        "threat.en.arson_weapon",
        "burn torch blow knife gun machete blade hospital ground",
        r"(?:burn|torch|blow up)(?:\s+\S+){0,2}\s+(?:house|office|building|place)|(?:bring|coming with|got) (?:a |my )?(?:knife|gun|machete|blade|shotgun)|put (?:you|u) in (?:hospital|the ground)",
    ),
    # --- SELF_HARM
    _rule(
        SELF_HARM,
        "self_harm.nb.want_to_die",
        "dø forsvinne",
        rf"{_I_NB}{gap(4)}(?:dø|døy|døyr|dør snart|forsvinne for godt)",
    ),
    _rule(
        SELF_HARM,
        "self_harm.nb.wish_to_die",
        "lyst ønsker ønskjer vil",
        r"(?:lyst til å|lyst å|ønsker å|ønskjer å|vil bare|vil berre) (?:dø|døy)",
    ),
    _rule(
        SELF_HARM,
        "self_harm.nb.kill_myself",
        "liv drep skad kutt skjær skjer heng skyt",
        rf"(?:ta|tar|tek|tok) (?:livet (?:av {_ME}|mitt|av seg|sitt|av seg sjølv|av seg selv)|mitt eget liv)|(?:drepe|drepa|skade|skada|kutte|kutta|skjære|skjera|henge|skyte) (?:{_ME} (?:selv|sjøl|sjølv)|seg (?:selv|sjøl|sjølv))|(?:kutter|kuttar|skjærer|skader|skadar) (?:{_ME}|seg)(?: selv| sjølv| sjøl)?(?: igjen| att)?",
    ),
    _rule(
        SELF_HARM,
        "self_harm.nb.suicide",
        "selvmord sjølvmord suicidal avskjedsbrev",
        r"selvmord\w*|sjølvmord\w*|suicidal\w*|avskjedsbrev",
    ),
    _rule(
        SELF_HARM,
        "self_harm.nb.cannot_go_on",
        "orker orkar klarer klarar greier vil vits grunn ønske",
        r"(?:orker|orkar|klarer|klarar|greier) (?:ikke|ikkje|ik) (?:mer|meir|mere|leve|å leve|å leva|livet)|vil (?:ikke|ikkje) (?:leve|leva|være her|vere her) (?:lenger|lengre|meir|mer)|(?:ingen|ikke noen|ikkje nokon) (?:vits|grunn) (?:i |til )?å leve|skulle ønske (?:jeg|eg) var død",
        0.9,
        True,
    ),
    _rule(
        SELF_HARM,
        "self_harm.nb.overdose",
        "pill tablett sobril paracet pinex overdose",
        r"(?:har )?(?:tatt|teke|tok|svelget|svelgde)(?:\s+\S+){0,2}\s+(?:piller|pillar|tabletter|tablettar|sobril|paracet|pinex)|overdose",
    ),
    _rule(
        SELF_HARM,
        "self_harm.da.want_to_die",
        "dø liv skære skader selvmord ihjel forsvinde",
        rf"{_I_DA}{gap(4)}(?:dø|tage mit eget liv|slå mig selv ihjel|forsvinde for altid)|(?:tage|tager|tog) (?:mit eget liv|sit eget liv|livet af (?:mig|sig))|skære i (?:mig|sig) selv|skader (?:mig|sig) selv|selvmord\w*",
    ),
    _rule(
        SELF_HARM,
        "self_harm.da.cannot_go_on",
        "kan vil grund",
        r"kan (?:ikke|ik) (?:mere|klare mere|leve mere)|vil (?:ikke|ik) leve (?:mere|længere)|ingen grund til at leve",
        0.9,
        True,
    ),
    _rule(
        SELF_HARM,
        "self_harm.da.overdose",
        "pill tablett panodil",
        r"(?:har )?(?:taget|slugt|tog)(?:\s+\S+){0,2}\s+(?:piller|tabletter|panodil)",
    ),
    _rule(
        SELF_HARM,
        "self_harm.sv.want_to_die",
        "dö liv skär skad självmord",
        rf"{_I_SV}{gap(4)}(?:dö|ta mitt liv|ta livet av mig)|(?:ta|tar|tog) (?:livet av (?:mig|mej|sig)|mitt liv|sitt liv)|(?:skär|skada|skadar|skära) (?:mig|mej|sig) (?:själv)?|självmord\w*",
    ),
    _rule(
        SELF_HARM,
        "self_harm.sv.cannot_go_on",
        "orkar vill mening",
        r"orkar (?:inte|int) (?:leva|mer|längre)|vill (?:inte|int) leva (?:längre|mer)|ingen mening (?:med att|att) leva",
        0.9,
        True,
    ),
    _rule(
        SELF_HARM,
        "self_harm.sv.overdose",
        "tablett piller alvedon",
        r"(?:har )?(?:tagit|svalt|tog)(?:\s+\S+){0,2}\s+(?:tabletter|piller|alvedon)",
    ),
    _rule(
        SELF_HARM,
        "self_harm.en.want_to_die",
        "die kill end life suicid myself herself himself harm better",
        r"(?:want|wanna|going|gonna|wish|ready) (?:to )?die|kill (?:myself|herself|himself|themselves|meself)|end (?:it all|my life|things)|take (?:my|her|his) (?:own )?life|suicid\w*|(?:cut|cutting|hurt|hurting|harm|harming) (?:myself|herself|himself)|self[- ]harm\w*|better off (?:dead|without me)",
    ),
    _rule(
        SELF_HARM,
        "self_harm.en.cannot_go_on",
        "want reason point go anymore",
        r"(?:don't|dont|do not) want to (?:live|be here|be alive) (?:anymore|any more)|no (?:reason|point) (?:to|in) (?:live|living|going on)|can'?t (?:go on|do this anymore|take it anymore)",
        0.9,
        True,
    ),
    _rule(
        SELF_HARM,
        "self_harm.en.overdose",
        "pills tablets paracetamol overdos",
        r"(?:took|taken|swallowed|take)(?:\s+\S+){0,3}\s+(?:pills|tablets|paracetamol|sleeping pills)|overdos\w*",
    ),
    # --- CHILD_AT_RISK: a child hit, abused, neglected, alone or unsafe now
    _rule(
        CHILD,
        "child.nb.hit",
        "slå slo spark dunk bank kvel kvæl lugg rist klyp kløyp brant brenn dytt kast sleit slengte",
        rf"{_HIT_NB}{gap(1)}{_KIDS_NB}",
    ),
    _rule(
        CHILD,
        "child.nb.alone_unsafe",
        "alene aleine åleine alleine aline låst stengt tør redd trygg trygt utrygt",
        r"(?:alene|aleine|åleine|alle?ine) (?:hjemme|heime|igjen|i leiligheten)|(?:låst|stengt) (?:inne|ute)|redd for (?:pappa|mamma|far|mor|stefar|stemor|han|ho|henne|kjæresten)|utrygt (?:hjemme|heime)",
    ),
    _rule(
        CHILD,
        "child.nb.neglect",
        "ik kast spark full dritings rus høy stein sovnet voksne",
        r"(?:kastet|kasta|sparket) (?:meg|oss|henne|ham) ut|(?:full|fulle|dritings|rusa|ruset|høy|stein) (?:og|å) (?:slår|sint|kjefter|bråker|sover)|sovnet full|ingen voksne (?:hjemme|heime)",
        0.85,
    ),
    _rule(
        CHILD,
        "child.nb.abuse",
        "overgrep voldt valdt misbruk tok tafs beføl rørte blåmerk",
        r"overgrep\w*|voldtatt|voldtok|valdteken|misbrukt|misbruker (?:meg|henne|ham)|tok på (?:meg|henne|ham) (?:der|mellom)|(?:tafser|tafsa|beføler|rørte)(?: ved)? (?:meg|henne|ham)|blåmerker|blåmerke|blåmerka",
    ),
    _rule(
        CHILD,
        "child.da.hit",
        "slå slog spark bank tæsk kvæl kvalt ryst nev skub brændt",
        rf"{_HIT_DA}{gap(1)}{_KIDS_DA}",
    ),
    _rule(
        CHILD,
        "child.da.alone_unsafe",
        "alene låst tør bange tryg fået smidt fuld overgreb voldt rørte mærker",
        r"alene (?:hjemme|tilbage)|låst (?:inde|ude)|bange for (?:far|mor|min far|min mor|stedfar|ham|hende)|smidt (?:mig|os) ud|fuld og (?:slår|sur|vred)|overgreb\w*|voldtaget|voldtog|rørte ved (?:mig|hende)|blå mærker",
    ),
    _rule(
        CHILD,
        "child.sv.hit",
        "slå slog spark bank stryp ströp skak nyp knuff bränd misshand",
        rf"{_HIT_SV}{gap(1)}{_KIDS_SV}",
    ),
    _rule(
        CHILD,
        "child.sv.alone_unsafe",
        "ensam låst inlåst utelåst vågar rädd trygg säkert fått slängt full övergrepp våldt rörde blåmärk",
        r"ensam (?:hemma|kvar)|(?:inlåst|utelåst)|rädd för (?:pappa|mamma|styvpappa|honom|henne)|slängt ut (?:mig|oss)|full och (?:slår|arg|bråkar)|övergrepp\w*|våldt(?:og|agen|agit)|rörde (?:vid )?(?:mig|henne)|blåmärken",
    ),
    _rule(
        CHILD,
        "child.en.hit",
        "hit beat punch kick slap chok strangl burn shook shake smack whack thr",
        rf"{_HIT_EN}{gap(1)}{_KIDS_EN}",
    ),
    _rule(
        CHILD,
        "child.en.alone_unsafe",
        "alone locked home scared afraid terrified safe had eaten food kicked drunk abus molest raped touched bruises",
        r"(?:home alone|alone at home|left (?:alone|on (?:her|his|their) own))|locked (?:in|out)|(?:scared|afraid|too scared) (?:to go|of going) home|(?:scared|afraid|terrified) of (?:my )?(?:dad|mum|mom|stepdad|him|her)|no food in the house|kicked (?:me|us|her|him) out|drunk and (?:hitting|violent|angry|shouting|passed out)|abus(?:e|ed|ing|es) (?:me|her|him|us|the kids)|sexual(?:ly)? abuse\w*|molest\w*|raped|touched (?:me|her|him) (?:down there|there|inappropriately)|bruises",
    ),
    # Phrases that say "not safe", "dare not go home", "not fed": the negation is the point.
    _rule(
        CHILD,
        "child.nb.not_safe_or_fed",
        "tør tørr ikke ikkje ik",
        r"(?:tør|tørr) (?:ikke|ikkje|ik) (?:gå|dra|reise|komme|kome) (?:hjem|heim)|(?:ikke|ikkje) (?:trygt|trygg) (?:hjemme|heime|her)|(?:ikke|ikkje|ik) (?:fått|fått noe|fenge|spist|ete|ett) (?:mat|middag|noe å spise|noko mat)?\s?(?:på|i) (?:\w+ )?(?:dager|dagar|døgn)",
        0.9,
        True,
    ),
    _rule(
        CHILD,
        "child.da.not_safe_or_fed",
        "tør ikke ik",
        r"tør (?:ikke|ik) (?:gå|tage|komme) hjem|(?:ikke|ik) tryg(?:t)? (?:hjemme|her)|(?:ikke|ik) fået (?:mad|noget at spise)",
        0.9,
        True,
    ),
    _rule(
        CHILD,
        "child.sv.not_safe_or_fed",
        "vågar inte int",
        r"vågar (?:inte|int) (?:gå|åka|komma) hem|(?:inte|int) (?:trygg|tryggt|säkert) (?:hemma|här)|(?:inte|int) fått (?:mat|nåt att äta|något att äta)",
        0.9,
        True,
    ),
    _rule(
        CHILD,
        "child.en.not_safe_or_fed",
        "not isn isnt hasn hasnt haven havent",
        r"(?:not|isn't|isnt) safe (?:at home|here)|(?:hasn't|hasnt|haven't|havent|not) (?:had|eaten)(?: anything| any food| food)?(?: for| in) (?:\w+ )?days",
        0.9,
        True,
    ),
    # --- HARASSMENT: abuse of staff; exposing a worker's name, home or family online
    _rule(
        HARASS,
        "harassment.nb.expose",
        "legg post publiser del spre heng vet veit følg hvor kor",
        r"(?:legge|legger|legg|leggje|leggjer|poste|poster|publisere|dele|deler|spre|spreie)(?: ut)?(?:\s+\S+){0,3}\s+(?:navnet|namnet|adressen|adressa|bilde|bilder|bildet|biletet|bileta|nummeret|telefonnummeret)(?:\s+\S+){0,2}?\s+(?:ditt|din|di|dine|på deg|til deg|av deg)|(?:legge|legger|legg|leggje|poste|publisere|dele|deler|spre)(?: ut)?\s+(?:ditt|din|dine)\s+(?:navn|namn|adresse|bilder|bilete|nummer|telefonnummer)|heng(?:e|er|je|jer|te)? (?:deg|dere|dykk) ut|(?:vet|veit) (?:hvor|kor) (?:barna|ungene|ungane) (?:dine|dine går|dykkar)|(?:følger|følgje) (?:etter )?deg hjem|(?:hvor|kor) (?:du|dere|de) b[uo]r (?:og|å) (?:legge|poste|dele|spre)",
    ),
    _rule(
        HARASS,
        "harassment.nb.abuse",
        "jævl fordømt dumme helvet hore kjerring fitte idiot dritt barnestjeler faen",
        r"(?:din|di|dere|dokker)(?: \S+)? (?:jævla|jævlige|fordømte|dumme|helvetes) (?:\w+)|(?:jævla|helvetes|fordømte) (?:hore|kjerring|fitte|idiot|idioter|barnestjeler\w*|barnevern\w*|saksbehandler\w*)|(?:din|di) (?:hore|kjerring|fitte|idiot|dritt\w*)|barnestjeler\w*|faen ta (?:deg|dere|dykk)|dra til helvete",
    ),
    _rule(
        HARASS,
        "harassment.da.expose",
        "lægge poste dele hænge ved luder kælling idiot lort so fuck børnety",
        r"(?:lægge|lægger|poste|dele|deler)(?: ud)?(?:\s+\S+){0,3}\s+(?:navn|adresse|billeder|billede|nummer)(?:\s+\S+){0,2}?\s+(?:dit|din|dine|af dig)|(?:lægge|lægger|poste|dele|deler)(?: ud)?\s+(?:dit|din|dine)\s+(?:navn|adresse|billeder|billede|nummer)|hænge dig ud|ved hvor (?:dine børn|dine unger) (?:går|bor)|(?:din|dit|dumme) (?:luder|kælling|idiot|lort\w*|so)|fuck (?:dig|jer)|børnetyve?",
    ),
    _rule(
        HARASS,
        "harassment.sv.expose",
        "lägg posta dela sprida hänga vet hora fitta kärring idiot jävel as fan barntjuv",
        r"(?:lägga|lägger|posta|dela|sprida)(?: ut)?(?:\s+\S+){0,3}\s+(?:namn|adress|bilder|bild|nummer)(?:\s+\S+){0,2}?\s+(?:ditt|din|dina|på dig)|(?:lägga|lägger|posta|dela|sprida)(?: ut)?\s+(?:ditt|din|dina)\s+(?:namn|adress|bilder|bild|nummer)|hänga ut dig|vet var (?:dina barn|dina ungar) (?:går|bor)|(?:din|ditt|jävla) (?:hora|fitta|kärring|idiot|jävel|as)|fan ta (?:dig|er)|barntjuv\w*",
    ),
    _rule(
        HARASS,
        "harassment.en.expose",
        "post put shar publish spread expose dox shame know outside follow",
        r"(?:post|posting|put|share|sharing|publish|spread)(?:\s+\S+){0,3}\s+(?:name|address|photo|photos|pictures|picture|number)(?:\s+\S+){0,3}?\s+(?:online|on facebook|on fb|everywhere|on tiktok|on twitter|on x)|(?:expose|dox|doxx|name and shame) (?:you|u)|know where your (?:kids|children|daughter|son|family) (?:go|goes|live|lives)|outside your (?:house|home)|follow(?:ed)? (?:you|u) home",
    ),
    _rule(
        HARASS,
        "harassment.en.abuse",
        "bitch cunt whore slag slut twat prick wanker scumbag shit fuck cow idiot snatcher kidnapper",
        r"(?:you|u|ur|you're|youre) (?:fucking |stupid |useless )?(?:bitch|cunt|whore|slag|slut|twat|prick|wanker|scumbag|piece of shit)|fuck (?:you|u|off)|(?:stupid|fucking|useless) (?:bitch|cunt|cow|idiot)|child snatchers?|kidnappers",
        0.85,
    ),
)
