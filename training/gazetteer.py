"""A post-NER component built only from a corpus's training split: the "training gazetteer".

    from training.gazetteer import build_gazetteer_from_docbin
    nlp = spacy.load("en_exoclaims_ner_bc5cdr")
    gaz = nlp.add_pipe("exoclaims_train_gazetteer", after="ner", config={"add": False, "remove": True,
                                                                        "abbreviations": True})
    gaz.set_data(build_gazetteer_from_docbin("training/corpus/bc5cdr/train.spacy", nlp.vocab))
    nlp.to_disk(path)    # the table goes to <path>/<component name>/gazetteer.json

The table (:func:`build_gazetteer`, a JSON-ready dict) holds, for every entity string annotated in the
training docs: how often the string occurs in the training text at token boundaries (``n``, counted with
the same token matcher the component uses), how many of those occurrences are annotated with exactly
that span (per label), lie strictly inside a longer annotated entity (``nested``), cross one
(``crossing``), or touch no annotated entity at all (``free``). Besides: word n-grams (up to 4 tokens)
that occur at least 3 times in the training text touching no entity and are never annotated; and, per
label, how often a training entity directly followed by ``( X )``, ``X`` abbreviation-like, has ``X``
annotated with the same label.

Strings are token sequences of the pipeline's own tokenizer (the training DocBins were tokenised by it),
so a string never matches part of a token. A string with an upper-case letter that is short (at most 5
characters) or all capitals (``AS``, ``CT``, ``PTH``) is matched case-sensitively, any other ignoring case.

The steps, in this order, each switched on in the component's config (:class:`GazetteerSettings`):

1. ``balance_brackets``: a model entity with an unbalanced bracket is extended to the closing bracket
   right after it, or loses the stray bracket at its edge;
2. ``remove``: a model entity is dropped if its string, where it stands alone in training text (not
   inside or across a longer entity), occurs at least ``remove_min_count`` times and is annotated (any
   label) in at most ``remove_max_rate`` of them;
3. ``relabel``: a model entity whose string is annotated at least ``relabel_min_count`` times in training,
   with one other label in at least ``relabel_min_share`` of them, gets that label;
4. ``extend`` / ``add``: training strings that occur at least ``min_count`` times and are annotated with
   one label in at least ``min_precision`` of their occurrences (not counting ``nested`` ones where
   ``count_nested`` is false) replace model entities of that label they strictly contain (``extend``),
   or are added where no model entity overlaps them (``add``), longest first;
5. ``abbreviations``: for ``ENTITY ( X )``, ``X`` abbreviation-like, every occurrence of ``X`` in the doc
   that overlaps no entity gets the entity's label, for labels whose training rate (above) is at least
   ``min_precision``. On a whole abstract this labels the short form's later uses too;
6. ``propagate``: every occurrence of an entity's exact text elsewhere in the doc that overlaps no entity
   gets its label (strings that step 2 would drop excepted).

Nothing here reads dev or test data; :mod:`training.gazetteer_eval` scores the steps on dev.
This file imports nothing from the project, so ``spacy package --code`` can ship it inside a model.
"""

# no ``from __future__ import annotations``: spaCy's ``package --code`` imports this file without
# registering it in sys.modules, and dataclasses then cannot resolve string annotations
import json
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable, Iterator

import srsly
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, DocBin, Span
from spacy.util import ensure_path, filter_spans
from spacy.vocab import Vocab

FACTORY = "exoclaims_train_gazetteer"
DATA_FILE = "gazetteer.json"
FORMAT = 1
OPEN, CLOSE = "([{", ")]}"
NGRAM_MAX = 4
NGRAM_MIN_COUNT = 3
SEP = "\x1f"  # joins a key's tokens into a PhraseMatcher pattern id

Key = tuple[str, tuple[str, ...]]  # (match mode "orth" or "lower", token strings in that mode)


# What the packaged NER models run (docs/models.md): the only setting that helped on all three corpora.
SHIPPED_SETTINGS = {"add": False, "remove": True, "abbreviations": True}


@dataclass(frozen=True)
class GazetteerSettings:
    add: bool = True
    min_count: int = 2
    min_precision: float = 0.5
    count_nested: bool = True
    extend: bool = False
    remove: bool = False
    remove_min_count: int = 5
    remove_max_rate: float = 0.05
    relabel: bool = False
    relabel_min_count: int = 3
    relabel_min_share: float = 0.9
    abbreviations: bool = False
    propagate: bool = False
    balance_brackets: bool = False


# -- keys and small text tests ---------------------------------------------------------------------

