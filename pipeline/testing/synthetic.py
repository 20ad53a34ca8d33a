"""Deterministic synthetic PubMed records in NLM's real XML format, for scale benchmarks and tests.

Every record is invented (PMIDs from 91000001 up by default, a range PubMed has not reached) but
shaped like real ``PubmedArticle`` XML: structured abstracts (Label with or without NlmCategory) and
unstructured ones of about 200-250 tokens, built from on-topic sentences about exosomes and
extracellular vesicles, hair loss, dermal papilla cells, growth factors, mice; randomised trials,
clinical series, case reports, animal and cell studies, systematic and narrative reviews, editorials
without an abstract, some off-topic tumour-exosome papers; MeSH headings, publication types, journals,
several PubDate forms (MedlineDate, Season), inline ``<i>``/``<sup>``, retractions, and Entrez dates
spread over 2010-2025 so esearch date windows select subsets.

A record depends only on ``(seed, pmid, revision)``: ``synthetic_articles(100)`` starts with
``synthetic_articles(10)``, and a ``revision`` > 0 is the same record revised (later DateRevised, an
erratum notice), as update files carry.

    python -m pipeline.testing.synthetic OUTDIR --records 1000 --files 2 --updates 1

writes NLM's ``baseline/`` and ``updatefiles/`` layout (``pipeline.pubmed.bulk``), and with ``--loopback``
the same records, as they stand after the updates, for ``python -m pipeline.testing.loopback_eutils``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import hashlib
import random
import re
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator, Sequence
from xml.sax.saxutils import escape

from lxml import etree

if TYPE_CHECKING:
    from pipeline.testing.loopback_eutils import LoopbackEutils

DEFAULT_START_PMID = 91_000_001
HEADER = (b'<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, '
          b'1st January 2025//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n<PubmedArticleSet>\n')
FOOTER = b"</PubmedArticleSet>\n"
FIRST_DAY, LAST_DAY = dt.date(2010, 1, 1), dt.date(2025, 12, 31)
_TOKEN = re.compile(r"\w+|[^\w\s]")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# -- vocabulary -----------------------------------------------------------------------------------

SOURCES = [  # (cells the vesicles come from, the same before a noun, abbreviation)
    ("adipose-derived stem cells", "adipose-derived stem cell", "ADSC"),
    ("bone marrow mesenchymal stem cells", "bone marrow mesenchymal stem cell", "BMSC"),
    ("human umbilical cord mesenchymal stem cells", "human umbilical cord mesenchymal stem cell", "hUCMSC"),
    ("dermal papilla cells", "dermal papilla cell", "DPC"), ("hair follicle stem cells", "hair follicle stem cell", "HFSC"),
    ("platelet-rich plasma", "platelet-rich plasma", "PRP"), ("dermal fibroblasts", "dermal fibroblast", "DF"),
    ("induced pluripotent stem cells", "induced pluripotent stem cell", "iPSC"), ("M2 macrophages", "M2 macrophage", "M2"),
    ("keratinocytes", "keratinocyte", "KC"),
]
VESICLES = [("exosomes", "exosome", "Exos"), ("extracellular vesicles", "extracellular vesicle", "EVs"),
            ("small extracellular vesicles", "small extracellular vesicle", "sEVs")]
CONDITIONS = ["androgenetic alopecia", "alopecia areata", "female pattern hair loss", "chemotherapy-induced alopecia",
              "telogen effluvium", "male pattern baldness"]
FACTORS = ["VEGF", "IGF-1", "HGF", "KGF", "PDGF-BB", "FGF-2", "Wnt3a", "beta-catenin", "ALP", "versican", "Lef1"]
PATHWAYS = ["Wnt/beta-catenin", "PI3K/Akt", "ERK1/2", "Sonic hedgehog", "BMP4", "TGF-beta2", "JAK/STAT"]
MIRNAS = ["miR-22-5p", "miR-181a-5p", "miR-218-5p", "miR-140-5p", "let-7b", "miR-122-5p", "miR-29a-3p", "miR-155"]
MOUSE_MODELS = ["C57BL/6 mice", "C3H/HeJ mice", "nude mice", "BALB/c mice", "testosterone-treated C57BL/6 mice"]
HUMAN_OUTCOMES = ["hair density", "hair count", "hair shaft diameter", "terminal hair density", "hair thickness"]
JOURNALS = [
    ("Journal of Cosmetic Dermatology", "J Cosmet Dermatol"), ("Stem Cell Research & Therapy", "Stem Cell Res Ther"),
    ("International Journal of Molecular Sciences", "Int J Mol Sci"), ("Dermatologic Surgery", "Dermatol Surg"),
    ("JAAD Case Reports", "JAAD Case Rep"), ("Experimental Dermatology", "Exp Dermatol"),
    ("The Journal of Investigative Dermatology", "J Invest Dermatol"), ("Skin Appendage Disorders", "Skin Appendage Disord"),
    ("Journal of Extracellular Vesicles", "J Extracell Vesicles"), ("Stem Cells International", "Stem Cells Int"),
    ("Frontiers in Cell and Developmental Biology", "Front Cell Dev Biol"), ("Aesthetic Plastic Surgery", "Aesthetic Plast Surg"),
    ("Journal of Dermatological Treatment", "J Dermatolog Treat"), ("Cells", "Cells"), ("Biomedicines", "Biomedicines"),
    ("Journal of Nanobiotechnology", "J Nanobiotechnology"), ("Archives of Dermatological Research", "Arch Dermatol Res"),
]
LAST_NAMES = ["Kim", "Lee", "Park", "Wang", "Li", "Zhang", "Chen", "Liu", "Silva", "Santos", "Rossi", "Müller",
              "Schmidt", "Nguyen", "Tanaka", "Suzuki", "García", "Martínez", "Smith", "Jones", "Brown", "Kowalski",
              "Novak", "Ivanova", "Haddad", "Cohen", "Okafor", "Singh", "Patel", "O'Brien", "Yilmaz", "Andersson"]
FIRST_NAMES = [("Jiwoo", "J"), ("Ana Maria", "AM"), ("Wei", "W"), ("Min-Jun", "MJ"), ("Luca", "L"), ("Sofia", "S"),
               ("Hiroshi", "H"), ("Emma", "E"), ("Oluwaseun", "O"), ("Priya", "P"), ("Mehmet", "M"), ("Karin", "K"),
               ("Xiaoming", "X"), ("Carlos A", "CA"), ("Yuki", "Y"), ("Thomas", "T"), ("Fatima", "F"), ("Jan", "J")]
MESH = {  # descriptor → UI
    "Humans": "D006801", "Animals": "D000818", "Mice": "D051379", "Male": "D008297", "Female": "D005260",
    "Adult": "D000328", "Middle Aged": "D008875", "Alopecia": "D000505", "Alopecia Areata": "D000506",
    "Hair Follicle": "D018859", "Hair": "D006197", "Exosomes": "D055354", "Extracellular Vesicles": "D000067128",
    "Mesenchymal Stem Cells": "D059630", "Cell Proliferation": "D049109", "Cells, Cultured": "D002478",
    "Platelet-Rich Plasma": "D053657", "Treatment Outcome": "D016896", "Wnt Signaling Pathway": "D060449",
    "MicroRNAs": "D035683", "Mice, Inbred C57BL": "D008810", "Signal Transduction": "D015398",
    "Intercellular Signaling Peptides and Proteins": "D036341", "Neoplasm Metastasis": "D009362",
    "Tumor Microenvironment": "D059016", "Retrospective Studies": "D012189", "Prospective Studies": "D011446",
    "Regeneration": "D012038", "Dermis": "D020405",
}
PUB_TYPE_UI = {
    "Journal Article": "D016428", "Randomized Controlled Trial": "D016449", "Clinical Trial": "D016430",
    "Observational Study": "D064888", "Case Reports": "D002363", "Review": "D016454",
    "Systematic Review": "D000078182", "Meta-Analysis": "D017418", "Editorial": "D016421", "Comment": "D016420",
    "Letter": "D016422", "Research Support, Non-U.S. Gov't": "D013485", "Retracted Publication": "D016441",
}

# -- designs: title templates, abstract sections (required sentence, optional sentences) -----------
# Slots are the keys of _context(); each section is (label, NlmCategory, required sentence, optional sentences).

_BACKGROUND = [
    "{Ves} are nanosized vesicles that carry proteins, lipids and microRNAs between cells.",
    "Dermal papilla cells regulate hair follicle cycling and the induction of anagen.",
    "Hair loss affects quality of life, and current drugs such as minoxidil and finasteride have limited efficacy.",
    "Paracrine factors secreted by mesenchymal stem cells, including VEGF, HGF and IGF-1, are thought to support hair growth.",
    "{Ves} derived from stem cells have been proposed as a cell-free alternative to stem cell therapy.",
    "Commercial exosome products are increasingly marketed for hair restoration despite limited clinical evidence.",
    "The {path} pathway is essential for the maintenance of dermal papilla cell inductivity.",
]
_DESIGNS: dict[str, dict] = {
    "rct": dict(
        weight=10, pub_types=["Journal Article", "Randomized Controlled Trial"],
        mesh=["Humans", "{cond_mesh}", "Exosomes", "Treatment Outcome", "Adult", "{sex_mesh}"],
        titles=["{Srca} {ves} for {cond}: a randomized, double-blind, placebo-controlled trial.",
                "Efficacy and safety of topical {abbr} in {person} with {cond}: a randomized controlled trial.",
                "Scalp injections of {ves} derived from {src} versus placebo in {cond}: a randomized trial."],
        sections=[
            ("BACKGROUND", "BACKGROUND", "{Ves} derived from {src} ({abbr}) have been proposed as a treatment for {cond}.", _BACKGROUND),
            ("OBJECTIVE", "OBJECTIVE", "To evaluate the efficacy and safety of {abbr} in {person} with {cond}.", []),
            ("METHODS", "METHODS", "In this randomized, double-blind, placebo-controlled trial, {n} {person} with {cond} were randomly assigned to scalp injections of {abbr} or saline every {every} weeks for {weeks} weeks.", [
                "The primary outcome was the change in {outcome} measured by phototrichogram at week {weeks}.",
                "Secondary outcomes included hair shaft diameter, global photographic assessment and patient satisfaction.",
                "Randomization was stratified by sex and baseline severity.",
                "Participants and investigators were blinded to treatment allocation.",
            ]),
            ("RESULTS", "RESULTS", "{Abbr} significantly increased {outcome} compared with placebo ({p}).", [
                "The mean {outcome} increased by {pct}% in the {abbr} group and by {pct2}% in the placebo group.",
                "{Abbr} did not significantly improve patient-reported satisfaction compared with placebo.",
                "Transient erythema and mild injection-site pain were the most common adverse events.",
                "No serious adverse events were observed during the {weeks}-week follow-up.",
                "Hair shaft diameter increased in both groups, with no significant difference between them.",
            ]),
            ("CONCLUSIONS", "CONCLUSIONS", "{Abbr} improved {outcome} in {person} with {cond} and were well tolerated.", [
                "Larger trials with longer follow-up are needed to confirm these findings.",
            ]),
        ]),
    "clinical": dict(
        weight=8, pub_types=["Journal Article", "Clinical Trial"],
        alt_pub_types=["Journal Article", "Observational Study"],
        mesh=["Humans", "{cond_mesh}", "Exosomes", "{sex_mesh}", "Middle Aged", "Prospective Studies"],
        titles=["Scalp exosome injections in {person} with {cond}: a prospective case series.",
                "Topical {abbr} for {cond}: an observational study of {n} patients.",
                "Real-world outcomes of {vesa} therapy for {cond}: a prospective pilot study."],
        sections=[
            ("BACKGROUND", "BACKGROUND", "Evidence on {ves} for {cond} in clinical practice is limited.", _BACKGROUND),
            ("METHODS", "METHODS", "We prospectively enrolled {n} {person} with {cond} who received {k} sessions of {abbr} injections at {every}-week intervals.", [
                "Patients were recruited at a single dermatology clinic between {y1} and {y2}.",
                "Standardized photographs and trichoscopy were taken at baseline and at {weeks} weeks.",
                "Patients did not use minoxidil or finasteride during the study.",
                "Treatment response was rated by two blinded dermatologists on a seven-point scale.",
            ]),
            ("RESULTS", "RESULTS", "{Outcome} increased in {n2} of {n} patients at {weeks} weeks.", [
                "The mean {outcome} increased from {d1} to {d2} hairs/cm2 ({p}).",
                "Mild transient erythema was reported by {n3} patients.",
                "Hair shedding decreased within the first {every} months of treatment.",
                "The response was maintained at {weeks2} weeks in most responders.",
                "Patients with shorter disease duration responded better than those with long-standing hair loss.",
                "No patient discontinued treatment because of adverse events.",
            ]),
            ("CONCLUSIONS", "CONCLUSIONS", "{Abbr} may be a safe option for {cond}, but controlled trials are needed.", []),
        ]),
    "case": dict(
        weight=8, pub_types=["Case Reports", "Journal Article"],
        mesh=["Humans", "{sex_mesh}", "Exosomes", "{cond_mesh}", "Adult"],
        titles=["Granulomatous reaction after exosome injection for hair loss: a case report.",
                "Regrowth of hair in {cond} after treatment with {abbr}: a case report.",
                "Alopecia and scalp nodules following cosmetic exosome injections."],
        sections=[
            ("INTRODUCTION", "BACKGROUND", "Exosome injections are increasingly offered for {cond}.", _BACKGROUND[:3]),
            ("CASE PRESENTATION", "METHODS", "A {age}-year-old {sex} with {cond} received {k} sessions of scalp injections of a commercial exosome product.", [
                "Physical examination revealed erythematous nodules at the injection sites.",
                "Histology showed a granulomatous inflammation with foreign-body giant cells.",
                "Trichoscopy showed an increase in terminal hairs after {weeks} weeks.",
                "The lesions resolved after intralesional corticosteroids.",
                "The product had been purchased online and its origin and content were not documented.",
                "Laboratory tests, including a complete blood count and thyroid function, were normal.",
                "A scalp biopsy showed miniaturized follicles and perifollicular lymphocytic infiltrates.",
                "Cultures for bacteria, fungi and mycobacteria were negative.",
                "At follow-up after {weeks} weeks, hair density had improved and no new lesions had appeared.",
            ]),
            ("CONCLUSIONS", "CONCLUSIONS", "Clinicians should be aware that exosome injections can cause serious inflammatory reactions.", [
                "This case suggests that {ves} may promote hair regrowth in selected patients.",
                "Exosome products for hair loss are not approved and their safety has not been established.",
            ]),
        ]),
    "animal": dict(
        weight=22, pub_types=["Journal Article", "Research Support, Non-U.S. Gov't"],
        mesh=["Animals", "Mice", "Mice, Inbred C57BL", "Hair Follicle", "Exosomes", "{cond_mesh}", "Regeneration"],
        titles=["{Srca}-derived {ves} promote hair follicle regrowth in mice.",
                "{Ves} from {src} accelerate the telogen-to-anagen transition in {model}.",
                "{Abbr} carrying {mir} promote hair growth via the {path} pathway in mice.",
                "Topical {abbr} do not rescue hair loss in a mouse model of {cond}."],
        sections=[
            ("BACKGROUND", "BACKGROUND", "{Ves} secreted by {src} contain growth factors that may act on the hair follicle.", _BACKGROUND),
            ("METHODS", "METHODS", "We isolated {ves} from cultured {src} by ultracentrifugation and injected them into the dorsal skin of {n} {model}.", [
                "{Ves} were characterized by transmission electron microscopy, nanoparticle tracking analysis and western blotting for CD63 and TSG101.",
                "Hair regrowth was scored photographically for {k} weeks after depilation.",
                "The expression of {f1}, {f2} and Ki-67 was assessed by immunohistochemistry.",
                "Mice received {k} intradermal injections of {abbr}, minoxidil or PBS at {every}-day intervals.",
                "Skin samples were collected on day {days} for histology.",
            ]),
            ("RESULTS", "RESULTS", "{Abbr} accelerated the telogen-to-anagen transition and increased hair regrowth compared with PBS.", [
                "{Abbr} upregulated {f1} and {f2} in the hair follicle.",
                "The number of Ki-67+ cells in the hair bulb rose by {pct}%.",
                "{Mir} was enriched in {abbr} and activated {path} signalling in dermal papilla cells.",
                "Inhibition of {path} signalling abolished the effect of {abbr} on hair growth.",
                "{Abbr} did not increase hair follicle density in the {cond} model.",
                "No inflammation or weight loss was observed in treated mice.",
                "Follicle length and skin thickness increased after {k} injections.",
            ]),
            ("CONCLUSIONS", "CONCLUSIONS", "These findings suggest that {abbr} may be a candidate for treating hair loss.", [
                "Human studies are needed before clinical use.",
            ]),
        ]),
    "in_vitro": dict(
        weight=18, pub_types=["Journal Article"],
        mesh=["Humans", "Cells, Cultured", "Dermis", "Cell Proliferation", "Exosomes", "Hair Follicle"],
        titles=["{Ves} derived from {src} enhance proliferation of human dermal papilla cells in vitro.",
                "{Mir} in {abbr} activates {path} signalling in human dermal papilla cells.",
                "Growth factor content of {ves} released by {src} and their effect on dermal papilla cells."],
        sections=[
            ("BACKGROUND", "BACKGROUND", "Dermal papilla cells lose their hair-inductive capacity in culture and in androgenetic alopecia.", _BACKGROUND),
            ("OBJECTIVE", "OBJECTIVE", "To examine whether {ves} from {src} act on human dermal papilla cells in vitro.", []),
            ("METHODS", "METHODS", "Human dermal papilla cells were treated with {abbr} at {conc} microg/mL for {hours} hours.", [
                "Proliferation was measured by CCK-8 assay and EdU incorporation.",
                "The content of {f1}, {f2} and {f3} in {abbr} was quantified by ELISA.",
                "Gene expression was analysed by quantitative PCR and western blotting.",
                "{Ves} were isolated by size-exclusion chromatography and characterized by nanoparticle tracking analysis.",
                "Uptake of labelled {abbr} by dermal papilla cells was followed by confocal microscopy.",
                "Dermal papilla cells were exposed to dihydrotestosterone to model androgenetic alopecia.",
            ]),
            ("RESULTS", "RESULTS", "{Abbr} increased dermal papilla cell proliferation and the expression of {f1} and {f2}.", [
                "Ki-67+ cells rose by {pct}% compared with untreated controls.",
                "{Abbr} reduced dihydrotestosterone-induced apoptosis of dermal papilla cells.",
                "Knockdown of {mir} abolished the effect of {abbr} on proliferation.",
                "{Abbr} activated {path} signalling and increased alkaline phosphatase activity.",
                "{Ves} from senescent cells did not increase proliferation.",
                "Dermal papilla cells took up {abbr} within {hours2} hours.",
                "Co-culture with {abbr} restored the expression of {f3} in aggregated dermal papilla spheroids.",
            ]),
            ("CONCLUSIONS", "CONCLUSIONS", "{Srca}-derived {ves} stimulate dermal papilla cells and could promote hair growth.", []),
        ]),
    "systematic": dict(
        weight=7, pub_types=["Journal Article", "Systematic Review"],
        alt_pub_types=["Journal Article", "Meta-Analysis", "Systematic Review"],
        mesh=["Humans", "Exosomes", "Alopecia", "Treatment Outcome"],
        titles=["Exosome-based therapies for hair loss: a systematic review.",
                "Extracellular vesicles for {cond}: a systematic review and meta-analysis.",
                "Efficacy of exosomes in alopecia: a systematic review of preclinical and clinical studies."],
        sections=[
            ("BACKGROUND", "BACKGROUND", "Exosome therapies are marketed for {cond}.", _BACKGROUND),
            ("METHODS", "METHODS", "We searched PubMed, Embase and the Cochrane Library for studies of {ves} in hair loss published until {y2}.", [
                "Two reviewers independently screened records and assessed the risk of bias.",
                "A random-effects meta-analysis was performed for {outcome}.",
                "Studies of {ves} from any source in animals or humans with hair loss were eligible.",
                "The certainty of evidence was rated with the GRADE approach.",
            ]),
            ("RESULTS", "RESULTS", "{k2} preclinical studies and {k} human studies were included.", [
                "No randomized controlled trials were identified.",
                "Most animal studies reported increased hair regrowth after treatment with {ves}.",
                "The human studies were small, uncontrolled and at high risk of bias.",
                "The pooled mean difference in {outcome} was {d1} hairs/cm2 (95% CI {d0} to {d2}).",
                "Sources of {ves} included adipose tissue, bone marrow, umbilical cord and dermal papilla cells.",
                "Heterogeneity in isolation methods, doses and outcome measures precluded firm conclusions.",
                "Adverse events were rarely reported and were mild.",
            ]),
            ("CONCLUSIONS", "CONCLUSIONS", "Preclinical data suggest that {ves} may promote hair growth, but rigorous clinical evidence in humans is lacking.", []),
        ]),
    "review": dict(
        weight=15, pub_types=["Journal Article", "Review"],
        mesh=["Humans", "Animals", "Exosomes", "Alopecia", "Hair Follicle",
              "Intercellular Signaling Peptides and Proteins"],
        titles=["Exosomes in hair restoration: hype or hope?",
                "Extracellular vesicles in hair follicle biology and regeneration: a review.",
                "Stem cell-derived exosomes for {cond}: current evidence and future perspectives.",
                "The role of growth factors and {ves} in the hair cycle."],
        sections=[
            ("", None, "{Ves} have attracted attention as a cell-free therapy for hair loss.", _BACKGROUND + [
                "In this review, we summarize the evidence on {ves} in hair follicle regeneration.",
                "We discuss the cargo of {ves}, including {f1}, {f2} and {mir}, and their effects on dermal papilla cells.",
                "Animal studies consistently show that {ves} promote the anagen phase in mice.",
                "Clinical evidence is limited to small case series and a few controlled trials.",
                "Standardization of isolation methods and dosing remains a major challenge.",
                "Safety concerns include contamination, immunogenicity and unregulated commercial products.",
                "Future trials should use validated outcomes such as {outcome}.",
            ]),
        ]),
    "off_topic": dict(  # exosome papers the topic's query also finds
        weight=7, pub_types=["Journal Article"],
        mesh=["Animals", "Mice", "Humans", "Exosomes", "Neoplasm Metastasis", "Tumor Microenvironment"],
        titles=["Tumor-derived exosomes promote cancer metastasis by preparing the pre-metastatic niche.",
                "Exosomal {mir} from cancer cells promotes angiogenesis via {path} signalling."],
        sections=[
            ("BACKGROUND", "BACKGROUND", "Exosomes secreted by cancer cells transfer oncogenic proteins and microRNAs to distant organs.", [
                "Metastasis is the main cause of death in patients with breast cancer.",
                "How tumor cells prepare distant organs for metastatic colonization remains unclear.",
                "Circulating exosomal microRNAs have been proposed as biomarkers of cancer progression.",
            ]),
            ("METHODS", "METHODS", "Exosomes were isolated from the culture medium of breast cancer cell lines and injected into {n} nude mice.", [
                "Lung metastases were counted after {k} weeks.",
                "Plasma exosomal {mir} was measured in {n2} patients with breast cancer.",
                "Endothelial cell migration and tube formation were assessed in vitro.",
            ]),
            ("RESULTS", "RESULTS", "Tumor exosomes promoted metastasis in mouse models of breast cancer.", [
                "Exosomal {mir} increased endothelial cell migration and tube formation.",
                "Blocking exosome secretion with GW4869 reduced lung metastasis by {pct}%.",
                "Exosomes from mesenchymal stem cells did not increase tumor growth in this model.",
                "Patients with high levels of circulating exosomal {mir} had shorter survival ({p}).",
                "Exosomal {mir} activated {path} signalling in lung fibroblasts.",
            ]),
            ("CONCLUSIONS", "CONCLUSIONS", "These findings identify tumor exosomes as a therapeutic target.", [
                "Exosomal {mir} may serve as a prognostic biomarker in breast cancer.",
            ]),
        ]),
    "editorial": dict(
        weight=5, pub_types=["Editorial"], alt_pub_types=["Comment", "Letter"], no_abstract=True,
        mesh=["Humans", "Exosomes", "Alopecia"],
        titles=["Exosomes for hair loss: proceed with caution.",
                "Comment on: {Srca} {ves} for {cond}.",
                "The regulation of exosome products in aesthetic medicine."]),
}
_DESIGN_NAMES = list(_DESIGNS)
_DESIGN_WEIGHTS = [_DESIGNS[d]["weight"] for d in _DESIGN_NAMES]


def _capitalize(text: str) -> str:
    return text[:1].upper() + text[1:]


def _context(rng: random.Random) -> dict[str, str]:
    src, src_attr, src_abbr = rng.choice(SOURCES)
    ves, ves_attr, ves_abbr = rng.choice(VESICLES)
    cond = rng.choice(CONDITIONS)
    f1, f2, f3 = rng.sample(FACTORS, 3)
    sex = rng.choice(["woman", "man"])
    n = rng.randint(8, 160)
    d1 = rng.randint(8, 30)
    ctx = dict(
        src=src, srca=src_attr, ves=ves, vesa=ves_attr, abbr=f"{src_abbr}-{ves_abbr}", cond=cond, f1=f1, f2=f2, f3=f3,
        path=rng.choice(PATHWAYS), mir=rng.choice(MIRNAS), model=rng.choice(MOUSE_MODELS),
        n=str(n), n2=str(rng.randint(max(1, n // 4), n)), n3=str(rng.randint(1, max(1, n // 3))),
        weeks=str(rng.choice([12, 16, 24, 26])), weeks2=str(rng.choice([36, 48, 52])),
        days=str(rng.choice([14, 18, 21, 28])), hours2=str(rng.choice([2, 4, 6])),
        every=str(rng.choice([2, 3, 4])), age=str(rng.randint(19, 68)), sex=sex,
        person="women" if cond == "female pattern hair loss" else rng.choice(["men", "patients", "participants",
                                                                              "women"]),
        outcome=rng.choice(HUMAN_OUTCOMES), pct=str(rng.randint(12, 65)), pct2=str(rng.randint(1, 11)),
        p=rng.choice(["p < 0.001", "p < 0.01", "p = 0.003", "p = 0.02", "p < 0.05"]),
        k=str(rng.randint(2, 6)), k2=str(rng.randint(9, 40)), y1=str(rng.randint(2012, 2018)),
        y2=str(rng.randint(2019, 2025)), d0=f"{d1 / 3:.1f}", d1=str(d1), d2=str(d1 + rng.randint(5, 30)),
        conc=str(rng.choice([10, 25, 50, 100])), hours=str(rng.choice([24, 48, 72])),
        cond_mesh="Alopecia Areata" if cond == "alopecia areata" else "Alopecia",
        sex_mesh="Female" if sex == "woman" or cond == "female pattern hair loss" else "Male",
    )
    for key in ("src", "srca", "ves", "outcome"):
        ctx[_capitalize(key)] = _capitalize(ctx[key])
    ctx["Abbr"], ctx["Mir"] = ctx["abbr"], ctx["mir"]  # hUCMSC-Exos, miR-22-5p begin a sentence as they are
    return ctx


def _tokens(text: str) -> int:
    return len(_TOKEN.findall(text))


def _abstract(rng: random.Random, sections: list, ctx: dict) -> list[tuple[str, str | None, str]]:
    """(label, NlmCategory, text) sections of 200-250 tokens (spaCy-like count), or as close as the pool allows."""
    chosen = [[s[2].format(**ctx)] for s in sections]
    total = sum(_tokens(t) for part in chosen for t in part)
    target = rng.randint(200, 250)
    pool = sections[0][3]
    # at most two background sentences when there are methods and results to tell
    background = rng.sample(pool, min(len(pool), 2)) if len(sections) > 1 else pool
    optional = [(0, t) for t in background] + [(i, t) for i, s in enumerate(sections) if i for t in s[3]]
    rng.shuffle(optional)
    for i, template in optional:
        if total >= target:
            break
        sentence = template.format(**ctx)
        if sentence in chosen[i] or total + _tokens(sentence) > 250:
            continue
        position = len(chosen[i]) if i else rng.randint(0, len(chosen[i]))  # background sentences in any order
        chosen[i].insert(position, sentence)
        total += _tokens(sentence)
    return [(s[0], s[1], " ".join(part)) for s, part in zip(sections, chosen)]


def _markup(text: str, italic: bool) -> str:
    """Escape for XML, then add the inline markup real abstracts carry."""
    text = escape(text).replace("Ki-67+", "Ki-67<sup>+</sup>").replace("hairs/cm2", "hairs/cm<sup>2</sup>")
    return text.replace("in vitro", "<i>in vitro</i>").replace("in vivo", "<i>in vivo</i>") if italic else text


def _date(rng: random.Random) -> dt.date:
    return FIRST_DAY + dt.timedelta(days=rng.randrange((LAST_DAY - FIRST_DAY).days + 1))


def _pub_date(rng: random.Random, day: dt.date) -> str:
    month = _MONTHS[day.month - 1]
    form = rng.random()
    if form < 0.5:
        return f"<Year>{day.year}</Year><Month>{month}</Month>"
    if form < 0.7:
        return f"<Year>{day.year}</Year><Month>{month}</Month><Day>{day.day:02d}</Day>"
    if form < 0.8:
        return f"<Year>{day.year}</Year>"
    if form < 0.95:
        end = _MONTHS[min(day.month, 11)]
        return f"<MedlineDate>{day.year} {_MONTHS[min(day.month - 1, 10)]}-{end}</MedlineDate>"
    season = ("Winter", "Spring", "Summer", "Fall")[(day.month % 12) // 3]
    return f"<Year>{day.year}</Year><Season>{season}</Season>"


def _history(day: dt.date, status: str) -> str:
    return (f'<PubMedPubDate PubStatus="{status}"><Year>{day.year}</Year><Month>{day.month}</Month>'
            f"<Day>{day.day}</Day><Hour>6</Hour><Minute>0</Minute></PubMedPubDate>")


def _authors(rng: random.Random) -> str:
    if rng.random() < 0.03:
        return '<Author ValidYN="Y"><CollectiveName>Exosome Hair Research Group</CollectiveName></Author>'
    people = []
    for _ in range(rng.choice([1, 2, 3, 4, 4, 5, 6, 6, 7, 8, 10, 12])):
        first, initials = rng.choice(FIRST_NAMES)
        people.append(f'<Author ValidYN="Y"><LastName>{escape(rng.choice(LAST_NAMES))}</LastName>'
                      f"<ForeName>{first}</ForeName><Initials>{initials}</Initials></Author>")
    return "\n        ".join(people)


def _abstract_xml(rng: random.Random, design: dict, ctx: dict, italic: bool) -> str:
    sections = _abstract(rng, design["sections"], ctx)
    if len(sections) > 1 and rng.random() < 0.6:
        with_category = rng.random() < 0.8  # some journals' labels NLM has not mapped to a category
        parts = [f'<AbstractText Label="{label}"' + (f' NlmCategory="{category}"' if with_category else "")
                 + f">{_markup(text, italic)}</AbstractText>" for label, category, text in sections]
    else:
        parts = [f"<AbstractText>{_markup(' '.join(text for _, _, text in sections), italic)}</AbstractText>"]
    return "<Abstract>\n        " + "\n        ".join(parts) + "\n      </Abstract>\n      "


_CHECK_TAGS = {"Humans", "Animals", "Mice", "Mice, Inbred C57BL", "Male", "Female", "Adult", "Middle Aged"}


def _mesh_xml(names: list[str]) -> str:
    """MeSH headings in NLM's alphabetical order; the first two topical ones (not check tags) are major."""
    if not names:
        return ""
    major = [n for n in names if n not in _CHECK_TAGS][:2]
    headings = "".join(
        f'\n      <MeshHeading><DescriptorName UI="{MESH[name]}" MajorTopicYN="{"Y" if name in major else "N"}">'
        f"{escape(name)}</DescriptorName></MeshHeading>" for name in sorted(names))
    return f"\n    <MeshHeadingList>{headings}\n    </MeshHeadingList>"


