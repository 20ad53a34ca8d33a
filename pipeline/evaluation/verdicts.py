"""Score a database's verdicts against a reviewer's labels: ``exoclaims eval verdicts GOLD [--db FILE]``.

``GOLD`` is a JSONL file, or a folder of them (every ``*.jsonl``, e.g. ``tests/fixtures/web_articles/labels``;
``--split heldout`` keeps the articles a ``split.json`` beside it lists under that name). One JSON object per
line, as ``../shared/literature/exosome-hair/verdicts_dev.jsonl``: ``article`` ("001": the file whose name
starts with it), ``quote`` (a span of the article's text), ``checkable``, ``verdict`` and ``certainty`` (null
where not checkable), ``supporting_pmids``, ``contradicting_pmids``, ``rationale``; labels of every line of an
article (``tests/fixtures/web_articles/LABELLING.md``) add ``claim_type``, ``core`` and ``asserts``, and with
them come claim-detection precision, and figures per kind of assertion and over the core ones.

**Matching.** Each quote is looked for in the stored article claims of its article (article ids ``001_<hash>``
or, for a file of glued articles, ``001_<hash>#1``, ``#2``, ...). Both sides are folded first with the article
normaliser (NFKC, Cyrillic/Greek look-alike letters folded, missing spaces after full stops restored), then
whitespace is collapsed and case folded, so a quote keeping the article's hidden Cyrillic "о" matches the
folded sentence. The quote matches a claim whose sentence contains it (the first in document order with a
verdict, where several do). Otherwise it is unmatched, and the reason is given: the sentence holding it
yielded no claim, the quote spans several stored sentences, or no stored sentence holds it.

**What the pipeline answered.** A matched claim with a row in the ``verdicts`` view answers that row's verdict
(which may be ``not checkable``). Anything else (unmatched quotes, claims with no row, e.g. recommendations)
is *no verdict*: the pipeline said nothing about the assertion. For a checkable gold assertion no verdict is
scored as ``not addressed``; for a non-checkable one it is the right answer, as is ``not checkable``.

**Figures** (over checkable gold assertions unless said otherwise): accuracy; precision, recall, F1 and
support per verdict (``not checkable`` appears as a predicted label only); the confusion pairs; over- and
under-claims; certainty agreement; how non-checkable gold assertions were handled; and one row per assertion.

**Over- and under-claims** order the verdicts by the support they give the assertion::

    supported > supported only by preclinical evidence > mixed > not addressed > contradicted

A pipeline verdict ranked above the gold one is an over-claim (it tells the reader the literature backs the
assertion more than it does), one ranked below an under-claim. ``not checkable`` (and no verdict) rank with
``not addressed``: neither claims any support, so ``not checkable`` where gold says ``contradicted`` is an
over-claim, and ``not checkable`` where gold says ``not addressed`` is wrong but neither.

**Claim detection** (``detection``): recall is the share of checkable gold assertions whose sentence yields a
claim at all (``recall_yields_claim``) and that the pipeline judged checkable (a verdict other than ``not
checkable``); precision, with labels of every line, is the share of the sentences judged checkable that hold a
checkable gold line. ``by_kind`` and ``core`` give recall, accuracy, over- and under-claims and certainty
agreement per gold ``claim_type`` and over the ``core`` assertions.

**Certainty agreement** compares the gold ``certainty`` (high, moderate, low, very low) with the view's
``certainty_of_evidence`` (schema version 9) where both are given: exact agreement and agreement within one
level. A database without that column gives ``null`` with a note.

**How sure the figures are** (``intervals``): 95% intervals for accuracy, claim recall (judged checkable),
detection precision and the number of over-claims, from 2,000 resamples of the gold articles with replacement (a
cluster bootstrap: the lines of one article are not independent draws, so resampling lines would understate the
spread). Deterministic (fixed seed); ``null`` for gold of a single article.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import duckdb
import numpy as np

from pipeline.articles.normalize import normalise_text
from pipeline.evaluation.metrics import prf

GOLD_VERDICTS = ("supported", "supported only by preclinical evidence", "mixed", "not addressed", "contradicted")
NOT_CHECKABLE = "not checkable"
NOT_ADDRESSED = "not addressed"
# how much support each verdict gives the assertion (over-claims rank above the gold verdict)
SUPPORT_RANK = {"supported": 4, "supported only by preclinical evidence": 3, "mixed": 2, NOT_ADDRESSED: 1,
                NOT_CHECKABLE: 1, "contradicted": 0}
SUPPORT_ORDER = "supported > supported only by preclinical evidence > mixed > not addressed > contradicted"
CERTAINTY_LEVELS = ("very low", "low", "moderate", "high")
BOOTSTRAP_DRAWS = 2000
BOOTSTRAP_SEED = 20261206

MatchStatus = Literal["verdict", "claim without verdict", "sentence without claim", "spans sentences", "not found"]
ErrorKind = Literal["over-claim", "under-claim", "other"]


@dataclass(frozen=True)
class GoldAssertion:
    """One labelled assertion of the gold file."""

    article: str
    quote: str
    checkable: bool
    verdict: str | None
    certainty: str | None
    supporting_pmids: tuple[str, ...] = ()
    contradicting_pmids: tuple[str, ...] = ()
    rationale: str = ""
    claim_type: str | None = None  # sentence-by-sentence labels (tests/fixtures/web_articles) also give these
    core: bool | None = None  # a checkable assertion any reviewer would check
    asserts: bool | None = None  # the line states something (False: a question, a bare heading, a call to action)


@dataclass(frozen=True)
class StoredClaim:
    """An article claim as stored, with its row of the ``verdicts`` view (None where it has none)."""

    claim_id: str
    article_id: str
    sentence_idx: int
    sentence: str
    claim_type: str | None
    verdict: str | None = None
    certainty: str | None = None  # the view's certainty_of_evidence, not the claim's asserted/hedged
    pmids: tuple[str, ...] = ()
    key_pmids: tuple[str, ...] = ()


@dataclass(frozen=True)
class StoredSentence:
    article_id: str
    sentence_idx: int
    text: str


@dataclass(frozen=True)
class StoredVerdicts:
    """What the evaluation reads from a database."""

    claims: tuple[StoredClaim, ...]
    sentences: tuple[StoredSentence, ...]
    has_certainty: bool  # the verdicts view has certainty_of_evidence (schema version 9)


@dataclass(frozen=True)
class Match:
    status: MatchStatus
    claim: StoredClaim | None = None
    article_id: str | None = None
    sentence_idx: int | None = None  # the (first) stored sentence holding the quote


@dataclass(frozen=True)
class AssertionResult:
    """One row of the per-assertion list."""

    article: str
    quote: str
    checkable: bool
    gold_verdict: str | None
    gold_certainty: str | None
    gold_pmids: list[str]
    pipeline_verdict: str | None  # None: no verdict (unmatched, or a claim without a row in the view)
    scored_as: str | None  # what the scores count: pipeline_verdict, or "not addressed" for no verdict
    pipeline_certainty: str | None
    pipeline_pmids: list[str]
    pipeline_key_pmids: list[str]
    match: MatchStatus
    article_id: str | None
    sentence_idx: int | None
    claim_id: str | None
    sentence: str | None
    correct: bool
    error: ErrorKind | None
    gold_claim_type: str | None = None
    core: bool | None = None


def fold(text: str) -> str:
    """The text as both sides are compared: normalised like an article, whitespace collapsed, case folded."""
    return " ".join(normalise_text(text).text.split()).casefold()


def read_gold(path: Path | str, split: str | None = None) -> list[GoldAssertion]:
    """The gold assertions of a JSONL file, or of every ``*.jsonl`` file of a folder in name order (blank lines
    skipped); a malformed line raises ValueError. ``split`` keeps the articles a ``split.json`` beside the files
    (or in their parent folder) lists under that name, e.g. ``heldout``."""
    path = Path(path)
    if path.is_dir():
        files = sorted(path.glob("*.jsonl"))
        if not files:
            raise ValueError(f"{path}: no .jsonl gold files in this folder")
        gold = [g for f in files for g in read_gold(f)]
    else:
        gold = _read_gold_file(path)
    if split is None:
        return gold
    articles = _split_articles(path if path.is_dir() else path.parent, split)
    return [g for g in gold if g.article in articles]


def _split_articles(folder: Path, split: str) -> set[str]:
    for candidate in (folder / "split.json", folder.parent / "split.json"):
        if candidate.exists():
            splits = json.loads(candidate.read_text(encoding="utf-8"))
            if split not in splits or not isinstance(splits[split], list):
                names = ", ".join(k for k, v in splits.items() if isinstance(v, list))
                raise ValueError(f"{candidate}: no split {split!r} (it has: {names})")
            return set(splits[split])
    raise ValueError(f"no split.json in {folder} or {folder.parent}: --split needs one")


def _read_gold_file(path: Path) -> list[GoldAssertion]:
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            checkable = bool(row["checkable"])
            verdict = row.get("verdict")
            if checkable and verdict not in GOLD_VERDICTS:
                raise ValueError(f"verdict {verdict!r} is not one of {', '.join(GOLD_VERDICTS)}")
            out.append(GoldAssertion(
                str(row["article"]), row["quote"], checkable, verdict if checkable else None,
                row.get("certainty") if checkable else None, tuple(row.get("supporting_pmids") or ()),
                tuple(row.get("contradicting_pmids") or ()), row.get("rationale") or "",
                row.get("claim_type") if checkable else None, row.get("core"), row.get("asserts")))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{path}, line {n}: {exc}") from exc
    return out


def article_matches(gold_article: str, article_id: str) -> bool:
    """Gold "001" names the stored articles of the file 001_<hash> (and its glued parts #1, #2, ...)."""
    stem = article_id.split("#", 1)[0]
    return article_id == gold_article or stem == gold_article or stem.startswith(gold_article + "_")


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    return {r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table]).fetchall()}


