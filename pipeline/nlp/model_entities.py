"""Entities from statistical NER models, side by side in one pipeline.

Several NER models (ours or scispaCy's) can run in one pipeline. A spaCy ``ner`` component keeps
the entities already on ``doc.ents`` fixed, so each model would only see what the previous ones
left over. ``exoclaims_keep_entities`` runs after each NER component: it stashes what the model
found on ``doc._.model_entities`` (plain tuples, so Docs cross process boundaries) under the
model's name, and clears ``doc.ents`` for the next model. The concept recogniser later links each
stashed entity to a lexicon concept where the lexicon knows it.

A model whose components cannot be sourced into the base pipeline (it needs other word vectors)
runs as its own pipeline on the text, through ``exoclaims_external_ner``.
"""

from __future__ import annotations

from dataclasses import dataclass

import spacy
from spacy.language import Language
from spacy.tokens import Doc

if not Doc.has_extension("model_entities"):
    Doc.set_extension("model_entities", default=None)


@dataclass(frozen=True)
class ModelEntity:
    start_char: int
    end_char: int
    text: str
    label: str
    detector: str  # the model that found it, e.g. "en_exoclaims_ner_bc5cdr"
    concept_id: str | None = None
    canonical_name: str | None = None


def model_entities(doc: Doc) -> list[ModelEntity]:
    return [ModelEntity(*row) for row in (doc._.model_entities or [])]


def _stash(doc: Doc, entities) -> None:
    rows = list(doc._.model_entities or [])
    rows.extend(entities)
    doc._.model_entities = rows


@Language.factory("exoclaims_keep_entities", default_config={"detector": "ner"})
def create_keep_entities(nlp: Language, name: str, detector: str):
    def keep_entities(doc: Doc) -> Doc:
        _stash(doc, [(e.start_char, e.end_char, e.text, e.label_, detector, None, None) for e in doc.ents])
        doc.ents = ()
        return doc

    return keep_entities


@Language.factory("exoclaims_external_ner", default_config={"model": None})
def create_external_ner(nlp: Language, name: str, model: str | None):
    if not model:
        raise ValueError("exoclaims_external_ner needs the model's name or path")
    return ExternalNer(spacy.load(model, exclude=["parser", "tagger", "lemmatizer", "attribute_ruler"]), model)


class ExternalNer:
    """Run a separately loaded NER pipeline on each document's text and keep its entities."""

    def __init__(self, model: Language, detector: str):
        self.model = model
        self.detector = detector

    def __call__(self, doc: Doc) -> Doc:
        other = self.model(doc.text)
        _stash(doc, [(e.start_char, e.end_char, e.text, e.label_, self.detector, None, None) for e in other.ents])
        return doc


def add_ner_model(nlp: Language, model_name: str) -> None:
    """Add the NER component(s) of an installed model to ``nlp``, followed by their stash step."""
    source = spacy.load(model_name)
    ner_names = [n for n, pipe in source.pipeline if pipe.__class__.__name__ == "EntityRecognizer"]
    if not ner_names:
        raise ValueError(f"model {model_name!r} has no 'ner' component")
    # the string store differs between any two pipelines; the vectors themselves must be the same
    vectors_differ = (source.vocab.vectors.shape != nlp.vocab.vectors.shape
                      or source.vocab.vectors.to_bytes(exclude=["strings"])
                      != nlp.vocab.vectors.to_bytes(exclude=["strings"]))
    if vectors_differ and source.vocab.vectors.shape[0] > 0:
        nlp.add_pipe("exoclaims_external_ner", name=f"external_{model_name}", config={"model": model_name})
        return
    for ner_name in ner_names:
        name = f"{ner_name}_{model_name}"
        # the sourced component may listen to a shared tok2vec of its source pipeline: replace
        # the listener by a copy of that tok2vec so the component runs on its own
        if hasattr(source.get_pipe(ner_name), "model") and _listens(source, ner_name):
            source.replace_listeners("tok2vec", ner_name, ["model.tok2vec"])
        nlp.add_pipe(ner_name, name=name, source=source)
        for editor in _entity_editors(source, ner_name):
            nlp.add_pipe(editor, name=f"{editor}_{model_name}", source=source)
        nlp.add_pipe("exoclaims_keep_entities", name=f"keep_{name}", config={"detector": model_name})


# components a model package may put right after its NER to post-edit the entities (docs/models.md)
ENTITY_EDITORS = ("exoclaims_train_gazetteer",)


def _entity_editors(source: Language, ner_name: str) -> list[str]:
    """The entity-editing components that follow ``ner_name`` in its package, in order."""
    names = source.pipe_names
    editors = []
    for name in names[names.index(ner_name) + 1:]:
        if source.get_pipe_meta(name).factory not in ENTITY_EDITORS:
            break
        editors.append(name)
    return editors


def _listens(source: Language, component: str) -> bool:
    return "tok2vec" in source.pipe_names and component in source.get_pipe("tok2vec").listening_components
