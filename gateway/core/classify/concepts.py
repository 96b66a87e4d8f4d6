"""Concept lexicons: the words that carry a risk, grouped by what they mean.

Each concept lists words per language (nb, nn, da, sv, en; Finland-Swedish is Swedish).
An entry matches the folded word exactly, and its Snowball stem as a word beginning when
the stem has four letters or more ("drepe" → "drep…" finds "dreper", "drepte"). A ``*``
makes the entry itself a word beginning; ``=`` keeps it exact. Several words are a phrase
that must occur in that order. The frames in ``frames.py`` combine these concepts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from .normalise import Token, fold, stem

# fmt: off
LEXICON: dict[str, dict[str, str]] = {
    "WEAPON": {
        "nb": "kniv kniven kniver øks øksa gevær hagle haglen haglgevær pistol pistolen våpen våpnet "
              "rifle machete balltre slagvåpen jernstang skytevåpen revolver børse kølle macheten",
        "nn": "kniv øks øksa gevær hagle pistol våpen børse",
        "da": "kniv kniven økse øksen gevær geværet haglgevær pistol pistolen våben boldtræ jernstang",
        "sv": "kniv kniven yxa yxan gevär geväret hagelgevär bössa pistol pistolen vapen vapnet "
              "basebollträ järnrör machete",
        "en": "knife knives axe ax hatchet gun guns shotgun rifle pistol firearm weapon machete "
              "blade crowbar baseball bat hammer handgun",
    },
    "FIRE": {
        "nb": "bensin brenne brann fyr tenne tenner molotov",
        "nn": "bensin brenne brann fyr",
        "da": "benzin brænde ild brand tænde",
        "sv": "bensin bränna brand eld tända",
        "en": "petrol gasoline burn torch arson fire",
    },
    "KILL": {
        "nb": "drepe dreper drepte drept drep =ihjel =ihjæl =hjel myrde myrder knivstikke skyte skyter "
              "=skutt =skjøt =skaut "
              "kverke kvele =livet_av",
        "nn": "drepa drep drap myrda skyta kvela",
        "da": "dræbe dræber slå_ihjel myrde skyde knivstikke kvæle",
        "sv": "döda dödar mörda mördar ihjäl skjuta skjuter knivhugga strypa",
        "en": "=kill =kills =killing =killed =killer murder shoot shot stab stabbed strangle slit",
    },
    "HURT": {
        "nb": "skade skader skadet slå slår banke banker juling bank ta_igjen =svi lemleste",
        "nn": "skada slå banka juling",
        "da": "skade slå tæve tæsk banke",
        "sv": "skada slå spöa stryk misshandla",
        "en": "hurt harm beat beating batter",
    },
    "MENACE": {
        "nb": "knuse knuser hevne hevn angre angrer advart advarsel =vent =pass_på fortjener",
        "nn": "knuse hemn angre",
        "da": "smadre hævn hævne fortryde advaret fortjener",
        "sv": "krossa hämnas hämnd ångra varnad förtjänar",
        "en": "smash revenge payback regret warned deserve",
    },
    "HIT": {
        "nb": "slo slått slår slag sparket sparker sparka dytter dyttet dytta kastet kasta lugget lugger "
              "rister ristet klyper kløp kvelertak kvelte kvalt banket banka dasket dask ørefik "
              "beltet belte juling stryk",
        "nn": "slo sparka dytta lugga rista banka",
        "da": "slog slået sparkede sparker skubbede skubber tæsket tæver rystede ruskede lussing "
              "bankede banker "
              "smæk kvalte bælte",
        "sv": "slog slagit sparkade sparkar knuffade knuffar ruskade skakade nöp örfil stryk "
              "misshandlar misshandlade ströp bältet",
        "en": "hit hits hitting punched punches punch kicked kicks slapped slaps slap choked "
              "chokes shook shaking smacked smacks whacked belted beaten beats hurts hurting "
              "strangled threw grabbed pinned",
    },
    "INJURY": {
        "nb": "kutt risper riper arr arrene blåmerke blåmerker blåmerka blod blør blødde brukket brudd merker sår kuler hovent "
              "brannsår skrubbsår hovne",
        "nn": "kutt risper arr blåmerke blod blødde sår",
        "da": "ridser ridset snitsår blå_mærker blåt_mærke blod bløder blødte brækket mærker sår hævet",
        "sv": "rispor ärr skärsår blåmärke blåmärken blod blöder blödde brutit bruten märken sår svullen",
        "en": "scratches scars cuts bruise bruises bruised blood bleeding bled broken marks welts burns swollen "
              "black_eye",
    },
    "METHOD": {
        "nb": "piller tabletter sovepiller sovetabletter sobril paracet paracetamol pinex ibux "
              "overdose bro brua broa brukanten hoppe hopper tau henge hengte strikk barberblad "
              "kutte kutter kuttet skjære skjærer toget skinnene taket stupet drukne glass_piller "
              "rekkverket rekkverk kodein tramadol",
        "nn": "pillar tablettar brua hoppe tau henge kutte skjere toget",
        "da": "piller tabletter sovepiller panodil overdosis broen hoppe reb hænge skære barberblad "
              "toget skinnerne taget drukne kodein tramadol",
        "sv": "piller tabletter sömntabletter alvedon överdos bron hoppa rep hänga skära rakblad "
              "tåget spåret taket drunkna kodein tramadol",
        "en": "eat_my_gun gun_in_my_mouth pills tablets sleeping_pills paracetamol tylenol overdose od bridge ledge jump "
              "jumping rope hang hanging noose cut cutting razor blades train tracks roof drown "
              "bleach codeine tramadol",
    },
    "DEATH": {
        "nb": "ikke_være_her heller_dø ikke_lenger_være_her dø dør =døde =døy død døden selvmord sjølvmord livet =ihjel forsvinne avslutte slutt "
              "ta_livet leve begravelse",
        "nn": "ikkje_vere_her heller_døy døy døyr =døydde daud sjølvmord livet leva forsvinne",
        "da": "ikke_være_her hellere_dø dø dør =døde død døden selvmord livet forsvinde leve",
        "sv": "inte_finnas_kvar hellre_dö hellre_dör dö dör =dött död döden självmord livet försvinna leva",
        "en": "unalive unalived unaliving won't_be_around wont_be_around not_be_around rather_die rather_be_dead die dies died dying dead death suicide suicidal end_it end_my_life live living alive "
              "disappear kill_myself",
    },
    # Not wanting to live: the negation is the risk itself.
    "NOT_LIVE": {
        "nb": "vil_ikke_leve ikke_vil_leve orker_ikke_leve ikke_lyst_til_å_leve",
        "nn": "vil_ikkje_leve ikkje_vil_leve vil_ikkje_leva ikkje_vil_leva orkar_ikkje_leve",
        "da": "vil_ikke_leve ikke_vil_leve orker_ikke_at_leve ikke_lyst_til_at_leve",
        "sv": "vill_inte_leva inte_vill_leva orkar_inte_leva",
        "en": "don't_want_to_live dont_want_to_live do_not_want_to_live don't_wanna_live "
              "dont_wanna_live",
    },
    "SELF": {
        "nb": "meg_selv meg_sjøl seg_selv meg_sjølv meg seg",
        "nn": "meg_sjølv seg_sjølv meg",
        "da": "mig_selv sig_selv mig",
        "sv": "mig_själv sig_själv mig mej",
        "en": "myself herself himself themselves me",
    },
    "DESPAIR": {
        "nb": "orker håpløst meningsløst vits =tom =ensom slutten farvel "
              "unnskyld takk_for_alt tilgi glem_meg byrde =sorry =sry ferdig_med_å_kjempe",
        "nn": "orkar vits tilgje farvel ferdig_med_å_kjempe",
        "da": "orker håbløst meningsløst farvel undskyld tilgiv byrde færdig_med_at_kæmpe",
        "sv": "orkar hopplöst meningslöst ingen_mening förlåt farväl hejdå börda "
              "klar_med_att_kämpa orkar_inte_kämpa",
        "en": "hopeless pointless anymore goodbye farewell forgive burden sorry =sry "
              "cant_go_on done_fighting",
    },
    "SEXUAL": {
        "nb": "tisselek tisseleken doktorlek hemmelig_lek hemmelige_leken overgrep voldtekt voldta voldtatt voldtok tafse tafset beføle befølt tok_på røre rørte "
              "rører =ta_på =tar_på tissen tiss =sex pule nakenbilder nakenbilde naken private_deler "
              "seksuelt seksuell kose_med_tissen slikke onanere porno",
        "nn": "tisseleik hemmeleg_leik overgrep valdtekt valdta tafsa naken",
        "da": "tisseleg tisselegen doktorleg hemmelig_leg overgreb voldtægt voldtage befamle befamlede rørte tissemand tissekone nøgne nøgenbilleder "
              "seksuelt sex porno",
        "sv": "snopplek doktorlek hemlig_lek hemliga_leken övergrepp våldtäkt våldta våldtog tafsa tafsade rörde snoppen snippan naken nakenbilder "
              "sexuellt sex porr",
        "en": "touching_game secret_game tickle_game rape raped molest molested abuse abused abusing touch touches touched touching private_parts "
              "privates naked nude nudes porn sexual sexually grope groped groom groomed",
    },
    "CHILD": {
        "nb": "barn barna barnet baby babyen spedbarn gutten jenta sønnen datteren dattera ungen ungene "
              "ungane minsten lillebror lillesøster småbarn åring gutt jente pjokken tvillingene",
        "nn": "born borna ungen ungane sonen dottera guten jenta veslebror",
        "da": "barn barnet børn børnene baby babyen spædbarn drengen pigen sønnen datteren ungerne "
              "lillebror lillesøster årig",
        "sv": "barn barnet barnen bebis bebisen spädbarn pojken flickan sonen dottern ungarna lillebror "
              "lillasyster åring",
        "en": "child children kid kids baby babies infant toddler newborn son daughter boy girl "
              "niece nephew year_old yr_old",
    },
    "NEGLECT": {
        "nb": "sulten sultne =mat matet mating spist bleie bleien skitten skitne kaldt alene aleine "
              "alleine ingen_voksne forlatt uten_tilsyn =ikke_hentet",
        "nn": "svolten mat åleine aleine skitne",
        "da": "sulten mad fodret spist ble bleen beskidt koldt alene forladt ingen_voksne "
              "uden_opsyn",
        "sv": "hungrig mat matat ätit blöja blöjan smutsig kallt ensam ensamma övergiven "
              "inga_vuxna utan_tillsyn",
        "en": "hungry starving food fed feed eaten nappy diaper dirty cold alone unsupervised "
              "abandoned neglect neglected no_adults no_adult",
    },
    "INTOX": {
        "nb": "full fulle dritings drita rusa ruset ruspåvirket påvirket beruset høy stein heroin "
              "amfetamin kokain piller hasj sprøyte sprøyter drikker drakk promille",
        "nn": "full rusa påverka drikk",
        "da": "fuld fulde skæv påvirket beruset stenet heroin amfetamin kokain hash drikker drak",
        "sv": "full packad berusad hög drogad påverkad heroin amfetamin kokain knark super söp",
        "en": "drunk wasted intoxicated high stoned off_her_face off_his_face passed_out heroin "
              "meth cocaine crack drinking",
    },
    "NOW": {
        "nb": "nå =no snart straks kveld natt morgen imorgen imorra imorn idag ikveld inatt fredag "
              "helgen =akkurat",
        "nn": "no snart kveld natt morgon imorgon",
        "da": "nu snart straks aften nat morgen imorgen idag iaften",
        "sv": "nu snart strax kväll natt morgon imorgon idag ikväll inatt",
        "en": "now tonight tomorrow today soon weekend morning",
    },
    "INTENT": {
        "nb": "skal =ska kommer_til_å har_tenkt planlegger =vil =sverger",
        "nn": "skal kjem_til_å tenkjer =vil",
        "da": "skal =vil kommer_til_at har_tænkt sværger",
        "sv": "ska =skall kommer_att tänker =vill svär",
        "en": "will gonna =ill =i'll going_to =im_going plan swear",
    },
    "YOU": {
        "nb": "=deg =dere =dykk =dokker =dæ =du",
        "nn": "=deg =dykk =du",
        "da": "=dig =jer =du",
        "sv": "=dig =du =dej",
        "en": "=you =u =ya =your =ur",
    },
    "STAFF": {
        "nb": "saksbehandler saksbehandleren barnevern barnevernet kontoret kontor kommunen "
              "barnevernstjenesten bvt =nav",
        "nn": "sakshandsamar barnevernet kontoret",
        "da": "sagsbehandler sagsbehandleren kommunen kontoret forvaltningen",
        "sv": "handläggare handläggaren socialsekreterare socialtjänsten socialen =soc kontoret",
        "en": "caseworker social_worker office council cps social_services",
    },
    "LIVES": {
        "nb": "hvor_du_bor kor_du_bur hvor_dere_bor adressen_din",
        "nn": "kor_du_bur",
        "da": "hvor_du_bor",
        "sv": "var_du_bor vart_du_bor",
        "en": "where_you_live where_u_live your_address",
    },
    "THREATEN": {
        "nb": "truer truet true trussel trusler",
        "nn": "trugar truga trugsmål",
        "da": "truer truede trussel",
        "sv": "hotar hotade hot hotat",
        "en": "threaten threatened threatening threat threats",
    },
    "INTAKE": {
        "nb": "tatt tok svelget svelgde svelga spist =inntatt",
        "nn": "teke tok svelgde",
        "da": "taget tog slugt slugte spist",
        "sv": "tagit tog svalt svalde ätit",
        "en": "took taken swallowed =ate downed",
    },
    "POSITION": {
        "nb": "står sitter ligger =er_på oppe_på",
        "nn": "står sit sitt ligg",
        "da": "står sidder ligger oppe_på",
        "sv": "står sitter ligger uppe_på",
        "en": "standing sitting =on_the =at_the =i'm_on =im_on =i'm_at =im_at",
    },
    "FAREWELL": {
        "nb": "takk_for_alt unnskyld_for_alt tilgi_meg =elsker =elska brev lapp ha_det_bra farvel "
              "si_til beklager_alt",
        "nn": "takk_for_alt tilgje_meg =elskar brev lapp farvel sei_til",
        "da": "tak_for_alt undskyld_for_alt tilgiv_mig =elsker brev seddel farvel sig_til",
        "sv": "tack_för_allt förlåt_för_allt förlåt_mig =älskar =älskade brev lapp hejdå farväl säg_till",
        "en": "thank_you_for_everything thanks_for_everything sorry_for_everything =loved =love_you "
              "letter letters note goodbye farewell tell_my",
    },
    "ALARM": {
        "nb": "skriker skreik skrik hyler =hjelp =politiet =112 redde gråter",
        "nn": "skrik skrik hjelp politiet",
        "da": "skriger skreg skrig hyler =hjælp =politiet =112 græder",
        "sv": "skriker skrek skrik =hjälp =polisen =112 gråter",
        "en": "screaming screams screamed shouting yelling =help =police =999 =911 crying",
    },
    "HEIGHT": {
        "nb": "bru bro =broen taket brua broa brukanten rekkverket stupet =kanten balkongen vinduet perrongen skinnene",
        "nn": "taket brua kanten",
        "da": "bro broen taget kanten altanen perronen skinnerne fjorden havnen",
        "sv": "bro bron taket kanten balkongen perrongen spåret",
        "en": "roof bridge ledge edge balcony platform tracks cliff lake river",
    },
    "FAMILY": {
        "nb": "mamma mor moren mora pappa far faren stefar stefaren stemor samboer samboeren "
              "kjæresten typen onkel",
        "nn": "mor mora far faren stefar",
        "da": "mor moren far faren stedfar stedfaren kæresten",
        "sv": "mamma mamman pappa pappan styvpappa styvpappan =killen sambo",
        "en": "mum mom mommy mother dad daddy father stepdad stepfather boyfriend uncle",
    },
    # Exposing a worker: posting a name, face, address or family online.
    "EXPOSE": {
        "nb": "legge_ut =legger_ut =la_ut henge_ut =henger_ut =hengt_ut publisere publiserer =publisert "
              "spre =sprer =spredt dele_bilder =delt facebook instagram tiktok snapchat nettsted* "
              "gapestokk* avsløre avslører",
        "nn": "leggje_ut =legg_ut henge_ut publisere spreie =spreidd nettstad* gapestokk*",
        "da": "lægge_ud =lægger_ud =lagt_ud hænge_ud =hænger_ud udstille udstiller offentliggøre "
              "dele_billeder =delt facebook instagram tiktok hjemmeside*",
        "sv": "lägga_ut =lägger_ut =lagt_ut hänga_ut =hänger_ut publicera publicerar sprida =sprider "
              "dela_bilder facebook instagram tiktok flashback hemsida*",
        "en": "post_your =posted =posting expose exposing publish =published share_your doxx* "
              "facebook instagram tiktok website",
    },
    # Watching and following a worker or their family.
    "STALK": {
        "nb": "følger_etter =fulgte_etter =såg_deg =så_deg =så_dere parkerer =parkert huset_ditt "
              "bilen_din mannen_din kona_di barna_dine ungene_dine dattera_di datteren_din sønnen_din "
              "utenfor_huset utenfor_kontoret hver_dag hjem_til_deg",
        "nn": "følgjer_etter =såg_deg huset_ditt bilen_din borna_dine",
        "da": "følger_efter =så_dig =så_jer parkerer huset_dit bilen_din din_mand din_kone dine_børn "
              "din_datter din_søn uden_for_dit_hus hver_dag",
        "sv": "följer_efter =såg_dig =sett_dig parkerar =parkerad ditt_hus din_bil din_man din_fru "
              "dina_barn din_dotter din_son utanför_ditt_hus varje_dag",
        "en": "follow_you =followed_you =saw_you =seen_you park =parked your_house your_car "
              "your_husband your_wife your_kids your_daughter your_son your_neighbors your_neighbours "
              "outside_your every_day every_morning",
    },
    # Abuse aimed at a worker.
    "INSULT": {
        "nb": "=kjerring =kjerringa =fitte =idiot =idiotar =idioter =jævla =jævel =faen =helvete "
              "=satan =hurpe =møkk =dritt =drittsekk =svin =barnerøver* =barnetyv* =løgner* "
              "=inkompetent =udugelig",
        "nn": "=kjerring =idiot =jævla =drittsekk",
        "da": "=kælling =kaelling =luder =fisse =idiot =idioter =fucking =fuck =lort =lorte =svin "
              "=børnerøver* =løgner* =inkompetent",
        "sv": "=kärring =fitta =idiot =idioter =jävla =jävel =helvete =subba =slyna =svin "
              "=barnrånare* =lögnare* =inkompetent",
        "en": "=bitch =cunt =whore =slut =idiot =idiots =moron =fucking =fuck =fucker =scum "
              "=liar =liars =kidnapper* =childsnatcher* =incompetent =stupid",
    },
    # A child gone, not come home, not answering.
    "MISSING": {
        "nb": "forsvunnet =forsvant savnet =borte =stukket_av =rømt =rømte vet_ikke_hvor ikke_kommet_hjem "
              "svarer_ikke mobilen_er_av ikke_på_skolen ingen_vet_hvor ikke_kommet_på_skolen "
              "ikke_vært_på_skolen",
        "nn": "forsvunne =forsvann sakna =borte =stukke_av =rømt veit_ikkje_kvar svarar_ikkje "
              "ingen_veit_kvar ikkje_kome_heim ikkje_kome_på_skulen",
        "da": "forsvundet =forsvandt savnet =væk =stukket_af =løbet_hjemmefra ved_ikke_hvor "
              "svarer_ikke ikke_kommet_hjem ingen_ved_hvor ikke_kommet_i_skole",
        "sv": "försvunnen =försvann saknad =borta =rymt =rymde vet_inte_var svarar_inte "
              "inte_kommit_hem ingen_vet_var inte_kommit_till_skolan inte_varit_i_skolan",
        "en": "missing =disappeared =gone ran_away run_away =runaway nobody_knows_where "
              "no_one_knows_where not_answering phone_is_off hasn't_come_home not_come_home "
              "missed_school not_in_school",
    },
    # Held, locked in, not let go.
    "CONFINE": {
        "nb": "låst_inne =låser_inne =stengt_inne slipper_meg_ikke holder_meg_fast tatt_mobilen "
              "tok_mobilen får_ikke_gå lar_meg_ikke_gå",
        "nn": "låst_inne =stengd_inne slepp_meg_ikkje",
        "da": "låst_inde =spærret_inde lukker_mig_ikke_ud holder_mig_fast taget_min_telefon "
              "må_ikke_gå",
        "sv": "inlåst =låst_in =låser_in släpper_inte låter_mig_inte_gå tagit_min_mobil "
              "håller_fast",
        "en": "locked_in =locked_me won't_let_me_leave won't_let_me_go wont_let_me took_my_phone "
              "taken_my_phone holding_me",
    },
    # Veiled threats: no threat word, but a warning ("bare et tips", "find out what happens").
    "VEILED": {
        "nb": "bare_et_tips ikke_lurt pass_deg pass_dere passe_på_seg_selv får_se dere_får_se "
              "tenk_på_det tenk_over_det vi_får_se angre_på ferdig_med_å_være_snill "
              "ikke_lenge_igjen vet_ikke_hva_som_venter smake_sin_egen_medisin",
        "nn": "berre_eit_tips pass_deg passe_på_seg_sjølv få_sjå tenk_på_det ikkje_lenge_igjen",
        "da": "passe_på_sig_selv pas_på i_får_se tænk_over_det bare_et_tip færdig_med_at_være_flink "
              "ikke_længe_igen",
        "sv": "tänk_på_det ni_får_se akta_dig akta_er passa_dig bara_ett_tips inte_länge_till "
              "klart_med_att_vara_snäll",
        "en": "find_out_what_happens better_pray had_better watch_your_back just_saying you'll_see "
              "think_about_it you_never_know done_being_nice somebody_is_getting_hurt "
              "someone_is_getting_hurt won't_be_walking",
    },
    # Having got hold of something, and meeting: they add to a veiled threat.
    "ACQUIRE": {
        "nb": "skaffet_meg skaffa_meg fått_tak_i kjøpt_meg har_fortsatt har_fremdeles",
        "nn": "skaffa_meg fått_tak_i kjøpt_meg har_framleis",
        "da": "skaffet_mig købt_mig fået_fat_i har_stadig har_stadigvæk",
        "sv": "skaffat_mig köpt_mig fått_tag_på har_fortfarande har_kvar",
        "en": "got_myself bought_myself got_hold_of still_have still_got",
    },
    "MEET": {
        "nb": "vi_ses ses_i_morgen sees_i_morgen vi_sees kommer_forbi kommer_innom står_utenfor",
        "nn": "vi_sjåast kjem_innom",
        "da": "vi_ses ses_i_morgen kommer_forbi står_udenfor",
        "sv": "vi_ses ses_i_morgon kommer_förbi står_utanför",
        "en": "see_you see_ya i'll_be_there outside_your parked_outside coming_by",
    },
    "FEAR": {
        "nb": "redd livredd =tør utrygt trygg",
        "nn": "redd livredd",
        "da": "bange tør tryg",
        "sv": "rädd livrädd vågar trygg",
        "en": "scared afraid terrified frightened safe",
    },
}
# fmt: on

Concept = str
# "Not fed", "dare not go home", "not safe", "has not come home", "won't let me go": for
# these the negation is the point.
NEGATION_IS_THE_POINT = frozenset({"NEGLECT", "FEAR", "MISSING", "CONFINE", "NOT_LIVE"})
# Concepts that only add to a risk ("a child", "you", "now") and never carry one alone.
CONTEXT_CONCEPTS = frozenset(
    {
        "CHILD",
        "FAMILY",
        "YOU",
        "NOW",
        "INTENT",
        "STAFF",
        "SELF",
        "POSITION",
        "MENACE",
        "ALARM",
        "ACQUIRE",
        "MEET",
    }
)
# What may follow a stem: the inflection endings of the five languages, folded. A stem
# followed by anything else is another word ("spar" from "spåret" is not "sparkes").
ENDINGS = frozenset(
    """e er et en ene ere est te de t a ar ane ande ade at as s es ed ing ings
    en et ene ens ers ets or ors na t""".split()
) | {""}


@dataclass(frozen=True)
class Entry:
    """One lexicon entry: folded words, whether the last is a word beginning."""

    concept: Concept
    words: tuple[str, ...]
    prefix: bool
    stemmed: bool = False  # a stem: only inflection endings may follow it


def _entries(concept: str, language: str, raw: str) -> Iterator[Entry]:
    for item in raw.split():
        exact = item.startswith("=")
        item = item.lstrip("=")
        star = item.endswith("*")
        words = [w for w in item.rstrip("*").split("_") if w]
        folded = tuple(fold(w) for w in words)
        yield Entry(concept, folded, star)
        if not exact and not star:
            stemmed = fold(stem(words[-1], language))
            if len(stemmed) >= 4 and stemmed != folded[-1]:
                yield Entry(concept, (*folded[:-1], stemmed), True, True)


class ConceptIndex:
    """All lexicon entries, indexed by their first word for a fast pass over a message."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self.exact: dict[str, list[Entry]] = {}
        self.prefix: dict[str, list[Entry]] = {}
        for entry in set(entries):
            table = self.prefix if entry.prefix and len(entry.words) == 1 else self.exact
            table.setdefault(entry.words[0], []).append(entry)
        self.prefix_lengths = sorted({len(k) for k in self.prefix})
        self._cache: dict[str, _Found] = {}

    def _first(self, word: str) -> _Found:
        """Entries whose first word matches ``word``; words repeat, so answers are kept."""
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        found = list(self.exact.get(word, ()))
        for size in self.prefix_lengths:
            if size > len(word):
                break
            for entry in self.prefix.get(word[:size], ()):
                if not entry.stemmed or word[size:] in ENDINGS:
                    found.append(entry)
        if len(self._cache) > 100_000:
            self._cache.clear()
        self._cache[word] = answer = _Found.of(found)
        return answer

    def hits(self, toks: list[Token]) -> list[tuple[Concept, int, int]]:
        """``(concept, first token, token after the last)`` for every entry found."""
        found: list[tuple[Concept, int, int]] = []
        cache, first = self._cache, self._first
        last = len(toks) - 1
        for i, tok in enumerate(toks):
            known = cache.get(tok[0])
            if known is None:
                known = first(tok[0])
            entries = known.entries
            if not entries:
                continue
            if known.seconds is not None and (i == last or not known.may_follow(toks[i + 1][0])):
                # No phrase that begins here can go on with the next word.
                entries = known.single
            seen: set[tuple[str, int]] = set()
            for entry in entries:
                n = len(entry.words)
                if n > 1 and not _rest_matches(entry, toks, i):
                    continue
                key = (entry.concept, n)
                if key not in seen:
                    seen.add(key)
                    found.append((entry.concept, i, i + n))
        return found


