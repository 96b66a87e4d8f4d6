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
from .prefilter import Gate
from .word_index import trie_pattern

DIAGNOSES = """
autisme* autism* autistisk* asperger* depresjon* depression* depressiv* deprimert* deprimeret*
deprimerad* depressed angst* ångest* anxiety panikklidelse* panikangst* panic attack* panikkanfall*
bipolar* bipolär* bipolær* schizofreni* schizophreni* psykose* psychosis psychotic psykotisk* spiseforstyrrelse*
spiseforstyrring* spiseforstyrring* anoreksi* anorexi* anorexia bulimi* bulimia ätstörning*
eating disorder* epilepsi* epilepsy epileptisk* diabetes diabetiker* astma* asthma kreft* cancer*
kræft* hepatitt* hepatitis tvangslidelse* tourette* cerebral parese cerebral palsy downs syndrom
down syndrome dysleksi* dyslexi* dyslexia føtalt alkoholsyndrom rusavhengig* rusavhengnad*
rusproblem* alkoholiker* alkoholist* alcoholic* alcoholism addiction addicted avhengighet*
afhængig* missbruk* missbrukare* misbrug* stofmisbrug* narkoman* borderline
personlighetsforstyrrelse* personlighetsforstyrring* personlighedsforstyrrelse* personlighetsstörning*
personality disorder* gravid graviditet* pregnant pregnancy abort* abortion* miscarriage*
spontanabort* hjernerystelse* concussion
fosterskadet* utviklingshemm* udviklingshæm* intellectual disability
""".split()
MEDICATION = """
fentanyl narcan naloxon lexapro vicodin percocet hydrocodone methylphenidate metylfenidat
amitriptylin* sarotex nortriptylin* mianserin* tolvon trimipramin* surmontil quetiapine
olanzapine risperidone aripiprazole sertraline fluoxetine citalopram escitalopram venlafaxine
zopiclone imovane zolpidem diazepam oxazepam alprazolam klonazepam clonazepam lorazepam
temesta nitrazepam mogadon propranolol inderal metoprolol selo-zok losartan cozaar ramipril
triatec atorvastatin lipitor simvastatin levothyroxine levaxin insulatard novorapid humalog
lantus inhalasjonsspray* airomir ventolin flixotide pulmicort budesonid* salbutamol
antiepileptika* antiepileptic* valproate depakote tegretol karbamazepin* carbamazepine
lamotrigine levetiracetam topiramat* topamax orfiril epanutin fenytoin* phenytoin

mirtazapin* remeron prazosin amoxicillin* amorion* penicillin* antibiotika antibiotic* marevan
warfarin keppra levetiracetam fontex citalopram cipramil venlafaxin* efexor duloxetin* cymbalta
bupropion wellbutrin antabus disulfiram hjertemagnyl albyl kodein* codeine paracet paracetamol
alvedon panodil pinex ibux ibuprofen* ipren naproxen epipen* adrenalin activated charcoal
medisinsk kull aktivt kul stesolid vallergan phenergan atarax truxal zolpidem stilnoct
propavan lergigan equasym lisdexamfetamin* atomoxetin* dexamfetamin* attentin adderall vyvanse
klonazepam* gabapentin neurontin aripiprazol* haldol ventolin flutide seretide symbicort
airomir bricanyl levaxin euthyrox thyroxin* prednisolon* prednison* hydrokortison* nalokson*
naloxone morfin* morphine oxynorm ketogan nobligan ozempic metformin* orfiril valproat*

ritalin concerta medikinet elvanse strattera intuniv sertralin* sertraline zoloft cipralex
escitalopram fluoxetin* prozac sobril vival valium diazepam xanax rivotril imovane zopiklon*
melatonin circadin lamictal lamotrigin* abilify seroquel quetiapin* zyprexa olanzapin* risperdal
risperidon* litium lithium insulin ventoline metadon* methadone subutex buprenorfin* suboxone
paralgin tramadol oxycodone oxycontin lyrica pregabalin antidepressiva antidepressant*
sovemedisin* sovetablett* sovepille* sleeping pill* sömntablett* sovepiller sovetabletter
antipsykotika antipsychotic* lykkepille* sobril neuroleptika
""".split()
TREATMENT = """

   rusbehandling* avrusning* detox
rehab kjemoterapi cellegift kemoterapi chemotherapy dialyse dialysis samtaleterapi
kognitiv terapi behandlingshjem* behandlingsinstitusjon* metadonprogram* lar-program*
innlagt på sykehus innlagd på sjukehus indlagt på hospitalet inlagd på sjukhus
admitted to hospital sectioned tvangsinnlagt* tvangsinnlagd* tvangsindlagt* tvångsvård*

a-kliniken a-klinikka logoped* talterapeut*  høreapparat* hörapparat* hearing aid*
magsköljning* magepumpe* stomach pump* rotfylling* rodbehandl* insulinpump* nicu
alkoholbehandling* alkoholproblem* alcohol treatment rusproblem* p-piller p-pille* prevensjon*
""".split()
MORE_DIAGNOSES = (
    """
sukkersyke* diabetiker* type_1-diabetes hjertefeil* hjertesvikt* hjerteproblem* hjärtfel*
eksem* eczema psoriasis cøliaki* celiaki* cøliaki coeliac* celiac* laktoseintoleran* nøtteallergi*
nötallergi* nøddeallergi* peanut_allergy nut_allergy dyskalkuli* dyscalculia autismespekter*
asd aspergers tourettes fødselsdepresjon* fødselsdepression* förlossningsdepression*
postnatal_depression postpartum_depression panikkangst* panikanfall* panic_attacks
svangerskap* svangerskab* graviditeten gravidität* keisersnitt* kejsersnit* kejsarsnitt* c-section
fødselen fødsler förlossning* fødslen spontanabort* missfall* aborten aborter infertilitet* ivf
tuberkulose* tuberkulos* tuberculosis hepatitt* hepatit* hiv-positiv* stråling* strålebehandling*
strålbehandling* radiotherapy hjernerystelse* hjernerystelsen hjärnskakning* brukket* brækket*
bruten_arm broken_arm broken_leg broken_wrist fracture* operert* opereret* opererad*
operasjon* operation_på operationen narkose* narkos* blindtarm* mandlene* halsbetennelse*
tonsillitt* tonsillitis strep_throat kikhoste* kighoste* kikhosta* meslinger*
mässling* measles rs-virus* omgangssyke* roskildesyge* magsjuk* utslett* udslæt* utslag*
  astmamedisin* astmamedicin* epileptisk_anfall krampeanfall* krampe*
seizure* seizures blodprøve* blodprøver blodprov* blood_test*
 rusprøve* mr-undersøkelse* ct-scan* røntgen* röntgen* x-ray ultralyd*
ultraljud* ultrasound scan_at utredning_for
   heroinmisbruk*
amfetaminmisbruk* kokainmisbruk* alkoholmisbruk* alkoholmisbrug* alcohol_abuse substance_abuse
drug_abuse addiction* afhængighed* beroende* rusmisbruk* rusmiddel* narkotikamisbruk*
psykisk_syk* psykisk_syg* psykiskt_sjuk* psykisk_lidelse mental_illness mental_health_condition
   tvangsinnleggelse*

""".split()
    + """
allergi* allergy allergies astigmatism* anemi* anemia anaemia sigdcelle* sickle cell migrene*
migræne* migrän* migraine* lungebetennelse* lungebetændelse* lunginflammation* pneumonia
vannkopper* vattkoppor* skoldkopper* chickenpox omgangssyke* magsjuka* roskildesyge* influensa*
covid* blodtrykk* blodtryk* blodtryck* blood pressure blodpropp* blodprop* blood clot*
hjerteinfarkt* hjerteanfall* heart attack* hjärtinfarkt* förmaksflimmer* atrieflimmer* atrial fibrillation
diskusprolaps* diskbråck* prolaps* ptss ptsd posttraumatisk* post-traumatic stress* utbrenthet*
utmattningssyndrom* utbrændthed* fibromyalgi* hypoglykemi* hypoglycaemia* hypoglycemia* klamydia*
chlamydia* gonoré* herpes* intoksikasjon* forgiftning* förgiftning* poisoning abscess* abscess
ørebetennelse* mellemørebetændelse* mellemoerebetaendelse* öroninflammation* ear infection*
tubal* gikt* utbrent* utbrændt* poliklinikk* misbrug* hashmisbrug* stofmisbrug* heroin* benzo* benzodiazepin* kokainmisbruk* demens*
dementia alzheimer* parkinson* ms-diagnose* sklerose* slagtilfelle* hjerneslag* stroke
epilepsi* leukemi* leukaemia leukemia tumor* svulst* kræftsyg* prostatakræft* brystkreft*
bröstcancer* breast cancer selvskadende* spiseforstyrret* tvangstanker* angstanfall*
""".split()
)
# Medicines people name in messages, by what they treat: generic names in the Nordic and
# English spellings and the brands sold in Norway, Denmark, Sweden, Finland, the UK and
# the US. A name matches with its inflections ("Elvansen") and the dose that follows it.
MORE_MEDICATION = """
paroxetine paroksetin paroxetin seroxat paxil fluvoxamin* fevarin vortioxetin* brintellix trintellix
agomelatin* valdoxan trazodon* desyrel reboxetin* edronax moklobemid* moclobemide aurorix
klomipramin* clomipramine anafranil imipramin* tofranil doxepin* celexa effexor desvenlafaxin*
pristiq lustral zispin mirtazapine vilazodon* viibryd escitalopram duloxetine
guanfacin* metamina dexedrine focalin ritalina methylphenidat* lisdexamfetamine atomoxetine
klozapin* clozapine leponex clozaril haloperidol ziprasidon* geodon zeldox lurasidon* latuda
paliperidon* invega xeplion zuklopentixol* zuclopenthixol cisordinol flupentixol* fluanxol
klorprotixen* chlorprothixene levomepromazin* nozinan perfenazin* trilafon brexpiprazol* rexulti
kariprazin* reagila vraylar
lithionit priadel camcolit ergenyl epilim valproinsyre lamictal okskarbazepin* oxcarbazepine
trileptal apydan buccolam midazolam epistatus zonegran zonisamid* lacosamid* vimpat brivaracetam
briviact etosuksimid* zarontin sultiam* ospolot stiripentol* diacomit
oksazepam* serepax xanor klonopin ativan flunitrazepam* rohypnol zimovane ambien alimemazin*
theralen prometazin* promethazine hydroxyzin* hydroxyzine mirtazapin
pamol calpol tylenol brufen advil nurofen motrin naprosyn aleve pronaxen diklofenak* diclofenac
voltaren magnyl treo aspirin acetylsalisyl* paralgin_forte pinex_forte kodimagnyl citodon
co-codamol solpadeine tramagetic tradolan tramal dolcontin targiniq temgesic norspan buprenorphine
dihydrocodeine hydromorfon* palexia tapentadol* ketobemidon*
antabuse naltrekson* naltrexone revia vivitrol nalmefen* selincro akamprosat* acamprosate campral
nyxoid nalokson
buventol terbutalin* montelukast* singulair cetirizin* zyrtec loratadin* clarityn clarytin
desloratadin* aerius jext emerade adrenalinpenn* adrenaline_pen fexofenadin* telfast
levemir tresiba toujeo fiasp glucophage wegovy saxenda victoza jardiance forxiga trulicity
glukagon* glucagon dexcom freestyle_libre
eltroxin levotyroksin* levotyroxin* levothyroxin* thyroxine
eliquis apixaban* xarelto rivaroxaban* pradaxa dabigatran* coumadin albyl-e zocor selo-zok
seloken bisoprolol* emconcor amlodipin* norvasc enalapril* furosemid* furix lasix nitroglyserin*
apocillin kåvepenin weifapenin selexid flagyl metronidazol* doksysyklin* doxycyclin* azitromycin*
azithromycin klaritromycin* clarithromycin ciprofloxacin* trimetoprim* trimethoprim nitrofurantoin*
isotretinoin* roaccutane accutane protopic locoid hydrokortisonkrem* hydrocortisone_cream
testosteron* østrogen* puberty_blockers pubertetsblokker* pubertetsutsettende*
ellaone norlevo angrepille* dagen-efter-pille* akut-p-pille* morning-after_pill minipille* p-stav*
p-ring* hormonspiral* kobberspiral* nexplanon mirena
albuterol proair flovent qvar fostair clenil beclometason* beclomethasone relvar anoro trelegy spiriva
advair auvi-q benadryl claritin allegra flonase nasonex avamys rhinocort piriton kestine
fluoksetin* seronil voxra lisinopril zestril atenolol* tenormin candesartan* atacand valsartan* diovan
felodipin* plendil rosuvastatin* crestor ezetimib* plavix klopidogrel* clopidogrel brilique digoksin*
digoxin amiodaron* spironolakton* spironolactone aldactone bendroflumethiazide hydrochlorothiazide
tecfidera copaxone gilenya ocrevus tysabri rifampicin* isoniazid* tamiflu valtrex aciklovir* aciclovir
acyclovir zovirax diflucan flukonazol* fluconazole canesten pevaryl daktacort fucidin bactroban
dalacin keflex cefalexin* augmentin flucloxacillin* ciproxin monuril furadantin heracillin amimox
doxyferm bactrim cipro z-pak
panadol burana ibusal ibuxin para-tabs panacod primaspan arcoxia anadin excedrin norco dilaudid
ultram ibumetin contalgin oxascand oxapax alopam imozop diapam tenox zopinox apodorm lunesta
vistaril sublocade espranor prenoxad nalrex chlordiazepoxide librium pabrinex behepan waran
opamox ketipinor lito xaggitin kapvay qelbree
movicol laxido laktulose* lactulose levolac gaviscon omeprazol* omeprazole lansoprazol* losec
nexium somac zantac ranitidin* pepcid prilosec buscopan imodium ondansetron zofran miralax
pedialyte dioralyte sudocrem diprobase doublebase cetraben epaderm eumovate dermovat* elocon
mildison locoid locobase medrol
microgynon rigevidon cerazette levonelle loette marvelon yasmin femodette nuvaring depo-provera
sayana implanon jaydess kyleena plan_b
omnipod cpap ferrous_sulfate ferrous_sulphate jerntabletter* järntabletter* prenatal_vitamins
mounjaro zepbound xenical orlistat
synthroid levoxyl tirosint novolog basaglar humulin zithromax azitromax klonidin* clonidine catapresan
buspiron* buspirone buspar benztropin* cogentin modafinil* provigil champix vareniklin* varenicline zyban
truvada descovy antiretroviral* oramorph delmosart matoride xenidate thiamin* tiamin* buvidal
deprakine vepicombin primcillin imacillin trombyl laktulos oxamin slenyto kortison* cortisone
chantix tenex xyzal sudafed imitrex sumatriptan* protonix hydrocortisone dupixent dextroamphetamine
divalproex valproic_acid co-amoxiclav co-codamol fybogel nytol mucinex robitussin nyquil dayquil
acetaminophen pepto-bismol afipran naltrexon* naltrekson* campral akamprosat* acamprosate
birth_control_pill* p-pillerna kopparspiral* kobberspiral* spiral_fitted iud-spiral*
""".split()
MORE_CONDITIONS = """
angstlidelse* sosial_angst social_anxiety sosial_fobi social_fobi social_phobia fobi* phobia* agorafobi*
agoraphobia dystymi* dysthymia tilknytningsforstyrrelse* tilknytningsforstyrring* tilknytningsvansk*
attachment_disorder anknytningsstörning* tilknytningsforstyrrelsen dissosiativ* dissociativ* dissociative
schizoaffektiv* schizoaffective opposisjonell_atferdsforstyrrelse oppositional_defiant conduct_disorder
atferdsforstyrrelse* atferdsvansk* adferdsvansk* adfærdsforstyrrelse* uppförandestörning*
selektiv_mutisme selektiv_mutism selective_mutism mutisme* ortoreksi* overspisingslidelse*
binge_eating søvnforstyrrelse* sömnstörning* søvnløshet insomni* insomnia søvnapné* sömnapné*
sleep_apnoea sleep_apnea narkolepsi* narcolepsy dyspraksi* dyspraxia dyspraxi* språkvansk*
språkstörning* sprogforstyrrelse* learning_disability learning_disabilities learning_difficulties
utviklingshemning* utviklingshemmet* psykisk_utviklingshemmet hørselshemmet* hørselshemma*
synshemmet* synshemma* visually_impaired hearing_impaired cochleaimplantat* cochlear_implant*
spina_bifida hydrocefalus* hydrocephalus muskeldystrofi* muscular_dystrophy duchenne fragilt_x
fragile_x williams_syndrom* kols copd atopisk* leddgikt* ledgigt* ledgångsreumatism* revmatisme*
reumatisme* gigtsyg* rheumatoid_arthritis juvenil_artritt juvenile_arthritis crohn* ulcerøs_kolitt
ulcerøs_colitis ulcerös_kolit colitis irritabel_tarm ibs cystisk_fibrose cystisk_fibros
cystic_fibrosis hull_i_hjertet nyresvikt* njursvikt* nyresvigt* kidney_failure leversvikt*
leversvigt* skrumplever* levercirrhose* cirrhosis kronisk_utmattelse* me/cfs lymfom* lymphoma*
hjernesvulst* hjernetumor* hjärntumör* brain_tumour brain_tumor hemofili* haemophilia hemophilia
blødersykdom* hypotyreose* hypothyreose* hypotyreos* hypothyroidism stoffskiftesykdom* lavt_stoffskifte
høyt_stoffskifte hypertyreose* hyperthyroidism tinnitus bronkitt* bronkit* bronchitis long_covid
mononukleose* kyssesyke* körtelfeber* glandular_fever borreliose* borrelia* lyme_disease
hjernehinnebetennelse* meningitt* meningitis sepsis blodforgiftning* urinveisinfeksjon*
urinvejsinfektion* urinvägsinfektion* scabies skabb* fnatt impetigo brennkopper* børnesår*
svangerskapet svangerskabet svanger* graviditeten gravide termindato* terminen terminsdato*
venter_barn väntar_barn venter_en_baby er_gravid prematur* for_tidlig_født født_for_tidlig
premature_baby preterm ufrivillig_barnløs* fostervannsprøve* nakkefoldsmåling* svangerskapsdiabetes*
graviditetsdiabetes* gestational_diabetes svangerskapsforgiftning* preeklampsi* preeclampsia
morning_sickness svangerskapskvalme* hyperemesis* fraktur* brudd_på brud_på brud_paa fractured
hjerteflimmer* hjarteflimmer* hjerterytmeforstyrrelse* leverskade* leverskadet* leverværdi*
levertal* nyreskade* hjerneskade* hjärnskada* brain_injury traumatisk_hjerneskade
skoliose* skolios* scoliosis osteogenesis_imperfecta glasbensykdom* benskjørhet* hernia kolikk* kolik*
colic jernmangel* järnbrist* jernmangelanemi* iron_deficiency vitaminmangel* b12-mangel* veksthormonmangel*
væksthormonmangel* tillväxthormonbrist* hypertensjon* hypertension hypertoni* högt_blodtryck
høyt_blodtrykk forhøjet_blodtryk anæmi* anafylaksi* anafylaxi* anaphylaxis anaphylactic dysfagi*
dysphagia gulsott* gulsot* jaundice trøske* thrush bleeksem* blöjutslag* nappy_rash diaper_rash
mongolfläck* mongolian_spot* dermal_melanocytosis cleft_palate cleft_lip ganespalte* gomspalt*
læbe-ganespalte* leppe-kjeve-ganespalte* ehlers-danlos cerebral_pares global_developmental_delay
developmental_delay utviklingsforsinkelse* forsinket_utvikling udviklingsforsinkelse*
fetal_alcohol_spectrum_disorder alkoholavhengig* alkoholavhengnad* alkoholberoende* alkoholafhængig*
opioidavhengig* opioidberoende* opioidafhængig* rusavhengnad* alcohol_dependency alcohol_dependence
opioid_dependence opioid_addiction opioid_use_disorder substance_use_disorder lindrig_kognitiv_svikt
kognitiv_svikt mild_cognitive_impairment
skarlagensfeber* skarlagenfeber* scharlakansfeber* scarlet_fever vannkoppar* diabulimi*
hpv-vaksine* hpv-vaksinen hpv-vaksinasjon* hpv-vaccin* hpv-vaccination* hpv_vaccine norovirus* roseola
fedme* adipositas* sykelig_overvekt svær_overvægt obesity obese nyrestein* nyresten* njursten*
kidney_stone* gallestein* galdesten* gallsten* gallstone* hashimoto* graves_disease psoriasisartritt*
psoriasisartrit* spinal_muskelatrofi spinal_muscular_atrophy prader-willi* hørselstap* høretab*
hörselnedsättning* hearing_loss døvhet* dövhet* døvhed* døvblind* dövblind* deafness blindhet* blindhed*
blindness synshemming* synshæmning* synnedsättning* svaksynt* svagsynet* amblyopi* gråstær* grå_stær
grønn_stær grøn_stær grå_starr glaukom* glaucoma cataract* skjeling* skelning* alkoholisme* alkoholism*
spilleavhengig* spilleafhængig* spelberoende* ludoman* gambling_addiction gambling_problem
skizofreni* ordblind* ordblindhed* angstanfald* panikanfald* ångestattack* panikattack*
separasjonsangst* separationsangst* separationsångest* separation_anxiety neuropsykiatrisk*
neuropsykiatriska intellektuell_funktionsnedsättning utvecklingsstörning* heart_condition
heart_disease kidney_disease liver_disease lung_disease chronic_fatigue* kroniske_smerter kronisk_smerte
chronic_pain kroniska_smärtor glue_ear hand,_foot_and_mouth hand_foot_and_mouth scarlatina
bronkiolitt* bronkiolit* bronchiolitis croup falsk_krupp falsk_strupehoste pseudokrupp* hay_fever
høysnue* høfeber* hösnuva* pollenallergi* reflux* refluks* stillbirth* dødfødsel* dødfødt* dödfödd*
alcohol_use_disorder tonsillektomi* tonsillectomy grommets ptsd-diagnose* hypo hypoen hypoer
hjerteklap* hjerteklaff* hjärtklaff* heart_valve* hofteprotese* hofteprotese* höftprotes* knæprotese*
kneprotese* ny_hofte ny_hofta nyt_knæ hip_replacement knee_replacement angina gtn_spray
abstinence_syndrome neonatal_abstinence_syndrome neonatal_abstinence abstinenssyndrom* abstinenssymptom* hydroxyurea hydroxycarbamide
hydroxykarbamid* vitamin_d_deficiency d-vitaminmangel* d-vitaminbrist* b12-brist* vitamin_b12_deficiency
diabetic asthmatic epileptic epileptiker* astmatiker* diabetikern appendicitis blindtarmsbetennelse*
heart_murmur* arrhythmia* arytmi* lupus multiple_sclerosis multippel_sklerose multipel_sklerose
multipel_skleros lactose_intoleran* gluten_intoleran* glutenintoleran* laktosintoleran*
gonorrhea gonorrhoea syphilis syfilis* head_lice hodelus* huvudlöss* lus_i_håret
stomach_bug tummy_bug sensory_processing concussed hep_c hep_b hepatitis_c hepatitis_b
panikångest* ångestsyndrom* reumatism* cellgift* streptokock* halsfluss* vinterkräk*
havandeskapsförgiftning* abstinens* psykisk_uhelse psykiske_lidelser psykisk_sjuk psykisk_sjuke
psykiska_problem psykisk_ohälsa psykisk_sygdom spiseproblem* ätproblem* alkoholproblem
pregnancy_loss weeks_pregnant months_pregnant uker_på_vei veckor_gravid
feberkramp* krampanfall* anafylaktisk* utbränd* hjärnblödning* hjerneblødning* hjernebløding*
psykos psykosen psykoser psykoserna manisk* tvångstank* 1-diabetes 2-diabetes karies
tandabscess* tannabscess* tannbyll*
""".split()
MORE_TREATMENT = """
urinprøve* urinprov* urine_test* kardiolog* nevrolog* neurolog* gynekolog* gynækolog*
traumebehandling* traumeterapi* dbt-terapi* emdr-behandling* psykoterapi* psykoterapeutisk*
psykoanalyse* fysioterapi* ergoterapi* familieterapi* familjeterapi* parterapi* samtaleterapi*
kognitiv_atferdsterapi kognitiv_adfærdsterapi kognitiv_beteendeterapi cognitive_behavioural_therapy
cognitive_behavioral_therapy dialectical_behaviour_therapy dialectical_behavior_therapy
substitusjonsbehandling* legemiddelassistert_rehabilitering legemiddelassistert_behandling
avvenning* avgiftning* afrusning* afvænning* abstinensbehandling*
behandlingsopphold* døgnbehandling*
elektrosjokk* ect-behandling*
kjemo* kemo* chemo strålebehandling* insulinbehandling* hormonbehandling* kreftbehandling*
kræftbehandling* cancerbehandling* alkoholbehandling* spiseforstyrrelsesbehandling*
traumabehandling* traumefokuseret_terapi traumafokuserad_kbt trauma-focused_cbt substitutionsbehandling*
cellgiftsbehandling* intensive_outpatient_treatment intensive_outpatient_program
physiotherapy physical_therapy occupational_therapy speech_therapy speech_and_language_therapy
outpatient_program outpatient_rehab inpatient_rehab residential_treatment methadone_clinic
behandlingshem* beroendevård* missbruksvård* beroendebehandling* missbruksbehandling*
""".split()
ACRONYMS = (
    "ADHD ADD OCD HIV AIDS PTSD PTSS CAMHS FASD FAS CBT NICU BUP-klinikken "
    "LAR DBT EMDR KAT KBT SSRI SSRIs SNRI KOLS COPD IBS ASD ODD DLD EUPD JIA ME/CFS UVI UTI MMR CPAP "
    "T1D T2D CP MS PPD BPD ARFID CPTSD C-PTSD TBI RSV STI STD STIs STDs GERD NPF LARO IUD PrEP"
).split()


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
    medication += [t if t.endswith("*") or "_" in t else t + "*" for t in MORE_MEDICATION]
    all_terms = (
        DIAGNOSES + medication + TREATMENT + MORE_DIAGNOSES + MORE_CONDITIONS + MORE_TREATMENT
    )
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
    r"some|such|rare|new|same|other|what|which|or|and|serious)"
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
    rf"|(?<![\w'’])(?!{_FUNCTION_WORDS}\s)[a-z]{{2,}}(?:['’]s)? (?:infections?|disorders?|syndrome|disease)(?![\w])"
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
    r"|(?<![\w\-])(?:arm|ben|bens|bein|beins|hånd|hand|fot|ankel|håndledds?|handleds?|lårbens?|lårbeins?|"
    r"kravebeins?|kraveben|nyckelbens?|ribbens?|revbens?|skalle|kjeve|käk|näs|nese|finger|fingre|tå|"
    r"hofte|höft|rygg|nakke|legg|underarms?|överarms?|overarms?|fotleds?|ankels?|kranie)"
    r"(?:brott|brudd|brud)(?:et|en|ene|a)?(?![\w])"
    # Injuries named in English: "broken collarbone", "sprained ankle", "fractured skull".
    r"|(?<![\w])(?:broken|fractured|sprained|dislocated|torn) (?:(?:left|right) )?"
    r"(?:arm|leg|wrist|ankle|collarbone|collar bone|nose|jaw|finger|toe|ribs?|hip|elbow|"
    r"shoulder|foot|hand|skull|knee|acl|cheekbone|eye socket)(?![\w])"
)
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
_LOWER_GATE = Gate([HEALTH_COMPOUNDS, _LOWER_ACRONYMS])
_DOSE_GATE = Gate([_NAMED_DOSE])
_STARTS_GATE = Gate([HEALTH_STARTS], words=True)
_GENERIC_GATE = Gate([GENERIC_NAMES])
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


