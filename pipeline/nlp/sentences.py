"""Sentence boundaries for web articles and abstracts: line breaks and sentence-final punctuation.

Headings sit on their own line after normalisation, so every line break ends a sentence; a full stop
ends one unless it closes a known abbreviation ("et al.", "e.g.", "Fig.") or is followed by a
lower-case word.
"""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc

ABBREVIATIONS = {"al", "e.g", "i.e", "eg", "ie", "fig", "figs", "vs", "approx", "dr", "no", "ref", "refs",
                 "ca", "cf", "etc", "mr", "mrs", "ms", "prof", "st", "vol", "resp", "sp", "spp"}
_FINAL = {".", "!", "?", "…"}
_CLOSERS = {'"', "'", "”", "’", ")", "]"}


def set_sentence_starts(doc: Doc) -> Doc:
    for i, token in enumerate(doc):
        if i == 0:
            token.is_sent_start = True
            continue
        prev = doc[i - 1]
        if "\n" in prev.whitespace_ or (prev.is_space and "\n" in prev.text):
            token.is_sent_start = True
        elif token.is_space:
            token.is_sent_start = False
        elif prev.text in _FINAL or prev.text in _CLOSERS and i > 1 and doc[i - 2].text in _FINAL:
            before = doc[i - 2].text.lower().rstrip(".") if i > 1 else ""
            is_abbrev = prev.text == "." and before in ABBREVIATIONS
            token.is_sent_start = not is_abbrev and not token.text[0].islower()
        else:
            token.is_sent_start = False
    return doc


@Language.component("exoclaims_sentences")
def sentence_segmenter(doc: Doc) -> Doc:
    return set_sentence_starts(doc)
