"""The library of articles: files and pages are read (corpus), cut into chunks (chunking), embedded
(encoders, embeddings) and kept in Chroma (chroma, store) by the ingestion run (ingest), with a BM25
index beside it (keyword); `articles.Library` is every change to them in a running process and
`resources.Resources` what the question path shares with it."""
