"""Sentence boundaries for web articles and abstracts: line breaks and sentence-final punctuation.

Headings sit on their own line after normalisation, so every line break ends a sentence; a full stop
ends one unless it closes a known abbreviation ("et al.", "e.g.", "Fig.") or is followed by a
lower-case word.
"""

from __future__ import annotations

import numpy
from spacy.attrs import SENT_START
from spacy.language import Language
from spacy.tokens import Doc

ABBREVIATIONS = {"al", "e.g", "i.e", "eg", "ie", "fig", "figs", "vs", "approx", "dr", "no", "ref", "refs",
                 "ca", "cf", "etc", "mr", "mrs", "ms", "prof", "st", "vol", "resp", "sp", "spp"}
_FINAL = {".", "!", "?", "…"}
_CLOSERS = {'"', "'", "”", "’", ")", "]"}


def sentence_starts(words: list[str], spaces: list[str]) -> list[int]:
    """1 where a sentence starts, -1 elsewhere (spaCy's SENT_START values), from token texts and
    the whitespace after each token."""
    starts = [-1] * len(words)
    if not words:
        return starts
    starts[0] = 1
    for i in range(1, len(words)):
        prev, word = words[i - 1], words[i]
        if "\n" in spaces[i - 1] or (not prev.strip() and "\n" in prev):
            starts[i] = 1 if word.strip() else -1
        elif not word.strip():
            continue
        elif prev in _FINAL or (prev in _CLOSERS and i > 1 and words[i - 2] in _FINAL):
            before = words[i - 2].lower().rstrip(".") if i > 1 else ""
            is_abbrev = prev == "." and before in ABBREVIATIONS
            if not is_abbrev and not word[0].islower():
                starts[i] = 1
    return starts


def set_sentence_starts(doc: Doc) -> Doc:
    if len(doc):
        values = sentence_starts([t.text for t in doc], [t.whitespace_ for t in doc])
        doc.from_array([SENT_START], numpy.array(values, dtype="int64").astype("uint64"))
    return doc


@Language.component("exoclaims_sentences")
def sentence_segmenter(doc: Doc) -> Doc:
    return set_sentence_starts(doc)