def key_mode(words: Iterable[str]) -> str:
    """``orth`` (case-sensitive) for short or all-capital strings with an upper-case letter, else ``lower``."""
    text = "".join(words)
    letters = [c for c in text if c.isalpha()]
    if any(c.isupper() for c in letters) and (len(text) <= 5 or all(c.isupper() for c in letters)):
        return "orth"
    return "lower"


def span_key(tokens) -> Key:
    """The table's key for a span (or any sequence of tokens)."""
    words = [t.text for t in tokens]
    mode = key_mode(words)
    return mode, tuple(words) if mode == "orth" else tuple(w.lower() for w in words)


def balanced(text: str) -> bool:
    stack = []
    pairs = dict(zip(CLOSE, OPEN))
    for c in text:
        if c in OPEN:
            stack.append(c)
        elif c in CLOSE and (not stack or stack.pop() != pairs[c]):
            return False
    return not stack


def abbreviation_like(text: str) -> bool:
    return (2 <= len(text) <= 10 and " " not in text and any(c.isalpha() for c in text)
            and any(c.isupper() or c.isdigit() for c in text) and balanced(text))


def abbreviation_after(doc: Doc, end: int) -> Span | None:
    """``X`` of ``( X )`` starting at token ``end``: one to three tokens, abbreviation-like."""
    if end >= len(doc) or doc[end].text != "(":
        return None
    for stop in range(end + 2, min(end + 5, len(doc))):
        if doc[stop].text == ")":
            inner = doc[end + 1:stop]
            return inner if abbreviation_like(inner.text) else None
    return None


class _Matchers:
    """Token-sequence matchers for keys of both modes; a match comes back as its key."""

    def __init__(self, vocab: Vocab, keys: Iterable[Key]):
        self.matchers = {"orth": PhraseMatcher(vocab, attr="ORTH"), "lower": PhraseMatcher(vocab, attr="LOWER")}
        self.keys: dict[int, Key] = {}  # not looked up in a StringStore: sourced into another
        for mode, words in keys:        # pipeline, the component meets docs of another vocab
            pattern_id = SEP.join((mode, *words))
            self.keys[vocab.strings.add(pattern_id)] = (mode, words)
            self.matchers[mode].add(pattern_id, [Doc(vocab, words=list(words))])

    def __call__(self, doc: Doc) -> Iterator[tuple[Key, int, int]]:
        for matcher in self.matchers.values():
            for match_id, start, end in matcher(doc):
                yield self.keys[match_id], start, end


# -- building the table from training docs ---------------------------------------------------------

def build_gazetteer(docs: Iterable[Doc], vocab: Vocab) -> dict:
    """The table from gold-annotated training docs (see the module docstring)."""
    docs = list(docs)
    annotated: dict[Key, Counter] = defaultdict(Counter)
    for doc in docs:
        for ent in doc.ents:
            annotated[span_key(ent)][ent.label_] += 1
    matcher = _Matchers(vocab, annotated)
    total, nested, crossing = Counter(), Counter(), Counter()
    ngrams: Counter = Counter()  # n-grams touching no gold entity
    abbreviations: dict[str, Counter] = defaultdict(Counter)
    for doc in docs:
        gold = {(e.start, e.end): e.label_ for e in doc.ents}
        owner: list[tuple[int, int] | None] = [None] * len(doc)  # the gold entity covering each token
        for start, end in gold:
            owner[start:end] = [(start, end)] * (end - start)
        for key, start, end in matcher(doc):
            total[key] += 1
            if (start, end) in gold:
                continue
            owners = set(owner[start:end])
            if len(owners) == 1 and None not in owners:
                nested[key] += 1
            elif owners != {None}:
                crossing[key] += 1
        for n in range(1, NGRAM_MAX + 1):
            for i in range(len(doc) - n + 1):
                if all(o is None for o in owner[i:i + n]) and any(t.is_alpha for t in doc[i:i + n]):
                    ngrams[tuple(t.lower_ for t in doc[i:i + n])] += 1
        for ent in doc.ents:
            inner = abbreviation_after(doc, ent.end)
            if inner is not None:
                abbreviations[ent.label_]["pairs"] += 1
                abbreviations[ent.label_]["same"] += gold.get((inner.start, inner.end)) == ent.label_
    entries = []
    for key, labels in sorted(annotated.items()):
        hits = sum(labels.values())
        entries.append({"mode": key[0], "tokens": list(key[1]), "n": total[key], "labels": dict(labels),
                        "nested": nested[key], "crossing": crossing[key],
                        "free": total[key] - hits - nested[key] - crossing[key]})
    annotated_lower = {tuple(w.lower() for w in words) for _, words in annotated}
    unannotated = [[list(k), c] for k, c in sorted(ngrams.items())
                   if c >= NGRAM_MIN_COUNT and k not in annotated_lower]
    return {"format": FORMAT, "docs": len(docs), "entries": entries, "unannotated_ngrams": unannotated,
            "abbreviations": {label: dict(c) for label, c in sorted(abbreviations.items())}}


