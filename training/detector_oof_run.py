"""The nightly job over the web articles with the claim detector out of fold, scored on the development split.

    python -m training.detector_oof_run OUTDIR [--report REPORT.json] [--out FIGURES.json]

The development figures of docs/evaluation.md come from a run whose claim detector was trained on those very
articles, so its recall and precision there are in-sample. This run gives every development sentence the
detector's reading from models that never saw its article: P(checkable) from the fine-tuned classifier's
out-of-fold probabilities (``training/claim_detector_report.json``, written by ``make models-claims``) and the kind
from the kind head refitted without the article's fold (same folds, features and regularisation as
:mod:`training.claim_detector`). Sentences the report does not hold (held-out articles, a line the pipeline split in
two) keep the shipped detector's reading. The verdict rules are still those written on these articles: this takes
the detector's optimism out of the figure, not the rules'.

The job runs as the tests run it: the realistic literature set through the loopback E-utilities server, a DuckDB
file under ``OUTDIR``, threads in this process. Needs scikit-learn (the ``train`` extra).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
from pathlib import Path

from pipeline.claims import detector as shipped
from pipeline.config import PROJECT_ROOT, load_settings
from pipeline.evaluation.verdicts import evaluate_database, fold
from training import claim_detector as recipe

log = logging.getLogger(__name__)

LITERATURE = PROJECT_ROOT / "tests" / "fixtures" / "literature"
REPORT = PROJECT_ROOT / "training" / "claim_detector_report.json"


def out_of_fold_readings(report: Path = REPORT, c: float | None = None) -> dict[str, tuple[float, str | None]]:
    """(P(checkable), kind) of every training sentence from models that did not see its article, by folded text."""
    from pipeline.nlp.encoder import sentence_encoder
    from training.detector_veto import out_of_fold_probability

    probability = out_of_fold_probability(report)  # refuses a report trained on other labels
    trained = json.loads(report.read_text())
    examples = recipe.training_examples(rewordings=bool(trained.get("rewordings")))  # as the kind head was fitted
    x = recipe.features([e.text for e in examples], sentence_encoder())
    _, kinds = recipe.out_of_fold(examples, x, c if c is not None else trained["c"])
    return {fold(e.text): (probability[(e.group, e.text)], kind) for e, kind in zip(examples, kinds)
            if not e.reworded}


class OutOfFoldDetector(shipped.ClaimDetector):
    """The shipped detector, except on the sentences ``readings`` holds."""

    def __init__(self, base: shipped.ClaimDetector, readings: dict[str, tuple[float, str | None]]):
        super().__init__(base.classifier, base.threshold,
                         {"kind_w": base.kind_w, "kind_b": base.kind_b, "encoder": base.encoder_version},
                         base.reads_context)
        self.readings = readings
        self.substituted = 0

    def detect(self, texts, embeddings, encoder_version, veto=0.0, threshold=None):
        found = super().detect(texts, embeddings, encoder_version, veto, threshold)
        cut = self.threshold if threshold is None else threshold
        out = []
        for text, detection in zip(texts, found):
            reading = self.readings.get(fold(text))
            if reading is None:
                out.append(detection)
                continue
            p, kind = reading
            self.substituted += 1
            out.append(shipped.Detection(p, p >= cut, kind or detection.kind, p < veto))
        return out


def run(out: Path, readings: dict[str, tuple[float, str | None]],
        articles: Path = recipe.WEB / "articles") -> tuple[Path, int]:
    """The nightly job over the web corpus (``articles``) into ``out``; returns the database and how many sentences
    were read out of fold."""
    from flows.nightly import nightly
    from pipeline.testing.loopback_eutils import LoopbackEutils

    detector = OutOfFoldDetector(shipped.claim_detector(), readings)
    original = shipped.claim_detector
    shipped.claim_detector = lambda: detector  # the claim stage looks it up when it runs
    try:
        with LoopbackEutils.start(LITERATURE) as server:
            settings = load_settings(env={"EXOCLAIMS_EUTILS_URL": server.base_url,
                                          "EXOCLAIMS_DB": str(out / "exoclaims.duckdb"),
                                          "EXOCLAIMS_ARCHIVE": str(out / "raw"),
                                          "EXOCLAIMS_EXPORTS": str(out / "exports"),
                                          "EXOCLAIMS_REPORT": str(out / "reports" / "evidence-report.html"),
                                          "EXOCLAIMS_ARTICLES": str(articles)})
            settings = dataclasses.replace(
                settings, pubmed=dataclasses.replace(settings.pubmed, email="detector-oof@example.org"),
                execution=dataclasses.replace(settings.execution, task_runner="threads", workers=1))
            nightly(settings=settings)
    finally:
        shipped.claim_detector = original
    return out / "exoclaims.duckdb", detector.substituted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="a new folder for the run's database")
    parser.add_argument("--report", type=Path, default=REPORT, help="the detector's training report")
    parser.add_argument("--figures", type=Path, default=None, help="write the development figures here (JSON)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if (args.out / "exoclaims.duckdb").exists():
        raise SystemExit(f"{args.out} already holds a database: give a new folder")
    args.out.mkdir(parents=True, exist_ok=True)
    db, substituted = run(args.out, out_of_fold_readings(args.report))
    figures = evaluate_database(recipe.WEB / "labels", db, split="dev")
    report_figures({"sentences_read_out_of_fold": substituted, **summary(figures)}, figures, args.figures)
    return 0


def summary(figures: dict) -> dict:
    """The headline development figures of an ``evaluate_database`` result, and per kind."""
    return {"correct": figures["correct"], "checkable": figures["n_checkable"], "accuracy": figures["accuracy"],
            "over_claims": figures["over_claims"], "under_claims": figures["under_claims"],
            "core_accuracy": figures["core"].get("accuracy"), "detection": figures["detection"],
            "by_kind": {k: {m: v[m] for m in ("n", "claim_recall", "accuracy")} for k, v in figures["by_kind"].items()}}


def report_figures(headline: dict, figures: dict, path: Path | None) -> None:
    """Log the headline figures; write them with the full result to ``path`` (JSON) where one is given."""
    log.info("%s", json.dumps(headline, indent=1))
    if path:
        path.write_text(json.dumps({**headline, "full": figures}, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
