"""Evaluate the installed models on the corpora's dev splits and write ``docs/models.md``.

    python -m training.report ../shared/corpora docs/models.md [--corpus-dir training/corpus]

The official test splits are not available here, so our figures are dev-split figures; scispaCy's
published figures are on the test splits and are shown for orientation, not as a like-for-like match.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import warnings
from pathlib import Path

import spacy

from training.catalog import CORE_MODEL, NER_MODELS, SENTENCE_ROLES_MODEL
from pipeline.evaluation.corpora import abstract_sizes, read_iob
from pipeline.evaluation.models import evaluate_docbin, evaluate_ner_file
from training.package import size_mb

log = logging.getLogger(__name__)

TARGETS = {"en_exoclaims_ner_bc5cdr": 0.83, "en_exoclaims_ner_ncbi": 0.83, "en_exoclaims_ner_bionlp13cg": 0.75}


def _size_mb(name: str) -> float:
    return size_mb(Path(spacy.util.get_package_path(name)))


def collect(corpora: Path, corpus_dir: Path) -> dict:
    results: dict = {"date": dt.date.today().isoformat(), "ner": {}, "core": {}}
    for spec in NER_MODELS:
        log.info("scoring %s on %s", spec.name, spec.dev)
        scores = evaluate_ner_file(corpora / spec.dev, model=spec.name)
        results["ner"][spec.name] = {**scores, "size_mb": round(_size_mb(spec.name), 1),
                                     "version": spacy.util.get_package_version(spec.name)}
        if spec.abstracts and (corpora / spec.abstracts).exists():
            groups = abstract_sizes(list(read_iob(corpora / spec.dev)), corpora / spec.abstracts)
            results["ner"][spec.name]["abstracts"] = evaluate_ner_file(corpora / spec.dev, model=spec.name,
                                                                       groups=groups)
    core = {"size_mb": round(_size_mb(CORE_MODEL.name), 1), "version": spacy.util.get_package_version(CORE_MODEL.name)}
    core["genia_pos_dev"] = evaluate_docbin(CORE_MODEL.name, corpus_dir / "genia_pos" / "dev.spacy")
    core["genia_dep_dev"] = evaluate_docbin(CORE_MODEL.name, corpus_dir / "genia_dep" / "dev.spacy")
    core["ewt_dev"] = evaluate_docbin(CORE_MODEL.name, corpus_dir / "ewt" / "dev.spacy")
    results["core"] = core
    from training.sentence_roles_eval import evaluate as evaluate_roles

    log.info("scoring %s", SENTENCE_ROLES_MODEL.name)
    roles = evaluate_roles(SENTENCE_ROLES_MODEL.name, corpus_dir / "sentence_roles", corpora.parent / "eutils-samples"
                           / "efetch")
    results["sentence_roles"] = {"size_mb": round(_size_mb(SENTENCE_ROLES_MODEL.name), 1),
                                 "version": spacy.util.get_package_version(SENTENCE_ROLES_MODEL.name),
                                 "summary": roles["summary_accuracy_macro_f1"],
                                 "dev_sequence": roles["dev"]["sequence"], "speed": roles["speed"]}
    return results


START, END = "<!-- scores:start (written by `make models-eval`) -->", "<!-- scores:end -->"


def render(results: dict) -> str:
    lines = [
        START,
        f"Last evaluated {results['date']}. Our figures: **dev** split; scispaCy's: their **test** split.",
        "",
        "### Named entity recognition (exact span match, micro-averaged)",
        "",
        "| model | corpus | P | R | F1 | target | scispaCy published | size |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for spec in NER_MODELS:
        r = results["ner"][spec.name]
        lines.append(f"| `{spec.name}` {r['version']} | {spec.dev.split('/')[1]} | {r['precision']:.3f} | "
                     f"{r['recall']:.3f} | **{r['f1']:.3f}** | >= {TARGETS[spec.name]:.2f} | {spec.published} | "
                     f"{r['size_mb']:.1f} MB |")
    lines += ["", "The same dev sentences run as whole abstracts, as the pipeline runs them (sentence groups "
              "recovered from the corpus's original PubTator file; BioNLP13CG's copy keeps no document boundaries):",
              "", "| model | abstracts | P | R | F1 | target |", "|---|---|---|---|---|---|"]
    for spec in NER_MODELS:
        a = results["ner"][spec.name].get("abstracts")
        if a:
            lines.append(f"| `{spec.name}` | {a['texts']} | {a['precision']:.3f} | {a['recall']:.3f} | "
                         f"**{a['f1']:.3f}** | >= {TARGETS[spec.name]:.2f} |")
        else:
            lines.append(f"| `{spec.name}` | n/a | | | | >= {TARGETS[spec.name]:.2f} |")
    lines += ["", "Per label:", "", "| model | label | P | R | F1 | gold mentions |", "|---|---|---|---|---|---|"]
    for spec in NER_MODELS:
        for label, s in results["ner"][spec.name]["per_label"].items():
            lines.append(f"| `{spec.name}` | {label} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} | "
                         f"{s['support']} |")
    core = results["core"]
    pos, dep, ewt = core["genia_pos_dev"], core["genia_dep_dev"], core["ewt_dev"]
    lines += [
        "",
        f"### Tagger and parser (`en_exoclaims_core` {core['version']}, {core['size_mb']:.1f} MB)",
        "",
        "| evaluation set | POS acc | UAS | LAS | scispaCy `en_core_sci_sm` (test) |",
        "|---|---|---|---|---|",
        f"| GENIA POS dev (target >= 0.97) | **{pos.get('tag_acc') or 0:.3f}** | | | POS 0.982 |",
        f"| GENIA treebank dev (UD v1 labels mapped to UD v2) | {dep.get('tag_acc') or 0:.3f} | "
        f"{dep.get('dep_uas') or 0:.3f} | {dep.get('dep_las') or 0:.3f} | UAS 0.892, LAS 0.872 (GENIA) |",
        f"| UD English-EWT dev | {ewt.get('tag_acc') or 0:.3f} | {ewt.get('dep_uas') or 0:.3f} | "
        f"{ewt.get('dep_las') or 0:.3f} | web UAS 0.874 |",
    ]
    roles = results.get("sentence_roles")
    if roles:
        names = {"text": "textcat alone", "product": "x P(role \\| position)",
                 "position": "x P(role \\| position) / P(role)", "sequence": "+ role transitions (shipped)"}
        lines += ["", f"### Sentence roles (`en_exoclaims_sentence_roles` {roles['version']}, {roles['size_mb']:.1f} MB)",
                  "", "Accuracy / macro-F1. dev: held-out SciFact structured abstracts (headings removed); PubMed: "
                  "the structured abstracts of `../shared/eutils-samples/efetch`, scored against NlmCategory.", "",
                  "| decoding | dev | PubMed samples |", "|---|---|---|"]
        for mode, name in names.items():
            dev = roles["summary"]["dev"][mode]
            nlm = roles["summary"].get("pubmed_nlm", {}).get(mode)
            lines.append(f"| {name} | {dev[0]:.3f} / {dev[1]:.3f} | "
                         + (f"{nlm[0]:.3f} / {nlm[1]:.3f} |" if nlm else "n/a |"))
        per_label = roles["dev_sequence"].get("per_label", {})
        if per_label:
            lines += ["", "Per label (dev, shipped decoding): " + ", ".join(
                f"{label} F1 {v['f1']:.3f}" for label, v in per_label.items()) + "."]
    lines.append(END)
    return "\n".join(lines)


def write_scores(doc_path: Path, results: dict) -> None:
    """Replace the generated section of ``doc_path`` (between the markers), keeping the prose around it."""
    text = doc_path.read_text() if doc_path.exists() else f"# Models\n\n{START}\n{END}\n"
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    doc_path.write_text(head + render(results) + tail)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpora", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--corpus-dir", type=Path, default=Path("training/corpus"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        results = collect(args.corpora, args.corpus_dir)
    args.out.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
    write_scores(args.out, results)
    print(render(results))


if __name__ == "__main__":
    main()
