"""Prefect flows: they wire the stages of pipeline.stages together and schedule them; no logic of their own."""
