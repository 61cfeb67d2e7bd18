"""Metrics on hand-made cases, and BEIR's metrics checked against pytrec_eval (trec_eval)."""

import math
import random

import pytest
import pytrec_eval

from assistant.evaluation import metrics as m


def test_hit_mrr_recall_ndcg_by_hand():
    relevant = [False, True, False, True]
    assert m.hit_at_k(relevant, 1) == 0.0 and m.hit_at_k(relevant, 2) == 1.0
    assert m.mrr_at_k(relevant, 10) == 0.5
    assert m.mrr_at_k([False] * 12 + [True], 10) == 0.0
    units = [set(), {0}, set(), {1}]
    assert m.recall_at_k(units, 2, 2) == 0.5 and m.recall_at_k(units, 2, 4) == 1.0
    assert m.recall_at_k(units, 0, 4) == 0.0
    ideal = 1 + 1 / 1.584962500721156
    assert m.ndcg_at_k(units, 2, 10) == pytest.approx((1 / 1.584962500721156 + 1 / 2.321928094887362) / ideal)
    assert m.ndcg_at_k([{0}, {1}], 2) == 1.0 and m.ndcg_at_k([], 3) == 0.0


def test_ndcg_credits_each_gold_unit_once_at_its_first_match():
    ideal = 1 + 1 / math.log2(3)
    # two chunks of one gold article: the second earns nothing
    assert m.ndcg_at_k([{0}, {0}, {1}], 2) == pytest.approx((1 + 1 / math.log2(4)) / ideal)
    # a result matching only units credited before earns nothing, one matching a new unit earns 1
    assert m.ndcg_at_k([{0, 1}, {1}, {1, 2}], 3) == pytest.approx(
        (1 + 1 / math.log2(4)) / (ideal + 1 / math.log2(4))
    )
    # one gold unit (the answer-string fallback): many matching chunks still make at most 1
    assert m.ndcg_at_k([{0}] * 10, 1) == 1.0
    assert m.ndcg_at_k([set(), {0}, {0}], 1) == pytest.approx(1 / math.log2(3))
    # the ideal holds min(units, k) hits: 12 gold units, 10 distinct hits is perfect
    assert m.ndcg_at_k([{i} for i in range(10)], 12, 10) == pytest.approx(1.0)


def test_ndcg_lies_between_0_and_1_on_random_rankings():
    for seed in range(500):
        rng = random.Random(seed)
        total, k = rng.randint(1, 8), rng.randint(1, 12)
        depth = rng.randint(0, 20)
        # each result matches 0, 1 or 2 gold units, often ones matched before
        units = range(total)
        ranking = [set(rng.sample(units, min(total, rng.choice([0, 0, 1, 1, 2])))) for _ in range(depth)]
        value = m.ndcg_at_k(ranking, total, k)
        assert 0.0 <= value <= 1.0 + 1e-12, (seed, ranking, total, k)
        # ideal: each of the first min(total, k) results matches a unit not matched before
        order = rng.sample(range(total), total)
        ideal = [{u} | set(rng.sample(order[:i], min(i, rng.randint(0, 2)))) for i, u in enumerate(order)]
        assert m.ndcg_at_k(ideal + ranking, total, k) == pytest.approx(1.0), (seed, ideal, total, k)
        # no result matches a gold unit
        assert m.ndcg_at_k([set() for _ in ranking], total, k) == 0.0


def test_answer_match_exact_match_and_f1():
    assert m.answer_match("It was Christopher Landau.", ["christopher landau"])
    assert m.answer_match("Donald Trump’s administration", ["Donald Trump's administration"])
    assert not m.answer_match("Landauer", ["Landau"]), "whole words only"
    assert m.exact_match("The Landau!", "landau") == 1.0
    assert m.token_f1("Christopher Landau will go", "Christopher Landau") == pytest.approx(2 * 0.5 * 1 / 1.5)
    assert m.token_f1("nothing here", "Landau") == 0.0
    em, f1 = m.best_sentence_scores(["Rubio stays.", "Christopher Landau"], ["Landau", "Christopher Landau"])
    assert em == 1.0 and f1 == 1.0


def test_answer_match_reads_a_full_date_however_it_is_written():
    for written in ("November 21 of 1998", "21st Nov. 1998", "Nov 21, 1998", "21 November 1998"):
        assert m.answer_match(f"It came out on {written} in Norland.", ["November 21 1998"]), written
    assert not m.answer_match("It came out on November 12, 1998.", ["November 21 1998"])
    assert not m.answer_match("It came out in November 1998.", ["November 21 1998"]), "no day: no match"
    assert m.same_dates("May 2012 and May 32, 2012") == "May 2012 and May 32, 2012"


def test_citation_metrics():
    assert m.citation_validity("A [1]. B [2].", [1, 2]) == 1.0
    assert m.citation_validity("A [1]. B [3].", [1, 2]) == 0.0
    assert m.citation_validity("No markers.", []) is None
    texts = ["Landau will attend.", "Rubio stays at home.", "Germany, France and Italy object."]
    assert m.citation_precision(texts, ["Landau"], ["France and Italy object"]) == pytest.approx(2 / 3)
    assert m.citation_precision([], ["Landau"], []) is None


def test_refusal_outcomes_and_percentiles():
    assert m.refusal_outcome(True, False) == "correct" and m.refusal_outcome(False, True) == "correct"
    assert m.refusal_outcome(True, True) == "false_refusal"
    assert m.refusal_outcome(False, False) == "false_answer"
    assert m.percentile([1, 2, 3, 4], 50) == 2.5 and m.percentile([5], 95) == 5
    assert m.percentile(list(range(101)), 95) == 95
    assert m.mean([1.0, None, 3.0]) == 2.0 and m.mean([None]) is None


def test_beir_metrics_equal_pytrec_eval_on_random_runs_with_ties():
    rng = random.Random(7)
    docs = [f"d{i}" for i in range(40)]
    qrels, run = {}, {}
    for q in range(30):
        qid = f"q{q}"
        qrels[qid] = {d: rng.choice([0, 1, 1, 2]) for d in rng.sample(docs, rng.randint(1, 6))}
        # scores rounded to one decimal, so many ties that trec_eval breaks by document id
        run[qid] = {d: round(rng.random(), 1) for d in rng.sample(docs, rng.randint(5, 40))}
    reference = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10", "recall.100"}).evaluate(run)
    for qid in run:
        assert m.beir_ndcg(qrels[qid], run[qid], 10) == pytest.approx(reference[qid]["ndcg_cut_10"], abs=1e-9)
        assert m.beir_recall(qrels[qid], run[qid], 100) == pytest.approx(
            reference[qid]["recall_100"], abs=1e-9
        )
    top10 = {qid: {d: run[qid][d] for d in m.trec_order(run[qid])[:10]} for qid in run}
    reciprocal = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"}).evaluate(top10)
    for qid in run:
        assert m.beir_mrr(qrels[qid], run[qid], 10) == pytest.approx(reciprocal[qid]["recip_rank"], abs=1e-9)
