"""How fast could the statistical NLP components be made? Inference cost of the shipped components (each with
its own encoder) beside the redesigns docs/models.md discusses: one shared encoder with the same heads, and one
shared encoder with per-token tagging heads for the entity types (the cheapest NER head spaCy has).

    .venv/bin/python benchmarks/shared_encoder_speed.py [--repeat 3] [--out FILE.json]

The redesigned pipelines are built with untrained weights: inference does the same arithmetic whatever the
weights are, so their times are what trained models of those shapes would take (how accurate they would be is
not measured here). One process, batches of 64, the abstracts of ``nlp_speed.py``.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import spacy

from nlp_speed import component_times, load_abstracts  # benchmarks/, beside this script
from results import machine, write_results

ROOT = Path(__file__).resolve().parent.parent
CORE = "en_exoclaims_core"
NER_PACKAGES = ("en_exoclaims_ner_bc5cdr", "en_exoclaims_ner_ncbi", "en_exoclaims_ner_bionlp13cg")

# The shipped NER models' encoder (training/configs/ner.cfg), shared by every head.
ENCODER = {"model": {
    "@architectures": "spacy.Tok2Vec.v2",
    "embed": {"@architectures": "spacy.MultiHashEmbed.v2", "width": 128, "attrs": ["NORM", "PREFIX", "SUFFIX", "SHAPE"],
              "rows": [5000, 1000, 2500, 2500], "include_static_vectors": True},
    "encode": {"@architectures": "spacy.MaxoutWindowEncoder.v2", "width": 128, "depth": 4, "window_size": 1,
               "maxout_pieces": 3}}}
LISTENER = {"@architectures": "spacy.Tok2VecListener.v1", "width": 128, "upstream": "*"}


def _transition_head(state_type: str, hidden_width: int) -> dict:
    return {"model": {"@architectures": "spacy.TransitionBasedParser.v2", "state_type": state_type,
                      "extra_state_tokens": False, "hidden_width": hidden_width, "maxout_pieces": 2,
                      "use_upper": True, "tok2vec": LISTENER}}


def shipped():
    """The configured statistical components as they ship: tagger and parser, then three NER models."""
    nlp = spacy.load(CORE)
    for package in NER_PACKAGES:
        nlp.add_pipe("ner", name=package.removeprefix("en_exoclaims_"), source=spacy.load(package))
    return nlp


def shared_encoder(ner_heads: str):
    """One encoder; a tagger and a parser head of the shipped label sets; ``ner_heads`` "transition" (the shipped
    NER decoder per corpus), "tagging" (one softmax over BILUO tags per corpus) or "none"."""
    shipped_core = spacy.load(CORE)
    tags, deps = shipped_core.get_pipe("tagger").labels, shipped_core.get_pipe("parser").labels
    nlp = spacy.load(CORE, exclude=list(shipped_core.pipe_names))  # tokenizer, vocab and vectors only
    nlp.add_pipe("tok2vec", config=ENCODER)
    tagger = nlp.add_pipe("tagger", config={"model": {"@architectures": "spacy.Tagger.v2", "tok2vec": LISTENER}})
    for tag in tags:
        tagger.add_label(tag)
    parser = nlp.add_pipe("parser", config=_transition_head("parser", 64))
    for dep in deps:
        parser.add_label(dep)
    for package in NER_PACKAGES if ner_heads != "none" else ():
        labels = spacy.load(package).get_pipe("ner").labels
        name = package.removeprefix("en_exoclaims_")
        if ner_heads == "transition":
            head = nlp.add_pipe("ner", name=name, config=_transition_head("ner", 128))
            for label in labels:
                head.add_label(label)
        else:
            head = nlp.add_pipe("tagger", name=name, config={"model": {"@architectures": "spacy.Tagger.v2",
                                                                        "tok2vec": LISTENER}})
            for tag in ["O"] + [f"{move}-{label}" for label in labels for move in "BILU"]:
                head.add_label(tag)
    nlp.config["initialize"]["vectors"] = None  # already in the vocab
    nlp.config["initialize"]["init_tok2vec"] = None
    nlp.initialize()
    return nlp


def measure(name: str, nlp, texts: list[str]) -> dict:
    list(nlp.pipe(texts[:20]))  # warm-up
    started = time.perf_counter()
    list(nlp.pipe(texts, batch_size=64))
    elapsed = time.perf_counter() - started
    per_component = component_times(nlp, texts)
    return {"pipeline": name, "components": nlp.pipe_names, "abstracts_per_s_per_core": round(len(texts) / elapsed, 1),
            "ms_per_abstract": round(elapsed / len(texts) * 1000, 1), "component_ms_per_abstract": per_component}


def main() -> None:
    import training.registry  # noqa: F401  (the packages' configs name its callbacks)

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "shared_encoder_speed.json")
    args = parser.parse_args()
    records, label = load_abstracts()
    texts = [r.abstract for r in records] * args.repeat
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        runs = [measure("shipped: an encoder per component", shipped(), texts),
                measure("one shared encoder, the same heads", shared_encoder("transition"), texts),
                measure("one shared encoder, tagging heads for the entity types", shared_encoder("tagging"), texts),
                measure("one shared encoder, tagger and parser only", shared_encoder("none"), texts)]
    tokenizer = spacy.load(CORE, exclude=["tagger", "parser"]).tokenizer
    results = {"abstracts_source": label, "abstracts": len(texts),
               "tokens_per_abstract": round(sum(len(tokenizer(t)) for t in texts) / len(texts)), "runs": runs,
               "target_abstracts_per_s_per_core": 100, "machine": machine(),
               "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S")}
    write_results("shared_encoder_speed", results, args.out)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
