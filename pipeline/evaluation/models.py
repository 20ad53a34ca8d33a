"""Score NER models on IOB files and taggers/parsers on converted corpora.

NER scoring is exact span match on characters of the sentence text (corpus tokens joined by single
spaces, the same text the models were trained on), labels compared case-insensitively, micro-averaged.
"""

from __future__ import annotations

import functools
from collections import Counter
from pathlib import Path
from typing import Iterable, Sequence

import spacy
from spacy.language import Language

from pipeline.evaluation.corpora import IobSentence, read_iob
from pipeline.evaluation.metrics import prf

Span = tuple[int, int, int, str]  # sentence index, start_char, end_char, lower-cased label


def _counts(tp: int, n_pred: int, n_gold: int) -> dict:
    return {**prf(tp, n_pred, n_gold), "support": n_gold, "predicted": n_pred}


def score_spans(gold: Iterable[Span], predicted: Iterable[Span]) -> dict:
    gold, predicted = set(gold), set(predicted)
    tp = gold & predicted
    per_label = {}
    for label in sorted({s[3] for s in gold | predicted}):
        per_label[label] = _counts(sum(1 for s in tp if s[3] == label), sum(1 for s in predicted if s[3] == label),
                               sum(1 for s in gold if s[3] == label))
    return {**_counts(len(tp), len(predicted), len(gold)), "per_label": per_label}


def model_labels(nlp: Language) -> set[str]:
    return {label.lower() for name, pipe in nlp.pipeline if hasattr(pipe, "moves") and name.startswith("ner")
            for label in pipe.labels} if nlp.pipe_names else set()


@functools.lru_cache(maxsize=8)
def _load(name: str) -> Language:
    return spacy.load(name)


def choose_model(names: Sequence[str], gold_labels: set[str]) -> str:
    """The model whose label set is most like the gold file's (Jaccard; the first one on ties), so an
    NCBI-disease file picks the disease-only model over the chemical-and-disease one."""
    best, best_score = None, -1.0
    for name in names:
        labels = model_labels(_load(name))
        score = len(labels & gold_labels) / len(labels | gold_labels) if labels | gold_labels else 0.0
        if score > best_score:
            best, best_score = name, score
    return best


def _join(sentences: Sequence[IobSentence], sizes: Sequence[int]) -> list[tuple[str, list[tuple[int, int, str]]]]:
    """Runs of ``sizes`` consecutive sentences joined by a space into one text each, with their entities'
    offsets in that text."""
    units, start = [], 0
    for size in sizes:
        texts, entities, offset = [], [], 0
        for sentence in sentences[start:start + size]:
            entities += [(s + offset, e + offset, label) for s, e, label in sentence.entity_offsets()]
            texts.append(sentence.text)
            offset += len(sentence.text) + 1
        units.append((" ".join(texts), entities))
        start += size
    if start != len(sentences):
        raise ValueError(f"the group sizes cover {start} sentences, the file has {len(sentences)}")
    return units


def evaluate_ner_file(path: Path | str, model: str | None = None, candidates: Sequence[str] = (),
                      batch_size: int = 256, groups: Sequence[int] | None = None) -> dict:
    """Score one NER model on an IOB file (token TAB tag, blank line between sentences).

    Without ``model``, the candidate whose labels best match the file's is used. Predicted labels
    the file does not annotate at all are left out of the score (and listed), so a model that also
    finds, say, organisms is not penalised on a corpus that never marks them. Each sentence is one
    text, unless ``groups`` gives the sizes of runs of consecutive sentences to run as one text (the
    sentences of one abstract: the pipeline runs on whole abstracts).
    """
    sentences: list[IobSentence] = list(read_iob(path))
    units = _join(sentences, groups or [1] * len(sentences))
    gold = [(i, s, e, label.lower()) for i, (_, entities) in enumerate(units) for s, e, label in entities]
    gold_labels = {g[3] for g in gold}
    if model is None:
        if not candidates:
            raise ValueError("no NER model given and none configured ([nlp] ner_models)")
        model = choose_model(candidates, gold_labels)
    nlp = _load(model)
    predicted: list[Span] = []
    ignored: Counter = Counter()
    for i, doc in enumerate(nlp.pipe((text for text, _ in units), batch_size=batch_size)):
        for ent in doc.ents:
            label = ent.label_.lower()
            if label in gold_labels:
                predicted.append((i, ent.start_char, ent.end_char, label))
            else:
                ignored[label] += 1
    result = {"file": str(path), "model": model, "sentences": len(sentences), "texts": len(units),
              **score_spans(gold, predicted)}
    result["ignored_predicted_labels"] = dict(ignored)
    return result


def evaluate_docbin(model: str, path: Path | str) -> dict:
    """spaCy's own scores (tag_acc, dep_uas, dep_las, ents_*) for a model on a ``.spacy`` file."""
    from spacy.tokens import DocBin
    from spacy.training import Example

    nlp = spacy.load(model)
    docs = list(DocBin().from_disk(path).get_docs(nlp.vocab))
    examples = [Example(nlp.make_doc(d.text), d) for d in docs]
    scores = nlp.evaluate(examples)
    return {k: v for k, v in scores.items() if k in ("tag_acc", "dep_uas", "dep_las", "sents_f", "ents_f")}
