"""The claim detector's classifier on one core: sentences per second, and what it adds per article.

    .venv/bin/python benchmarks/detector_speed.py [--against DIR ...] [--repeats 3]

Reads every labelled line of the web-article corpus (``tests/fixtures/web_articles/labels``: each article's title,
headings and sentences, as the pipeline splits them) with the shipped detector's graph (package ``exoclaims_claim_detector``) on one onnxruntime
thread, in the pipeline's batches, and with each ``--against`` package folder beside it (another detector's
``detector.onnx``, ``tokenizer.json`` and ``meta.json``, e.g. an earlier one checked out of git). The best of
``--repeats`` passes counts; a graph that reads pairs (meta.json ``"input": "pair"``) is fed each line with the
line before it, as the pipeline feeds it. The detector reads article sentences only, never abstracts, so its cost
grows with the articles checked (``exoclaims check``, the nightly's articles) and not with the literature. Results:
``benchmarks/results/detector_speed.json`` and ``benchmarks/results.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from encoder_speed import sentences_per_second  # noqa: E402  (beside this script)
from results import machine, write_results  # noqa: E402  (benchmarks/results.py, beside this script)

from pipeline.nlp.encoder import OnnxModel, package_dir  # noqa: E402

LABELS = ROOT / "tests" / "fixtures" / "web_articles" / "labels"
BATCH_SIZE = 8  # as pipeline.claims.detector runs the graph


def article_sentences(folder: Path) -> list[list[str]]:
    """Each labelled article's lines, in order."""
    return [[json.loads(line)["quote"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
            for path in sorted(folder.glob("*.jsonl"))]


def timed(folder: Path, articles: list[list[str]], repeats: int) -> dict:
    meta = json.loads((folder / "meta.json").read_text())
    model = OnnxModel.open(folder / "detector.onnx", folder / "tokenizer.json", int(meta["max_length"]), 1, "logits")
    pairs = meta.get("input") == "pair"
    inputs = [item for lines in articles for item in (zip([""] + lines[:-1], lines) if pairs else lines)]
    rate = sentences_per_second(model, inputs, BATCH_SIZE, repeats)
    return {"base_model": meta.get("base_model"), "weights": meta.get("weights"),
            "input": meta.get("input", "sentence"),
            "graph_mib": round((folder / "detector.onnx").stat().st_size / 2**20, 1),
            "sentences_per_s": round(rate, 1)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=Path, default=LABELS, help="a folder of gold files, one per article")
    parser.add_argument("--against", type=Path, action="append", default=[],
                        help="another detector package folder to time beside the shipped one")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "detector_speed.json")
    args = parser.parse_args(argv)
    articles = article_sentences(args.labels)
    sentences = [s for article in articles for s in article]
    per_article = len(sentences) / max(len(articles), 1)
    graphs = {"shipped": package_dir("exoclaims_claim_detector")} | {str(folder): folder for folder in args.against}
    timings = {}
    for name, folder in graphs.items():
        timings[name] = timed(folder, articles, args.repeats)
        timings[name]["s_per_article"] = round(per_article / timings[name]["sentences_per_s"], 3)
        print(name, timings[name], flush=True)
    figures = {"benchmark": "claim detector's classifier, one onnxruntime thread (issue 23)", "machine": machine(),
               "articles": len(articles), "sentences": len(sentences), "sentences_per_article": round(per_article, 1),
               "repeats": args.repeats, "graphs": timings}
    write_results("detector_speed", figures, args.out)
    return figures


if __name__ == "__main__":
    main()
