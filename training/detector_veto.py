"""The claim detector's veto on rule claims (``[nlp] claim_detector_veto``), chosen out of fold on dev articles.

How low the detector's P(checkable) must fall before a claim the rules found is dropped.

    python -m training.detector_veto DB [--report training/claim_detector_report.json] [--out FILE]

``DB`` is a nightly run over the web articles with the veto off (``EXOCLAIMS_CLAIM_DETECTOR_VETO=0``), so every
claim the rules find is there. Each development line the rules turned into a judged claim is paired with the
detector's out-of-fold P(checkable) from the training report (a model that never saw its article), and for each
threshold the table counts the rule claims a veto would drop: on lines no reviewer would check (precision gained)
and on checkable ones (recall lost). The chosen threshold is the highest at which at least ``--min-share`` of what
the veto drops sat on lines that are not checkable, and never above the detector's own threshold.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import duckdb
import numpy as np

from pipeline.claims.detector import CLASSIFIER_PACKAGE
from pipeline.evaluation.verdicts import load_stored, match_quote, read_gold
from pipeline.nlp.encoder import package_dir
from training.claim_detector import WEB, seed_examples, web_examples

log = logging.getLogger(__name__)

THRESHOLDS = (0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5)


def out_of_fold_probability(report: Path) -> dict[tuple[str, str], float]:
    """(article, sentence) -> out-of-fold P(checkable), in the order the recipe built its examples."""
    probability = json.loads(report.read_text(encoding="utf-8"))["fine_tuned"]["out_of_fold"]
    examples = web_examples("dev") + seed_examples()
    if len(examples) != len(probability):
        raise SystemExit(f"the report holds {len(probability)} probabilities for {len(examples)} examples: retrain "
                         "the detector on the current labels first (make models-claims)")
    return {(e.group, e.text): p for e, p in zip(examples, probability)}


def rule_claims(db: Path, probability: dict[tuple[str, str], float]) -> list[tuple[float, bool]]:
    """(out-of-fold P(checkable), the line is checkable) of every development line the rules made a judged claim of."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        stored = load_stored(con)
        cues = dict(con.execute("SELECT claim_id, cues FROM claims WHERE source = 'article'").fetchall())
    finally:
        con.close()
    found = []
    for gold in read_gold(WEB / "labels", split="dev"):
        match = match_quote(gold, stored)
        claim = match.claim
        if claim is None or claim.verdict in (None, "not checkable"):
            continue
        if any(c.startswith("detector:") for c in cues.get(claim.claim_id) or ()):
            continue  # the detector's own claims: its threshold decides those
        found.append((probability[(gold.article, gold.quote)], gold.checkable))
    return found


def veto_table(found: list[tuple[float, bool]], detector_threshold: float = 1.0) -> list[dict]:
    """What a veto at each threshold would drop. None reaches past ``detector_threshold``: a line the detector
    itself calls checkable keeps the claim the rules found there."""
    p = np.array([f[0] for f in found])
    checkable = np.array([f[1] for f in found])
    rows = []
    for threshold in (t for t in THRESHOLDS if t <= detector_threshold):
        dropped = p < threshold
        rows.append({"threshold": threshold, "dropped": int(dropped.sum()),
                     "not_checkable": int((dropped & ~checkable).sum()), "checkable": int((dropped & checkable).sum()),
                     "share_not_checkable": round(float((dropped & ~checkable).sum() / max(int(dropped.sum()), 1)), 4)})
    return rows


def choose(table: list[dict], min_share: float, min_step_share: float = 0.5) -> float:
    """The highest threshold whose dropped rule claims sit on lines not checkable in at least ``min_share`` of cases,
    reached by steps that each drop at least ``min_step_share`` non-checkable lines among what they add (0: no
    veto). The second condition stops at a step that loses more checkable lines than false claims: the share over
    everything dropped stays high on the early gains long after raising the threshold has stopped paying."""
    chosen, previous = 0.0, {"dropped": 0, "not_checkable": 0}
    for row in sorted(table, key=lambda r: r["threshold"]):
        added = row["dropped"] - previous["dropped"]
        if added and (row["not_checkable"] - previous["not_checkable"]) / added < min_step_share:
            break
        if row["dropped"] and row["share_not_checkable"] >= min_share:
            chosen = row["threshold"]
        previous = row
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("db", type=Path, help="a nightly run over the web articles with the veto off")
    parser.add_argument("--report", type=Path, default=Path(__file__).with_name("claim_detector_report.json"))
    parser.add_argument("--min-share", type=float, default=0.85,
                        help="the least share of dropped rule claims that must sit on lines not checkable")
    parser.add_argument("--min-step-share", type=float, default=0.5,
                        help="the least share of not-checkable lines among what each step up in threshold adds")
    parser.add_argument("--out", type=Path, default=None, help="write the table and the choice here (JSON)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    found = rule_claims(args.db, out_of_fold_probability(args.report))
    meta = json.loads((package_dir(CLASSIFIER_PACKAGE) / "meta.json").read_text(encoding="utf-8"))
    table = veto_table(found, float(meta["threshold"]))
    result = {"detector_onnx_sha256": meta["onnx_sha256"],  # the out-of-fold figures are this detector's
              "rule_claims": len(found), "on_checkable_lines": sum(c for _, c in found),
              "min_share": args.min_share, "min_step_share": args.min_step_share,
              "chosen": choose(table, args.min_share, args.min_step_share), "table": table}
    log.info("%s", json.dumps(result, indent=1))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
