"""How often two labellers agree on the same articles: ``exoclaims eval agreement GOLD_A GOLD_B``.

A verdict figure means little without the agreement between people labelling the same lines: a pipeline scored
against one labeller cannot be expected to agree with that labeller more often than a second careful labeller
does. Both sides are gold files or folders as ``exoclaims eval verdicts`` reads them (:func:`read_gold`);
``--split`` keeps the articles a ``split.json`` lists under that name.

**Pairing.** A label of A and one of B pair when they name the same article and their quotes are the same
after folding (:func:`pipeline.evaluation.verdicts.fold`); sentence-by-sentence labels pair line by line. Labels
left unpaired are counted, never guessed at.

**Figures**, each with the number of pairs it is over:

- ``checkable``: observed agreement and Cohen's kappa on whether a line is checkable, with the four counts;
- ``verdict``: over the lines both call checkable, agreement, kappa and the confusion pairs ("A -> B");
- ``claim_type``, ``core`` and ``certainty`` (exact and within one level), over the same lines;
- ``scored_against_a`` and ``scored_against_b``: one labeller scored as ``exoclaims eval verdicts`` scores the
  pipeline against the other: over the reference's checkable lines, the other's verdict counts, and a line the
  other calls not checkable counts as ``not addressed``. This is the figure a pipeline's verdict accuracy
  should be read against.

Kappa is 1 for perfect agreement and 0 for the agreement chance alone would give (each labeller's own label
frequencies); it is ``null`` where chance alone gives full agreement (one label throughout).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Hashable, Sequence

from pipeline.evaluation.verdicts import (
    CERTAINTY_LEVELS, NOT_ADDRESSED, SUPPORT_RANK, GoldAssertion, fold, read_gold,
)


def cohens_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float | None:
    """Cohen's kappa of two equally long label sequences; None where there is nothing to agree on beyond chance
    (no pairs, or both use one and the same label throughout)."""
    if len(a) != len(b):
        raise ValueError(f"kappa needs paired labels: {len(a)} against {len(b)}")
    n = len(a)
    if n == 0:
        return None
    observed = sum(x == y for x, y in zip(a, b)) / n
    freq_a, freq_b = Counter(a), Counter(b)
    chance = sum(freq_a[label] * freq_b[label] for label in freq_a) / (n * n)
    if chance == 1.0:
        return None
    return round((observed - chance) / (1 - chance), 4)


def pair_labels(a: Sequence[GoldAssertion], b: Sequence[GoldAssertion]
                ) -> tuple[list[tuple[GoldAssertion, GoldAssertion]], int, int]:
    """The labels of A and B about the same quote of the same article, in A's order, and how many of A's and
    of B's were left unpaired. A quote labelled twice by one side pairs in order of appearance."""
    waiting: dict[tuple[str, str], list[GoldAssertion]] = {}
    for label in b:
        waiting.setdefault((label.article, fold(label.quote)), []).append(label)
    pairs = []
    for label in a:
        others = waiting.get((label.article, fold(label.quote)))
        if others:
            pairs.append((label, others.pop(0)))
    return pairs, len(a) - len(pairs), len(b) - len(pairs)


def _share(agree: int, n: int) -> float | None:
    return round(agree / n, 4) if n else None


def _agreement(values: list[tuple[Hashable, Hashable]]) -> dict:
    firsts, seconds = [x for x, _ in values], [y for _, y in values]
    return {"n": len(values), "agreement": _share(sum(x == y for x, y in values), len(values)),
            "kappa": cohens_kappa(firsts, seconds)}


def _scored_against(reference: list[GoldAssertion], other: list[GoldAssertion]) -> dict:
    """``other`` scored against ``reference`` as the verdict evaluation scores the pipeline."""
    answered = [(ref.verdict, oth.verdict if oth.checkable else NOT_ADDRESSED)
                for ref, oth in zip(reference, other) if ref.checkable]
    over = sum(SUPPORT_RANK[said] > SUPPORT_RANK[gold] for gold, said in answered)
    under = sum(SUPPORT_RANK[said] < SUPPORT_RANK[gold] for gold, said in answered)
    correct = sum(gold == said for gold, said in answered)
    return {"n": len(answered), "correct": correct, "accuracy": _share(correct, len(answered)),
            "over_claims": over, "under_claims": under}


def agreement(a: Sequence[GoldAssertion], b: Sequence[GoldAssertion]) -> dict:
    """The figures of this module for two labellers' labels of the same articles."""
    pairs, unpaired_a, unpaired_b = pair_labels(a, b)
    firsts, seconds = [x for x, _ in pairs], [y for _, y in pairs]
    checkable_counts = Counter((x.checkable, y.checkable) for x, y in pairs)
    both = [(x, y) for x, y in pairs if x.checkable and y.checkable]
    typed = [(x.claim_type, y.claim_type) for x, y in both if x.claim_type and y.claim_type]
    cored = [(x.core, y.core) for x, y in both if x.core is not None and y.core is not None]
    sure = [(CERTAINTY_LEVELS.index(x.certainty), CERTAINTY_LEVELS.index(y.certainty)) for x, y in both
            if x.certainty in CERTAINTY_LEVELS and y.certainty in CERTAINTY_LEVELS]
    verdicts = [(x.verdict, y.verdict) for x, y in both]
    return {
        "articles": len({x.article for x in firsts}),
        "paired": len(pairs),
        "unpaired_a": unpaired_a,
        "unpaired_b": unpaired_b,
        "checkable": {**_agreement([(x.checkable, y.checkable) for x, y in pairs]),
                      "both": checkable_counts[(True, True)], "only_a": checkable_counts[(True, False)],
                      "only_b": checkable_counts[(False, True)], "neither": checkable_counts[(False, False)]},
        "verdict": {**_agreement(verdicts),
                    "confusion": dict(Counter(f"{x} -> {y}" for x, y in verdicts).most_common())},
        "claim_type": {**_agreement(typed),
                       "confusion": dict(Counter(f"{x} -> {y}" for x, y in typed if x != y).most_common())},
        "core": _agreement(cored),
        "certainty": {**_agreement(sure),
                      "within_one_level": _share(sum(abs(x - y) <= 1 for x, y in sure), len(sure))},
        "scored_against_a": _scored_against(firsts, seconds),
        "scored_against_b": _scored_against(seconds, firsts),
    }


def evaluate_agreement(path_a: Path | str, path_b: Path | str, split: str | None = None) -> dict:
    """Read both labellers' gold files (or folders) and compare them; only the articles both labelled count,
    so a second labeller's sample of a corpus is compared with the first labeller's labels of the same
    articles."""
    a, b = read_gold(path_a, split), read_gold(path_b, split)
    shared = {x.article for x in a} & {y.article for y in b}
    if not shared:
        raise ValueError(f"{path_a} and {path_b} label no article in common")
    figures = agreement([x for x in a if x.article in shared], [y for y in b if y.article in shared])
    return {"a": str(path_a), "b": str(path_b), "split": split, **figures}
