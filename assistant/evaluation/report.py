"""report.html: a summary table of every run, a bar chart comparing them, and a drill-down per
question with the answer and its cited passages. Self-contained (no scripts, no downloads); all
text escaped."""

from __future__ import annotations

from html import escape
from typing import Any

CHART_METRICS = (
    "hit@1", "hit@k", "mrr@10", "ndcg@10", "answer_match", "f1", "citation_precision", "refusal_accuracy",
    "beir_ndcg@10", "beir_mrr@10", "beir_recall@100",
)  # fmt: skip
COLOURS = ("#1f5fbf", "#d9822b", "#3a9d5d", "#a63d8f", "#6b6b6b", "#c0392b")


def chart_svg(runs: list[dict[str, Any]]) -> str:
    """Grouped bars: one group per metric, one bar per run, values 0-1."""
    names = [n for n in CHART_METRICS if any(run["metrics"].get(n) is not None for run in runs)]
    if not names or not runs:
        return ""
    bar, gap, height, top, left = 14, 18, 180, 20, 36
    group = max(bar * len(runs) + gap, 96)  # wide enough for the metric names
    width = left + group * len(names) + 10
    parts = [
        f'<svg class="chart" role="img" aria-label="metrics by run" width="{width}" '
        f'height="{height + top + 60 + 18 * len(runs)}" xmlns="http://www.w3.org/2000/svg" '
        'font-family="system-ui, sans-serif" font-size="11">'
    ]
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        y = top + height * (1 - tick)
        parts.append(f'<line x1="{left}" x2="{width}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e3e3"/>')
        parts.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{tick:g}</text>')
    for i, name in enumerate(names):
        x0 = left + i * group + (group - bar * len(runs)) / 2
        for j, run in enumerate(runs):
            value = run["metrics"].get(name)
            if value is None:
                continue
            h = height * max(0.0, min(1.0, value))
            parts.append(
                f'<rect x="{x0 + j * bar:.1f}" y="{top + height - h:.1f}" width="{bar - 2}" height="{h:.1f}" '
                f'fill="{COLOURS[j % len(COLOURS)]}"><title>{escape(run["config"])} {escape(name)}: '
                f"{value:.3f}</title></rect>"
            )
        parts.append(
            f'<text x="{x0 + bar * len(runs) / 2:.1f}" y="{top + height + 14}" text-anchor="middle">'
            f"{escape(name)}</text>"
        )
    for j, run in enumerate(runs):
        y = top + height + 36 + 18 * j
        parts.append(
            f'<rect x="{left}" y="{y - 9}" width="10" height="10" fill="{COLOURS[j % len(COLOURS)]}"/>'
        )
        parts.append(f'<text x="{left + 16}" y="{y}">{escape(run["config"])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def summary_table(runs: list[dict[str, Any]]) -> str:
    names = sorted({n for run in runs for n in run["metrics"]})
    head = "".join(f"<th>{escape(n)}</th>" for n in names)
    rows = []
    for run in runs:
        cells = "".join(f"<td>{_fmt(run['metrics'].get(n))}</td>" for n in names)
        latency = run["latency_ms"].get("total") or run["latency_ms"].get("retrieve") or {}
        refusals = run.get("refusals", {})
        rows.append(
            f"<tr><th>{escape(run['config'])}</th><td>{run['questions']}</td>{cells}"
            f"<td>{refusals.get('false_refusals', '')}</td><td>{refusals.get('false_answers', '')}</td>"
            f"<td>{latency.get('p50', '')} / {latency.get('p95', '')}</td></tr>"
        )
    return (
        f"<table><thead><tr><th>run</th><th>questions</th>{head}<th>false refusals</th>"
        f"<th>false answers</th><th>ms p50 / p95</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def report_html(summary: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    drill = "".join(_question(row) for row in rows)
    problems = "".join(f"<li>{escape(p)}</li>" for p in summary.get("problems", []))
    model = str(summary.get("manifest", {}).get("embedding_model", ""))
    prompts = ", ".join(f"{k} v{v}" for k, v in summary.get("prompt_versions", {}).items())
    index = f"collection {summary['collection']} in {summary['index_dir']}" if "collection" in summary else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Evaluation: {escape(summary["set"])}</title>
<style>
body {{ font: 14px/1.5 system-ui, sans-serif; margin: 2rem; color: #222; }}
table {{ border-collapse: collapse; margin: 1rem 0; }}
td, th {{ border: 1px solid #ddd; padding: 4px 8px; }} td {{ text-align: right; }}
details {{ margin: 0.3rem 0; }} summary {{ cursor: pointer; }} .ok {{ color: #2e7d32; }}
.bad {{ color: #c62828; }} blockquote {{ margin: 0.3rem 0 0.3rem 1rem; color: #444; }}
mark {{ background: #ffe58a; }} .meta {{ color: #666; }}
</style></head><body>
<h1>Evaluation of {escape(summary["set"])}</h1>
<p class="meta">{escape(summary["date"])} · model {escape(model)} · prompts {escape(prompts)}
{f" · {escape(index)}" if index else ""}</p>
<h2>Summary</h2>{summary_table(summary["runs"])}
{f"<h2>Skipped lines</h2><ul>{problems}</ul>" if problems else ""}
<h2>Runs compared</h2>{chart_svg(summary["runs"])}
<h2>Questions</h2>{drill}
</body></html>"""


def _question(row: dict[str, Any]) -> str:
    outcome = row["metrics"].get("refusal", "correct")
    matched = row["metrics"].get("answer_match")
    good = outcome == "correct" and matched in (None, 1.0)
    status = '<span class="ok">✓</span>' if good else '<span class="bad">✗</span>'
    metrics = ", ".join(f"{escape(k)}: {_fmt(v)}" for k, v in row["metrics"].items())
    citations = "".join(_citation(c) for c in row.get("citations", []))
    expected = escape(" | ".join(row.get("answers", []))) or (
        "(unanswerable)" if not row["answerable"] else ""
    )
    return (
        f"<details><summary>{status} [{escape(row['config'])}] {escape(row['id'])}: "
        f"{escape(row['question'])}</summary>"
        f"<p><b>Answer:</b> {escape(row.get('answer', ''))}</p><p><b>Expected:</b> {expected}</p>"
        f'<p class="meta">{metrics}</p>{f"<ol>{citations}</ol>" if citations else ""}</details>'
    )


def _citation(c: dict[str, Any]) -> str:
    where = escape(c["title"]) + (f" › {escape(c['section'])}" if c["section"] else "")
    start, end = c["start_char"] - c["passage_start"], c["end_char"] - c["passage_start"]
    return (
        f"<li>[{c['n']}] {where}<blockquote>{escape(c['text'][:start])}<mark>{escape(c['quote'])}</mark>"
        f"{escape(c['text'][end:])}</blockquote></li>"
    )


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return escape(str(value)) if value is not None else "–"