def build_gazetteer_from_docbin(path: Path | str, vocab: Vocab) -> dict:
    """The table from a training DocBin (``training/corpus/<corpus>/train.spacy``)."""
    return build_gazetteer(DocBin().from_disk(path).get_docs(vocab), vocab)


# -- the component ---------------------------------------------------------------------------------

class TrainGazetteer:
    """The ``exoclaims_train_gazetteer`` component: post-edits ``doc.ents`` (see the module docstring)."""

    def __init__(self, nlp: Language, name: str = "train_gazetteer", labels: Iterable[str] | None = None,
                 **settings):
        self.vocab = nlp.vocab
        self.name = name
        self.settings = GazetteerSettings(**settings)
        self.label_filter = set(labels) if labels else None  # None: any label the table knows
        self.data: dict = {}
        self._set_up()

    def set_data(self, data: dict) -> None:
        if data and data.get("format") != FORMAT:
            raise ValueError(f"gazetteer table format {data.get('format')!r}, expected {FORMAT}")
        self.data = data
        self._set_up()

    def _set_up(self) -> None:
        s = self.settings
        self.stats: dict[Key, dict] = {(e["mode"], tuple(e["tokens"])): e for e in self.data.get("entries", [])}
        self.unannotated = {tuple(words): c for words, c in self.data.get("unannotated_ngrams", [])}
        self.additions: dict[Key, str] = {}
        for key, e in self.stats.items():
            label, count = max(e["labels"].items(), key=lambda kv: (kv[1], kv[0]))
            denominator = e["n"] - (0 if s.count_nested else e["nested"])
            text = "".join(key[1])
            if (e["n"] >= s.min_count and denominator > 0 and count / denominator >= s.min_precision
                    and self._known(label) and len(text) >= 2 and any(c.isalpha() for c in text)
                    and balanced(text)):
                self.additions[key] = label
        self.matcher = _Matchers(self.vocab, self.additions)
        self.abbreviation_labels = {label for label, c in self.data.get("abbreviations", {}).items()
                                    if c.get("pairs") and c.get("same", 0) / c["pairs"] >= s.min_precision}

    def _known(self, label: str) -> bool:
        return self.label_filter is None or label in self.label_filter

    def __call__(self, doc: Doc) -> Doc:
        s = self.settings
        ents = list(doc.ents)
        if s.balance_brackets:
            ents = self._balance(doc, ents)
        if s.remove:
            ents = [e for e in ents if not self._rarely_annotated(e)]
        if s.relabel:
            ents = [self._relabel(e) for e in ents]
        if (s.add or s.extend) and self.additions:
            found = filter_spans([Span(doc, start, end, label=self.additions[key])
                                  for key, start, end in self.matcher(doc)])
            if s.extend:
                ents = self._extend(ents, found)
            if s.add:
                ents += _free(ents, found)
        if s.abbreviations:
            defined: dict[tuple[str, ...], str] = {}
            for e in ents:
                inner = abbreviation_after(doc, e.end)
                if inner is not None and e.label_ in self.abbreviation_labels:
                    defined.setdefault(tuple(t.text for t in inner), e.label_)
            ents += _free(ents, filter_spans(_occurrences(doc, defined)))
        if s.propagate:
            strings = {tuple(t.text for t in e): e.label_ for e in ents
                       if any(t.is_alpha for t in e) and not self._rarely_annotated(e)}
            ents += _free(ents, filter_spans(_occurrences(doc, strings)))
        doc.ents = sorted(ents, key=lambda e: e.start)
        return doc

    def pipe(self, stream: Iterable[Doc], batch_size: int = 128) -> Iterator[Doc]:
        for doc in stream:
            yield self(doc)

    def _rarely_annotated(self, span: Span) -> bool:
        # occurrences inside or across a longer entity say nothing about the string standing alone
        entry = self.stats.get(span_key(span))
        if entry is not None:
            hits = sum(entry["labels"].values())
            n = hits + entry["free"]
        else:
            n, hits = self.unannotated.get(tuple(t.lower_ for t in span), 0), 0
        return n >= self.settings.remove_min_count and hits / n <= self.settings.remove_max_rate

    def _relabel(self, span: Span) -> Span:
        entry = self.stats.get(span_key(span))
        if entry is None:
            return span
        total = sum(entry["labels"].values())
        label, count = max(entry["labels"].items(), key=lambda kv: (kv[1], kv[0]))
        if (label != span.label_ and total >= self.settings.relabel_min_count and self._known(label)
                and count / total >= self.settings.relabel_min_share):
            return Span(span.doc, span.start, span.end, label=label)
        return span

    @staticmethod
    def _extend(ents: list[Span], found: list[Span]) -> list[Span]:
        """A match that strictly contains model entities of its own label, and crosses none, replaces them."""
        for match in found:
            inside = [e for e in ents if match.start <= e.start and e.end <= match.end]
            crossing = [e for e in ents if e.start < match.end and match.start < e.end and e not in inside]
            if (inside and not crossing and all(e.label_ == match.label_ for e in inside)
                    and not any(len(e) == len(match) for e in inside)):
                ents = [e for e in ents if e not in inside] + [match]
        return ents

    @staticmethod
    def _balance(doc: Doc, ents: list[Span]) -> list[Span]:
        taken = {i for e in ents for i in range(e.start, e.end)}
        out = []
        for e in ents:
            if not balanced(e.text):
                start, end = e.start, e.end
                if end < len(doc) and end not in taken and balanced(doc[start:end + 1].text):
                    end += 1
                elif doc[start].text in OPEN + CLOSE and balanced(doc[start + 1:end].text):
                    start += 1
                elif doc[end - 1].text in OPEN + CLOSE and balanced(doc[start:end - 1].text):
                    end -= 1
                if start < end:
                    e = Span(doc, start, end, label=e.label_)
                    taken.update(range(start, end))
            out.append(e)
        return out

    # -- serialisation ---------------------------------------------------------------------------
    def to_bytes(self, *, exclude=tuple()) -> bytes:
        return srsly.msgpack_dumps(self.data)

    def from_bytes(self, data: bytes, *, exclude=tuple()) -> "TrainGazetteer":
        self.set_data(srsly.msgpack_loads(data))
        return self

    def to_disk(self, path, *, exclude=tuple()) -> None:
        path = ensure_path(path)
        path.mkdir(parents=True, exist_ok=True)
        (path / DATA_FILE).write_text(json.dumps(self.data, ensure_ascii=False, separators=(",", ":")),
                                      encoding="utf-8")

    def from_disk(self, path, *, exclude=tuple()) -> "TrainGazetteer":
        self.set_data(json.loads((ensure_path(path) / DATA_FILE).read_text(encoding="utf-8")))
        return self

    def initialize(self, get_examples=None, *, nlp: Language | None = None, train_path: str | None = None) -> None:
        """``[initialize.components.<name>] train_path = "training/corpus/bc5cdr/train.spacy"`` builds the
        table from that DocBin; without it, from the reference docs of ``get_examples``."""
        if train_path:
            self.set_data(build_gazetteer_from_docbin(train_path, self.vocab))
        elif get_examples is not None:
            self.set_data(build_gazetteer((eg.reference for eg in get_examples()), self.vocab))


