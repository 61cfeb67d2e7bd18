"""Search on the seed article, in both store modes, through the pipeline and the CLI."""

import json
import os
import shutil
import subprocess
import sys

import pytest
from conftest import SEED_DOC_ID
from llama_index.core.schema import MetadataMode

from assistant.answering.retrieval import Filters, reciprocal_rank_fusion
from assistant.cli import main
from assistant.errors import AssistantError, IndexMissingError
from assistant.pipeline import Assistant

# question -> words found only in the passage that answers it
SEED_QUESTIONS = {
    "Who will represent the U.S. at the NATO meeting?": "Christopher Landau",
    "Who did Rubio speak with the day before the meeting?": "Johann Wadephul",
    "Who is Oana Lungescu?": "a former NATO spokesperson",
    "What does the leaked peace plan say about admitting new members?": "28-point peace plan",
    "Which countries expressed concerns about the draft?": "Germany, France, and Italy",
    "Why did the State Department say attending every meeting is unrealistic?": "would be unrealistic",
    "Who took the photo of Rubio?": "Jacquelyn Martin",
    "What could signs of U.S. distancing from the alliance lead to?": "long-term ramifications",
}


@pytest.mark.parametrize("question", SEED_QUESTIONS)
def test_passage_with_the_answer_ranks_first(seeded, question):
    results = seeded.search(question, k=3)
    assert SEED_QUESTIONS[question] in results[0].node.get_content()


def test_results_carry_offsets_into_the_article(seeded, seed_dir):
    text = (seed_dir / SEED_DOC_ID).read_text()
    for result in seeded.search("NATO allies and Ukraine", k=6):
        meta = result.node.metadata
        assert result.node.get_content() in text
        assert meta["end_char"] - meta["start_char"] == len(result.node.get_content())


@pytest.mark.parametrize("retriever", ["dense", "bm25", "hybrid"])
def test_each_retriever_returns_best_first(seeded, retriever):
    results = seeded.search("Christopher Landau represents the U.S.", k=4, retriever=retriever)
    scores = [r.score for r in results]
    assert scores == sorted(scores, reverse=True)
    assert "Christopher Landau" in results[0].node.get_content()


@pytest.mark.parametrize("retriever", ["dense", "bm25", "hybrid"])
def test_text_a_model_reads_holds_no_score(seeded, retriever):
    """The scores stay in the metadata for display but out of what a reranker (EMBED) or an LLM reads."""
    results = seeded.search("Who will represent the U.S. at the NATO meeting?", k=4, retriever=retriever)
    assert results
    for result in results:
        node = result.node
        scores = [v for v in node.metadata["scores"].values() if v is not None]
        assert scores, "the scores are kept on the node"
        for mode in (MetadataMode.EMBED, MetadataMode.LLM):
            content = node.get_content(metadata_mode=mode)
            assert node.get_content() in content and node.metadata["title"] in content, mode
            assert "score" not in content.lower(), mode
            assert not any(str(v) in content or f"{v:.3f}" in content for v in scores), mode


def test_filters_restrict_articles_and_dates(seeded, tmp_path):
    (tmp_path / "more").mkdir()
    (tmp_path / "more" / "summit.md").write_text(
        "---\npublished: 2025-06-24\nsource: Example Wire\n---\n# Summit in The Hague\n\n"
        "NATO leaders met in The Hague and agreed to raise defence spending to five percent."
    )
    seeded.library.ingest([tmp_path / "more"])
    question = "What did NATO leaders agree in The Hague?"
    for retriever in ("dense", "bm25", "hybrid"):
        only_seed = seeded.search(question, retriever=retriever, filters=Filters(doc_ids=(SEED_DOC_ID,)))
        assert {r.node.metadata["doc_id"] for r in only_seed} == {SEED_DOC_ID}
        dated = seeded.search(question, retriever=retriever, filters=Filters(since="2025-01-01"))
        assert {r.node.metadata["doc_id"] for r in dated} == {"summit.md"}
        too_early = Filters(until="2024-12-31")
        assert seeded.search(question, retriever=retriever, filters=too_early) == []
        wire = seeded.search(question, retriever=retriever, filters=Filters(sources=("Example Wire",)))
        assert [r.node.metadata["doc_id"] for r in wire] == ["summit.md"]


def test_keyword_index_follows_new_articles(seeded, tmp_path):
    assert seeded.search("Zanzibar ferry timetable", retriever="bm25") == []
    (tmp_path / "more").mkdir()
    (tmp_path / "more" / "ferry.txt").write_text("Ferry news\nThe Zanzibar ferry timetable changes in May.")
    Assistant(seeded.settings, seeded.embedder).library.ingest([tmp_path / "more"])  # another process
    seeded.keywords._checked_at = float("-inf")  # skip the one-second recheck interval
    seeded.search("Zanzibar ferry timetable", retriever="bm25")  # notices the change, updates aside
    seeded.keywords.wait()
    top = seeded.search("Zanzibar ferry timetable", retriever="bm25", k=1)
    assert top[0].node.metadata["doc_id"] == "ferry.txt"


def test_keyword_index_is_rebuilt_from_the_collection_alone(seeded, settings):
    seeded.search("Landau", retriever="bm25")
    shutil.rmtree(settings.index_dir / "keyword")
    fresh = Assistant(settings, seeded.embedder)
    assert "Christopher Landau" in fresh.search("Landau", retriever="bm25", k=1)[0].node.get_content()
    assert (settings.index_dir / "keyword").is_dir()