def _keywords_xml(rng: random.Random, ctx: dict) -> str:
    if rng.random() >= 0.4:
        return ""
    words = rng.sample([ctx["ves"], ctx["cond"], ctx["f1"], "hair growth", "dermal papilla", "regeneration"], 3)
    return ('\n    <KeywordList Owner="NOTNLM">'
            + "".join(f'<Keyword MajorTopicYN="N">{escape(w)}</Keyword>' for w in words) + "</KeywordList>")


def _comments_xml(pmid: int, retracted: bool, revision: int) -> str:
    comments = []
    if retracted:
        comments.append(f'<CommentsCorrections RefType="RetractionIn"><RefSource>Retraction notice.</RefSource>'
                        f'<PMID Version="1">{pmid + 7}</PMID></CommentsCorrections>')
    for r in range(1, revision + 1):
        comments.append(f'<CommentsCorrections RefType="ErratumIn"><RefSource>Erratum {r}.</RefSource>'
                        f'<PMID Version="1">{pmid + 100 * r}</PMID></CommentsCorrections>')
    if not comments:
        return ""
    return "\n    <CommentsCorrectionsList>" + "".join(comments) + "</CommentsCorrectionsList>"


def synthetic_article(pmid: int, seed: int = 0, revision: int = 0) -> bytes:
    """One ``<PubmedArticle>`` as UTF-8 bytes; the same arguments give the same bytes."""
    rng = random.Random(f"synthetic-pubmed:{seed}:{pmid}")
    design = _DESIGNS[rng.choices(_DESIGN_NAMES, _DESIGN_WEIGHTS)[0]]
    ctx = _context(rng)
    italic = rng.random() < 0.5
    entrez = _date(rng)
    pub_types = list(design["alt_pub_types"] if "alt_pub_types" in design and rng.random() < 0.4
                     else design["pub_types"])
    retracted = rng.random() < 0.005
    if retracted:
        pub_types.append("Retracted Publication")
    title = _markup(_capitalize(rng.choice(design["titles"]).format(**ctx)), italic)
    with_abstract = not design.get("no_abstract") and rng.random() >= 0.06
    abstract = _abstract_xml(rng, design, ctx, italic) if with_abstract else ""
    indexed = rng.random() < 0.85  # the rest are not (yet) indexed for MEDLINE: no MeSH
    mesh = _mesh_xml(list(dict.fromkeys(m.format(**ctx) for m in design["mesh"])) if indexed else [])
    keywords = _keywords_xml(rng, ctx)
    journal, iso = rng.choice(JOURNALS)
    revised = entrez + dt.timedelta(days=rng.randint(1, 200) + 60 * revision)
    ids = f'<ArticleId IdType="pubmed">{pmid}</ArticleId>'
    if rng.random() < 0.85:
        ids += f'<ArticleId IdType="doi">10.5555/exo.{entrez.year}.{pmid}</ArticleId>'
    if rng.random() < 0.3:
        ids += f'<ArticleId IdType="pmc">PMC{9_000_000 + pmid % 1_000_000}</ArticleId>'
    pub_types_xml = "".join(f'\n        <PublicationType UI="{PUB_TYPE_UI[t]}">{escape(t)}</PublicationType>'
                            for t in pub_types)
    issue = (f"<Volume>{entrez.year - 2000 + rng.randint(0, 9)}</Volume><Issue>{rng.randint(1, 12)}</Issue>"
             f"<PubDate>{_pub_date(rng, entrez)}</PubDate>")
    xml = f"""<PubmedArticle>
  <MedlineCitation Status="{"MEDLINE" if indexed else "PubMed-not-MEDLINE"}" Owner="NLM">
    <PMID Version="1">{pmid}</PMID>
    <DateRevised><Year>{revised.year}</Year><Month>{revised.month:02d}</Month><Day>{revised.day:02d}</Day></DateRevised>
    <Article PubModel="Print-Electronic">
      <Journal>
        <JournalIssue CitedMedium="Internet">{issue}</JournalIssue>
        <Title>{escape(journal)}</Title>
        <ISOAbbreviation>{escape(iso)}</ISOAbbreviation>
      </Journal>
      <ArticleTitle>{title}</ArticleTitle>
      <Pagination><MedlinePgn>{rng.randint(1, 900)}-{rng.randint(901, 999)}</MedlinePgn></Pagination>
      {abstract}<AuthorList CompleteYN="Y">
        {_authors(rng)}
      </AuthorList>
      <Language>eng</Language>
      <PublicationTypeList>{pub_types_xml}
      </PublicationTypeList>
    </Article>
    <MedlineJournalInfo><Country>United States</Country><MedlineTA>{escape(iso)}</MedlineTA></MedlineJournalInfo>\
{_comments_xml(pmid, retracted, revision)}{mesh}{keywords}
  </MedlineCitation>
  <PubmedData>
    <History>
      {_history(entrez - dt.timedelta(days=rng.randint(40, 200)), "received")}
      {_history(entrez, "entrez")}
      {_history(entrez, "pubmed")}
      {_history(entrez + dt.timedelta(days=rng.randint(1, 90)), "medline")}
    </History>
    <PublicationStatus>{"ppublish" if rng.random() < 0.7 else "epublish"}</PublicationStatus>
    <ArticleIdList>{ids}</ArticleIdList>
  </PubmedData>
</PubmedArticle>
"""
    return xml.encode("utf-8")


