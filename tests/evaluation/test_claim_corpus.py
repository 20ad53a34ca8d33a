import gzip
import json

import pytest

from pipeline.evaluation.claim_corpus import cited_doc_ids, read_abstracts, read_claims
from pipeline.evaluation.stance import scifact_abstract_pairs

ABSTRACTS = [{"doc_id": 7, "title": "Exosomes and hair", "abstract": ["Hair counts rose.", "No harm was seen."]},
             {"doc_id": 9, "title": "Mice", "abstract": ["Anagen came sooner in mice."]}]
CLAIMS = [{"id": 1, "claim": "Exosomes raise hair counts.", "cited_doc_ids": [7],
           "evidence": {"7": [{"label": "SUPPORT", "sentences": [0]}]}},
          {"id": 2, "claim": "Exosomes cause alopecia.", "doc_ids": ["9"], "evidence": {}}]


def _lines(rows):
    # a blank line between rows and one at the end, as hand-edited files have
    return "\n\n".join(json.dumps(r) for r in rows) + "\n\n"


def test_reads_a_gzipped_corpus_when_there_is_no_plain_one(tmp_path):
    with gzip.open(tmp_path / "corpus.jsonl.gz", "wt", encoding="utf-8") as fh:
        fh.write(_lines(ABSTRACTS))
    (tmp_path / "claims_train.jsonl").write_text(_lines(CLAIMS), encoding="utf-8")

    assert sorted(read_abstracts(tmp_path)) == [7, 9]
    assert [c["id"] for c in read_claims(tmp_path)] == [1, 2]


def test_a_plain_corpus_is_read_before_a_gzipped_one(tmp_path):
    (tmp_path / "corpus.jsonl").write_text(_lines(ABSTRACTS[:1]), encoding="utf-8")
    with gzip.open(tmp_path / "corpus.jsonl.gz", "wt", encoding="utf-8") as fh:
        fh.write(_lines(ABSTRACTS))

    assert list(read_abstracts(tmp_path)) == [7]


def test_a_folder_without_a_corpus_is_named_in_the_error(tmp_path):
    with pytest.raises(FileNotFoundError, match=str(tmp_path)):
        read_abstracts(tmp_path)


def test_cited_abstracts_under_either_layouts_key_as_integers():
    assert [cited_doc_ids(c) for c in CLAIMS] == [[7], [9]]
    assert cited_doc_ids({"id": 3, "claim": "x", "evidence": {}}) == []


def test_whole_abstract_pairs_from_both_layouts(tmp_path):
    (tmp_path / "corpus.jsonl").write_text(_lines(ABSTRACTS), encoding="utf-8")
    (tmp_path / "claims_train.jsonl").write_text(_lines(CLAIMS), encoding="utf-8")

    assert scifact_abstract_pairs(tmp_path) == [
        ("Exosomes raise hair counts.", "Hair counts rose. No harm was seen.", "supports"),
        ("Exosomes cause alopecia.", "Anagen came sooner in mice.", "unrelated")]
    assert scifact_abstract_pairs(tmp_path, claim_ids={2}) == [
        ("Exosomes cause alopecia.", "Anagen came sooner in mice.", "unrelated")]