@dataclass(frozen=True)
class _Found:
    """The entries one word begins, and what the next word must be for a phrase of them.

    ``seconds`` are the phrases' second words (None: no phrase begins here), and
    ``beginnings`` those that are a word beginning; ``single`` the one-word entries.
    """

    entries: tuple[Entry, ...]
    single: tuple[Entry, ...]
    seconds: frozenset[str] | None
    beginnings: tuple[str, ...]

    @classmethod
    def of(cls, entries: list[Entry]) -> _Found:
        phrases = [e for e in entries if len(e.words) > 1]
        return cls(
            tuple(entries),
            tuple(e for e in entries if len(e.words) == 1),
            frozenset(e.words[1] for e in phrases) if phrases else None,
            tuple({e.words[1] for e in phrases if e.prefix and len(e.words) == 2}),
        )

    def may_follow(self, word: str) -> bool:
        """Whether ``word`` may be the second word of one of the phrases (see
        ``_rest_matches``: it is the second word, or begins with it when that is last)."""
        return (self.seconds is not None and word in self.seconds) or any(
            map(word.startswith, self.beginnings)
        )


def _rest_matches(entry: Entry, toks: list[Token], i: int) -> bool:
    if i + len(entry.words) > len(toks):
        return False
    last = len(entry.words) - 1
    for k, word in enumerate(entry.words[1:], start=1):
        have = toks[i + k].folded
        if have == word:
            continue
        if not (k == last and entry.prefix and have.startswith(word)):
            return False
        if entry.stemmed and have[len(word) :] not in ENDINGS:
            return False
    return True


def build_index() -> ConceptIndex:
    """The index over every concept and language."""
    return ConceptIndex(
        entry
        for concept, by_language in LEXICON.items()
        for language, raw in by_language.items()
        for entry in _entries(concept, language, raw)
    )


INDEX = build_index()
