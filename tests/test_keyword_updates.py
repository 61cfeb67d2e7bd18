"""The keyword index under live ingestion: another process's writes are taken in by reading only the
articles that changed, queries never wait for it, and hybrid search serves passages from the index's
own copy of the chunks."""

import threading
from pathlib import Path

import pytest
from conftest import SEED_DOC_ID

from assistant.library.store import Store
from assistant.pipeline import Assistant

FERRY = "Ferry news\nThe Zanzibar ferry timetable changes in May."


def _writer(seeded: Assistant) -> Assistant:
    """Another process on the same index (its own store client and keyword index)."""
    return Assistant(seeded.settings, seeded.embedder)


def _add(writer: Assistant, folder: Path, name: str, text: str) -> None:
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text)
    writer.library.ingest([folder])


def _top_doc(assistant: Assistant, query: str, retriever: str = "bm25") -> str | None:
    results = assistant.search(query, retriever=retriever, k=1)
    return results[0].node.metadata["doc_id"] if results else None


def _notice(assistant: Assistant) -> None:
    """Let the next query check the collection (past the one-second interval), then wait for the
    update it starts."""
    assistant.keywords._checked_at = float("-inf")
    assistant.search("anything", retriever="bm25")
    assistant.keywords.wait()


def test_queries_go_on_with_the_old_index_while_an_update_reads_only_the_changed_article(
    seeded, tmp_path, monkeypatch
):
    seeded.keywords.get()
    _add(_writer(seeded), tmp_path / "more", "ferry.txt", FERRY)

    read: list[list[str]] = []
    release = threading.Event()
    chunks_of = seeded.store.chunks_of

    def held_back(doc_ids):
        read.append(list(doc_ids))
        release.wait(30)
        return chunks_of(doc_ids)

    def everything():
        raise AssertionError("a small change must not read every chunk")

    monkeypatch.setattr(seeded.store, "chunks_of", held_back)
    monkeypatch.setattr(seeded.store, "all_chunks", everything)
    seeded.keywords._checked_at = float("-inf")
    # the update is held back until `release`: these queries are answered from the old index
    assert _top_doc(seeded, "Zanzibar ferry timetable") is None
    assert _top_doc(seeded, "Landau") == SEED_DOC_ID
    release.set()
    seeded.keywords.wait()
    assert read == [["ferry.txt"]]
    assert _top_doc(seeded, "Zanzibar ferry timetable") == "ferry.txt"


def test_an_update_drops_old_versions_and_removed_articles(seeded, tmp_path):
    seeded.keywords.get()
    writer = _writer(seeded)
    _add(writer, tmp_path / "more", "ferry.txt", FERRY)
    _notice(seeded)
    assert _top_doc(seeded, "timetable") == "ferry.txt"

    _add(writer, tmp_path / "more", "ferry.txt", "Ferry news\nThe Zanzibar ferry now sails at dawn.")
    _notice(seeded)
    assert _top_doc(seeded, "timetable") is None
    assert _top_doc(seeded, "dawn") == "ferry.txt"

    assert writer.library.remove_document("ferry.txt")
    _notice(seeded)
    assert _top_doc(seeded, "dawn") is None
    assert _top_doc(seeded, "Landau") == SEED_DOC_ID


def test_an_upload_reads_only_its_article_and_is_searchable_when_it_returns(seeded, monkeypatch):
    seeded.keywords.get()
    articles = Store.articles

    def only_touched(self, doc_ids=None):
        assert doc_ids, "an upload reads only the articles it touches"
        return articles(self, doc_ids)

    monkeypatch.setattr(Store, "articles", only_touched)
    monkeypatch.setattr(Store, "document_ids", lambda self: pytest.fail("not every doc id either"))
    monkeypatch.setattr(Store, "all_chunks", lambda self: pytest.fail("nor every chunk"))
    seeded.library.add_upload("ferry.txt", FERRY.encode())
    assert _top_doc(seeded, "Zanzibar ferry timetable") == "uploads/ferry.txt"


def test_a_restart_catches_up_from_an_older_cached_copy_without_reading_every_chunk(
    seeded, tmp_path, monkeypatch
):
    seeded.keywords.get()  # built in full and cached
    _add(_writer(seeded), tmp_path / "more", "ferry.txt", FERRY)
    monkeypatch.setattr(Store, "all_chunks", lambda self: pytest.fail("the cached copy is enough"))
    restarted = _writer(seeded)
    assert _top_doc(restarted, "Zanzibar ferry timetable") == "ferry.txt"
    assert _top_doc(restarted, "Landau") == SEED_DOC_ID


