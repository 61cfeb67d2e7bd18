"""The networks behind `Embedder`: a sentence-transformers model run by torch, or the same model
exported to ONNX and run by onnxruntime, with float32 weights or int8 ones (dynamic quantization).

The ONNX file is made from the local model folder on first use (torch traces the whole
sentence-transformers pipeline: transformer, pooling, normalisation), written atomically to the
model cache folder (ASSISTANT_MODEL_CACHE) with a small JSON description beside it, and reused from
then on; nothing is downloaded. Starting onnxruntime takes a fraction of a second where importing torch and
sentence-transformers takes about five, which is most of a server's cold start.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from assistant.atomic import write_atomically
from assistant.errors import ModelLoadError

EXPORT_VERSION = 1  # part of the fingerprint: bump when the export changes
EXPORT_PREFIX = "embedder-"
SAMPLE_BYTES = 1 << 20
log = logging.getLogger(__name__)


class Encoder(Protocol):
    dimension: int
    max_seq_length: int

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        ...


class TorchEncoder:
    """sentence-transformers on the CPU."""

    def __init__(self, location: str) -> None:
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(location, device="cpu")
        get_dimension = getattr(self.model, "get_embedding_dimension", None) or (
            self.model.get_sentence_embedding_dimension
        )
        self.dimension = int(get_dimension())
        self.max_seq_length = int(self.model.max_seq_length)

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        return self.model.encode(
            texts,
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        ).astype(np.float32)


class OnnxEncoder:
    """The exported model in onnxruntime, with the model's own fast tokenizer; no torch involved."""

    def __init__(self, onnx_file: Path, tokenizer_file: Path, description: dict) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        self.dimension = int(description["dimension"])
        self.max_seq_length = int(description["max_seq_length"])
        self.inputs = list(description["inputs"])
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        self.session = onnxruntime.InferenceSession(
            str(onnx_file), options, providers=["CPUExecutionProvider"]
        )
        self.tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self.tokenizer.enable_truncation(self.max_seq_length)
        self.tokenizer.enable_padding(pad_id=int(description.get("pad_id", 0)))

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        # Longest first, as sentence-transformers does, so that each batch pads little.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            encodings = self.tokenizer.encode_batch([texts[i] for i in rows])
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            feeds = {
                "input_ids": ids,
                "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
            }
            (vectors,) = self.session.run(None, {name: feeds[name] for name in self.inputs})
            out[rows] = vectors
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.clip(norms, 1e-12, None)


def load_encoder(location: str, name: str, backend: str, cache_dir: Path) -> Encoder:
    """The model at `location` on `backend`; raises ModelLoadError naming the setting to change."""
    try:
        if backend == "torch":
            return TorchEncoder(location)
        return _load_onnx(Path(location), backend, cache_dir)
    except ModelLoadError:
        raise
    except Exception as exc:  # the libraries raise OSError, ValueError, HF errors... all mean "can't load"
        raise ModelLoadError(
            f"cannot load embedding model {name!r} on {backend} ({type(exc).__name__}: {exc}); set "
            "ASSISTANT_EMBEDDING_MODEL to a local sentence-transformers folder or an already-downloaded "
            "model name, or ASSISTANT_EMBED_BACKEND=torch"
        ) from exc


def _load_onnx(folder: Path, backend: str, cache_dir: Path) -> Encoder:
    tokenizer_file = folder / "tokenizer.json"
    if not folder.is_dir() or not tokenizer_file.is_file():
        raise ModelLoadError(
            f"embedding model {str(folder)!r} is not a local folder with tokenizer.json, which the "
            f"{backend} backend needs; set ASSISTANT_EMBEDDING_MODEL to such a folder or "
            "ASSISTANT_EMBED_BACKEND=torch"
        )
    target = cache_dir / f"{EXPORT_PREFIX}{_fingerprint(folder, backend)}.onnx"
    description_file = target.with_suffix(".json")
    if not description_file.is_file():  # written last: its presence means the export is complete
        try:
            _export(folder, target, quantize=backend == "onnx-int8")
        except OSError as exc:
            log.warning("cannot write the ONNX model to %s (%s); using torch", cache_dir, exc)
            return TorchEncoder(str(folder))
    return OnnxEncoder(target, tokenizer_file, json.loads(description_file.read_text()))


