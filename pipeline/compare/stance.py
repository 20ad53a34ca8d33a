"""Stance of an evidence passage towards a claim: supports, contradicts or unrelated.

Two logistic regressions (related or not; if related, contradicts or supports) over features of the
claim–evidence pair, small enough to ship inside the package and fast enough for thousands of pairs
a minute on one CPU core:

* dense features: how much of the claim the evidence covers (words, stems, bigrams, numbers), the
  negation, hedging and direction cues on each side and how they agree, the claim's form
  (question, "myth", "no evidence"), lengths;
* hashed sparse features: the claim's own words and bigrams (how a claim is phrased says much
  about whether a passage can back it), the claim's words that the evidence lacks or shares, the
  evidence's stems and bigrams, stems crossed with the claim's polarity, and crosses of the cues
  found in the claim with those found in the evidence ("claim says increase, evidence says decrease").

Weights are trained by ``training.stance_train`` and shipped as ``stance_weights.npz``
(plain arrays, no pickle); the method and its scores are in docs/stance.md.
"""

from __future__ import annotations

import functools
import math
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np

STANCES = ("supports", "contradicts", "unrelated")
WEIGHTS_PATH = Path(__file__).with_name("stance_weights.npz")
HASH_BITS = 18

_TOKEN = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*|n't|[?]")
_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")
_STOPWORDS = frozenset("""
a an the and or of in on at to for from by with as is are was were be been being this that these those it its
their there here which who whom whose what when where why how than then so such can could may might will would
shall should do does did has have had having into onto about over under after before between during through
also more most very much many some any each other both only own same just we our you your they them he she his
her i me my us not no nor yes if but because while although whether via per vs et al
""".split())
_CUES: dict[str, frozenset[str]] = {
    "neg": frozenset("""not no never none nor cannot can't n't without neither nothing nobody lack lacks lacking
        lacked absence absent fail fails failed unable""".split()),
    "hedge": frozenset("""may might could possibly possible potential potentially suggest suggests suggested
        suggesting appear appears appeared likely unlikely hypothesis hypothesize hypothesized speculate unclear
        uncertain unknown remains warrant warranted preliminary promising perhaps putative""".split()),
    "up": frozenset("""increase increases increased increasing higher high elevated elevate rise rises raised
        raise greater enhance enhances enhanced enhancing promote promotes promoted boost boosts worsen worsens
        worsened exacerbate exacerbates accelerate accelerates induce induces induced trigger triggers more
        upregulate upregulated amplify""".split()),
    "down": frozenset("""decrease decreases decreased decreasing reduce reduces reduced reducing reduction lower
        lowers lowered low decline declines declined less fewer inhibit inhibits inhibited inhibition suppress
        suppresses suppressed attenuate attenuates attenuated mitigate mitigates alleviate alleviates diminish
        diminished downregulate downregulated limit limits limited slow slows""".split()),
    "good": frozenset("""effective efficacy efficacious benefit benefits beneficial improve improves improved
        improvement cure cures cured treat treats treated treatment protect protects protected protective
        prevent prevents prevented prevention help helps helped safe safety recommend recommended kill kills
        killed inactivate inactivates work works worked useful successful""".split()),
    "bad": frozenset("""harmful harm harms toxic toxicity adverse danger dangerous risk risks risky death deaths
        mortality die died severe severity worse damage damages fatal lethal infect infects infected
        transmission spread spreads spreading contagious""".split()),
    "deny": frozenset("""myth myths false hoax debunk debunked untrue fake misinformation wrong rumor rumour
        ineffective insufficient unproven misleading""".split()),
    "contrast": frozenset("however but although though whereas despite nevertheless yet contrary".split()),
    "assoc": frozenset("""associated association associations correlated correlation linked link relationship
        related""".split()),
    "evidence": frozenset("evidence proof proven prove proves data study studies trial trials shown".split()),
}
_CUE_NAMES = tuple(_CUES)
_ALL_CUES = frozenset().union(*_CUES.values())
_NEGATION_PHRASES = re.compile(
    r"\b(no (significant |clear |strong |conclusive |good |scientific )?(evidence|difference|effect|association|"
    r"benefit|correlation|impact|change|role)|not (significantly |be )?(associated|related|linked|effective|"
    r"correlated|recommended|affect\w*)|did not|does not|do not|failed to|no longer|rather than|"
    r"neither|there is no|there are no|cannot|unable to)\b")
