"""Evaluation runs: ask every question of a set through the pipeline, score it, summarise, report;
BEIR retrieval scoring; comparison of two runs and threshold gates for CI."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import itertools
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.answering.prompts import prompt_versions
from assistant.answering.retrieval import Filters
from assistant.config import SECRET_SETTINGS
from assistant.errors import AssistantError
from assistant.evaluation import metrics as m
from assistant.evaluation.datasets import EvalCase, load_beir
from assistant.library.corpus import Article
from assistant.library.ingest import ingest_articles
from assistant.pipeline import Assistant

RANKING_DEPTH = 10  # MRR@10 and nDCG@10 look this deep
BEIR_DEPTH = 100  # recall@100
HIGHER_IS_BETTER = (
    "hit@1", "hit@k", "recall@k", "mrr@10", "ndcg@10", "answer_match", "exact_match", "f1",
    "citation_validity", "citation_precision", "refusal_accuracy", "beir_ndcg@10", "beir_mrr@10",
    "beir_recall@100",
)  # fmt: skip


@dataclass(frozen=True)
class RunConfig:
    retriever: str
    mode: str
    k: int

    @property
    def label(self) -> str:
        return f"{self.retriever}/{self.mode}/k{self.k}"


def sweep(retrievers: list[str], modes: list[str], k: int) -> list[RunConfig]:
    return [RunConfig(r, mode, k) for r, mode in itertools.product(retrievers, modes)]


def evaluate_case(
    assistant: Assistant, case: EvalCase, config: RunConfig, as_of: dt.date | None = None
) -> dict[str, Any]:
    """Ask one question, on the day its `asked_on` names (else `as_of`, else today), and score the
    answer; the row written to results.jsonl."""
    asked_on = case.asked_on or as_of
    filters = Filters(
        tuple(case.filters.get("doc_ids", ())),
        tuple(case.filters.get("sources", ())),
        case.filters.get("since", ""),
        case.filters.get("until", ""),
    )
    started = time.perf_counter()
    answer = assistant.ask(
        case.question, history=case.history, k=config.k, retriever=config.retriever,
        filters=filters, mode=config.mode, as_of=asked_on,
    )  # fmt: skip
    total_ms = (time.perf_counter() - started) * 1000
    ranking = assistant.search(
        answer.standalone_question,
        k=max(RANKING_DEPTH, config.k),
        retriever=config.retriever,
        filters=filters,
    )
    passages = [{"doc_id": r.node.metadata["doc_id"], "text": r.node.get_content()} for r in ranking]
    scores = score_answer(case, answer, passages, config.k)
    return {
        "id": case.id,
        "question": case.question,
        "answerable": case.answerable,
        "answers": case.answers,
        "asked_on": asked_on.isoformat() if asked_on else None,
        "config": config.label,
        "retrieved": [
            {"chunk_id": r.node.node_id, "doc_id": r.node.metadata["doc_id"], "score": round(r.score or 0, 6)}
            for r in ranking
        ],
        "answer": answer.answer,
        "refused": answer.refused,
        "mode": answer.mode,
        "confidence": round(answer.confidence, 4),
        "citations": [dataclasses.asdict(c) for c in answer.citations],
        "warnings": answer.warnings,
        "metrics": scores,
        "timings_ms": {**{k: round(v, 1) for k, v in answer.timings_ms.items()}, "total": round(total_ms, 1)},
        "extra": case.extra,
    }


def score_answer(case: EvalCase, answer, passages: list[dict], k: int) -> dict[str, Any]:
    """Every metric of one question; None where a metric does not apply."""
    scores: dict[str, Any] = {"refusal": m.refusal_outcome(case.answerable, answer.refused)}
    if not case.answerable:
        return scores
    if case.gold_doc_ids:
        gold = case.gold_doc_ids
        units = [{i for i, g in enumerate(gold) if p["doc_id"] == g} for p in passages]
    elif case.gold_passages:
        gold = case.gold_passages
        units = [{i for i, g in enumerate(gold) if m.overlaps(p["text"], g)} for p in passages]
    else:
        gold = [" | ".join(case.answers)] if case.answers else []
        units = [{0} if m.answer_match(p["text"], case.answers) else set() for p in passages]
    if gold:
        relevant = [bool(u) for u in units]
        scores |= {
            "hit@1": m.hit_at_k(relevant, 1),  # the passage ranked first holds the answer
            "hit@k": m.hit_at_k(relevant, k),
            "recall@k": m.recall_at_k(units, len(gold), k),
            "mrr@10": m.mrr_at_k(relevant, RANKING_DEPTH),
            "ndcg@10": m.ndcg_at_k(units, len(gold), RANKING_DEPTH),
        }
    if case.answers:
        sentences = [s.text for s in answer.sentences] or [answer.answer]
        em, f1 = m.best_sentence_scores(sentences, case.answers) if not answer.refused else (0.0, 0.0)
        scores |= {
            "answer_match": float(not answer.refused and m.answer_match(answer.answer, case.answers)),
            "exact_match": em,
            "f1": f1,
        }
    scores["citation_validity"] = m.citation_validity(answer.answer, [c.n for c in answer.citations])
    scores["citation_precision"] = m.citation_precision(
        [c.text for c in answer.citations], case.answers, case.gold_passages
    )
    return scores


def summarise(rows: list[dict[str, Any]], config: RunConfig) -> dict[str, Any]:
    """Means of every metric, refusal counts, and latency percentiles per stage."""
    names = sorted({name for row in rows for name in row["metrics"] if name != "refusal"})
    outcomes = [row["metrics"]["refusal"] for row in rows]
    metrics = {name: _round(m.mean(row["metrics"].get(name) for row in rows)) for name in names}
    metrics["refusal_accuracy"] = _round(outcomes.count("correct") / len(outcomes)) if outcomes else None
    stages = sorted({stage for row in rows for stage in row["timings_ms"]})
    latency = {
        stage: {
            "p50": round(
                m.percentile([r["timings_ms"][stage] for r in rows if stage in r["timings_ms"]], 50), 1
            ),
            "p95": round(
                m.percentile([r["timings_ms"][stage] for r in rows if stage in r["timings_ms"]], 95), 1
            ),
        }
        for stage in stages
    }
    return {
        "config": config.label,
        "retriever": config.retriever,
        "mode": config.mode,
        "k": config.k,
        "questions": len(rows),
        "answerable": sum(r["answerable"] for r in rows),
        "metrics": metrics,
        "refusals": {
            "false_refusals": outcomes.count("false_refusal"),
            "false_answers": outcomes.count("false_answer"),
        },
        "latency_ms": latency,
    }


def run_question_set(
    assistant: Assistant,
    cases: list[EvalCase],
    configs: list[RunConfig],
    *,
    set_name: str,
    problems: list[str] | None = None,
    progress: bool = False,
    as_of: dt.date | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Every configuration over every case: (summary, rows). `as_of`: the day the questions without
    an `asked_on` of their own are asked (default today)."""
    from tqdm import tqdm

    rows: list[dict[str, Any]] = []
    runs = []
    for config in configs:
        config_rows = [
            evaluate_case(assistant, case, config, as_of)
            for case in tqdm(cases, desc=config.label, unit="q", disable=not progress, file=sys.stderr)
        ]
        runs.append(summarise(config_rows, config))
        rows.extend(config_rows)
    return _summary(assistant, set_name, runs, problems or []), rows