def load_stored(con: duckdb.DuckDBPyConnection) -> StoredVerdicts:
    """The article claims with their verdicts, and the article sentences, of an open database."""
    view = _columns(con, "verdicts")
    has_certainty = "certainty_of_evidence" in view
    certainty = "v.certainty_of_evidence" if has_certainty else "NULL"
    key_pmids = "v.key_pmids" if "key_pmids" in view else "NULL"
    rows = con.execute(f"""
        SELECT c.claim_id, c.doc_id, c.sentence_idx, c.sentence, c.claim_type, v.verdict, {certainty},
               v.pmids, {key_pmids}
        FROM claims c LEFT JOIN verdicts v ON v.claim_id = c.claim_id
        WHERE c.source = 'article' ORDER BY c.doc_id, c.sentence_idx, c.claim_id""").fetchall()
    claims = tuple(StoredClaim(r[0], r[1], r[2], r[3], r[4], r[5], r[6], tuple(r[7] or ()), tuple(r[8] or ()))
                   for r in rows)
    sentences = tuple(StoredSentence(*r) for r in con.execute(
        "SELECT doc_id, sentence_idx, text FROM sentences WHERE source = 'article' ORDER BY doc_id, sentence_idx"
    ).fetchall())
    return StoredVerdicts(claims, sentences, has_certainty)


