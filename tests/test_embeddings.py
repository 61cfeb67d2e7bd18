import hashlib
from pathlib import Path

import numpy as np
import pytest

from assistant.config import Settings
from assistant.errors import ModelLoadError
from assistant.library.embeddings import load_embedder, resolve_model

UPSTREAM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
UPSTREAM_BYTES = 90_868_376


def test_packaged_model_is_the_upstream_all_minilm_l6_v2():
    weights = Path(resolve_model("all-MiniLM-L6-v2")) / "model.safetensors"
    assert weights.stat().st_size == UPSTREAM_BYTES
    digest = hashlib.sha256()
    with weights.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    assert digest.hexdigest() == UPSTREAM_SHA256


def test_other_names_and_paths_pass_through():
    assert resolve_model("/models/my-model") == "/models/my-model"
    assert resolve_model("sentence-transformers/all-MiniLM-L6-v2") == resolve_model("all-MiniLM-L6-v2")


def test_vectors_are_normalised_384_dimensions(embedder):
    vectors = np.array(embedder.encode(["NATO foreign ministers meet in Brussels.", "Rain in Spain."]))
    assert vectors.shape == (2, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.dimension == 384


def test_related_text_is_closer_than_unrelated(embedder):
    query = np.array(embedder.get_query_embedding("Who is the German foreign minister?"))
    related, unrelated = np.array(
        embedder.encode(
            ["Johann Wadephul is Germany's minister of foreign affairs.", "The recipe needs two eggs."]
        )
    )
    assert query @ related > query @ unrelated + 0.2


def test_unloadable_model_names_the_setting(tmp_path):
    with pytest.raises(ModelLoadError) as error:
        load_embedder(Settings(embedding_model=str(tmp_path / "no-such-model")))
    assert "ASSISTANT_EMBEDDING_MODEL" in str(error.value)
    assert "no-such-model" in str(error.value)