def _fingerprint(folder: Path, backend: str) -> str:
    """Names the export after the model's content and the backend, not its place: every checkout and
    every copy of one model shares one export. Small files are hashed whole; a weights file by its
    size and three samples (start, middle, end), which is quick and tells apart any two trainings."""
    digest = hashlib.sha256(f"{backend}|{EXPORT_VERSION}".encode())
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        size = path.stat().st_size
        digest.update(f"|{path.relative_to(folder).as_posix()}:{size}|".encode())
        with path.open("rb") as stream:
            if size <= 3 * SAMPLE_BYTES:
                digest.update(stream.read())
                continue
            for offset in (0, size // 2, size - SAMPLE_BYTES):
                stream.seek(offset)
                digest.update(stream.read(SAMPLE_BYTES))
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class CachedExport:
    """One ONNX export in the model cache, with what it was made from."""

    path: Path
    size: int  # bytes of the .onnx file and its description
    source: str  # the model folder it was exported from
    int8: bool
    current: bool  # the source is still there and still fingerprints to this export


def cached_exports(cache_dir: Path) -> list[CachedExport]:
    """The exports in a model cache folder, oldest first (`assistant cache`)."""
    found = []
    for description in sorted(cache_dir.glob("*.json"), key=lambda p: p.stat().st_mtime):
        onnx_file = description.with_suffix(".onnx")
        try:
            about = json.loads(description.read_text())
        except (OSError, ValueError):
            continue  # not one of ours
        if not isinstance(about, dict) or "source" not in about:
            continue
        source = Path(str(about["source"]))
        backend = "onnx-int8" if about.get("int8") else "onnx"
        current = (
            source.is_dir()
            and onnx_file.name == f"{EXPORT_PREFIX}{_fingerprint(source, backend)}.onnx"
            and onnx_file.is_file()
        )
        size = description.stat().st_size + (onnx_file.stat().st_size if onnx_file.is_file() else 0)
        found.append(CachedExport(onnx_file, size, str(source), bool(about.get("int8")), current))
    return found


def remove_export(export: CachedExport) -> None:
    """Delete an export: its description first, so that a half-deleted one is never taken as whole."""
    export.path.with_suffix(".json").unlink(missing_ok=True)
    export.path.unlink(missing_ok=True)


def _export(folder: Path, target: Path, *, quantize: bool) -> None:
    """Trace the sentence-transformers pipeline into `target` (and int8 weights if asked)."""
    import torch

    encoder = TorchEncoder(str(folder))
    model = encoder.model.eval()
    prepare = getattr(model, "preprocess", None) or model.tokenize  # tokenize is deprecated in 6.x
    features = prepare(["An example sentence to trace.", "Another, longer example to trace it."])
    inputs = [name for name in ("input_ids", "attention_mask", "token_type_ids") if name in features]

    class Pipeline(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *tensors):
            return self.model(dict(zip(inputs, tensors, strict=True)))["sentence_embedding"]

    target.parent.mkdir(parents=True, exist_ok=True)
    log.info("exporting %s to ONNX at %s (once)", folder.name, target)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".export-") as tmp:
        traced = Path(tmp) / "model.onnx"
        axes = {name: {0: "batch", 1: "tokens"} for name in inputs}
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tracer's notes on shapes, not actionable here
            torch.onnx.export(
                Pipeline(),
                tuple(features[name] for name in inputs),
                str(traced),
                input_names=inputs,
                output_names=["sentence_embedding"],
                dynamic_axes={**axes, "sentence_embedding": {0: "batch"}},
                opset_version=17,
                dynamo=False,
            )
        if quantize:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            quantized = Path(tmp) / "model-int8.onnx"
            quantize_dynamic(str(traced), str(quantized), weight_type=QuantType.QInt8)
            traced = quantized
        os.replace(traced, target)
    pad_id = getattr(model.tokenizer, "pad_token_id", 0) or 0
    description = {
        "dimension": encoder.dimension,
        "max_seq_length": encoder.max_seq_length,
        "inputs": inputs,
        "pad_id": pad_id,
        "source": str(folder.resolve()),
        "int8": quantize,
    }
    write_atomically(target.with_suffix(".json"), (json.dumps(description, indent=2) + "\n").encode())
