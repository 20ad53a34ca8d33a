"""The nightly job over the development articles reworded line by line, scored against their own labels.

    python -m training.reworded_run OUTDIR [--figures FIGURES.json]

Every line of the 109 development articles has one rewording that asserts the same thing
(``tests/fixtures/web_articles/rewordings.jsonl``, README there). This writes a copy of those articles with each
line replaced by its rewording, and of their labels with each quote replaced the same way (``OUTDIR/corpus``), runs
the nightly job over it as :mod:`training.detector_oof_run` runs it (the realistic literature set through the
loopback E-utilities server, a DuckDB file under ``OUTDIR``) and scores the development split. Set beside the
figure on the original wording, it says how much of the verdicts holds when the same articles say the same things
in other words: the rules were written on the originals, never on these. It is a fair test of the claim detector
only while the shipped detector was trained without the rewordings (its ``meta.json`` says).
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from pipeline.evaluation.verdicts import evaluate_database
from training import claim_detector as recipe
from training.detector_oof_run import report_figures, run, summary


def reworded_corpus(out: Path, web: Path = recipe.WEB, rewordings: Path = recipe.REWORDINGS) -> Path:
    """Write the development articles and their labels, every line reworded, under ``out``; returns ``out``.

    A line with no rewording, or a rewording of another wording of its line, is refused: the copy would no longer
    line up with its labels."""
    dev = json.loads((web / "split.json").read_text(encoding="utf-8"))["dev"]
    reworded = {(row["article"], row["line"]): row
                for row in map(json.loads, rewordings.read_text(encoding="utf-8").splitlines())}
    (out / "articles").mkdir(parents=True, exist_ok=True)
    (out / "labels").mkdir(exist_ok=True)
    for article in sorted(dev):
        [text_path] = sorted((web / "articles").glob(f"{article}_*.txt"))
        lines = text_path.read_text(encoding="utf-8").splitlines()
        labels = [json.loads(line) for line in (web / "labels" / f"{article}.jsonl").read_text(encoding="utf-8")
                  .splitlines()]
        if len(lines) != len(labels):
            raise ValueError(f"{text_path.name}: {len(lines)} lines for {len(labels)} labels")
        new_lines, new_labels = [], []
        for number, (line, label) in enumerate(zip(lines, labels), 1):
            row = reworded.get((article, label.get("line", number)))
            if row is None or row["sentence"] != label["quote"] or line.strip() != label["quote"]:
                raise ValueError(f"{article} line {number}: no rewording of this wording in {rewordings.name}")
            new_lines.append(row["rewording"])
            new_labels.append({**label, "quote": row["rewording"]})
        (out / "articles" / text_path.name).write_text("\n".join(new_lines) + "\n", encoding="utf-8")
        (out / "labels" / f"{article}.jsonl").write_text(
            "".join(json.dumps(label, ensure_ascii=False) + "\n" for label in new_labels), encoding="utf-8")
    (out / "split.json").write_text(json.dumps({"dev": sorted(dev), "heldout": []}) + "\n", encoding="utf-8")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="a new folder for the reworded corpus and the run's database")
    parser.add_argument("--figures", type=Path, default=None, help="write the development figures here (JSON)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.out.exists() and any(args.out.iterdir()):
        raise SystemExit(f"{args.out} is not empty: give a new folder")
    corpus = reworded_corpus(args.out / "corpus")
    db, _ = run(args.out / "run", {}, articles=corpus / "articles")
    figures = evaluate_database(corpus / "labels", db, split="dev")
    report_figures(summary(figures), figures, args.figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
