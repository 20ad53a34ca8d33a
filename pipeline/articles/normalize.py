"""Text normalisation before any NLP: Unicode NFKC, look-alike folding, headings, missing spaces.

Marketing articles arrive with Cyrillic letters hidden inside English words ("Exоsоmеs" with
Cyrillic о and е), headings on their own lines without punctuation, and sentences glued together
("infection.Currently"). The original text is always kept beside the normalised one by the caller.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Cyrillic and Greek letters that render like Latin ones (from Unicode's confusables list, restricted
# to letters that occur in English words). Greek α/β/γ are left alone: they are real symbols in
# biomedical text (TNF-α, TGF-β).
CONFUSABLES = {
    "а": "a", "в": "b", "е": "e", "ё": "e", "һ": "h", "і": "i", "ї": "i", "ј": "j", "к": "k", "ӏ": "l",
    "м": "m", "н": "h", "о": "o", "р": "p", "ԛ": "q", "с": "c", "ѕ": "s", "т": "t", "у": "y", "ԝ": "w",
    "х": "x", "ԁ": "d", "ɡ": "g",
    "А": "A", "В": "B", "Е": "E", "Ё": "E", "Һ": "H", "І": "I", "Ї": "I", "Ј": "J", "К": "K", "М": "M",
    "Н": "H", "О": "O", "Р": "P", "С": "C", "Ѕ": "S", "Т": "T", "У": "Y", "Х": "X", "Ԛ": "Q", "Ԝ": "W",
    "Ο": "O", "ο": "o", "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M",
    "Ν": "N", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
}
_WORD = re.compile(r"[^\W\d_]+")
# "infection.Currently" → "infection. Currently"; needs two lowercase letters before the stop so that
# "e.g.Fig" style abbreviations and "U.S." are left alone.
_MISSING_SPACE = re.compile(r"(?<=[a-z]{2})([.!?])(?=[A-Z][a-z])")
_SENTENCE_END = re.compile(r"[.!?:;…\"”)]$")
_CONCLUSION_HEADING = re.compile(r"^(conclusions?|in conclusion|summary|in summary|final thoughts|the bottom line)\b", re.I)
_CONCLUSION_OPENING = re.compile(r"^(in conclusion|in summary|to sum up|overall,)", re.I)


def _is_latin_letter(ch: str) -> bool:
    return "LATIN" in unicodedata.name(ch, "")


def fold_confusables(text: str) -> tuple[str, int]:
    """Replace look-alike Cyrillic/Greek letters inside Latin-script words; return text and count.

    A word is folded when all of its non-Latin letters have a Latin look-alike and it either holds a
    Latin letter already or is a short word in mostly-Latin text. Genuine Cyrillic or Greek words
    (with letters like ж or λ, or longer than three letters) are left as they are.

    "Mostly Latin" counts the look-alikes of mixed words as the Latin letters they stand for: were
    they counted as foreign, folding them would raise the share, and folding the result again would
    fold more short words than the first pass did (normalising must be idempotent).
    """
    candidates = []  # (match, number of foreign letters) of words whose foreign letters all fold
    for match in _WORD.finditer(text):
        foreign = [c for c in match.group() if not _is_latin_letter(c)]
        if foreign and all(c in CONFUSABLES for c in foreign):
            candidates.append((match, len(foreign)))
    letters = [c for c in text if c.isalpha()]
    latin = sum(map(_is_latin_letter, letters)) + sum(n for m, n in candidates if n < len(m.group()))
    latin_share = latin / len(letters) if letters else 1.0
    folded = 0
    out: list[str] = []
    last = 0
    for match, n_foreign in candidates:
        word = match.group()
        # an all-look-alike word is folded only when short ("а", "bу") in mostly-Latin text: longer
        # ones ("Москва") are real words of another script
        if n_foreign == len(word) and not (latin_share > 0.5 and len(word) <= 3):
            continue
        out.append(text[last:match.start()])
        out.append("".join(CONFUSABLES.get(c, c) for c in word))
        folded += n_foreign
        last = match.end()
    out.append(text[last:])
    return "".join(out), folded


@dataclass(frozen=True)
class Block:
    text: str
    is_heading: bool


@dataclass(frozen=True)
class NormalisedText:
    text: str
    folded_chars: int
    blocks: tuple[Block, ...]


def _looks_like_heading(line: str, next_line: str | None) -> bool:
    words = line.split()
    if not words or len(words) > 14 or next_line is None:
        return False
    if line.endswith("?"):
        return len(words) <= 12
    if line.startswith(("-", "•", "*")):
        return False
    return not _SENTENCE_END.search(line)


def split_blocks(text: str) -> list[Block]:
    """Lines become blocks: short lines without sentence punctuation followed by more text are headings."""
    lines = [re.sub(r"[ \t]+", " ", ln).strip() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln]
    blocks = []
    for i, line in enumerate(lines):
        next_line = lines[i + 1] if i + 1 < len(lines) else None
        blocks.append(Block(line, _looks_like_heading(line, next_line)))
    return blocks


def normalise_text(raw: str) -> NormalisedText:
    """NFKC, fold look-alikes, one block per line (headings apart from prose), fix glued sentences.

    Blocks are joined with a blank line so every heading is its own sentence for the NLP stage.
    """
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    # controls go before NFKC: removed after it, they could leave a letter beside a combining mark it
    # composes with, and the output would not be NFKC (NFKC never creates a control character)
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf"))
    text = unicodedata.normalize("NFKC", text)
    text, folded = fold_confusables(text)
    # a folded letter can compose with a following mark (Cyrillic о + U+0301 -> o + U+0301 -> ó)
    text = unicodedata.normalize("NFKC", text)
    text = _MISSING_SPACE.sub(r"\1 ", text)
    blocks = tuple(split_blocks(text))
    return NormalisedText("\n\n".join(b.text for b in blocks), folded, blocks)


def split_glued_articles(blocks: list[Block] | tuple[Block, ...]) -> list[list[Block]]:
    """Split a file that holds several articles one after another.

    A new article starts at a heading that follows the prose of a closing section ("Conclusion",
    "In summary ..."): blog exports glue articles together exactly there.
    """
    articles: list[list[Block]] = [[]]
    in_closing = False
    closing_has_prose = False
    for block in blocks:
        if block.is_heading:
            if in_closing and closing_has_prose:
                articles.append([])
                in_closing = closing_has_prose = False
            if _CONCLUSION_HEADING.match(block.text):
                in_closing, closing_has_prose = True, False
        else:
            if _CONCLUSION_OPENING.match(block.text):
                in_closing = True
            if in_closing:
                closing_has_prose = True
        articles[-1].append(block)
    return [a for a in articles if a]
