"""Build the NLP pipeline from configuration.

A base model plus our sentence, abbreviation and concept components.

``model`` is ``"blank:<lang>"`` (spaCy blank pipeline with scispaCy's tokenizer) or any installed
spaCy/scispaCy package name or path (``en_exoclaims_core``, ``en_core_sci_sm``, ``/models/my_ner``);
``ner_models`` names further NER models (``en_exoclaims_ner_bc5cdr``, ``en_ner_bionlp13cg_md``).
Components the base model lacks are added; statistical entities are kept and linked to lexicon
concepts.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

import spacy
from spacy.language import Language

import pipeline.nlp.concept_recognizer  # noqa: F401  (registers the exoclaims_concepts factory)
import pipeline.nlp.sentences  # noqa: F401  (registers exoclaims_sentences)
from pipeline.nlp.lexicon import ConceptLexicon
from pipeline.nlp.model_entities import add_ner_model

log = logging.getLogger(__name__)


class ModelNotFound(RuntimeError):
    pass


def _missing(name: str) -> ModelNotFound:
    if name.startswith("en_exoclaims_"):
        how = ("it ships with this project: run `make install` (or `uv sync`) from the project root, "
               "or re-train it with `make models`")
    else:
        how = ("install it as a package (for scispaCy's models: pip install <the model's .tar.gz from the "
               "scispaCy releases page>) or give a path to a model directory")
    return ModelNotFound(f"spaCy model {name!r} is not installed: {how}. The models in use are set in "
                         f"config/pipeline.toml, [nlp].")


def load_base_model(name: str) -> Language:
    if name.startswith("blank:"):
        from scispacy.custom_tokenizer import combined_rule_tokenizer

        nlp = spacy.blank(name.split(":", 1)[1] or "en")
        nlp.tokenizer = combined_rule_tokenizer(nlp)
        return nlp
    try:
        return spacy.load(name)
    except OSError as exc:
        raise _missing(name) from exc


def build_pipeline(model: str, lexicon_path: Path, ner_models: Sequence[str] = ()) -> Language:
    """The full NLP pipeline; load once per process and reuse it for every document.

    ``model`` gives the tokenizer and, if it has them, tagger, parser and NER; each of
    ``ner_models`` adds its NER component(s). Entities of every NER model are kept side by side
    (``doc._.model_entities``) and linked to lexicon concepts by the concept recogniser.
    """
    import scispacy.abbreviation  # noqa: F401  (registers abbreviation_detector)

    nlp = load_base_model(model)
    if "ner" in nlp.pipe_names:
        nlp.add_pipe("exoclaims_keep_entities", name="keep_ner", after="ner", config={"detector": model})
    for name in ner_models:
        try:
            add_ner_model(nlp, name)
        except OSError as exc:
            raise _missing(name) from exc
    # our segmenter knows the articles' run-in headings and missing spaces; a parser or senter that
    # comes after it keeps the boundaries it set
    nlp.add_pipe("exoclaims_sentences", first=True)
    if "abbreviation_detector" not in nlp.pipe_names:
        # serializable output so that nlp.pipe(n_process=2) can ship Docs between processes
        nlp.add_pipe("abbreviation_detector", config={"make_serializable": True})
    nlp.add_pipe("exoclaims_concepts", config={"lexicon_path": str(lexicon_path)})
    return nlp


def load_sentence_roles(name: str):
    """The sentence-role classifier (``exoclaims_sentence_roles``) for a model name or path."""
    from pipeline.nlp.sentence_roles import SentenceRoles

    roles = SentenceRoles("sentence_roles", name)
    try:
        roles.priors  # loads the model now, so a missing one fails before any work is done
    except OSError as exc:
        raise _missing(name) from exc
    return roles


def pipeline_version(nlp: Language, model: str, ner_models: Sequence[str] = ()) -> str:
    """Identifies what produced an NLP output: the models and their versions, and the lexicon version."""
    lexicon: ConceptLexicon = nlp.get_pipe("exoclaims_concepts").lexicon
    parts = [f"{model}@{nlp.meta.get('version', '0')}"]
    parts += [f"{name}@{_installed_version(name)}" for name in ner_models]
    return "+".join(parts) + f"+lexicon:{lexicon.version}"


def _installed_version(name: str) -> str:
    try:
        return spacy.util.get_package_version(name) or spacy.util.load_meta(Path(name) / "meta.json")["version"]
    except Exception:  # a path without meta.json, or an unusual package
        return "0"