_SUFFIXES = ("ational", "ization", "fulness", "iveness", "ations", "ation", "ments", "ment", "ness", "ities",
             "ity", "ings", "ing", "edly", "ed", "ies", "es", "ly", "s")


def _stem(word: str) -> str:
    """A light suffix stripper: enough to match "reduced"/"reduces"/"reduction" without a lemmatiser."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


@dataclass(frozen=True)
class _Side:
    """One text (claim or evidence), tokenised once."""

    tokens: tuple[str, ...]
    content: frozenset[str]  # stems of non-stopword tokens
    bigrams: frozenset[tuple[str, str]]
    numbers: frozenset[str]
    cues: dict[str, int]  # cue class -> how many of its words occur
    cue_words: frozenset[str]
    phrase_negations: int

    @property
    def negated(self) -> bool:
        """Any negation or denial at all: emphatic double negations ("no, absolutely not") outnumber real ones."""
        return self.cues["neg"] + self.cues["deny"] + self.phrase_negations > 0

    @classmethod
    def of(cls, text: str) -> "_Side":
        lowered = text.lower().replace("’", "'")
        tokens = tuple(_TOKEN.findall(lowered))
        words = [t for t in tokens if t not in _STOPWORDS and t != "?" and len(t) > 1 and not _NUMBER.match(t)]
        stems = [_stem(w) for w in words]
        cues = {name: sum(t in vocab for t in tokens) for name, vocab in _CUES.items()}
        cues["neg"] += sum(t.endswith("n't") for t in tokens if t != "n't")
        return cls(tokens=tokens, content=frozenset(stems), bigrams=frozenset(zip(stems, stems[1:])),
                   numbers=frozenset(t for t in tokens if _NUMBER.match(t)), cues=cues,
                   cue_words=frozenset(t for t in tokens if t in _ALL_CUES),
                   phrase_negations=len(_NEGATION_PHRASES.findall(lowered)))


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _dense(claim: _Side, evidence: _Side) -> list[float]:
    shared = claim.content & evidence.content
    missing = claim.content - evidence.content
    features = [
        _ratio(len(shared), len(claim.content)),
        _ratio(len(shared), len(evidence.content)),
        _ratio(len(shared), len(claim.content | evidence.content)),
        _ratio(len(claim.bigrams & evidence.bigrams), len(claim.bigrams)),
        float(len(shared)),
        float(len(missing)),
        float(not missing),
        float(not shared),
        _ratio(len(claim.numbers & evidence.numbers), len(claim.numbers)),
        float(bool(claim.numbers - evidence.numbers)),
        math.log1p(len(claim.tokens)),
        math.log1p(len(evidence.tokens)),
        float("?" in claim.tokens),
        float(claim.phrase_negations > 0),
        float(evidence.phrase_negations > 0),
        float((claim.phrase_negations > 0) != (evidence.phrase_negations > 0)),
    ]
    for name in _CUE_NAMES:
        in_claim, in_evidence = claim.cues[name] > 0, evidence.cues[name] > 0
        features += [float(in_claim), float(in_evidence), float(in_claim and in_evidence),
                     _ratio(evidence.cues[name], len(evidence.tokens)) * 10]
    claim_up = claim.cues["up"] > claim.cues["down"]
    claim_down = claim.cues["down"] > claim.cues["up"]
    evidence_up = evidence.cues["up"] > evidence.cues["down"]
    evidence_down = evidence.cues["down"] > evidence.cues["up"]
    features += [
        float(claim.negated != evidence.negated),
        float(claim.negated and evidence.negated),
        float((claim_up and evidence_down) or (claim_down and evidence_up)),
        float((claim_up and evidence_up) or (claim_down and evidence_down)),
    ]
    return features


def _claim_names(claim: _Side) -> Iterator[str]:
    """The sparse features of the claim alone (its words and, crossed with its polarity, its stems)."""
    words = [t for t in claim.tokens if t != "?"]
    for word in words:
        yield f"c:{word}"
    for first, second in zip(words, words[1:]):
        yield f"cb:{first}_{second}"
    for stem in claim.content:
        yield f"pc:{_polarity(claim)}|{stem}"


def _evidence_names(evidence: _Side, polarity: str) -> Iterator[str]:
    """The sparse features of the evidence, given the claim's polarity."""
    for stem in evidence.content:
        yield f"e:{stem}"
    for first, second in evidence.bigrams:
        yield f"eb:{first}_{second}"
    for stem in evidence.content:
        yield f"pe:{polarity}|{stem}"


