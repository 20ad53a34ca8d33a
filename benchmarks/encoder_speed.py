"""Sentence-encoder speed on one core, and what the embeddings add to the NLP stage per abstract.

    .venv/bin/python benchmarks/encoder_speed.py [--abstracts DIR] [--fp32 FILE.onnx] [--repeats 3]

Encodes the sentences of real abstracts (``../shared/eutils-samples/efetch`` by default; the realistic test
fixture set when that is absent) with one onnxruntime thread, in the pipeline's batches: the shipped int8 graph,
and an fp32 graph when one is given or can be exported (the ``train`` extra: torch, transformers and the base
weights). The best of ``--repeats`` passes counts. Per abstract it sets the encoding time against the NLP
stage's (``benchmarks/results/nlp_speed.json``, one process): issue 16 allows the embeddings at most half again
the NLP time per abstract. Results: ``benchmarks/results/encoder_speed.json`` and ``benchmarks/results.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from results import machine, write_results  # noqa: E402  (benchmarks/results.py, beside this script)

from pipeline.nlp.encoder import OnnxModel, package_dir  # noqa: E402

DEFAULT_ABSTRACTS = ROOT.parent / "shared" / "eutils-samples" / "efetch"
FIXTURE = ROOT / "tests" / "fixtures" / "literature" / "pubmed_records.xml"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(])")


def abstracts(source: Path) -> list[list[str]]:
    """The sentences of each abstract (title included) of every PubmedArticleSet file under ``source``."""
    from lxml import etree

    files = sorted(source.rglob("*.xml")) + sorted(source.rglob("*.xml.gz")) if source.is_dir() else [source]
    out = []
    for path in files:
        try:
            root = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
        except etree.XMLSyntaxError:
            continue
        for article in root.iter("PubmedArticle"):
            abstract = " ".join("".join(part.itertext()) for part in article.iter("AbstractText")).strip()
            if not abstract:
                continue
            title = "".join(article.find(".//ArticleTitle").itertext()).strip()
            out.append([title] + [s for s in _SENTENCE_END.split(abstract) if s.strip()])
    return out


def sentences_per_second(model: OnnxModel, sentences: list[str], batch_size: int, repeats: int) -> float:
    model.run(sentences[:64], batch_size)
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        model.run(sentences, batch_size)
        best = min(best, time.perf_counter() - started)
    return len(sentences) / best


def fp32_graph(directory: Path) -> Path | None:
    try:
        from training.encoder_export import _pooled_module, export_onnx, unpack_base
    except ImportError:
        return None
    try:
        module = _pooled_module(unpack_base(directory / "base"))
    except (ImportError, SystemExit):
        return None
    path = directory / "encoder.fp32.onnx"
    export_onnx(module, path, "sentence_embedding")
    return path


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--abstracts", type=Path, default=DEFAULT_ABSTRACTS if DEFAULT_ABSTRACTS.exists() else FIXTURE)
    parser.add_argument("--fp32", type=Path, help="an fp32 ONNX graph of the same encoder (default: export one)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "encoder_speed.json")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    docs = abstracts(args.abstracts)
    sentences = [s for doc in docs for s in doc]
    package = package_dir("exoclaims_minilm")
    meta = json.loads((package / "meta.json").read_text())
    graphs = {meta["weights"]: package / "encoder.onnx"}
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = args.fp32 or (None if meta["weights"] == "fp32" else fp32_graph(Path(tmp)))
        if fp32:
            graphs["fp32"] = fp32
        rates = {}
        for name, path in graphs.items():
            model = OnnxModel.open(path, package / "tokenizer.json", int(meta["max_length"]), threads=1)
            rates[name] = round(sentences_per_second(model, sentences, args.batch_size, args.repeats), 1)
            print(f"{name}: {rates[name]} sentences/s on one core", file=sys.stderr)
    per_abstract = len(sentences) / len(docs)
    nlp_file = ROOT / "benchmarks" / "results" / "nlp_speed.json"
    nlp_ms = None
    if nlp_file.exists():
        one_process = next(r for r in json.loads(nlp_file.read_text())["runs"] if r["processes"] == 1)
        nlp_ms = round(1000 / one_process["abstracts_per_s_per_core"], 1)
    shipped_ms = round(1000 * per_abstract / rates[meta["weights"]], 1)
    figures = {
        "benchmark": "sentence encoder on one core (issue 16, part 5)",
        "machine": machine(),
        "model": f"exoclaims_minilm ({meta['base_model']}), shipped weights {meta['weights']}",
        "abstracts_source": str(args.abstracts.relative_to(ROOT.parent) if args.abstracts.is_relative_to(ROOT.parent)
                                else args.abstracts),
        "abstracts": len(docs),
        "sentences": len(sentences),
        "sentences_per_abstract": round(per_abstract, 2),
        "batch_size": args.batch_size,
        "sentences_per_s_one_core": rates,
        "embedding_ms_per_abstract": {name: round(1000 * per_abstract / rate, 1) for name, rate in rates.items()},
        "nlp_ms_per_abstract_one_core": nlp_ms,
        "embedding_share_of_nlp_time": round(shipped_ms / nlp_ms, 3) if nlp_ms else None,
        "target_share": 0.5,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    write_results("encoder_speed", figures, args.out)
    print(json.dumps(figures, indent=2))
    return figures


if __name__ == "__main__":
    main()
