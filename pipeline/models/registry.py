"""Functions the training configs refer to by name (``--code pipeline/models/registry.py``)."""

from __future__ import annotations

import spacy


@spacy.registry.callbacks("exoclaims.scispacy_tokenizer.v1")
def scispacy_tokenizer():
    """Give the pipeline scispaCy's tokenizer before training; it is saved with the model."""
    from scispacy.custom_tokenizer import combined_rule_tokenizer

    def replace_tokenizer(nlp):
        nlp.tokenizer = combined_rule_tokenizer(nlp)
        return nlp

    return replace_tokenizer
