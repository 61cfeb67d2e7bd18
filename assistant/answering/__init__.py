"""The question path: passages found (retrieval), read for what the question asks (grounding, dates,
names, places, relations, constraints, entities, candidates) and answered with citations, offline
(extractive) or by an LLM (prompts, llm) whose sentences are checked (answer)."""
