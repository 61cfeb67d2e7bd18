"""Settings: the one place defaults live; built once per entry point from ASSISTANT_<FIELD> and flags.

A pydantic-settings model: each field `x` is read from the variable `ASSISTANT_X` (any case), typed
and checked; a bad value is a ConfigError naming the variable ("ASSISTANT_TOP_K='many' is not a whole
number"), never a pydantic traceback.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from assistant.errors import ConfigError
from assistant.modes import READERS, RETRIEVERS

ENV_PREFIX = "ASSISTANT_"
DEFAULT_EMBEDDING_MODEL = "all-MiniLM-L6-v2"
DEFAULT_CHUNK_TOKENS = 200
DEFAULT_CHUNK_OVERLAP_TOKENS = 40
EMBED_BACKENDS = ("onnx", "onnx-int8", "torch")


UPLOADS = "uploads"  # uploaded articles: their folder under the index folder, and their doc_id prefix
SECRET_SETTINGS = ("api_keys", "database_url")  # never written to reports or logs


def _setting(default: Any, help: str, *, secret: bool = False) -> Any:
    return Field(default=default, description=help, repr=not secret)


class Settings(BaseSettings):
    """Every knob of the assistant. Each field `x` is read from the variable `ASSISTANT_X`."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="forbid")

    index_dir: Path = _setting(Path("index"), "Folder of the embedded Chroma index (and caches).")
    chroma_url: str = _setting(
        "", "URL of a Chroma server (`chroma run`), e.g. http://127.0.0.1:8000; empty = embedded."
    )
    collection: str = _setting("articles", "Chroma collection holding the article chunks.")
    embedding_model: str = _setting(
        DEFAULT_EMBEDDING_MODEL,
        "sentence-transformers model name or local folder; the default ships with the install.",
    )
    embed_backend: str = _setting(
        "onnx", "Runs the embedding model: onnx (exported once, float32), onnx-int8 or torch."
    )
    model_cache: str = _setting(
        "", "Folder for the model's ONNX export, made once and reused; empty = ~/.cache/news-assistant."
    )
    embed_batch_size: int = _setting(16, "Chunks encoded per batch by the embedding model.")
    ingest_batch: int = _setting(512, "Chunks `assistant ingest` embeds and writes together.")
    ingest_nice: int = _setting(
        10,
        "CPU priority (nice, 0-19) `assistant ingest` and `assistant watch` lower themselves by; 0 = as is.",
    )
    chunk_tokens: int = _setting(DEFAULT_CHUNK_TOKENS, "Largest chunk, in cl100k_base tokens.")
    chunk_overlap_tokens: int = _setting(
        DEFAULT_CHUNK_OVERLAP_TOKENS, "Tokens of trailing sentences repeated at the next chunk's start."
    )
    top_k: int = _setting(5, "Passages returned by a search.")
    retriever: str = _setting("hybrid", "hybrid (dense + BM25), dense or bm25.")
    rrf_k: int = _setting(60, "Reciprocal rank fusion constant: higher flattens rank differences.")
    dense_weight: float = _setting(1.0, "Weight of the dense ranking in the fusion.")
    keyword_weight: float = _setting(2.0, "Weight of the BM25 ranking in the fusion.")
    fusion_candidates: int = _setting(30, "Candidates each ranking contributes to the fusion.")
    reranker: str = _setting(
        "", "sentence-transformers CrossEncoder (name or folder) that reorders passages; empty = off."
    )
    rerank_candidates: int = _setting(20, "Passages retrieved for the reranker to reorder.")
    constraint_candidates: int = _setting(
        20, "Passages reordered by the question's years, editions and names before the top k; 0 = off."
    )
    reader: str = _setting(
        "rules", "How the offline answerer reads: rules, or general (a fitted model; docs/reader.md)."
    )
    refusal_threshold: float | None = _setting(
        None,
        "Below this answer confidence (0-1) the assistant says the articles don't hold the answer; "
        "empty: 0.55 for the rules reader, the fitted one for the general reader.",
    )
    max_answer_sentences: int = _setting(2, "Most sentences an extractive answer quotes.")
    companion_ratio: float = _setting(
        0.9, "A further sentence is quoted when it scores at least this share of the best one."
    )
    support_threshold: float = _setting(
        0.55, "Least support (0-1) a generated sentence needs from a passage to keep its citation."
    )
    llm_url: str = _setting(
        "", "Base URL of an OpenAI-compatible server (…/v1); with a model name, turns the LLM on."
    )
    llm_model: str = _setting("", "Model name sent to the OpenAI-compatible server.")
    llm_gguf: str = _setting("", "Path of a local GGUF model (needs the `gguf` extra); turns the LLM on.")
    llm_timeout_s: float = _setting(30.0, "Seconds the LLM may take before the extractive answer is shown.")
    llm_max_tokens: int = _setting(256, "Longest generated answer, in tokens.")
    llm_temperature: float = _setting(0.1, "Sampling temperature of the LLM.")
    llm_context_tokens: int = _setting(4096, "Context window of the LLM.")
    embed_origins: str = _setting(
        "", "Comma-separated origins (https://news.example) allowed to embed the chat and call /api."
    )
    max_upload_bytes: int = _setting(2_000_000, "Largest article file accepted from the browser or API.")
    max_request_bytes: int = _setting(65_536, "Largest JSON request body the API accepts.")
    api_keys: str = _setting(
        "",
        "Keys for writing actions (Authorization: Bearer KEY), comma-separated; empty = this machine only.",
        secret=True,
    )
    rate_limit: int = _setting(30, "Questions a client may ask per minute (API and chat); 0 = no limit.")
    max_concurrent_answers: int = _setting(
        4, "Questions searched and answered at once; more wait their turn (bounds memory under load)."
    )
    upload_rate_limit: int = _setting(
        20, "Files a client may send to the chat's upload per minute; 0 = no limit."
    )
    body_timeout_s: float = _setting(20.0, "Seconds a client may take to send a request body (then 408).")
    allowed_hosts: str = _setting(
        "", "Host names the server answers to, comma-separated; empty = loopback and the --host; * = any."
    )
    trusted_proxies: str = _setting(
        "", "Addresses of reverse proxies whose X-Forwarded-For is believed, comma-separated; empty = none."
    )
    max_connections: int = _setting(200, "Connections `assistant serve` holds at once; more get a 503.")
    evals_dir: Path = _setting(Path("evals"), "Question sets offered by the web UI's Evaluate tab.")
    fetch_timeout_s: float = _setting(15.0, "Seconds a web page, feed or sitemap may take to arrive.")
    fetch_max_bytes: int = _setting(5_000_000, "Largest web page, feed or sitemap read, once decompressed.")
    fetch_concurrency: int = _setting(8, "Pages fetched at once when ingesting URLs (at most 2 per host).")
    fetch_private: bool = _setting(
        False, "Let the server fetch URLs on private and loopback addresses for a browser user (SSRF)."
    )
    database_url: str = _setting(
        "",
        "SQLAlchemy URL of the project's database (conversations, feedback, sources, uploads, shared "
        "rate limits); empty = SQLite in the index folder.",
        secret=True,  # may hold a password
    )

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise ConfigError(_first_problem(exc)) from None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Flags (init values), then the environment: the process's, or the one `from_env` was given."""
        environ = _ENVIRON.get()
        return init_settings, env_settings if environ is None else _Variables(settings_cls, environ)

    @field_validator("*", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    @field_validator("refusal_threshold", mode="before")
    @classmethod
    def _unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("index_dir", "evals_dir", mode="after")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @model_validator(mode="after")
    def _check_values(self) -> Settings:
        _check(self.embed_batch_size >= 1, "embed_batch_size", "must be at least 1")
        _check(self.ingest_batch >= 1, "ingest_batch", "must be at least 1")
        _check(0 <= self.ingest_nice <= 19, "ingest_nice", "must be between 0 and 19")
        _check(self.chunk_tokens >= 16, "chunk_tokens", "must be at least 16")
        _check(
            0 <= self.chunk_overlap_tokens < self.chunk_tokens // 2,
            "chunk_overlap_tokens",
            "must be between 0 and half of ASSISTANT_CHUNK_TOKENS",
        )
        _check(self.top_k >= 1, "top_k", "must be at least 1")
        _check(self.retriever in RETRIEVERS, "retriever", f"must be one of {', '.join(RETRIEVERS)}")
        _check(self.reader in READERS, "reader", f"must be one of {', '.join(READERS)}")
        _check(self.rrf_k >= 0, "rrf_k", "must be 0 or more")
        _check(self.dense_weight >= 0, "dense_weight", "must be 0 or more")
        _check(self.keyword_weight >= 0, "keyword_weight", "must be 0 or more")
        _check(self.fusion_candidates >= 1, "fusion_candidates", "must be at least 1")
        _check(self.rerank_candidates >= 1, "rerank_candidates", "must be at least 1")
        _check(self.constraint_candidates >= 0, "constraint_candidates", "must be 0 or more")
        _check(
            3 <= len(self.collection) <= 512
            and self.collection[0].isalnum()
            and self.collection[-1].isalnum()
            and all(c.isalnum() or c in "._-" for c in self.collection),
            "collection",
            "must be 3-512 letters, digits, '.', '_' or '-', starting and ending with a letter or digit",
        )
        _check(
            not self.chroma_url or self.chroma_url.startswith(("http://", "https://")),
            "chroma_url",
            "must start with http:// or https://",
        )
        _check(bool(self.embedding_model.strip()), "embedding_model", "must not be empty")
        _check(
            self.embed_backend in EMBED_BACKENDS,
            "embed_backend",
            f"must be one of {', '.join(EMBED_BACKENDS)}",
        )
        _check(
            self.refusal_threshold is None or 0 <= self.refusal_threshold <= 1,
            "refusal_threshold",
            "must be between 0 and 1",
        )
        _check(0 <= self.support_threshold <= 1, "support_threshold", "must be between 0 and 1")
        _check(0 < self.companion_ratio <= 1, "companion_ratio", "must be above 0 and at most 1")
        _check(self.max_answer_sentences >= 1, "max_answer_sentences", "must be at least 1")
        _check(
            not self.llm_url or self.llm_url.startswith(("http://", "https://")),
            "llm_url",
            "must start with http:// or https://",
        )
        _check(not (self.llm_url and self.llm_gguf), "llm_gguf", "and ASSISTANT_LLM_URL can't both be set")
        _check(not self.llm_url or bool(self.llm_model), "llm_model", "must be set with ASSISTANT_LLM_URL")
        _check(self.llm_timeout_s > 0, "llm_timeout_s", "must be above 0")
        _check(self.llm_max_tokens >= 16, "llm_max_tokens", "must be at least 16")
        _check(self.max_upload_bytes >= 1, "max_upload_bytes", "must be at least 1")
        _check(self.max_request_bytes >= 1024, "max_request_bytes", "must be at least 1024")
        _check(self.rate_limit >= 0, "rate_limit", "must be 0 or more")
        _check(self.upload_rate_limit >= 0, "upload_rate_limit", "must be 0 or more")
        _check(self.max_concurrent_answers >= 1, "max_concurrent_answers", "must be at least 1")
        _check(self.body_timeout_s > 0, "body_timeout_s", "must be above 0")
        _check(self.max_connections >= 1, "max_connections", "must be at least 1")
        _check(
            all(len(k) >= 16 and k.isprintable() and " " not in k for k in self.keys),
            "api_keys",
            "must list keys of at least 16 characters without spaces, separated by commas",
        )
        _check(
            all(o.startswith(("http://", "https://")) and o.count("/") == 2 for o in self.origins),
            "embed_origins",
            "must list origins such as https://news.example, separated by commas",
        )
        return self

    @property
    def hosts(self) -> list[str]:
        """The allowed host names as a list (empty: the default)."""
        return [h.lower() for h in _listed(self.allowed_hosts)]

    @property
    def origins(self) -> list[str]:
        """The embed origins as a list."""
        return [o.rstrip("/") for o in _listed(self.embed_origins)]

    @property
    def keys(self) -> list[str]:
        """The API keys as a list."""
        return _listed(self.api_keys)

    @property
    def proxies(self) -> list[str]:
        """The trusted proxies' addresses as a list."""
        return _listed(self.trusted_proxies)

    @property
    def uploads_dir(self) -> Path:
        """Where uploaded article files are kept, so that a rebuild indexes them again."""
        return self.index_dir / UPLOADS

    @property
    def model_cache_dir(self) -> Path:
        if self.model_cache.strip():
            return Path(self.model_cache).expanduser()
        return Path(os.environ.get("XDG_CACHE_HOME") or "~/.cache").expanduser() / "news-assistant"

    @property
    def model_identity(self) -> str:
        """The model as the index records it: int8 weights give vectors of their own, so they count
        as another model; float32 ONNX and torch give the same vectors."""
        suffix = " (int8)" if self.embed_backend == "onnx-int8" else ""
        return self.embedding_model + suffix

    @property
    def llm_enabled(self) -> bool:
        return bool(self.llm_url or self.llm_gguf)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then `ASSISTANT_*` variables (of `environ`, else the process's), then explicit
        overrides (flags); None means unset."""
        with _reading(environ):
            return cls(**{k: v for k, v in overrides.items() if v is not None})

    def replace(self, **changes: Any) -> Settings:
        """A copy with some values changed, checked like any other; the environment is not read."""
        with _reading({}):
            return type(self)(**(self.model_dump() | changes))


_ENVIRON: ContextVar[Mapping[str, str] | None] = ContextVar("assistant_environ", default=None)


@contextmanager
def _reading(environ: Mapping[str, str] | None) -> Iterator[None]:
    token = _ENVIRON.set(environ)
    try:
        yield
    finally:
        _ENVIRON.reset(token)


class _Variables(PydanticBaseSettingsSource):
    """The ASSISTANT_* variables of a mapping given to `from_env` (names in any case)."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        super().__init__(settings_cls)
        self.values = {name.upper(): value for name, value in environ.items()}

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self.values.get(env_name(field_name)), field_name, False

    def __call__(self) -> dict[str, Any]:
        found = {name: self.values.get(env_name(name)) for name in self.settings_cls.model_fields}
        return {name: value for name, value in found.items() if value is not None}


def env_name(field_name: str) -> str:
    return ENV_PREFIX + field_name.upper()


def describe() -> list[tuple[str, str, str]]:
    """(variable, default, help) for each setting: the source of the README's table."""
    fields = Settings.model_fields.items()
    return [(env_name(name), _shown(f.default), f.description or "") for name, f in fields]


def _shown(default: Any) -> str:
    return "" if default is None else str(default)


_EXPECTED = {"int": "a whole number", "float": "a number"}


def _first_problem(exc: ValidationError) -> str:
    """pydantic's first complaint as one line naming the variable."""
    error = exc.errors()[0]
    name = str(error["loc"][0]) if error["loc"] else ""
    if error["type"] == "extra_forbidden":
        return f"unknown setting {name!r}"
    kind = error["type"].removesuffix("_parsing").removesuffix("_type")
    expected = _EXPECTED.get(kind, error["msg"].lower())
    return f"{env_name(name)}={error.get('input')!r} is not {expected}"


def _check(ok: bool, name: str, requirement: str) -> None:
    if not ok:
        raise ConfigError(f"{env_name(name)} {requirement}")


def _listed(value: str) -> list[str]:
    """A comma-separated setting as a list, each item stripped, empty items dropped."""
    return [item.strip() for item in value.split(",") if item.strip()]
