"""Read the public training corpora into spaCy Docs aligned to scispaCy's tokenizer.

The NER corpora (MTL-Bioinformatics-2016 IOB files) are pre-tokenised and their original spacing is
lost. Like scispaCy's own recipe, we join the corpus tokens with single spaces and re-tokenise that
text with the pipeline's tokenizer. spaCy never merges across whitespace, so every corpus token
boundary is also a token boundary of ours and entity spans map over exactly (none is dropped);
the scispaCy tokenizer may still split a corpus token further ("80mg" into "80" "mg"), which the span
simply covers.

Tagging and parsing corpora keep the corpus tokens (``Doc(words=...)``): tags and heads belong to
tokens, and spaCy's Example alignment handles the rare tokenisation differences at training time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

from spacy.tokens import Doc, Span
from spacy.vocab import Vocab


@dataclass(frozen=True)
class IobSentence:
    tokens: tuple[str, ...]
    tags: tuple[str, ...]

    @property
    def text(self) -> str:
        return " ".join(self.tokens)

    def entity_offsets(self) -> list[tuple[int, int, str]]:
        """(start_char, end_char, label) in :attr:`text`, from IOB or IOB2 tags."""
        spans: list[tuple[int, int, str]] = []
        current: list | None = None
        offset = 0
        for token, tag in zip(self.tokens, self.tags):
            start, end = offset, offset + len(token)
            offset = end + 1
            prefix, _, label = tag.partition("-")
            if prefix == "I" and current is not None and current[2] == label:
                current[1] = end
                continue
            if current is not None:
                spans.append(tuple(current))
                current = None
            if prefix in ("B", "I"):  # a stray I- opens an entity, as conlleval does
                current = [start, end, label]
        if current is not None:
            spans.append(tuple(current))
        return spans


def read_iob(path: Path | str) -> Iterator[IobSentence]:
    """Sentences of a token<TAB>tag file (blank line between sentences, ``-DOCSTART-`` lines skipped)."""
    tokens: list[str] = []
    tags: list[str] = []
    with open(path, encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, 1):
            line = line.rstrip("\n")
            if not line.strip():
                if tokens:
                    yield IobSentence(tuple(tokens), tuple(tags))
                    tokens, tags = [], []
                continue
            if line.startswith("-DOCSTART-"):
                continue
            parts = line.split("\t")
            if len(parts) < 2:
                raise ValueError(f"{path}:{line_no}: expected 'token<TAB>tag', got {line!r}")
            tokens.append(parts[0])
            tags.append(parts[-1])
    if tokens:
        yield IobSentence(tuple(tokens), tuple(tags))


def ner_doc(nlp, sentence: IobSentence, label_map: dict[str, str] | None = None) -> Doc:
    """The sentence re-tokenised by ``nlp``'s tokenizer, with its gold entities as ``doc.ents``."""
    doc = nlp.make_doc(sentence.text)
    ents = []
    for start, end, label in sentence.entity_offsets():
        label = (label_map or {}).get(label, label)
        if not label:
            continue
        span = doc.char_span(start, end, label=label, alignment_mode="strict")
        if span is None:  # cannot happen when the tokenizer splits on spaces; kept as a guard
            raise ValueError(f"entity {sentence.text[start:end]!r} does not align with tokens")
        ents.append(span)
    doc.ents = _without_overlaps(ents)
    return doc


def _without_overlaps(spans: list[Span]) -> list[Span]:
    kept: list[Span] = []
    last_end = -1
    for span in sorted(spans, key=lambda s: (s.start, -len(s))):
        if span.start >= last_end:
            kept.append(span)
            last_end = span.end
    return kept


def tagged_doc(vocab: Vocab, sentence: IobSentence) -> Doc:
    """A GENIA-POS sentence as a Doc with the corpus tokens and their PTB tags."""
    return Doc(vocab, words=list(sentence.tokens), tags=list(sentence.tags),
               spaces=[True] * (len(sentence.tokens) - 1) + [False])


@dataclass(frozen=True)
class ConllSentence:
    words: tuple[str, ...]
    tags: tuple[str, ...]
    heads: tuple[int, ...]  # 0-based index of the head; a root points at itself
    deps: tuple[str, ...]


# UD v1 / Stanford-basic labels (GENIA treebank) onto the UD v2 labels of UD English-EWT.
UD1_TO_UD2 = {"dobj": "obj", "nsubjpass": "nsubj:pass", "csubjpass": "csubj:pass", "auxpass": "aux:pass",
              "mwe": "fixed", "name": "flat", "foreign": "flat:foreign", "neg": "advmod", "root": "ROOT"}


def read_conll(path: Path | str, label_map: dict[str, str] | None = None) -> Iterator[ConllSentence]:
    """CoNLL-U (or 10-column CoNLL-X) sentences; multiword-token and empty-node lines are skipped.

    The fine-grained tag comes from XPOS (column 5), the PTB tag in both EWT and the GENIA treebank."""
    import gzip

    opener = gzip.open if str(path).endswith(".gz") else open
    rows: list[list[str]] = []
    with opener(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            line = line.rstrip("\n")
            if line.startswith("#"):
                continue
            if not line.strip():
                if rows:
                    yield _conll_sentence(rows, label_map)
                    rows = []
                continue
            cols = line.split("\t")
            if "-" in cols[0] or "." in cols[0]:
                continue
            rows.append(cols)
    if rows:
        yield _conll_sentence(rows, label_map)


def _conll_sentence(rows: list[list[str]], label_map: dict[str, str] | None) -> ConllSentence:
    heads, deps = [], []
    for i, cols in enumerate(rows):
        head = int(cols[6])
        heads.append(i if head == 0 else head - 1)
        dep = "ROOT" if head == 0 else cols[7]
        deps.append((label_map or {}).get(dep, dep))
    return ConllSentence(tuple(c[1] for c in rows), tuple(c[4] for c in rows), tuple(heads), tuple(deps))


def parsed_doc(vocab: Vocab, sentence: ConllSentence) -> Doc:
    return Doc(vocab, words=list(sentence.words), tags=list(sentence.tags), heads=list(sentence.heads),
               deps=list(sentence.deps), spaces=[True] * (len(sentence.words) - 1) + [False])


def abstract_sizes(sentences: Sequence[IobSentence], original: Path) -> list[int]:
    """Sizes of the runs of consecutive sentences of an IOB file that belong to one abstract of ``original``
    (the corpus's PubTator file: ``PMID|t|title``, ``PMID|a|abstract``), matched on their text without
    whitespace. The IOB copies keep no document boundaries; only the text of ``original`` is read."""
    texts, title = [], ""
    for line in original.read_text(encoding="utf-8").splitlines():
        head = line[:30]
        if "|t|" in head:
            title = line.split("|t|", 1)[1]
        elif "|a|" in head:
            texts.append("".join((title + line.split("|a|", 1)[1]).split()))
    assignment, previous = [], None
    for sentence in sentences:
        text = "".join(sentence.tokens)
        if previous is not None and text in texts[previous]:
            assignment.append(previous)
            continue
        found = [i for i, t in enumerate(texts) if text in t]
        if not found:
            raise ValueError(f"dev sentence not found in {original}: {sentence.text[:80]!r}")
        previous = found[0]
        assignment.append(previous)
    sizes: list[int] = []
    for i, doc_id in enumerate(assignment):
        if i and doc_id == assignment[i - 1]:
            sizes[-1] += 1
        else:
            sizes.append(1)
    return sizes
