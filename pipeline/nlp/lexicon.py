"""The domain concept knowledge base: concepts with canonical ids and aliases, loaded from JSON lines.

Kept apart from the component that uses it (as scispaCy keeps its KBs apart from the linker), so the
lexicon can be versioned, reviewed and swapped without touching code.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

_SHORT_CAPS = re.compile(r"^[A-Z][A-Z0-9]{0,4}s?$")
_LEADING_WORD = re.compile(r"[^\W_]+")


def leading_word(text: str) -> str:
    """The first run of letters/digits, lower-cased: the key that decides whether a token can start
    an alias, whatever the tokenizer does with hyphens ("beta-catenin", "IGF-1")."""
    match = _LEADING_WORD.match(text.lower())
    return match.group() if match else text.lower()


@dataclass(frozen=True)
class Concept:
    concept_id: str
    canonical_name: str
    label: str
    aliases: tuple[str, ...]


def is_case_sensitive_alias(alias: str) -> bool:
    """Short upper-case aliases (MSC, EVs, PRP) match only as written."""
    return bool(_SHORT_CAPS.match(alias)) and sum(c.isupper() for c in alias) >= 2


class ConceptLexicon:
    def __init__(self, concepts: list[Concept], version: str):
        self.concepts = {c.concept_id: c for c in concepts}
        self.version = version
        self.by_alias_lower: dict[str, str] = {}
        self.by_alias_exact: dict[str, str] = {}
        self.first_words: set[str] = set()
        for concept in concepts:
            names = set(concept.aliases) | {concept.canonical_name}
            for alias in names:
                self.first_words.add(leading_word(alias))
                if is_case_sensitive_alias(alias):
                    self.by_alias_exact.setdefault(alias, concept.concept_id)
                else:
                    for form in _surface_forms(alias):
                        self.by_alias_lower.setdefault(form, concept.concept_id)

    @classmethod
    def from_jsonl(cls, path: str | Path) -> "ConceptLexicon":
        data = Path(path).read_bytes()
        concepts = []
        for number, line in enumerate(data.decode("utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                concepts.append(Concept(row["concept_id"], row["canonical_name"], row["label"], tuple(row["aliases"])))
            except (KeyError, json.JSONDecodeError) as exc:
                raise ValueError(f"{path}:{number}: not a concept line ({exc})") from exc
        return cls(concepts, hashlib.sha256(data).hexdigest()[:12])

    def lookup(self, text: str) -> Concept | None:
        concept_id = self.by_alias_exact.get(text) or self.by_alias_lower.get(text.lower())
        return self.concepts.get(concept_id) if concept_id else None


def _surface_forms(alias: str) -> set[str]:
    lower = alias.lower()
    forms = {lower}
    if lower[-1:].isalpha() and not lower.endswith("s"):
        forms.add(lower + "s")
    return forms