def match_quote(gold: GoldAssertion, stored: StoredVerdicts) -> Match:
    """The article claim whose sentence holds the quote, or why there is none."""
    quote = fold(gold.quote)
    holding = [c for c in stored.claims if article_matches(gold.article, c.article_id) and quote in fold(c.sentence)]
    if holding:
        best = next((c for c in holding if c.verdict is not None), holding[0])
        return Match("verdict" if best.verdict is not None else "claim without verdict", best, best.article_id,
                     best.sentence_idx)
    by_article: dict[str, list[StoredSentence]] = {}
    for s in stored.sentences:
        if article_matches(gold.article, s.article_id):
            by_article.setdefault(s.article_id, []).append(s)
    for article_id, sentences in by_article.items():
        for s in sentences:
            if quote in fold(s.text):
                return Match("sentence without claim", None, article_id, s.sentence_idx)
    for article_id, sentences in by_article.items():
        ordered = sorted(sentences, key=lambda s: s.sentence_idx)
        folded = [fold(s.text) for s in ordered]
        for i in range(len(ordered)):
            joined = folded[i]
            for j in range(i + 1, len(ordered)):
                joined = f"{joined} {folded[j]}"
                if 0 <= joined.find(quote) < len(folded[i]):  # starts in sentence i, ends in sentence j
                    return Match("spans sentences", None, article_id, ordered[i].sentence_idx)
                if len(joined) > len(quote) + len(folded[i]):
                    break  # the quote would have to start inside sentence i and end past j: it does not
    return Match("not found")


