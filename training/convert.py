"""Convert the corpora under ``../shared/corpora`` into spaCy ``.spacy`` training files.

    python -m training.convert ../shared/corpora training/corpus

writes ``<name>/train.spacy`` and ``<name>/dev.spacy`` for each corpus, plus a ``conversion.json``
with sentence, token and entity counts (and how many corpus tokens the scispaCy tokenizer split).
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from spacy.tokens import DocBin

from pipeline.evaluation.corpora import UD1_TO_UD2, ner_doc, parsed_doc, read_conll, read_iob, tagged_doc
from pipeline.nlp.loader import load_base_model

log = logging.getLogger(__name__)

NER_CORPORA = {"bc5cdr": "mtl2016/BC5CDR-IOB", "ncbi": "mtl2016/NCBI-disease-IOB",
               "bionlp13cg": "mtl2016/BioNLP13CG-IOB"}


def convert_ner(nlp, source: Path, target: Path) -> dict:
    bin_ = DocBin(store_user_data=False)
    stats = {"sentences": 0, "corpus_tokens": 0, "tokens": 0, "entities": 0}
    for sentence in read_iob(source):
        doc = ner_doc(nlp, sentence)
        bin_.add(doc)
        stats["sentences"] += 1
        stats["corpus_tokens"] += len(sentence.tokens)
        stats["tokens"] += len(doc)
        stats["entities"] += len(doc.ents)
    target.parent.mkdir(parents=True, exist_ok=True)
    bin_.to_disk(target)
    return stats


def convert_tagged(nlp, source: Path, target: Path) -> dict:
    bin_ = DocBin(attrs=["ORTH", "TAG", "SPACY"])
    n = tokens = 0
    for sentence in read_iob(source):
        bin_.add(tagged_doc(nlp.vocab, sentence))
        n += 1
        tokens += len(sentence.tokens)
    target.parent.mkdir(parents=True, exist_ok=True)
    bin_.to_disk(target)
    return {"sentences": n, "tokens": tokens}


def convert_parsed(nlp, source: Path, target: Path, label_map=None) -> dict:
    bin_ = DocBin(attrs=["ORTH", "TAG", "HEAD", "DEP", "SPACY", "SENT_START"])
    n = tokens = 0
    for sentence in read_conll(source, label_map):
        bin_.add(parsed_doc(nlp.vocab, sentence))
        n += 1
        tokens += len(sentence.words)
    target.parent.mkdir(parents=True, exist_ok=True)
    bin_.to_disk(target)
    return {"sentences": n, "tokens": tokens}


def convert_all(corpora: Path, out: Path) -> dict:
    nlp = load_base_model("blank:en")
    report = {}
    for name, folder in NER_CORPORA.items():
        for split, file in (("train", "train.tsv"), ("dev", "devel.tsv")):
            report[f"{name}/{split}"] = convert_ner(nlp, corpora / folder / file, out / name / f"{split}.spacy")
            log.info("%s/%s: %s", name, split, report[f"{name}/{split}"])
    for split, file in (("train", "train.tsv"), ("dev", "devel.tsv")):
        report[f"genia_pos/{split}"] = convert_tagged(nlp, corpora / "mtl2016/GENIA-pos" / file,
                                                      out / "genia_pos" / f"{split}.spacy")
    report["ewt/train"] = convert_parsed(nlp, corpora / "ud-english-ewt/en_ewt-ud-train.conllu.gz",
                                         out / "ewt" / "train.spacy")
    report["ewt/dev"] = convert_parsed(nlp, corpora / "ud-english-ewt/en_ewt-ud-dev.conllu",
                                       out / "ewt" / "dev.spacy")
    report["genia_dep/dev"] = convert_parsed(nlp, corpora / "genia-dep-scibert/dev.txt",
                                             out / "genia_dep" / "dev.spacy", UD1_TO_UD2)
    (out / "conversion.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpora", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    print(json.dumps(convert_all(args.corpora, args.out), indent=2))


if __name__ == "__main__":
    main()
