"""LLM backends through llama-index: an OpenAI-compatible server (OpenAI, Ollama, vLLM, llama.cpp
server, LM Studio) or a local GGUF file through llama-cpp-python. Off unless configured.

The API key is read from the environment here, where it is used (ASSISTANT_LLM_API_KEY, else
OPENAI_API_KEY), and never stored in Settings. Retries are off: a retry would multiply the timeout,
and a failed call falls back to the extractive answer anyway.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from assistant.config import Settings
from assistant.errors import AssistantError

log = logging.getLogger(__name__)
KEY_VARIABLES = ("ASSISTANT_LLM_API_KEY", "OPENAI_API_KEY")


class LLMFailure(AssistantError):
    """The LLM did not answer in time or at all."""


@dataclass
class LLMBackend:
    llm: Any  # a llama-index LLM
    label: str  # what the user is told answered, e.g. "qwen2.5 at http://127.0.0.1:11434/v1"
    timeout_s: float

    def stream(self, prompt: str) -> Iterator[str]:
        """Tokens of the reply to a single user message; raises LLMFailure on error or timeout."""
        from llama_index.core.llms import ChatMessage

        deadline = time.monotonic() + self.timeout_s
        try:
            for response in self.llm.stream_chat([ChatMessage(role="user", content=prompt)]):
                if time.monotonic() > deadline:
                    raise LLMFailure(f"the language model took longer than {self.timeout_s:g} s")
                if response.delta:
                    yield response.delta
        except LLMFailure:
            raise
        except Exception as exc:  # the edge to an outside service: any failure means "fall back"
            log.warning("LLM call failed", exc_info=True)
            raise LLMFailure(f"the language model failed ({_describe(exc)})") from exc

    def complete(self, prompt: str) -> str:
        return "".join(self.stream(prompt))


def build_llm(settings: Settings) -> LLMBackend | None:
    """The configured backend, or None when no LLM is configured."""
    if settings.llm_url:
        from llama_index.llms.openai_like import OpenAILike

        api_key = next((os.environ[v] for v in KEY_VARIABLES if os.environ.get(v)), "not-needed")
        llm = OpenAILike(
            model=settings.llm_model,
            api_base=settings.llm_url,
            api_key=api_key,
            is_chat_model=True,
            context_window=settings.llm_context_tokens,
            max_tokens=settings.llm_max_tokens,
            temperature=settings.llm_temperature,
            timeout=settings.llm_timeout_s,
            max_retries=0,
        )
        return LLMBackend(llm, f"{settings.llm_model} at {settings.llm_url}", settings.llm_timeout_s)
    if settings.llm_gguf:
        try:
            from llama_index.llms.llama_cpp import LlamaCPP
        except ImportError:
            raise AssistantError(
                "ASSISTANT_LLM_GGUF needs the gguf extra: pip install -e '.[gguf]'"
            ) from None
        if not os.path.isfile(settings.llm_gguf):
            raise AssistantError(f"ASSISTANT_LLM_GGUF: no such file {settings.llm_gguf}")
        llm = LlamaCPP(
            model_path=settings.llm_gguf,
            temperature=settings.llm_temperature,
            max_new_tokens=settings.llm_max_tokens,
            context_window=settings.llm_context_tokens,
            model_kwargs={"n_threads": os.cpu_count() or 1},
            verbose=False,
        )
        return LLMBackend(llm, os.path.basename(settings.llm_gguf), settings.llm_timeout_s)
    return None


def _describe(exc: Exception) -> str:
    name = type(exc).__name__
    return "timed out" if "timeout" in name.lower() else name
