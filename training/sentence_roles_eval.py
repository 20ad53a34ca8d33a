"""Score a trained sentence-role model, with and without its role priors; print JSON.

    python -m training.sentence_roles_eval training/models/sentence_roles/model-best \\
        --corpus training/corpus/sentence_roles --efetch ../shared/eutils-samples/efetch

Two test sets:

* ``dev``: the held-out SciFact abstracts of :mod:`training.sentence_roles_data` (gold: the
  section heading each sentence stood under; positions as in the full abstract);
* ``pubmed_nlm``: real PubMed structured abstracts in the E-utilities samples, out of domain. The
  sections are joined into one text without their labels, split by the pipeline's own sentence
  splitter, and every sentence is scored against its section's NlmCategory (where PubMed gives none,
  or UNASSIGNED, the section label is mapped with :data:`~training.sentence_roles_data.HEADINGS`;
  figures are given for all sentences and for those with an NlmCategory only).

Every decoding mode of :func:`~pipeline.nlp.sentence_roles.decode_roles` is scored: ``text`` (the
textcat alone), ``product`` (times P(role | position)), ``position`` (Bayes: times P(role | position)
/ P(role)) and ``sequence`` (``position`` plus role transitions, Viterbi). ``speed`` times the
component (textcat plus decoding) on the dev abstracts, already segmented, on one process.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from collections import defaultdict
from pathlib import Path
from typing import Sequence

import spacy
from spacy.tokens import Doc, DocBin

from training.sentence_roles_data import HEADINGS, normalise_heading
from pipeline.evaluation.metrics import prf
from pipeline.nlp.sentence_roles import DECODE_MODES, LABELS, SentenceRoles, decode_roles, relative_position


def score(gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str] = LABELS) -> dict:
    """Accuracy, per-label precision/recall/F1 and their macro-averaged F1."""
    per_label = {}
    for label in labels:
        tp = sum(1 for g, p in zip(gold, predicted) if g == p == label)
        n_pred = sum(1 for p in predicted if p == label)
        n_gold = sum(1 for g in gold if g == label)
        per_label[label] = {**prf(tp, n_pred, n_gold), "support": n_gold}
    scored = [label for label in labels if per_label[label]["support"]]
    return {"sentences": len(gold),
            "accuracy": round(sum(g == p for g, p in zip(gold, predicted)) / len(gold), 4) if gold else 0.0,
            "macro_f1": round(sum(per_label[label]["f1"] for label in scored) / len(scored), 4) if scored else 0.0,
            "per_label": per_label}


def load_roles(model: str, priors: str | None = None) -> SentenceRoles:
    roles = SentenceRoles("sentence_roles", model, priors)
    roles.priors  # loads now, so a missing model or priors file fails here
    return roles


def dev_abstracts(path: Path) -> list[list[Doc]]:
    """The dev sentences grouped by abstract, each abstract's in order."""
    by_abstract: dict[int, list[Doc]] = defaultdict(list)
    # an English vocab: the lexical features the textcat reads (NORM, SHAPE, ...) come from its language
    for doc in DocBin().from_disk(path).get_docs(spacy.blank("en").vocab):
        by_abstract[doc.user_data["abstract_id"]].append(doc)
    return [sorted(docs, key=lambda d: d.user_data["index"]) for _, docs in sorted(by_abstract.items())]


def evaluate_dev(roles: SentenceRoles, dev_path: Path) -> dict:
    gold: list[str] = []
    predicted: dict[str, list[str]] = {mode: [] for mode in DECODE_MODES}
    for docs in dev_abstracts(dev_path):
        probs = roles.sentence_probabilities([doc[:] for doc in docs])
        positions = [doc.user_data["position"] for doc in docs]
        gold.extend(max(doc.cats, key=doc.cats.get) for doc in docs)
        for mode in DECODE_MODES:
            predicted[mode].extend(roles.labels[i] for i in decode_roles(probs, positions, roles.priors, mode))
    return {mode: score(gold, predicted[mode]) for mode in DECODE_MODES}


def nlm_abstracts(efetch: Path) -> list[tuple[str, list[tuple[str, str | None, bool]]]]:
    """(pmid, sections) of every structured PubMed abstract in the sample files, each section as
    (text, gold role or None, whether the role is PubMed's own NlmCategory)."""
    from pipeline.pubmed.parse import MalformedResponse, parse_pubmed_xml

    found: dict[str, list[tuple[str, str | None, bool]]] = {}
    for path in sorted(efetch.glob("*.xml")):
        try:
            records = parse_pubmed_xml(path.read_bytes())[0]
        except MalformedResponse:
            continue
        for record in records:
            if record.pmid in found or not any(s.label for s in record.abstract_sections):
                continue
            sections = []
            for section in record.abstract_sections:
                if section.category in LABELS:
                    sections.append((section.text, section.category, True))
                else:
                    mapped = HEADINGS.get(normalise_heading(section.label or ""))
                    sections.append((section.text, mapped if mapped in LABELS else None, False))
            if any(gold for _, gold, _ in sections):
                found[record.pmid] = sections
    return sorted(found.items())