def synthetic_articles(n: int, seed: int = 0, start_pmid: int = DEFAULT_START_PMID) -> Iterator[bytes]:
    """``n`` records, PMIDs ``start_pmid`` … ``start_pmid + n - 1``, each as ``<PubmedArticle>`` bytes."""
    for pmid in range(start_pmid, start_pmid + n):
        yield synthetic_article(pmid, seed)


# -- files ----------------------------------------------------------------------------------------

def _article_bytes(article: bytes | etree._Element) -> bytes:
    return article if isinstance(article, bytes) else etree.tostring(article, encoding="utf-8")


def write_pubmed_set(path: Path | str, articles: Iterable[bytes | etree._Element], deletions: Sequence[str | int] = (),
                     gz: bool = True) -> Path:
    """Write a baseline/update-style ``PubmedArticleSet`` (``DeleteCitation`` last) and ``NAME.md5`` beside it.

    Written as the articles come, so a file of any size takes little memory. The gzip header has no
    timestamp, so the same articles give the same bytes and checksum.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as raw:
        out = gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=6, mtime=0) if gz else raw
        try:
            out.write(HEADER)
            for article in articles:
                out.write(_article_bytes(article))
            if deletions:
                pmids = "".join(f'\n    <PMID Version="1">{pmid}</PMID>' for pmid in deletions)
                out.write(f"<DeleteCitation>{pmids}\n</DeleteCitation>\n".encode())
            out.write(FOOTER)
        finally:
            if gz:
                out.close()
    md5 = hashlib.md5()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            md5.update(chunk)
    path.with_name(path.name + ".md5").write_text(f"MD5({path.name})= {md5.hexdigest()}\n", encoding="ascii")
    return path


def add_to_loopback(server: "LoopbackEutils", articles: Iterable[bytes | etree._Element],
                    chunk: int = 1000) -> list[str]:
    """Serve these records from a running :class:`~pipeline.testing.loopback_eutils.LoopbackEutils`
    (their Entrez dates drive its esearch); returns their PMIDs."""
    pmids: list[str] = []
    batch: list[bytes] = []
    for article in articles:
        batch.append(_article_bytes(article))
        if len(batch) == chunk:
            pmids += server.add_xml(HEADER + b"".join(batch) + FOOTER)
            batch = []
    if batch:
        pmids += server.add_xml(HEADER + b"".join(batch) + FOOTER)
    return pmids


def bulk_name(number: int, year: int = 25) -> str:
    return f"pubmed{year:02d}n{number:04d}.xml.gz"


def write_bulk_layout(outdir: Path | str, records: int = 1000, files: int = 2, updates: int = 1, seed: int = 0,
                      start_pmid: int = DEFAULT_START_PMID, year: int = 25, loopback: bool = False) -> list[Path]:
    """NLM's ``baseline/`` + ``updatefiles/`` layout: ``records`` split over ``files`` baseline files, then
    ``updates`` update files, each with new records (5% of ``records``), revised baseline records (1%) and
    deletions of baseline records (0.5%). With ``loopback``, ``loopback/synthetic.xml`` holds the records as
    they stand after all files, for the loopback E-utilities server. Returns the data files written."""
    outdir = Path(outdir)
    written = []
    per_file = -(-records // files) if files else 0
    for i in range(files):
        first = start_pmid + i * per_file
        pmids = range(first, min(first + per_file, start_pmid + records))
        path = outdir / "baseline" / bulk_name(i + 1, year)
        written.append(write_pubmed_set(path, (synthetic_article(p, seed) for p in pmids)))
    state = {pmid: 0 for pmid in range(start_pmid, start_pmid + records)}  # PMID → revision now current
    next_pmid = start_pmid + records
    for u in range(1, updates + 1):
        rng = random.Random(f"synthetic-pubmed-updates:{seed}:{u}")
        baseline = [p for p in range(start_pmid, start_pmid + records) if p in state]
        picked = rng.sample(baseline, min(len(baseline), max(1, records // 100) + max(1, records // 200)))
        revised, deleted = sorted(picked[: max(1, records // 100)]), sorted(picked[max(1, records // 100):])
        new = list(range(next_pmid, next_pmid + max(1, records // 20)))
        next_pmid += len(new)
        for pmid in revised:
            state[pmid] += 1
        state.update({pmid: 0 for pmid in new})
        for pmid in deleted:
            del state[pmid]
        articles = (synthetic_article(p, seed, state[p]) for p in revised + new)
        path = outdir / "updatefiles" / bulk_name(files + u, year)
        written.append(write_pubmed_set(path, articles, deletions=deleted))
    if loopback:
        write_pubmed_set(outdir / "loopback" / "synthetic.xml",
                         (synthetic_article(p, seed, r) for p, r in sorted(state.items())), gz=False)
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write synthetic PubMed baseline and update files (NLM's layout).")
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--records", type=int, default=1000, help="records in the baseline (default 1000)")
    parser.add_argument("--files", type=int, default=2, help="baseline files to split them over (default 2)")
    parser.add_argument("--updates", type=int, default=1, help="update files after the baseline (default 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--start-pmid", type=int, default=DEFAULT_START_PMID)
    parser.add_argument("--year", type=int, default=25, help="two-digit year in the file names (default 25)")
    parser.add_argument("--loopback", action="store_true",
                        help="also write loopback/synthetic.xml for python -m pipeline.testing.loopback_eutils")
    args = parser.parse_args(argv)
    if args.records < 1 or args.files < 1 or args.updates < 0:
        parser.error("--records and --files must be at least 1, --updates at least 0")
    paths = write_bulk_layout(args.outdir, args.records, args.files, args.updates, args.seed, args.start_pmid,
                              args.year, args.loopback)
    for path in paths:
        print(f"{path}  {path.stat().st_size:,} bytes")
    if args.loopback:
        print(f"serve the same records: python -m pipeline.testing.loopback_eutils {args.outdir / 'loopback'}")


if __name__ == "__main__":
    main()