def test_hybrid_search_takes_passages_from_the_index_and_new_chunks_from_the_store(
    seeded, tmp_path, monkeypatch
):
    seeded.keywords.get()
    fetched: list[list[str]] = []
    get_nodes = seeded.store.get_nodes

    def counted(ids):
        fetched.append(list(ids))
        return get_nodes(ids)

    monkeypatch.setattr(seeded.store, "get_nodes", counted)
    assert _top_doc(seeded, "Who is going to Brussels instead of Rubio?", "hybrid") == SEED_DOC_ID
    assert fetched == []  # every passage came from the index's copy

    # written by another process and not yet noticed: the dense ranking finds it, the store has it
    _add(_writer(seeded), tmp_path / "more", "ferry.txt", FERRY)
    assert _top_doc(seeded, "Zanzibar ferry timetable", "hybrid") == "ferry.txt"
    assert len(fetched) == 1 and fetched[0][0].startswith("ferry.txt::")


def test_a_held_chunk_is_the_node_the_store_gives(seeded):
    """The keyword index's copy of a chunk decodes to the node Chroma's own reader makes of it."""
    index = seeded.keywords.get()
    ids = [chunk.id for chunk in index.chunks]
    stored = seeded.store.get_nodes(ids)
    held = index.nodes(ids)
    assert ids and held.keys() == stored.keys()
    for chunk_id, node in held.items():
        assert node == stored[chunk_id] and node.metadata == stored[chunk_id].metadata


@pytest.mark.parametrize("seed", range(5))
def test_keyword_search_ranks_as_bm25s_scores_do(seed, monkeypatch):
    """Scoring from the query words' postings, the common words only where they can matter, gives
    bm25s's own scores and ranking, masked or not."""
    import numpy as np

    from assistant.library.keyword import Chunk, KeywordIndex

    rng = np.random.default_rng(seed)
    vocab = {f"w{i}": i for i in range(200)}
    zipf = 1 / np.arange(1, 201)
    words = [rng.choice(200, rng.integers(1, 40), p=zipf / zipf.sum()) for _ in range(500)]
    chunks = [Chunk(f"c{n}", "", "{}", f"d{n}", "", "", 0, held) for n, held in enumerate(words)]
    index = KeywordIndex("g", chunks, vocab, {}, unrecorded=True)
    skipped = []
    skipping = index._best_skipping
    monkeypatch.setattr(index, "_best_skipping", lambda *a: skipped.append(skipping(*a)) or skipped[-1])
    mask = rng.random(len(chunks)) < 0.5
    for _ in range(40):
        # a common word or two, rarer ones, and one the index does not hold
        words = [f"w{i}" for i in [*rng.integers(0, 3, 2), *rng.integers(3, 200, 2), 250]]
        ids = [vocab[w] for w in words if w in vocab]
        expected = index.bm25.get_scores(ids)
        for rows in (None, mask):
            found = index.search(" ".join(words), 5, rows)
            wanted = expected if rows is None else np.where(rows, expected, 0.0)
            best = sorted((float(s) for s in wanted if s > 0), reverse=True)[:5]
            assert [s for _, s in found] == pytest.approx(best, rel=1e-5)  # bm25s adds in float32
            for chunk_id, score in found:
                assert score == pytest.approx(wanted[int(chunk_id[1:])], rel=1e-5)
    assert any(result is not None for result in skipped)  # the common words' postings were skipped


def test_words_are_those_bm25s_tokenizer_gives():
    """The index and its questions are split into the words bm25s's own tokenizer gives (so an index
    built by either splits the same way): case, accents, apostrophes, digits, stopwords."""
    import random

    from assistant.library.keyword import bm25s, tokenize

    rng = random.Random(7)
    letters = "aAbBeEnNsStT019 .,;:!?'\"-_\n\téßüÄ’—"
    stopwords = [*bm25s().stopwords.STOPWORDS_EN[:40], "The", "NATO", "Rubio’s"]
    texts = ["The U.S. and NATO: Rubio’s absence, 2019's café naïve a_b __ x", ""]
    texts += ["".join(rng.choice(letters) for _ in range(rng.randint(0, 60))) for _ in range(500)]
    texts += [" ".join(rng.choice(stopwords) for _ in range(8)) for _ in range(100)]
    expected = bm25s().tokenize(texts, stopwords="en", return_ids=False, show_progress=False)
    assert tokenize(texts) == expected
    assert tokenize(texts[:1]) == [["nato", "rubio", "absence", "2019", "café", "naïve", "a_b", "__"]]


def test_kth_largest_score_with_many_ties_and_long_arrays():
    """The k-th best score bounded from a sample first is exactly the k-th best, ties and all."""
    import numpy as np

    from assistant.library.keyword import _kth_largest

    rng = np.random.default_rng(3)
    for n, k, distinct in [(5, 5, 3), (400, 5, 2), (20_000, 30, 500), (20_000, 30, 20_000), (3_000, 1, 7)]:
        values = rng.integers(0, distinct, n).astype(np.float32) / 7
        assert _kth_largest(values, k) == float(np.sort(values)[-k])
