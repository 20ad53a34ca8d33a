"""Sentence roles in abstracts: BACKGROUND, OBJECTIVE, METHODS, RESULTS or CONCLUSIONS.

``exoclaims_sentence_roles`` runs after sentence segmentation and sets ``doc._.sentence_roles``, a
plain list of role strings, one per sentence in ``doc.sents`` order (plain strings, so Docs cross
process boundaries). It combines two sources:

* a spaCy ``textcat`` trained on single sentences of structured abstracts, headings stripped
  (``training/configs/sentence_roles.cfg``; data from :mod:`training.sentence_roles_data`).
  It runs on the sentences' own tokens, so nothing is tokenised twice: the pipeline should use
  scispaCy's tokenizer and an English vocab, as the model was trained with them;
* :class:`RolePriors`, estimated on the same training abstracts: P(role | relative position in the
  abstract) and P(role | previous sentence's role).

Decoding (``decode``): ``"text"`` is the textcat alone; ``"position"`` is Bayes' rule with text and
position taken as independent given the role, P(role | text, position) ∝ P(role | text) ·
P(role | position) / P(role); ``"sequence"`` (the default) adds the transitions and takes the most
probable role sequence of the whole document (Viterbi, an HMM whose emission for a sentence is
P(role | text) · P(role | position) / P(role)²). ``"product"``, P(role | text) · P(role | position)
without dividing by P(role), counts the class prior twice; it is only there to be measured.

The component needs the trained textcat pipeline (``model``: a package name or path) and the
priors (``priors``: a JSON path; by default ``role_priors.json`` inside the model directory). Both
are loaded on first use, and ``to_disk``/``from_disk`` (and ``to_bytes``/``from_bytes``) carry
them, so a pipeline saved with ``nlp.to_disk`` holds the weights and priors and no longer needs the
original paths.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy
import spacy
import srsly
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import minibatch

LABELS = ("BACKGROUND", "OBJECTIVE", "METHODS", "RESULTS", "CONCLUSIONS")
DECODE_MODES = ("text", "product", "position", "sequence")
PRIORS_FILE = "role_priors.json"
_TEXTCAT_DIR = "textcat"
_FLOOR = 1e-9  # probabilities are clipped here before taking logs

if not Doc.has_extension("sentence_roles"):
    Doc.set_extension("sentence_roles", default=None)


def relative_position(index: int, n_sentences: int) -> float:
    """Where a sentence stands in its abstract, in (0, 1): the middle of its share of the sentences."""
    return (index + 0.5) / max(n_sentences, 1)


@dataclass(frozen=True)
class RolePriors:
    """P(role | position bin), P(role) and P(role | previous role), add-one smoothed.

    ``transitions`` has one row for the start of an abstract, then one per label (the previous
    sentence's role); columns follow ``labels``."""

    n_bins: int
    by_bin: tuple[tuple[float, ...], ...]
    overall: tuple[float, ...]
    transitions: tuple[tuple[float, ...], ...]
    labels: tuple[str, ...] = LABELS

    @classmethod
    def estimate(cls, abstracts: Iterable[Sequence[tuple[float, str]]], n_bins: int = 10,
                 smoothing: float = 1.0, labels: Sequence[str] = LABELS) -> "RolePriors":
        """From abstracts given as their labelled sentences in order: (relative position, label)."""
        labels = tuple(labels)
        by_bin = numpy.full((n_bins, len(labels)), smoothing)
        overall = numpy.full(len(labels), smoothing)
        transitions = numpy.full((len(labels) + 1, len(labels)), smoothing)
        for abstract in abstracts:
            previous = 0  # the start row
            for position, label in abstract:
                y = labels.index(label)
                by_bin[position_bin(position, n_bins), y] += 1
                overall[y] += 1
                transitions[previous, y] += 1
                previous = y + 1
        return cls(n_bins, _rows(by_bin / by_bin.sum(axis=1, keepdims=True)), _rows([overall / overall.sum()])[0],
                   _rows(transitions / transitions.sum(axis=1, keepdims=True)), labels)

    def at(self, position: float) -> tuple[float, ...]:
        return self.by_bin[position_bin(position, self.n_bins)]

    def to_dict(self) -> dict:
        return {"labels": list(self.labels), "n_bins": self.n_bins,
                "by_bin": [[round(p, 6) for p in row] for row in self.by_bin],
                "overall": [round(p, 6) for p in self.overall],
                "transitions": [[round(p, 6) for p in row] for row in self.transitions]}

    @classmethod
    def from_dict(cls, data: dict) -> "RolePriors":
        return cls(int(data["n_bins"]), _rows(data["by_bin"]), tuple(data["overall"]), _rows(data["transitions"]),
                   tuple(data["labels"]))

    def to_disk(self, path: Path | str) -> None:
        """JSON with one matrix row per line."""
        lines = [f" {json.dumps(key)}: {json.dumps(value)}" if not isinstance(value, list) or not value
                 or not isinstance(value[0], list) else
                 f" {json.dumps(key)}: [\n" + ",\n".join(f"  {json.dumps(row)}" for row in value) + "\n ]"
                 for key, value in self.to_dict().items()]
        Path(path).write_text("{\n" + ",\n".join(lines) + "\n}\n")

    @classmethod
    def from_disk(cls, path: Path | str) -> "RolePriors":
        return cls.from_dict(json.loads(Path(path).read_text()))


def _rows(matrix) -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(float(p) for p in row) for row in matrix)


