"""Evaluation runs end to end: question sets, the report, comparison, gates, BEIR folders."""

import json
import math
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
import pytrec_eval
from conftest import REPO, SEED_DOC_ID, cli

from assistant.cli import main
from assistant.evaluation.datasets import EvalCase, load_beir, load_question_set, load_rag_dataset
from assistant.evaluation.runner import HIGHER_IS_BETTER, check_gate, compare, score_answer

SEED_SET = REPO / "evals" / "seed.jsonl"


def test_seed_set_is_as_the_issue_asks():
    cases, problems = load_question_set(SEED_SET)
    assert problems == []
    assert len(cases) >= 40
    assert sum(not c.answerable for c in cases) >= 10
    assert sum(bool(c.extra.get("paraphrase")) for c in cases) >= 10
    assert sum(bool(c.history) for c in cases) >= 3
    article = (REPO / "seeds" / "us-nato-rubio-skips-brussels-meeting.txt").read_text()
    sections = {c.extra.get("section") for c in cases if c.answerable}
    assert sections >= {"", "The Decision Not to Attend", "Unconventional Absence",
                        "The Potential Motivations Behind the Move", "Reactions from European Leaders",
                        "The Importance of Communication"}  # fmt: skip
    for case in cases:
        assert all(g in article for g in case.gold_passages), case.id


def test_bad_lines_are_reported_with_their_number_and_unknown_fields_kept(tmp_path):
    path = tmp_path / "set.jsonl"
    path.write_text(
        '{"question": "Who is Oana Lungescu?", "answers": ["spokesperson"], "tag": "x"}\n'
        "{not json}\n"
        '{"answers": ["no question"]}\n'
        "\n"
        '{"question": "Q?", "answers": "not a list"}\n'
    )
    cases, problems = load_question_set(path)
    assert [c.question for c in cases] == ["Who is Oana Lungescu?"]
    assert cases[0].extra == {"tag": "x"}
    assert problems[0].startswith(f"{path}:2: invalid JSON")
    assert problems[1] == f"{path}:3: no question"
    assert problems[2] == f"{path}:5: answers must be a list of strings"


def test_rag_dataset_files_are_read(tmp_path):
    path = tmp_path / "rag_dataset.json"
    path.write_text(json.dumps({"examples": [
        {"query": "Who goes?", "reference_answer": "Landau", "reference_contexts": ["Landau goes."],
         "query_by": {"model_name": "x", "type": "ai"}},
    ]}))  # fmt: skip
    [case] = load_rag_dataset(path)
    assert (case.question, case.answers, case.gold_passages) == ("Who goes?", ["Landau"], ["Landau goes."])


@pytest.fixture
def seed_index(embedded_settings, embedder, seed_dir):
    from assistant.pipeline import Assistant

    Assistant(embedded_settings, embedder).library.ingest([seed_dir])
    return embedded_settings.index_dir


