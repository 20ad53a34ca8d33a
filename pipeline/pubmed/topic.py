"""Which records of PubMed's bulk files belong to the topic.

E-utilities answers the configured query; the baseline and update files hold all of PubMed. Records from
them are kept when every group of terms has a term in the title, abstract, keywords or MeSH headings (terms
match at the start of a word, case-insensitively, so ``exosom`` finds "exosomes" and "exosomal"). The default
groups in ``config/pipeline.toml`` follow the configured PubMed query. No groups keeps every record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.records import PubmedRecord


@dataclass(frozen=True)
class TopicFilter:
    groups: tuple[tuple[str, ...], ...] = ()

    def __post_init__(self):
        patterns = tuple(re.compile(r"\b(?:" + "|".join(re.escape(t.lower()) for t in group) + ")")
                         for group in self.groups if group)
        object.__setattr__(self, "_patterns", patterns)

    def matches(self, record: PubmedRecord) -> bool:
        if not self._patterns:
            return True
        text = " ".join([
            record.title,
            record.abstract,
            *record.keywords,
            *(heading.descriptor for heading in record.mesh),
        ]).lower()
        return all(pattern.search(text) for pattern in self._patterns)
