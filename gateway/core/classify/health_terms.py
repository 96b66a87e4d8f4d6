"""The words of health information, by kind, in nb, nn, da, sv and en.

A term ending in "*" also matches its inflections ("depresjon*" finds "depresjonen"); "_"
joins the words of a phrase ("broken_arm"). Medicine names inflect and take their dose
whether or not they carry "*". ``ACRONYMS`` are matched with their capitals.
"""

from __future__ import annotations

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

a-kliniken a-klinikka logoped* talterapeut* høreapparat* hörapparat* hearing aid*
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
 hormonspiral* kobberspiral* nexplanon mirena
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
leversvigt* skrumplever* levercirrhose* cirrhosis kronisk_utmattelse* lymfom* lymphoma*
hjernesvulst* hjernetumor* hjärntumör* brain_tumour brain_tumor hemofili* haemophilia hemophilia
blødersykdom* hypotyreose* hypothyreose* hypotyreos* hypothyroidism stoffskiftesykdom* lavt_stoffskifte
høyt_stoffskifte hypertyreose* hyperthyroidism tinnitus bronkitt* bronkit* bronchitis long_covid
mononukleose* kyssesyke* körtelfeber* glandular_fever borreliose* borrelia* lyme_disease
hjernehinnebetennelse* meningitt* meningitis hyperglykemi* hyperglycemia hyperglycaemia septikemi* septicemia bakteriemi* bacteremia
sepsis blodforgiftning* urinveisinfeksjon*
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
    "T1D T2D CP MS PPD BPD ARFID CPTSD C-PTSD TBI RSV STI STD STIs STDs GERD NPF LARO IUD PrEP "
    "HPV IOP MDMA GHB DKA SIDS MRSA TBE ALS EIPS LVM LPT MRI"
).split()

