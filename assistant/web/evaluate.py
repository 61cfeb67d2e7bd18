"""The chat page's Evaluate tab: a question set from ASSISTANT_EVALS_DIR run by `assistant eval` in a
process of its own (the job the command line runs, so an evaluation never loads or slows the server's
process), its report written under the index folder (`reports/<set>-<time>/`), its scores shown when
it ends."""

import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from html import escape
from pathlib import Path

from assistant.config import SECRET_SETTINGS, Settings, env_name
from assistant.evaluation.report import chart_svg, summary_table
from assistant.evaluation.runner import load_summary
from assistant.modes import RETRIEVERS, AnswerMode, Retriever
from assistant.pipeline import Assistant
from assistant.web.guard import Guard
from assistant.web.keys import WRITE_REFUSED, key_box, may_write

POLL_S = 1.0
JOB_TIMEOUT_S = 3600  # an evaluation still running after an hour is stopped


def evaluation_command(question_set: Path, retrievers: list[str], mode: str, k: int, out: Path) -> list[str]:
    """`assistant eval` as the tab runs it."""
    return [
        sys.executable, "-m", "assistant.cli", "eval", str(question_set), "--retriever", ",".join(retrievers),
        "--mode", mode, "--k", str(k), "--out", str(out), "--json",
    ]  # fmt: skip


def job_environment(settings: Settings) -> dict[str, str]:
    """The server's settings as the job's ASSISTANT_* variables (keys left out: the job needs none)."""
    values = settings.model_dump(mode="json", exclude=set(SECRET_SETTINGS))
    # an unset setting (None) is an empty variable, which reads back as unset
    variables = {env_name(name): "" if value is None else str(value) for name, value in values.items()}
    return {**os.environ, **variables}


def run_evaluation(settings: Settings, command: list[str]) -> Iterator[float]:
    """Run the job, yielding the seconds it has taken so far about once a POLL_S; raises RuntimeError
    with the job's last error line if it fails. Stopped (killed) if the caller stops waiting."""
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errors,
            env=job_environment(settings),
        )  # fmt: skip
        started = time.monotonic()
        try:
            while process.poll() is None:
                elapsed = time.monotonic() - started
                if elapsed > JOB_TIMEOUT_S:
                    raise RuntimeError(f"the evaluation took over {JOB_TIMEOUT_S} s and was stopped")
                yield elapsed
                time.sleep(POLL_S)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        if process.returncode != 0:
            errors.seek(0)
            lines = [line for line in errors.read().decode(errors="replace").splitlines() if line.strip()]
            raise RuntimeError(lines[-1] if lines else f"assistant eval exited with {process.returncode}")


def evaluate_tab(assistant: Assistant, guard: Guard) -> None:
    """Choose a set, retrievers and k; run; see the summary table and the chart."""
    import gradio as gr

    settings = assistant.settings
    folder = settings.evals_dir
    sets = sorted(p.name for p in folder.glob("*.jsonl")) if folder.is_dir() else []
    gr.Markdown(  # no server paths: any visitor sees this tab
        "Run a question set from the server's question-set folder (`ASSISTANT_EVALS_DIR`) through the "
        "assistant and score it: `assistant eval` runs in a process of its own and writes its report "
        "under the index folder."
    )
    with gr.Row():
        chosen = gr.Dropdown(sets, value=sets[0] if sets else None, label="Question set")
        retrievers = gr.CheckboxGroup(list(RETRIEVERS), value=[Retriever.HYBRID.value], label="Retrievers")
        k = gr.Slider(1, 20, value=settings.top_k, step=1, label="Passages per question (k)")
    key = key_box(assistant)
    run = gr.Button("Run evaluation", variant="primary")
    result = gr.HTML()

    def evaluate(name: str | None, kinds: list[str], k_value: float, key: str, request: gr.Request):
        if not may_write(guard, request, key):
            raise gr.Error(WRITE_REFUSED)
        if not name or not kinds:
            raise gr.Error("Choose a question set and at least one retriever.")
        question_set = folder / Path(name).name
        if not question_set.is_file():
            raise gr.Error(f"{name} is no longer in {folder}.")
        mode = AnswerMode.LLM if settings.llm_enabled else AnswerMode.EXTRACTIVE
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        out = settings.index_dir / "reports" / f"{question_set.stem}-{stamp}"
        command = evaluation_command(question_set, kinds, mode, int(k_value), out)
        try:
            for seconds in run_evaluation(settings, command):
                yield f'<p class="running">Running {escape(name)} ({seconds:.0f} s)…</p>'
        except RuntimeError as exc:
            raise gr.Error(f"The evaluation failed: {exc}") from None
        summary = load_summary(out)
        skipped = summary.get("problems") or []
        note = f"<p>{len(skipped)} bad lines skipped.</p>" if skipped else ""
        indexed = summary.get("indexed", {})
        scored = (
            f"<p>Scored collection <code>{escape(str(summary.get('collection', '')))}</code>: "
            f"{indexed.get('articles', 0):,} articles, {indexed.get('chunks', 0):,} chunks.</p>"
        )
        yield (
            f'<div class="evaluation">{scored}<div class="table-scroll">{summary_table(summary["runs"])}'
            f"</div>{chart_svg(summary['runs'])}{note}<p>Full report: <code>reports/{escape(out.name)}/"
            "report.html</code> in the index folder.</p></div>"
        )

    run.click(evaluate, [chosen, retrievers, k, key], [result])
