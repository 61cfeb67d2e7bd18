"""The names of the assistant's ways of working, kept apart from the settings so that the command
line can offer them without loading anything else."""

from enum import StrEnum


class Retriever(StrEnum):
    """How passages are found: dense vectors and BM25 keywords fused, or either alone."""

    HYBRID = "hybrid"
    DENSE = "dense"
    BM25 = "bm25"


class AnswerMode(StrEnum):
    """Who writes the answer: the offline answerer quoting sentences, or an LLM."""

    EXTRACTIVE = "extractive"
    LLM = "llm"


class Reader(StrEnum):
    """How the offline answerer reads passages: the rules written for answer kinds and relations,
    or the general reader (parses stored at ingest, a fitted model; `answering/reader.py`)."""

    RULES = "rules"
    GENERAL = "general"


RETRIEVERS = tuple(r.value for r in Retriever)
READERS = tuple(r.value for r in Reader)
ANSWER_MODES = tuple(m.value for m in AnswerMode)