def _free(ents: list[Span], candidates: list[Span]) -> list[Span]:
    """The candidates that overlap none of ``ents``."""
    taken = {i for e in ents for i in range(e.start, e.end)}
    return [c for c in candidates if taken.isdisjoint(range(c.start, c.end))]


def _occurrences(doc: Doc, strings: dict[tuple[str, ...], str]) -> list[Span]:
    """Every occurrence in ``doc`` of the token texts ``strings`` maps to a label, with that label."""
    found = []
    for words, label in strings.items():
        n = len(words)
        for i in range(len(doc) - n + 1):
            if doc[i].text == words[0] and tuple(t.text for t in doc[i:i + n]) == words:
                found.append(Span(doc, i, i + n, label=label))
    return found


def create_train_gazetteer(nlp: Language, name: str, add: bool, min_count: int, min_precision: float,
                           count_nested: bool, extend: bool, remove: bool, remove_min_count: int,
                           remove_max_rate: float, relabel: bool, relabel_min_count: int, relabel_min_share: float,
                           abbreviations: bool, propagate: bool, balance_brackets: bool,
                           labels: list[str] | None) -> TrainGazetteer:
    settings = {k: v for k, v in locals().items() if k not in ("nlp", "name", "labels")}
    return TrainGazetteer(nlp, name, labels=labels, **settings)


# Registered once per process: with ``spacy package --code`` every model package carries its own copy
# of this file, and spaCy refuses a second registration of the name from another file (E004). The copies
# are the same code; the table's format is checked when it is loaded.
if not Language.has_factory(FACTORY):
    Language.factory(FACTORY, default_config={**asdict(GazetteerSettings()), "labels": None})(create_train_gazetteer)
