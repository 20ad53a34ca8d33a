"""Do verdicts survive rewording? ``exoclaims eval paraphrases FILE [--db FILE]``.

A rule that reads one wording of an assertion and misses the next is the commonest way for verdicts to hold on
the articles they were written against and fail on a new one. This evaluation is an invariance test in the sense
of CheckList (Ribeiro et al., ACL 2020): an assertion and several rewordings of it that assert exactly the same
thing (same intervention, outcome, direction, negation, hedge, numbers, population and comparison) should get the
same verdict.

``FILE`` is JSONL, one assertion per line: ``id``, ``title`` and ``previous`` (the article's title and the
sentence before the assertion: context, so that "they" finds what it refers to), ``sentence`` (the assertion as
the article words it) and ``paraphrases`` (rewordings of it; ``tests/fixtures/paraphrases/`` says how they were
written). Each wording is judged on its own, as :mod:`pipeline.check` judges an article, within the same three
lines: title, previous sentence, the wording. Its verdict is that of the claim whose sentence the wording holds
(the most supportive where the wording was split into two sentences; no claim: ``no claim``).

**Figures.** ``stability`` is the share of rewordings whose verdict is the original's; ``all_stable`` the share
of assertions whose rewordings all keep it. A rewording that moves the verdict is a *gain* where the new verdict
ranks above the original's in the order of support (the one :mod:`pipeline.evaluation.verdicts` scores over- and
under-claims by; ``no claim`` ranks with ``not addressed``), a *loss* where it ranks below, otherwise a *swap*.
Where the original is right (a reviewer's verdict, ``gold``, is given), a loss is the under-claim the rewording
would cost on a new article, a gain the over-claim. Figures come per original verdict, so the verdicts the
rules hold only in the words they were written on stand out.
"""

from __future__ import annotations

import json
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

from pipeline.articles.ingest import articles_from_text
from pipeline.config import Settings
from pipeline.evaluation.verdicts import SUPPORT_RANK, fold

log = logging.getLogger(__name__)

NO_CLAIM = "no claim"


@dataclass(frozen=True)
class ParaphraseItem:
    """One assertion and its rewordings."""

    item_id: str
    title: str
    previous: str
    sentence: str
    paraphrases: tuple[str, ...]
    gold: str | None = None  # a reviewer's verdict for the original, where known


@dataclass(frozen=True)
class WordingVerdict:
    item_id: str
    wording: int  # 0: the original, 1...: the rewordings
    text: str
    verdict: str
    claim_type: str | None
    reason: str


def read_items(path: Path) -> list[ParaphraseItem]:
    """The assertions of a JSONL file; a line that is not a JSON object with ``id``, ``sentence`` and a non-empty
    list of ``paraphrases`` raises ValueError naming its line number."""
    items = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if not isinstance(row, dict):
                raise ValueError("not a JSON object")
            paraphrases = tuple(str(p) for p in row["paraphrases"] if str(p).strip())
            if not str(row["sentence"]).strip() or not paraphrases:
                raise ValueError("an empty sentence or no paraphrases")
            items.append(ParaphraseItem(str(row["id"]), str(row.get("title") or ""), str(row.get("previous") or ""),
                                        str(row["sentence"]), paraphrases, row.get("gold")))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{n}: not a paraphrase item ({exc})") from exc
    return items


def context_text(item: ParaphraseItem, wording: str) -> str:
    """The three-line article a wording is judged in. A previous line without closing punctuation is a heading, and
    stays a paragraph of its own."""
    previous = item.previous.strip()
    if previous:
        joiner = " " if previous[-1] in ".!?;:)\"'”’" else "\n\n"
        prefix = f"{item.title.strip()}\n\n{previous}{joiner}" if item.title.strip() else f"{previous}{joiner}"
    else:
        prefix = f"{item.title.strip()}\n\n" if item.title.strip() else ""
    return prefix + wording.strip() + "\n"