def scored_index(assistant: Assistant) -> dict[str, Any]:
    """Which index a run scores: its folder, Chroma server (if any) and collection, and its size."""
    store = assistant.store
    return {
        "index_dir": str(assistant.settings.index_dir),
        "chroma_url": assistant.settings.chroma_url,
        "collection": assistant.settings.collection,
        "chunks": store.count(),
        "articles": len(store.document_ids()),
    }


def unreferenced_articles(assistant: Assistant, cases: list[EvalCase]) -> int | None:
    """How many indexed articles no case names in `gold_doc_ids`; None when no case has any.

    Many such articles suggest the set is scored against an index it was not written for, where its
    numbers are not comparable with earlier runs.
    """
    referenced = {doc_id for case in cases for doc_id in case.gold_doc_ids}
    if not referenced:
        return None
    return len(assistant.store.document_ids() - referenced)


def _summary(assistant: Assistant, set_name: str, runs: list[dict], problems: list[str]) -> dict[str, Any]:
    manifest = assistant.store.manifest
    index = scored_index(assistant)
    settings = assistant.settings.model_dump(mode="json", exclude=set(SECRET_SETTINGS))
    return {
        "set": set_name,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "index_dir": index["index_dir"],
        "collection": index["collection"],
        "indexed": {"chunks": index["chunks"], "articles": index["articles"]},
        "runs": runs,
        "problems": problems,
        "settings": settings,
        "manifest": dataclasses.asdict(manifest) if manifest else {},
        "prompt_versions": prompt_versions(),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


# --- BEIR -----------------------------------------------------------------------------------------


def run_beir(
    assistant: Assistant, folder: Path, retrievers: list[str], *, split: str = "test", progress: bool = False
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Index a BEIR corpus into its own collection (never the user's) and score retrieval on it."""
    from tqdm import tqdm

    beir = load_beir(folder, split)
    digest = hashlib.sha1(str(Path(folder).resolve()).encode()).hexdigest()[:10]
    settings = assistant.settings.replace(collection=f"{assistant.settings.collection}-beir-{digest}")
    articles = (
        Article(doc_id=i, text=text, title=title or text[:80]) for i, (title, text) in beir.corpus.items()
    )
    report = ingest_articles(articles, settings, assistant.embedder)
    beir_assistant = Assistant(settings, assistant.embedder)
    rows, runs = [], []
    for retriever in retrievers:
        config = RunConfig(retriever, "retrieval", BEIR_DEPTH)
        config_rows = []
        for qid, query in tqdm(beir.queries.items(), desc=retriever, disable=not progress, file=sys.stderr):
            started = time.perf_counter()
            results = beir_assistant.search(query, k=BEIR_DEPTH, retriever=retriever)
            elapsed = (time.perf_counter() - started) * 1000
            scores: dict[str, float] = {}
            for result in results:  # a document scores as its best chunk
                doc = result.node.metadata["doc_id"]
                scores[doc] = max(scores.get(doc, float("-inf")), float(result.score or 0.0))
            qrels = beir.qrels[qid]
            config_rows.append(
                {
                    "id": qid,
                    "question": query,
                    "config": config.label,
                    "run": scores,
                    "metrics": {
                        "beir_ndcg@10": m.beir_ndcg(qrels, scores, 10),
                        "beir_mrr@10": m.beir_mrr(qrels, scores, 10),
                        "beir_recall@100": m.beir_recall(qrels, scores, 100),
                    },
                    "timings_ms": {"retrieve": round(elapsed, 1)},
                    "answerable": True,
                }
            )
        summary = summarise(
            [{**r, "metrics": {**r["metrics"], "refusal": "correct"}} for r in config_rows], config
        )
        summary["metrics"].pop("refusal_accuracy", None)
        summary["pytrec_eval"] = _pytrec_eval(beir.qrels, {r["id"]: r["run"] for r in config_rows})
        runs.append(summary)
        rows.extend(config_rows)
    summary = _summary(beir_assistant, f"beir:{Path(folder).name}", runs, [])
    beir_assistant.close()
    summary["beir"] = {
        "collection": settings.collection,
        "documents": len(beir.corpus),
        "queries": len(beir.queries),
        "split": split,
        "indexed_now": len(report.added) + len(report.updated),
    }
    return summary, rows


def _pytrec_eval(qrels: dict, run: dict) -> dict[str, float] | None:
    """The same metrics from pytrec_eval, an independent implementation, when it is installed."""
    try:
        import pytrec_eval
    except ImportError:
        return None
    per_query = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10", "recall.100"}).evaluate(run)
    truncated = {
        qid: dict(itertools.islice(((d, run[qid][d]) for d in m.trec_order(run[qid])), 10)) for qid in run
    }
    reciprocal = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"}).evaluate(truncated)
    n = len(per_query) or 1
    return {
        "beir_ndcg@10": round(sum(q["ndcg_cut_10"] for q in per_query.values()) / n, 4),
        "beir_recall@100": round(sum(q["recall_100"] for q in per_query.values()) / n, 4),
        "beir_mrr@10": round(sum(q["recip_rank"] for q in reciprocal.values()) / n, 4),
    }


# --- outputs, comparison, gates -------------------------------------------------------------------


def write_run(out: Path, summary: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    """results.jsonl, summary.json and report.html in `out`, each written whole then renamed."""
    from assistant.evaluation.report import report_html

    out.mkdir(parents=True, exist_ok=True)
    files = {
        "results.jsonl": "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows),
        "summary.json": json.dumps(summary, ensure_ascii=False, indent=2) + "\n",
        "report.html": report_html(summary, rows),
    }
    for name, text in files.items():
        staging = out / f".{name}.tmp"
        staging.write_text(text, encoding="utf-8")
        staging.replace(out / name)


def load_summary(run: Path) -> dict[str, Any]:
    path = Path(run) / "summary.json" if Path(run).is_dir() else Path(run)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AssistantError(f"cannot read run summary {path}: {exc}") from None


def compare(a: dict[str, Any], b: dict[str, Any], tolerance: float) -> tuple[list[tuple], bool]:
    """Rows (config, metric, A, B, delta, worse) for the configurations both runs share, and whether
    B is worse than A beyond the tolerance on any quality metric."""
    runs_a = {run["config"]: run for run in a["runs"]}
    rows, worse_any = [], False
    for run_b in b["runs"]:
        run_a = runs_a.get(run_b["config"])
        if run_a is None:
            continue
        for name in HIGHER_IS_BETTER:
            va, vb = run_a["metrics"].get(name), run_b["metrics"].get(name)
            if va is None or vb is None:
                continue
            worse = vb < va - tolerance
            worse_any |= worse
            rows.append((run_b["config"], name, va, vb, vb - va, worse))
    if not rows:
        raise AssistantError("the two runs share no configuration to compare")
    return rows, worse_any


def check_gate(summary: dict[str, Any], thresholds: dict[str, float]) -> list[str]:
    """The metrics of any run that fall below their minimum, as messages."""
    failures = []
    for run in summary["runs"]:
        for name, minimum in thresholds.items():
            value = run["metrics"].get(name)
            if value is None or value < minimum:
                failures.append(f"{run['config']}: {name} = {value} is below the minimum {minimum}")
    return failures
