"""Ingestion against both store modes: the embedded Chroma and a real `chroma run` server."""

import shutil
from pathlib import Path

import pytest
from conftest import SEED_DOC_ID

from assistant.cli import main
from assistant.config import Settings
from assistant.errors import AssistantError, IndexMismatchError
from assistant.library.embeddings import Embedder
from assistant.library.store import open_store
from assistant.pipeline import Assistant


def stored_chunks(assistant: Assistant) -> list[dict]:
    return assistant.store.all_chunks()[2]


def write_articles(folder: Path, count: int, sentences: int = 30) -> None:
    """Distinct multi-chunk articles, so that a run needs several flushes."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        body = " ".join(
            f"Report {i} paragraph {j} describes talks between delegation {i} and partner {j}."
            for j in range(sentences)
        )
        (folder / f"report-{i:02d}.txt").write_text(f"Report {i}\n\n{body}\n")


def test_first_run_indexes_the_seed_article(seeded):
    chunks = stored_chunks(seeded)
    assert len(chunks) == 6
    assert {c["doc_id"] for c in chunks} == {SEED_DOC_ID}
    assert seeded.store.manifest.embedding_model == "all-MiniLM-L6-v2"
    assert seeded.store.manifest.embedding_dimension == 384


def test_reingest_adds_nothing(seeded, seed_dir):
    before = sorted(c["content_hash"] + str(c["chunk_index"]) for c in stored_chunks(seeded))
    report = seeded.library.ingest([seed_dir])
    assert report.unchanged == [SEED_DOC_ID]
    assert (report.added, report.updated, report.chunks_written) == ([], [], 0)
    assert report.summary().startswith("index already up to date")
    assert sorted(c["content_hash"] + str(c["chunk_index"]) for c in stored_chunks(seeded)) == before


def test_changed_article_replaces_all_old_chunks(seeded, seed_dir):
    path = seed_dir / SEED_DOC_ID
    old_hashes = {c["content_hash"] for c in stored_chunks(seeded)}
    path.write_text(path.read_text().replace("Christopher Landau", "Jane Example"))
    report = seeded.library.ingest([seed_dir])
    assert report.updated == [SEED_DOC_ID]
    chunks = stored_chunks(seeded)
    assert len(chunks) == 6
    assert {c["content_hash"] for c in chunks}.isdisjoint(old_hashes)
    texts = " ".join(seeded.store.all_chunks()[1])
    assert "Jane Example" in texts and "Christopher Landau" not in texts


def test_reindex_reads_the_file_again_and_keeps_the_article_searchable(seeded, seed_dir):
    listed = {d["doc_id"]: d for d in seeded.library.documents()}[SEED_DOC_ID]
    assert listed["chunks"] == 6 and listed["indexed"].endswith("+00:00")
    unchanged = seeded.library.reindex(SEED_DOC_ID)  # the same text: chunked and embedded anew
    assert unchanged.updated == [SEED_DOC_ID] and unchanged.chunks_written == 6
    assert len(stored_chunks(seeded)) == 6, "replaced in place, none twice"

    path = seed_dir / SEED_DOC_ID
    path.write_text(path.read_text().replace("Christopher Landau", "Jane Example"))
    assert seeded.library.reindex(SEED_DOC_ID).updated == [SEED_DOC_ID]
    texts = " ".join(seeded.store.all_chunks()[1])
    assert "Jane Example" in texts and "Christopher Landau" not in texts
    assert seeded.library.reindex("no/such.txt") is None

    path.unlink()
    with pytest.raises(
        AssistantError, match=f"{SEED_DOC_ID}: the file it was read from .* is gone; add it again"
    ):
        seeded.library.reindex(SEED_DOC_ID)
    assert len(stored_chunks(seeded)) == 6, "a failed re-index leaves the article as it was"


def test_prune_removes_articles_whose_files_are_gone(assistant, tmp_path):
    write_articles(tmp_path / "news", 3, sentences=3)
    assistant.library.ingest([tmp_path / "news"])
    (tmp_path / "news" / "report-01.txt").unlink()
    kept = assistant.library.ingest([tmp_path / "news"])
    assert kept.removed == []
    assert "report-01.txt" in {c["doc_id"] for c in stored_chunks(assistant)}
    pruned = assistant.library.ingest([tmp_path / "news"], prune=True)
    assert pruned.removed == ["report-01.txt"]
    assert {c["doc_id"] for c in stored_chunks(assistant)} == {"report-00.txt", "report-02.txt"}


def test_same_text_under_two_names_is_indexed_once(assistant, seed_dir):
    shutil.copy(seed_dir / SEED_DOC_ID, seed_dir / "copy-of-the-article.txt")
    report = assistant.library.ingest([seed_dir])
    assert len(report.added) == 1
    assert len(report.duplicates) == 1
    duplicate, original = report.duplicates[0]
    assert {duplicate, original} == {SEED_DOC_ID, "copy-of-the-article.txt"}
    assert len(stored_chunks(assistant)) == 6


def test_bad_files_are_reported_and_the_rest_is_indexed(assistant, seed_dir):
    (seed_dir / "empty.txt").write_text("")
    (seed_dir / "binary.txt").write_bytes(b"\x00\x01\x02binary")
    (seed_dir / "latin1.txt").write_bytes("Café".encode("latin-1"))
    report = assistant.library.ingest([seed_dir, seed_dir / "nowhere.md"])
    assert report.added == [SEED_DOC_ID]
    reasons = {Path(path).name: reason for path, reason in report.failed}
    assert reasons == {
        "empty.txt": "the file is empty",
        "binary.txt": "looks like a binary file, not text",
        "latin1.txt": "is not UTF-8 text (bad byte at position 3); convert it, e.g. with iconv",
        "nowhere.md": "no such file or folder",
    }


def test_interrupted_run_leaves_an_index_that_opens_and_is_completed_next_time(
    settings: Settings, embedder: Embedder, tmp_path, monkeypatch
):
    write_articles(tmp_path / "news", 8)
    fresh = Assistant(settings.replace(collection=settings.collection + "-fresh"), embedder)
    expected = fresh.library.ingest([tmp_path / "news"]).chunks_written
    assert expected > 16

    calls = []

    class Interrupting(Embedder):
        """The real model, interrupted (as by Ctrl-C) on its third batch."""

        def encode(self, texts):
            calls.append(len(texts))
            if len(calls) == 3:
                raise KeyboardInterrupt
            return super().encode(texts)

    interrupting = Interrupting(embedder.encoder, "all-MiniLM-L6-v2", 64)
    broken = Assistant(settings.replace(ingest_batch=8), interrupting)
    with pytest.raises(KeyboardInterrupt):
        broken.library.ingest([tmp_path / "news"])
    assert 0 < open_store(settings).count() < expected

    report = Assistant(settings, embedder).library.ingest([tmp_path / "news"])
    assert report.failed == []
    chunks = open_store(settings).all_chunks()[2]
    assert len(chunks) == expected
    assert len({(c["doc_id"], c["chunk_index"]) for c in chunks}) == expected


def test_another_model_needs_a_rebuild(seeded, settings, seed_dir, tmp_path):
    # a local folder holding the same weights: a different model name, as far as the index knows
    from assistant.library.embeddings import load_embedder, resolve_model

    local_model = tmp_path / "my-model"
    local_model.symlink_to(resolve_model("all-MiniLM-L6-v2"))
    other = settings.replace(embedding_model=str(local_model))
    with pytest.raises(IndexMismatchError) as error:
        Assistant(other).search("Who is going instead?")
    assert "built with embedding model 'all-MiniLM-L6-v2'" in str(error.value)
    assert "run `assistant ingest --rebuild`" in str(error.value)
    with pytest.raises(IndexMismatchError):
        Assistant(other).library.ingest([seed_dir])
    report = Assistant(other, load_embedder(other)).library.ingest([seed_dir], rebuild=True)
    assert report.added == [SEED_DOC_ID]
    assert open_store(other).manifest.embedding_model == str(local_model)


def test_other_chunking_needs_a_rebuild(seeded, settings, embedder, seed_dir):
    with pytest.raises(IndexMismatchError) as error:
        Assistant(settings.replace(chunk_tokens=120), embedder).library.ingest([seed_dir])
    assert "run `assistant ingest --rebuild`" in str(error.value)


def test_html_article_is_ingested_with_its_metadata(assistant, tmp_path):
    from test_corpus import NEWS_PAGE

    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "ministers.html").write_text(NEWS_PAGE)
    assert assistant.library.ingest([tmp_path / "web"]).added == ["ministers.html"]
    top = assistant.search("Where will the summer summit be held?", k=1)[0].node
    assert top.metadata["doc_id"] == "ministers.html"
    assert top.metadata["published"] == "2025-12-03"
    assert top.metadata["source"] == "Daily Planet"


def test_cli_says_which_page_date_was_left_out(embedded_settings, tmp_path, capsys):
    page = tmp_path / "pages" / "harbour.html"
    page.parent.mkdir()
    sentence = "The harbour ferry runs every twenty minutes from Monday, the council said. "
    page.write_text(
        '<html><head><meta property="article:published_time" content="2024-13-45"></head>'
        f"<body><article><p>{sentence * 5}</p></article></body></html>"
    )
    code = main(["--index-dir", str(embedded_settings.index_dir), "ingest", "--quiet", str(page.parent)])
    out, err = capsys.readouterr()
    assert code == 0 and "1 added" in out
    assert f"note: {page}: published date '2024-13-45' in the page is not a date; indexed without one" in err


def test_cli_reports_each_bad_file_and_exits_non_zero(embedded_settings, seed_dir, capsys):
    (seed_dir / "empty.md").write_text("   ")
    code = main(["--index-dir", str(embedded_settings.index_dir), "ingest", "--quiet", str(seed_dir)])
    out, err = capsys.readouterr()
    assert code == 1
    assert f"failed: {seed_dir / 'empty.md'}: the file is empty" in err
    assert "1 added" in out and "1 failed" in out
    code = main(
        ["--index-dir", str(embedded_settings.index_dir), "ingest", "--quiet", str(seed_dir / "x.txt")]
    )
    assert code == 1
    assert "no such file or folder" in capsys.readouterr().err


def test_upload_names_that_clean_alike_stay_two_articles(assistant):
    text = "Ferry news\n\nThe harbour ferry runs every {} minutes from Monday."
    names = ["a b.txt", "a-b.txt", "日本語.txt", "Ελληνικά.txt"]
    ids = []
    for n, name in enumerate(names):
        report = assistant.library.add_upload(name, text.format(10 + n).encode())
        assert report.added, name
        ids.append(report.added[0])
    assert len(set(ids)) == 4 and "uploads/a-b.txt" in ids
    assert all(i.startswith("uploads/") and i.endswith(".txt") for i in ids)
    again = assistant.library.add_upload("a b.txt", text.format(99).encode())
    assert again.updated == [ids[0]], "the same name updates its article"


def test_a_duplicate_upload_keeps_no_file_and_a_removed_article_stays_removed(assistant):
    text = b"Ferry news\n\nThe harbour ferry runs every twenty minutes from Monday."
    assistant.library.add_upload("other.txt", b"Bus news\n\nThe night bus stops at the harbour.")
    assert assistant.library.add_upload("first.txt", text).added == ["uploads/first.txt"]
    second = assistant.library.add_upload("second.txt", text)
    assert second.duplicates and not second.added
    assert assistant.library.uploads.read("second.txt") is None
    assert assistant.library.remove_document("uploads/first.txt")
    assert assistant.library.uploads.read("first.txt") is None
    assistant.library.ingest([])  # a later ingest indexes the kept uploads again
    indexed = {d["doc_id"] for d in assistant.library.documents()}
    assert not indexed & {"uploads/first.txt", "uploads/second.txt"}


def test_an_update_cut_short_serves_one_version_and_citations_fit_the_text(assistant, tmp_path):
    """The steps of an update, stopped where `kill -9` would leave them: the new version's chunks
    written beside the old ones, then its full-text record, and no deletion of the old chunks."""
    from llama_index.core.schema import MetadataMode

    from assistant.library.chunking import split_article
    from assistant.library.corpus import parse_article

    old = b"Ferry news\n\nThe harbour ferry leaves the old pier every twenty minutes."
    new = b"Ferry news\n\nThe harbour ferry leaves the new pier every half hour from Monday."
    assert assistant.library.add_upload("ferry.txt", old).added == ["uploads/ferry.txt"]
    article = parse_article(new, "uploads/ferry.txt", suffix=".txt")
    nodes = split_article(article, chunk_tokens=assistant.settings.chunk_tokens, overlap_tokens=0)
    for node, vector in zip(
        nodes,
        assistant.embedder.encode([n.get_content(metadata_mode=MetadataMode.EMBED) for n in nodes]),
        strict=True,
    ):
        node.embedding = vector
    store = assistant.store
    store.upsert(nodes)  # the new chunks are in, the record still names the old version
    store.touch()
    assistant.keywords.refresh()  # a reader that has seen them (readers look once a second)

    def served() -> set[str]:
        passages = assistant.search("When does the harbour ferry leave the pier?", k=5)
        return {p.node.get_content() for p in passages if p.node.metadata["doc_id"] == "uploads/ferry.txt"}

    assert all("old pier" in text for text in served()) and served()
    store.put_documents([article])  # the record names the new version; the old chunks are still there
    store.touch()  # written with the record, as an ingestion does
    assistant.keywords.refresh()
    assert all("new pier" in text for text in served()) and served()
    answer = assistant.ask("When does the harbour ferry leave the pier?")
    shown = assistant.library.document("uploads/ferry.txt")["text"]
    for citation in answer.citations:
        assert shown[citation.start_char : citation.end_char] == citation.quote


def test_every_chroma_client_opened_is_closed(embedded_settings, seed_dir, embedder, monkeypatch):
    """Each ingestion and upload opens a writer's client and closes it; the reader's is closed with
    the assistant (before, every upload left one open)."""
    import assistant.library.store as store_module

    opened = []
    connect = store_module.connect

    def recording(settings, *, create):
        opened.append(connect(settings, create=create))
        return opened[-1]

    monkeypatch.setattr(store_module, "connect", recording)
    assistant = Assistant(embedded_settings, embedder)
    assistant.library.ingest([seed_dir])
    assert assistant.search("Who represents the U.S.?", k=1)
    assistant.library.add_upload("ferry.txt", b"Harbour news\n\nThe harbour ferry runs every hour.")
    assistant.library.add_upload("ferry-copy.txt", b"Harbour news\n\nThe harbour ferry runs every hour.")
    writers = [client for client in opened if client is not assistant.store.client]
    assert len(writers) == 3 and all(client._target._closed for client in writers)
    assert not assistant.store.client._target._closed  # the reader stays open for the next question
    assistant.close()
    assert all(client._target._closed for client in opened)
    assert assistant.search("Who represents the U.S.?", k=1)  # opened again when needed


def test_an_article_record_written_before_chunk_counts_were_kept_is_counted_from_its_chunks(seeded):
    documents = seeded.store.documents
    page = documents.get(include=["metadatas", "documents"])
    older = [{k: v for k, v in meta.items() if k != "chunks"} for meta in page["metadatas"]]
    documents.delete(ids=page["ids"])
    documents.add(
        ids=page["ids"], embeddings=[[0.0]] * len(older), documents=page["documents"], metadatas=older
    )
    (listed,) = seeded.library.documents()
    assert listed["chunks"] == 6


def test_uploads_kept_in_the_database_outlive_a_rebuild_and_an_earlier_folder_is_carried_over(
    assistant, seed_dir
):
    legacy = assistant.settings.uploads_dir  # where an earlier version kept them, as files
    legacy.mkdir(parents=True)
    (legacy / "old.txt").write_bytes(b"Old news\n\nThe old ferry left at noon.")
    assistant.library.add_upload("new.txt", b"New news\n\nThe new ferry leaves at dawn.")
    assert not legacy.exists() and (legacy.parent / "uploads.imported" / "old.txt").is_file()
    report = assistant.library.ingest([seed_dir], rebuild=True)
    assert {SEED_DOC_ID, "uploads/new.txt", "uploads/old.txt"} <= set(report.added)
    assert assistant.library.reindex("uploads/old.txt").chunks_written == 1
    assert "dawn" in assistant.search("When does the new ferry leave?", k=1)[0].node.get_content()


def test_ingest_and_watch_lower_their_priority_before_loading_anything(
    embedded_settings, seed_dir, monkeypatch
):
    """Bulk ingestion yields the CPU to replicas serving on the same cores; questions do not."""
    import assistant.cli as cli
    import assistant.pipeline as pipeline

    events: list[str] = []
    monkeypatch.setattr(cli.os, "nice", lambda n: events.append(f"nice {n}"))
    constructed = pipeline.Assistant.__init__
    monkeypatch.setattr(
        pipeline.Assistant,
        "__init__",
        lambda self, *a, **kw: events.append("load") or constructed(self, *a, **kw),
    )
    index = ["--index-dir", str(embedded_settings.index_dir)]
    monkeypatch.setenv("ASSISTANT_INGEST_NICE", "10")
    assert main([*index, "ingest", "--quiet", str(seed_dir)]) == 0
    assert main([*index, "watch", "--once"]) == 0
    assert main([*index, "search", "Rubio"]) == 0
    assert events == ["nice 10", "load", "nice 10", "load", "load"]
    monkeypatch.setenv("ASSISTANT_INGEST_NICE", "0")
    events.clear()
    assert main([*index, "ingest", "--quiet", str(seed_dir)]) == 0
    assert events == ["load"]
