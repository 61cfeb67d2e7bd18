"""Question answering over news articles, with every answer pointing at the passages behind it.

Importing the package makes the libraries it uses work offline: tiktoken and NLTK read the data that
llama-index-core ships, the Hugging Face hub is not contacted, and telemetry is off. Each variable is
only set when the user has not set it already.
"""

import os
from pathlib import Path


def _offline_defaults() -> None:
    import importlib.util

    # found without importing llama-index (a second of start-up), so that `assistant --help` is quick
    spec = importlib.util.find_spec("llama_index.core")
    static = Path(spec.origin if spec and spec.origin else "").parent / "_static"
    defaults = {
        "TIKTOKEN_CACHE_DIR": str(static / "tiktoken_cache"),
        "NLTK_DATA": str(static / "nltk_cache"),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "ANONYMIZED_TELEMETRY": "False",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "TOKENIZERS_PARALLELISM": "false",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "TRANSFORMERS_VERBOSITY": "error",
    }
    for name, value in defaults.items():
        os.environ.setdefault(name, value)


_offline_defaults()

__version__ = "0.1.0"
