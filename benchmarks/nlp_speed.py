"""NLP-stage throughput: abstracts per second per core through the full pipeline (``nlp.pipe`` plus
claim extraction), for 1 and 2 processes, with model load time measured separately.

    .venv/bin/python benchmarks/nlp_speed.py [--model NAME] [--repeat 20] [--out benchmarks/results/nlp_speed.json]

Abstracts: every record with an abstract in ``../shared/eutils-samples/efetch/`` when that folder is
there (real PubMed XML), otherwise the project's fixtures; the set is repeated ``--repeat`` times.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import warnings
from pathlib import Path

from results import write_results  # benchmarks/results.py, beside this script

ROOT = Path(__file__).resolve().parent.parent


def load_abstracts() -> tuple[list, str]:
    from pipeline.pubmed.parse import MalformedResponse, parse_pubmed_xml

    shared = ROOT.parent / "shared" / "eutils-samples" / "efetch"
    sources = sorted(shared.glob("*.xml")) if shared.is_dir() else []
    label = "../shared/eutils-samples/efetch"
    if not sources:
        sources = sorted((ROOT / "tests" / "fixtures").glob("pubmed*/*.xml"))
        label = "tests/fixtures"
    records = []
    for path in sources:
        try:
            records.extend(r for r in parse_pubmed_xml(path.read_bytes())[0] if r.has_abstract)
        except MalformedResponse:
            continue
    return records, label


def run(model: str | None, repeat: int, processes: list[int]) -> dict:
    from pipeline.claims.extract import with_claims
    from pipeline.config import load_settings
    from pipeline.nlp.analyse import analyse_docs, unit_from_record
    from pipeline.nlp.loader import build_pipeline

    settings = load_settings(env={})
    ner_models = settings.nlp.ner_models if model is None else ()
    model = model or settings.nlp.model
    records, label = load_abstracts()
    units = [unit_from_record(r) for r in records] * repeat
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nlp = build_pipeline(model, settings.nlp.lexicon, ner_models)
    load_s = time.perf_counter() - started
    results = {"model": model, "ner_models": list(ner_models), "pipeline": nlp.pipe_names, "abstracts_source": label,
               "distinct_abstracts": len(records), "abstracts": len(units),
               "characters": sum(len(u.text) for u in units), "model_load_s": round(load_s, 3), "runs": []}
    for n_process in processes:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            [with_claims(d) for d in analyse_docs(nlp, units[:20])]  # warm-up
            started = time.perf_counter()
            analysed = [with_claims(d) for d in analyse_docs(nlp, units, batch_size=64, n_process=n_process)]
            elapsed = time.perf_counter() - started
        results["runs"].append({
            "processes": n_process,
            "seconds": round(elapsed, 3),
            "abstracts_per_s": round(len(units) / elapsed, 1),
            "abstracts_per_s_per_core": round(len(units) / elapsed / n_process, 1),
            "sentences": sum(len(a.sentences) for a in analysed),
            "entities": sum(len(a.entities) for a in analysed),
            "claims": sum(len(a.claims) for a in analysed),
        })
    results["component_ms_per_abstract"] = component_times(nlp, [u.text for u in units[:len(records)]])
    return results


def component_times(nlp, texts: list[str]) -> dict:
    """Milliseconds per abstract spent in each pipeline component (one process, batches of 64)."""
    times = {}
    docs = [nlp.make_doc(t) for t in texts]
    for name, component in nlp.pipeline:
        started = time.perf_counter()
        docs = list(component.pipe(docs, batch_size=64)) if hasattr(component, "pipe") else [component(d) for d in docs]
        times[name] = round((time.perf_counter() - started) / len(texts) * 1000, 2)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="base model only (default: the configured pipeline, "
                                                       "config/pipeline.toml [nlp] model and ner_models)")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "nlp_speed.json")
    args = parser.parse_args()
    results = run(args.model, args.repeat, args.processes)
    results["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}
    results["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    write_results("nlp_speed", results, args.out)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
