"""Recipes that make the models the pipeline runs.

Corpus conversion, spaCy registries and vectors, the training gazetteer, the stance models, ONNX export and packaging into ``models/`` (``make models``, ``make models-encoder``,
``make models-stance``; configs in ``training/configs/``).

Its third-party needs (floret, scikit-learn, torch, transformers, onnx) come with the ``train`` extra. It may
import the runtime (:mod:`pipeline`) and the scorers (:mod:`pipeline.evaluation`); neither imports it.
"""