def position_bin(position: float, n_bins: int) -> int:
    return min(max(int(position * n_bins), 0), n_bins - 1)


def decode_roles(probs: numpy.ndarray, positions: Sequence[float], priors: RolePriors,
                 mode: str = "sequence") -> list[int]:
    """Label indices for one abstract's sentences, in order, from the textcat's probabilities
    (rows: sentences, columns: ``priors.labels``) and the sentences' relative positions."""
    if mode not in DECODE_MODES:
        raise ValueError(f"decode must be one of {DECODE_MODES}, not {mode!r}")
    if len(probs) == 0:
        return []
    log_text = numpy.log(numpy.clip(probs, _FLOOR, 1.0))
    if mode == "text":
        return [int(i) for i in log_text.argmax(axis=1)]
    log_position = numpy.log(numpy.array([priors.at(p) for p in positions]))
    log_overall = numpy.log(numpy.array(priors.overall))
    if mode == "product":
        return [int(i) for i in (log_text + log_position).argmax(axis=1)]
    if mode == "position":
        return [int(i) for i in (log_text + log_position - log_overall).argmax(axis=1)]
    return _viterbi(log_text + log_position - 2 * log_overall, numpy.log(numpy.array(priors.transitions)))


def _viterbi(emissions: numpy.ndarray, log_transitions: numpy.ndarray) -> list[int]:
    """Most probable label sequence; ``log_transitions`` row 0 is the start, row y+1 follows label y."""
    score = log_transitions[0] + emissions[0]
    backpointers = []
    for emission in emissions[1:]:
        candidates = score[:, None] + log_transitions[1:]
        backpointers.append(candidates.argmax(axis=0))
        score = candidates.max(axis=0) + emission
    path = [int(score.argmax())]
    for pointers in reversed(backpointers):
        path.append(int(pointers[path[-1]]))
    return path[::-1]


