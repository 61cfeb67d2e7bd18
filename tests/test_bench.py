"""The benchmark still runs end to end (a smoke test at a tiny size; its numbers gate nothing)."""

import json
import os
import subprocess
import sys

from assistant.evaluation.datasets import load_beir
from assistant.library.synthetic import synthetic_corpus, write_beir


def test_synthetic_corpus_is_deterministic_and_reaches_the_size():
    first, second = synthetic_corpus(120, questions=10), synthetic_corpus(120, questions=10)
    assert first.chunks >= 120
    assert [a.text for a in first.articles] == [a.text for a in second.articles]
    assert first.questions == second.questions and len(first.questions) == 10


def test_synthetic_questions_name_the_article_that_answers_them(tmp_path):
    corpus = synthetic_corpus(60, questions=8)
    texts = {a.doc_id: a.text for a in corpus.articles}
    titles = {a.doc_id: set(a.title.split()) - {"and", "discuss", "in"} for a in corpus.articles}
    for question in corpus.questions:  # names, topic and city: at least two words of the title
        assert len(set(question.rstrip("?").split()) & titles[corpus.relevant[question]]) >= 2
    write_beir(corpus, tmp_path / "beir")
    beir = load_beir(tmp_path / "beir")
    assert sorted(beir.corpus) == sorted(texts)
    assert len(beir.queries) == 8
    for qid, query in beir.queries.items():
        assert beir.qrels[qid] == {corpus.relevant[query]: 1}


def test_bench_smoke_run_in_both_store_modes(tmp_path):
    out = tmp_path / "bench"
    script = os.path.join(os.path.dirname(sys.executable), "assistant")
    done = subprocess.run(
        [script, "bench", "--sizes", "40", "--modes", "embedded,server", "--questions", "6",
         "--backends", "onnx", "--backend-chunks", "30",
         "--out", str(out), "--cache", str(tmp_path / "cache")],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads((out / "bench.json").read_text())
    assert [r["mode"] for r in report["results"]] == ["embedded", "server"]
    for result in report["results"]:
        assert result["chunks"] >= 40 and result["chunks_written"] == result["chunks"]
        assert set(result["latency_ms"]) == {"retrieve_hybrid", "search_hybrid", "search_dense",
                                             "ask_extractive", "llamaindex_dense", "floor"}  # fmt: skip
        assert all(v["p50"] > 0 and v["p95"] >= v["p50"] for v in result["latency_ms"].values())
        assert result["cold_start_s"] > 0 and result["peak_rss_mb"] > 0 and result["index_mb"] > 0
        assert result["serve_peak_rss_mb"] > 0
        assert result["ingest_ratio"] > 0
    assert [b["backend"] for b in report["backends"]] == ["torch", "onnx"]
    assert report["backends"][1]["cosine_to_torch"]["min"] > 0.9999  # float32 ONNX: the same vectors
    table = (out / "table.md").read_text()
    assert "| embedded |" in table and "| server |" in table and "| onnx |" in table