def test_eval_json_prints_only_the_summary_and_writes_the_run(seed_index, tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["--index-dir", str(seed_index), "eval", str(SEED_SET), "--json", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0
    summary = json.loads(captured.out)
    [run] = summary["runs"]
    assert run["config"] == "hybrid/extractive/k5" and run["questions"] == 57
    for name in ("hit@1", "hit@k", "recall@k", "mrr@10", "ndcg@10", "answer_match", "exact_match", "f1",
                 "citation_validity", "citation_precision", "refusal_accuracy"):  # fmt: skip
        assert 0.0 <= run["metrics"][name] <= 1.0, name
    assert run["metrics"]["hit@1"] <= run["metrics"]["hit@k"]
    assert summary["index_dir"] == str(seed_index) and summary["collection"] == "articles"
    assert set(run["refusals"]) == {"false_refusals", "false_answers"}
    assert {"p50", "p95"} <= set(run["latency_ms"]["retrieve"])
    assert summary["manifest"]["embedding_model"] == "all-MiniLM-L6-v2"
    assert summary["prompt_versions"] == {"answer": 1, "condense": 1, "refusal": 1}
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 57 and rows[0]["retrieved"] and "metrics" in rows[0] and "timings_ms" in rows[0]
    assert json.loads((out / "summary.json").read_text()) == summary
    report = (out / "report.html").read_text()
    assert "<svg" in report and "<details>" in report and "<mark>" in report


def extractive_answer(text: str) -> SimpleNamespace:
    """An answer as score_answer reads it: pure logic, so a plain stand-in will do."""
    return SimpleNamespace(answer=text, refused=False, sentences=[], citations=[])


def test_score_answer_credits_each_gold_article_once_and_reports_hit_at_1():
    case = EvalCase(question="Who goes?", answers=["Landau"], gold_doc_ids=["a.txt"])
    gold_chunk = {"doc_id": "a.txt", "text": "Landau goes."}
    passages = [{"doc_id": "b.txt", "text": "Rubio stays."}, gold_chunk, gold_chunk, gold_chunk]
    scores = score_answer(case, extractive_answer("Landau goes."), passages, k=5)
    assert scores["hit@1"] == 0.0 and scores["hit@k"] == 1.0
    # three chunks of the one gold article: credited once, at rank 2
    assert scores["ndcg@10"] == pytest.approx(1 / math.log2(3))
    assert "hit@1" in HIGHER_IS_BETTER


def test_score_answer_with_answer_strings_as_gold_stays_within_1():
    case = EvalCase(question="Who goes?", answers=["Landau"])
    passages = [{"doc_id": "a.txt", "text": f"Landau goes, part {i}."} for i in range(10)]
    scores = score_answer(case, extractive_answer("Landau goes."), passages, k=5)
    assert scores["hit@1"] == 1.0 and scores["ndcg@10"] == 1.0 and scores["mrr@10"] == 1.0


def test_eval_names_the_index_it_scores_and_warns_of_articles_the_set_never_names(
    seed_index, embedded_settings, embedder, tmp_path
):
    from assistant.pipeline import Assistant

    (tmp_path / "more").mkdir()
    (tmp_path / "more" / "ferry.txt").write_text("Ferry news\nThe Zanzibar ferry timetable changes in May.")
    assistant = Assistant(embedded_settings, embedder)
    assistant.library.ingest([tmp_path / "more"])
    chunks = assistant.store.count()
    first = json.loads(SEED_SET.read_text().splitlines()[0])
    with_gold = tmp_path / "with-gold.jsonl"
    with_gold.write_text(json.dumps({**first, "gold_doc_ids": [SEED_DOC_ID]}) + "\n")
    result = cli("--index-dir", str(seed_index), "eval", str(with_gold), "--out", str(tmp_path / "a"))
    assert result.returncode == 0, result.stderr
    scoring = f"scoring collection 'articles' in {seed_index} ({chunks:,} chunks, 2 articles)"
    warning = (
        "warning: the set's gold_doc_ids never name 1 of the 2 indexed articles; "
        "is this the index the set was written for?"
    )
    lines = result.stderr.splitlines()
    assert scoring in lines and warning in lines
    summary = json.loads((tmp_path / "a" / "summary.json").read_text())
    assert (summary["index_dir"], summary["collection"]) == (str(seed_index), "articles")
    assert summary["indexed"] == {"chunks": chunks, "articles": 2}

    without_gold = tmp_path / "without-gold.jsonl"
    without_gold.write_text(json.dumps(first) + "\n")  # gold from passages: nothing to compare with
    result = cli("--index-dir", str(seed_index), "eval", str(without_gold), "--out", str(tmp_path / "b"))
    assert result.returncode == 0, result.stderr
    assert scoring in result.stderr.splitlines()
    assert not re.search(r"^warning:", result.stderr, re.MULTILINE)


def test_sweep_puts_every_configuration_in_one_report(seed_index, tmp_path, capsys):
    small = tmp_path / "small.jsonl"
    small.write_text("\n".join(SEED_SET.read_text().splitlines()[:6]) + "\n")
    out = tmp_path / "sweep"
    code = main(["--index-dir", str(seed_index), "eval", str(small), "--retriever", "dense,bm25,hybrid",
                 "--out", str(out)])  # fmt: skip
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert [r["config"] for r in summary["runs"]] == ["dense/extractive/k5", "bm25/extractive/k5",
                                                      "hybrid/extractive/k5"]  # fmt: skip
    report = (out / "report.html").read_text()
    assert all(label in report for label in ("dense/extractive/k5", "bm25/extractive/k5"))
    assert "report:" in capsys.readouterr().out


def fake_summary(metrics: dict) -> dict:
    return {"runs": [{"config": "hybrid/extractive/k5", "metrics": metrics}]}


def test_compare_flags_drops_beyond_the_tolerance(tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    for folder, value in ((a, 0.80), (b, 0.75)):
        folder.mkdir()
        (folder / "summary.json").write_text(json.dumps(fake_summary({"mrr@10": value, "f1": 0.5})))
    assert main(["eval", "--compare", str(a), str(b)]) == 1
    assert "mrr@10" in capsys.readouterr().out
    assert main(["eval", "--compare", str(a), str(b), "--tolerance", "0.1"]) == 0
    rows, worse = compare(fake_summary({"f1": 0.5}), fake_summary({"f1": 0.6}), 0.0)
    assert not worse and rows[0][4] == pytest.approx(0.1)


def test_gate_lists_metrics_below_their_minimum():
    summary = fake_summary({"mrr@10": 0.7, "f1": None})
    assert check_gate(summary, {"mrr@10": 0.6}) == []
    failures = check_gate(summary, {"mrr@10": 0.8, "f1": 0.1})
    assert failures == [
        "hybrid/extractive/k5: mrr@10 = 0.7 is below the minimum 0.8",
        "hybrid/extractive/k5: f1 = None is below the minimum 0.1",
    ]


def test_seed_set_meets_the_thresholds_kept_in_the_repository(seed_index, tmp_path, capsys):
    """The CI gate: the extractive run on evals/seed.jsonl must not drop below evals/thresholds.json."""
    thresholds = REPO / "evals" / "thresholds.json"
    code = main(["--index-dir", str(seed_index), "eval", str(SEED_SET), "--mode", "extractive",
                 "--gate", str(thresholds), "--out", str(tmp_path / "gate")])  # fmt: skip
    assert code == 0, capsys.readouterr().err


def write_beir(folder: Path) -> None:
    """A small BEIR folder: ten short news items, five queries, graded judgments."""
    corpus = [
        ("n0", "Ferry", "The island ferry leaves the harbour at nine every morning."),
        ("n1", "Ferry prices", "Tickets for the island ferry cost twelve euros for adults."),
        ("n2", "Bridge", "The new bridge over the river opens to traffic in May."),
        ("n3", "Library", "The city library extends its opening hours on Sundays."),
        ("n4", "Football", "The local football club won the regional cup on Saturday."),
        ("n5", "Weather", "Heavy rain is expected across the region this weekend."),
        ("n6", "Schools", "Schools will close early on Friday because of the storm."),
        ("n7", "Market", "The farmers market moves to the town square for the summer."),
        ("n8", "Museum", "The museum shows an exhibition of old maps of the harbour."),
        ("n9", "Concert", "The orchestra gives a free concert in the park in July."),
    ]
    folder.mkdir()
    (folder / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": i, "title": t, "text": x}) + "\n" for i, t, x in corpus)
    )
    queries = {"q1": "How much does the ferry cost?", "q2": "When does the ferry leave?",
               "q3": "Will there be a storm this weekend?", "q4": "Where is the farmers market?",
               "q5": "Which club won the cup?"}  # fmt: skip
    (folder / "queries.jsonl").write_text(
        "".join(json.dumps({"_id": q, "text": t}) + "\n" for q, t in queries.items())
    )
    (folder / "qrels").mkdir()
    judgments = [("q1", "n1", 2), ("q1", "n0", 1), ("q2", "n0", 2), ("q3", "n5", 2), ("q3", "n6", 1),
                 ("q4", "n7", 1), ("q5", "n4", 2)]  # fmt: skip
    (folder / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t{s}\n" for q, d, s in judgments)
    )


def test_beir_folder_scores_as_pytrec_eval_in_a_separate_collection(embedded_settings, tmp_path, capsys):
    folder = tmp_path / "tiny-beir"
    write_beir(folder)
    out = tmp_path / "beir-run"
    index = str(embedded_settings.index_dir)
    code = main(["--index-dir", index, "eval", "--beir", str(folder), "--json", "--out", str(out)])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    [run] = summary["runs"]
    assert summary["beir"]["collection"].startswith("articles-beir-")
    assert summary["beir"]["documents"] == 10 and summary["beir"]["queries"] == 5
    assert run["metrics"]["beir_ndcg@10"] > 0.5
    beir = load_beir(folder)
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    reference = pytrec_eval.RelevanceEvaluator(beir.qrels, {"ndcg_cut.10", "recall.100"}).evaluate(
        {row["id"]: row["run"] for row in rows}
    )
    ndcg = sum(q["ndcg_cut_10"] for q in reference.values()) / len(reference)
    recall = sum(q["recall_100"] for q in reference.values()) / len(reference)
    assert run["metrics"]["beir_ndcg@10"] == pytest.approx(ndcg, abs=1e-4)
    assert run["metrics"]["beir_recall@100"] == pytest.approx(recall, abs=1e-4)
    for name in ("beir_ndcg@10", "beir_recall@100", "beir_mrr@10"):
        assert run["pytrec_eval"][name] == pytest.approx(run["metrics"][name], abs=1e-4)
    code = main(["--index-dir", index, "search", "ferry"])
    assert code == 2, "the user's own collection was never created by the BEIR run"