def _pair_names(claim: _Side, evidence: _Side) -> Iterator[str]:
    """The sparse features that need both texts."""
    for stem in claim.content - evidence.content:
        yield f"miss:{stem}"
    for stem in claim.content & evidence.content:
        yield f"both:{stem}"
    claim_classes = [n for n in _CUE_NAMES if claim.cues[n]] or ["none"]
    evidence_classes = [n for n in _CUE_NAMES if evidence.cues[n]] or ["none"]
    for c in claim_classes:
        for e in evidence_classes:
            yield f"x:{c}|{e}"
    for c in claim.cue_words:
        for e in evidence.cue_words:
            yield f"cc:{c}|{e}"
    for stem in claim.content:
        for e in evidence.cue_words:
            yield f"cx:{stem}|{e}"


def _polarity(claim: _Side) -> str:
    return "neg" if claim.negated else "pos"


def _hashed(claim: _Side, evidence: _Side) -> Iterable[str]:
    """Names of the sparse features present in the pair; each is hashed into one weight row.

    The evidence words are crossed with the claim's polarity (negated or not) because one passage
    supports a claim and contradicts its negation, HealthVer's commonest pattern.
    """
    yield from _claim_names(claim)
    yield from _evidence_names(evidence, _polarity(claim))
    yield from _pair_names(claim, evidence)


@functools.lru_cache(maxsize=1 << 20)
def _bucket(name: str) -> int:
    return zlib.crc32(name.encode("utf-8")) & ((1 << HASH_BITS) - 1)


# The comparison scores every article claim against thousands of literature claims, the literature in the
# same order each time: each text is read, and its one-sided features hashed, once. The caches are unbounded
# because an LRU smaller than the literature would miss on every call of that cyclic pattern (at 50k records
# it held a quarter of the claims); the comparison empties them when it is done (clear_text_caches).
@functools.lru_cache(maxsize=None)
def _side(text: str) -> _Side:
    return _Side.of(text)


@functools.lru_cache(maxsize=None)
def _claim_buckets(text: str) -> np.ndarray:
    return np.fromiter((_bucket(n) for n in _claim_names(_side(text))), dtype=np.int64)


@functools.lru_cache(maxsize=None)
def _evidence_buckets(text: str, polarity: str) -> np.ndarray:
    return np.fromiter((_bucket(n) for n in _evidence_names(_side(text), polarity)), dtype=np.int64)


def clear_text_caches() -> None:
    """Forget the features of the texts seen so far (about 8 KB per text)."""
    for cached in (_side, _claim_buckets, _evidence_buckets, _bucket):
        cached.cache_clear()


N_DENSE = len(_dense(_Side.of(""), _Side.of("")))


@dataclass(frozen=True)
class PairFeatures:
    """The features of one claim–evidence pair: dense values and the hashed indices that fire."""

    dense: np.ndarray
    hashed: np.ndarray  # distinct bucket indices, each with value 1

    @classmethod
    def of(cls, claim: str, evidence: str) -> "PairFeatures":
        c, e = _side(claim), _side(evidence)
        pair = np.fromiter((_bucket(n) for n in _pair_names(c, e)), dtype=np.int64)
        hashed = np.concatenate([_claim_buckets(claim), _evidence_buckets(evidence, _polarity(c)), pair])
        return cls(dense=np.asarray(_dense(c, e), dtype=np.float64), hashed=np.unique(hashed))


