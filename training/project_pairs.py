"""Stance pairs from the project's own labels: web-article assertions against the records a reviewer cited.

    python -m training.project_pairs OUT.jsonl [--score]

Each checkable line of the web-article corpus's development articles (``tests/fixtures/web_articles``, split
``dev``; never its held-out articles) gives:

- one ``supports`` pair per record the labeller lists as supporting it, one ``contradicts`` pair per record listed
  as contradicting it;
- for a line judged ``not addressed``, ``unrelated`` pairs with the records most like it by the sentence encoder
  (topical negatives: a record about the same therapy that does not speak to the assertion, the hard case the
  comparison meets; the HealthVer pairs of the recipe are built the same way).

The evidence side is a record as the cross-encoder reads a whole abstract: the :func:`select_sentences` passage of
its title and abstract (the three sentences nearest the assertion, in document order), as for SciFact's
whole-abstract examples in :mod:`training.stance_encoder_train`.

Pairs are grouped by article (``web:<article>``) and split by article into ``train`` and ``dev`` (every fifth
article in name order is ``dev``), so the recipe can report its figure on assertions from articles it did not train
on, with and without these pairs. ``--score`` reads the pairs with the shipped cross-encoder, which never saw them.
Needs numpy only (and the sentence encoder package).
"""

from __future__ import annotations

import argparse
import json
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from pipeline.compare.stance import STANCES
from pipeline.compare.stance_encoder import select_sentences, split_sentences
from pipeline.config import PROJECT_ROOT

log = logging.getLogger(__name__)

WEB = PROJECT_ROOT / "tests" / "fixtures" / "web_articles"
RECORDS = PROJECT_ROOT / "tests" / "fixtures" / "literature" / "pubmed_records.xml"
SELECT_K = 3  # as training.stance_encoder_train.SELECT_K and the shipped package's evidence_sentences
UNRELATED_PER_LINE = 2
DEV_EVERY = 5  # every fifth article (in name order) is held back for scoring


@dataclass(frozen=True)
class ProjectPair:
    claim: str  # the article line, as labelled
    evidence: str  # the record's passage nearest the claim
    label: str  # one of STANCES
    group: str  # "web:<article>": folds and the train/dev split never divide an article
    pmid: str
    part: str  # "train" or "dev"


def record_sentences(xml: bytes) -> dict[str, list[str]]:
    """Every record's title and abstract sentences, by PMID."""
    from pipeline.pubmed.parse import parse_pubmed_xml

    records, _ = parse_pubmed_xml(xml)
    out = {}
    for record in records:
        sentences = [record.title.strip()] if record.title.strip() else []
        for section in record.abstract_sections:
            sentences += split_sentences(section.text)
        out[record.pmid] = sentences
    return out


def labelled_lines(folder: Path = WEB, split: str = "dev") -> list[dict]:
    """The checkable labelled lines of ``split``'s articles, in file order."""
    articles = set(json.loads((folder / "split.json").read_text(encoding="utf-8"))[split])
    rows = []
    for path in sorted((folder / "labels").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if row["article"] in articles and row.get("checkable"):
                rows.append(row)
    return rows


def article_parts(articles: Sequence[str]) -> dict[str, str]:
    """"train" or "dev" for each article: every fifth in name order is "dev"."""
    return {a: "dev" if i % DEV_EVERY == DEV_EVERY - 1 else "train" for i, a in enumerate(sorted(set(articles)))}


def project_pairs(lines: Sequence[dict], records: dict[str, list[str]],
                  embed: Callable[[list[str]], np.ndarray], unrelated: int = UNRELATED_PER_LINE) -> list[ProjectPair]:
    """The pairs of ``lines`` (labelled rows) against ``records`` (sentences by PMID); ``embed`` gives unit
    vectors (the sentence encoder's). A cited PMID missing from ``records`` is skipped with a warning."""
    pmids = sorted(records)
    texts = sorted({row["quote"] for row in lines} | {s for p in pmids for s in records[p]})
    vectors = dict(zip(texts, embed(texts))) if texts else {}
    record_vecs = {p: np.stack([vectors[s] for s in records[p]]) for p in pmids if records[p]}
    parts = article_parts([row["article"] for row in lines])
    out = []
    for row in lines:
        claim = row["quote"]
        part = parts[row["article"]]

        def pair(pmid: str, label: str) -> ProjectPair:
            chosen = select_sentences(vectors[claim], record_vecs[pmid], SELECT_K)
            return ProjectPair(claim, " ".join(records[pmid][i] for i in chosen), label, f"web:{row['article']}",
                               pmid, part)

        cited = {}
        for key, label in (("supporting_pmids", "supports"), ("contradicting_pmids", "contradicts")):
            for pmid in row.get(key) or ():
                if pmid not in record_vecs:
                    log.warning("%s line %s cites PMID %s, which is not among the records: skipped",
                                row["article"], row.get("line"), pmid)
                    continue
                cited.setdefault(pmid, label)  # listed on both sides (a labelling slip): the first side counts
        out += [pair(pmid, label) for pmid, label in cited.items()]
        if row.get("verdict") == "not addressed" and unrelated:
            nearest = sorted(record_vecs, key=lambda p: (-float(np.max(record_vecs[p] @ vectors[claim])), p))
            out += [pair(pmid, "unrelated") for pmid in nearest[:unrelated]]
    return out


def score_pairs(pairs: Sequence[ProjectPair], probabilities: np.ndarray) -> dict:
    """The stance scores (:func:`pipeline.evaluation.stance.score_predictions`) of the model's labels against the
    pairs' labels, with the articles they come from and the confusion."""
    from pipeline.evaluation.stance import score_predictions

    predicted = [STANCES[i] for i in np.argmax(probabilities, axis=1)]
    gold = [p.label for p in pairs]
    return {**score_predictions(gold, predicted), "articles": len({p.group for p in pairs}),
            "confusion": dict(Counter(f"{g} -> {q}" for g, q in zip(gold, predicted)).most_common())}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="where the pairs go (JSON lines)")
    parser.add_argument("--records", type=Path, default=RECORDS, help="the records the labels were judged against")
    parser.add_argument("--labels", type=Path, default=WEB, help="the web-article corpus folder")
    parser.add_argument("--score", type=Path, default=None,
                        help="also read the pairs with the shipped cross-encoder and write its figures here (JSON)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from pipeline.nlp.encoder import sentence_encoder

    pairs = project_pairs(labelled_lines(args.labels, "dev"), record_sentences(args.records.read_bytes()),
                          sentence_encoder().embed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as fh:
        for p in pairs:
            fh.write(json.dumps(asdict(p), ensure_ascii=False) + "\n")
    log.info("%d pairs from %d articles: %s", len(pairs), len({p.group for p in pairs}),
             dict(Counter((p.part, p.label) for p in pairs)))
    if args.score:
        from pipeline.compare.stance_encoder import encoder_stance

        model = encoder_stance()
        figures = {part: score_pairs(rows, model.probabilities([(p.claim, p.evidence) for p in rows]))
                   for part in ("train", "dev", "all")
                   for rows in [[p for p in pairs if part == "all" or p.part == part]]}
        args.score.write_text(json.dumps({"model": "exoclaims_stance (shipped)", **figures}, indent=2) + "\n",
                              encoding="utf-8")
        log.info("shipped cross-encoder on the project's pairs: %s",
                 {part: f["macro_f1"] for part, f in figures.items()})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
