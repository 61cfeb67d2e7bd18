"""The benchmark's report: the machine it ran on, a line per run as it goes, and the Markdown tables
that BENCHMARKS.md quotes."""

from __future__ import annotations

import os
import platform
import time
from typing import Any

from assistant.config import Settings


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    import torch

    return {
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "embed_backend": Settings.from_env().embed_backend,
        "date": time.strftime("%Y-%m-%d"),
    }


def progress_line(r: dict[str, Any]) -> str:
    """One size and store mode, in a line, as the benchmark goes."""
    lat = r["latency_ms"]
    return (
        f"{r['size']:>7} {r['mode']:<8} hybrid retrieval p50 {lat['retrieve_hybrid']['p50']:.1f} ms, "
        f"search {lat['search_hybrid']['p50']:.1f} ms, "
        f"llama-index {lat['llamaindex_dense']['p50']:.1f} ms, floor {lat['floor']['p50']:.1f} ms, "
        f"ask {lat['ask_extractive']['p50']:.1f} ms, rss {r['peak_rss_mb']:.0f} MB, "
        f"cold {r['cold_start_s']:.1f} s"
    )


def markdown(report: dict[str, Any]) -> str:
    """The report as the Markdown tables of BENCHMARKS.md."""
    m = report["machine"]
    lines = [
        f"Machine: {m['cores']} cores ({m['cpu']}), {m['memory_gb']} GiB, Python {m['python']}, "
        f"torch {m['torch']} ({m['torch_threads']} threads), embedding backend "
        f"{m.get('embed_backend', 'torch')}, {m['date']}. "
        f"{report['questions']} questions per size, k={report['top_k']}; latencies p50 / p95 in ms.",
        "",
        "| chunks | store | hybrid retrieval | hybrid search | dense search | extractive ask "
        "| llama-index dense | floor | hybrid retrieval / llama-index | hybrid retrieval - floor (ms) "
        "| ingest chunks/s | ingest / embed floor | server peak RSS MB | bench peak RSS MB | index MB "
        "| cold start s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report["results"]:
        lat = r["latency_ms"]

        def pair(name: str, lat=lat) -> str:
            return f"{lat[name]['p50']:.1f} / {lat[name]['p95']:.1f}"

        ratio = lat["retrieve_hybrid"]["p50"] / lat["llamaindex_dense"]["p50"]
        gap = lat["retrieve_hybrid"]["p50"] - lat["floor"]["p50"]
        ingest_ratio = f"{r['ingest_ratio']:.2f}" if "ingest_ratio" in r else "cached vectors"
        lines.append(
            f"| {r['chunks']:,} | {r['mode']} | {pair('retrieve_hybrid')} | {pair('search_hybrid')} "
            f"| {pair('search_dense')} "
            f"| {pair('ask_extractive')} | {pair('llamaindex_dense')} | {pair('floor')} | {ratio:.2f} "
            f"| {gap:.1f} | {r.get('chunks_per_s', 0):.0f} | {ingest_ratio} | {r['serve_peak_rss_mb']:.0f} "
            f"| {r['peak_rss_mb']:.0f} "
            f"| {r['index_mb']:.0f} | {r['cold_start_s']:.1f} |"
        )
    if report.get("backends"):
        lines += [
            "",
            "Embedding backends on the same chunks and questions:",
            "",
            "| backend | chunks/s | query encoding p50 / p95 ms | cosine to torch min / mean |",
            "|---|---|---|---|",
        ]
        for b in report["backends"]:
            lines.append(
                f"| {b['backend']} | {b['chunks_per_s']:.1f} | {b['query_ms']['p50']:.1f} / "
                f"{b['query_ms']['p95']:.1f} | {b['cosine_to_torch']['min']:.4f} / "
                f"{b['cosine_to_torch']['mean']:.4f} |"
            )
    return "\n".join(lines) + "\n"
