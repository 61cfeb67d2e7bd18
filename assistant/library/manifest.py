"""What an index was built with (the manifest kept in the collection's metadata), and the checks that
refuse to read it with another embedding model or to mix models or chunkings in it."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from assistant.config import Settings
from assistant.errors import IndexMismatchError, IndexMissingError
from assistant.library.chroma import describe_location

MANIFEST_SCHEMA = 1


@dataclass(frozen=True)
class Manifest:
    """What an index was built with; a different model or chunking means rebuilding it."""

    embedding_model: str
    embedding_dimension: int
    chunk_tokens: int
    chunk_overlap_tokens: int
    tokenizer: str = "cl100k_base"
    schema: int = MANIFEST_SCHEMA

    def to_metadata(self) -> dict[str, Any]:
        return {f"manifest_{k}": v for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_metadata(cls, metadata: dict[str, Any] | None) -> Manifest | None:
        """The manifest, or None when it is missing or damaged (a field absent or of the wrong type)."""
        metadata = metadata or {}
        values = {}
        for f in dataclasses.fields(cls):
            value = metadata.get(f"manifest_{f.name}")
            if type(value).__name__ != f.type:  # the annotations are "str" and "int"
                return None
            values[f.name] = value
        return cls(**values)


def check_readable(count: int, manifest: Manifest | None, settings: Settings) -> None:
    """Refuse an index that is empty, has no valid manifest, or was made with another model."""
    if count == 0:
        raise IndexMissingError(
            f"the index in {describe_location(settings)} is empty; run `assistant ingest`"
        )
    if manifest is None:
        raise IndexMismatchError(
            f"the index in {describe_location(settings)} has no valid manifest (missing or damaged); "
            "run `assistant ingest --rebuild`"
        )
    if manifest.embedding_model != settings.model_identity:
        raise IndexMismatchError(_model_mismatch(manifest, settings))


def check_writable(stored: Manifest | None, manifest: Manifest, settings: Settings) -> None:
    """Refuse to add to a collection made by something else, or with another model or chunking."""
    if stored is None:
        raise IndexMismatchError(
            f"collection {settings.collection!r} was not made by this assistant; choose another "
            "ASSISTANT_COLLECTION or run `assistant ingest --rebuild` to replace it"
        )
    if stored.embedding_model != manifest.embedding_model or (
        stored.embedding_dimension != manifest.embedding_dimension
    ):
        raise IndexMismatchError(_model_mismatch(stored, settings))
    if (stored.chunk_tokens, stored.chunk_overlap_tokens, stored.tokenizer) != (
        manifest.chunk_tokens,
        manifest.chunk_overlap_tokens,
        manifest.tokenizer,
    ):
        raise IndexMismatchError(
            f"the index was chunked with {stored.chunk_tokens} tokens and "
            f"{stored.chunk_overlap_tokens} overlap, the settings ask for {manifest.chunk_tokens} "
            f"and {manifest.chunk_overlap_tokens}; run `assistant ingest --rebuild`"
        )


def _model_mismatch(stored: Manifest, settings: Settings) -> str:
    return (
        f"the index was built with embedding model {stored.embedding_model!r} "
        f"({stored.embedding_dimension} dimensions) but the settings ask for "
        f"{settings.model_identity!r}; run `assistant ingest --rebuild` or set "
        "ASSISTANT_EMBEDDING_MODEL (and ASSISTANT_EMBED_BACKEND) back"
    )