def _error(gold_verdict: str, scored_as: str) -> ErrorKind | None:
    if gold_verdict == scored_as:
        return None
    difference = SUPPORT_RANK[scored_as] - SUPPORT_RANK[gold_verdict]
    return "over-claim" if difference > 0 else "under-claim" if difference < 0 else "other"


def assess(gold: GoldAssertion, match: Match) -> AssertionResult:
    """Compare one gold assertion with what the pipeline answered for it."""
    claim = match.claim
    verdict = claim.verdict if claim is not None else None
    if gold.checkable:
        scored_as = verdict or NOT_ADDRESSED
        error = _error(gold.verdict, scored_as)
        correct = error is None
    else:
        scored_as = verdict
        error = None
        correct = verdict in (None, NOT_CHECKABLE)
    return AssertionResult(
        gold.article, gold.quote, gold.checkable, gold.verdict, gold.certainty,
        list(dict.fromkeys(gold.supporting_pmids + gold.contradicting_pmids)), verdict, scored_as,
        claim.certainty if claim is not None and verdict is not None else None,
        list(claim.pmids) if claim is not None else [], list(claim.key_pmids) if claim is not None else [],
        match.status, match.article_id, match.sentence_idx, claim.claim_id if claim is not None else None,
        claim.sentence if claim is not None else None, correct, error, gold.claim_type, gold.core)


def _certainty_agreement(checkable: list[AssertionResult], has_certainty: bool) -> dict:
    if not has_certainty:
        return {"agreement": None, "within_one_level": None, "n": 0,
                "note": "the database's verdicts view has no certainty_of_evidence column (a database from before "
                        "schema version 9: the next `exoclaims run` migrates it and fills it in)"}
    pairs = [(r.gold_certainty, r.pipeline_certainty) for r in checkable
             if r.gold_certainty in CERTAINTY_LEVELS and r.pipeline_certainty in CERTAINTY_LEVELS]
    if not pairs:
        return {"agreement": None, "within_one_level": None, "n": 0,
                "note": "no checkable assertion has a certainty on both sides"}
    near = sum(abs(CERTAINTY_LEVELS.index(g) - CERTAINTY_LEVELS.index(p)) <= 1 for g, p in pairs)
    without = sum(r.gold_certainty is not None for r in checkable) - len(pairs)
    return {"agreement": round(sum(g == p for g, p in pairs) / len(pairs), 4),
            "within_one_level": round(near / len(pairs), 4), "n": len(pairs),
            "pairs": dict(Counter(f"{g} -> {p}" for g, p in pairs).most_common()),
            "note": f"{without} checkable assertions with a gold certainty got none from the pipeline (no verdict, "
                    "or not checkable) and are left out"}


YIELDS_CLAIM = ("verdict", "claim without verdict")


def _judged(r: AssertionResult) -> bool:
    """The pipeline took the assertion as checkable: a claim with a verdict other than not checkable."""
    return r.pipeline_verdict is not None and r.pipeline_verdict != NOT_CHECKABLE


