"""Where benchmark figures go: each script writes its own file under ``benchmarks/results/`` and its entry in
``benchmarks/results.json``, the one file that holds every figure (docs/performance.md explains them)."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent
SUMMARY = BENCHMARKS / "results.json"


def machine() -> dict:
    return {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()}


def write_results(key: str, figures: dict, out: Path, summary: Path = SUMMARY) -> None:
    """Write ``figures`` to ``out`` and under ``key`` in the summary file (other keys are kept)."""
    text = json.dumps(figures, indent=2, default=str) + "\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    combined = json.loads(summary.read_text()) if summary.exists() else {}
    combined[key] = figures
    summary.write_text(json.dumps(dict(sorted(combined.items())), indent=2, default=str) + "\n")
