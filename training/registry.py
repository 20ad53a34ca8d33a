"""Functions the training configs refer to by name (``--code training/registry.py``)."""

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


@spacy.registry.callbacks("exoclaims.pretrained_tok2vec.v1")
def pretrained_tok2vec(path: str | None = None, component: str = "ner"):
    """After initialisation, load `spacy pretrain` weights into the encoder inside ``component``.

    spaCy's own ``[initialize] init_tok2vec`` needs a named tok2vec layer; inside a transition-based
    model the named "tok2vec" is the encoder followed by a projection, so the weights go into its
    first layer, the encoder ``training/configs/pretrain.cfg`` builds. ``path`` None: nothing to load.
    """

    def load_weights(nlp):
        if path:
            encoder = nlp.get_pipe(component).model.get_ref("tok2vec").layers[0]
            with open(path, "rb") as handle:
                encoder.from_bytes(handle.read())
        return nlp

    return load_weights