@dataclass(frozen=True)
class StancePrediction:
    label: str
    score: float  # probability of ``label``
    probabilities: dict[str, float]


def combine_stages(p_unrelated: np.ndarray, p_contradicts: np.ndarray) -> np.ndarray:
    """P(supports, contradicts, unrelated) per row from P(unrelated) and P(contradicts | related)."""
    return np.column_stack([(1 - p_unrelated) * (1 - p_contradicts), (1 - p_unrelated) * p_contradicts, p_unrelated])


class StanceClassifier:
    """Two logistic regressions over the same features, scored with numpy from exported weights.

    The first says whether the evidence bears on the claim at all (P(unrelated)); the second,
    trained on related pairs only, whether it contradicts rather than supports. Splitting the
    decision lets the second model spend its weights on polarity instead of on topic overlap.
    """

    def __init__(self, dense_weights: np.ndarray, hashed_weights: np.ndarray, bias: np.ndarray) -> None:
        """Column 0 of each array scores "unrelated", column 1 "contradicts rather than supports"."""
        for name, array, shape in (("dense", dense_weights, (N_DENSE, 2)),
                                   ("hashed", hashed_weights, (1 << HASH_BITS, 2)), ("bias", bias, (2,))):
            if array.shape != shape:
                raise ValueError(f"{name} weights have shape {array.shape}, the features need {shape}; "
                                 f"re-train with training.stance_train")
        self.dense_weights = dense_weights.astype(np.float64)
        self.hashed_weights = hashed_weights.astype(np.float64)
        self.bias = bias.astype(np.float64)

    @classmethod
    def load(cls, path: Path | None = None) -> "StanceClassifier":
        """The weights at ``path``; by default the ones shipped with the package."""
        with np.load(path or WEIGHTS_PATH, allow_pickle=False) as data:
            return cls(data["dense"], data["hashed"], data["bias"])

    def save(self, path: Path) -> None:
        """Write the weights as a compressed npz of plain float32 arrays (plenty for scoring)."""
        np.savez_compressed(path, dense=self.dense_weights.astype(np.float32),
                            hashed=self.hashed_weights.astype(np.float32), bias=self.bias.astype(np.float32))

    def probabilities(self, dense: np.ndarray, hashed_rows: np.ndarray) -> np.ndarray:
        """P(supports, contradicts, unrelated) per row, given dense features and summed hashed weights."""
        z = self.bias + dense @ self.dense_weights + hashed_rows
        p_unrelated, p_contradicts = (1.0 / (1.0 + np.exp(-z))).T
        return combine_stages(p_unrelated, p_contradicts)

    def predict(self, claim: str, evidence: str) -> StancePrediction:
        return self.predict_many([(claim, evidence)])[0]

    def logits(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        """The two stages' logits per pair: (unrelated, contradicts rather than supports)."""
        if not pairs:
            return np.zeros((0, 2))
        features = [PairFeatures.of(claim, evidence) for claim, evidence in pairs]
        dense = np.vstack([f.dense for f in features])
        hashed_rows = np.vstack([self.hashed_weights[f.hashed].sum(axis=0) for f in features])
        return self.bias + dense @ self.dense_weights + hashed_rows

    def predict_many(self, pairs: Sequence[tuple[str, str]]) -> list[StancePrediction]:
        if not pairs:
            return []
        return predictions_from(combine_stages(*(1.0 / (1.0 + np.exp(-self.logits(pairs)))).T))


def predictions_from(probabilities: np.ndarray) -> list[StancePrediction]:
    """One prediction per row of P(supports, contradicts, unrelated)."""
    predictions = []
    for p in probabilities:
        best = int(p.argmax())
        predictions.append(StancePrediction(label=STANCES[best], score=float(p[best]),
                                            probabilities={s: float(v) for s, v in zip(STANCES, p)}))
    return predictions
