"""Study design, population and sample size of a PubMed record, and the evidence level they give.

Decided from the strongest signal available, in this order:

1. PubMed publication types (assigned by NLM indexers): trial and review types, case reports, and
   the types that are not studies at all (editorials, letters, news, guidelines → narrative_review;
   errata, retraction notices, bibliographies, congresses, biographies → other).
2. Cue phrases for designs an author states outright (systematic review, randomised trial, case
   report), and for narrative reviews ("this review", "reviews the literature"), which PubMed often
   leaves typed as a plain Journal Article.
3. What the subjects of the work were: people followed or surveyed (MeSH study-design headings such
   as Cohort Studies, or words such as "cohort", "questionnaire", a count of participants), animals
   treated in vivo, or cells, tissues and molecules handled in the lab. Animals are decided before
   cells because most animal papers also report some culture work, and by the labels' rule any
   in vivo animal experiment makes a paper an animal study; but an animal named only as the source
   of cells or tissue ("cultured rat aortic smooth muscle cells") does not count as an animal subject.
4. A record with none of these signals but the vocabulary of molecular and cell biology (kinases,
   splicing, chromatin, apoptosis, ...: three distinct terms, or two when the authors report work of
   their own, "Here we show ...") is ``in_vitro``: records not yet indexed with MeSH, and bench
   papers that never say "cultured" or "in vitro", would otherwise fall through.
5. Whatever remains (methods, software, chemistry, physics, genetics without a clinical design) is
   ``other``.

The signal that decided is returned with the result so an analyst can audit it. The rules were
written against the ``dev`` half of ``tests/fixtures/study_design/labels.csv`` and the first two SciFact
sets (text only), and are scored on its ``heldout`` half and on a third, fresh SciFact set by
:mod:`pipeline.evaluation.study_design`.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from pipeline.records import PubmedRecord

# Lower is stronger; the order the comparison stage weighs evidence by.
EVIDENCE_LEVELS = {
    "systematic_review": 1,
    "rct": 2,
    "non_randomised_clinical": 3,
    "case_series_or_report": 4,
    "animal": 5,
    "in_vitro": 6,
    "narrative_review": 7,
    "other": 8,
}

# How the designs are named to people: in tables, charts and exports ...
DESIGN_LABELS = {
    "systematic_review": "Systematic review",
    "rct": "Randomised controlled trial",
    "non_randomised_clinical": "Non-randomised clinical study",
    "case_series_or_report": "Case series or case report",
    "animal": "Animal study",
    "in_vitro": "In vitro study",
    "narrative_review": "Narrative review",
    "other": "Other design",
}
# ... and inside a sentence ("the strongest evidence is an RCT")
DESIGN_PHRASES = {
    "systematic_review": "a systematic review", "rct": "an RCT", "non_randomised_clinical": "a clinical study",
    "case_series_or_report": "a case report", "animal": "an animal study", "in_vitro": "an in-vitro study",
    "narrative_review": "a review", "other": "another kind of record",
}


def design_label(design: str) -> str:
    """The display name of a design code; unknown codes are shown with spaces for underscores."""
    return DESIGN_LABELS.get(design, design.replace("_", " "))


# Checked in this order; the first publication type that matches decides.
_PUB_TYPE_DESIGNS = [
    ({"Systematic Review", "Meta-Analysis"}, "systematic_review"),
    ({"Randomized Controlled Trial"}, "rct"),
    ({"Clinical Trial", "Clinical Trial, Phase I", "Clinical Trial, Phase II", "Clinical Trial, Phase III",
      "Clinical Trial, Phase IV", "Controlled Clinical Trial", "Observational Study", "Multicenter Study",
      "Pragmatic Clinical Trial", "Clinical Study", "Evaluation Study", "Twin Study"}, "non_randomised_clinical"),
    ({"Case Reports"}, "case_series_or_report"),
    # Not primary research: opinion, news and recommendations that discuss the literature.
    ({"Editorial", "Comment", "Letter", "News", "Guideline", "Practice Guideline",
      "Consensus Development Conference", "Consensus Development Conference, NIH"}, "narrative_review"),
    # Not a study and not a discussion of one: notices, listings, meetings, history, patient leaflets.
    ({"Published Erratum", "Retraction of Publication", "Expression of Concern", "Bibliography", "Congress",
      "Biography", "Historical Article", "Portrait", "Patient Education Handout", "Directory", "Book Chapter",
      "Interview", "Newspaper Article"},
     "other"),
]
_PEOPLE = (r"patients|participants|subjects|volunteers|men|women|children|adolescents|adults|infants|"
           r"individuals|persons|people|humans|cases|athletes|runners|workers|students|physicians|nurses|"
           r"smokers|twins|mothers|donors|residents|respondents|applicators|veterans|survivors|underfives")
_NUMBER = (r"\d{1,3}(?:,\d{3})+|\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|"
           r"fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|hundred")
_SYSTEMATIC = re.compile(
    r"\b(systematic(ally)? (literature )?review(ed|s)?|meta-?analys[ie]s|search strategy|"
    r"we searched (\w+ ){0,4}(databases?|medline|pubmed|embase|cochrane|registers?))\b", re.I)
_RCT = re.compile(
    r"\b(randomi[sz]ed|double-blind(ed)?|placebo-controlled)\b.{0,60}\b(trial|study)\b|"
    r"\b(were|was) (randomly )?(randomi[sz]ed|randomly (assigned|allocated))\b", re.I)
_CASE = re.compile(
    r"\b(case reports?|case series|a case of|we (report|present|describe) (a|an|two|three|\w+ unique) (\w+ ){0,2}"
    r"(patients?|cases?|man|woman|boy|girl|child|infant)|report of (two|three|\d) cases|"
    r"an? \d{1,3}-year-old (wo)?man|an? \d{1,3}-year-old (boy|girl|patient|child|infant))\b", re.I)
_REVIEW_TITLE = re.compile(r"\b(review|overview|hype|perspective|commentary|an update|state of the art)\b", re.I)
_REVIEW_TEXT = re.compile(
    r"\b(this|the present|our) (review|commentary|overview|perspective|editorial)\b|"
    r"\bwe (review|summari[sz]e|provide an overview|give an overview|discuss)\b|"
    r"\b(article|paper) (reviews|discusses|summari[sz]es)\b|"
    r"\breview(s|ed|ing)? (of )?the (relevant |recent |current |published )?literature\b|\bnarrative review\b", re.I)
# A genome-wide "meta-analysis" pools the authors' own cohorts; with no search of the literature stated
# it is a study of people, not a systematic review.
_GENOME_WIDE = re.compile(r"\b(genome-wide|GWAS|loci|consorti(um|a))\b", re.I)
_LITERATURE_SEARCH = re.compile(r"\b(systematic(ally)?|search strategy|searched|literature)\b", re.I)
# Papers that present a tool, database or other resource ("We present a toolbox ...") are `other`, even
# when they also "discuss" it.
_TOOL_NOUNS = (r"(software|tool|toolbox|toolkit|package|database|web ?server|server|platform|library|program|"
               r"pipeline|resource|catalog(ue)?|atlas)")
_RESOURCE = re.compile(
    r"\bwe (present|describe|introduce|developed|have developed|report) (a|an|the) ([\w-]+ ){0,3}?"
    + _TOOL_NOUNS + r"\b|"
    r"\b(open[- ]source|freely available|web-based) ([\w-]+ ){0,2}?" + _TOOL_NOUNS + r"\b", re.I)
# MeSH headings NLM assigns for the design of a study of people (not for the topic).
_HUMAN_DESIGN_MESH = {
    "Cohort Studies", "Case-Control Studies", "Cross-Sectional Studies", "Retrospective Studies",
    "Prospective Studies", "Longitudinal Studies", "Follow-Up Studies", "Health Surveys",
    "Surveys and Questionnaires", "Seroepidemiologic Studies", "Interviews as Topic", "Focus Groups",
}
_HUMAN_DESIGN_TEXT = re.compile(
    r"\b(cohort|case-control|cross-sectional|retrospective(ly)?|prospective(ly)?|longitudinal|population-based|"
    r"questionnaires?|surveys?|interviews|focus groups?|qualitative (study|research|analysis)|epidemiologic(al)?|"
    r"medical records|registry|genome-wide association|GWAS)\b|"
    # people enrolled or recruited; "monocytes were recruited" and "recruitment of splicing factors" are not
    rf"\b({_PEOPLE})\b(?:\s+[\w-]+){{0,6}}?\s+(were|was|had been) (enrolled|recruited|included|divided|allocated|"
    r"assigned|followed)\b|"
    rf"\b(enrolled|recruited)\s+(?:[\w-]+\s+){{0,3}}?({_NUMBER}|{_PEOPLE})\b", re.I)
_PARTICIPANT_COUNT = re.compile(rf"\b({_NUMBER})\s+(?:[\w-]+\s+){{0,3}}?({_PEOPLE})\b", re.I)
_PEOPLE_IN_TITLE = re.compile(rf"\b(in|among|of|for) (\w+[ -]){{0,3}}({_PEOPLE})\b", re.I)

_SPECIES = (r"mice|mouse|murine|rats?|rabbits?|dogs?|canine|cats?|feline|pigs?|piglets?|swine|porcine|sheep|ewes?|"
            r"lambs?|goats?|cattle|cows?|calves|bovine|bulls?|horses?|equine|monkeys?|macaques?|primates?|baboons?|"
            r"guinea pigs?|hamsters?|ferrets?|gerbils?|zebrafish|xenopus|frogs?|tadpoles?|quails?|chickens?|chicks?|"
            r"birds?|drosophila|flies|nematodes?|C57BL/6|Sprague-Dawley|Wistar|larvae|animals?")
# A species word followed by what was taken from it names the source of lab material, not a subject.
_SOURCE_WORDS = (r"genomes?|viruse?s?|circovirus|counterparts?|orthologu?es?|homologu?es?|products?|origin|"
                 r"cells?|neurons?|mitochondria|microsomes|hepatocytes|myocytes|cardiomyocytes|macrophages|"
                 r"fibroblasts|tissues?|slices?|brains?|plasma|serum|sera|blood|membranes?|homogenates?|"
                 r"spermatozoa|sperm|oocytes?|embryos?|islets|organs?|cultures?|cDNA|genes?|proteins?|"
                 r"receptors?|enzymes?|antibod(y|ies)|liver|heart|aorta|testis|testes|kidney|muscle|skin")
_SPECIES_MENTION = re.compile(rf"\b({_SPECIES})\b((?:\s+[\w-]+){{0,3}})", re.I)
_SOURCE_AFTER = re.compile(rf"\b({_SOURCE_WORDS})\b", re.I)
# "Animal studies suggest ..." cites other work; it does not make the animals this record's subjects.
_CITED_AFTER = re.compile(r"^\s+(studies|study|data|experiments|research|literature|evidence|work)\b", re.I)
_IN_VIVO = re.compile(
    r"\bin vivo\b|\b(injected|injections?|administ(ered|ration)|orally|intraperitoneal(ly)?|subcutaneous(ly)?|"
    r"intravenous(ly)?|i\.p\.|s\.c\.|i\.v\.|gavage|xenografts?|implanted|sacrificed|euthani[sz]ed|"
    r"anesthetized|anaesthetized|knock-?out|transgenic|mutant (mice|mouse|rats?|larvae|zebrafish)|"
    r"(mice|rats) (lacking|deficient)|animal models?|model in (the )?(rats?|mice)|were (fed|housed))\b", re.I)
_ANIMAL_MESH = {
    "Animals", "Mice", "Rats", "Rabbits", "Dogs", "Cats", "Swine", "Sheep", "Cattle", "Horses", "Guinea Pigs",
    "Cricetinae", "Ferrets", "Zebrafish", "Xenopus laevis", "Quail", "Chickens", "Macaca mulatta",
    "Disease Models, Animal", "Mice, Inbred C57BL", "Mice, Inbred BALB C", "Mice, Knockout", "Mice, Transgenic",
    "Rats, Sprague-Dawley", "Rats, Wistar", "Behavior, Animal",
}
_ANIMAL_ONLY_MESH = _ANIMAL_MESH - {"Animals"}  # species actually studied, not just the check tag
# MeSH headings for laboratory material and bench techniques.
_IN_VITRO_MESH = {
    "Cells, Cultured", "Cell Line", "Cell Line, Tumor", "Tumor Cells, Cultured", "In Vitro Techniques",
    "Culture Techniques", "Organ Culture Techniques", "Cell Culture Techniques", "Patch-Clamp Techniques",
    "Microbial Sensitivity Tests", "Cloning, Molecular", "Recombinant Proteins", "Recombinant Fusion Proteins",
    "Mutagenesis, Site-Directed", "Transfection", "Genetic Complementation Test", "Blotting, Western",
    "Blotting, Northern", "Immunoblotting", "Electrophoresis, Polyacrylamide Gel", "Promoter Regions, Genetic",
    "Transcription, Genetic", "Gene Expression Regulation, Bacterial", "Protein Binding", "Neutralization Tests",
    "Viral Plaque Assay", "Enzyme-Linked Immunosorbent Assay", "HeLa Cells", "Jurkat Cells", "PC12 Cells",
    "Hep G2 Cells", "HEK293 Cells", "Caco-2 Cells", "MCF-7 Cells", "CHO Cells", "COS Cells", "Vero Cells",
}
_IN_VITRO_TEXT = re.compile(
    r"\b(in vitro|cultured|cultures? of|cell lines?|cell cultures?|primary cultures?|in culture|"
    r"incubat(ed|ion)|transfect(ed|ion)|recombinant|purified|purification|knock-?down|siRNA|western blot|"
    r"immunoprecipitat\w*|mutant strains?|wild[- ]type strains?|strains? of|plasmids?|isolated (\w+ ){0,2}"
    r"(mitochondria|cells|hepatocytes|membranes|protoplasts|neurons)|protoplasts|patch-clamp|"
    r"(dose|concentration)-dependent(ly)?|IC50|binding (assays?|sites?|studies))\b", re.I)
# Describing genomes, mutations or ancestry in samples of people is not a clinical design; studies
# that relate genotype to disease carry a design heading (Case-Control Studies) and are decided before.
_GENETICS = re.compile(
    r"\b(novel (\w+ ){0,2}mutations?|mutations? (screening|analysis|spectrum)|genotyped|genome-wide|admixture|"
    r"haplotypes?|gene flow|ancestry|genome sequenc\w+)\b", re.I)
_COMPUTATIONAL_MESH = {"Computational Biology", "Computer Simulation", "Algorithms", "Software",
                       "Models, Theoretical", "Sequence Alignment", "Molecular Docking Simulation",
                       "Databases, Factual", "Databases, Genetic"}
_COMPUTATIONAL_TEXT = re.compile(r"\b(in[- ]silico|algorithms?|software|simulations?|computational)\b", re.I)
# The vocabulary of molecular and cell biology: a bench paper that never says "cultured" or "in vitro"
# (signalling, splicing, chromatin, yeast genetics) still talks about these. Counted as distinct terms.
_BENCH_VOCABULARY = re.compile(
    r"\b(proteins?|kinases?|phosphorylat\w+|signal{1,2}ing|transcription(al)?|transcripts?|mRNAs?|apoptosis|apoptotic|"
    r"mutants?|yeast|saccharomyces|escherichia|e\. coli|bacteria|enzymes?|enzymatic|chromatin|histones?|"
    r"methylation|splicing|ribosom\w+|residues|promoters?|ligands?|cytokines?|fibroblasts|stem cells|"
    r"mitochondri\w+|microtubules?|kinetochores?|autophagy|knockdown|inhibitors?|activation|substrates?|"
    r"gene expression|cells|receptors?|antibod(y|ies)|assays?|splice variants?|DNA replication|neutrali[sz]ation)\b",
    re.I)
BENCH_TERMS_NEEDED = 3
# Authors reporting work of their own ("Here we show", "we identified"): then two bench terms suffice.
_OWN_WORK = re.compile(
    r"\b(here,? we|we (show|demonstrate|identif\w+|find|found|report|monitored|investigated|uncover\w*|"
    r"determined|discovered)|our (results|data|findings))\b", re.I)
_HUMAN_WORDS = re.compile(r"\b(patients?|participants|volunteers|men|women|humans?|clinical|children|adults|"
                          r"individuals|families|people|elderly)\b", re.I)

_SAMPLE = re.compile(
    r"\b(\d{1,3}(?:,\d{3})+|\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty)\s+"
    r"(?:\w+\s+){0,3}?(patients|participants|subjects|men|women|volunteers|individuals|children|adults|cases)\b"
    r"|\bn\s*=\s*(\d{1,6})\b", re.I)
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                 "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "twenty": 20}


@dataclass(frozen=True)
class StudyDesign:
    design: str
    evidence_level: int
    population: str  # human, animal, cell or unknown (no organism named); "mixed" is no longer produced
    sample_size: int | None
    signal: str  # what decided the design, e.g. "publication type: Randomized Controlled Trial"


def sample_size(text: str) -> int | None:
    """The largest participant count stated in the text ("60 men with AGA", "n = 24")."""
    sizes = []
    for match in _SAMPLE.finditer(text):
        raw = match.group(1) or match.group(3)
        value = _NUMBER_WORDS.get(raw.lower()) if raw.isalpha() else int(raw.replace(",", ""))
        if value:
            sizes.append(value)
    return max(sizes) if sizes else None


def _animal_subjects(text: str) -> list[str]:
    """Species words used as the subjects of the work, i.e. not followed by the cells, tissue or
    molecules that were taken from them."""
    return [m.group(1) for m in _SPECIES_MENTION.finditer(text)
            if not _SOURCE_AFTER.search(m.group(2)) and not _CITED_AFTER.match(m.group(2))]


def _pooled_cohorts(match: re.Match[str], text: str) -> bool:
    return (match.group(0).lower().startswith("meta") and bool(_GENOME_WIDE.search(text))
            and not _LITERATURE_SEARCH.search(text))


def _singular(term: str) -> str:
    if term.endswith("ies"):
        return term[:-3] + "y"
    return term[:-1] if term.endswith("s") and not term.endswith(("sis", "ss")) else term


def _quote(match: re.Match[str]) -> str:
    return repr(match.group(0)[:60])


def _design(title: str, abstract: str, pub_types: set[str], mesh: set[str]) -> tuple[str, str]:
    """The design and the signal that decided it (see the module docstring for the order)."""
    text = f"{title}\n{abstract}"
    for types, candidate in _PUB_TYPE_DESIGNS:
        hit = sorted(pub_types & types)
        if hit:
            return candidate, f"publication type: {hit[0]}"
    if (match := _SYSTEMATIC.search(text)) and not _pooled_cohorts(match, text):
        return "systematic_review", f"text: {_quote(match)}"
    if "Review" in pub_types:
        return "narrative_review", "publication type: Review"
    if match := _REVIEW_TITLE.search(title):
        return "narrative_review", f"title: {_quote(match)}"
    if match := _RESOURCE.search(abstract):
        return "other", f"text: {_quote(match)} (a tool or resource)"
    if match := _REVIEW_TEXT.search(abstract):
        return "narrative_review", f"text: {_quote(match)}"
    if match := _RCT.search(text):
        return "rct", f"text: {_quote(match)}"
    if match := _CASE.search(text):
        return "case_series_or_report", f"text: {_quote(match)}"

    animal_mesh = bool(mesh & _ANIMAL_ONLY_MESH) or ("Animals" in mesh and "Humans" not in mesh)
    subjects = _animal_subjects(text)
    in_vivo = _IN_VIVO.search(text)
    lab_mesh = sorted(mesh & _IN_VITRO_MESH)
    lab_text = _IN_VITRO_TEXT.search(text)
    computational = sorted(mesh & _COMPUTATIONAL_MESH) or _COMPUTATIONAL_TEXT.findall(text)
    # NLM tags every indexed study of people "Humans"; only unindexed records fall back on the text.
    # Without MeSH a stray species word ("animal fats") must not outweigh a counted group of people.
    people_study = "Humans" in mesh if mesh else (
        not subjects or (not in_vivo and bool(_PARTICIPANT_COUNT.search(text))))

    design_mesh = sorted(mesh & _HUMAN_DESIGN_MESH)
    if design_mesh and people_study:
        return "non_randomised_clinical", f"MeSH: {design_mesh[0]}"
    if people_study and (match := _HUMAN_DESIGN_TEXT.search(text)) and not animal_mesh:
        return "non_randomised_clinical", f"text: {_quote(match)}"
    if subjects and (in_vivo or not (lab_mesh or lab_text)):
        cue = f"text: {_quote(in_vivo)} with {subjects[0]!r}" if in_vivo else f"text: {subjects[0]!r}"
        return "animal", cue
    if not lab_mesh and (match := _GENETICS.search(text)):
        return "other", f"text: {_quote(match)} (genetics without a clinical design)"
    if people_study and not animal_mesh and (match := _PARTICIPANT_COUNT.search(text)):
        return "non_randomised_clinical", f"text: {_quote(match)}"
    if (lab_mesh or lab_text) and not computational:
        return "in_vitro", f"MeSH: {lab_mesh[0]}" if lab_mesh else f"text: {_quote(lab_text)}"
    if not animal_mesh and (match := _PEOPLE_IN_TITLE.search(title)):
        return "non_randomised_clinical", f"title: {_quote(match)}"
    if animal_mesh and "Humans" not in mesh:
        return "animal", "MeSH: Animals"
    bench_terms = sorted({_singular(m.group(0).lower()) for m in _BENCH_VOCABULARY.finditer(text)})
    needed = BENCH_TERMS_NEEDED - 1 if _OWN_WORK.search(text) else BENCH_TERMS_NEEDED
    if len(bench_terms) >= needed and not computational:
        return "in_vitro", f"text: molecular/cell biology terms {', '.join(bench_terms[:4])}"
    return "other", "no design signal"


def _population(design: str, mesh: set[str], text: str) -> str:
    """Whom the record's evidence is about. The design fixes it for primary studies; for reviews
    and everything else it follows the MeSH check tags, then human words in the text."""
    if design in {"rct", "non_randomised_clinical", "case_series_or_report"}:
        return "human"
    if design == "animal":
        return "animal"
    if design == "in_vitro":
        return "cell"
    human_words = bool(_HUMAN_WORDS.search(text))
    # Reviews of a disease are about people whenever NLM tags them Humans; for notices, software,
    # chemistry and the like the tag marks the topic, so there it takes people named in the text.
    human = human_words or ("Humans" in mesh and design != "other")
    animal = bool(mesh & _ANIMAL_MESH) and (design != "other" or bool(_animal_subjects(text)))
    if design == "systematic_review":
        return "animal" if animal and not human else "human"
    if human:
        return "human"
    return "animal" if animal else "unknown"


def classify_study(record: PubmedRecord) -> StudyDesign:
    return classify_text(record.title, record.abstract, record.pub_types, [m.descriptor for m in record.mesh])


def classify_text(title: str, abstract: str, pub_types: Iterable[str], mesh_descriptors: Iterable[str]) -> StudyDesign:
    """The design of a record given as its stored columns (used to backfill databases)."""
    mesh = set(mesh_descriptors)
    design, signal = _design(title, abstract, set(pub_types), mesh)
    population = _population(design, mesh, f"{title}\n{abstract}")
    size = sample_size(abstract) if population == "human" else None
    return StudyDesign(design, EVIDENCE_LEVELS[design], population, size, signal)


@functools.cache  # the rules this process runs: read once, not from a file edited since (and not per record)
def rules_version() -> str:
    """Changes whenever these rules change; stored records decided by other rules are decided again
    (:func:`pipeline.store.db.refresh_study_designs`)."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]
