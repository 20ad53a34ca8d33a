"""Score the training gazetteer (:mod:`training.gazetteer`) on the NER corpora's dev splits.

    python -m training.gazetteer_eval /tmp/gazetteer_results.json [--corpora ../shared/corpora]
        [--corpus-dir training/corpus] [--models bc5cdr ncbi] [--settings abbrev] [--contexts sentence]

For each shipped NER model: the model runs once over the dev sentences of the IOB file, each sentence
alone, and is scored exactly as :func:`pipeline.evaluation.models.evaluate_ner_file` scores it (exact
character spans, labels compared case-insensitively, predicted labels the file never annotates left
out). The gazetteer table is built from the corpus's **training** DocBin only; every setting of
:data:`SETTINGS` is then applied to the model's entities, in each of the :data:`CONTEXTS`, and scored
the same way. Dev data only chooses between these fixed settings. Prints a table, writes JSON.

Also reported, to judge how far a training gazetteer can go: the share of dev gold mentions (and of
distinct gold strings) whose string, as the table keys it, is annotated somewhere in training, and the
share of the baseline's missed mentions of which that holds.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import spacy
from spacy.tokens import Doc, Span

from training.catalog import NER_MODELS
from pipeline.evaluation.corpora import abstract_sizes, read_iob
from pipeline.evaluation.models import score_spans
from training.gazetteer import TrainGazetteer, build_gazetteer_from_docbin, span_key

# Everything not named is off or the factory default. History, since dev chose among these: a first
# run had the add_*, remove_k5_r05, relabel and brackets settings, "abbrev_propagate" and an "all"; after
# looking at what each step added and removed on dev, removal came to count only the training
# occurrences where the string stands alone (it had been dropping true entities such as
# "thromboembolism", usually inside a longer one in training), "abbrev" came to label every later
# occurrence of a defined short form, and extend_k2_p50, remove_k3_r10, propagate (split off), the two
# combinations below and the abstract/block10 contexts were added.
SETTINGS: dict[str, dict] = {
    "add_k2_p50": {"add": True, "min_count": 2, "min_precision": 0.5},
    "add_k2_p80": {"add": True, "min_count": 2, "min_precision": 0.8},
    "add_k3_p80": {"add": True, "min_count": 3, "min_precision": 0.8},
    "add_k2_p50_nonested": {"add": True, "min_count": 2, "min_precision": 0.5, "count_nested": False},
    "extend_k2_p50": {"add": False, "extend": True, "min_count": 2, "min_precision": 0.5},
    "remove_k5_r05": {"add": False, "remove": True, "remove_min_count": 5, "remove_max_rate": 0.05},
    "remove_k3_r10": {"add": False, "remove": True, "remove_min_count": 3, "remove_max_rate": 0.10},
    "relabel": {"add": False, "relabel": True},
    "brackets": {"add": False, "balance_brackets": True},
    "abbrev": {"add": False, "abbreviations": True},
    "propagate": {"add": False, "propagate": True},
    "remove_abbrev": {"add": False, "remove": True, "abbreviations": True},
    "all": {"add": True, "min_count": 2, "min_precision": 0.8, "extend": True, "remove": True, "relabel": True,
            "balance_brackets": True, "abbreviations": True, "propagate": True},
}
# How the component sees the dev text (the NER model itself always runs on each sentence alone, as in
# pipeline.evaluation.models, and scoring is per sentence either way):
# - "sentence": each sentence alone: the protocol of pipeline.evaluation.models;
# - "abstract": the sentences of one abstract joined into one Doc, as the project's pipeline runs on
#   whole abstracts. The IOB files have no document boundaries; they are recovered from the original
#   corpus files (ORIGINALS: only their text is read, to find which abstract each dev sentence is part
#   of; every abstract's sentences are contiguous in the IOB file). Not available for BioNLP13CG;
# - "block10": runs of 10 consecutive sentences (the dev sets average 9-10 sentences per abstract),
#   an approximation of "abstract" for every corpus.
CONTEXTS = ("sentence", "abstract", "block10")
ORIGINALS = {spec.name.rsplit("_", 1)[1]: spec.abstracts for spec in NER_MODELS if spec.abstracts}


def context_groups(context: str, sentences, corpus: str, corpora: Path) -> list[int] | None:
    if context == "sentence":
        return [1] * len(sentences)
    if context == "block10":
        return [min(10, len(sentences) - i) for i in range(0, len(sentences), 10)]
    if corpus in ORIGINALS and (corpora / ORIGINALS[corpus]).exists():
        return abstract_sizes(sentences, corpora / ORIGINALS[corpus])
    return None


def evaluate_model(spec, corpora: Path, corpus_dir: Path, settings: dict[str, dict],
                   contexts: tuple[str, ...]) -> dict:
    corpus = spec.name.rsplit("_", 1)[1]
    nlp = spacy.load(spec.name)
    sentences = list(read_iob(corpora / spec.dev))
    gold = [(i, s, e, label.lower()) for i, sent in enumerate(sentences) for s, e, label in sent.entity_offsets()]
    gold_labels = {g[3] for g in gold}
    t0 = time.perf_counter()
    docs = list(nlp.pipe((s.text for s in sentences), batch_size=256))
    model_s = time.perf_counter() - t0
    baseline = [[(e.start, e.end, e.label_) for e in doc.ents] for doc in docs]

    t0 = time.perf_counter()
    data = build_gazetteer_from_docbin(corpus_dir / corpus / "train.spacy", nlp.vocab)
    build_s = time.perf_counter() - t0
    labels = sorted(nlp.get_pipe("ner").labels)

    def predicted(docs_) -> list:
        return [(i, e.start_char, e.end_char, e.label_.lower()) for i, doc in enumerate(docs_) for e in doc.ents
                if e.label_.lower() in gold_labels]

    results = {"model": spec.name, "dev": str(corpora / spec.dev), "train": str(corpus_dir / corpus / "train.spacy"),
               "sentences": len(sentences), "model_seconds": round(model_s, 1), "build_seconds": round(build_s, 1),
               "table": {"entries": len(data["entries"]), "unannotated_ngrams": len(data["unannotated_ngrams"]),
                         "abbreviations": data["abbreviations"]}}
    base = score_spans(gold, predicted(docs))
    results["baseline"] = _summary(base)
    results["coverage"] = _coverage(docs, gold, predicted(docs), data)
    groups = {c: g for c in contexts if (g := context_groups(c, sentences, corpus, corpora)) is not None}
    results["abstracts"] = len(groups["abstract"]) if "abstract" in groups else None
    results["settings"] = {}
    for name, cfg in settings.items():
        gaz = TrainGazetteer(nlp, "train_gazetteer", labels=labels, **cfg)
        gaz.set_data(data)
        for context, sizes in groups.items():
            for doc, ents in zip(docs, baseline):
                doc.ents = [Span(doc, s, e, label=label) for s, e, label in ents]
            t0 = time.perf_counter()
            out = apply_in_groups(gaz, docs, sizes)
            seconds = time.perf_counter() - t0
            scores = score_spans(gold, predicted(out))
            results["settings"].setdefault(name, {"config": cfg, "additions": len(gaz.additions)})[context] = {
                "ms_per_sentence": round(1000 * seconds / max(len(docs), 1), 3), **_summary(scores)}
    return results


def apply_in_groups(gaz: TrainGazetteer, docs: list[Doc], sizes: list[int]) -> list[Doc]:
    """``gaz`` applied to runs of consecutive docs (``sizes``) joined into one Doc each; the entities are
    handed back to the single docs (one that would cross from one doc into the next is dropped)."""
    out, start = [], 0
    for size in sizes:
        group = docs[start:start + size]
        start += size
        if size == 1:
            out.append(gaz(group[0]))
            continue
        joined = gaz(Doc.from_docs(group, ensure_whitespace=True))
        offset = 0
        for doc in group:
            doc.ents = [Span(doc, e.start - offset, e.end - offset, label=e.label_) for e in joined.ents
                        if offset <= e.start and e.end <= offset + len(doc)]
            offset += len(doc)
            out.append(doc)
    return out


def _summary(scores: dict) -> dict:
    return {k: scores[k] for k in ("precision", "recall", "f1", "support", "predicted")} | {
        "per_label": {label: {k: v[k] for k in ("precision", "recall", "f1", "support")}
                      for label, v in scores["per_label"].items()}}


def _coverage(docs, gold, predicted, data) -> dict:
    """Shares of dev gold mentions (all, and those the baseline missed) whose key is a training entity
    string, and whose key occurs in training as an n-gram at all (annotated or not)."""
    known = {(e["mode"], tuple(e["tokens"])) for e in data["entries"]}
    missed = set(gold) - set(predicted)
    counts = {"gold": 0, "gold_in_train_entities": 0, "missed": 0, "missed_in_train_entities": 0}
    for g in gold:
        i, s, e, _ = g
        span = docs[i].char_span(s, e)
        in_train = span is not None and span_key(span) in known
        counts["gold"] += 1
        counts["gold_in_train_entities"] += in_train
        if g in missed:
            counts["missed"] += 1
            counts["missed_in_train_entities"] += in_train
    distinct = {span_key(span) for i, s, e, _ in gold if (span := docs[i].char_span(s, e)) is not None}
    counts["distinct_gold_strings"] = len(distinct)
    counts["share_distinct_gold_strings_in_train"] = round(len(distinct & known) / max(len(distinct), 1), 4)
    counts["share_gold_in_train"] = round(counts["gold_in_train_entities"] / max(counts["gold"], 1), 4)
    counts["share_missed_in_train"] = round(counts["missed_in_train_entities"] / max(counts["missed"], 1), 4)
    return counts


def print_table(all_results: list[dict]) -> None:
    print(f"{'model':28} {'setting':20} {'context':9} {'P':>6} {'R':>6} {'F1':>6} {'dF1':>7}")
    for r in all_results:
        b = r["baseline"]
        print(f"{r['model']:28} {'baseline':20} {'':9} {b['precision']:.4f} {b['recall']:.4f} {b['f1']:.4f}")
        for name, s in r["settings"].items():
            for context in CONTEXTS:
                if context in s:
                    c = s[context]
                    print(f"{'':28} {name:20} {context:9} {c['precision']:.4f} {c['recall']:.4f} {c['f1']:.4f} "
                          f"{c['f1'] - b['f1']:+.4f}")
        c = r["coverage"]
        print(f"{'':28} dev gold mentions whose string is annotated in train: {c['share_gold_in_train']:.1%} "
              f"(distinct strings: {c['share_distinct_gold_strings_in_train']:.1%}); "
              f"of the baseline's misses: {c['share_missed_in_train']:.1%}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path, help="JSON file to write")
    parser.add_argument("--corpora", type=Path, default=Path("../shared/corpora"))
    parser.add_argument("--corpus-dir", type=Path, default=Path("training/corpus"))
    parser.add_argument("--models", nargs="*", default=None, help="corpus names: bc5cdr ncbi bionlp13cg")
    parser.add_argument("--settings", nargs="*", default=None, help=f"any of {', '.join(SETTINGS)}")
    parser.add_argument("--contexts", nargs="*", default=None, help=f"any of {', '.join(CONTEXTS)}")
    args = parser.parse_args(argv)
    contexts = tuple(c for c in CONTEXTS if args.contexts is None or c in args.contexts)
    settings = {k: v for k, v in SETTINGS.items() if args.settings is None or k in args.settings}
    specs = [s for s in NER_MODELS if args.models is None or s.name.rsplit("_", 1)[1] in args.models]
    all_results = []
    for spec in specs:
        all_results.append(evaluate_model(spec, args.corpora, args.corpus_dir, settings, contexts))
        print_table(all_results[-1:])
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"settings": settings, "contexts": contexts, "results": all_results},
                                      indent=2) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
