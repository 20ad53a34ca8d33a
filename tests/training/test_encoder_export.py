"""int8 export of an encoder graph: which weights the quantiser turns to int8."""

import numpy as np
import pytest


def _lookup_then_project(path):
    """A word-piece table looked up (Gather) and projected (MatMul): the two kinds of weight a base-sized
    encoder's graph holds most of."""
    onnx = pytest.importorskip("onnx", reason="needs the train extra (onnx)")
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    table = numpy_helper.from_array(rng.normal(size=(512, 64)).astype(np.float32), "word_embeddings")
    projection = numpy_helper.from_array(rng.normal(size=(64, 64)).astype(np.float32), "projection")
    graph = helper.make_graph(
        [helper.make_node("Gather", ["word_embeddings", "ids"], ["embedded"]),
         helper.make_node("MatMul", ["embedded", "projection"], ["out"])],
        "lookup", [helper.make_tensor_value_info("ids", TensorProto.INT64, [1, 8])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 8, 64])], [table, projection])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return rng.integers(0, 512, size=(1, 8)).astype(np.int64)


def _eight_bit_weights(path):
    """Initializers stored in one byte a value (the quantiser keeps a looked-up table unsigned, as its output
    feeds the next product as an activation)."""
    import onnx

    return {t.name for t in onnx.load(path).graph.initializer
            if t.data_type in (onnx.TensorProto.INT8, onnx.TensorProto.UINT8) and len(t.dims) == 2}


@pytest.mark.parametrize("embeddings", [False, True])
def test_the_word_piece_table_turns_int8_only_when_asked_and_the_graph_still_reads_the_same(tmp_path, embeddings):
    ids = _lookup_then_project(tmp_path / "fp32.onnx")
    import onnxruntime as ort

    from training.encoder_export import quantise

    quantise(tmp_path / "fp32.onnx", tmp_path / "int8.onnx", embeddings=embeddings)
    int8 = _eight_bit_weights(tmp_path / "int8.onnx")
    assert any(name.startswith("projection") for name in int8)
    assert any(name.startswith("word_embeddings") for name in int8) == embeddings
    (fp32_out,), (int8_out,) = (ort.InferenceSession(str(tmp_path / name)).run(None, {"ids": ids})
                                for name in ("fp32.onnx", "int8.onnx"))
    # int8 weights approximate the product; they do not change what it says
    assert np.corrcoef(fp32_out.ravel(), int8_out.ravel())[0, 1] > 0.99


def test_a_product_stays_fp32_where_its_int8_alone_strays_much_further_than_the_others_of_its_kind():
    from training.encoder_export import outliers

    # all-mpnet-base-v2 fine-tuned for stance (docs/stance.md): layers 6 and 7 stand out
    alone = {f"layer.{n}/output/dense/MatMul": d for n, d in
             enumerate((0.132, 0.135, 0.139, 0.124, 0.137, 0.137, 0.291, 0.286, 0.149, 0.132, 0.132, 0.131))}
    assert outliers(alone) == ["layer.6/output/dense/MatMul", "layer.7/output/dense/MatMul"]
    assert outliers({k: 0.15 for k in alone}) == [] and outliers({}) == []  # every layer alike: nothing to keep


FFN_OUT = "/encoder/layer.{}/output/dense/MatMul"


def _four_layers(path):
    """Products of one input: a query projection and four feed-forward outputs, the last fed activations with one
    channel a thousand times the others (as a few channels are after a wide GELU)."""
    onnx = pytest.importorskip("onnx", reason="needs the train extra (onnx)")
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(1)
    scale = np.ones(64, dtype=np.float32)
    scale[0] = 1000.0
    weights = {name: rng.normal(size=(64, 16)).astype(np.float32) for name in ("wq", "w0", "w1", "w2", "w3")}
    weights["w3"][0] /= 1000.0  # the product's output stays of the others' size
    initializers = [numpy_helper.from_array(w, name) for name, w in weights.items()] + \
        [numpy_helper.from_array(scale, "scale")]
    nodes = [helper.make_node("MatMul", ["x", "wq"], ["q"], name="/encoder/layer.0/attention/q/MatMul"),
             *(helper.make_node("MatMul", ["x", f"w{n}"], [f"y{n}"], name=FFN_OUT.format(n)) for n in range(3)),
             helper.make_node("Mul", ["x", "scale"], ["wide"], name="outlier_channel"),
             helper.make_node("MatMul", ["wide", "w3"], ["y3"], name=FFN_OUT.format(3)),
             helper.make_node("Sum", ["q", "y0", "y1", "y2", "y3"], ["logits"], name="sum")]
    graph = helper.make_graph(nodes, "four_layers", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 64])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [4, 16])], initializers)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return rng.normal(size=(4, 64)).astype(np.float32)


def test_the_feed_forward_output_fed_outlier_activations_is_found_without_labels_and_kept_fp32(tmp_path):
    x = _four_layers(tmp_path / "fp32.onnx")
    import onnx
    import onnxruntime as ort

    from training.encoder_export import outlier_products, quantise

    def logits(path):
        return ort.InferenceSession(str(path)).run(None, {"x": x})[0]

    found = outlier_products(tmp_path / "fp32.onnx", logits, tmp_path)
    assert set(found["alone"]) == {FFN_OUT.format(n) for n in range(4)}  # only feed-forward outputs are weighed
    assert found["fp32_products"] == [FFN_OUT.format(3)]
    quantise(tmp_path / "fp32.onnx", tmp_path / "partial.onnx", keep_fp32=found["fp32_products"])
    quantise(tmp_path / "fp32.onnx", tmp_path / "int8.onnx")
    assert "w3" in {t.name for t in onnx.load(str(tmp_path / "partial.onnx")).graph.initializer}  # still fp32
    stray = {name: float(np.abs(logits(tmp_path / name) - logits(tmp_path / "fp32.onnx")).mean())
             for name in ("partial.onnx", "int8.onnx")}
    assert stray["partial.onnx"] < stray["int8.onnx"] / 3