def find_health(text: str) -> Iterator[Entity]:
    """Diagnoses, medication (with its dose) and treatment terms."""
    lower = lower_in_place(text)
    hits = list(HEALTH_WORDS.finditer(lower)) if _WORDS_GATE.open(lower) else []
    if _ACRONYM_GATE.open(text):
        hits += HEALTH_ACRONYMS.finditer(text)
    if _LOWER_GATE.open(lower):
        hits += [*HEALTH_COMPOUNDS.finditer(lower), *_LOWER_ACRONYMS.finditer(lower)]
    if _STARTS_GATE.open(lower):
        hits += HEALTH_STARTS.finditer(lower)
    if _GENERIC_GATE.open(lower):
        hits += GENERIC_NAMES.finditer(lower)
    if _DOSE_GATE.open(lower):
        for m in _NAMED_DOSE.finditer(lower):
            if m.group("name") not in _NOT_A_MEDICINE:
                yield Entity(m.start(), m.end(), "HEALTH", "health.lexicon", 0.85)
    for m in hits:
        if _figurative(lower, m.start(), m.end()):
            continue
        end = m.end()
        dose = _DOSE.match(lower, end)
        if dose:
            end = dose.end()
        yield Entity(m.start(), end, "HEALTH", "health.lexicon", 0.85)