class SentenceRoles:
    """The ``exoclaims_sentence_roles`` component (see the module docstring)."""

    def __init__(self, name: str, model: str | None, priors: str | None = None, decode: str = "sequence",
                 batch_size: int = 64):
        if decode not in DECODE_MODES:
            raise ValueError(f"exoclaims_sentence_roles: decode must be one of {DECODE_MODES}, not {decode!r}")
        self.name = name
        self.model = model
        self.priors_path = priors
        self.decode = decode
        self.batch_size = batch_size
        self._textcat_nlp: Language | None = None
        self._priors: RolePriors | None = None

    # -- loading -------------------------------------------------------------------------------
    def _load(self) -> None:
        if self._textcat_nlp is not None:
            return
        if not self.model:
            raise ValueError("exoclaims_sentence_roles needs the trained textcat: config {'model': name or path}")
        try:
            textcat_nlp = spacy.load(self.model)
        except OSError as exc:
            raise OSError(f"exoclaims_sentence_roles: cannot load the sentence-role model {self.model!r} ({exc}); "
                          f"train it with training/configs/sentence_roles.cfg or give an installed model") from exc
        priors_path = Path(self.priors_path) if self.priors_path else _model_dir(textcat_nlp, self.model) / PRIORS_FILE
        if not priors_path.exists():
            raise FileNotFoundError(f"exoclaims_sentence_roles: no role priors at {priors_path}; copy the "
                                    f"{PRIORS_FILE} written by training.sentence_roles_data there or set "
                                    f"config {{'priors': path}}")
        self._set(textcat_nlp, RolePriors.from_disk(priors_path))

    def _set(self, textcat_nlp: Language, priors: RolePriors) -> None:
        if "textcat" not in textcat_nlp.pipe_names:
            raise ValueError(f"exoclaims_sentence_roles: {self.model!r} has no 'textcat' component")
        missing = set(priors.labels) - set(textcat_nlp.get_pipe("textcat").labels)
        if missing:
            raise ValueError(f"exoclaims_sentence_roles: the textcat lacks the labels {sorted(missing)}")
        self._textcat_nlp, self._priors = textcat_nlp, priors

    @property
    def priors(self) -> RolePriors:
        self._load()
        return self._priors

    @property
    def labels(self) -> tuple[str, ...]:
        """The roles (without loading anything: spaCy reads this for ``nlp.meta``)."""
        return self._priors.labels if self._priors is not None else LABELS

    # -- prediction ----------------------------------------------------------------------------
    def sentence_probabilities(self, sentences: Sequence[Span]) -> numpy.ndarray:
        """The textcat's P(role | text) for each sentence (rows), columns in :attr:`labels` order."""
        self._load()
        if not sentences:
            return numpy.zeros((0, len(self._priors.labels)))
        textcat = self._textcat_nlp.get_pipe("textcat")
        docs = textcat.pipe((_sentence_doc(sent) for sent in sentences), batch_size=1024)
        return numpy.array([[doc.cats[label] for label in self._priors.labels] for doc in docs])

    def roles_for(self, probs: numpy.ndarray, mode: str | None = None) -> list[str]:
        """Roles of one document's sentences, in order, from their probabilities."""
        n = len(probs)
        positions = [relative_position(i, n) for i in range(n)]
        priors = self.priors
        return [priors.labels[i] for i in decode_roles(probs, positions, priors, mode or self.decode)]

    def __call__(self, doc: Doc) -> Doc:
        return next(iter(self.pipe([doc])))

    def pipe(self, stream: Iterable[Doc], batch_size: int | None = None) -> Iterator[Doc]:
        """Classify the sentences of a batch of documents in one textcat call."""
        for docs in minibatch(stream, size=batch_size or self.batch_size):
            per_doc = [_sentences(doc) for doc in docs]
            probs = self.sentence_probabilities([sent for sents in per_doc for sent in sents])
            start = 0
            for doc, sents in zip(docs, per_doc):
                doc._.sentence_roles = self.roles_for(probs[start:start + len(sents)])
                start += len(sents)
                yield doc

    # -- serialisation: the textcat pipeline and the priors (the settings are in the factory config) --
    def to_disk(self, path: Path | str, *, exclude: Iterable[str] = ()) -> None:
        self._load()
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self._textcat_nlp.to_disk(path / _TEXTCAT_DIR)
        self._priors.to_disk(path / PRIORS_FILE)

    def from_disk(self, path: Path | str, *, exclude: Iterable[str] = ()) -> "SentenceRoles":
        path = Path(path)
        self._set(spacy.load(path / _TEXTCAT_DIR), RolePriors.from_disk(path / PRIORS_FILE))
        return self

    def to_bytes(self, *, exclude: Iterable[str] = ()) -> bytes:
        self._load()
        return srsly.msgpack_dumps({"config": self._textcat_nlp.config.to_str(),
                                    "textcat": self._textcat_nlp.to_bytes(),
                                    "priors": self._priors.to_dict()})

    def from_bytes(self, data: bytes, *, exclude: Iterable[str] = ()) -> "SentenceRoles":
        from thinc.api import Config

        msg = srsly.msgpack_loads(data)
        textcat_nlp = spacy.util.load_model_from_config(Config().from_str(msg["config"]), auto_fill=True)
        self._set(textcat_nlp.from_bytes(msg["textcat"]), RolePriors.from_dict(msg["priors"]))
        return self


def _sentence_doc(sent: Span) -> Doc:
    """The sentence as a Doc of its own tokens (four times faster than ``Span.as_doc``, which
    copies every annotation; the textcat reads only the tokens' lexical attributes)."""
    return Doc(sent.doc.vocab, words=[t.text for t in sent], spaces=[bool(t.whitespace_) for t in sent])


def _sentences(doc: Doc) -> list[Span]:
    if not len(doc):
        return []
    if not doc.has_annotation("SENT_START"):
        raise ValueError("exoclaims_sentence_roles needs sentence boundaries: add it after a sentence "
                         "segmenter (exoclaims_sentences, senter or parser)")
    return list(doc.sents)


def _model_dir(nlp: Language, name: str) -> Path:
    """The directory a model was loaded from (a path, or an installed package's data directory)."""
    if Path(name).exists():
        return Path(name)
    from spacy.util import get_package_path

    package = get_package_path(name)
    data_dir = package / f"{name}-{nlp.meta.get('version', '')}"  # where spaCy's package template keeps it
    return data_dir if data_dir.is_dir() else package


@Language.factory("exoclaims_sentence_roles",
                  default_config={"model": None, "priors": None, "decode": "sequence", "batch_size": 64})
def create_sentence_roles(nlp: Language, name: str, model: str | None, priors: str | None, decode: str,
                          batch_size: int) -> SentenceRoles:
    return SentenceRoles(name, model, priors, decode, batch_size)