def judge_wordings(settings: Settings, items: Sequence[ParaphraseItem], db_path: Path | None = None,
                   progress: bool = True) -> list[WordingVerdict]:
    """Every wording of every item judged against the stored literature (read once, read-only), one small article
    each."""
    from pipeline.check import CheckError, check_article, read_literature

    literature = read_literature(settings, db_path)
    judged: list[WordingVerdict] = []
    for n, item in enumerate(items, 1):
        for k, wording in enumerate((item.sentence, *item.paraphrases)):
            text = context_text(item, wording)
            [article] = articles_from_text(text, f"para_{item.item_id}_{k}", f"{item.item_id}#{k}")[:1]
            try:
                result = check_article(settings, article, literature=literature)
            except CheckError as exc:
                judged.append(WordingVerdict(item.item_id, k, wording, NO_CLAIM, None, str(exc)))
                continue
            target = fold(wording)
            mine = [a for a in result.assertions if fold(a.sentence) and fold(a.sentence) in target]
            if mine:
                best = max(mine, key=lambda a: _rank(a.verdict))
                judged.append(WordingVerdict(item.item_id, k, wording, best.verdict, best.claim_type, best.reason))
            else:
                judged.append(WordingVerdict(item.item_id, k, wording, NO_CLAIM, None, "no claim found"))
        if progress and n % 25 == 0:
            log.info("paraphrases: %d of %d assertions judged", n, len(items))
    return judged


def _rank(verdict: str) -> int:
    """Higher is more support; ``no claim`` and ``not checkable`` rank with ``not addressed``."""
    return SUPPORT_RANK.get(verdict, SUPPORT_RANK["not addressed"])


def score(items: Sequence[ParaphraseItem], judged: Iterable[WordingVerdict]) -> dict[str, Any]:
    """Stability figures (module docstring) and one row per rewording that moved the verdict."""
    by_item: dict[str, dict[int, WordingVerdict]] = defaultdict(dict)
    for v in judged:
        by_item[v.item_id][v.wording] = v
    totals: Counter[str] = Counter()
    per_verdict: dict[str, Counter[str]] = defaultdict(Counter)
    moved = []
    n_items_stable = n_items = 0
    original_right = original_wrong = 0
    for item in items:
        verdicts = by_item.get(item.item_id)
        if not verdicts or 0 not in verdicts:
            continue
        original = verdicts[0]
        n_items += 1
        if item.gold is not None:
            if original.verdict == item.gold:
                original_right += 1
            else:
                original_wrong += 1
        stable = True
        for k in range(1, len(item.paraphrases) + 1):
            v = verdicts.get(k)
            if v is None:
                continue
            change = "same"
            if v.verdict != original.verdict:
                stable = False
                delta = _rank(v.verdict) - _rank(original.verdict)
                change = "gain" if delta > 0 else "loss" if delta < 0 else "swap"
                moved.append({"id": item.item_id, "original": item.sentence, "original_verdict": original.verdict,
                              "rewording": v.text, "verdict": v.verdict, "change": change,
                              "claim_type": v.claim_type, "reason": v.reason, "original_reason": original.reason})
            totals[change] += 1
            per_verdict[original.verdict][change] += 1
        n_items_stable += stable
    n_wordings = sum(totals.values())
    return {
        "assertions": n_items,
        "rewordings": n_wordings,
        "stability": round(totals["same"] / n_wordings, 4) if n_wordings else None,
        "all_stable": round(n_items_stable / n_items, 4) if n_items else None,
        "changes": {k: totals[k] for k in ("same", "gain", "loss", "swap")},
        "per_original_verdict": {verdict: {"rewordings": sum(c.values()),
                                           "stability": round(c["same"] / sum(c.values()), 4),
                                           **{k: c[k] for k in ("gain", "loss", "swap")}}
                                 for verdict, c in sorted(per_verdict.items())},
        "originals_against_gold": {"right": original_right, "wrong": original_wrong},
        "moved": moved,
    }


def evaluate_file(settings: Settings, path: Path, db_path: Path | None = None) -> dict[str, Any]:
    """``exoclaims eval paraphrases``: read, judge and score a paraphrase file against a database."""
    items = read_items(path)
    if not items:
        raise ValueError(f"{path}: no assertions")
    figures = score(items, judge_wordings(settings, items, db_path))
    return {"file": str(path), "database": str(db_path or settings.storage.db_path), **figures}