def _subset(results: list[AssertionResult]) -> dict:
    """Claim recall and verdict figures over some checkable assertions (a kind, or the core ones)."""
    n = len(results)
    if not n:
        return {"n": 0}
    return {
        "n": n,
        "claim_recall": round(sum(r.match in YIELDS_CLAIM for r in results) / n, 4),
        "judged_checkable": round(sum(_judged(r) for r in results) / n, 4),
        "accuracy": round(sum(r.correct for r in results) / n, 4),
        "correct": sum(r.correct for r in results),
        "over_claims": sum(r.error == "over-claim" for r in results),
        "under_claims": sum(r.error == "under-claim" for r in results),
        "certainty_agreement": _certainty_agreement(results, True)["agreement"],
    }


def _detection(results: list[AssertionResult]) -> dict:
    """Claim detection against labels of every line (web-article gold): recall over checkable lines, precision
    over the claims the pipeline judged checkable on labelled lines (a claim holding only non-checkable lines is
    a false positive). Files that label only some assertions give recall alone."""
    checkable = [r for r in results if r.checkable]
    judged_lines = _judged_lines(results)
    sentence_level = any(r.core is not None for r in results)
    return {
        "checkable_lines": len(checkable),
        "recall_yields_claim": round(sum(r.match in YIELDS_CLAIM for r in checkable) / len(checkable), 4)
        if checkable else None,
        "recall_judged_checkable": round(sum(_judged(r) for r in checkable) / len(checkable), 4)
        if checkable else None,
        "claims_judged_checkable": len(judged_lines),
        "precision_judged_checkable": round(sum(judged_lines.values()) / len(judged_lines), 4)
        if judged_lines and sentence_level else None,
    }


def _judged_lines(results: list[AssertionResult]) -> dict[tuple[str, int], bool]:
    """The stored sentences the pipeline judged checkable, each with whether it holds a checkable gold line."""
    judged: dict[tuple[str, int], bool] = {}
    for r in results:
        if r.claim_id is not None and _judged(r):
            key = (r.article_id, r.sentence_idx)
            judged[key] = judged.get(key, False) or r.checkable
    return judged


def article_intervals(results: list[AssertionResult], draws: int = BOOTSTRAP_DRAWS, seed: int = BOOTSTRAP_SEED,
                      level: float = 0.95) -> dict | None:
    """Percentile intervals of the headline figures over resamples of whole articles (see the module docstring)."""
    by_article: dict[str, list[AssertionResult]] = {}
    for r in results:
        by_article.setdefault(r.article, []).append(r)
    articles = sorted(by_article)
    if len(articles) < 2:
        return None
    rows = []
    for article in articles:
        mine = by_article[article]
        checkable = [r for r in mine if r.checkable]
        judged = _judged_lines(mine)
        rows.append((len(checkable), sum(r.correct for r in checkable), sum(_judged(r) for r in checkable),
                     sum(r.error == "over-claim" for r in checkable), len(judged), sum(judged.values())))
    counts = np.array(rows, dtype=float)
    picks = np.random.default_rng(seed).integers(0, len(articles), size=(draws, len(articles)))
    n, correct, recalled, over, judged, judged_right = counts[picks].sum(axis=1).T
    with np.errstate(divide="ignore", invalid="ignore"):
        figures = {"accuracy": correct / n, "claim_recall": recalled / n, "over_claims": over}
        if any(r.core is not None for r in results):
            figures["precision"] = judged_right / judged
    tail = (1 - level) / 2 * 100

    def interval(values: np.ndarray) -> list[float] | None:
        values = values[np.isfinite(values)]
        if not values.size:
            return None
        return [round(float(v), 4) for v in np.percentile(values, [tail, 100 - tail], method="nearest")]

    return {"method": "cluster bootstrap over articles", "level": level, "draws": draws, "articles": len(articles),
            **{name: interval(values) for name, values in figures.items()}}