def test_reciprocal_rank_fusion_weights_and_ties():
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["c", "b"]], (1.0, 2.0), 60)
    assert [item for item, _ in fused] == ["c", "b", "a"]
    assert fused[0][1] == pytest.approx(1 / 63 + 2 / 61)
    assert reciprocal_rank_fusion([["x", "y"], ["y", "x"]], (1.0, 1.0), 60)[0][0] == "x"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "the question is empty"),
        (" \t\n\x00 ", "the question is empty"),
        ("?" * 5000, "is 5,000 characters"),
    ],
)
def test_bad_queries_are_refused_with_a_message(seeded, query, message):
    with pytest.raises(AssistantError) as error:
        seeded.search(query)
    assert message in str(error.value)


def test_search_without_an_index_says_to_ingest(settings, embedder):
    with pytest.raises(IndexMissingError) as error:
        Assistant(settings, embedder).search("anything")
    assert "run `assistant ingest`" in str(error.value)


def test_cli_search_on_an_empty_index_dir(embedded_settings, capsys):
    code = main(["--index-dir", str(embedded_settings.index_dir), "search", "Who is going?"])
    assert code == 2
    assert (
        capsys.readouterr().err
        == f"error: no index in {embedded_settings.index_dir}; run `assistant ingest` first\n"
    )
    assert not embedded_settings.index_dir.exists(), "a search must not create an index"


def test_cli_ingest_then_search_json_offline(tmp_path, seed_dir):
    """The console script end to end, as a user runs it, with the network switched off for Hugging Face."""
    env = {**os.environ, "ASSISTANT_INDEX_DIR": str(tmp_path / "index"), "HF_HUB_OFFLINE": "1"}
    script = os.path.join(os.path.dirname(sys.executable), "assistant")
    ingest = subprocess.run([script, "ingest", str(seed_dir)], env=env, capture_output=True, text=True)
    assert ingest.returncode == 0, ingest.stderr
    assert "1 added" in ingest.stdout
    search = subprocess.run(
        [script, "search", "--json", "Who will represent the U.S. at the NATO meeting?"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert search.returncode == 0, search.stderr
    results = json.loads(search.stdout)
    assert "Christopher Landau" in results[0]["text"]
    for field in ("doc_id", "title", "text", "start_char", "end_char", "score"):
        assert field in results[0]
    article = (seed_dir / SEED_DOC_ID).read_text().split("---\n", 2)[2].strip()
    assert article[results[0]["start_char"] : results[0]["end_char"]] == results[0]["text"]
    assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)


def test_reranker_reorders_candidates_with_a_cross_encoder(seeded, tmp_path):
    """No cross-encoder weights are available offline, so this one is built from the packaged MiniLM
    with an untrained scoring head: it checks the plumbing, not ranking quality."""
    from sentence_transformers import CrossEncoder

    from assistant.library.embeddings import resolve_model

    folder = tmp_path / "cross-encoder"
    CrossEncoder(resolve_model("all-MiniLM-L6-v2"), num_labels=1, device="cpu").save(str(folder))
    settings = seeded.settings.replace(reranker=str(folder), rerank_candidates=6)
    reranked = Assistant(settings, seeded.embedder).search("Who is Oana Lungescu?", k=3)
    assert len(reranked) == 3
    scores = [r.score for r in reranked]
    assert scores == sorted(scores, reverse=True)
    assert all("retrieval_score" in r.node.metadata for r in reranked)
    for result in reranked:  # the reranker's bookkeeping stays out of what the LLM reads
        content = result.node.get_content(metadata_mode=MetadataMode.LLM)
        assert "retrieval_score" not in content and "scores" not in content


def test_unloadable_reranker_names_the_setting(seeded, tmp_path):
    settings = seeded.settings.replace(reranker=str(tmp_path / "missing"))
    with pytest.raises(AssistantError) as error:
        Assistant(settings, seeded.embedder).search("Who is Oana Lungescu?")
    assert "set ASSISTANT_RERANKER" in str(error.value)


def test_date_filters_are_calendar_dates_or_spans_back_from_today():
    import datetime as dt

    from assistant.errors import DateFilterError

    assert Filters(since="2024-02-29", until="2024-12-31").since == "2024-02-29"
    week = Filters(since="7d", until="0d")
    assert week.since == (dt.date.today() - dt.timedelta(days=7)).isoformat()
    assert week.until == dt.date.today().isoformat()
    assert Filters(since="2W").since == (dt.date.today() - dt.timedelta(days=14)).isoformat()
    for bad in ("2024-13-45", "2023-02-29", "2024-5-1", "yesterday"):
        with pytest.raises(DateFilterError) as error:
            Filters(until=bad)
        assert (
            str(error.value)
            == f"until {bad!r} is not a date in the form YYYY-MM-DD, or days or weeks back (7d, 2w)"
        )
        assert str(error.value.named("--until")).startswith("--until ")


def test_a_keyword_cache_that_cannot_be_written_or_read_is_said_in_the_log(tmp_path, caplog):
    import logging

    from assistant.library.keyword import build_keyword_index
    from assistant.library.keyword_cache import read_folder, write_folder

    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")

    class Chunks:
        def recorded_versions(self):
            return {"a": "h1", "b": "h2"}

        def all_chunks(self):
            return (
                ["c1", "c2"],
                ["The harbour ferry runs.", "The night bus stops."],
                [{"doc_id": "a", "content_hash": "h1"}, {"doc_id": "b", "content_hash": "h2"}],
            )

    index = build_keyword_index(Chunks(), "gen-1")
    with caplog.at_level(logging.WARNING, logger="assistant.library.keyword"):
        write_folder(index, blocked / "keyword")
        damaged = tmp_path / "damaged"
        damaged.mkdir()
        (damaged / "chunks.json").write_text("{not json")
        assert read_folder(damaged) is None
        assert read_folder(tmp_path / "absent") is None
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2
    assert messages[0].startswith("keyword index cache not written to ")
    assert "unreadable" in messages[1] and "rebuilding it" in messages[1]
