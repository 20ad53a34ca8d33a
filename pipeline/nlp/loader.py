"""Build the NLP pipeline from configuration: a base model plus our sentence, abbreviation and
concept components.

``model`` is ``"blank:<lang>"`` (spaCy blank pipeline with scispaCy's tokenizer) or any installed
spaCy/scispaCy package name or path (``en_core_sci_sm``, ``/models/my_ner``). Components the base
model lacks are added; statistical entities it brings are kept and linked to lexicon concepts.
"""

from __future__ import annotations

import logging
from pathlib import Path

import spacy
from spacy.language import Language

import pipeline.nlp.concept_recognizer  # noqa: F401  (registers the exoclaims_concepts factory)
import pipeline.nlp.sentences  # noqa: F401  (registers exoclaims_sentences)
from pipeline.nlp.lexicon import ConceptLexicon

log = logging.getLogger(__name__)


class ModelNotFound(RuntimeError):
    pass


def load_base_model(name: str) -> Language:
    if name.startswith("blank:"):
        from scispacy.custom_tokenizer import combined_rule_tokenizer

        nlp = spacy.blank(name.split(":", 1)[1] or "en")
        nlp.tokenizer = combined_rule_tokenizer(nlp)
        return nlp
    try:
        return spacy.load(name)
    except OSError as exc:
        raise ModelNotFound(
            f"spaCy model {name!r} is not installed. Install it as a package (for scispaCy's models: "
            f"pip install <the model's .tar.gz from the scispaCy releases page>), give a path to a model "
            f"directory, or set [nlp] model = \"blank:en\" in config/pipeline.toml."
        ) from exc


def build_pipeline(model: str, lexicon_path: Path) -> Language:
    """The full NLP pipeline; load once per process and reuse it for every document."""
    import scispacy.abbreviation  # noqa: F401  (registers abbreviation_detector)

    nlp = load_base_model(model)
    has_parser = "parser" in nlp.pipe_names or "senter" in nlp.pipe_names
    if not has_parser:
        nlp.add_pipe("exoclaims_sentences", first=True)
    if "abbreviation_detector" not in nlp.pipe_names:
        # serializable output so that nlp.pipe(n_process=2) can ship Docs between processes
        nlp.add_pipe("abbreviation_detector", config={"make_serializable": True})
    nlp.add_pipe("exoclaims_concepts", config={"lexicon_path": str(lexicon_path)})
    return nlp


def pipeline_version(nlp: Language, model: str) -> str:
    """Identifies what produced an NLP output: base model, its version, and the lexicon version."""
    lexicon: ConceptLexicon = nlp.get_pipe("exoclaims_concepts").lexicon
    meta_version = nlp.meta.get("version", "0")
    return f"{model}@{meta_version}+lexicon:{lexicon.version}"
