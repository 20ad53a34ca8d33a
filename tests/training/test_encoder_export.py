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
