"""Precision, recall and F1 from counts, shared by every evaluation in the project."""

from __future__ import annotations


def prf(tp: int, n_predicted: int, n_gold: int, digits: int = 4) -> dict:
    """Precision, recall and F1 (0.0 where undefined), rounded to ``digits``."""
    precision = tp / n_predicted if n_predicted else 0.0
    recall = tp / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, digits), "recall": round(recall, digits), "f1": round(f1, digits)}