# Words added when the lists were widened by kind rather than by the corpus's sentences:
# conditions of children and parents that services hear about, medicines sold in the five
# countries (brands and generic names), contraception, illegal drugs and the specialist
# services whose patients are known by the service alone.
WIDER_CONDITIONS = """
pink_eye øyekatarr* øjenbetændelse* ögoninflammation* blåskatarr* irritabel_tarm irritable_bowel*
colon_irritabile gigt gigten leddgikt* ledgångsreumatism* ketoacidos* ketoacidosis grand_mal
hypotyreose* hypotyreos* hypothyroidism hypertyreose* hypertyreos* hyperthyroidism
underactive_thyroid overactive_thyroid lavt_stoffskifte høyt_stoffskifte lavt_stofskifte
long_covid langtidscovid* postcovid* cochleaimplantat* cochlea-implantat* cochlear_implant*
spastisk* spasticity hemiplegi* hemiplegia ryggmargsbrokk* ryggmärgsbråck* rygmarvsbrok* spina_bifida
down_syndrom downs_syndrome trisomi* trisomy* fragilt_x fragile_x autistic autistiske on_the_spectrum
overspising* overspisning* hetsätning* binge_eating* stamming* stamning* stuttering
fødselspsykose* förlossningspsykos* fødselspsykose postpartum_psychosis manic_episode* hypomani*
hypomania mania dyskalkyli* ectopic* utenomlivmorsgraviditet* x-graviditet* svangerskapskvalme*
graviditetsillamående* hyperemesis* morning_sickness stillborn dødfødt* preemie premature_baby
for_tidlig_født for_tidligt_født för_tidigt_född prematur* premature_birth born_premature
kolikk* colic kolik kolikbarn* jaundice gulsott* gulsot* gulsort* failure_to_thrive
lead_poisoning alkoholforgiftning* alkoholförgiftning* alcohol_poisoning blyforgiftning* blyförgiftning* kullosforgiftning* carbon_monoxide_poisoning
skabb* fnatt* fnat scabies ringorm* ringworm impetigo brennkopper* svinkoppor* børnesår*
molluscum mollusker* vannvorter* springmask* pinworm* trøske* torsk_i_munnen oral_thrush
nyrestein* nyresten* njursten* kidney_stone* gallestein* gallesten* gallsten* gallstone*
hyperglykemi* hyperglycemia hyperglycaemia septikemi* septicemia bakteriemi* bacteremia
sepsis blodforgiftning* blodförgiftning* hypotermi* hypothermia underkylning* nedkjølt*
forfrysning* forfrysninger köldskada* frostbite dehydrering* dehydrert* dehydreret*
uttorkad* dehydration dehydrated underernæring* underernært* undernäring* undernärd* feilernæring*
malnutrition malnourished fedme overvekt* övervikt* overvægt* obesity obese sykelig_overvektig
sengevæting* sengevætning* sängvätning* enuresis enkoprese* enkopres* encopresis
whiplash nakkesleng* pisksnärt* hjerneskade* hjerneskadet* hjärnskada* hjärnskador hjerneskadede
brain_injur* head_injur* ryggmargsskade* ryggmärgsskada* rygmarvsskade* spinal_cord_injur*
nyresvikt* nyresvigt* njursvikt* leversvikt* leversvigt* hjertesvigt* hjärtsvikt* lungesvikt*
organsvikt* kidney_failure liver_failure heart_failure respiratory_failure
leppe-kjeve-ganespalte* ganespalte* gomspalt* læbe-ganespalte* ganespalte cleft_palate cleft_lip
hole_in_the_heart heart_defect* hjertefeil hjärtfel congenital_heart*
epilepsianfall* epilepsianfald* astmaanfall* astmaanfald* astmaattack* asthma_attack*
absenceanfall* absensanfall* krampanfall* migreneanfall*
funksjonsnedsettelse* funksjonshemming* funksjonshemmet* funktionsnedsättning* funktionshinder*
funktionsnedsættelse* handicappet* learning_disabilit* learning_difficult* developmental_delay*
utviklingsforsinkelse* forsinket_utvikling udviklingsforsinkelse* försenad_utveckling
sensory_processing_disorder sansebearbeidings* sansemotorisk*
melanom* lymfom* karsinom* karcinom* sarkom* gliom* myelom* nevroblastom* neuroblastom*
retinoblastom* glioblastom* hemangiom* melanoma lymphoma carcinoma sarcoma glioma myeloma
neuroblastoma glioblastoma retinoblastoma hemangioma mesothelioma
hjernesvulst* hjärntumör* hjernetumor* brain_tumor brain_tumour leukæmi* lymphom* hodgkin*
elveblest* nesleutslett* urticaria hives akne acne vitiligo alopecia kyssesjuka* kyssesyge*
streptokokk* strep whooping_cough difteri* polio rubella røde_hunder mumps kusma fåresyge rotavirus*
salmonella* campylobacter listeria legionella malaria dengue ebola zika hiv-smitt* fettlever*
fatty_liver transplantasjon* transplantation* pacemaker hjertekrampe* kärlkramp* hypotension
slaganfall* apopleksi* aneurisme* aneurysm* status_epilepticus cluster_headache* restless_legs
muskelsvinn* huntington* amputert*
amputation* amputer* stomi* colostomy ileostomi* ileostomy kateter* catheter* ernæringssonde*
feeding_tube* peg-sonde* trakeostomi* tracheostomy magesår* magsår* mavesår* stomach_ulcer*
emfysem* emphysema talassemi* thalassemia gastric_bypass slankeoperasjon* fedmeoperasjon*
overvektsoperasjon* shaken_baby* fetal_alcohol* drug-exposed
substance-exposed miscarried prenatal postpartum gynecologist* x-rays ct_scan* bloodwork
blood_work ear_tubes tonsils_out adenoids hand_foot_mouth
pinkeye hole_in_her_heart hole_in_his_heart sockersjuk* förkylningsastma*
 lvm-hem*
sukkersyge* sukkersjuk* mæslinger* meslingar* knoglebrud* beinbrot* vasskoppar* omgangssjuke*
keisarsnitt* alkoholikar* avrusing* influenza
""".split()
WIDER_MEDICATION = """
kokain* cocaine crack_cocaine amfetamin* amphetamine* metamfetamin* methamphetamine crystal_meth
opioid* opiat* opiates ketamin* ketamine
tylenol motrin advil aleve acetaminophen pamol panodil treo ipren ibumetin kodimagnyl citodon
benadryl zyrtec claritin clarityn allegra aerius kestine cetirizin* loratadin* desloratadin*
singulair flovent proair xopenex albuterol nasonex avamys
augmentin keflex zithromax z-pak z-pack azithromycin azitromycin* bactrim cipro ciprofloxacin*
diflucan flukonazol* fluconazole valtrex aciklovir* acyclovir valaciklovir* valacyclovir
tamiflu kåvepenin* apocillin* weifapenin* imacillin* amimox heracillin flukloxacillin*
doxyferm doxylin abboticin ery-max selexid furadantin* nitrofurantoin* penomax
prednisone medrol kortison* cortisone steroider steroids steroidkur* antibiotikakur* antibiotikum*
penicillinkur* antihistamin* antihistamine* kortisonkrem* hydrokortisonkrem* steroid_cream
synthroid eltroxin levothyroxin* prilosec pepcid zantac miralax microlax movicol* inolaxol
laktulos* loperamid* imodium dimor omeprazol* pantoprazol* somac pantoloc
lexapro celexa paxil prozac wellbutrin voxra effexor cymbalta trazodone buspirone buspar
klonopin ativan xanor iktorivil heminevrin klometiazol* clomethiazole rohypnol flunitrazepam
apodorm stilnoct sonata theralen lergigan propavan
seroquel latuda depakote tegretol trileptal topamax lithionit lithium
adderall vyvanse focalin intuniv guanfacin* clonidine klonidin* catapresan
oxycontin percocet vicodin norco dilaudid oxynorm oxascand tramadol nobligan gabapentin*
neurontin lyrica flexeril mobic voltaren diklofenak* diclofenac
eliquis xarelto coumadin plavix lipitor crestor norvasc lisinopril lasix furix furosemid*
fragmin klexane heparin* metotreksat* metotrexat* methotrexate humira enbrel
vivitrol naltrexon* naltrexone campral akamprosat* acamprosate selincro nalmefen* buvidal
sublocade espranor zubsolv
ozempic wegovy mounjaro trulicity victoza saxenda jardiance forxiga
glukagon* glucagon glucagen novolog tresiba levemir fiasp toujeo insulinpenn* insulin_pen*
blodsukkermåler* glukosemåler* freestyle_libre dexcom
anti-depressant* mood_stabilizer* mood_stabiliser* anti-anxiety_med* painkiller*
pain_pills pain_meds psych_meds psychiatric_medication* lyckopiller* sömnmedel*
lugnande_tabletter lugnande_medel lugnande_medicin
beroligende_piller beroligende_medicin beroligende_tabletter beroligande_tablettar beroligande_medisin
antidepressiv_medicin antidepressiv_medisin zopiclon*
magnecyl malfin durogesic apozepam topimax giona bufomix otrivin nezeril dicillin eusaprim zitromax
betnovat laxoberal duphalac novaluzid abasaglar lixiana centyl methotrexat remicade stelara yaz zoely
qlaira restoril robaxin celebrex nasacort cephalexin paragard sprintec xulane biktarvy retin-a
differin triamcinolon* mupirocin* nystatin* diphenhydramin* viloxazin* cyclobenzaprin* meloxicam
fluticason* levalbuterol epinephrin* semaglutid* cefdinir oseltamivir tretinoin* cariprazin*
""".split()
CONTRACEPTION = """
morning-after_pill* morning_after_pill* plan_b angrepille* fortrydelsespille* dagen-efter-piller
dagen_efter-piller dagen-efter-pille* akut-p-piller akutp-piller ellaone postinor norlevo
 p-plaster* p-sprøyte* p-sprøjte* p-spruta* p-stav* p-stift* minipille* minipiller
hormonspiral* kobberspiral* kopparspiral* cerazette yasmin microgynon loette marvelon mercilon
nexplanon implanon mirena kyleena jaydess depo-provera depoprovera depo_shot nuvaring
birth_control preventivmedel* prævention* preventionsmedel* svangerskapsforebygg* prevensjonsmiddel*
""".split()
# Services that tell a person's condition by their name alone: addiction and
# eating-disorder units, gynaecology and antenatal care. A profession ("psykolog",
# "therapist") is not: families and the people around them meet psychologists at school,
# in custody cases and as experts. Nor are psychiatric services by their common names
# ("BUP", "psykiatrin", "psykakuten", a psych ward): the people who write to services
# name them all day and leave them visible (none of 157 in the training writers' messages
# is marked), as they leave "psykiatrien" and "psykiatrisk avdeling".
HEALTH_SERVICES = """
beroendeenhet* beroendemottagning* beroendecentrum* rusklinikk*
ruspoliklinikk* alkoholenhed* misbrugscenter* spiseforstyrrelsesenhet* ätstörningsenhet*
detox_center detox_unit sober_living_home
gyn ob-gyn obgyn ob/gyn prenatal_care prenatal_appointment* mødrekontroll* svangerskapskontroll*
""".split()
# Organs that name an inflammation with "-itt" (nb, nn), "-it" (sv, da) or "-itis" (en):
# "bronkitt", "konjunktivit", "tonsillitis".
INFLAMED_ORGANS = """
bronk bronch konjunktiv conjunctiv mening gastroenter enter sinus sinu cyst kol col artr arthr
polyartr polyarthr derm dermat tonsill faryng pharyng laryng appendic pankreat pancreat hepat
nefr nephr pyelonefr pyelonephr encefal enceph myokard myocard perikard pericard endokard
endocard gingiv stomat blefar blephar kerat uve vaskul vascul tendin tendon burs epikondyl
epicondyl divertikul diverticul ile uretr urethr vagin prostat osteomyel myel neur spondyl
laryngotrake laryngotrache bronkiol bronchiol rin rhin otit ot mast cellul gastr esofag
oesophag esophag tyreoid thyroid sial parot
""".split()
