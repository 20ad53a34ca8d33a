"""Score the study-design classifier against hand labels of real PubMed records.

The labels (``tests/fixtures/study_design/labels.csv``) hold only file, PMID, gold design, gold
population, split and a short note; the record texts are read at evaluation time from where they
live: ``<shared_dir>/eutils-samples/...`` (real efetch responses that may not be committed) and
``<fixtures_dir>/...`` (the project's own fixture XML). A checkout without ``../shared`` can still
score the fixture records; the shared ones are then reported as ``unavailable``, not as errors.

The labelled set is split in two by a hash of the PMID: ``dev`` (errors may be read to improve the
rules) and ``heldout`` (scored, never tuned on), so the held-out accuracy stays an honest estimate.

    python -m pipeline.evaluation.study_design [--labels CSV] [--shared DIR] [--fixtures DIR]
    python -m pipeline.evaluation.study_design --scifact [--summary]   # fresh SciFact set, text only
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from pipeline.compare.study_design import EVIDENCE_LEVELS, StudyDesign, classify_study, classify_text
from pipeline.pubmed.parse import parse_pubmed_xml
from pipeline.records import PubmedRecord
from pipeline.evaluation.metrics import prf

PROJECT = Path(__file__).resolve().parents[2]
DEFAULT_LABELS = PROJECT / "tests" / "fixtures" / "study_design" / "labels.csv"
DEFAULT_FIXTURES = PROJECT / "tests" / "fixtures"
DEFAULT_SHARED = PROJECT.parent / "shared"
DEFAULT_SCIFACT_LABELS = PROJECT / "tests" / "fixtures" / "study_design" / "scifact_labels.csv"
SCIFACT_CORPUS = Path("corpora") / "scifact" / "corpus.jsonl.gz"  # under the shared folder

DESIGNS = tuple(EVIDENCE_LEVELS)
POPULATIONS = ("human", "animal", "cell", "none")
SPLITS = ("dev", "heldout")
_COLUMNS = ("file", "pmid", "design", "population", "split", "note")
# Where each file prefix is read from: ("shared", "eutils-samples/x.xml") -> shared_dir/eutils-samples/x.xml
_ROOTS = {"eutils-samples/": "shared", "fixtures/": "fixtures"}


@dataclass(frozen=True)
class Label:
    file: str  # "eutils-samples/efetch/x.xml" or "fixtures/pubmed/x.xml"
    pmid: str
    design: str
    population: str  # human, animal, cell, none
    split: str  # dev or heldout
    note: str


def split_of(pmid: str) -> str:
    """The split a PMID belongs to: stable across runs and machines, independent of file order."""
    return "dev" if int(hashlib.sha256(pmid.encode("ascii")).hexdigest(), 16) % 2 == 0 else "heldout"


def load_labels(path: Path | str) -> list[Label]:
    """The labels file, checked: known classes, known prefixes, the split matching :func:`split_of`."""
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = set(_COLUMNS) - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        labels = [Label(**{c: row[c].strip() for c in _COLUMNS}) for row in reader]
    for n, label in enumerate(labels, start=2):
        problems = []
        if label.design not in DESIGNS:
            problems.append(f"design {label.design!r} not one of {', '.join(DESIGNS)}")
        if label.population not in POPULATIONS:
            problems.append(f"population {label.population!r} not one of {', '.join(POPULATIONS)}")
        if not label.file.startswith(tuple(_ROOTS)):
            problems.append(f"file {label.file!r} must start with one of {', '.join(_ROOTS)}")
        if label.split != split_of(label.pmid):
            problems.append(f"split {label.split!r} but the PMID hash puts it in {split_of(label.pmid)!r}")
        if problems:
            raise ValueError(f"{path}, line {n} (PMID {label.pmid}): " + "; ".join(problems))
    return labels


def resolve(file: str, shared_dir: Path, fixtures_dir: Path) -> Path:
    """The path of a labels-file ``file`` entry on this machine."""
    for prefix, root in _ROOTS.items():
        if file.startswith(prefix):
            if root == "shared":
                return shared_dir / file
            return fixtures_dir / file[len(prefix):]
    raise ValueError(f"unknown file prefix in {file!r}")


def load_records(labels: Iterable[Label], shared_dir: Path, fixtures_dir: Path
                 ) -> tuple[dict[tuple[str, str], PubmedRecord], list[str], list[Label]]:
    """Records by (file, PMID), the files that are absent here, and the labels whose PMID is not in
    its (present) file — the last one is a broken label, the second only a missing ../shared."""
    wanted: dict[str, list[Label]] = {}
    for label in labels:
        wanted.setdefault(label.file, []).append(label)
    records: dict[tuple[str, str], PubmedRecord] = {}
    unavailable: list[str] = []
    not_found: list[Label] = []
    for file, file_labels in sorted(wanted.items()):
        path = resolve(file, shared_dir, fixtures_dir)
        if not path.is_file():
            unavailable.append(file)
            continue
        by_pmid = {r.pmid: r for r in parse_pubmed_xml(path.read_bytes())[0]}
        for label in file_labels:
            if label.pmid in by_pmid:
                records[(file, label.pmid)] = by_pmid[label.pmid]
            else:
                not_found.append(label)
    return records, unavailable, not_found


def predicted_population(result: StudyDesign) -> str:
    """The classifier's population in the labels' vocabulary: "unknown" means no organism ("none");
    "mixed" is kept and always counts as an error, as the labels name one primary population."""
    return "none" if result.population == "unknown" else result.population


def score(pairs: Sequence[tuple[Label, StudyDesign]]) -> dict:
    """Accuracy of design and population, per-design P/R/F1 with support, and the errors."""
    gold = [label.design for label, _ in pairs]
    predicted = [result.design for _, result in pairs]
    per_class = {}
    for design in DESIGNS:
        tp = sum(g == p == design for g, p in zip(gold, predicted))
        per_class[design] = {**prf(tp, predicted.count(design), gold.count(design)), "support": gold.count(design)}
    population_hits = sum(label.population == predicted_population(result) for label, result in pairs)
    n = len(pairs)
    return {
        "n": n,
        "design_accuracy": round(sum(g == p for g, p in zip(gold, predicted)) / n, 4) if n else None,
        "population_accuracy": round(population_hits / n, 4) if n else None,
        "per_class": per_class,
        "design_confusions": dict(Counter(f"{g} -> {p}" for g, p in zip(gold, predicted) if g != p).most_common()),
        "errors": [
            {"pmid": label.pmid, "file": label.file, "gold": label.design, "predicted": result.design,
             "signal": result.signal, "note": label.note}
            for label, result in pairs if label.design != result.design
        ],
        "population_errors": [
            {"pmid": label.pmid, "gold": label.population, "predicted": predicted_population(result),
             "design": result.design}
            for label, result in pairs if label.population != predicted_population(result)
        ],
    }


def evaluate(labels_csv: Path | str = DEFAULT_LABELS, shared_dir: Path | str = DEFAULT_SHARED,
             fixtures_dir: Path | str = DEFAULT_FIXTURES) -> dict:
    """Scores per split (``dev``, ``heldout``) and over all records that could be read here."""
    labels = load_labels(labels_csv)
    records, unavailable, not_found = load_records(labels, Path(shared_dir), Path(fixtures_dir))
    pairs = [(label, classify_study(records[(label.file, label.pmid)]))
             for label in labels if (label.file, label.pmid) in records]
    return {
        "labels": str(labels_csv),
        "n_labelled": len(labels),
        "n_scored": len(pairs),
        "gold_counts": {split: dict(Counter(l.design for l in labels if l.split == split)) for split in SPLITS},
        "unavailable_files": unavailable,
        "not_found": [{"pmid": l.pmid, "file": l.file} for l in not_found],
        "splits": {split: score([p for p in pairs if p[0].split == split]) for split in SPLITS},
        "all": score(pairs),
    }


def load_scifact_labels(path: Path | str = DEFAULT_SCIFACT_LABELS) -> list[Label]:
    """The SciFact labels (doc_id, design, population, note) as :class:`Label` rows with split "scifact"."""
    columns = ("doc_id", "design", "population", "note")
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = set(columns) - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        rows = [{c: row[c].strip() for c in columns} for row in reader]
    labels = []
    for n, row in enumerate(rows, start=2):
        if row["design"] not in DESIGNS or row["population"] not in POPULATIONS or not row["doc_id"].isdigit():
            raise ValueError(f"{path}, line {n}: bad doc_id, design or population in {row}")
        labels.append(Label(str(SCIFACT_CORPUS), row["doc_id"], row["design"], row["population"], "scifact",
                            row["note"]))
    return labels


def evaluate_scifact(labels_csv: Path | str = DEFAULT_SCIFACT_LABELS,
                     shared_dir: Path | str = DEFAULT_SHARED) -> dict:
    """Scores on hand-labelled SciFact abstracts, classified from title and abstract text alone
    (SciFact has no publication types or MeSH: ``pub_types=[]``, ``mesh=[]``). The corpus is read
    from ``<shared_dir>/corpora/scifact/corpus.jsonl.gz``; without it ``unavailable`` is true."""
    labels = load_scifact_labels(labels_csv)
    corpus = Path(shared_dir) / SCIFACT_CORPUS
    report = {"labels": str(labels_csv), "corpus": str(corpus), "condition": "text only (no pub types, no MeSH)",
              "n_labelled": len(labels), "gold_counts": dict(Counter(l.design for l in labels))}
    if not corpus.is_file():
        return report | {"unavailable": True, "n_scored": 0, "not_found": [], "all": score([])}
    wanted = {label.pmid for label in labels}
    docs = {}
    with gzip.open(corpus, "rt", encoding="utf-8") as fh:
        for line in fh:
            doc = json.loads(line)
            if str(doc["doc_id"]) in wanted:
                docs[str(doc["doc_id"])] = doc
    pairs = [(label, classify_text(docs[label.pmid]["title"], " ".join(docs[label.pmid]["abstract"]), [], []))
             for label in labels if label.pmid in docs]
    return report | {"unavailable": False, "n_scored": len(pairs),
                     "not_found": sorted(wanted - set(docs), key=int), "all": score(pairs)}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--labels", type=Path, default=DEFAULT_LABELS)
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="folder holding eutils-samples/")
    parser.add_argument("--fixtures", type=Path, default=DEFAULT_FIXTURES, help="the tests/fixtures folder")
    parser.add_argument("--summary", action="store_true", help="accuracies only, no per-class scores or errors")
    parser.add_argument("--scifact", action="store_true",
                        help="score the SciFact labels (text only) instead; --labels then defaults to scifact_labels.csv")
    args = parser.parse_args(argv)
    if args.scifact:
        labels = DEFAULT_SCIFACT_LABELS if args.labels == DEFAULT_LABELS else args.labels
        report = evaluate_scifact(labels, args.shared)
        if args.summary:
            report = {k: v for k, v in report.items() if k != "all"} | {
                "all": {k: report["all"][k] for k in ("n", "design_accuracy", "population_accuracy")}}
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return
    report = evaluate(args.labels, args.shared, args.fixtures)
    if args.summary:
        report = {k: v for k, v in report.items() if k not in ("splits", "all")} | {
            name: {k: s[k] for k in ("n", "design_accuracy", "population_accuracy")}
            for name, s in [*report["splits"].items(), ("all", report["all"])]}
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
