"""The ONNX encoders against sentence-transformers on torch: same vectors (float32), close ones (int8),
a complete export or none, and int8 indexes kept apart from float32 ones."""

import json
import logging
from pathlib import Path

import numpy as np
import pytest
from conftest import SEEDS

from assistant.config import Settings
from assistant.errors import IndexMismatchError, ModelLoadError
from assistant.library.embeddings import resolve_model
from assistant.library.encoders import OnnxEncoder, TorchEncoder, load_encoder
from assistant.pipeline import Assistant

TEXTS = [
    "NATO foreign ministers meet in Brussels on Wednesday.",
    "",
    "Rain.",
    "Ünïcödé — “quotes” and 中文 characters",
    "A very long passage about defence budgets. " * 80,  # past the 256-token limit: truncated alike
]


@pytest.fixture(scope="module")
def model_folder() -> str:
    return resolve_model("all-MiniLM-L6-v2")


@pytest.fixture(scope="module")
def torch_vectors(model_folder) -> np.ndarray:
    return TorchEncoder(model_folder).encode(TEXTS, 2)


def test_onnx_float32_gives_the_torch_vectors(model_folder, torch_vectors, tmp_path):
    encoder = load_encoder(model_folder, "all-MiniLM-L6-v2", "onnx", tmp_path)
    assert isinstance(encoder, OnnxEncoder)
    vectors = encoder.encode(TEXTS, 2)
    assert vectors.shape == (len(TEXTS), 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert (vectors * torch_vectors).sum(axis=1).min() > 0.9999
    assert encoder.max_seq_length == 256
    # reused, not exported again: the same file loads on a second call
    files = sorted(p.name for p in tmp_path.iterdir())
    assert len(files) == 2 and files[0].endswith(".json") and files[1].endswith(".onnx")
    load_encoder(model_folder, "all-MiniLM-L6-v2", "onnx", tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == files


def test_onnx_int8_is_close_but_not_equal(model_folder, torch_vectors, tmp_path):
    vectors = load_encoder(model_folder, "all-MiniLM-L6-v2", "onnx-int8", tmp_path).encode(TEXTS, 8)
    cosines = (vectors * torch_vectors).sum(axis=1)
    assert cosines.min() > 0.8
    assert cosines.max() < 0.9999


def test_unwritable_cache_falls_back_to_torch(model_folder, tmp_path, caplog):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    with caplog.at_level(logging.WARNING):
        encoder = load_encoder(model_folder, "all-MiniLM-L6-v2", "onnx", blocker / "models")
    assert isinstance(encoder, TorchEncoder)
    assert "using torch" in caplog.text
    assert not any(p.name.startswith(".export") for p in tmp_path.iterdir())


def test_onnx_needs_a_local_folder(tmp_path):
    with pytest.raises(ModelLoadError) as error:
        load_encoder("some-org/some-model", "some-org/some-model", "onnx", tmp_path)
    assert "ASSISTANT_EMBED_BACKEND=torch" in str(error.value)


def test_an_int8_index_is_not_queried_with_float32_vectors(tmp_path):
    int8 = Settings(index_dir=tmp_path / "index", embed_backend="onnx-int8", model_cache=str(tmp_path / "m"))
    Assistant(int8).library.ingest([SEEDS])
    assert Assistant(int8).search("Who represents the U.S.?", k=1)
    with pytest.raises(IndexMismatchError) as error:
        Assistant(int8.replace(embed_backend="onnx")).search("Who represents the U.S.?", k=1)
    assert "(int8)" in str(error.value) and "ASSISTANT_EMBED_BACKEND" in str(error.value)


def test_an_export_is_named_after_the_models_content_not_its_place(model_folder, tmp_path):
    import shutil

    from assistant.library.encoders import _fingerprint

    copy = shutil.copytree(model_folder, tmp_path / "copy")
    assert _fingerprint(copy, "onnx") == _fingerprint(Path(model_folder), "onnx")  # another checkout
    assert _fingerprint(copy, "onnx-int8") != _fingerprint(copy, "onnx")
    (copy / "config.json").write_text((copy / "config.json").read_text() + " ")
    assert _fingerprint(copy, "onnx") != _fingerprint(Path(model_folder), "onnx")


def test_the_cache_command_lists_and_cleans_exports(model_folder, tmp_path, monkeypatch, capsys):
    from assistant.cli import main
    from assistant.library.encoders import EXPORT_PREFIX, _fingerprint

    cache = tmp_path / "cache"
    cache.mkdir()
    current = cache / f"{EXPORT_PREFIX}{_fingerprint(Path(model_folder), 'onnx')}"
    stale = cache / f"{EXPORT_PREFIX}0123456789abcdef"
    for path, source in ((current, model_folder), (stale, str(tmp_path / "a-model-since-deleted"))):
        path.with_suffix(".onnx").write_bytes(b"x" * 1000)
        path.with_suffix(".json").write_text(json.dumps({"source": source, "int8": False}))
    (cache / "notes.json").write_text("[1, 2]")  # not an export: left alone
    monkeypatch.setenv("ASSISTANT_MODEL_CACHE", str(cache))

    assert main(["cache"]) == 0
    listed = capsys.readouterr().out
    assert f"{current.name}.onnx" in listed and "current" in listed
    assert f"{stale.name}.onnx" in listed and "stale" in listed and "2 exports" in listed

    assert main(["cache", "clean"]) == 0
    assert "removed 1 of 2 exports" in capsys.readouterr().out
    assert sorted(p.name for p in cache.iterdir()) == sorted(
        [f"{current.name}.onnx", f"{current.name}.json", "notes.json"]
    )
    assert main(["cache", "clean", "--all"]) == 0
    assert "removed 1 of 1 exports" in capsys.readouterr().out
    assert [p.name for p in cache.iterdir()] == ["notes.json"]
