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


RETRIEVERS = tuple(r.value for r in Retriever)
ANSWER_MODES = tuple(m.value for m in AnswerMode)
