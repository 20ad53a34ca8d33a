"""The comparison: study designs, evidence links with a stance, frames, and a verdict per article claim."""
