"""Subword word vectors (floret) trained on the corpora's unlabeled text, for the NER models.

    python -m training.vectors ../shared/corpora training/corpus/vectors

Text: the training splits of every MTL-2016 corpus, GENIA POS, the JNLPBA and BC5CDR/NCBI training
abstracts, SciFact's abstracts and BioScope's abstracts, tokenised with scispaCy's tokenizer. Sentences
that occur in a dev split we report on are left out, so dev figures stay clean. floret stores vectors
for hashed character n-grams, so any word, including unseen chemical names, gets a vector, and the
table stays small (``bucket`` rows).
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Iterator

from pipeline.evaluation.corpora import read_iob
from pipeline.nlp.loader import load_base_model

log = logging.getLogger(__name__)

DEV_FILES = ("mtl2016/BC5CDR-IOB/devel.tsv", "mtl2016/NCBI-disease-IOB/devel.tsv", "mtl2016/BioNLP13CG-IOB/devel.tsv",
             "mtl2016/GENIA-pos/devel.tsv")


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def raw_texts(corpora: Path) -> Iterator[str]:
    for path in sorted(corpora.glob("mtl2016/*/train.tsv")):
        for sentence in read_iob(path):
            yield sentence.text
    for path in sorted((corpora / "jnlpba-standoff" / "train").glob("*.txt")):
        yield path.read_text(encoding="utf-8")
    for name in ("bc5cdr-pubtator/CDR_TrainingSet.PubTator.txt", "ncbi-disease-original/NCBItrainset_corpus.txt"):
        path = corpora / name
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                parts = line.split("|", 2)
                if len(parts) == 3 and parts[1] in ("t", "a"):
                    yield parts[2]
    scifact = corpora / "scifact" / "corpus.jsonl.gz"
    if scifact.exists():
        with gzip.open(scifact, "rt", encoding="utf-8") as handle:
            for line in handle:
                doc = json.loads(line)
                yield doc["title"] + " " + " ".join(doc["abstract"])
    bioscope = corpora / "bioscope" / "abstracts.xml"
    if bioscope.exists():
        for sentence in ET.parse(bioscope).iter("sentence"):
            yield "".join(sentence.itertext())


def write_training_text(corpora: Path, out: Path) -> dict:
    """Write the unlabeled text, one tokenised line each, to ``out`` and, for `spacy pretrain`, to
    ``out`` with the suffix ``.jsonl`` ({"text": ...} per line)."""
    nlp = load_base_model("blank:en")
    held_out = {_normalise(s.text) for f in DEV_FILES for s in read_iob(corpora / f)}
    lines = tokens = skipped = 0
    seen: set[str] = set()
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8") as handle, open(out.with_suffix(".jsonl"), "w", encoding="utf-8") as jsonl:
        for text in raw_texts(corpora):
            text = _normalise(text)
            if not text or text in seen:
                continue
            seen.add(text)
            doc = nlp.make_doc(text)
            words = [t.text for t in doc if not t.is_space]
            joined = " ".join(words)
            if joined in held_out:
                skipped += 1
                continue
            handle.write(joined + "\n")
            jsonl.write(json.dumps({"text": joined}) + "\n")
            lines += 1
            tokens += len(words)
    return {"lines": lines, "tokens": tokens, "skipped_dev_sentences": skipped}


def train_floret(text: Path, out_dir: Path, dim: int = 100, bucket: int = 50000, epoch: int = 5) -> Path:
    import floret

    model = floret.train_unsupervised(str(text), model="cbow", mode="floret", hashCount=2, bucket=bucket,
                                      minn=3, maxn=5, dim=dim, epoch=epoch, minCount=3, thread=1, verbose=0)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "vectors.floret"
    model.save_floret_vectors(str(path))
    return path


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpora", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--bucket", type=int, default=50000)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    stats = write_training_text(args.corpora, args.out / "text.txt")
    log.info("vector training text: %s", stats)
    path = train_floret(args.out / "text.txt", args.out, args.dim, args.bucket)
    (args.out / "stats.json").write_text(json.dumps({**stats, "dim": args.dim, "bucket": args.bucket}, indent=2))
    print(path)


if __name__ == "__main__":
    main()
