"""Measuring the assistant's speed: the ingestion and query benchmark (`assistant bench`: benchmark,
report) and the load run against a running server (`python -m assistant.bench.loadtest`)."""