def evaluate_nlm(roles: SentenceRoles, efetch: Path) -> dict:
    from pipeline.nlp.loader import load_base_model

    splitter = load_base_model("blank:en")
    splitter.add_pipe("exoclaims_sentences")
    gold: list[str] = []
    nlm_only: list[bool] = []
    predicted: dict[str, list[str]] = {mode: [] for mode in DECODE_MODES}
    abstracts = nlm_abstracts(efetch)
    for _, sections in abstracts:
        text = "\n\n".join(section_text for section_text, _, _ in sections)  # as analyse.unit_from_record
        bounds, offset = [], 0
        for section_text, role, own in sections:
            bounds.append((offset, offset + len(section_text), role, own))
            offset += len(section_text) + 2
        sents = [s for s in splitter(text).sents if s.text.strip()]
        probs = roles.sentence_probabilities(sents)
        positions = [relative_position(i, len(sents)) for i in range(len(sents))]
        decoded = {mode: decode_roles(probs, positions, roles.priors, mode) for mode in DECODE_MODES}
        for i, sent in enumerate(sents):
            role, own = next(((r, o) for start, end, r, o in bounds if start <= sent.start_char < end), (None, False))
            if role is None:
                continue
            gold.append(role)
            nlm_only.append(own)
            for mode in DECODE_MODES:
                predicted[mode].append(roles.labels[decoded[mode][i]])
    keep = [i for i, own in enumerate(nlm_only) if own]
    return {"abstracts": len(abstracts),
            "all_sections": {mode: score(gold, predicted[mode]) for mode in DECODE_MODES},
            "nlm_category_only": {mode: score([gold[i] for i in keep], [predicted[mode][i] for i in keep])
                                  for mode in DECODE_MODES}}


def time_component(roles: SentenceRoles, dev_path: Path, repeat: int = 3) -> dict:
    """Sentences per second of the component on the dev abstracts rebuilt as segmented Docs."""
    from pipeline.nlp.loader import load_base_model

    splitter = load_base_model("blank:en")
    splitter.add_pipe("exoclaims_sentences")
    texts = [" ".join(doc.text for doc in docs) for docs in dev_abstracts(dev_path)] * repeat
    docs = list(splitter.pipe(texts))
    n_sentences = sum(len(list(doc.sents)) for doc in docs)
    list(roles.pipe(docs[:10]))  # warm-up
    started = time.perf_counter()
    for _ in roles.pipe(docs):
        pass
    elapsed = time.perf_counter() - started
    return {"abstracts": len(docs), "sentences": n_sentences, "seconds": round(elapsed, 3),
            "sentences_per_s": round(n_sentences / elapsed), "abstracts_per_s": round(len(docs) / elapsed, 1),
            "decode": roles.decode}


def evaluate(model: str, corpus: Path, efetch: Path | None, priors: str | None = None) -> dict:
    roles = load_roles(model, priors)
    report = {"model": model, "decode_modes": list(DECODE_MODES), "dev": evaluate_dev(roles, corpus / "dev.spacy")}
    if efetch is not None and efetch.is_dir():
        report["pubmed_nlm"] = evaluate_nlm(roles, efetch)
    report["speed"] = time_component(roles, corpus / "dev.spacy")
    parts = {"dev": report["dev"]}
    if "pubmed_nlm" in report:
        parts["pubmed_nlm"] = report["pubmed_nlm"]["all_sections"]
    report["summary_accuracy_macro_f1"] = {name: {mode: [part[mode]["accuracy"], part[mode]["macro_f1"]]
                                                  for mode in DECODE_MODES} for name, part in parts.items()}
    return report


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="the trained textcat pipeline (path or package name)")
    parser.add_argument("--corpus", type=Path, default=Path("training/corpus/sentence_roles"),
                        help="folder with dev.spacy, from training.sentence_roles_data")
    parser.add_argument("--efetch", type=Path, default=Path("../shared/eutils-samples/efetch"),
                        help="PubMed XML samples with NlmCategory sections (skipped when absent)")
    parser.add_argument("--priors", default=None, help="role_priors.json, if not inside the model directory")
    args = parser.parse_args(argv)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = evaluate(args.model, args.corpus, args.efetch, args.priors)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