def score(gold: list[GoldAssertion], stored: StoredVerdicts) -> dict:
    """Every figure of the evaluation, as one JSON-ready dict (see the module docstring)."""
    results = [assess(g, match_quote(g, stored)) for g in gold]
    checkable = [r for r in results if r.checkable]
    not_checkable = [r for r in results if not r.checkable]
    labels = list(GOLD_VERDICTS) + ([NOT_CHECKABLE] if any(r.scored_as == NOT_CHECKABLE for r in checkable) else [])
    per_verdict = {}
    for label in labels:
        tp = sum(r.gold_verdict == label and r.scored_as == label for r in checkable)
        predicted = sum(r.scored_as == label for r in checkable)
        support = sum(r.gold_verdict == label for r in checkable)
        per_verdict[label] = {**prf(tp, predicted, support, digits=4), "support": support, "predicted": predicted}
    supported_labels = [label for label in GOLD_VERDICTS if per_verdict[label]["support"]]
    correct = sum(r.correct for r in checkable)
    matched = Counter(r.match for r in results)
    return {
        "n_gold": len(results),
        "n_checkable": len(checkable),
        "n_not_checkable": len(not_checkable),
        "matched": {
            "with_verdict": matched["verdict"],
            "claim_without_verdict": matched["claim without verdict"],
            "unmatched": len(results) - matched["verdict"] - matched["claim without verdict"],
            "unmatched_by_reason": {k: matched[k] for k in ("sentence without claim", "spans sentences", "not found")},
            "checkable_with_verdict": sum(r.pipeline_verdict is not None for r in checkable),
        },
        "accuracy": round(correct / len(checkable), 4) if checkable else None,
        "correct": correct,
        "macro_f1": round(sum(per_verdict[label]["f1"] for label in supported_labels) / len(supported_labels), 4)
        if supported_labels else None,
        "per_verdict": per_verdict,
        "over_claims": sum(r.error == "over-claim" for r in checkable),
        "under_claims": sum(r.error == "under-claim" for r in checkable),
        "other_errors": sum(r.error == "other" for r in checkable),
        "support_order": SUPPORT_ORDER,
        "confusion": dict(Counter(f"{r.gold_verdict} -> {r.scored_as}" for r in checkable).most_common()),
        "certainty": _certainty_agreement(checkable, stored.has_certainty),
        "not_checkable": {
            "n": len(not_checkable),
            "given_a_verdict": sum(not r.correct for r in not_checkable),
            "marked_not_checkable": sum(r.pipeline_verdict == NOT_CHECKABLE for r in not_checkable),
            "no_verdict": sum(r.pipeline_verdict is None for r in not_checkable),
            "verdicts_given": dict(Counter(r.pipeline_verdict for r in not_checkable if not r.correct).most_common()),
        },
        "detection": _detection(results),
        "intervals": article_intervals(results),
        "core": _subset([r for r in checkable if r.core]),
        "by_kind": {kind: _subset([r for r in checkable if r.gold_claim_type == kind])
                    for kind in sorted({r.gold_claim_type for r in checkable if r.gold_claim_type})},
        "unmatched": [{"article": r.article, "quote": r.quote, "reason": r.match, "article_id": r.article_id,
                       "sentence_idx": r.sentence_idx}
                      for r in results if r.match not in ("verdict", "claim without verdict")],
        "assertions": [asdict(r) for r in results],
    }


def evaluate_database(gold_path: Path | str, db_path: Path | str, wait_s: float = 120,
                      split: str | None = None) -> dict:
    """Open the database read-only (waiting while a run writes it), score it against the gold file or folder
    (only the articles of ``split``, when given)."""
    from pipeline.report.query import open_read_only

    gold = read_gold(gold_path, split)
    con = open_read_only(db_path, wait_s)
    try:
        stored = load_stored(con)
    finally:
        con.close()
    return {"gold": str(gold_path), "split": split, "database": str(db_path), **score(gold, stored)}
