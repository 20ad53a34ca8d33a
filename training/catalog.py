"""The models this project trains and ships, and the corpora each is trained and scored on."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelSpec:
    name: str  # the installable package name, loadable with spacy.load(name)
    task: str  # ner, tagger, parser, sentence_roles
    train: str  # path under ../shared/corpora
    dev: str
    description: str
    published: str  # scispaCy's published test-split figure for the same corpus, for docs/models.md
    abstracts: str = ""  # the corpus's original PubTator file (under ../shared/corpora): the dev abstracts


NER_MODELS = (
    ModelSpec("en_exoclaims_ner_bc5cdr", "ner", "mtl2016/BC5CDR-IOB/train.tsv", "mtl2016/BC5CDR-IOB/devel.tsv",
              "chemicals and diseases (BioCreative V CDR)", "en_ner_bc5cdr_md: 84.28 F1 (test)",
              abstracts="bc5cdr-pubtator/CDR_DevelopmentSet.PubTator.txt"),
    ModelSpec("en_exoclaims_ner_ncbi", "ner", "mtl2016/NCBI-disease-IOB/train.tsv",
              "mtl2016/NCBI-disease-IOB/devel.tsv", "diseases (NCBI-disease)",
              "no shipped scispaCy model; scispaCy paper (Neumann et al. 2019, Table 5): 81.65 F1 (test)",
              abstracts="ncbi-disease-original/NCBIdevelopset_corpus.txt"),
    ModelSpec("en_exoclaims_ner_bionlp13cg", "ner", "mtl2016/BioNLP13CG-IOB/train.tsv",
              "mtl2016/BioNLP13CG-IOB/devel.tsv",
              "genes/gene products, cells, tissues, organs, cancer, chemicals, organisms (BioNLP13CG)",
              "en_ner_bionlp13cg_md: 77.84 F1 (test)"),
)
CORE_MODEL = ModelSpec("en_exoclaims_core", "tagger+parser", "mtl2016/GENIA-pos/train.tsv",
                       "mtl2016/GENIA-pos/devel.tsv",
                       "PTB tagger (GENIA POS) and dependency parser (UD English-EWT), scispaCy tokenizer",
                       "en_core_sci_sm: POS 98.18 acc, UAS 89.18 / LAS 87.15 (GENIA test)")
SENTENCE_ROLES_MODEL = ModelSpec(
    "en_exoclaims_sentence_roles", "sentence_roles", "scifact/corpus.jsonl.gz (structured abstracts, 85%)",
    "scifact/corpus.jsonl.gz (structured abstracts, 15% by abstract)",
    "sentence roles in abstracts (BACKGROUND, OBJECTIVE, METHODS, RESULTS, CONCLUSIONS): textcat plus "
    "position and role-transition priors", "no scispaCy model; PubMed 200k RCT (Dernoncourt & Lee 2017): 89.9 F1")
